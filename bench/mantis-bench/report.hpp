// mantis-bench's reports of a run: the text tables on stdout, and the JSON and CSV files.
#pragma once

#include <string>

#include "options.hpp"
#include "results.hpp"
#include "workloads.hpp"

namespace mantis::bench {

// The summary (best over thread counts), every phase, the footprints and the timing note, on stdout.
void print_report(const Results& results, const Config& config, const TimingCalibration& timing);
// Every result, the configuration, the machine and the timing as one JSON object. False if the file
// could not be written.
bool write_json(const std::string& path, const Results& results, const Config& config, const TimingCalibration& timing);
// One CSV line per result row (scripts/plot_bench.sh charts it). False if the file could not be written.
bool write_csv(const std::string& path, const Results& results);

}  // namespace mantis::bench
