#include <sys/utsname.h>

#include <fstream>
#include <iomanip>
#include <string>
#include <string_view>
#include <thread>

#include "json.hpp"
#include "report.hpp"

namespace mantis::bench {
namespace {

// The value of the first line of `path` that starts with `prefix` ("model name : X" gives "X").
std::string read_first_matching(const char* path, std::string_view prefix) {
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    if (line.compare(0, prefix.size(), prefix) == 0) {
      const std::size_t colon = line.find(':');
      std::string value = colon == std::string::npos ? line : line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return {};
}

}  // namespace

bool write_json(const std::string& path, const Results& results, const Config& config,
                const TimingCalibration& timing) {
  std::ofstream out(path);
  out << std::setprecision(12);
  utsname host{};
  uname(&host);
  out << "{\n  \"config\": {\"keys\": " << config.keys << ", \"key_size\": " << kKeySize
      << ", \"value_size\": " << config.value_size << ", \"seconds\": " << config.seconds
      << ", \"cache_size\": " << config.engine_cache_size() << ", \"threads\": [";
  for (std::size_t i = 0; i < config.threads.size(); ++i) out << (i ? ", " : "") << config.threads[i];
  out << "], \"quick\": " << (config.quick ? "true" : "false") << "},\n";
  out << "  \"machine\": {\"cpu\": " << mantis::tools::json_quote(read_first_matching("/proc/cpuinfo", "model name"))
      << ", \"cpus\": " << std::thread::hardware_concurrency()
      << ", \"memory\": " << mantis::tools::json_quote(read_first_matching("/proc/meminfo", "MemTotal"))
      << ", \"kernel\": " << mantis::tools::json_quote(std::string(host.sysname) + " " + host.release)
      << ", \"loadavg_start\": " << mantis::tools::json_quote(results.load_before)
      << ", \"loadavg_end\": " << mantis::tools::json_quote(results.load_after) << "},\n";
  out << "  \"timing\": {\"clock_read_ns\": " << timing.clock_read_ns
      << ", \"subtracted_per_sample_ns\": " << timing.empty_interval_ns << "},\n";
  out << "  \"results\": [\n";
  for (std::size_t i = 0; i < results.rows.size(); ++i) {
    const Row& row = results.rows[i];
    const Measurement& m = row.m;
    out << "    {\"impl\": " << mantis::tools::json_quote(row.impl)
        << ", \"workload\": " << mantis::tools::json_quote(row.workload) << ", \"threads\": " << row.threads
        << ", \"ops\": " << m.ops << ", \"seconds\": " << m.seconds << ", \"ops_per_sec\": " << m.ops_per_sec()
        << ", \"latency_ns\": {\"mean\": " << m.mean_ns << ", \"p50\": " << m.p50_ns << ", \"p95\": " << m.p95_ns
        << ", \"p99\": " << m.p99_ns << ", \"p999\": " << m.p999_ns << ", \"max\": " << m.max_ns
        << "}, \"errors\": " << m.errors << ", \"misses\": " << m.misses << ", \"peak_rss_bytes\": " << m.peak_rss_bytes
        << ", \"peak_rss_is_phase\": " << (m.peak_rss_is_phase ? "true" : "false")
        << ", \"rss_delta_bytes\": " << m.rss_delta_bytes << ", \"timing_overhead_pct\": " << m.timing_overhead_pct
        << ", \"in_child\": " << (m.in_child ? "true" : "false") << ", \"mantis_ratio\": " << mantis_ratio(results, row)
        << "}" << (i + 1 < results.rows.size() ? "," : "") << "\n";
  }
  out << "  ],\n  \"bytes_per_key\": [";
  for (std::size_t i = 0; i < results.footprints.size(); ++i) {
    const Footprint& f = results.footprints[i];
    out << (i ? ", " : "") << "{\"impl\": " << mantis::tools::json_quote(f.impl)
        << ", \"bytes_per_key\": " << f.bytes_per_key << ", \"peak_rss_bytes\": " << f.peak_rss_bytes << "}";
  }
  out << "],\n  \"failures\": [";
  for (std::size_t i = 0; i < results.failures.size(); ++i)
    out << (i ? ", " : "") << mantis::tools::json_quote(results.failures[i]);
  out << "],\n  \"errors\": " << results.errors() << "\n}\n";
  return static_cast<bool>(out);
}

}  // namespace mantis::bench
