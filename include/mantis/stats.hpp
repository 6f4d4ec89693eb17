// mantis::Stats: an approximate snapshot of an Engine's counters.
#pragma once

#include <cstdint>
#include <string>

#include <mantis/export.h>

namespace mantis {

// Counters are monotonic over the engine's lifetime; gauges (keys, bytes, cache charge and entries)
// are approximate while writers are active. Intentionally copyable.
struct MANTIS_EXPORT Stats {
  std::uint64_t keys = 0;     // gauge: live keys in the store (expired ones count until removed)
  std::uint64_t bytes = 0;    // gauge: key + value bytes in the store
  std::uint64_t puts = 0;     // put operations applied (batch entries included)
  std::uint64_t gets = 0;     // point reads: get and contains
  std::uint64_t hits = 0;     // point reads that found a live key
  std::uint64_t misses = 0;   // point reads that found nothing (absent or expired)
  std::uint64_t erases = 0;   // erase operations applied (batch entries included, found or not)
  std::uint64_t expired = 0;  // keys removed because their TTL passed (lazily or by the reaper)
  struct CacheTier {
    std::uint64_t capacity = 0;
    std::uint64_t charge = 0;
    std::uint64_t entries = 0;
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::uint64_t inserts = 0;
    std::uint64_t evictions = 0;
    double hit_ratio = 0.0;
    // Why something is not cached (CacheStats has the details): admission's refusals, and where the
    // entries are (the admission window, probation, protected) under the window's current byte budget.
    std::uint64_t admission_rejections = 0;
    std::uint64_t window_capacity = 0;
    std::uint64_t window_entries = 0;
    std::uint64_t probation_entries = 0;
    std::uint64_t protected_entries = 0;
  } cache;

  // One JSON object: {"keys":..,"bytes":..,...,"cache":{...}}.
  std::string to_json() const;
  // Prometheus text exposition format, every metric prefixed "mantis_".
  std::string to_prometheus() const;
};

}  // namespace mantis
