// Stress sizes: builds configured with MANTIS_STRESS_SIZES (every sanitizer build) shrink the buffers
// and tables whose rare paths otherwise run too seldom for a test to reach them while another thread
// races: a reclamation bag fills after 4 retires instead of 126, the point index has 4 shards instead
// of 256 (so tables grow, rebuild and shrink often), and the cache tier's write windows share 8
// stripes instead of 1024 (so unrelated keys' windows overlap). Behaviour is the same at any size;
// only the frequency of hand-offs, rebuilds and conflicts changes.
#pragma once

namespace mantis::detail {

#if defined(MANTIS_STRESS_SIZES)
inline constexpr bool kStressSizes = true;
#else
inline constexpr bool kStressSizes = false;
#endif

// `normal` in ordinary builds, `stress` in stress-size builds.
template <class T>
constexpr T stress_size(T normal, T stress) noexcept {
  return kStressSizes ? stress : normal;
}

}  // namespace mantis::detail
