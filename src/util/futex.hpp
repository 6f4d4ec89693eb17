// Futex wait and wake on a 32-bit atomic word, private to the process.
//
// What std::atomic<uint32_t>::wait and notify do on Linux, minus two costs that showed at 40 writer
// threads on 2 cores: libstdc++ 12 spins with sched_yield before it sleeps, and its notify makes the
// futex system call whenever any thread waits on any of the addresses that share one of its 16 waiter
// pools, not only on this word. The locks that use these track their own sleepers, spin on their own
// terms, and call futex_wake only when a sleeper may be there.
#pragma once

#include <atomic>
#include <climits>
#include <cstdint>

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace mantis::detail {

static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t), "a futex word is 32 bits");

// Sleeps while `word` holds `expected`; returns at once if it does not (the kernel compares and sleeps
// atomically against futex_wake), and may return spuriously: callers re-check their condition.
inline void futex_wait(const std::atomic<std::uint32_t>& word, std::uint32_t expected) noexcept {
  static_cast<void>(::syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, expected, nullptr, nullptr, 0));
}

// Wakes up to `count` threads sleeping in futex_wait on `word`.
inline void futex_wake(const std::atomic<std::uint32_t>& word, int count) noexcept {
  static_cast<void>(::syscall(SYS_futex, &word, FUTEX_WAKE_PRIVATE, count, nullptr, nullptr, 0));
}

inline void futex_wake_all(const std::atomic<std::uint32_t>& word) noexcept { futex_wake(word, INT_MAX); }

}  // namespace mantis::detail
