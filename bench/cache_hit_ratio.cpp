// cache_hit_ratio: replays key traces against mantis::Cache and the exact LRU (bench/exact_lru.hpp) and
// prints hit ratios, then a 90% get / 10% put throughput comparison with get-hit latency percentiles.
//
// Usage: cache_hit_ratio [--quick] [--mix-only]
//   --quick: shorter traces, for smoke runs; --mix-only: skip the hit-ratio replays.
// Hit ratios replay single-threaded: get, and put on a miss. Both caches charge entries the same way
// (key + value + Cache::kEntryOverhead), so they hold the same number of entries.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <time.h>

#include <mantis/cache.hpp>

#include "exact_lru.hpp"
#include "histogram.hpp"
#include "keys.hpp"
#include "zipf.hpp"

namespace {

using mantis::Admission;
using mantis::Cache;
using mantis::CacheOptions;
using mantis::bench::ExactLru;
using mantis::bench::FastRandom;
using mantis::bench::KeySpace;
using mantis::bench::kKeySize;
using mantis::bench::LatencyHistogram;
using mantis::bench::ScrambledZipfian;

constexpr std::size_t kValueSize = 32;
constexpr std::uint64_t kKeys = 1'000'000;

const std::string& value_bytes() {
  static const std::string value(kValueSize, 'v');
  return value;
}

std::size_t capacity_for(std::size_t entries) { return entries * (kKeySize + kValueSize + Cache::kEntryOverhead); }

template <class CacheT>
double replay(CacheT& cache, const KeySpace& keys, const std::vector<std::uint64_t>& trace) {
  std::string value;
  std::uint64_t hits = 0;
  for (std::uint64_t id : trace) {
    const std::string_view key = keys.key(id);
    if constexpr (std::is_same_v<CacheT, ExactLru>) {
      if (cache.get(key, &value)) {
        ++hits;
      } else {
        cache.put(key, value_bytes());
      }
    } else {
      if (cache.get(key, &value).ok()) {
        ++hits;
      } else if (!cache.put(key, value_bytes()).ok()) {
        std::fprintf(stderr, "put failed\n");
        std::exit(1);
      }
    }
  }
  return 100.0 * static_cast<double>(hits) / static_cast<double>(trace.size());
}

void hit_ratio_row(const char* name, const KeySpace& keys, const std::vector<std::uint64_t>& trace, std::size_t room) {
  ExactLru lru(capacity_for(room), Cache::kEntryOverhead);
  CacheOptions options;
  options.capacity = capacity_for(room);
  Cache always(options);
  options.admission = Admission::kTinyLfu;
  Cache tiny_lfu(options);
  const double lru_ratio = replay(lru, keys, trace);
  const double always_ratio = replay(always, keys, trace);
  const double tiny_lfu_ratio = replay(tiny_lfu, keys, trace);
  std::printf("%-34s %9zu %9.2f%% %9.2f%% %+8.2f %9.2f%%\n", name, room, lru_ratio, always_ratio,
              always_ratio - lru_ratio, tiny_lfu_ratio);
}

// Throughput of a 90% get / 10% put Zipf mix (YCSB's scrambled Zipfian); every 8th get is timed and
// kept when it hit.
struct MixResult {
  double ops_per_second;
  double cpu_ns_per_op;  // thread CPU time per operation: robust when other processes share the cores
  double hit_p50_ns;
  double hit_p99_ns;
};

double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

template <class CacheT>
MixResult run_mix(CacheT& cache, int threads, const KeySpace& keys, const ScrambledZipfian& zipf,
                  std::uint64_t ops_per_thread) {
  std::vector<LatencyHistogram> latencies(static_cast<std::size_t>(threads));
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::vector<std::thread> workers;
  std::vector<double> seconds(static_cast<std::size_t>(threads));
  std::vector<double> cpu_seconds(static_cast<std::size_t>(threads));
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      FastRandom random(static_cast<std::uint64_t>(t) * 7919 + 1);
      std::vector<std::string_view> ops_keys;
      std::vector<bool> is_get;
      ops_keys.reserve(ops_per_thread);
      for (std::uint64_t i = 0; i < ops_per_thread; ++i) {
        ops_keys.push_back(keys.key(zipf.next(random)));
        is_get.push_back(random.below(10) != 0);
      }
      LatencyHistogram& mine = latencies[static_cast<std::size_t>(t)];
      std::string value;
      ready.fetch_add(1);
      while (!go.load()) std::this_thread::yield();
      const double cpu_start = thread_cpu_seconds();
      const auto start = std::chrono::steady_clock::now();
      for (std::uint64_t i = 0; i < ops_per_thread; ++i) {
        if (!is_get[i]) {
          (void)cache.put(ops_keys[i], value_bytes());
          continue;
        }
        if (i % 8 != 0) {
          (void)cache.get(ops_keys[i], &value);
          continue;
        }
        const auto before = std::chrono::steady_clock::now();
        bool hit;
        if constexpr (std::is_same_v<CacheT, ExactLru>) {
          hit = cache.get(ops_keys[i], &value);
        } else {
          hit = cache.get(ops_keys[i], &value).ok();
        }
        const auto after = std::chrono::steady_clock::now();
        if (hit) mine.record(static_cast<std::uint64_t>(std::chrono::nanoseconds(after - before).count()));
      }
      seconds[static_cast<std::size_t>(t)] =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      cpu_seconds[static_cast<std::size_t>(t)] = thread_cpu_seconds() - cpu_start;
    });
  }
  while (ready.load() < threads) std::this_thread::yield();
  go.store(true);
  for (std::thread& worker : workers) worker.join();
  LatencyHistogram all;
  for (const LatencyHistogram& mine : latencies) all.merge(mine);
  auto percentile = [&](double q) { return static_cast<double>(all.percentile(q)); };
  const double wall = *std::max_element(seconds.begin(), seconds.end());
  double cpu_total = 0;
  for (double cpu : cpu_seconds) cpu_total += cpu;
  const double total_ops = static_cast<double>(ops_per_thread) * threads;
  return {total_ops / wall, cpu_total * 1e9 / total_ops, percentile(0.50), percentile(0.99)};
}

