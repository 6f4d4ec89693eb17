#include "util/rcu.hpp"

#include <pthread.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <new>
#include <thread>

#include "util/memory.hpp"

namespace mantis::detail {
namespace rcu_internal {

std::atomic<std::uint64_t> global_epoch{1};

namespace {

// While work is pending, the reclaimer runs a pass this often: each pass can advance the epoch once,
// so a bag is freed two to three passes after it was pushed.
constexpr auto kPassInterval = std::chrono::microseconds(500);
// With nothing pending, the reclaimer sleeps until a bag arrives, or this long.
constexpr auto kIdleWait = std::chrono::milliseconds(100);
// Objects pending (G2) beyond which a writer pushing a bag runs a pass itself: ~10 MiB of 150-byte
// records.
constexpr std::uint64_t kHelpThreshold = stress_size<std::uint64_t>(64 * 1024, 256);

Bag* new_bag() noexcept {
  void* memory = allocate(sizeof(Bag));
  return memory == nullptr ? nullptr : new (memory) Bag;
}

// The process's epoch domain: registered slots, pushed bags, and the reclamation passes.
class Domain {
 public:
  static Domain& instance() {
    // Never destroyed (G4): a pass must not run during static destruction, and pending objects stay
    // reachable from here.
    static Domain* domain = new Domain;
    return *domain;
  }

  Slot* acquire_slot() {
    for (Slot* slot = slots_.load(std::memory_order_acquire); slot != nullptr; slot = slot->next) {
      bool free = false;
      if (!slot->in_use.load(std::memory_order_relaxed) &&
          slot->in_use.compare_exchange_strong(free, true, std::memory_order_acquire)) {
        return slot;
      }
    }
    auto* slot = new Slot;  // throws std::bad_alloc: a thread that cannot register cannot proceed
    slot->bag = new_bag();
    if (slot->bag == nullptr) {
      delete slot;
      throw std::bad_alloc();
    }
    slot->in_use.store(true, std::memory_order_relaxed);
    Slot* head = slots_.load(std::memory_order_relaxed);
    do {
      slot->next = head;
    } while (!slots_.compare_exchange_weak(head, slot, std::memory_order_release, std::memory_order_relaxed));
    return slot;
  }

  // The owning thread exits: its bag goes to the reclaimer, its slot to a later thread.
  void release_slot(Slot* slot) {
    if (slot->bag != nullptr && slot->bag->count > 0) flush(slot);
    slot->in_use.store(false, std::memory_order_release);
  }

  // Pushes the slot's full bag, takes an empty one and retires `p` into it (G1).
  void retire_slow(Slot* slot, void* p, void (*dispose)(void*) noexcept) {
    if (slot->bag != nullptr) {
      push(slot->bag);
      slot->bag = nullptr;
    }
    slot->bag = new_bag();
    if (slot->bag != nullptr) {
      slot->bag->items[slot->bag->count++] = {p, dispose};
      return;
    }
    if (slot->nesting > 0) return;                        // cannot wait for our own section: p is never freed (G1)
    std::atomic_thread_fence(std::memory_order_seq_cst);  // as in push(): a seal
    const std::uint64_t sealed = global_epoch.load(std::memory_order_relaxed);
    // acquire: pairs with try_advance()'s store (seq_cst, so a release), which followed its acquire
    // loads of the slots.
    while (global_epoch.load(std::memory_order_acquire) < sealed + 2) {
      if (stopped_.load(std::memory_order_relaxed)) return;  // process exit: p stays (G4)
      try_pass();
      std::this_thread::yield();
    }
    dispose(p);
  }

  // Seals `bag` with the current epoch and hands it to the reclaimer (G1: one CAS, no wait).
  void push(Bag* bag) {
    // Orders the unlinking of the bag's objects before the epoch read: the seal is never older than
    // the epoch at which they became unreachable.
    std::atomic_thread_fence(std::memory_order_seq_cst);
    bag->epoch = global_epoch.load(std::memory_order_relaxed);
    const std::uint64_t pending =
        retired_.fetch_add(bag->count, std::memory_order_relaxed) + bag->count - freed_.load(std::memory_order_relaxed);
    Bag* head = incoming_.load(std::memory_order_relaxed);
    do {
      bag->next = head;
    } while (!incoming_.compare_exchange_weak(head, bag, std::memory_order_release, std::memory_order_relaxed));
    if (pending > kHelpThreshold) {
      try_pass();  // G2: help, never wait
    } else if (reclaimer_idle_.load(std::memory_order_relaxed)) {
      wake_.notify_one();
    }
  }

