// mantis::Stats: an approximate snapshot of an Engine's counters.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <mantis/export.h>

namespace mantis {

// One named value of a statistics snapshot: the one table from which the JSON and Prometheus texts
// (Stats::to_json(), Stats::to_prometheus(), and mantis-server's /api/v1/stats and /metrics, which
// append metrics of their own) are rendered. The names point to static strings. Intentionally copyable.
struct Metric {
  enum class Type { kCounter, kGauge };  // counter: monotonic; gauge: goes up and down
  std::string_view name;                 // Prometheus name, e.g. "mantis_cache_hits_total"
  std::string_view json_path;            // JSON member: "puts", or "cache.hits" for member "hits" of object "cache"
  std::string_view help;                 // Prometheus HELP text
  Type type;
  std::variant<std::uint64_t, double> value;  // a double is written with 6 significant digits
};

// One JSON object with every metric at its json_path, in order; the metrics of one object (the same
// text before the '.') must be adjacent. {"keys":1,...,"cache":{"capacity":0,...}}.
MANTIS_EXPORT std::string metrics_to_json(const std::vector<Metric>& metrics);
// Prometheus text exposition format: HELP, TYPE and the sample of each metric, in order.
MANTIS_EXPORT std::string metrics_to_prometheus(const std::vector<Metric>& metrics);

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
  std::uint64_t snapshots = 0;      // gauge: live snapshots (each unfinished transaction holds one)
  std::uint64_t versions_kept = 0;  // gauge: past values kept for them (and not yet trimmed)
  std::uint64_t commits = 0;        // transactions committed with writes
  std::uint64_t conflicts = 0;      // commits refused with Conflict
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
    // entries are (the admission window, probation, protected) under the window's current byte budget,
    // and how many times that budget moved.
    std::uint64_t admission_rejections = 0;
    std::uint64_t window_capacity = 0;
    std::uint64_t window_entries = 0;
    std::uint64_t probation_entries = 0;
    std::uint64_t protected_entries = 0;
    std::uint64_t window_adjustments = 0;
  } cache;

  // The store's and the cache tier's figures as metrics (names prefixed "mantis_"), in output order.
  // The cache tier's admission and segment figures are not among them.
  std::vector<Metric> metrics() const;
  // metrics_to_json(metrics()): {"keys":..,"bytes":..,...,"cache":{...}}.
  std::string to_json() const;
  // metrics_to_prometheus(metrics()).
  std::string to_prometheus() const;
};

}  // namespace mantis
