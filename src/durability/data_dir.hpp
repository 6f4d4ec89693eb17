// DataDir: the open data directory of a durable engine: its lock, its write-ahead log, its snapshots,
// recovery at open, checkpoints, and the background work (periodic syncs, checkpoints on log growth).
//
// Design note.
// - open(): lock <dir>/LOCK (Busy if held), read the MANIFEST (or create a new database), verify the
//   snapshot it names and hand it to the host to load (in one pass, records pointing into the mapped
//   file), then replay the log segments from the manifest's first one, in LSN order, handing each
//   operation to the host, which applies it exactly as it applies live writes (engine/applier.hpp). A torn record at
//   the very end of the last segment is cut off (the only change open() makes to existing files, and only once
//   everything else has verified); any other damage fails open() with Corruption naming the file and offset. Then a new
//   segment is started for this session.
// - Writes go through the WriteAheadLog (mapped segments for kAsync and kPeriodic, group commit for kSync)
//   unless Durability::kNone, where nothing is logged and only checkpoints persist the store.
// - checkpoint(): rotate the log at LSN S (every write up to S is then in the store), write the store to
//   snap-S.snap while writes go on, switch the MANIFEST to {S, the new segment}, delete the older
//   segments and snapshot. A snapshot may hold some writes after S too: replaying the log from S+1 over
//   it is still exact, because every logged operation sets its key to a state that does not depend on
//   what the snapshot holds (put, erase, clear), or is applied in LSN order to the state the earlier
//   records left (expire, persist).
// - backup(target): a checkpoint (so the MANIFEST names snap-S and the segments from F on, and the log is
//   kept short by backups too), then a rotation at T, then copies of snap-S and of segments F.. (every
//   record up to T) into target, and a MANIFEST {S, F} there, written last. Recovery from target is the
//   checkpoint argument above with the log ending at T: the state after every write up to T, an instant
//   between the call and its return. The checkpoint mutex is held throughout, so no checkpoint removes
//   a file being copied. The copies are fdatasync'ed, and so are target's directory entries.
// - A background thread fdatasyncs every Options::sync_interval (kPeriodic) and starts a checkpoint
//   when the log has grown past the last snapshot's size (at least kCheckpointFloorBytes).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include <mantis/options.hpp>
#include <mantis/stats.hpp>
#include <mantis/status.hpp>

#include "durability/log_record.hpp"
#include "durability/manifest.hpp"
#include "durability/write_ahead_log.hpp"
#include "env/env.hpp"
#include "env/file_lock.hpp"

namespace mantis::detail {

class SnapshotReader;
class SnapshotWriter;

// What a DataDir needs from the engine that owns the data: durability reads and writes bytes (log
// operations, snapshot entries), and the host turns them into its store's records and back, with the
// same write semantics as live writes.
class DataDirHost {
 public:
  // Loads every entry of a verified snapshot (`name`, for messages) into the empty store, counting
  // them in *entries. Called once, by open(), before the engine is shared.
  virtual Status load_snapshot(SnapshotReader& reader, const std::string& name, std::uint64_t* entries) = 0;
  // Takes one logged operation, in LSN order, to apply as the engine applied it live: now, or by the
  // next finish_replay() (so that a host may apply many at once), with the same result as applying
  // each in order. op's views are valid only during the call. Corruption saying what is wrong with
  // the op (open() prefixes where it lies). Called by open() only, before the engine is shared.
  virtual Status replay(const LogOp& op) = 0;
  // Applies whatever replay() has taken and not applied yet. Called by open() after the last op.
  virtual Status finish_replay() = 0;
  // Adds every live entry to `writer` in key order, while writes go on. Called by checkpoint().
  virtual Status write_snapshot(SnapshotWriter& writer) = 0;

 protected:
  ~DataDirHost() = default;
};

// Thread-safe: write(), sync() and checkpoint() may be called from any number of threads.
class DataDir {
 public:
  // The log size past which a checkpoint starts by itself, at least (more if the last snapshot was larger).
  static constexpr std::uint64_t kCheckpointFloorBytes = 64u << 20;

