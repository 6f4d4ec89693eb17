#include "durability/log_writer.hpp"

#include <cassert>

#include "durability/log_format.hpp"
#include "durability/log_framing.hpp"

namespace mantis::detail {

LogWriter::LogWriter(std::unique_ptr<WritableFile> file, std::uint64_t segment)
    : file_(std::move(file)), segment_(segment), block_offset_(file_->size() % kLogBlockSize) {
  assert(segment <= kMaxLogSegmentNumber);
}

Status LogWriter::add_record(std::string_view payload) { return add_records({&payload, 1}); }

Status LogWriter::add_records(std::span<const std::string_view> payloads) {
  if (!error_.ok()) return error_;
  buffer_.clear();
  for (std::string_view payload : payloads) {
    const std::size_t start = buffer_.size();
    buffer_.resize(start + framed_size(payload.size(), block_offset_));
    block_offset_ = frame_record(payload, segment_, block_offset_, buffer_.data() + start);
  }
  Status s = file_->append(buffer_);
  if (!s.ok()) error_ = s;
  return s;
}

Status LogWriter::sync() {
  if (!error_.ok()) return error_;
  Status s = file_->sync();
  if (!s.ok()) error_ = s;
  return s;
}

Status LogWriter::close() {
  Status s = file_->close();
  if (error_.ok()) error_ = Status::closed("log segment " + file_->path() + " is closed");
  return s;
}

}  // namespace mantis::detail
