#include <fstream>
#include <iomanip>
#include <string>

#include "report.hpp"

namespace mantis::bench {

bool write_csv(const std::string& path, const Results& results) {
  std::ofstream out(path);
  out << std::setprecision(12);
  out << "impl,workload,threads,ops,seconds,ops_per_sec,mean_ns,p50_ns,p95_ns,p99_ns,p999_ns,max_ns,errors,misses,"
         "peak_rss_bytes,rss_delta_bytes,timing_overhead_pct,in_child,mantis_ratio\n";
  for (const Row& row : results.rows) {
    const Measurement& m = row.m;
    out << row.impl << ',' << row.workload << ',' << row.threads << ',' << m.ops << ',' << m.seconds << ','
        << m.ops_per_sec() << ',' << m.mean_ns << ',' << m.p50_ns << ',' << m.p95_ns << ',' << m.p99_ns << ','
        << m.p999_ns << ',' << m.max_ns << ',' << m.errors << ',' << m.misses << ',' << m.peak_rss_bytes << ','
        << m.rss_delta_bytes << ',' << m.timing_overhead_pct << ',' << (m.in_child ? 1 : 0) << ','
        << mantis_ratio(results, row) << '\n';
  }
  return static_cast<bool>(out);
}

}  // namespace mantis::bench
