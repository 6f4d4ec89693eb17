#include "durability/log_reader.hpp"

#include <algorithm>

#include "durability/coding.hpp"
#include "durability/log_format.hpp"

namespace mantis::detail {

LogReader::LogReader(std::string_view contents, std::string name, std::uint64_t segment, bool last_segment)
    : contents_(contents), name_(std::move(name)), segment_(segment), last_segment_(last_segment) {}

std::string LogReader::location(std::uint64_t offset) const { return name_ + " offset " + std::to_string(offset); }

LogReader::Next LogReader::corrupt(std::uint64_t offset, std::string_view what) {
  std::string message = location(offset);
  message.append(": ").append(what);
  status_ = Status::corruption(message);
  return Next::kCorrupt;
}

bool LogReader::all_zero_from(std::size_t offset) const noexcept {
  return std::all_of(contents_.begin() + static_cast<std::ptrdiff_t>(offset), contents_.end(),
                     [](char c) { return c == '\0'; });
}

LogReader::Next LogReader::next_fragment(std::uint8_t* type, std::string_view* fragment) {
  const std::size_t size = contents_.size();
  for (;;) {
    const std::size_t left_in_block = kLogBlockSize - pos_ % kLogBlockSize;
    fragment_offset_ = pos_;
    if (left_in_block < kLogHeaderSize) {  // trailer padding, possibly the last bytes of the file
      if (size - pos_ <= left_in_block) {
        pos_ = size;
        return Next::kEnd;
      }
      pos_ += left_in_block;
      continue;
    }
    if (pos_ == size) return Next::kEnd;
    if (size - pos_ < kLogHeaderSize) return Next::kTorn;  // the header itself is cut off
    const char* header = contents_.data() + pos_;
    const std::size_t length = decode_fixed16(header + 4);
    *type = static_cast<std::uint8_t>(header[6]);
    if (*type == static_cast<std::uint8_t>(FragmentType::kZero) && length == 0 && decode_fixed32(header) == 0 &&
        decode_fixed32(header + 7) == 0) {
      // Zero-filled space: a file extended (or preallocated) past what was written.
      if (all_zero_from(pos_)) return Next::kTorn;
      return corrupt(pos_, "zeroed fragment header followed by data");
    }
    if (kLogHeaderSize + length > left_in_block) {
      return corrupt(pos_, "fragment length " + std::to_string(length) + " runs past its block");
    }
    if (size - pos_ < kLogHeaderSize + length) return Next::kTorn;  // the payload is cut off
    const std::string_view covered(header + kLogCrcCoveredHeaderOffset,
                                   kLogHeaderSize - kLogCrcCoveredHeaderOffset + length);
    if (fragment_crc(covered) != decode_fixed32(header)) {
      // A fragment's checksum is stored last (log_framing.hpp): a crash while a mapped segment was being
      // written leaves the record it was storing failing it, with only zeros after.
      if (last_segment_ && all_zero_from(pos_ + kLogHeaderSize + length)) return Next::kTorn;
      return corrupt(pos_, "bad checksum");
    }
    if (*type == static_cast<std::uint8_t>(FragmentType::kZero) || *type > kMaxFragmentType) {
      return corrupt(pos_, "bad fragment type " + std::to_string(*type));
    }
    if (const std::uint32_t written_to = decode_fixed32(header + 7); written_to != segment_) {
      return corrupt(pos_, "fragment written to segment " + std::to_string(written_to) + ", not this one");
    }
    *fragment = std::string_view(header + kLogHeaderSize, length);
    pos_ += kLogHeaderSize + length;
    return Next::kFragment;
  }
}

bool LogReader::finish_torn() {
  done_ = true;
  if (!last_segment_) {
    corrupt(fragment_offset_, "segment ends inside a record (only the last segment may)");
    return false;
  }
  torn_tail_ = true;
  return false;
}

bool LogReader::read(std::string_view* payload) {
  if (done_ || !status_.ok()) return false;
  bool in_record = false;  // inside a record split into fragments
  std::uint8_t type = 0;
  std::string_view fragment;
  for (;;) {
    switch (next_fragment(&type, &fragment)) {
      case Next::kCorrupt:
        return false;
      case Next::kTorn:
        return finish_torn();
      case Next::kEnd:
        // Ending inside a record, or after trailer padding with no record behind it, is a cut-off write.
        if (in_record || valid_end_ < contents_.size()) return finish_torn();
        done_ = true;
        return false;
      case Next::kFragment:
        break;
    }
    switch (static_cast<FragmentType>(type)) {
      case FragmentType::kFull:
        if (in_record) break;
        record_offset_ = fragment_offset_;
        valid_end_ = pos_;
        *payload = fragment;
        return true;
      case FragmentType::kFirst:
        if (in_record) break;
        in_record = true;
        record_offset_ = fragment_offset_;
        scratch_.assign(fragment);
        continue;
      case FragmentType::kMiddle:
      case FragmentType::kLast:
        if (!in_record) break;
        scratch_.append(fragment);
        if (static_cast<FragmentType>(type) == FragmentType::kMiddle) continue;
        valid_end_ = pos_;
        *payload = scratch_;
        return true;
      case FragmentType::kZero:
        break;  // rejected by next_fragment already
    }
    corrupt(fragment_offset_,
            "fragment of type " + std::to_string(type) + (in_record ? " inside" : " outside") + " a fragmented record");
    return false;
  }
}

}  // namespace mantis::detail
