// What one mantis-bench run measured: a row per (implementation, workload, thread count), the
// per-key footprints, and the phases that could not run. The report writers read it.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "workloads.hpp"

namespace mantis::bench {

struct Row {
  std::string impl;
  std::string workload;
  int threads = 0;
  Measurement m;
};

struct Footprint {
  std::string impl;
  double bytes_per_key = 0;
  double peak_rss_bytes = 0;
};

struct Results {
  std::vector<Row> rows;
  std::vector<Footprint> footprints;
  std::vector<std::string> failures;  // phases that could not run (a child that died)
  std::string load_before;            // /proc/loadavg at the start and the end: how busy the machine was
  std::string load_after;

  const Row* find(std::string_view impl, std::string_view workload, int threads) const {
    for (const Row& row : rows) {
      if (row.impl == impl && row.workload == workload && row.threads == threads) return &row;
    }
    return nullptr;
  }
  std::uint64_t errors() const {
    std::uint64_t total = 0;
    for (const Row& row : rows) total += row.m.errors;
    return total;
  }
};

// mantis's ops/s over `row`'s at the same workload and thread count; 0 for mantis's own rows or
// when there is nothing to compare.
inline double mantis_ratio(const Results& results, const Row& row) {
  if (row.impl == "mantis" || row.m.ops_per_sec() <= 0) return 0;
  const Row* ours = results.find("mantis", row.workload, row.threads);
  return ours == nullptr ? 0 : ours->m.ops_per_sec() / row.m.ops_per_sec();
}

}  // namespace mantis::bench
