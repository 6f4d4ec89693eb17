// mantis-bench: the benchmark suite (sequential and random writes and reads, concurrent operations,
// cache hits, memory) rerun unthrottled on mantis::Engine, plus YCSB A/B/C/E, side by side with peers
// (std::map + shared_mutex, libcds SkipListMap, an exact LRU) in the same process and run, on
// identical keys and workloads. `mantis-bench --help` lists the flags; docs/BENCHMARKS.md explains the
// method and shows a full run. One component a file: options (the command line), runner (the order
// of the phases), results, and the text, JSON and CSV reports.
//
// Exit status: 0 when every operation succeeded, 1 on any error, 2 on bad flags.
#include <iostream>
#include <optional>

#include "options.hpp"
#include "peers.hpp"
#include "report.hpp"
#include "runner.hpp"

int main(int argc, char** argv) {
  using namespace mantis::bench;
  Config config;
  if (const std::optional<int> status = parse_options(argc, argv, &config)) return *status;
  // libcds (shared by the engine and the cds peer) before anything else touches it; see peers.hpp.
  init_cds_runtime();

  const Run run = run_benchmarks(config);
  const Results& results = run.results;
  print_report(results, config, run.timing);
  if (!config.json_path.empty() && !write_json(config.json_path, results, config, run.timing)) {
    std::cerr << "mantis-bench: cannot write " << config.json_path << "\n";
    return 1;
  }
  if (!config.csv_path.empty() && !write_csv(config.csv_path, results)) {
    std::cerr << "mantis-bench: cannot write " << config.csv_path << "\n";
    return 1;
  }
  for (const std::string& failure : results.failures) std::cerr << "mantis-bench: FAILED: " << failure << "\n";
  if (results.errors() != 0) {
    std::cerr << "mantis-bench: " << results.errors() << " operations failed\n";
  }
  return results.errors() == 0 && results.failures.empty() ? 0 : 1;
}
