// Versioning: an engine's sequence numbers, its live snapshots and the history that serves them.
//
// Every write takes sequence numbers from one counter (its records' versions). With no snapshot alive
// the engine writes as it always has: lock-free, with no history, the version only unique. The first
// snapshot turns the *versioned mode* on; while it is on, writes follow V1-V3, which is what lets a
// read at a snapshot see exactly the state at its version (a snapshot's version is v: it sees every
// write with sequence number <= v, and nothing after).
//
// Invariants (the engine's writes, engine.cpp, and the store's pause, store.hpp, keep them):
// V1. In the mode, a write holds its keys' stripes exclusive (KeyLocks::ExclusiveSet) from before it
//     reads the state it decides on until it is applied, and takes its sequence numbers while holding
//     them. So a key's writes take increasing sequence numbers in the order they are applied and logged.
// V2. In the mode, a write holds a claim (Versioning::Claim, one of kClaimSlots slots) from before it
//     takes sequence numbers until it is applied: the slot says kClaiming (seq_cst) before the numbers
//     are taken, then the write's first number. A new snapshot loads the counter (seq_cst) and then
//     waits until no slot is kClaiming or at most its version: a write whose number the snapshot's
//     version covers had claimed before the counter moved past it (the claim precedes the fetch_add in
//     the single total order), so the wait sees its claim, and returns only once that write is
//     applied. A batch or transaction takes its numbers in one fetch_add, so a snapshot sees all of it
//     or none of it. The wait reads the slots below slots_used_ (which a claim raises past its slot
//     before it says kClaiming, seq_cst, and the snapshot loads after the counter), at most
//     kClaimSlots words whatever the engine holds: a snapshot costs the same at any size and load.
// V3. In the mode, before a write changes a key's state in the store, it adds the state it ends to the
//     History with its sequence number as `until`. A read at a snapshot reads the store first, then the
//     history: if a write after the snapshot changed the key before the store read, its entry was added
//     before that change, so the history read finds it (history.hpp says how a state is chosen).
// V4. The mode turns on before the first snapshot's version is taken, and a grace period separates
//     the two (rcu_synchronize). Every write decides whether it is in the mode inside one RCU critical
//     section that lasts until it is applied, and so does every expired-record removal the store makes
//     on its own (lazy expiry, the reaper), which the store skips while the mode is on
//     (Store::pause_removals). So once the grace period is over, every change to the store follows
//     V1-V3.
// V5. An entry is dropped only when its `until` <= the oldest live snapshot's version (the floor) read
//     after the entry was added, and a new snapshot lowers the floor before it loads the counter: a
//     floor read before the new one was stored precedes the new snapshot's version, and so does every
//     entry added before that read, so what it drops is not needed. History::add reads the floor under
//     its shard's mutex, after every entry it may drop was added; a floor a writer read earlier could
//     drop an entry another writer added since, for a snapshot taken in between.
// V6. An entry whose state began after the newest live snapshot (from > newest) is needed by no live
//     snapshot, nor by any later one (its version will be >= the entry's until): it is not kept. A
//     new snapshot raises `newest` to infinity before it loads the counter, so a writer that read the
//     old value had taken its number first, and the new snapshot's version is past the entry.
//     An absent state has no seq of its own: it began when the key's previous entry ended, so once a
//     key has an entry that ended after `newest`, none of its later states is kept (History::add).
//     So with one long-lived snapshot, each key keeps at most one past state, however often it is
//     erased and written again.
// The mode turns off once no snapshot (nor ModeHold) has been alive for kIdleLinger (by the next
// versioned write, or the reaper's next tick), and the history is cleared: turning it on again costs a
// grace period, so a burst of short snapshots or transactions pays it once.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "mvcc/history.hpp"
#include "store/store.hpp"
#include "util/clock.hpp"
#include "util/memory.hpp"
#include "util/spin_mutex.hpp"

namespace mantis::detail {

// Thread-safe.
class Versioning {
 public:
  static constexpr std::chrono::milliseconds kIdleLinger{1000};

  // A live snapshot: its version and the wall-clock millisecond at which it sees expiry.
  struct Held {
    std::uint64_t version = 0;
    std::uint64_t time_ms = 0;
  };

  Versioning(Store& store, const Clock& clock)
      : store_(store), clock_(clock), claims_(new ClaimSlot[kClaimSlots]), history_(floor_) {}
  Versioning(const Versioning&) = delete;
  Versioning& operator=(const Versioning&) = delete;

  // Sets the next sequence number (after recovery). REQUIRES: before the engine is shared.
  void start_at(std::uint64_t next) noexcept { next_.store(next, std::memory_order_relaxed); }
  // Takes `count` consecutive sequence numbers and returns the first. In the mode, call only while
  // holding a Claim, and set() it to the result (V2).
  std::uint64_t take(std::uint64_t count = 1) noexcept { return next_.fetch_add(count, std::memory_order_seq_cst); }
  // The last sequence number taken.
  std::uint64_t last() const noexcept { return next_.load(std::memory_order_seq_cst) - 1; }

  // Whether writes follow V1-V3. REQUIRES: read inside the RCU critical section that spans the write (V4).
  bool versioned() const noexcept { return versioned_.load(std::memory_order_seq_cst); }

