// The order of a mantis-bench run: timing calibration; then forked children, one per implementation,
// for the memory measurements (bytes per key after loading --keys keys; memory_pressure), while the
// process still has no other thread; then, per thread count and implementation, a store loaded in
// ascending key order (seq_write) for seq_read, and a fresh store loaded in a shuffled order
// (rand_insert) on which the other time-bounded phases run; then the cache phase.
#pragma once

#include "options.hpp"
#include "results.hpp"
#include "workloads.hpp"

namespace mantis::bench {

struct Run {
  Results results;
  TimingCalibration timing;  // what each latency sample had subtracted
};

// Runs every phase `config` selects. REQUIRES: init_cds_runtime() was called (peers.hpp).
Run run_benchmarks(const Config& config);

}  // namespace mantis::bench
