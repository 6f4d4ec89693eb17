// MappedLog: the write-ahead log of the modes that do not sync every write (Durability::kAsync,
// kPeriodic). Each segment is a MappedWritableFile of segment_bytes, allocated and mapped up front, and
// a writer frames its record straight into the mapping: no write call, no queue, no hand-off to a
// leader thread, so a logged write costs little more than a memory-only one.
//
// Design note.
// - write(): under `mutex_` (a SpinMutex: the section is a memcpy and a crc, ~100 ns for a small
//   record) the writer checks the sticky error, takes the next LSN, frames the record at the tail and
//   advances it. Before it takes the mutex it prefetches, for writing, the lines at the tail as it last
//   was (tail_address_), so that the copy under the mutex rarely waits for memory. Then, with the mutex
//   released, it fdatasyncs if the write syncs (sync_through(), which one syncer at a time runs for
//   everyone waiting: group commit for syncs) and applies the write on its own thread.
// - Records lie in the segment in LSN order with no holes: a record is wholly stored before the next
//   is begun (both under mutex_). A process that dies mid-store leaves one torn record followed only
//   by zeros, which the reader takes for the torn tail it is (log_reader.hpp); the bytes stored before
//   are in the page cache and survive the process.
// - Same-key order (W3): writes are applied outside the mutex, so two writes of one key could apply in
//   the opposite order to their LSNs. The engine holds a key's stripe exclusive around such a write
//   (key_locks.hpp K5); applies_in_lsn_order() is false to say so.
// - Rotation (W4): rotate() switches segments under mutex_, noting L = the last LSN given, and bumps
//   the generation; each write counts itself in applying_[its generation's parity] from taking its LSN
//   until applied. rotate() returns once that counter of the ended generation is zero, so every write
//   up to L is applied. Rotations are serialised (rotate_mutex_), so the parity slot a new generation
//   reuses has drained.
// - A segment that is full (the record does not fit in what is left) ends like a rotation's (W6):
//   fdatasync, unmap, cut to its records, fdatasync; then the next is created at max(segment_bytes,
//   the record) and its directory entry synced. This happens under mutex_, as the group-commit leader's
//   does: writers wait for it. To keep that wait short, the writer whose record completes a chunk of
//   kWriteBehindBytes (or several, for a record larger than a chunk) starts their write-back (outside
//   the mutex), so the fdatasync finds little left to write (a 64 MiB segment's switch: ~45 ms
//   without, measured on this machine's disk), and maps the pages of the chunk after the one the tail
//   entered in one call (MappedWritableFile::prefault; a new segment maps its first two chunks), so
//   that the mapping stays a chunk ahead of the tail and no record stored under the mutex takes a page
//   fault there, not even one that crosses into the next chunk (such a fault cost ~0.4 ms here: the
//   kernel reads around it).
// - Errors are sticky (W5): a failed sync, segment switch or apply sets error_, and every later write
//   fails with it. A write already past its check may still be applied, as its record is in the log.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include <mantis/status.hpp>

#include "durability/write_ahead_log.hpp"
#include "env/mapped_writable_file.hpp"
#include "util/spin_mutex.hpp"

namespace mantis::detail {

// Thread-safe (see WriteAheadLog).
class MappedLog final : public WriteAheadLog {
 public:
  // Creates segment `segment` mapped (NotSupported when the Env maps no files), and makes its directory
  // entry durable; the first write gets LSN `next_lsn`.
  static Status open(const Config& config, std::uint64_t segment, std::uint64_t next_lsn,
                     std::unique_ptr<WriteAheadLog>* out);
  // The chunk of a segment whose write-back starts once records fill it (see the design note).
  static constexpr std::uint64_t kWriteBehindBytes = 1u << 20;

  // close(), errors ignored. REQUIRES: no call in flight.
  ~MappedLog() override;

  // Applies on the calling thread (W3: the caller holds the key exclusively).
  Status write(std::string* payload, bool sync, Apply apply) override;
  Status sync() override;
  Status rotate(std::uint64_t* last_lsn, std::uint64_t* new_segment) override;
  Status close() override;
  Status error() const override;
  std::uint64_t last_lsn() const override;
  bool applies_in_lsn_order() const noexcept override { return false; }

 private:
  // The segment being written and its number; shared with syncers, which fdatasync it outside mutex_.
  struct Segment {
    std::shared_ptr<MappedWritableFile> file;
    std::uint64_t number = 0;
  };

  MappedLog(const Config& config, Segment segment, std::uint64_t next_lsn);

  static Status create_segment(const Config& config, std::uint64_t number, std::uint64_t capacity, Segment* out);
  // Makes every write up to `lsn` durable (one fdatasync covers all writers waiting meanwhile).
  Status sync_through(std::uint64_t lsn);
  // Ends the current segment (W6) and starts the next, big enough for `bytes` of framed record.
  // REQUIRES: mutex_ held.
  Status start_next_segment(std::uint64_t bytes);
  // Sets the sticky error unless one is set.
  void fail(const Status& status);
  // synced_lsn_ = max(synced_lsn_, lsn).
  void raise_synced(std::uint64_t lsn) noexcept;

  const Config config_;
  mutable SpinMutex mutex_;
  // Guarded by mutex_.
  Segment segment_;
  std::uint64_t tail_ = 0;  // bytes of segment_ holding records
  std::uint64_t next_lsn_;
  std::uint64_t generation_ = 0;  // rotations so far
  Status error_;                  // sticky
  bool closed_ = false;

  // Where the next record will most likely begin (segment_'s mapping + tail_), stored under mutex_ and
  // read without it: a writer fetches those lines for writing before it takes mutex_, so that its copy
  // under the mutex finds them in cache. Only a hint: a stale address costs a wasted fetch (prefetches
  // never fault, even on an address no longer mapped).
  std::atomic<char*> tail_address_{nullptr};
  std::atomic<std::uint64_t> applying_[2] = {0, 0};  // writes given an LSN and not yet applied, by generation parity
  std::mutex rotate_mutex_;                          // one rotation at a time
  std::mutex sync_mutex_;                            // one fdatasync at a time
  std::atomic<std::uint64_t> synced_lsn_;            // every write up to it is durable
};

}  // namespace mantis::detail
