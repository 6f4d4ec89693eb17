// The wall clock that TTLs are measured against, in unix milliseconds.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace mantis::detail {

// Thread-safe. Implementations must be monotonic enough for TTLs: a clock stepping backwards
// makes expired keys visible again until it catches up.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::uint64_t now_ms() const noexcept = 0;
};

// The system wall clock (TTLs survive restarts because they are absolute unix times).
class SystemClock final : public Clock {
 public:
  std::uint64_t now_ms() const noexcept override {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
            .count());
  }
  static const SystemClock& instance() noexcept {
    static const SystemClock clock;
    return clock;
  }
};

}  // namespace mantis::detail
