// cache_hit_ratio: replays key traces against mantis::Cache (each admission policy), the exact LRU
// (bench/exact_lru.hpp) and Belady's offline optimum (bench/belady.hpp) in the same run and prints hit
// ratios; then a 90% get / 10% put throughput comparison with get-hit latency percentiles.
//
// Usage: cache_hit_ratio [--quick] [--mix-only] [--trace FILE]... [--recency] [--sizes N,N,...] [--csv]
//                        [--max-below-lru POINTS] [--min-of-opt FRACTION]
//   --quick: shorter synthetic traces, for smoke runs; --mix-only: skip the hit-ratio replays.
//   --trace FILE: replay a trace file (bench/trace.hpp: one key per line, or ARC's "start count ..."
//     lines) at each of --sizes entries (default: 1/16 .. 1/2 of its distinct keys); --recency: replay
//     a generated recency-skewed trace (mostly new keys, short reuse distances). Either one skips the
//     synthetic Zipf and loop traces and the throughput run. --csv: the rows as CSV instead of a table.
//   --max-below-lru, --min-of-opt: exit 1 if kAdaptive's hit ratio is more than POINTS below
//     exact LRU's, or below FRACTION of OPT's, on any row (for CI).
// Hit ratios replay single-threaded on one shard: get, and put on a miss. Every cache charges entries
// the same way (key + value + Cache::kEntryOverhead) and all keys have one size, so each holds the same
// number of entries.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <time.h>

#include <mantis/cache.hpp>

#include "belady.hpp"
#include "exact_lru.hpp"
#include "histogram.hpp"
#include "keys.hpp"
#include "trace.hpp"
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
using mantis::bench::Trace;

constexpr std::size_t kValueSize = 32;
constexpr std::uint64_t kKeys = 1'000'000;

const std::string& value_bytes() {
  static const std::string value(kValueSize, 'v');
  return value;
}

