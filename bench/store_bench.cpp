// Micro-benchmarks of detail::Store, the lock-free skiplist under the Engine: get, overwrite and short
// scans on a shared store of 2^20 16-byte keys with 100-byte values, on 1 and 2 threads.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <new>
#include <string>

#include "store/record.hpp"
#include "store/scan_batch.hpp"
#include "store/store.hpp"

#include "keys.hpp"
#include "zipf.hpp"

namespace mantis::bench {
namespace {

constexpr std::uint64_t kKeys = std::uint64_t{1} << 20;
constexpr std::size_t kValueSize = 100;

struct LoadedStore {
  KeySpace keys{kKeys};
  detail::Store store;

  LoadedStore() {
    std::string value;
    for (std::uint64_t i = 0; i < kKeys; ++i) put(i, value);
  }
  void put(std::uint64_t index, std::string& value) {
    fill_value(keys.key(index), kValueSize, &value);
    detail::Record* record = detail::Record::create(value, 0, index);
    if (record == nullptr || store.put(keys.key(index), record) == detail::Store::PutOutcome::kOutOfMemory) {
      throw std::bad_alloc();
    }
  }
};

// Built on first use and shared by every benchmark and thread (loading takes about a second).
LoadedStore& loaded_store() {
  static LoadedStore loaded;
  return loaded;
}

void BM_StoreGet(benchmark::State& state) {
  LoadedStore& loaded = loaded_store();
  FastRandom random(static_cast<std::uint64_t>(state.thread_index()) + 1);
  std::string value;
  for (auto _ : state) {
    const bool found = loaded.store.read(loaded.keys.key(random.below(kKeys)),
                                         [&](const detail::Record& record) { value.assign(record.value()); });
    benchmark::DoNotOptimize(found);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreGet)->ThreadRange(1, 2)->UseRealTime();

void BM_StoreOverwrite(benchmark::State& state) {
  LoadedStore& loaded = loaded_store();
  FastRandom random(static_cast<std::uint64_t>(state.thread_index()) + 101);
  std::string value;
  for (auto _ : state) loaded.put(random.below(kKeys), value);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_StoreOverwrite)->ThreadRange(1, 2)->UseRealTime();

// Collects state.range(0) entries from a random start key, as one step of an engine scan does.
void BM_StoreCollect(benchmark::State& state) {
  LoadedStore& loaded = loaded_store();
  FastRandom random(static_cast<std::uint64_t>(state.thread_index()) + 201);
  const auto limit = static_cast<std::size_t>(state.range(0));
  detail::ScanBatch batch;
  for (auto _ : state) {
    loaded.store.collect(loaded.keys.key(random.below(kKeys)), true, {}, false, limit, batch);
    benchmark::DoNotOptimize(batch.size());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_StoreCollect)->Arg(16)->Arg(256)->ThreadRange(1, 2)->UseRealTime();

}  // namespace
}  // namespace mantis::bench
