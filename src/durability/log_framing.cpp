#include "durability/log_framing.hpp"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "durability/coding.hpp"
#include "durability/log_format.hpp"

namespace mantis::detail {

std::size_t framed_size(std::size_t payload_size, std::size_t block_offset) noexcept {
  std::size_t bytes = 0;
  do {  // an empty payload still gets one (empty) fragment
    const std::size_t left_in_block = kLogBlockSize - block_offset;
    if (left_in_block < kLogHeaderSize) {  // trailer padding
      bytes += left_in_block;
      block_offset = 0;
      continue;
    }
    const std::size_t length = std::min(payload_size, left_in_block - kLogHeaderSize);
    bytes += kLogHeaderSize + length;
    block_offset += kLogHeaderSize + length;
    if (length == payload_size) return bytes;
    payload_size -= length;
  } while (true);
}

std::size_t frame_record(std::string_view payload, std::uint64_t segment, std::size_t block_offset, char* out) noexcept {
  bool first = true;
  do {
    const std::size_t left_in_block = kLogBlockSize - block_offset;
    if (left_in_block < kLogHeaderSize) {
      std::memset(out, 0, left_in_block);  // trailer padding: too small for a header
      out += left_in_block;
      block_offset = 0;
      continue;
    }
    const std::size_t length = std::min(payload.size(), left_in_block - kLogHeaderSize);
    const bool last = length == payload.size();
    const FragmentType type = first && last ? FragmentType::kFull
                              : first       ? FragmentType::kFirst
                              : last        ? FragmentType::kLast
                                            : FragmentType::kMiddle;
    encode_fixed16(out + 4, static_cast<std::uint16_t>(length));
    out[6] = static_cast<char>(type);
    encode_fixed32(out + 7, static_cast<std::uint32_t>(segment));
    // Compiler fences: the stores happen in this order, so a process that dies while storing into a
    // mapped segment leaves a fragment that fails its checksum and nothing after its stated length
    // (the torn tail LogReader recognises). A dead process's stores are a prefix in program order.
    std::atomic_signal_fence(std::memory_order_seq_cst);
    if (length > 0) std::memcpy(out + kLogHeaderSize, payload.data(), length);
    // The crc covers type, segment and payload, contiguous in `out`.
    const std::size_t covered = kLogHeaderSize - kLogCrcCoveredHeaderOffset + length;
    const std::uint32_t crc = fragment_crc(std::string_view(out + kLogCrcCoveredHeaderOffset, covered));
    std::atomic_signal_fence(std::memory_order_seq_cst);
    encode_fixed32(out, crc);
    payload.remove_prefix(length);
    out += kLogHeaderSize + length;
    block_offset += kLogHeaderSize + length;
    first = false;
    if (last) return block_offset;
  } while (true);
}

}  // namespace mantis::detail
