// Striped counters: each thread adds to its own cache-line-sized stripe, so no shared cache line
// bounces on every operation; a reader sums the stripes (an approximate snapshot while writers run).
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace mantis::detail {

// The stripe of the calling thread: threads are numbered round-robin on first use.
inline std::size_t thread_stripe() noexcept {
  static std::atomic<std::size_t> next{0};
  thread_local const std::size_t stripe = next.fetch_add(1, std::memory_order_relaxed);
  return stripe;
}

// N counters (N <= 8, one cache line per stripe). Gauges may be decremented: sums wrap modulo 2^64,
// so a gauge's sum is exact once writers are quiescent. Thread-safe.
template <std::size_t N>
class StripedCounters {
  static_assert(N >= 1 && N <= 8, "one stripe is one 64-byte cache line");

 public:
  static constexpr std::size_t kStripes = 32;

  void add(std::size_t counter, std::uint64_t delta = 1) noexcept {
    // Relaxed: counters order nothing; each sum is a snapshot.
    stripes_[thread_stripe() % kStripes].values[counter].fetch_add(delta, std::memory_order_relaxed);
  }
  void subtract(std::size_t counter, std::uint64_t delta = 1) noexcept { add(counter, 0 - delta); }

  std::uint64_t sum(std::size_t counter) const noexcept {
    std::uint64_t total = 0;
    for (const Stripe& s : stripes_) total += s.values[counter].load(std::memory_order_relaxed);
    return total;
  }

 private:
  struct alignas(64) Stripe {
    std::array<std::atomic<std::uint64_t>, N> values{};
  };
  std::array<Stripe, kStripes> stripes_{};
};

}  // namespace mantis::detail
