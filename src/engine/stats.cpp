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

}  // namespace

std::vector<Metric> Stats::metrics() const {
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
  for (const Metric& m : metrics) {
    out += "# HELP ";
    out += m.name;
    out += ' ';
    out += m.help;
    out += "\n# TYPE ";
    out += m.name;
    out += m.type == Metric::Type::kCounter ? " counter\n" : " gauge\n";
    out += m.name;
    out += ' ';
    out += format_value(m.value);
    out += '\n';
  }
  return out;
}

}  // namespace mantis
