// SpinMutex: a mutex for critical sections of a few hundred nanoseconds that threads enter very often
// (Versioning's live snapshots: every snapshot and transaction enters twice). A waiter spins briefly
// before it sleeps, so two threads taking turns do not pay a futex sleep and wake-up each time, as
// with std::mutex; a holder that was preempted still costs its waiters only the spin, then a sleep.
//
// States (a futex word, util/futex.hpp): 0 free, 1 held, 2 held with sleepers. A thread that ever slept
// takes the lock as 2, so that its unlock wakes the next sleeper.
// Meets Lockable (std::lock_guard, std::unique_lock with try_to_lock). Not recursive.
#pragma once

#include <atomic>
#include <cstdint>

#include "util/cpu_relax.hpp"
#include "util/futex.hpp"

namespace mantis::detail {

class SpinMutex {
 public:
  // Tries before sleeping: about a microsecond, longer than a critical section it is meant for.
  static constexpr int kSpins = 256;

  SpinMutex() = default;
  SpinMutex(const SpinMutex&) = delete;
  SpinMutex& operator=(const SpinMutex&) = delete;

  void lock() noexcept {
    for (int spin = 0; spin < kSpins; ++spin) {
      if (state_.load(std::memory_order_relaxed) == 0 && try_lock()) return;
      cpu_relax();
    }
    // Sleep until free, taking it as "held with sleepers": others may still be waiting.
    while (state_.exchange(2, std::memory_order_acquire) != 0) futex_wait(state_, 2);
  }
  bool try_lock() noexcept {
    std::uint32_t expected = 0;
    return state_.compare_exchange_strong(expected, 1, std::memory_order_acquire, std::memory_order_relaxed);
  }
  void unlock() noexcept {
    if (state_.exchange(0, std::memory_order_release) == 2) futex_wake(state_, 1);
  }

 private:
  std::atomic<std::uint32_t> state_{0};
};

}  // namespace mantis::detail
