// CacheBypass: per-thread decision whether a read probes the Engine's cache tier.
#pragma once

#include <cstdint>

namespace mantis::detail {

// The cache tier steps aside for a thread whose reads it does not serve well: when fewer than
// kCacheBypassHitPercent of a window of kCacheBypassWindow probes hit, the next window probes the tier
// only on 1 read in kCacheBypassRatio (the others go straight to the store; the sampled probes keep
// filling it through the doorkeeper), and probing resumes on every read once a window's probes hit
// often enough again. A probe that misses costs about as much as a short store read, so a tier that
// serves fewer than half of a thread's reads rarely pays for its probes.
inline constexpr std::uint32_t kCacheBypassWindow = 1024;
inline constexpr std::uint32_t kCacheBypassHitPercent = 50;
inline constexpr std::uint32_t kCacheBypassRatio = 16;

// The per-thread bypass decision of the rule above. The state is per thread, so no cache line is
// shared; it follows the last tier the thread probed (by a process-unique id, never an address that a
// new tier could reuse) and starts afresh when the thread switches tiers.
class CacheBypass {
 public:
  // Whether this read should probe the tier.
  static bool should_probe(std::uint64_t tier_id) noexcept {
    State& s = state(tier_id);
    return !s.bypassing || ++s.skipped % kCacheBypassRatio == 0;
  }
  // Records the outcome of a probe; at the end of each window decides whether to bypass the next one.
  static void record_probe(std::uint64_t tier_id, bool hit) noexcept {
    State& s = state(tier_id);
    ++s.probes;
    s.hits += hit ? 1 : 0;
    if (s.probes == kCacheBypassWindow) {
      s.bypassing = s.hits * 100 < s.probes * kCacheBypassHitPercent;
      s.probes = 0;
      s.hits = 0;
    }
  }

 private:
  struct State {
    std::uint64_t tier_id = 0;
    std::uint32_t probes = 0;
    std::uint32_t hits = 0;
    std::uint32_t skipped = 0;
    bool bypassing = false;
  };
  static State& state(std::uint64_t tier_id) noexcept {
    thread_local State current;
    if (current.tier_id != tier_id) current = State{tier_id};
    return current;
  }
};

}  // namespace mantis::detail
