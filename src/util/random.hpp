// A small, fast pseudo-random generator for randomized data structures (skiplist heights, eviction
// sampling). Not for anything that needs unpredictability.
#pragma once

#include <cstdint>

namespace mantis::detail {

// Marsaglia's xorshift64 (13, 7, 17). Not thread-safe: each thread or lock holder keeps its own.
class XorShift64 {
 public:
  // `seed` must not be 0 (0 is the generator's one fixed point); 0 is replaced by a constant.
  explicit constexpr XorShift64(std::uint64_t seed) noexcept : state_(seed == 0 ? kGolden : seed) {}

  std::uint64_t next() noexcept {
    state_ ^= state_ << 13;
    state_ ^= state_ >> 7;
    state_ ^= state_ << 17;
    return state_;
  }

  // 2^64 / golden ratio: a well-spread nonzero seed.
  static constexpr std::uint64_t kGolden = 0x9E3779B97F4A7C15ull;

 private:
  std::uint64_t state_;
};

}  // namespace mantis::detail