  // Hands the slot's partial bag over.
  void flush(Slot* slot) {
    push(slot->bag);
    slot->bag = new_bag();
  }

  std::uint64_t pending() const {
    return retired_.load(std::memory_order_relaxed) - freed_.load(std::memory_order_relaxed);
  }

  void start_reclaimer() {
    std::call_once(registered_, [] {
      std::atexit([] { instance().stop(); });
      pthread_atfork([] { instance().before_fork(); }, [] { instance().after_fork_in_parent(); },
                     [] { instance().after_fork_in_child(); });
    });
    if (reclaimer_running_.load(std::memory_order_acquire)) return;
    std::lock_guard lock(wake_mutex_);
    if (reclaimer_running_.load(std::memory_order_relaxed)) return;
    std::thread([this] { reclaimer_loop(); }).detach();
    reclaimer_running_.store(true, std::memory_order_release);
  }

 private:
  Domain() = default;

  // A pass, unless one is running already. Returns whether it ran.
  bool try_pass() {
    if (collecting_.exchange(true, std::memory_order_acquire)) return false;
    if (!stopped_.load(std::memory_order_relaxed)) pass();
    collecting_.store(false, std::memory_order_release);
    return true;
  }

  // One reclamation pass (REQUIRES: collecting_ held): take the pushed bags, try to advance the epoch,
  // free every bag whose grace period is over.
  void pass() {
    // acquire: pairs with push()'s release CAS, so the bags' contents are visible.
    for (Bag* bag = incoming_.exchange(nullptr, std::memory_order_acquire); bag != nullptr;) {
      Bag* next = bag->next;
      bag->next = sealed_;
      sealed_ = bag;
      bag = next;
    }
    const std::uint64_t epoch = try_advance();
    Bag** link = &sealed_;
    std::uint64_t freed = 0;
    while (Bag* bag = *link) {
      if (bag->epoch + 2 > epoch) {
        link = &bag->next;
        continue;
      }
      *link = bag->next;
      freed += bag->count;
      dispose_all(*bag);
      bag->~Bag();
      deallocate(bag);
    }
    freed_.fetch_add(freed, std::memory_order_relaxed);
  }

  static void dispose_all(Bag& bag) noexcept {
    for (std::uint32_t i = 0; i < bag.count; ++i) bag.items[i].dispose(bag.items[i].object);
  }

  // Advances the global epoch if every thread inside a critical section entered it at the current
  // epoch. Returns the epoch now current. Only a pass (one at a time) writes the global epoch.
  std::uint64_t try_advance() {
    const std::uint64_t epoch = global_epoch.load(std::memory_order_relaxed);
    // Pairs with RcuReadLock's seq_cst exchange: a reader whose announcement this pass misses entered
    // after the fence, so it loads only pointers that were reachable then (not the pushed bags').
    std::atomic_thread_fence(std::memory_order_seq_cst);
    for (Slot* slot = slots_.load(std::memory_order_acquire); slot != nullptr; slot = slot->next) {
      // acquire: a reader's release (leaving) or seq_cst exchange (entering again) orders its earlier
      // reads before whatever this pass frees.
      const std::uint64_t state = slot->state.load(std::memory_order_acquire);
      if ((state & 1) != 0 && (state >> 1) != epoch) return epoch;
    }
    global_epoch.store(epoch + 1, std::memory_order_seq_cst);  // seq_cst: RcuReadLock's second load (G5)
    return epoch + 1;
  }

  void reclaimer_loop() {
    while (true) {
      if (pending() == 0) {
        std::unique_lock lock(wake_mutex_);
        reclaimer_idle_.store(true, std::memory_order_relaxed);
        wake_.wait_for(lock, kIdleWait, [this] { return incoming_.load(std::memory_order_relaxed) != nullptr; });
        reclaimer_idle_.store(false, std::memory_order_relaxed);
      }
      try_pass();
      std::this_thread::sleep_for(kPassInterval);
    }
  }

