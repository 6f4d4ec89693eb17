// GroupCommitLog: the write-ahead log that appends with write calls, one per group of writes (group commit):
// Durability::kSync's log, and every mode's where the Env hands out no mapped files (write_ahead_log.hpp).
//
// Design note (after LevelDB's DBImpl::Write).
// - Every write, sync barrier and rotation is a Writer queued under one mutex. The writer at the front
//   of the queue is the leader: it takes the writes queued behind it (up to kMaxGroupBytes) as its group,
//   gives each the next LSN, releases the mutex, appends the whole group to the current segment with one
//   write call, fdatasyncs once if any member (or the mode) asks for it, and then publishes each member's
//   write to the store by calling its apply(lsn), in LSN order. Then it marks the members done, wakes
//   the next leader, and wakes the members after releasing the mutex, so that the next group starts
//   while they wake. Writers that arrive meanwhile queue up and form the next group.
// - A leader whose group syncs first waits, for at most half the last fdatasync, for the writers of the
//   previous group to queue again (gather()): otherwise two sync writers alternate in groups of one.
// - Publishing in LSN order on one thread is what makes recovery reproduce what readers saw: two writes
//   of one key reach the store in the order in which they are logged. A sync write is visible only
//   once durable, because apply() runs after the group's fdatasync.
// - Serialisation is per log group (the mutex is held only to queue and to hand over leadership, never
//   during I/O); the store and the cache tier stay lock-free for readers.
// - Errors are sticky: once an append, a sync, a rotation or an apply fails, that group's writers get the
//   error, nothing of the group is applied, and every later write fails with the same Status until the
//   engine is reopened (recovery then decides from the bytes on disk).
// - Segments: a new one starts when the current one reaches segment_bytes, and on rotate() (checkpoints).
//   The old segment is fdatasync'ed and the directory entry of the new one made durable first, so the
//   segments on disk always chain with no gap.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <mantis/status.hpp>

#include "durability/log_writer.hpp"
#include "durability/write_ahead_log.hpp"

namespace mantis::detail {

// Thread-safe (see WriteAheadLog).
class GroupCommitLog final : public WriteAheadLog {
 public:
  // A group holds at most this many payload bytes (a single larger write forms a group of its own).
  static constexpr std::size_t kMaxGroupBytes = 1u << 20;
  // How long a queued writer that does not sync yields, polling for its turn, before it sleeps on its
  // condition variable.
  static constexpr std::chrono::microseconds kSpinBeforeSleep{50};

  // Creates segment `segment` (which must not exist) and makes its directory entry durable; the first
  // write gets LSN `next_lsn`.
  static Status open(const Config& config, std::uint64_t segment, std::uint64_t next_lsn,
                     std::unique_ptr<WriteAheadLog>* out);
  // Closes the current segment after an fdatasync (errors are ignored: call close() to see them).
  // REQUIRES: no call in flight.
  ~GroupCommitLog() override;

  // Blocks while its group is written; apply() runs on the group leader's thread, in LSN order.
  Status write(std::string* payload, bool sync, Apply apply) override;
  Status sync() override;
  Status rotate(std::uint64_t* last_lsn, std::uint64_t* new_segment) override;
  Status close() override;
  Status error() const override;
  std::uint64_t last_lsn() const override;
  bool applies_in_lsn_order() const noexcept override { return true; }

 private:
  struct Writer {
    enum class Kind { kWrite, kSync, kRotate };
    Writer(Kind k, std::string* p, bool s, Apply* a) noexcept : kind(k), payload(p), sync(s), apply(a) {}
    const Kind kind;
    std::string* const payload;  // kWrite only
    const bool sync;
    Apply* const apply;  // kWrite only
    std::uint64_t lsn = 0;
    std::uint64_t segment = 0;  // kRotate: the new segment
    Status status;
    bool done = false;
    // Set (after done, or when the writer becomes the leader) by whoever changes that, so that a
    // waiting writer can poll it before it sleeps.
    std::atomic<bool> turn{false};
    std::condition_variable cv;
    // Set by the leader that marked this writer done once it no longer touches it (it notifies `cv`
    // after releasing the mutex): the writer returns only then.
    std::atomic<bool> released{false};
    std::uint64_t group = 0;  // set with done: the number of the group it was in
  };

  GroupCommitLog(const Config& config, std::unique_ptr<LogWriter> log, std::uint64_t next_lsn);

  // Queues `writer` and returns once it is done, leading a group when its turn comes.
  Status run(Writer& writer);
  // The leader's work on `group` with the mutex released. Returns the group's status.
  Status write_group(const std::vector<Writer*>& group);
  // A leader of a group that syncs waits, for at most half the last fdatasync (kMaxGatherNs at most),
  // until the writers of the last group that have not written again since have queued: each then
  // shares this group's fdatasync instead of paying one of its own next. (Two sync writers otherwise
  // alternate in groups of one, each waiting out the other's fdatasync: no faster than one writer.)
  void gather(Writer& leader, std::unique_lock<std::mutex>& lock);
  // Syncs and closes the current segment, then opens the next. Leader only.
  Status start_next_segment();
  static Status open_segment(const Config& config, std::uint64_t segment, std::unique_ptr<LogWriter>* out);

  const Config config_;
  mutable std::mutex mutex_;
  std::deque<Writer*> queue_;  // guarded by mutex_
  Status error_;               // guarded by mutex_; sticky
  std::uint64_t next_lsn_;     // guarded by mutex_
  std::uint64_t groups_ = 0;   // guarded by mutex_: groups finished
  // Guarded by mutex_: writers of the last group that have not queued again (gather()).
  std::size_t returning_ = 0;
  bool gathering_ = false;  // guarded by mutex_: the leader waits in gather(); arrivals wake it
  static constexpr std::uint64_t kMaxGatherNs = 200'000;

  // The leader's alone (leadership passes under mutex_, which orders these between leaders).
  std::unique_ptr<LogWriter> log_;
  bool unsynced_ = false;
  std::uint64_t last_sync_ns_ = 0;  // the last fdatasync's duration
  std::vector<Writer*> group_;
  std::vector<std::string_view> payloads_;
};

}  // namespace mantis::detail
