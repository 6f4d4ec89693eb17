#include <algorithm>
#include <cstdio>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "report.hpp"

namespace mantis::bench {
namespace {

std::string format_rate(double per_sec) {
  char text[32];
  if (per_sec >= 1e6) {
    std::snprintf(text, sizeof text, "%.2fM", per_sec / 1e6);
  } else if (per_sec >= 1e3) {
    std::snprintf(text, sizeof text, "%.1fK", per_sec / 1e3);
  } else {
    std::snprintf(text, sizeof text, "%.0f", per_sec);
  }
  return text;
}

std::string format_nanos(double nanos) {
  char text[32];
  if (nanos < 1e3) {
    std::snprintf(text, sizeof text, "%.0fns", nanos);
  } else if (nanos < 1e6) {
    std::snprintf(text, sizeof text, "%.1fus", nanos / 1e3);
  } else if (nanos < 1e9) {
    std::snprintf(text, sizeof text, "%.1fms", nanos / 1e6);
  } else {
    std::snprintf(text, sizeof text, "%.2fs", nanos / 1e9);
  }
  return text;
}

std::string format_mib(double bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0fMiB", bytes / (1024.0 * 1024.0));
  return text;
}

std::string format_ratio(double ratio) {
  char text[32];
  std::snprintf(text, sizeof text, ratio >= 100 ? "%.0fx" : "%.2fx", ratio);
  return text;
}

// The row of `impl` for `workload` with the most ops/s over the thread counts, or nullptr.
const Row* best_row(const Results& results, std::string_view impl, std::string_view workload) {
  const Row* best = nullptr;
  for (const Row& row : results.rows) {
    if (row.impl == impl && row.workload == workload &&
        (best == nullptr || row.m.ops_per_sec() > best->m.ops_per_sec())) {
      best = &row;
    }
  }
  return best;
}

std::string cell_rate(const Row* row) {
  if (row == nullptr) return "-";
  return format_rate(row->m.ops_per_sec()) + "/s (" + std::to_string(row->threads) + "t)";
}

// The summary's rows: MantisDB's five headline workloads, then the random-access and YCSB rows the
// embedded-store peers are compared on. A row no implementation ran is left out.
struct SummaryRow {
  std::string_view metric;
  Workload workload;
};
constexpr SummaryRow kSummaryRows[] = {
    {"Sequential writes", Workload::kSeqWrite},
    {"Sequential reads", Workload::kSeqRead},
    {"Random writes", Workload::kRandWrite},
    {"Concurrent ops (40 workers)", Workload::kConcurrent},
    {"Cache hits", Workload::kCacheHits},
    {"Random inserts (the load)", Workload::kRandInsert},
    {"Random reads", Workload::kRandRead},
    {"YCSB A (50% update)", Workload::kYcsbA},
    {"YCSB E (short scans)", Workload::kYcsbE},
};

// The peers the "best peer" column picks from: other products, not mantis in another mode (memory,
// snapshot) and not the disk probe.
bool is_other_product(std::string_view impl) {
  return impl != "mantis" && impl != "memory" && impl != "snapshot" && impl != "disk";
}

// The best row of any other product for `workload`, over thread counts, or nullptr.
const Row* best_peer_row(const Results& results, std::string_view workload) {
  const Row* best = nullptr;
  for (const Row& row : results.rows) {
    if (is_other_product(row.impl) && row.workload == workload &&
        (best == nullptr || row.m.ops_per_sec() > best->m.ops_per_sec())) {
      best = &row;
    }
  }
  return best;
}

constexpr const char* kSummaryFormat = "| %-28s | %-30s | %-18s | %-18s | %-26s | %-11s |\n";

void print_summary(const Results& results, const Config& config) {
  std::printf("\nSummary (best over thread counts; best peer: the fastest other product on the row)\n\n");
  std::printf(kSummaryFormat, "Metric", "mantis", "stdmap", "cds / lru", "best peer", "mantis/best");
  std::printf("|%s|%s|%s|%s|%s|%s|\n", std::string(30, '-').c_str(), std::string(32, '-').c_str(),
              std::string(20, '-').c_str(), std::string(20, '-').c_str(), std::string(28, '-').c_str(),
              std::string(13, '-').c_str());
  for (const SummaryRow& summary : kSummaryRows) {
    const std::string_view workload = workload_name(summary.workload);
    const bool cache = summary.workload == Workload::kCacheHits;
    const Row* ours = best_row(results, "mantis", workload);
    const Row* peer = best_peer_row(results, workload);
    if (ours == nullptr && peer == nullptr) continue;
    const std::string best = peer == nullptr ? "-" : peer->impl + " " + cell_rate(peer);
    const std::string ratio = ours != nullptr && peer != nullptr && peer->m.ops_per_sec() > 0
                                  ? format_ratio(ours->m.ops_per_sec() / peer->m.ops_per_sec())
                                  : "-";
    std::printf(kSummaryFormat, std::string(summary.metric).c_str(), cell_rate(ours).c_str(),
                cache ? "-" : cell_rate(best_row(results, "stdmap", workload)).c_str(),
                cell_rate(best_row(results, cache ? "lru" : "cds", workload)).c_str(), best.c_str(), ratio.c_str());
  }
  double worst_p99 = 0;
  std::string worst_where = "-";
  for (const Row& row : results.rows) {
    if (row.impl == "mantis" && row.m.p99_ns >= worst_p99) {
      worst_p99 = static_cast<double>(row.m.p99_ns);
      worst_where = row.workload + " " + std::to_string(row.threads) + "t";
    }
  }
  std::printf(kSummaryFormat, "p99 latency (worst phase)", (format_nanos(worst_p99) + " (" + worst_where + ")").c_str(),
              "", "", "", "");
  std::printf(
      "\n%llu keys of 16 bytes, %zu-byte values, %.3g s per phase. Load average %s at the start, %s at "
      "the end, on %u CPUs.\n",
      static_cast<unsigned long long>(config.keys), config.value_size, config.seconds, results.load_before.c_str(),
      results.load_after.c_str(), std::thread::hardware_concurrency());
}

void print_details(const Results& results) {
  std::printf(
      "\nAll phases (latency per operation; mantis/x = mantis ops/s / this implementation's ops/s;\n"
      "peak RSS = VmHWM of the whole process, which all implementations share, except memory_pressure,\n"
      "where each implementation runs alone in a forked child)\n\n");
  std::printf("%-16s %4s %-7s %10s %8s %8s %8s %8s %8s %6s %8s %9s %8s\n", "workload", "thr", "impl", "ops/s", "p50",
              "p95", "p99", "p99.9", "max", "errors", "misses", "peak RSS", "mantis/x");
  std::vector<std::pair<std::string, int>> groups;
  for (const Row& row : results.rows) {
    const std::pair<std::string, int> group{row.workload, row.threads};
    if (std::find(groups.begin(), groups.end(), group) == groups.end()) groups.push_back(group);
  }
  for (const auto& [workload, threads] : groups) {
    const Row* ours = results.find("mantis", workload, threads);
    bool first = true;
    for (const Row& row : results.rows) {
      if (row.workload != workload || row.threads != threads) continue;
      std::string ratio;
      if (ours != nullptr && &row != ours && row.m.ops_per_sec() > 0)
        ratio = format_ratio(ours->m.ops_per_sec() / row.m.ops_per_sec());
      std::printf("%-16s %4s %-7s %10s %8s %8s %8s %8s %8s %6llu %8llu %9s %8s\n", first ? workload.c_str() : "",
                  first ? std::to_string(threads).c_str() : "", row.impl.c_str(),
                  format_rate(row.m.ops_per_sec()).c_str(), format_nanos(static_cast<double>(row.m.p50_ns)).c_str(),
                  format_nanos(static_cast<double>(row.m.p95_ns)).c_str(),
                  format_nanos(static_cast<double>(row.m.p99_ns)).c_str(),
                  format_nanos(static_cast<double>(row.m.p999_ns)).c_str(),
                  format_nanos(static_cast<double>(row.m.max_ns)).c_str(),
                  static_cast<unsigned long long>(row.m.errors), static_cast<unsigned long long>(row.m.misses),
                  format_mib(row.m.peak_rss_bytes).c_str(), ratio.c_str());
      first = false;
    }
  }
}

void print_footprints(const Results& results, const Config& config) {
  if (results.footprints.empty()) return;
  std::printf(
      "\nResident bytes per key after loading %llu keys (RSS delta of the load, each implementation alone "
      "in a forked child; payload = 16 + %zu bytes)\n\n",
      static_cast<unsigned long long>(config.keys), config.value_size);
  const Footprint* map = nullptr;
  for (const Footprint& f : results.footprints) {
    if (f.impl == "stdmap") map = &f;
  }
  std::printf("%-8s %12s %14s %12s\n", "impl", "bytes/key", "over payload", "vs stdmap");
  for (const Footprint& f : results.footprints) {
    const double payload = static_cast<double>(kKeySize + config.value_size);
    std::printf(
        "%-8s %12.1f %14.1f %12s\n", f.impl.c_str(), f.bytes_per_key, f.bytes_per_key - payload,
        map != nullptr && map->bytes_per_key > 0 ? format_ratio(f.bytes_per_key / map->bytes_per_key).c_str() : "-");
  }
}

void print_timing(const Results& results, const TimingCalibration& timing) {
  double worst = 0;
  std::string where = "-";
  for (const Row& row : results.rows) {
    if (row.m.timing_overhead_pct > worst) {
      worst = row.m.timing_overhead_pct;
      where = row.impl + " " + row.workload + " " + std::to_string(row.threads) + "t";
    }
  }
  std::printf(
      "\nTiming: steady_clock::now() costs %.1f ns; each latency sample has the %llu ns of an empty "
      "interval subtracted.\nTwo clock reads per operation took at most %.1f%% of the CPU time of a "
      "phase (%s); throughput includes them.\n",
      timing.clock_read_ns, static_cast<unsigned long long>(timing.empty_interval_ns), worst, where.c_str());
}

}  // namespace

void print_report(const Results& results, const Config& config, const TimingCalibration& timing) {
  print_summary(results, config);
  print_details(results);
  print_footprints(results, config);
  print_timing(results, timing);
}

}  // namespace mantis::bench
