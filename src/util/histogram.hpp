// Histogram: a lock-free log-linear histogram of non-negative integers (nanoseconds, record counts),
// cheap enough to stay on in the engine's hot paths (Stats::latency and Stats::log).
//
// Buckets: values 0..15 have a bucket each; above, each power of two is split into 8 equal buckets, so
// a bucket's width is at most 1/8 of its lower bound and a reported quantile (the bucket's midpoint)
// is within 6.25% of the true value. 496 buckets cover the whole uint64_t range; each is a relaxed
// atomic counter, so record() is one fetch_add and never waits.
//
// LatencySampler: hot paths time one operation in kSampleEvery at random (two clock reads then),
// so the cost of staying on is a few shifts of a thread-local word and a branch per operation; the quantiles of
// a uniform sample are those of all operations, within sampling error.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>

namespace mantis::detail {

class Histogram {
 public:
  // What a snapshot of the histogram says: quantiles are bucket midpoints (exact below 16).
  struct Summary {
    std::uint64_t count = 0;
    std::uint64_t sum = 0;  // of the values recorded (wraps after 2^64)
    std::uint64_t p50 = 0;
    std::uint64_t p90 = 0;
    std::uint64_t p99 = 0;
    std::uint64_t p999 = 0;
    std::uint64_t max = 0;
  };

  void record(std::uint64_t value) noexcept {
    buckets_[bucket_of(value)].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
    std::uint64_t seen = max_.load(std::memory_order_relaxed);
    while (value > seen && !max_.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
    }
  }

  // Approximate while record() runs: each bucket is read once.
  Summary summary() const noexcept {
    std::array<std::uint64_t, kBuckets> counts{};
    Summary s;
    for (std::size_t i = 0; i < kBuckets; ++i) {
      counts[i] = buckets_[i].load(std::memory_order_relaxed);
      s.count += counts[i];
    }
    if (s.count == 0) return s;
    s.max = max_.load(std::memory_order_relaxed);
    s.sum = sum_.load(std::memory_order_relaxed);
    // The value at rank ceil(q * count): the first bucket whose running total reaches it.
    auto at = [&](double q) {
      const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(q * static_cast<double>(s.count) + 0.999999));
      std::uint64_t seen = 0;
      for (std::size_t i = 0; i < kBuckets; ++i) {
        seen += counts[i];
        if (seen >= rank) return std::min(midpoint(i), s.max);
      }
      return s.max;
    };
    s.p50 = at(0.50);
    s.p90 = at(0.90);
    s.p99 = at(0.99);
    s.p999 = at(0.999);
    return s;
  }

  static std::size_t bucket_of(std::uint64_t value) noexcept {
    if (value < kExact) return static_cast<std::size_t>(value);
    const int exponent = std::bit_width(value) - 1;  // >= 4
    const auto sub = static_cast<std::size_t>((value >> (exponent - 3)) & 7);
    return kExact + static_cast<std::size_t>(exponent - 4) * 8 + sub;
  }
  // The lower bound of bucket i, and its midpoint.
  static std::uint64_t lower_bound(std::size_t i) noexcept {
    if (i < kExact) return i;
    const std::size_t exponent = (i - kExact) / 8 + 4;
    const std::uint64_t sub = (i - kExact) % 8;
    return (std::uint64_t{8} + sub) << (exponent - 3);
  }
  static std::uint64_t midpoint(std::size_t i) noexcept {
    if (i < kExact) return i;
    const std::size_t exponent = (i - kExact) / 8 + 4;
    return lower_bound(i) + (std::uint64_t{1} << (exponent - 4));
  }

  static constexpr std::size_t kExact = 16;
  static constexpr std::size_t kBuckets = kExact + 60 * 8;

 private:
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
  std::atomic<std::uint64_t> sum_{0};
  std::atomic<std::uint64_t> max_{0};
};

// Times one operation in kSampleEvery (at random) on each thread into a Histogram, in nanoseconds: construct one
// at the start of the operation; the sampled ones record their time when destroyed.
class LatencySampler {
 public:
  static constexpr std::uint32_t kSampleEvery = 64;

  explicit LatencySampler(Histogram& histogram) noexcept : histogram_(histogram) {
    // A coin per call (xorshift64, a state per thread), not a counter: samplers nested or alternating
    // on one thread (a put and its log wait, a put then a get) would alias with a period.
    // Constant-initialized (a dynamic thread_local initializer in an inline function is reached
    // through a weak TLS-init symbol, which the shared library's symbol map leaves unresolved).
    thread_local std::uint64_t state = 0;
    if (state == 0) state = seed();
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    if (state % kSampleEvery == 0) started_ = std::chrono::steady_clock::now();
  }
  ~LatencySampler() {
    if (started_) histogram_.record(elapsed_ns(*started_));
  }
  LatencySampler(const LatencySampler&) = delete;
  LatencySampler& operator=(const LatencySampler&) = delete;

  static std::uint64_t elapsed_ns(std::chrono::steady_clock::time_point started) noexcept {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - started);
    return static_cast<std::uint64_t>(std::max<std::int64_t>(0, ns.count()));
  }

 private:
  static std::uint64_t seed() noexcept {
    static std::atomic<std::uint64_t> threads{0};
    // Distinct and non-zero for each thread (xorshift's state must never be 0).
    return (threads.fetch_add(1, std::memory_order_relaxed) + 1) * 0x9E3779B97F4A7C15ull;
  }

  Histogram& histogram_;
  std::optional<std::chrono::steady_clock::time_point> started_;
};

}  // namespace mantis::detail
