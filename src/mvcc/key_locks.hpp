// KeyLocks: striped reader-writer locks by key, which make a durable engine's conditional writes atomic
// against every other write of their key, keep a durable engine's writes of one key in log order, and
// order every write while snapshots are alive (versioning.hpp).
//
// Why a durable engine needs them. A conditional write (put if absent, compare-and-set, increment...)
// must decide against the key's state and log what it decided: the log holds plain puts and erases, so
// that recovery, whose clock is later and which has no reaper history, replays exactly what readers
// saw. So the decision is taken before logging, and nothing else may change the key between the
// decision and the apply. Every other logged write of the key holds its stripe from before it is logged
// until it is applied; a conditional write holds it exclusive from before its decision until it is
// applied. And recovery replays in LSN order, so two writes of a key must reach the store in LSN order:
// the group-commit log applies every write in LSN order itself, the mapped log applies each on its
// writer's thread (write_ahead_log.hpp W3), and then plain writes hold their stripes exclusive too
// (K5). A memory-only engine needs none of this: its conditional writes are one CAS on the key's node
// (Store::put_if, Store::erase_if).
//
// Invariants:
// K1. A thread acquires the stripes it holds together in ascending stripe order (Shared or Exclusive for
//     one key; SharedSet / ExclusiveSet for batches, transactions and clear) and never acquires more
//     while it holds some: no cycle of waits can form.
// K2. No lock is taken while a lock holder waits for the log: the log's leader (group commit) and its
//     rotation (a checkpoint, which waits for writes to be applied) never acquire a stripe, so a
//     holder's write is always applied and its stripe released.
// K3. A waiting exclusive locker stops new shared lockers of its stripe (writer preference), so a
//     conditional write on a hot key is not starved by plain writes.
//
// K4. A read that finds a key's record expired waits while the key's stripe has an exclusive holder or
//     waiter other than the reading thread (wait_for(), the store's E1): that holder may have decided
//     from the record while it was live and not yet published. A holder never waits for such a read,
//     which holds no lock, so K1's order still rules out cycles.
//
// K5. A plain logged write holds its key's stripe shared when the log applies writes in LSN order, and
//     exclusive when it does not (Exclusive; ExclusiveSet for batches and clear): then one write of a
//     stripe is between its LSN and its apply at a time, so a key's writes apply in LSN order. A read
//     that meets an expired record of such a stripe waits for that write too (K4): microseconds, or
//     one fdatasync for a write that syncs.
//
// Waiting spins briefly, then sleeps on the stripe's word as a futex (lock holders may wait for an
// fdatasync), having set kSleepers in it first; an unlock that ends a wait makes the wake-up system call
// only when kSleepers is set, so an uncontended unlock makes none.
#pragma once

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "store/deciding_writers.hpp"
#include "util/cpu_relax.hpp"
#include "util/futex.hpp"
#include "util/hash.hpp"
#include "util/spin_mutex.hpp"
#include "util/stress_sizes.hpp"

namespace mantis::detail {

// Thread-safe. Not copyable or movable (guards refer to it).
class KeyLocks final : public DecidingWriters {
 public:
  static constexpr std::size_t kStripes = stress_size<std::size_t>(1024, 8);

  KeyLocks() : stripes_(std::make_unique<Stripe[]>(kStripes)) {}
  KeyLocks(const KeyLocks&) = delete;
  KeyLocks& operator=(const KeyLocks&) = delete;

  static std::size_t stripe_of(std::string_view key) noexcept {
    // The hash's top bits: the cache tier's write windows take theirs from the low ones.
    return static_cast<std::size_t>(hash_key(key) >> 32) % kStripes;
  }

  // Holds one stripe shared (a plain write of one key).
  class Shared {
   public:
    Shared(KeyLocks& locks, std::string_view key) : locks_(locks), stripe_(stripe_of(key)) {
      locks_.lock_shared(stripe_);
    }
    ~Shared() { locks_.unlock_shared(stripe_); }
    Shared(const Shared&) = delete;
    Shared& operator=(const Shared&) = delete;

   private:
    KeyLocks& locks_;
    const std::size_t stripe_;
  };

