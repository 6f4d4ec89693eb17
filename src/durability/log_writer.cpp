#include "durability/log_writer.hpp"

#include <algorithm>
#include <cassert>

#include "durability/coding.hpp"
#include "durability/log_format.hpp"

namespace mantis::detail {

LogWriter::LogWriter(std::unique_ptr<WritableFile> file, std::uint64_t segment)
    : file_(std::move(file)), segment_(segment), block_offset_(file_->size() % kLogBlockSize) {
  assert(segment <= kMaxLogSegmentNumber);
}

Status LogWriter::add_record(std::string_view payload) { return add_records({&payload, 1}); }

Status LogWriter::add_records(std::span<const std::string_view> payloads) {
  if (!error_.ok()) return error_;
  buffer_.clear();
  for (std::string_view payload : payloads) frame(payload);
  Status s = file_->append(buffer_);
  if (!s.ok()) error_ = s;
  return s;
}

void LogWriter::frame(std::string_view payload) {
  bool first = true;
  do {  // an empty payload still gets one (empty) fragment
    const std::size_t left_in_block = kLogBlockSize - block_offset_;
    if (left_in_block < kLogHeaderSize) {
      buffer_.append(left_in_block, '\0');  // trailer padding: too small for a header
      block_offset_ = 0;
      continue;
    }
    const std::size_t length = std::min(payload.size(), left_in_block - kLogHeaderSize);
    const bool last = length == payload.size();
    const FragmentType type = first && last ? FragmentType::kFull
                              : first       ? FragmentType::kFirst
                              : last        ? FragmentType::kLast
                                            : FragmentType::kMiddle;
    const std::size_t start = buffer_.size();
    buffer_.resize(start + kLogHeaderSize);
    char* header = buffer_.data() + start;
    encode_fixed16(header + 4, static_cast<std::uint16_t>(length));
    header[6] = static_cast<char>(type);
    encode_fixed32(header + 7, static_cast<std::uint32_t>(segment_));
    buffer_.append(payload.data(), length);
    // The crc covers type, segment and payload: contiguous in the buffer (reallocated by the append).
    const std::uint32_t crc = fragment_crc(std::string_view(buffer_).substr(start + kLogCrcCoveredHeaderOffset));
    encode_fixed32(buffer_.data() + start, crc);
    payload.remove_prefix(length);
    block_offset_ += kLogHeaderSize + length;
    first = false;
    if (last) return;
  } while (true);
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