// Exits with a message when the options are refused.
std::unique_ptr<Cache> open_cache(const CacheOptions& options) {
  std::unique_ptr<Cache> cache;
  if (const mantis::Status s = Cache::open(options, &cache); !s.ok()) {
    std::fprintf(stderr, "cache_hit_ratio: %s\n", s.to_string().c_str());
    std::exit(1);
  }
  return cache;
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

double replay_mantis(Admission admission, const KeySpace& keys, const Trace& trace, std::size_t room) {
  CacheOptions options;
  options.capacity = capacity_for(room);
  options.shard_bits = 0;
  options.admission = admission;
  return replay(*open_cache(options), keys, trace.requests);
}

// One row: every policy on one trace at one size, in the same run.
struct Row {
  std::string trace;
  std::size_t entries;
  double lru, opt, always, tiny_lfu, adaptive;
};

Row measure(const std::string& name, const KeySpace& keys, const Trace& trace, std::size_t room) {
  ExactLru lru(capacity_for(room), Cache::kEntryOverhead);
  Row row{name,
          room,
          replay(lru, keys, trace.requests),
          mantis::bench::belady_hit_ratio(trace.requests, trace.distinct, room),
          replay_mantis(Admission::kAlways, keys, trace, room),
          replay_mantis(Admission::kTinyLfu, keys, trace, room),
          replay_mantis(Admission::kAdaptive, keys, trace, room)};
  return row;
}

struct Report {
  bool csv = false;
  double max_below_lru = -1;  // < 0: no check
  double min_of_opt = -1;
  bool failed = false;

  void header() const {
    if (csv) {
      std::printf("trace,entries,exact_lru,opt,always,tinylfu,adaptive\n");
    } else {
      std::printf("%-28s %8s %9s %9s %9s %9s %9s %8s %8s\n", "trace", "entries", "exact-lru", "opt", "always",
                  "tinylfu", "adaptive", "ad/opt", "ad-lru");
    }
  }
  // Prints the row and checks kAdaptive's figures against the limits.
  void print(const Row& row) {
    const double of_opt = row.opt > 0 ? row.adaptive / row.opt : 1.0;
    if (csv) {
      std::printf("%s,%zu,%.2f,%.2f,%.2f,%.2f,%.2f\n", row.trace.c_str(), row.entries, row.lru, row.opt, row.always,
                  row.tiny_lfu, row.adaptive);
    } else {
      std::printf("%-28s %8zu %8.2f%% %8.2f%% %8.2f%% %8.2f%% %8.2f%% %7.3fx %+8.2f\n", row.trace.c_str(), row.entries,
                  row.lru, row.opt, row.always, row.tiny_lfu, row.adaptive, of_opt, row.adaptive - row.lru);
    }
    if (max_below_lru >= 0 && row.adaptive < row.lru - max_below_lru) {
      std::fprintf(stderr, "FAIL %s @%zu: adaptive %.2f%% is more than %.2f points below exact LRU %.2f%%\n",
                   row.trace.c_str(), row.entries, row.adaptive, max_below_lru, row.lru);
      failed = true;
    }
    if (min_of_opt >= 0 && of_opt < min_of_opt) {
      std::fprintf(stderr, "FAIL %s @%zu: adaptive %.2f%% is %.3fx OPT %.2f%% (< %.3f)\n", row.trace.c_str(),
                   row.entries, row.adaptive, of_opt, row.opt, min_of_opt);
      failed = true;
    }
  }
};

void replay_trace(Report& report, const std::string& name, const Trace& trace, std::vector<std::size_t> sizes) {
  if (sizes.empty()) {
    for (std::uint64_t divisor : {16, 8, 4, 2}) sizes.push_back(std::max<std::size_t>(trace.distinct / divisor, 1));
  }
  const KeySpace keys(trace.distinct);
  for (std::size_t room : sizes) report.print(measure(name, keys, trace, room));
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

// The recency-skewed trace of --recency: 60% new keys, repeats within the last 2000 requests.
Trace recency_trace(bool quick) { return mantis::bench::recency_trace(quick ? 200'000 : 1'000'000, 0.6, 2000, 7); }
// 1500 is the LRU cliff (repeats reach back 2000 requests): where a sampled LRU strays most from exact LRU.
const std::vector<std::size_t> kRecencySizes = {100, 250, 500, 1000, 1500, 2000};

void print_synthetic_hit_ratios(Report& report, std::uint64_t trace_length) {
  FastRandom random(42);
  const ScrambledZipfian zipf(kKeys);
  Trace zipf_trace;
  zipf_trace.distinct = kKeys;
  zipf_trace.requests.resize(trace_length);
  for (auto& id : zipf_trace.requests) id = zipf.next(random);
  std::printf("hit ratio, single thread, one shard, get + put on miss (%llu requests per synthetic trace)\n",
              static_cast<unsigned long long>(trace_length));
  report.header();
  const KeySpace keys(kKeys);
  report.print(measure("zipf 0.99, 1M keys", keys, zipf_trace, kKeys / 100));
  report.print(measure("zipf 0.99, 1M keys", keys, zipf_trace, kKeys / 10));
  for (const std::uint64_t loop_keys : {std::uint64_t{10'000}, std::uint64_t{100'000}}) {
    Trace loop;
    loop.distinct = loop_keys;
    loop.requests.resize(trace_length);
    for (std::uint64_t i = 0; i < trace_length; ++i) loop.requests[i] = i % loop_keys;
    const std::string name = "loop over " + std::to_string(loop_keys) + " keys";
    report.print(measure(name, keys, loop, loop_keys / 2));
    report.print(measure(name, keys, loop, loop_keys + loop_keys / 10));
  }
  replay_trace(report, "recency (60% new)", recency_trace(trace_length < 5'000'000), kRecencySizes);
}

std::vector<std::size_t> parse_sizes(const char* text) {
  std::vector<std::size_t> sizes;
  for (const char* p = text; *p != '\0';) {
    char* end = nullptr;
    sizes.push_back(static_cast<std::size_t>(std::strtoull(p, &end, 10)));
    if (end == p) break;
    p = *end == ',' ? end + 1 : end;
  }
  return sizes;
}

}  // namespace

int main(int argc, char** argv) {
  bool quick = false;
  bool mix_only = false;
  bool recency = false;
  std::vector<std::string> trace_files;
  std::vector<std::size_t> sizes;
  Report report;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const bool has_value = i + 1 < argc;
    if (arg == "--quick") {
      quick = true;
    } else if (arg == "--mix-only") {
      mix_only = true;
    } else if (arg == "--recency") {
      recency = true;
    } else if (arg == "--csv") {
      report.csv = true;
    } else if (arg == "--trace" && has_value) {
      trace_files.emplace_back(argv[++i]);
    } else if (arg == "--sizes" && has_value) {
      sizes = parse_sizes(argv[++i]);
    } else if (arg == "--max-below-lru" && has_value) {
      report.max_below_lru = std::atof(argv[++i]);
    } else if (arg == "--min-of-opt" && has_value) {
      report.min_of_opt = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "unknown or incomplete argument: %s (see the comment at the top of cache_hit_ratio.cpp)\n",
                   argv[i]);
      return 2;
    }
  }
  if (!trace_files.empty() || recency) {
    report.header();
    for (const std::string& file : trace_files) {
      try {
        const Trace trace = mantis::bench::load_trace(file);
        const std::size_t slash = file.find_last_of('/');
        replay_trace(report, slash == std::string::npos ? file : file.substr(slash + 1), trace, sizes);
      } catch (const std::exception& error) {
        std::fprintf(stderr, "%s\n", error.what());
        return 2;
      }
    }
    if (recency) replay_trace(report, "recency (60% new)", recency_trace(quick), sizes.empty() ? kRecencySizes : sizes);
    return report.failed ? 1 : 0;
  }

  const std::uint64_t trace_length = quick ? 1'000'000 : 5'000'000;
  if (!mix_only) print_synthetic_hit_ratios(report, trace_length);

  const KeySpace keys(kKeys);
  const ScrambledZipfian zipf(kKeys);
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
    // "adaptive" is kAdaptive; "always" is plain approximate LRU, the default.
    for (const auto& [name, admission] :
         {std::pair{"adaptive", Admission::kAdaptive}, std::pair{"always", Admission::kAlways}}) {
      CacheOptions options;
      options.capacity = capacity_for(kKeys / 10);
      options.admission = admission;
      const auto cache_owner = open_cache(options);
      Cache& cache = *cache_owner;
      warm(cache, keys, zipf, 2'000'000);
      const MixResult result = run_mix(cache, threads, keys, zipf, ops_per_thread);
      const mantis::CacheStats stats = cache.stats();
      std::printf("%-8s %8d %14.0f %12.0f %8.0fns %8.0fns   %.2fx lru, hit ratio %.1f%%\n", name, threads,
                  result.ops_per_second, result.cpu_ns_per_op, result.hit_p50_ns, result.hit_p99_ns,
                  result.ops_per_second / lru_ops[threads], 100 * stats.hit_ratio);
    }
  }
  return 0;
}