template <class CacheT>
void warm(CacheT& cache, const KeySpace& keys, const ScrambledZipfian& zipf, std::uint64_t ops) {
  FastRandom random(99);
  for (std::uint64_t i = 0; i < ops; ++i) (void)cache.put(keys.key(zipf.next(random)), value_bytes());
}

void print_hit_ratios(const KeySpace& keys, const ScrambledZipfian& zipf, std::uint64_t trace_length,
                      FastRandom& random) {
  std::vector<std::uint64_t> zipf_trace(trace_length);
  for (auto& id : zipf_trace) id = zipf.next(random);
  std::printf("hit ratio, single thread, get + put on miss (%llu requests per trace)\n",
              static_cast<unsigned long long>(trace_length));
  std::printf("%-34s %9s %10s %10s %8s %10s\n", "trace", "room", "exact-lru", "mantis", "diff-pp", "tinylfu");
  hit_ratio_row("zipf 0.99, 1M keys, room 1%", keys, zipf_trace, kKeys / 100);
  hit_ratio_row("zipf 0.99, 1M keys, room 10%", keys, zipf_trace, kKeys / 10);
  for (const std::uint64_t loop_keys : {std::uint64_t{10'000}, std::uint64_t{100'000}}) {
    std::vector<std::uint64_t> loop_trace(trace_length);
    for (std::uint64_t i = 0; i < trace_length; ++i) loop_trace[i] = i % loop_keys;
    const std::string name = "loop over " + std::to_string(loop_keys) + " keys, room N/2";
    hit_ratio_row(name.c_str(), keys, loop_trace, loop_keys / 2);
    const std::string name_fits = "loop over " + std::to_string(loop_keys) + " keys, room 1.1N";
    hit_ratio_row(name_fits.c_str(), keys, loop_trace, loop_keys + loop_keys / 10);
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  bool mix_only = false;
  for (int i = 1; i < argc; ++i) {
    quick = quick || std::strcmp(argv[i], "--quick") == 0;
    mix_only = mix_only || std::strcmp(argv[i], "--mix-only") == 0;
  }
  const std::uint64_t trace_length = quick ? 1'000'000 : 5'000'000;
  FastRandom random(42);
  const KeySpace keys(kKeys);
  const ScrambledZipfian zipf(kKeys);
  if (!mix_only) print_hit_ratios(keys, zipf, trace_length, random);

  std::printf("\n90%% get / 10%% put, zipf 0.99 over 1M keys, room for 10%%, %zu-byte values\n", kValueSize);
  std::printf("%-8s %8s %14s %12s %10s %10s\n", "cache", "threads", "ops/s", "cpu ns/op", "hit p50", "hit p99");
  const std::uint64_t ops_per_thread = quick ? 500'000 : 2'000'000;
  double lru_ops[3] = {};
  for (int threads : {1, 2}) {
    ExactLru lru(capacity_for(kKeys / 10), Cache::kEntryOverhead);
    warm(lru, keys, zipf, 2'000'000);
    const MixResult lru_result = run_mix(lru, threads, keys, zipf, ops_per_thread);
    lru_ops[threads] = lru_result.ops_per_second;
    std::printf("%-8s %8d %14.0f %12.0f %8.0fns %8.0fns\n", "lru", threads, lru_result.ops_per_second,
                lru_result.cpu_ns_per_op, lru_result.hit_p50_ns, lru_result.hit_p99_ns);
    CacheOptions options;
    options.capacity = capacity_for(kKeys / 10);
    Cache cache(options);
    warm(cache, keys, zipf, 2'000'000);
    const MixResult result = run_mix(cache, threads, keys, zipf, ops_per_thread);
    std::printf("%-8s %8d %14.0f %12.0f %8.0fns %8.0fns   %.2fx lru\n", "mantis", threads, result.ops_per_second,
                result.cpu_ns_per_op, result.hit_p50_ns, result.hit_p99_ns, result.ops_per_second / lru_ops[threads]);
  }
  return 0;
}
