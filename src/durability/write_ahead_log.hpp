// WriteAheadLog: the engine's log, over the segments wal/000001.log, 000002.log, ... (log_format.hpp),
// and what every implementation promises. open() picks one:
// - MappedLog (mapped_log.hpp) when writes do not each sync (Durability::kAsync, kPeriodic) and the Env
//   maps files: a writer frames its record straight into the mapped segment under a short lock and
//   applies it on its own thread.
// - GroupCommitLog (group_commit_log.hpp) otherwise (Durability::kSync, or an Env that maps no files):
//   writes queue, and a leader appends and fdatasyncs each group with one call, then applies it.
//
// The contract of both:
// W1. Each write gets the next LSN; the log holds records in LSN order, and LSNs continue across
//     segments with no gap.
// W2. A write is applied only after its record is in the log (and durable, when it syncs); write()
//     returns OK only if both happened.
// W3. Two writes of one key are applied in LSN order, so that recovery reproduces what readers saw.
//     GroupCommitLog applies every write in LSN order on the leader's thread. MappedLog applies each on
//     its writer's thread: a caller that writes a key concurrently with another writer of it must hold
//     the key exclusively from before write() until it returns (applies_in_lsn_order() says which).
// W4. rotate() returns an LSN L such that every write with an LSN up to L is applied and in the ended
//     segments, and every later one is in the new segment or after it.
// W5. Errors are sticky: after a failed append, sync, rotation or apply, every later write fails with
//     that Status until the engine is reopened (recovery then decides from the bytes on disk).
// W6. Segments on disk chain with no gap: an ended segment is fdatasync'ed (and, if mapped, cut to its
//     records) before the next one's directory entry is made durable.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <mantis/detail/function_ref.hpp>
#include <mantis/status.hpp>

#include "durability/file_names.hpp"
#include "durability/log_format.hpp"
#include "env/env.hpp"
#include "util/histogram.hpp"

namespace mantis::detail {

// Thread-safe: any number of threads may call write(), sync() and rotate() concurrently.
class WriteAheadLog {
 public:
  // Publishes a logged write to the store (W2, W3).
  using Apply = FunctionRef<Status(std::uint64_t lsn)>;

  struct Config {
    Env* env = nullptr;
    std::string dir;                          // the data directory (segments live in <dir>/wal)
    bool sync_every_write = false;            // Durability::kSync
    std::uint64_t segment_bytes = 64u << 20;  // start a new segment past this size
  };
  // Bytes at the head of every payload that write() overwrites with the record's LSN (little-endian).
  static constexpr std::size_t kLsnBytes = 8;

  // Creates segment `segment` (which must not exist) and makes its directory entry durable; the first
  // write gets LSN `next_lsn`.
  static Status open(const Config& config, std::uint64_t segment, std::uint64_t next_lsn,
                     std::unique_ptr<WriteAheadLog>* out);
  WriteAheadLog(const WriteAheadLog&) = delete;
  WriteAheadLog& operator=(const WriteAheadLog&) = delete;
  // Implementations sync and close the current segment (errors ignored: call close() to see them).
  // REQUIRES: no call in flight.
  virtual ~WriteAheadLog() = default;

  // Logs `*payload` (a logical record of log_record.hpp whose first kLsnBytes are overwritten with its
  // LSN), fdatasyncs first when `sync` or Config::sync_every_write, then calls apply(lsn). Returns OK
  // only if the record was logged (and synced if asked) and applied.
  virtual Status write(std::string* payload, bool sync, Apply apply) = 0;
  // A barrier: every write acknowledged before it was called is durable (fdatasync'ed) when it returns OK.
  virtual Status sync() = 0;
  // Ends the current segment and starts the next (W4). *last_lsn: the LSN of the last record in the
  // ended segments; *new_segment: the new segment's number.
  virtual Status rotate(std::uint64_t* last_lsn, std::uint64_t* new_segment) = 0;
  // Syncs and closes the current segment; later calls fail with Closed. Idempotent. REQUIRES: no call
  // in flight.
  virtual Status close() = 0;
  // The first failure, or OK.
  virtual Status error() const = 0;
  // The LSN of the last write that was given one (0 before the first). Thread-safe.
  virtual std::uint64_t last_lsn() const = 0;
  // W3: true when write() applies in LSN order by itself; false when the caller must hold a key
  // exclusively while it writes it.
  virtual bool applies_in_lsn_order() const noexcept = 0;

  // What the log measured: every fdatasync that made writes durable (nanoseconds), and how many
  // records each made durable (with group commit: each group's record count).
  struct Timings {
    Histogram fdatasync_ns;
    Histogram group_records;
  };
  const Timings& timings() const noexcept { return timings_; }
  // Payload bytes logged since open() or the last rotate(). Thread-safe, approximate.
  std::uint64_t bytes_since_rotate() const noexcept { return bytes_since_rotate_.load(std::memory_order_relaxed); }

 protected:
  WriteAheadLog() = default;

  // How both logs start a segment: IOError once segment numbers are exhausted, else create(path) makes
  // the file, then its directory entry is made durable before any record in it is acknowledged as synced.
  template <class Create>
  static Status create_segment_file(const Config& config, std::uint64_t number, Create&& create);

  std::atomic<std::uint64_t> bytes_since_rotate_{0};
  Timings timings_;
};

template <class Create>
Status WriteAheadLog::create_segment_file(const Config& config, std::uint64_t number, Create&& create) {
  if (number > kMaxLogSegmentNumber) {
    return Status::io_error("write-ahead log: segment numbers are exhausted (" + std::to_string(number) + ")");
  }
  Status s = create(config.dir + "/" + log_file_name(number));
  if (!s.ok()) return s;
  return config.env->sync_dir(config.dir + "/" + std::string(kWalDirName));
}

}  // namespace mantis::detail
