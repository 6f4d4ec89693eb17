#include <mantis/stats.hpp>

#include <cstdio>

namespace mantis {
namespace {

std::string format_value(const std::variant<std::uint64_t, double>& value) {
  if (const auto* count = std::get_if<std::uint64_t>(&value)) return std::to_string(*count);
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", std::get<double>(value));
  return buffer;
}

// The static names of one Stats::Distribution's metrics.
struct DistributionNames {
  std::string_view family;      // the summary
  std::string_view max_family;  // the gauge of the maximum
  std::string_view help;
  std::string_view max_help;
  std::string_view json_p50, json_p90, json_p99, json_p999, json_sum, json_count, json_max;
  bool nanoseconds;  // written in seconds; else a plain count
};

constexpr DistributionNames kGetNames{
    "mantis_get_latency_seconds", "mantis_get_latency_max_seconds",
    "Latency of point reads (get, contains), one in 64 per thread.", "Slowest point read sampled.",
    "latency.get_p50_seconds", "latency.get_p90_seconds", "latency.get_p99_seconds", "latency.get_p999_seconds",
    "latency.get_sum_seconds", "latency.get_count", "latency.get_max_seconds", true};
constexpr DistributionNames kPutNames{
    "mantis_put_latency_seconds", "mantis_put_latency_max_seconds", "Latency of Engine::put, one in 64 per thread.",
    "Slowest put sampled.", "latency.put_p50_seconds", "latency.put_p90_seconds", "latency.put_p99_seconds",
    "latency.put_p999_seconds", "latency.put_sum_seconds", "latency.put_count", "latency.put_max_seconds", true};
constexpr DistributionNames kCommitWaitNames{
    "mantis_commit_wait_seconds", "mantis_commit_wait_max_seconds",
    "A durable write's wait for its log group (append, fdatasync, apply), one in 64 per thread.",
    "Slowest log wait sampled.", "latency.commit_wait_p50_seconds", "latency.commit_wait_p90_seconds",
    "latency.commit_wait_p99_seconds", "latency.commit_wait_p999_seconds", "latency.commit_wait_sum_seconds",
    "latency.commit_wait_count", "latency.commit_wait_max_seconds", true};
constexpr DistributionNames kFdatasyncNames{
    "mantis_fdatasync_seconds", "mantis_fdatasync_max_seconds", "Duration of each fdatasync of a log group.",
    "Slowest fdatasync of a log group.", "latency.fdatasync_p50_seconds", "latency.fdatasync_p90_seconds",
    "latency.fdatasync_p99_seconds", "latency.fdatasync_p999_seconds", "latency.fdatasync_sum_seconds",
    "latency.fdatasync_count", "latency.fdatasync_max_seconds", true};
constexpr DistributionNames kGroupNames{
    "mantis_log_group_records", "mantis_log_group_records_max", "Records each log group wrote (kSync) or each fdatasync made durable.",
    "Largest log group.", "latency.group_records_p50", "latency.group_records_p90", "latency.group_records_p99",
    "latency.group_records_p999", "latency.group_records_sum", "latency.group_records_count",
    "latency.group_records_max", false};

void append_distribution(const DistributionNames& n, const Stats::Distribution& d, std::vector<Metric>* out) {
  using enum Metric::Type;
  auto value = [&n](std::uint64_t v) -> std::variant<std::uint64_t, double> {
    if (n.nanoseconds) return static_cast<double>(v) / 1e9;
    return v;
  };
  out->insert(out->end(), {
                              {n.family, n.json_p50, n.help, kSummary, value(d.p50), {}, "quantile=\"0.5\""},
                              {n.family, n.json_p90, n.help, kSummary, value(d.p90), {}, "quantile=\"0.9\""},
                              {n.family, n.json_p99, n.help, kSummary, value(d.p99), {}, "quantile=\"0.99\""},
                              {n.family, n.json_p999, n.help, kSummary, value(d.p999), {}, "quantile=\"0.999\""},
                              {n.family, n.json_sum, n.help, kSummary, value(d.sum), "_sum", {}},
                              {n.family, n.json_count, n.help, kSummary, d.count, "_count", {}},
                              {n.max_family, n.json_max, n.max_help, kGauge, value(d.max)},
                          });
}

}  // namespace

std::vector<Metric> Stats::metrics() const {
  std::vector<Metric> out = scalar_metrics();
  append_distribution(kGetNames, latency.get, &out);
  append_distribution(kPutNames, latency.put, &out);
  append_distribution(kCommitWaitNames, latency.commit_wait, &out);
  append_distribution(kFdatasyncNames, latency.fdatasync, &out);
  append_distribution(kGroupNames, latency.group_records, &out);
  return out;
}

std::vector<Metric> Stats::scalar_metrics() const {
  using enum Metric::Type;
  return {
      {"mantis_keys", "keys", "Live keys in the store (expired ones count until removed).", kGauge, keys},
      {"mantis_bytes", "bytes", "Key and value bytes in the store.", kGauge, bytes},
      {"mantis_puts_total", "puts", "Put operations applied.", kCounter, puts},
      {"mantis_gets_total", "gets", "Point reads (get and contains).", kCounter, gets},
      {"mantis_hits_total", "hits", "Point reads that found a live key.", kCounter, hits},
      {"mantis_misses_total", "misses", "Point reads that found nothing.", kCounter, misses},
      {"mantis_erases_total", "erases", "Erase operations applied.", kCounter, erases},
      {"mantis_expired_total", "expired", "Keys removed because their TTL passed.", kCounter, expired},
      {"mantis_snapshots", "snapshots", "Live snapshots (each unfinished transaction holds one).", kGauge, snapshots},
      {"mantis_versions_kept", "versions_kept", "Past values kept for live snapshots.", kGauge, versions_kept},
      {"mantis_commits_total", "commits", "Transactions committed with writes.", kCounter, commits},
      {"mantis_conflicts_total", "conflicts", "Commits refused with Conflict.", kCounter, conflicts},
      {"mantis_cache_capacity_bytes", "cache.capacity", "Bytes the cache tier may hold.", kGauge, cache.capacity},
      {"mantis_cache_charge_bytes", "cache.charge", "Bytes charged to the cache tier.", kGauge, cache.charge},
      {"mantis_cache_entries", "cache.entries", "Entries in the cache tier.", kGauge, cache.entries},
      {"mantis_cache_hits_total", "cache.hits", "Cache tier hits.", kCounter, cache.hits},
      {"mantis_cache_misses_total", "cache.misses", "Cache tier misses.", kCounter, cache.misses},
      {"mantis_cache_inserts_total", "cache.inserts", "Cache tier inserts.", kCounter, cache.inserts},
      {"mantis_cache_evictions_total", "cache.evictions", "Cache tier evictions.", kCounter, cache.evictions},
      {"mantis_cache_hit_ratio", "cache.hit_ratio", "Cache tier hits / (hits + misses).", kGauge, cache.hit_ratio},
      {"mantis_recovery_snapshot_entries", "recovery.snapshot_entries", "Entries the open loaded from the snapshot.",
       kGauge, recovery.snapshot_entries},
      {"mantis_recovery_snapshot_seconds", "recovery.snapshot_seconds", "Time the open took to load the snapshot.",
       kGauge, recovery.snapshot_seconds},
      {"mantis_recovery_log_records", "recovery.log_records", "Log records the open replayed.", kGauge,
       recovery.log_records},
      {"mantis_recovery_log_seconds", "recovery.log_seconds", "Time the open took to replay the log.", kGauge,
       recovery.log_seconds},
  };
}

std::string Stats::to_json() const { return metrics_to_json(metrics()); }

std::string Stats::to_prometheus() const { return metrics_to_prometheus(metrics()); }

std::string metrics_to_json(const std::vector<Metric>& metrics) {
  std::string out = "{";
  std::string_view open_object;  // the nested object being written, if any
  for (const Metric& m : metrics) {
    const std::size_t dot = m.json_path.find('.');
    const std::string_view object = dot == std::string_view::npos ? std::string_view() : m.json_path.substr(0, dot);
    const std::string_view member = dot == std::string_view::npos ? m.json_path : m.json_path.substr(dot + 1);
    if (object != open_object) {
      if (!open_object.empty()) out += '}';
      if (out.size() > 1) out += ',';
      if (!object.empty()) {
        out += '"';
        out += object;
        out += "\":{";
      }
      open_object = object;
    } else if (out.back() != '{') {
      out += ',';
    }
    out += '"';
    out += member;
    out += "\":";
    out += format_value(m.value);
  }
  if (!open_object.empty()) out += '}';
  return out + '}';
}

std::string metrics_to_prometheus(const std::vector<Metric>& metrics) {
  std::string out;
  std::string_view family;  // the family whose HELP and TYPE were written last
  for (const Metric& m : metrics) {
    if (m.name != family) {
      family = m.name;
      out += "# HELP ";
      out += m.name;
      out += ' ';
      out += m.help;
      out += "\n# TYPE ";
      out += m.name;
      switch (m.type) {
        case Metric::Type::kCounter:
          out += " counter\n";
          break;
        case Metric::Type::kGauge:
          out += " gauge\n";
          break;
        case Metric::Type::kSummary:
          out += " summary\n";
          break;
      }
    }
    out += m.name;
    out += m.suffix;
    if (!m.labels.empty()) {
      out += '{';
      out += m.labels;
      out += '}';
    }
    out += ' ';
    out += format_value(m.value);
    out += '\n';
  }
  return out;
}

}  // namespace mantis
