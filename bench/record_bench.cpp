// Micro-benchmarks of detail::Record: encoding a value once per write (flatbuffers + mimalloc) and
// reading it back, on 1 and 2 threads (allocation is per thread in mimalloc, so it should scale).
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include "store/record.hpp"

namespace mantis::bench {
namespace {

void BM_RecordCreateDestroy(benchmark::State& state) {
  const std::string value(static_cast<std::size_t>(state.range(0)), 'v');
  std::uint64_t seq = 0;
  for (auto _ : state) {
    detail::Record* record = detail::Record::create(value, 0, ++seq);
    benchmark::DoNotOptimize(record);
    if (record != nullptr) detail::Record::unref(record);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_RecordCreateDestroy)->Arg(100)->Arg(8192)->ThreadRange(1, 2)->UseRealTime();

void BM_RecordReadValue(benchmark::State& state) {
  const std::string value(static_cast<std::size_t>(state.range(0)), 'v');
  detail::Record* record = detail::Record::create(value, 1'700'000'000'000, 7);
  if (record == nullptr) {
    state.SkipWithError("out of memory");
    return;
  }
  std::string copy;
  for (auto _ : state) {
    copy.assign(record->value());
    benchmark::DoNotOptimize(record->expired_at(1'600'000'000'000));
    benchmark::DoNotOptimize(copy.data());
  }
  detail::Record::unref(record);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecordReadValue)->Arg(100)->ThreadRange(1, 2)->UseRealTime();

// The flatbuffer a durable write logs and a checkpoint writes, per record.
void BM_RecordEncode(benchmark::State& state) {
  const std::string value(static_cast<std::size_t>(state.range(0)), 'v');
  detail::Record* record = detail::Record::create(value, 1'700'000'000'000, 7);
  if (record == nullptr) {
    state.SkipWithError("out of memory");
    return;
  }
  std::string scratch;
  for (auto _ : state) benchmark::DoNotOptimize(record->encoded(&scratch).data());
  detail::Record::unref(record);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RecordEncode)->Arg(100)->Arg(8192);

}  // namespace
}  // namespace mantis::bench
