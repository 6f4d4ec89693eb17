// Safe memory reclamation for mantis's lock-free structures: epoch-based RCU whose grace periods run
// on a background reclaimer thread, never on a writer's.
//
// Readers wrap each operation in one RcuReadLock (one per operation, not per node visited). An object
// unlinked from a shared structure is handed to rcu_retire(); it is freed only after every read-side
// critical section that could still see it has ended.
//
// How (in the manner of crossbeam-epoch and Fraser's epoch-based reclamation):
// - A global epoch counter. Each thread has a slot that says "outside", or "inside a critical section
//   that began at epoch e". Entering is one atomic exchange on the thread's own slot; leaving is one
//   release store. Readers never wait and write no shared memory but their own slot.
// - rcu_retire() appends to the calling thread's bag (no atomic operation). A full bag (kBagCapacity
//   objects) is sealed with the current epoch and pushed onto a lock-free list with one CAS.
// - The reclaimer thread collects pushed bags, advances the epoch when every thread inside a critical
//   section has announced the current one, and frees a bag sealed at epoch e once the epoch is e + 2:
//   by then every critical section that began before the bag's objects were unlinked has ended.
//
// Guarantees:
// G1. No writer waits for a reader or for a grace period: rcu_retire() never blocks, except when
//     memory for a new bag is exhausted outside any critical section: then it waits for a grace period
//     and frees the object itself. (Inside a critical section it cannot wait for itself: the object
//     is then never freed, a leak bounded by the retirements made while memory is exhausted.)
// G2. Bound on memory awaiting reclamation: while readers progress, a few reclaimer passes' worth of
//     retirements (a pass runs every kPassInterval while work is pending) plus at most one partial bag
//     per thread. Past kHelpThreshold objects pending, a writer that pushes a bag also runs a
//     reclamation pass itself, unless one is already running (it never waits for it). A reader that
//     stays inside a critical section holds back every object retired since it entered, however many:
//     they are freed within a few passes of its leaving.
// G3. A thread's partial bag is handed over when the thread exits, or by rcu_flush_thread().
// G4. Objects pending when the process exits are not freed (they stay reachable: no leak report).
// G5. While a critical section that announced epoch p lasts, the global epoch is p or p + 1. Entering
//     announces the epoch it loaded, then loads it again (seq_cst, as a pass stores it) and announces
//     again until the two agree: a pass that advances past p + 1 must first advance to p + 1 and then
//     read every slot, which (by the seq_cst order of that store, the announcement and the second
//     load) sees this section's announcement. Without the second load, a thread that loaded a stale
//     epoch could announce p while a pass that had not yet seen the announcement advanced to p + 2 and
//     freed what was retired at p: harmless for pointers loaded inside the section (they were
//     reachable after it began), not for a pointer kept from an earlier section (Store's finger).
//
// Rules:
// - Any thread may use these helpers: the first use registers the thread (its slot is reused by a
//   later thread once it exits).
// - rcu_retire() may be called inside a critical section (the object waits for that section too).
// - The epoch domain and its reclaimer thread are process-wide and are never torn down.
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>

#include "util/stress_sizes.hpp"