  // What open() found: the engine reports it as it is (Stats::recovery).
  using Recovered = Stats::Recovery;

  // Opens (or creates) options.dir and recovers its contents through `host` (whose store must be
  // empty and not yet shared; `host` must outlive the DataDir). `env` is the file system (Env::posix(), or a
  // fault-injecting one in tests). Busy when another engine holds the directory; Corruption naming file and offset for
  // damaged files; InvalidArgument for create_if_missing / error_if_exists violations.
  static Status open(const Options& options, Env* env, DataDirHost& host, Recovered* recovered,
                     std::unique_ptr<DataDir>* out);
  // Stops the background thread, then: kNone writes a last snapshot; other modes sync the log. Errors
  // are ignored here (close() reports them). REQUIRES: no call in flight.
  ~DataDir();
  DataDir(const DataDir&) = delete;
  DataDir& operator=(const DataDir&) = delete;

  // Logs `*payload` (see WriteAheadLog::write) and calls apply(lsn); without a log (kNone) just calls
  // apply. IOError (sticky) when the log cannot be written.
  Status write(std::string* payload, bool sync, WriteAheadLog::Apply apply);
  // Everything acknowledged so far becomes durable. kNone: a checkpoint.
  Status sync();
  // Writes a snapshot of the store now (see the design note). OK and nothing written when nothing
  // changed since the last one.
  Status checkpoint();
  // Writes a consistent copy of the database, as of one instant during the call, into `target` (a
  // directory that does not exist yet, or is empty), while writes go on; it opens as a data directory.
  // NotSupported with Durability::kNone (no log to make a copy taken under writes consistent).
  Status backup(const std::string& target);
  // What ~DataDir does, with its Status. Idempotent.
  Status close();

  bool logging() const noexcept { return wal_ != nullptr; }
  // Whether write() applies writes in LSN order by itself (write_ahead_log.hpp W3); when not, a caller
  // writing a key holds it exclusively. True without a log.
  bool applies_in_lsn_order() const noexcept { return wal_ == nullptr || wal_->applies_in_lsn_order(); }
  // The log's measurements; null with Durability::kNone.
  const WriteAheadLog::Timings* log_timings() const noexcept { return wal_ ? &wal_->timings() : nullptr; }

 private:
  DataDir(const Options& options, Env* env, DataDirHost& host, std::unique_ptr<FileLock> lock, Manifest manifest);

  // Loads the snapshot and replays the log; starts the log for this session.
  Status recover(Recovered* recovered);
  Status load_snapshot(Recovered* recovered);
  Status replay_log(Recovered* recovered, std::uint64_t* next_segment);
  // checkpoint() with checkpoint_mutex_ held.
  Status checkpoint_locked();
  // Removes files the manifest no longer names (older segments and snapshots, temporary files).
  void remove_obsolete_files();
  void background();

  const Options options_;
  Env* const env_;
  const std::string dir_;
  DataDirHost& host_;
  const std::unique_ptr<FileLock> lock_;
  std::unique_ptr<WriteAheadLog> wal_;  // null with Durability::kNone
  std::uint64_t next_lsn_ = 1;          // the LSN after the last one recovered
  std::uint64_t next_segment_ = 1;      // the segment after the last one recovered (kNone's manifests)
  bool recovered_ = false;              // recover() succeeded: close() may write

  std::mutex checkpoint_mutex_;                    // one checkpoint at a time
  Manifest manifest_;                              // guarded by checkpoint_mutex_
  std::atomic<std::uint64_t> snapshot_bytes_{0};   // the last snapshot's size (the growth trigger reads it)
  std::atomic<std::uint64_t> unlogged_writes_{0};  // kNone: writes since the last checkpoint

  std::mutex background_mutex_;
  std::condition_variable background_wake_;
  bool stopping_ = false;  // guarded by background_mutex_
  bool closed_ = false;    // guarded by checkpoint_mutex_
  std::thread background_;
};

}  // namespace mantis::detail