  // Holds one stripe exclusive (a plain write of one key under K5).
  class Exclusive {
   public:
    Exclusive(KeyLocks& locks, std::string_view key) : locks_(locks), stripe_(stripe_of(key)) {
      locks_.lock_exclusive(stripe_);
      assert(held_.locks == nullptr);  // K1: one set at a time
      held_ = Held{&locks_, &stripe_, &stripe_ + 1};
    }
    ~Exclusive() {
      held_ = Held{nullptr, nullptr, nullptr};
      locks_.unlock_exclusive(stripe_);
    }
    Exclusive(const Exclusive&) = delete;
    Exclusive& operator=(const Exclusive&) = delete;

   private:
    KeyLocks& locks_;
    const std::size_t stripe_;
  };

  // Holds a set of stripes shared (a batch's keys), acquired in ascending order (K1).
  class SharedSet {
   public:
    SharedSet(KeyLocks& locks, std::vector<std::size_t> stripes) : locks_(locks), stripes_(std::move(stripes)) {
      std::sort(stripes_.begin(), stripes_.end());
      stripes_.erase(std::unique(stripes_.begin(), stripes_.end()), stripes_.end());
      for (const std::size_t stripe : stripes_) locks_.lock_shared(stripe);
    }
    ~SharedSet() {
      for (const std::size_t stripe : stripes_) locks_.unlock_shared(stripe);
    }
    SharedSet(const SharedSet&) = delete;
    SharedSet& operator=(const SharedSet&) = delete;

   private:
    KeyLocks& locks_;
    std::vector<std::size_t> stripes_;
  };

  // Holds a set of stripes exclusive, acquired in ascending order (K1).
  class ExclusiveSet {
   public:
    ExclusiveSet(KeyLocks& locks, std::vector<std::size_t> stripes) : locks_(locks), stripes_(std::move(stripes)) {
      std::sort(stripes_.begin(), stripes_.end());
      stripes_.erase(std::unique(stripes_.begin(), stripes_.end()), stripes_.end());
      for (const std::size_t stripe : stripes_) locks_.lock_exclusive(stripe);
      assert(held_.locks == nullptr);  // K1: one set at a time
      held_ = Held{&locks_, stripes_.data(), stripes_.data() + stripes_.size()};
    }
    // Every stripe (clear), for an ExclusiveSet or a SharedSet.
    static std::vector<std::size_t> all() {
      std::vector<std::size_t> stripes(kStripes);
      for (std::size_t stripe = 0; stripe < kStripes; ++stripe) stripes[stripe] = stripe;
      return stripes;
    }
    ~ExclusiveSet() {
      held_ = Held{nullptr, nullptr, nullptr};
      for (const std::size_t stripe : stripes_) locks_.unlock_exclusive(stripe);
    }
    ExclusiveSet(const ExclusiveSet&) = delete;
    ExclusiveSet& operator=(const ExclusiveSet&) = delete;

   private:
    KeyLocks& locks_;
    std::vector<std::size_t> stripes_;
  };

  // K4 (DecidingWriters): waits while another thread holds or waits for key's stripe exclusive.
  bool wait_for(std::string_view key) const noexcept override {
    const std::size_t stripe = stripe_of(key);
    if (held_.locks == this && std::binary_search(held_.first, held_.last, stripe)) {
      return false;  // the caller is the deciding writer, reading its own key
    }
    std::atomic<std::uint32_t>& word = stripes_[stripe].word;
    // seq_cst: this load follows the caller's clock reading; lock_exclusive's fence orders the holder's
    // later clock reading after its claim, so a claim this load misses reads a time no earlier.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    std::uint32_t seen = word.load(std::memory_order_acquire);
    if ((seen & kWriter) == 0) return false;
    do {
      wait_while(word, seen);
      seen = word.load(std::memory_order_acquire);  // acquire: the holder's writes are visible after
    } while ((seen & kWriter) != 0);
    return true;
  }

 private:
  // The stripes the calling thread holds exclusive, and whose they are (K1: one set at a time).
  struct Held {
    const KeyLocks* locks;     // nullptr: none
    const std::size_t* first;  // the stripes, ascending
    const std::size_t* last;
  };
  static inline thread_local Held held_;