namespace mantis::detail {

namespace rcu_internal {

struct Retired {
  void* object;
  void (*dispose)(void*) noexcept;
};

inline constexpr std::size_t kBagCapacity = stress_size<std::size_t>(126, 4);

// Objects retired by one thread, freed together.
struct Bag {
  Bag* next = nullptr;
  std::uint64_t epoch = 0;  // the global epoch when the bag was sealed
  std::uint32_t count = 0;
  Retired items[kBagCapacity];
};

// One registered thread. Slots are never freed: an exited thread's slot is reused by a later one.
struct alignas(64) Slot {
  // 0 outside a critical section; (epoch << 1) | 1 inside one that began at `epoch`. Written only by
  // the owning thread; read by reclamation passes.
  std::atomic<std::uint64_t> state{0};
  std::atomic<bool> in_use{false};
  Slot* next = nullptr;  // the registry's list; immutable once the slot is published
  // Owned by the thread that holds the slot.
  std::uint32_t nesting = 0;
  Bag* bag = nullptr;  // nullptr when memory for one was exhausted
};

extern std::atomic<std::uint64_t> global_epoch;
// The calling thread's slot; nullptr until registered, and again once released at thread exit.
inline constinit thread_local Slot* current_slot = nullptr;

// Registers the calling thread: sets and returns current_slot.
Slot* register_thread();
inline Slot* this_thread_slot() {
  Slot* slot = current_slot;
  if (slot == nullptr) [[unlikely]]
    slot = register_thread();
  return slot;
}

// Retires `p` when the thread's bag is full or missing: pushes the full bag and takes a new one (see
// G1 for when memory is exhausted).
void retire_slow(Slot* slot, void* p, void (*dispose)(void*) noexcept);

}  // namespace rcu_internal

// Starts the reclaimer if it is not running (once per process, and again in a forked child).
// Thread-safe; one atomic load once it runs.
void rcu_init_process();

// A read-side critical section. Nests. Never blocks.
class RcuReadLock {
 public:
  RcuReadLock() : slot_(rcu_internal::this_thread_slot()) {
    if (slot_->nesting++ == 0) {
      std::uint64_t epoch = rcu_internal::global_epoch.load(std::memory_order_relaxed);
      for (;;) {
        // seq_cst exchange: the announcement is visible to a reclamation pass before any shared
        // pointer this section loads (the store-load order a plain store would not give).
        slot_->state.exchange((epoch << 1) | 1, std::memory_order_seq_cst);
        const std::uint64_t now = rcu_internal::global_epoch.load(std::memory_order_seq_cst);  // G5
        if (now == epoch) break;
        epoch = now;
      }
    }
  }
  // release: everything this section read happens before a pass that sees the slot empty.
  ~RcuReadLock() {
    if (--slot_->nesting == 0) slot_->state.store(0, std::memory_order_release);
  }
  RcuReadLock(const RcuReadLock&) = delete;
  RcuReadLock& operator=(const RcuReadLock&) = delete;

 private:
  rcu_internal::Slot* slot_;
};

// Whether the calling thread is inside a critical section (so it must not wait for a grace period).
inline bool rcu_in_critical_section() noexcept {
  const rcu_internal::Slot* slot = rcu_internal::current_slot;
  return slot != nullptr && slot->nesting > 0;
}

// The epoch the calling thread's current critical section announced. Inside a section that announced
// p, an object that was reachable in an earlier section of this thread that also announced p is still
// allocated: it was retired no earlier than epoch p, so it is freed only once the epoch reaches p + 2,
// which G5 rules out while this section lasts. (Store's finger relies on it.) REQUIRES: inside an
// RcuReadLock.
inline std::uint64_t rcu_section_epoch() noexcept {
  assert(rcu_internal::this_thread_slot()->nesting > 0);
  return rcu_internal::this_thread_slot()->state.load(std::memory_order_relaxed) >> 1;
}

// Frees `p` with `dispose(p)` once no reader can hold it.
inline void rcu_retire(void* p, void (*dispose)(void*) noexcept) {
  rcu_internal::Slot* slot = rcu_internal::this_thread_slot();
  rcu_internal::Bag* bag = slot->bag;
  if (bag == nullptr || bag->count == rcu_internal::kBagCapacity) [[unlikely]] {
    rcu_internal::retire_slow(slot, p, dispose);
    return;
  }
  bag->items[bag->count++] = {p, dispose};
}

// Hands the calling thread's partial bag to the reclaimer (G3).
void rcu_flush_thread();
// Waits for a grace period: returns once every critical section that had begun when it was called has
// ended (a few reclaimer passes, about a millisecond). REQUIRES: outside any critical section (it would
// wait for itself), and holding no lock that a thread inside a critical section may wait for.
void rcu_synchronize();

// Objects retired (in bags handed over) and not freed yet. For tests and stats.
std::uint64_t rcu_pending();

}  // namespace mantis::detail
