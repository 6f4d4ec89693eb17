// CacheBypass: per-thread decision whether a read probes the Engine's cache tier.
#pragma once

#include <cstdint>

#include <mantis/detail/engine_tuning.hpp>

namespace mantis::detail {

// The tier steps aside for a thread whose reads it does not serve (see kCacheBypassWindow and
// kCacheBypassRatio in engine_tuning.hpp). The state is per thread, so no cache line is shared; it
// follows the last engine the thread read from (by a process-unique id, never an address that a new
// engine could reuse) and starts afresh when the thread switches engines.
class CacheBypass {
 public:
  // Whether this read should probe the tier.
  static bool should_probe(std::uint64_t engine_id) noexcept {
    State& s = state(engine_id);
    return !s.bypassing || ++s.skipped % kCacheBypassRatio == 0;
  }
  // Records the outcome of a probe; at the end of each window decides whether to bypass the next one.
  static void record_probe(std::uint64_t engine_id, bool hit) noexcept {
    State& s = state(engine_id);
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
    std::uint64_t engine_id = 0;
    std::uint32_t probes = 0;
    std::uint32_t hits = 0;
    std::uint32_t skipped = 0;
    bool bypassing = false;
  };
  static State& state(std::uint64_t engine_id) noexcept {
    thread_local State current;
    if (current.engine_id != engine_id) current = State{engine_id};
    return current;
  }
};

}  // namespace mantis::detail