  // A stripe word: kWriter when an exclusive locker holds or waits for it, kSleepers when a thread may
  // sleep on the word (set before sleeping; cleared by the exclusive unlock, which wakes everyone), plus
  // one per shared holder (kReaders). The wake-ups: every wait is either for kWriter to clear (shared
  // lockers, exclusive lockers behind another, K4 readers), which only unlock_exclusive() does, or for
  // the shared holders to leave (a claimed exclusive locker), which the last unlock_shared() ends; each
  // wakes all sleepers if kSleepers is set. A sleeper sleeps only while the word still holds the value
  // it saw with kSleepers in it, so an unlock that changed the word first, without seeing the bit, left
  // it nothing to wait for.
  static constexpr std::uint32_t kWriter = std::uint32_t{1} << 31;
  static constexpr std::uint32_t kSleepers = std::uint32_t{1} << 30;
  static constexpr std::uint32_t kReaders = kSleepers - 1;
  struct alignas(64) Stripe {
    std::atomic<std::uint32_t> word{0};
  };

  // Waits until `word` may no longer hold `seen` (callers re-read it): spins first (a holder's write
  // takes microseconds, less than a futex sleep and wake-up), then sets kSleepers and sleeps.
  static void wait_while(std::atomic<std::uint32_t>& word, std::uint32_t seen) noexcept {
    for (int spin = 0; spin < SpinMutex::kSpins; ++spin) {
      if (word.load(std::memory_order_relaxed) != seen) return;
      cpu_relax();
    }
    if ((seen & kSleepers) == 0) {
      if (!word.compare_exchange_strong(seen, seen | kSleepers, std::memory_order_relaxed)) return;  // changed
      seen |= kSleepers;
    }
    futex_wait(word, seen);
  }

  void lock_shared(std::size_t stripe) noexcept {
    std::atomic<std::uint32_t>& word = stripes_[stripe].word;
    while (true) {
      // acquire: pairs with unlock_exclusive()'s release, so this write follows the exclusive one's.
      std::uint32_t seen = word.load(std::memory_order_acquire);
      if ((seen & kWriter) == 0) {
        if (word.compare_exchange_weak(seen, seen + 1, std::memory_order_acquire, std::memory_order_relaxed)) return;
        continue;
      }
      wait_while(word, seen);  // K3: wait while a writer holds or waits
    }
  }
  void unlock_shared(std::size_t stripe) noexcept {
    std::atomic<std::uint32_t>& word = stripes_[stripe].word;
    // release: this write's effects precede an exclusive locker's decision.
    const std::uint32_t after = word.fetch_sub(1, std::memory_order_release) - 1;
    if (after == (kWriter | kSleepers)) futex_wake_all(word);  // the last reader out wakes the writer
  }
  void lock_exclusive(std::size_t stripe) noexcept {
    std::atomic<std::uint32_t>& word = stripes_[stripe].word;
    // Claim the writer bit (one writer at a time), then wait for the readers inside to leave.
    while (true) {
      std::uint32_t seen = word.load(std::memory_order_relaxed);
      if ((seen & kWriter) == 0) {
        if (word.compare_exchange_weak(seen, seen | kWriter, std::memory_order_acquire, std::memory_order_relaxed)) {
          break;
        }
        continue;
      }
      wait_while(word, seen);
    }
    for (std::uint32_t seen = word.load(std::memory_order_acquire); (seen & kReaders) != 0;
         seen = word.load(std::memory_order_acquire)) {
      wait_while(word, seen);
    }
    std::atomic_thread_fence(std::memory_order_seq_cst);  // K4: the holder's clock readings follow its claim
  }
  void unlock_exclusive(std::size_t stripe) noexcept {
    std::atomic<std::uint32_t>& word = stripes_[stripe].word;
    if ((word.fetch_and(~(kWriter | kSleepers), std::memory_order_release) & kSleepers) != 0) futex_wake_all(word);
  }

  std::unique_ptr<Stripe[]> stripes_;
};

}  // namespace mantis::detail
