#include <mantis/stats.hpp>

#include <cstdio>
#include <string_view>

namespace mantis {
namespace {

struct Field {
  std::string_view name;
  std::uint64_t value;
  std::string_view help;
  bool counter;  // monotonic (Prometheus "counter"), else a gauge
};

std::string format_double(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", value);
  return buffer;
}

}  // namespace

std::string Stats::to_json() const {
  const Field store_fields[] = {{"keys", keys, {}, false},    {"bytes", bytes, {}, false},
                                {"puts", puts, {}, true},     {"gets", gets, {}, true},
                                {"hits", hits, {}, true},     {"misses", misses, {}, true},
                                {"erases", erases, {}, true}, {"expired", expired, {}, true}};
  const Field cache_fields[] = {{"capacity", cache.capacity, {}, false}, {"charge", cache.charge, {}, false},
                                {"entries", cache.entries, {}, false},   {"hits", cache.hits, {}, true},
                                {"misses", cache.misses, {}, true},      {"inserts", cache.inserts, {}, true},
                                {"evictions", cache.evictions, {}, true}};
  std::string out = "{";
  for (const Field& f : store_fields) {
    out += '"';
    out += f.name;
    out += "\":";
    out += std::to_string(f.value);
    out += ',';
  }
  out += "\"cache\":{";
  for (const Field& f : cache_fields) {
    out += '"';
    out += f.name;
    out += "\":";
    out += std::to_string(f.value);
    out += ',';
  }
  out += "\"hit_ratio\":" + format_double(cache.hit_ratio) + "}}";
  return out;
}

std::string Stats::to_prometheus() const {
  const Field fields[] = {
      {"mantis_keys", keys, "Live keys in the store (expired ones count until removed).", false},
      {"mantis_bytes", bytes, "Key and value bytes in the store.", false},
      {"mantis_puts_total", puts, "Put operations applied.", true},
      {"mantis_gets_total", gets, "Point reads (get and contains).", true},
      {"mantis_hits_total", hits, "Point reads that found a live key.", true},
      {"mantis_misses_total", misses, "Point reads that found nothing.", true},
      {"mantis_erases_total", erases, "Erase operations applied.", true},
      {"mantis_expired_total", expired, "Keys removed because their TTL passed.", true},
      {"mantis_cache_capacity_bytes", cache.capacity, "Bytes the cache tier may hold.", false},
      {"mantis_cache_charge_bytes", cache.charge, "Bytes charged to the cache tier.", false},
      {"mantis_cache_entries", cache.entries, "Entries in the cache tier.", false},
      {"mantis_cache_hits_total", cache.hits, "Cache tier hits.", true},
      {"mantis_cache_misses_total", cache.misses, "Cache tier misses.", true},
      {"mantis_cache_inserts_total", cache.inserts, "Cache tier inserts.", true},
      {"mantis_cache_evictions_total", cache.evictions, "Cache tier evictions.", true},
  };
  std::string out;
  for (const Field& f : fields) {
    out += "# HELP ";
    out += f.name;
    out += ' ';
    out += f.help;
    out += "\n# TYPE ";
    out += f.name;
    out += f.counter ? " counter\n" : " gauge\n";
    out += f.name;
    out += ' ';
    out += std::to_string(f.value);
    out += '\n';
  }
  out += "# HELP mantis_cache_hit_ratio Cache tier hits / (hits + misses).\n# TYPE mantis_cache_hit_ratio gauge\n";
  out += "mantis_cache_hit_ratio " + format_double(cache.hit_ratio) + "\n";
  return out;
}

}  // namespace mantis
