// ManualClock: a TTL clock that moves only when a test tells it to.
#pragma once

#include <atomic>
#include <cstdint>

#include "util/clock.hpp"

namespace mantis::test {

// Thread-safe.
class ManualClock final : public detail::Clock {
 public:
  explicit ManualClock(std::uint64_t start_ms = 1'000'000) : now_(start_ms) {}
  std::uint64_t now_ms() const noexcept override { return now_.load(std::memory_order_relaxed); }
  void advance(std::uint64_t ms) noexcept { now_.fetch_add(ms, std::memory_order_relaxed); }
  void set(std::uint64_t ms) noexcept { now_.store(ms, std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> now_;
};

}  // namespace mantis::test