  // fork(): no pass may be running (the child would inherit a held collecting_), and the child has
  // only the forking thread. Its copy of every other thread's slot is released (those threads do not
  // exist there; what their bags held is left alone). The child starts its own reclaimer when it next
  // makes a store (rcu_init_process()); until then writers' help passes (G2) reclaim.
  void before_fork() {
    while (collecting_.exchange(true, std::memory_order_acquire)) std::this_thread::yield();
  }
  void after_fork_in_parent() { collecting_.store(false, std::memory_order_release); }
  void after_fork_in_child() {
    for (Slot* slot = slots_.load(std::memory_order_relaxed); slot != nullptr; slot = slot->next) {
      if (slot == current_slot) continue;
      slot->state.store(0, std::memory_order_relaxed);
      slot->nesting = 0;
      slot->bag = nullptr;
      slot->in_use.store(false, std::memory_order_relaxed);
    }
    new (&wake_mutex_) std::mutex;
    new (&wake_) std::condition_variable;
    reclaimer_running_.store(false, std::memory_order_relaxed);
    reclaimer_idle_.store(false, std::memory_order_relaxed);
    collecting_.store(false, std::memory_order_release);
  }

  // At process exit: wait for a running pass, then never run one again (G4).
  void stop() {
    while (collecting_.exchange(true, std::memory_order_acquire)) std::this_thread::yield();
    stopped_.store(true, std::memory_order_relaxed);
    collecting_.store(false, std::memory_order_release);
  }

  std::atomic<Slot*> slots_{nullptr};
  std::atomic<Bag*> incoming_{nullptr};
  std::atomic<std::uint64_t> retired_{0};
  std::atomic<std::uint64_t> freed_{0};
  std::atomic<bool> collecting_{false};  // a pass is running; guards sealed_
  std::atomic<bool> stopped_{false};     // set at process exit: no pass runs after it
  Bag* sealed_ = nullptr;                // bags awaiting their grace period

  std::once_flag registered_;  // the exit and fork handlers
  std::atomic<bool> reclaimer_running_{false};
  std::mutex wake_mutex_;
  std::condition_variable wake_;
  std::atomic<bool> reclaimer_idle_{false};
};

// Releases the thread's slot when the thread exits.
struct SlotOwner {
  Slot* slot = nullptr;
  ~SlotOwner() {
    Domain::instance().release_slot(slot);
    current_slot = nullptr;
  }
};

}  // namespace

Slot* register_thread() {
  rcu_init_process();
  Slot* slot = Domain::instance().acquire_slot();
  thread_local SlotOwner owner;
  // A thread that retires again while its thread-locals are destroyed, after SlotOwner, keeps its
  // second slot (and that slot's last bag) for good: a bounded leak at thread exit, never a race.
  if (owner.slot == nullptr) owner.slot = slot;
  current_slot = slot;
  return slot;
}

void retire_slow(Slot* slot, void* p, void (*dispose)(void*) noexcept) {
  Domain::instance().retire_slow(slot, p, dispose);
}

}  // namespace rcu_internal

void rcu_init_process() { rcu_internal::Domain::instance().start_reclaimer(); }

void rcu_flush_thread() {
  rcu_internal::Slot* slot = rcu_internal::this_thread_slot();
  if (slot->bag != nullptr && slot->bag->count > 0) rcu_internal::Domain::instance().flush(slot);
}

void rcu_synchronize() {
  assert(rcu_internal::this_thread_slot()->nesting == 0);
  // An object retired now is disposed of only after every section that could have seen it has ended:
  // exactly the sections that have begun by now. Its disposal is the signal. Two owners (the waiter
  // and the disposal), so neither frees it while the other still touches it.
  struct Marker {
    std::atomic<bool> done{false};
    std::atomic<int> owners{2};
    static void release(Marker* m) noexcept {
      if (m->owners.fetch_sub(1, std::memory_order_acq_rel) == 1) delete m;
    }
    static void signal(void* marker) noexcept {
      auto* m = static_cast<Marker*>(marker);
      m->done.store(true, std::memory_order_release);
      m->done.notify_all();
      release(m);
    }
  };
  auto* marker = new Marker;
  rcu_retire(marker, &Marker::signal);
  rcu_flush_thread();
  while (!marker->done.load(std::memory_order_acquire)) marker->done.wait(false, std::memory_order_acquire);
  Marker::release(marker);
}

std::uint64_t rcu_pending() { return rcu_internal::Domain::instance().pending(); }

}  // namespace mantis::detail
