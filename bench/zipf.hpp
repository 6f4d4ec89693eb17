// Random sources for the workloads: a fast per-thread generator and YCSB's scrambled Zipfian.
//
// ScrambledZipfian follows YCSB's ZipfianGenerator (Gray et al., "Quickly generating billion-record
// synthetic databases", SIGMOD 1994) with theta = 0.99: rank 0 is the hottest. As in YCSB's
// ScrambledZipfianGenerator, the rank is hashed (FNV-1a 64) onto the key space so that hot keys are
// scattered instead of clustered at the start of the key order.
//
// FastRandom is not thread-safe (one per worker). ScrambledZipfian is immutable after construction and
// may be shared by all workers; each draw takes the caller's FastRandom.
#pragma once

#include <cmath>
#include <cstdint>

namespace mantis::bench {

// splitmix64: tiny state, passes BigCrush, a few cycles per draw.
class FastRandom {
 public:
  explicit FastRandom(std::uint64_t seed) noexcept : state_(seed) {}

  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, bound) by Lemire's multiply-shift (bias below 2^-32 for the bounds used here).
  std::uint64_t below(std::uint64_t bound) noexcept {
    __extension__ using Wide = unsigned __int128;  // __extension__: GCC's 128-bit type under -Wpedantic
    return static_cast<std::uint64_t>((static_cast<Wide>(next()) * bound) >> 64);
  }
  // Uniform in [0, 1).
  double unit() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  std::uint64_t state_;
};

inline std::uint64_t fnv1a64(std::uint64_t value) noexcept {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (int i = 0; i < 8; ++i) {
    hash ^= value & 0xff;
    hash *= 0x100000001b3ULL;
    value >>= 8;
  }
  return hash;
}

class ScrambledZipfian {
 public:
  static constexpr double kYcsbTheta = 0.99;

  // O(items) to compute zeta(items); 1M items take a few milliseconds.
  explicit ScrambledZipfian(std::uint64_t items, double theta = kYcsbTheta)
      : items_(items), alpha_(1.0 / (1.0 - theta)), zetan_(zeta(items, theta)) {
    const double zeta2 = zeta(2, theta);
    eta_ = (1.0 - std::pow(2.0 / static_cast<double>(items), 1.0 - theta)) / (1.0 - zeta2 / zetan_);
    half_pow_theta_ = 1.0 + std::pow(0.5, theta);
  }

  // A key index in [0, items).
  std::uint64_t next(FastRandom& random) const noexcept { return fnv1a64(rank(random)) % items_; }

 private:
  std::uint64_t rank(FastRandom& random) const noexcept {
    const double u = random.unit();
    const double uz = u * zetan_;
    if (uz < 1.0) return 0;
    if (uz < half_pow_theta_) return 1;
    const auto r = static_cast<std::uint64_t>(static_cast<double>(items_) * std::pow(eta_ * u - eta_ + 1.0, alpha_));
    return r < items_ ? r : items_ - 1;
  }

  static double zeta(std::uint64_t n, double theta) {
    double sum = 0;
    for (std::uint64_t i = 1; i <= n; ++i) sum += 1.0 / std::pow(static_cast<double>(i), theta);
    return sum;
  }

  std::uint64_t items_;
  double alpha_;
  double zetan_;
  double eta_ = 0;
  double half_pow_theta_ = 0;
};

}  // namespace mantis::bench
