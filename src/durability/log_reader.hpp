// LogReader: reads the logical records of one log segment back, verifying the framing of
// log_format.hpp.
//
// What it reports, for a segment whose bytes are `contents`:
//  - every complete record, in order (read() returns true);
//  - a clean end (read() returns false, status() OK) when the segment ends after its last record, or,
//    only in the last segment (`last_segment`), at a torn tail: the file ends inside a record (a write
//    call cut off by a crash), zero-filled space follows the last record (a preallocated or mapped
//    segment), or a fragment fails its checksum with only zeros after it (a record a crash cut off
//    while storing it into a mapped segment: its checksum is stored last). torn_tail() is then true and
//    valid_end() is the offset to truncate the segment to (just past the last complete record);
//  - Corruption "wal/000007.log offset N: <what>" for any other damage: a bad checksum, a fragment
//    length past its block, an unknown fragment type, fragments out of order, a fragment written to
//    another segment, a non-last segment that is cut short. N is the offset of the damaged fragment.
// A torn write is told from damage by position only: a record is torn when its bytes run past the end
// of the file, or past the last non-zero byte. A flipped bit in the last record of the last segment is
// therefore taken for a torn write and dropped, as a crash mid-write would have dropped it; anywhere
// else it is Corruption.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <mantis/status.hpp>

namespace mantis::detail {

// Not thread-safe; any number of readers may read the same bytes concurrently.
class LogReader {
 public:
  // Reads `contents` (typically a MappedFile's data(), which the caller keeps alive while reading and
  // while it uses the payloads). `name` names the segment in messages ("wal/000007.log").
  LogReader(std::string_view contents, std::string name, std::uint64_t segment, bool last_segment);
  LogReader(const LogReader&) = delete;
  LogReader& operator=(const LogReader&) = delete;

  // The next logical record into *payload: true, or false at the end or on damage (see status()).
  // *payload points into `contents` or into this reader; valid until the next read(). Never allocates
  // more than the bytes of `contents`.
  bool read(std::string_view* payload);

  // OK until damage is found; then Corruption naming the file and offset. Sticky.
  const Status& status() const noexcept { return status_; }
  // Offset of the first fragment of the record read() last returned.
  std::uint64_t record_offset() const noexcept { return record_offset_; }
  // Bytes of the segment that hold complete records: where the records read so far end.
  std::uint64_t valid_end() const noexcept { return valid_end_; }
  // True after a clean end that dropped a torn tail (valid_end() < the segment's size).
  bool torn_tail() const noexcept { return torn_tail_; }
  // "<name> offset <offset>", for messages about this segment.
  std::string location(std::uint64_t offset) const;

 private:
  enum class Next { kFragment, kEnd, kTorn, kCorrupt };
  // The fragment at pos_ (after any block trailer): its type, payload and offset (fragment_offset_).
  Next next_fragment(std::uint8_t* type, std::string_view* fragment);
  Next corrupt(std::uint64_t offset, std::string_view what);
  // Ends reading at a record cut off by the end of the file: a clean end with torn_tail() in the last
  // segment, Corruption otherwise. Returns false, for read() to return.
  bool finish_torn();
  bool all_zero_from(std::size_t offset) const noexcept;

  const std::string_view contents_;
  const std::string name_;
  const std::uint64_t segment_;
  const bool last_segment_;
  std::size_t pos_ = 0;
  std::uint64_t fragment_offset_ = 0;
  std::uint64_t record_offset_ = 0;
  std::uint64_t valid_end_ = 0;
  bool torn_tail_ = false;
  bool done_ = false;
  std::string scratch_;  // a fragmented record being reassembled
  Status status_;
};

}  // namespace mantis::detail
