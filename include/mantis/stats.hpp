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
  // counter: monotonic; gauge: goes up and down; summary: one sample of a summary family (a quantile,
  // or the family's _sum or _count).
  enum class Type { kCounter, kGauge, kSummary };
  std::string_view name;       // Prometheus family name, e.g. "mantis_cache_hits_total"
  std::string_view json_path;  // JSON member: "puts", or "cache.hits" for member "hits" of object "cache"
  std::string_view help;       // Prometheus HELP text
  Type type;
  std::variant<std::uint64_t, double> value;  // a double is written with 6 significant digits
  std::string_view suffix = {};  // appended to the sample's name: "_sum", "_count" (summaries)
  std::string_view labels = {};  // the sample's labels without braces: quantile="0.99" (summaries)
};

// One JSON object with every metric at its json_path, in order; the metrics of one object (the same
// text before the '.') must be adjacent. {"keys":1,...,"cache":{"capacity":0,...}}.
MANTIS_EXPORT std::string metrics_to_json(const std::vector<Metric>& metrics);
// Prometheus text exposition format: HELP and TYPE once per family (adjacent metrics of one name), then
// the sample of each metric, in order.
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

  // A distribution the engine measured: how many values, their sum, quantiles (within about 6% of the
  // true value) and maximum.
  struct Distribution {
    std::uint64_t count = 0;
    std::uint64_t sum = 0;
    std::uint64_t p50 = 0;
    std::uint64_t p90 = 0;
    std::uint64_t p99 = 0;
    std::uint64_t p999 = 0;
    std::uint64_t max = 0;
  };
  // Latencies in nanoseconds. Operations are timed one in 64 on each thread (so `count` is about a 64th
  // of them), which keeps the measurement always on for a few nanoseconds per operation; the log's
  // figures count every group (every fdatasync). Zero where nothing was measured (the log's in a memory-only engine).
  struct Latency {
    Distribution get;            // point reads (get, contains), cache tier included
    Distribution put;            // Engine::put, whole (a durable one includes its wait for the log)
    Distribution commit_wait;    // a durable write's time in the log: append, fdatasync if any, apply
    Distribution fdatasync;      // each fdatasync that made writes durable (kSync, sync(), a write with sync)
    // Records per log group (not a latency: a count): with kSync's group commit, the records one leader
    // appended and synced together; with kAsync's and kPeriodic's mapped log, the records one fdatasync
    // made durable.
    Distribution group_records;
  } latency;

  // What opening the engine recovered (zeros in a memory-only engine): the entries loaded from the
  // snapshot (expired ones skipped) and the log records replayed after it, and how long each took.
  struct Recovery {
    std::uint64_t snapshot_entries = 0;
    double snapshot_seconds = 0.0;
    std::uint64_t log_records = 0;
    double log_seconds = 0.0;
  } recovery;

  // The store's, the cache tier's, the recovery's and the latency figures as metrics (names prefixed
  // "mantis_"), in output order; each latency is a summary in seconds (quantiles 0.5, 0.9, 0.99, 0.999,
  // _sum, _count) and a gauge of its maximum. The cache tier's admission and segment figures are not among them.
  std::vector<Metric> metrics() const;
  // metrics_to_json(metrics()): {"keys":..,"bytes":..,...,"cache":{...},"latency":{...}}.
  std::string to_json() const;
  // metrics_to_prometheus(metrics()).
  std::string to_prometheus() const;

 private:
  std::vector<Metric> scalar_metrics() const;  // metrics() before the distributions
};

}  // namespace mantis
