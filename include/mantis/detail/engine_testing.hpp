// Test seams of mantis::Engine. No API promise.
#pragma once

#include <memory>

#include <mantis/detail/clock.hpp>
#include <mantis/engine.hpp>

namespace mantis::detail {

struct EngineTesting {
  // Opens an engine whose TTLs are measured against `clock`, which must outlive the engine.
  static Status open(const Options& options, const Clock& clock, std::unique_ptr<Engine>* out) {
    return Engine::open_with_clock(options, clock, out);
  }
};

// A clock that moves only when told to. Thread-safe.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(std::uint64_t start_ms = 1'000'000) : now_(start_ms) {}
  std::uint64_t now_ms() const noexcept override { return now_.load(std::memory_order_relaxed); }
  void advance(std::uint64_t ms) noexcept { now_.fetch_add(ms, std::memory_order_relaxed); }
  void set(std::uint64_t ms) noexcept { now_.store(ms, std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> now_;
};

}  // namespace mantis::detail
