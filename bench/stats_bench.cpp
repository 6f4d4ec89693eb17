// Micro-benchmarks of the stats counters: detail::StripedCounters (one cache line per thread stripe)
// against one shared atomic, the design it replaces, as threads are added.
#include <benchmark/benchmark.h>

#include <atomic>
#include <cstdint>

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

}  // namespace
}  // namespace mantis::bench
