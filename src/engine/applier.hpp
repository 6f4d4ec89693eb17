// Applier: the one place where write semantics live. Every write the engine accepts, live or replayed
// from the log at open, is one Mutation applied here to the store, inside its cache-tier write window
// and with the tier kept coherent (docs/DESIGN.md, rule 3). The data directory reaches the store only
// through this class (it is the DataDirHost): it replays log operations through apply(), and loads and
// writes snapshots through load_snapshot() and write_snapshot(), so durability works on bytes and
// never includes the store.
//
// The engine's counters are not touched here: the facade counts what its callers asked for, and
// replayed writes are not counted.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include <mantis/detail/function_ref.hpp>
#include <mantis/status.hpp>

#include "durability/data_dir.hpp"
#include "durability/log_record.hpp"
#include "engine/cache_tier.hpp"
#include "engine/replay_batch.hpp"
#include "store/record.hpp"
#include "store/store.hpp"

namespace mantis::detail {

// One write, as the engine applies it.
struct Mutation {
  LogOpType type = LogOpType::kPut;  // never kBatch: a batch is applied one Mutation at a time
  std::string_view key;              // empty for kClear
  Record* record = nullptr;          // kPut: the new value; apply() takes over this reference
  std::uint64_t expires_at_ms = 0;   // kExpire (> 0) and kPersist (0): the key's new expiry
  std::uint64_t seq = 0;             // kExpire and kPersist: the rewritten record's seq
  // kPut, when set: a conditional put (Store::put_if), `record` unused. make(live record, or nullptr
  // when the key is absent or expired) returns the record to publish, or nullptr to leave the key
  // alone; apply() takes over only the record it publishes.
  const FunctionRef<Record*(const Record*)>* make = nullptr;
  // kErase, when set: removes the key only if it is live and admit(its record) holds (Store::erase_if).
  const FunctionRef<bool(const Record&)>* admit = nullptr;
};

// Thread-safe: apply() may run on any number of threads; load_snapshot(), replay() and finish_replay()
// run only while the engine opens, before it is shared, on one thread (replay() applies full batches
// on a thread of its own, joined before finish_replay() returns). Not copyable or movable.
class Applier final : public DataDirHost {
 public:
  Applier(Store& store, CacheTier& tier) noexcept : store_(store), tier_(tier) {}
  // Waits for a batch still being applied (an open that failed part-way through the log).
  ~Applier() { stop_applying(); }
  Applier(const Applier&) = delete;
  Applier& operator=(const Applier&) = delete;

  // Applies `mutation`. *found (if given) tells whether the key was present: for kExpire and kPersist
  // a missing or expired key is left alone, and for kErase nothing was removed. For a conditional put
  // or erase (make, admit), *found tells whether it wrote. ResourceExhausted when
  // memory runs out: the store is then unchanged (a kPut's record has been released).
  Status apply(const Mutation& mutation, bool* found = nullptr);

  // DataDirHost: recovery and checkpoints.
  Status load_snapshot(SnapshotReader& reader, const std::string& name, std::uint64_t* entries) override;
  // Replayed operations are taken into a ReplayBatch. A full one is sorted, then applied on a thread
  // of its own while the log's next operations fill another (reading, checking and decoding the log
  // and sorting a batch overlap folding and loading the one before; one batch is applied at a time,
  // in log order); before a clear and at finish_replay(), the batch being applied is waited for and
  // the one filling is applied here. An error applying a batch is returned by the replay() or
  // finish_replay() that next waits for it.
  Status replay(const LogOp& op) override;
  Status finish_replay() override;
  Status write_snapshot(SnapshotWriter& writer) override;

  // The highest record seq loaded from the snapshot or replayed from the log.
  std::uint64_t max_seq() const noexcept { return max_seq_; }

 private:
  // Sorts `batch` (ReplayBatch::sort); ResourceExhausted when memory runs out.
  Status sort_replayed(ReplayBatch& batch);
  // Applies `batch` and empties it (see applier.cpp for why the result is the log's). REQUIRES: `batch`
  // sorted since its last add().
  Status apply_replayed(ReplayBatch& batch);
  // Waits for the batch being applied, if any, and returns how its apply went.
  Status wait_applied();
  // Waits for the batch being applied, then sorts and applies filling_ on this thread.
  Status apply_all_replayed();
  // Sorts filling_, waits for the batch being applied, then hands filling_ to the applying thread
  // (started on the first hand-off; applied here when no thread can be started) and takes the other
  // batch to fill.
  Status hand_off();
  // The applying thread's loop: applies each batch handed to it, until stop_applying().
  void apply_handed_off();
  // Waits for the batch being applied, then ends the applying thread.
  void stop_applying() noexcept;

  Store& store_;
  CacheTier& tier_;
  std::uint64_t max_seq_ = 0;  // written only while the engine opens
  // From the first replay() to finish_replay(): the batch taking operations, and the one handed to
  // applying_thread_. One thread for the whole replay, so that its allocations reuse the memory the
  // batch before freed.
  std::unique_ptr<ReplayBatch> filling_;
  std::unique_ptr<ReplayBatch> applying_;
  std::thread applying_thread_;
  std::mutex handoff_mutex_;
  std::condition_variable handoff_;
  bool handed_off_ = false;      // applying_ waits for, or is being applied by, the thread; under handoff_mutex_
  bool stop_applying_ = false;   // under handoff_mutex_
  Status applying_status_;       // the first error applying a handed-off batch; under handoff_mutex_
};

}  // namespace mantis::detail
