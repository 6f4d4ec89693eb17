// Framing a logical record into the fragments of log_format.hpp: the one place that lays records out in
// blocks, for both log writers (LogWriter appends with write calls; MappedLog stores into a mapped
// segment).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mantis::detail {

// The bytes framing a record of `payload_size` bytes takes when it starts `block_offset` bytes into a
// block: its fragments' headers and payloads, and the zero trailer of any block it leaves with fewer
// than kLogHeaderSize bytes. Thread-safe.
std::size_t framed_size(std::size_t payload_size, std::size_t block_offset) noexcept;

// Writes the fragments of `payload` for segment `segment` to `out`, which has framed_size(payload.size(),
// block_offset) bytes, starting `block_offset` bytes into a block. Each fragment is stored in order:
// length, type and segment, then the payload, then the checksum (log_reader.hpp's torn tail). Returns the block offset after the record. REQUIRES: segment <= kMaxLogSegmentNumber.
std::size_t frame_record(std::string_view payload, std::uint64_t segment, std::size_t block_offset, char* out) noexcept;

}  // namespace mantis::detail
