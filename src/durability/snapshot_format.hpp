// The layout of a snapshot file (`snap-<lsn>.snap`): every entry of the store, in key order, as written
// by SnapshotWriter and verified by SnapshotReader.
//
//   +----------------+------------------+-----+------------------+-------------------+
//   | header (32 B)  | chunk frame      | ... | chunk frame      | footer frame      |
//   +----------------+------------------+-----+------------------+-------------------+
//
// Header, at offset 0:
//   magic "MNTSSNAP" (8) | version u32 (1) | reserved u32 (0) | lsn u64 | reserved u32 (0) | crc u32
//   crc      masked CRC32C (crc32c.hpp) of the header's first 28 bytes
//   lsn      the LSN of the last write the snapshot holds (also in its name)
//
// Frame, at an 8-aligned offset (so are the header's end and every frame's end):
//   crc u32 | type u8 | reserved (3 zero bytes) | length u64 | payload (length bytes, a multiple of 8)
//   crc      masked CRC32C of the 12 header bytes from `type` on, followed by the payload
//   type     1 chunk, 2 footer
//
// Chunk payload: one flatbuffer `mantis.fbs.SnapshotChunk` (snapshot.fbs), zero-padded to a multiple of
// 8. It holds one or more entries: an entry table (expires_at_ms, key end, record offset and length),
// the keys concatenated, and then the Records' flatbuffers (store/record.fbs). The table and the keys
// come first and the records last, so iterating keys touches only key pages; every record starts
// 8-aligned in the file (the chunk's flatbuffer starts 8-aligned, the records vector's data is 8-aligned
// in it, records are placed at multiples of 8 in that vector), so the engine can point mapped records at
// the file's bytes and read their ulong fields aligned. A writer starts a new chunk when the next entry
// would take the current one past kSnapshotChunkTargetBytes; an entry larger than that gets a chunk of
// its own. A flatbuffer is capped at 2 GiB, so one entry (key + record) must stay below
// kMaxSnapshotEntryBytes.
//
// Footer payload (24 bytes): lsn u64 (= the header's) | entries u64 | chunks u64. The footer frame is
// the last thing in the file; its counts and checksum make a truncated file (which has no footer, or a
// torn one) detectable.
//
// All integers are little-endian. Keys are strictly ascending across the whole file, and each entry's
// expires_at_ms equals its record's. A reader rejects anything else, including bytes after the footer.
//
// What SnapshotWriter::add does with an entry that breaks these rules (a key not strictly greater than
// the previous one, a record that is not a Record flatbuffer with this expires_at_ms, key + record over
// kMaxSnapshotEntryBytes): it returns InvalidArgument, in every build, without adding the entry; that
// error is not sticky, the writer stays usable. Only I/O errors are sticky.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace mantis::detail {

inline constexpr std::string_view kSnapshotMagic = "MNTSSNAP";
inline constexpr std::uint32_t kSnapshotFormatVersion = 1;
inline constexpr std::size_t kSnapshotHeaderSize = 32;
// The header's crc covers the bytes before it.
inline constexpr std::size_t kSnapshotHeaderCrcOffset = 28;

inline constexpr std::size_t kSnapshotFrameHeaderSize = 16;
// The frame's crc covers the frame header from the type byte on, then the payload.
inline constexpr std::size_t kSnapshotFrameCrcCoveredOffset = 4;
inline constexpr std::size_t kSnapshotFooterPayloadSize = 24;

enum class SnapshotFrameType : std::uint8_t {
  kChunk = 1,
  kFooter = 2,
};

// Where the writer closes a chunk (far below the 2 GiB cap of one flatbuffer).
inline constexpr std::size_t kSnapshotChunkTargetBytes = std::size_t{4} << 20;
// Frames and record offsets are aligned to this.
inline constexpr std::size_t kSnapshotAlignment = 8;
// The largest chunk payload a reader accepts: one flatbuffer.
inline constexpr std::uint64_t kMaxSnapshotChunkBytes = (std::uint64_t{1} << 31) - 1;
// The largest key + record a writer accepts: what fits in one chunk with room for its framing.
inline constexpr std::uint64_t kMaxSnapshotEntryBytes = kMaxSnapshotChunkBytes - (std::uint64_t{1} << 16);

constexpr std::uint64_t snapshot_align(std::uint64_t n) noexcept {
  return (n + kSnapshotAlignment - 1) & ~std::uint64_t{kSnapshotAlignment - 1};
}

// What a loader needs of a record besides where it is, learned while verifying it, so that loading a
// snapshot touches no record's page.
struct SnapshotRecordFacts {
  std::uint32_t value_size = 0;
  std::uint64_t seq = 0;
};

// True when `record` is a well-formed Record flatbuffer whose expires_at_ms is `expires_at_ms`
// (bounds-checked: safe on any bytes); then *facts (if given) gets its value size and seq. REQUIRES:
// record.data() is 8-aligned. What the writer accepts and the reader checks for every entry.
// Thread-safe.
bool valid_snapshot_record(std::string_view record, std::uint64_t expires_at_ms,
                           SnapshotRecordFacts* facts = nullptr) noexcept;

}  // namespace mantis::detail
