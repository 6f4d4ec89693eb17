// The physical framing of a write-ahead log segment (`wal/000007.log`).
//
// A segment is a sequence of 32 KiB blocks. A logical record (one write or batch, see log_record.hpp)
// is stored as one or more fragments; a fragment never crosses a block boundary:
//
//   +-----------+-----------+--------+-----------+---------------------+
//   | crc (4B)  | length(2B)| type(1)| segment(4)| payload (length B)  |
//   +-----------+-----------+--------+-----------+---------------------+
//
//   crc      masked CRC32C (crc32c.hpp) of the 5 bytes type+segment followed by the payload
//   length   payload bytes in this fragment, little-endian; header + payload fit in the block
//   type     kFull (the whole record), or kFirst, kMiddle..., kLast for a record split across blocks
//   segment  little-endian u32: the number of the segment the fragment was written to. It is checked by the
//            reader and covered by the crc, so bytes left over from another segment (a copied or
//            reused file) can never pass for records of this one.
//
// When fewer than kHeaderSize bytes remain in a block, they are zero padding and the next fragment
// starts in the next block. Integers are little-endian. Design after LevelDB's log format, with the
// segment number of RocksDB's "recyclable" records.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "durability/crc32c.hpp"

namespace mantis::detail {

inline constexpr std::size_t kLogBlockSize = 32 * 1024;
inline constexpr std::size_t kLogHeaderSize = 4 + 2 + 1 + 4;
// The crc covers the header from the type byte on.
inline constexpr std::size_t kLogCrcCoveredHeaderOffset = 6;
// Segment numbers are stored in 4 bytes.
inline constexpr std::uint64_t kMaxLogSegmentNumber = 0xffffffffu;

enum class FragmentType : std::uint8_t {
  kZero = 0,  // never written: what zero-filled (preallocated, or extended but unwritten) space reads as
  kFull = 1,
  kFirst = 2,
  kMiddle = 3,
  kLast = 4,
};
inline constexpr std::uint8_t kMaxFragmentType = 4;

// The crc stored in a fragment whose header bytes from the type byte on, followed by the payload, are
// `covered` (kLogHeaderSize - kLogCrcCoveredHeaderOffset + length bytes, contiguous). Thread-safe.
inline std::uint32_t fragment_crc(std::string_view covered) noexcept { return mask_crc(crc32c(covered)); }

}  // namespace mantis::detail
