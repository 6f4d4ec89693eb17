// Micro-benchmarks of the stats counters: detail::StripedCounters (one cache line per thread stripe)
// against one shared atomic, the design it replaces, as threads are added; and the latency sampler the
// engine's hot paths construct per operation (what keeping Stats::latency on costs).
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>

#include "util/histogram.hpp"
#include "util/striped_counters.hpp"

namespace mantis::bench {
namespace {

void BM_StripedCountersAdd(benchmark::State& state) {
  static detail::StripedCounters<4> counters;
  for (auto _ : state) counters.add(1);
  benchmark::DoNotOptimize(counters.sum(1));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StripedCountersAdd)->ThreadRange(1, 4)->UseRealTime();

void BM_SharedAtomicAdd(benchmark::State& state) {
  static std::atomic<std::uint64_t> counter{0};
  for (auto _ : state) counter.fetch_add(1, std::memory_order_relaxed);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SharedAtomicAdd)->ThreadRange(1, 4)->UseRealTime();

// What Engine::stats() pays per counter: summing every stripe.
void BM_StripedCountersSum(benchmark::State& state) {
  detail::StripedCounters<4> counters;
  counters.add(2, 5);
  for (auto _ : state) benchmark::DoNotOptimize(counters.sum(2));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StripedCountersSum);

// One LatencySampler around an empty operation: a thread-local coin per call, and two clock reads
// plus a histogram record one time in kSampleEvery.
void BM_LatencySampler(benchmark::State& state) {
  static detail::Histogram histogram;
  for (auto _ : state) {
    const detail::LatencySampler timed(histogram);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_LatencySampler)->ThreadRange(1, 4)->UseRealTime();

// Every operation timed and recorded: what sampling saves.
void BM_HistogramRecordEveryOperation(benchmark::State& state) {
  static detail::Histogram histogram;
  for (auto _ : state) {
    const auto started = std::chrono::steady_clock::now();
    benchmark::ClobberMemory();
    histogram.record(detail::LatencySampler::elapsed_ns(started));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HistogramRecordEveryOperation)->ThreadRange(1, 4)->UseRealTime();

}  // namespace
}  // namespace mantis::bench