  // A new snapshot at the current version (turning the mode on first when it is off). Waits for the
  // writes in flight below it (V2), and a grace period when it turns the mode on (V4). std::nullopt,
  // changing nothing, when the mode is off and the caller is inside an RCU critical section (a scan's
  // callback), where it cannot wait for the grace period. REQUIRES: holding no stripe. Throws
  // std::bad_alloc.
  std::optional<Held> acquire();
  // Ends the snapshot at `version`. Never blocks on writers.
  void release(std::uint64_t version) noexcept;

  // Keeps the mode on while it lives, without a snapshot (turning it on first when it is off, with
  // V4's grace period): every write that begins meanwhile holds its keys' stripes (V1), so a write that
  // holds every stripe (clear) is atomic against all the others. Holds nothing (holds() false) when
  // the mode is off and the caller is inside an RCU critical section, as acquire(). REQUIRES: holding
  // no stripe. Throws std::bad_alloc.
  class ModeHold {
   public:
    explicit ModeHold(Versioning& versioning);
    ~ModeHold();
    ModeHold(const ModeHold&) = delete;
    ModeHold& operator=(const ModeHold&) = delete;
    bool holds() const noexcept { return holds_; }

   private:
    Versioning& versioning_;
    bool holds_ = false;
  };
  // The newest live snapshot's version (~0 while one is being taken; 0 when none): a past state that
  // began after it need not be kept (V6).
  std::uint64_t newest() const noexcept { return newest_.load(std::memory_order_seq_cst); }
  // Waits until every write that took a sequence number below `bound` has been applied (V2).
  void wait_applied_below(std::uint64_t bound) const noexcept;
  // Turns the mode off when no snapshot has been alive for kIdleLinger. Cheap when it does nothing.
  // Called outside any RCU critical section, it returns once the mode is off and the history dropped
  // (by this caller or another) or a snapshot is alive again; inside one it does nothing when another
  // thread holds the mode's lock.
  void maybe_turn_off() noexcept;

  // A write's claim (V2): holds one slot, kClaiming from construction, the write's first sequence
  // number once set(), free again on destruction (after the write is applied). Waits (yielding) when
  // every slot is held, which takes more than kClaimSlots writes in flight at once.
  class Claim {
   public:
    explicit Claim(Versioning& versioning) noexcept;
    ~Claim() { slot_.store(0, std::memory_order_release); }
    Claim(const Claim&) = delete;
    Claim& operator=(const Claim&) = delete;
    void set(std::uint64_t first) noexcept { slot_.store(first, std::memory_order_seq_cst); }

   private:
    std::atomic<std::uint64_t>& slot_;
  };

  History& history() noexcept { return history_; }
  const History& history() const noexcept { return history_; }
  std::size_t live_snapshots() const noexcept { return live_count_.load(std::memory_order_relaxed); }

 private:
  // A free claim slot, now kClaiming (Claim).
  std::atomic<std::uint64_t>& hold_free_slot() noexcept;
  // Turns the mode on if it is off (V4) and returns true; false, changing nothing, when it is off and
  // the caller is inside an RCU critical section (the grace period would wait for it). REQUIRES:
  // mutex_ held. Throws std::bad_alloc (the mode is as it was).
  bool turn_on();
  // Drops the history, then turns the mode off (writes still in flight in the mode may add to the
  // history; with no snapshot alive, what they add retires at once, and a later turn_on()'s grace
  // period waits for them). REQUIRES: mutex_ held.
  void turn_off() noexcept;
  // Starts the linger before the mode may turn off, once no snapshot or ModeHold is left. REQUIRES:
  // mutex_ held.
  void start_idle_if_unheld() noexcept;
  // floor_, newest_ and live_count_ from live_. REQUIRES: mutex_ held.
  void publish_bounds() noexcept;

  static constexpr std::size_t kClaimSlots = 64;
  static constexpr std::uint64_t kClaiming = ~std::uint64_t{0};  // a slot's "taking numbers now"
  struct alignas(64) ClaimSlot {
    std::atomic<std::uint64_t> value{0};  // 0 when free, kClaiming, or the holder's first number
  };

  // Four cache lines, written by different parties: the counter by every write; the mode, the claim
  // slots' and the history's addresses (read by every write) and slots_used_ almost never; the oldest
  // live version when it changes; the other bounds by snapshots as they begin and end.
  Store& store_;
  const Clock& clock_;
  alignas(64) std::atomic<std::uint64_t> next_{1};
  alignas(64) std::atomic<bool> versioned_{false};
  std::unique_ptr<ClaimSlot[]> claims_;
  std::atomic<std::size_t> slots_used_{0};  // one past the highest claim slot ever held: V2's wait reads those
  History history_;  // refers to floor_, below
  // The oldest live snapshot's version, or ~0 when none: entries with until <= it are not needed (V5).
  // Read by history_ (History::add), under its shard's mutex.
  alignas(64) std::atomic<std::uint64_t> floor_{~std::uint64_t{0}};
  alignas(64) std::atomic<std::uint64_t> newest_{0};
  std::atomic<std::size_t> live_count_{0};
  std::atomic<std::uint64_t> idle_since_ms_{0};  // when the last snapshot (or ModeHold) ended
  SpinMutex mutex_;                              // live_, mode transitions
  // The live snapshots' versions, ascending (with repeats). A new one is never below the last (the
  // counter only grows, and versions are read under mutex_), so it is appended: no allocation once the
  // vector has grown to the most snapshots alive at once, and a release finds its version by binary
  // search.
  std::vector<std::uint64_t, Allocator<std::uint64_t>> live_;
  std::size_t holds_ = 0;  // live ModeHolds; under mutex_
};

}  // namespace mantis::detail
