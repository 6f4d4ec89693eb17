// The workloads of mantis-bench and the multi-threaded runner that times them.
//
// Keys and values are those of keys.hpp; every read is checked against them: a value of the wrong
// size or for another key is an error.
//
// Timing: each operation is bracketed by two steady_clock reads, and the latency recorded is the
// interval minus the calibrated cost of an empty interval (the median of back-to-back reads), clamped
// at 0. Key choice and value preparation happen outside the bracket. Throughput is measured with the
// timing in place; Measurement::timing_overhead_pct says what share of the CPU time the clock reads took.
//
// Not thread-safe: one runner drives one phase at a time; the runner owns its workers.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <latch>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "histogram.hpp"
#include "keys.hpp"
#include "peers.hpp"
#include "process.hpp"
#include "zipf.hpp"

namespace mantis::bench {

using SteadyClock = std::chrono::steady_clock;

enum class Workload {
  kSeqWrite,
  kRandInsert,
  kSeqRead,
  kRandWrite,
  kRandRead,
  kHighThroughput,
  kMemoryPressure,
  kConcurrent,
  kCacheHits,
  kYcsbA,
  kYcsbB,
  kYcsbC,
  kYcsbE,
  kCompareAndSet,
  kIncrement,
  kBatch,
  kTransaction,
  kSnapshotGet,
  kRecovery,
};

struct WorkloadInfo {
  Workload workload;
  std::string_view name;
  std::string_view description;
};

inline constexpr std::array kWorkloads = {
    WorkloadInfo{Workload::kSeqWrite, "seq_write", "load every key once, ascending, slices per thread (own store)"},
    WorkloadInfo{Workload::kSeqRead, "seq_read", "get, ascending within each thread's slice (seq_write's store)"},
    WorkloadInfo{Workload::kRandInsert, "rand_insert",
                 "load every key once in a shuffled order: the store every later phase runs on"},
    WorkloadInfo{Workload::kRandWrite, "rand_write", "put (overwrite), uniform random keys"},
    WorkloadInfo{Workload::kRandRead, "rand_read", "get, uniform random keys"},
    WorkloadInfo{Workload::kHighThroughput, "high_throughput", "80% get / 20% put, uniform, all threads"},
    WorkloadInfo{Workload::kMemoryPressure, "memory_pressure", "load keys/16 keys with 8 KiB values (forked child)"},
    WorkloadInfo{Workload::kConcurrent, "concurrent", "40 workers, 80% get / 20% put, uniform"},
    WorkloadInfo{Workload::kCacheHits, "cache_hits", "standalone cache: get of resident keys"},
    WorkloadInfo{Workload::kYcsbA, "ycsb_a", "YCSB A: 50% read / 50% update, Zipf 0.99"},
    WorkloadInfo{Workload::kYcsbB, "ycsb_b", "YCSB B: 95% read / 5% update, Zipf 0.99"},
    WorkloadInfo{Workload::kYcsbC, "ycsb_c", "YCSB C: 100% read, Zipf 0.99"},
    WorkloadInfo{Workload::kYcsbE, "ycsb_e", "YCSB E: 95% scan of 1-100 keys / 5% insert, Zipf 0.99"},
    WorkloadInfo{Workload::kCompareAndSet, "cas",
                 "read-modify-write: get with the version, then compare-and-set, uniform (peers that have it)"},
    WorkloadInfo{Workload::kIncrement, "increment",
                 "increment a decimal counter, uniform over keys/16 counters of their own (peers that have it)"},
    WorkloadInfo{Workload::kBatch, "batch", "a batch putting 4 keys at once, Zipf 0.99 (peers that have it)"},
    WorkloadInfo{Workload::kTransaction, "txn",
                 "a transaction reading then writing 4 keys, Zipf 0.99, retried on conflict; the misses "
                 "column counts the retries (peers that have it)"},
    WorkloadInfo{Workload::kSnapshotGet, "snapshot_get",
                 "take a snapshot, get one key through it, release it, uniform (peers that have snapshots)"},
    WorkloadInfo{Workload::kRecovery, "recovery",
                 "with --dir: reopen from the log, checkpoint, reopen from the snapshot"},
};

inline std::string_view workload_name(Workload workload) {
  for (const WorkloadInfo& info : kWorkloads) {
    if (info.workload == workload) return info.name;
  }
  return "?";
}

inline std::optional<Workload> parse_workload(std::string_view name) {
  for (const WorkloadInfo& info : kWorkloads) {
    if (info.name == name) return info.workload;
  }
  return std::nullopt;
}

// The concurrent-operations phase always runs this many workers (MantisDB's figure).
inline constexpr int kConcurrentWorkers = 40;
// memory_pressure writes keys / kMemoryPressureKeyDivisor keys of kLargeValueSize bytes.
inline constexpr std::size_t kLargeValueSize = 8192;
inline constexpr std::uint64_t kMemoryPressureKeyDivisor = 16;
// YCSB E scans a uniform number of keys in [1, kMaxScanLength].
inline constexpr std::uint64_t kMaxScanLength = 100;

struct TimingCalibration {
  double clock_read_ns = 0;             // mean cost of one steady_clock::now()
  std::uint64_t empty_interval_ns = 0;  // median (t1 - t0) of back-to-back reads: subtracted per sample
};

// Medians, not means: other processes preempting the calibration must not inflate it.
inline TimingCalibration calibrate_timing() {
  constexpr std::size_t kBatches = 2000;
  constexpr int kReadsPerBatch = 64;
  TimingCalibration calibration;
  std::vector<double> per_read(kBatches);
  for (double& cost : per_read) {
    const auto begin = SteadyClock::now();
    for (int i = 0; i < kReadsPerBatch; ++i) static_cast<void>(SteadyClock::now());
    const auto end = SteadyClock::now();
    cost = std::chrono::duration<double, std::nano>(end - begin).count() / (kReadsPerBatch + 1);
  }
  const auto middle = static_cast<std::ptrdiff_t>(kBatches / 2);
  std::nth_element(per_read.begin(), per_read.begin() + middle, per_read.end());
  calibration.clock_read_ns = per_read[kBatches / 2];
  std::vector<std::uint64_t> intervals(kBatches * 16);
  for (auto& interval : intervals) {
    const auto t0 = SteadyClock::now();
    const auto t1 = SteadyClock::now();
    interval = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
  }
  const auto median = static_cast<std::ptrdiff_t>(intervals.size() / 2);
  std::nth_element(intervals.begin(), intervals.begin() + median, intervals.end());
  calibration.empty_interval_ns = intervals[intervals.size() / 2];
  return calibration;
}

// One phase's result. Trivially copyable: it crosses the pipe from a forked child.
struct Measurement {
  std::uint64_t ops = 0;
  std::uint64_t errors = 0;
  std::uint64_t misses = 0;  // tolerated misses: cache misses, or cds reads racing an overwrite
  double seconds = 0;
  double mean_ns = 0;
  std::uint64_t p50_ns = 0, p95_ns = 0, p99_ns = 0, p999_ns = 0, max_ns = 0;
  double peak_rss_bytes = 0;       // VmHWM at the end of the phase
  bool peak_rss_is_phase = false;  // VmHWM was reset at the phase start (else: the process's peak)
  double rss_delta_bytes = 0;      // VmRSS end - start
  double timing_overhead_pct = 0;
  bool in_child = false;  // measured alone in a forked child

  double ops_per_sec() const noexcept { return seconds > 0 ? static_cast<double>(ops) / seconds : 0.0; }
};

// Fills m's operation count and latency figures from `latencies`.
inline void record_latencies(const LatencyHistogram& latencies, Measurement& m) {
  m.ops = latencies.count();
  m.mean_ns = latencies.mean();
  m.p50_ns = latencies.percentile(0.50);
  m.p95_ns = latencies.percentile(0.95);
  m.p99_ns = latencies.percentile(0.99);
  m.p999_ns = latencies.percentile(0.999);
  m.max_ns = latencies.max();
}

// Per-worker state: its random source, histogram and counters, and reusable buffers.
class Worker {
 public:
  // `deadline` is shared by all workers of a phase and written before they are released.
  Worker(int worker_index, int worker_count, const SteadyClock::time_point* deadline, std::uint64_t bias_ns)
      : index(worker_index),
        threads(worker_count),
        random(0x6d616e746973ULL + static_cast<std::uint64_t>(worker_index) * 7919),
        deadline_(deadline),
        bias_ns_(bias_ns) {}

  // Times op(), records its latency, and returns false once the phase deadline has passed.
  template <class Op>
  bool timed(Op&& op) {
    const auto start = SteadyClock::now();
    op();
    const auto end = SteadyClock::now();
    const auto nanos =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(end - start).count());
    histogram.record(nanos > bias_ns_ ? nanos - bias_ns_ : 0);
    return end < *deadline_;
  }
  // This worker's share [slice_begin, slice_end) of `count` items.
  std::uint64_t slice_begin(std::uint64_t count) const noexcept { return share(count, index); }
  std::uint64_t slice_end(std::uint64_t count) const noexcept { return share(count, index + 1); }

  const int index;
  const int threads;
  FastRandom random;
  LatencyHistogram histogram;
  std::uint64_t errors = 0;
  std::uint64_t misses = 0;
  std::string value;     // what this worker writes
  std::string read_buf;  // where reads land

 private:
  std::uint64_t share(std::uint64_t count, int part) const noexcept {
    return count * static_cast<std::uint64_t>(part) / static_cast<std::uint64_t>(threads);
  }

  const SteadyClock::time_point* deadline_;
  std::uint64_t bias_ns_;
};

// Called on the main thread about every 200 ms while a phase runs, with the seconds elapsed.
using ProgressFn = std::function<void(double elapsed_seconds)>;

// Runs body(worker) on `threads` new threads, each calling attach() first and detach() last, all
// released together. With `seconds` the workers stop at the deadline (body loops while
// worker.timed() returns true); without it each body runs to completion.
template <class Attach, class Detach, class Body>
Measurement run_workers(int threads, std::optional<double> seconds, const TimingCalibration& timing, Attach&& attach,
                        Detach&& detach, Body&& body, const ProgressFn& progress) {
  Measurement m;
  m.peak_rss_is_phase = reset_peak_resident();
  const double rss_start = resident_bytes();
  SteadyClock::time_point start{};
  SteadyClock::time_point deadline = SteadyClock::time_point::max();
  std::vector<std::unique_ptr<Worker>> workers;
  for (int i = 0; i < threads; ++i)
    workers.push_back(std::make_unique<Worker>(i, threads, &deadline, timing.empty_interval_ns));

  // The latch orders main's writes of `start` and `deadline` before every worker's reads.
  std::latch ready(threads + 1);
  std::atomic<int> finished{0};
  std::atomic<std::int64_t> last_end_ns{0};
  std::vector<std::thread> pool;
  pool.reserve(static_cast<std::size_t>(threads));
  for (int i = 0; i < threads; ++i) {
    pool.emplace_back([&, i] {
      attach();
      ready.arrive_and_wait();
      body(*workers[static_cast<std::size_t>(i)]);
      const std::int64_t end_ns =
          std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - start).count();
      std::int64_t latest = last_end_ns.load(std::memory_order_relaxed);
      while (latest < end_ns && !last_end_ns.compare_exchange_weak(latest, end_ns, std::memory_order_relaxed)) {
      }
      detach();
      // Release: pairs with the acquire below, though join() is what publishes the workers' results.
      finished.fetch_add(1, std::memory_order_release);
    });
  }
  start = SteadyClock::now();
  if (seconds)
    deadline = start + std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(*seconds));
  ready.arrive_and_wait();
  // Poll often so a short phase ends promptly; report progress every 20 polls.
  for (int polls = 1; finished.load(std::memory_order_acquire) < threads; ++polls) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    if (polls % 20 == 0) progress(std::chrono::duration<double>(SteadyClock::now() - start).count());
  }
  for (auto& thread : pool) thread.join();

  LatencyHistogram merged;
  for (const auto& worker : workers) {
    merged.merge(worker->histogram);
    m.errors += worker->errors;
    m.misses += worker->misses;
  }
  record_latencies(merged, m);
  m.seconds = static_cast<double>(last_end_ns.load()) / 1e9;
  m.peak_rss_bytes = peak_resident_bytes();
  m.rss_delta_bytes = resident_bytes() - rss_start;
  // The clock reads' share of the CPU time the phase had: wall time x the cores its workers could use.
  const double cores = std::min<double>(threads, std::max(1u, std::thread::hardware_concurrency()));
  const double cpu_ns = m.seconds * 1e9 * cores;
  m.timing_overhead_pct = cpu_ns > 0 ? 100.0 * 2.0 * timing.clock_read_ns * static_cast<double>(m.ops) / cpu_ns : 0.0;
  return m;
}

// What one KV phase needs besides its target and thread count.
struct PhaseContext {
  const KeySpace& keys;
  std::size_t value_size;
  double seconds;  // per time-bounded phase
  const ScrambledZipfian& zipf;
  std::atomic<std::uint64_t>& next_fresh_key;  // YCSB E inserts keys from keys.count() upwards
  const TimingCalibration& timing;
  const ProgressFn& progress;
};

// Operation mix of a time-bounded phase, in percent (they sum to 100).
struct OpMix {
  std::uint64_t read_pct = 0;
  std::uint64_t update_pct = 0;
  std::uint64_t scan_pct = 0;
  std::uint64_t insert_pct = 0;
  bool zipfian = false;  // else uniform over the loaded keys
};

inline OpMix mix_of(Workload workload) {
  switch (workload) {
    case Workload::kRandRead:
      return {.read_pct = 100};
    case Workload::kRandWrite:
      return {.update_pct = 100};
    case Workload::kHighThroughput:
    case Workload::kConcurrent:
      return {.read_pct = 80, .update_pct = 20};
    case Workload::kYcsbA:
      return {.read_pct = 50, .update_pct = 50, .zipfian = true};
    case Workload::kYcsbB:
      return {.read_pct = 95, .update_pct = 5, .zipfian = true};
    case Workload::kYcsbC:
      return {.read_pct = 100, .zipfian = true};
    case Workload::kYcsbE:
      return {.scan_pct = 95, .insert_pct = 5, .zipfian = true};
    default:
      return {};
  }
}

// Counts a read's outcome: a loaded key must be found with its own value. A miss is tolerated (counted
// as a miss) only where the target's overwrite briefly removes keys and the phase writes.
inline void account_read(Lookup lookup, std::string_view key, std::size_t value_size, bool miss_tolerated,
                         Worker& worker) {
  switch (lookup) {
    case Lookup::kFound:
      if (!value_matches(key, worker.read_buf, value_size)) ++worker.errors;
      break;
    case Lookup::kMissing:
      ++(miss_tolerated ? worker.misses : worker.errors);
      break;
    case Lookup::kError:
      ++worker.errors;
      break;
  }
}

// Puts keys [0, count) with `value_size`-byte values, each worker an ascending slice. Not time-bounded.
// Inserts keys [0, count) in `order`, each thread a slice of it.
inline Measurement run_load(KvTarget& target, int threads, std::uint64_t count, std::size_t value_size,
                            const LoadOrder& order, const PhaseContext& context) {
  return run_workers(
      threads, std::nullopt, context.timing, [&] { target.attach_thread(); }, [&] { target.detach_thread(); },
      [&](Worker& worker) {
        for (std::uint64_t i = worker.slice_begin(count); i < worker.slice_end(count); ++i) {
          const std::string_view key = context.keys.key(order[i]);
          fill_value(key, value_size, &worker.value);
          worker.timed([&] {
            if (!target.put(key, worker.value)) ++worker.errors;
          });
        }
      },
      context.progress);
}

// Runs one time-bounded phase over the loaded keys [0, keys.count()).
inline Measurement run_timed_phase(KvTarget& target, Workload workload, int threads, const PhaseContext& context) {
  const std::uint64_t loaded = context.keys.count();
  const std::size_t value_size = context.value_size;
  auto attach = [&] { target.attach_thread(); };
  auto detach = [&] { target.detach_thread(); };
  if (workload == Workload::kSeqRead) {
    return run_workers(
        threads, context.seconds, context.timing, attach, detach,
        [&](Worker& worker) {
          const std::uint64_t begin = worker.slice_begin(loaded);
          const std::uint64_t end = std::max(worker.slice_end(loaded), begin + 1);
          for (std::uint64_t i = begin;; i = i + 1 < end ? i + 1 : begin) {
            const std::string_view key = context.keys.key(i % loaded);
            Lookup lookup{};
            const bool running = worker.timed([&] { lookup = target.get(key, &worker.read_buf); });
            account_read(lookup, key, value_size, false, worker);
            if (!running) break;
          }
        },
        context.progress);
  }
  if (workload == Workload::kBatch || workload == Workload::kTransaction) {
    return run_workers(
        threads, context.seconds, context.timing, attach, detach,
        [&](Worker& worker) {
          std::string_view keys[KvTarget::kMultiKeys];
          std::string values[KvTarget::kMultiKeys];  // each key's own checkable value
          std::uint64_t retries = 0;
          for (bool running = true; running;) {
            for (std::size_t i = 0; i < KvTarget::kMultiKeys; ++i) {
              keys[i] = context.keys.key(context.zipf.next(worker.random));
              fill_value(keys[i], value_size, &values[i]);
            }
            running = worker.timed([&] {
              const bool ok = workload == Workload::kBatch
                                  ? target.write_all(keys, values)
                                  : target.transact_all(keys, values, &worker.read_buf, &retries);
              if (!ok) ++worker.errors;
            });
          }
          worker.misses += retries;
        },
        context.progress);
  }
  if (workload == Workload::kSnapshotGet) {
    return run_workers(
        threads, context.seconds, context.timing, attach, detach,
        [&](Worker& worker) {
          for (bool running = true; running;) {
            const std::string_view key = context.keys.key(worker.random.below(loaded));
            Lookup lookup{};
            running = worker.timed([&] { lookup = target.snapshot_get(key, &worker.read_buf); });
            account_read(lookup, key, value_size, false, worker);
          }
        },
        context.progress);
  }
  if (workload == Workload::kCompareAndSet || workload == Workload::kIncrement) {
    // Counters live in keys of their own ("#" + a loaded key), so the loaded values stay checkable.
    const std::uint64_t counters = std::max<std::uint64_t>(loaded / 16, 1);
    return run_workers(
        threads, context.seconds, context.timing, attach, detach,
        [&](Worker& worker) {
          std::string counter_key;
          for (bool running = true; running;) {
            if (workload == Workload::kCompareAndSet) {
              const std::string_view key = context.keys.key(worker.random.below(loaded));
              fill_value(key, value_size, &worker.value);
              running = worker.timed([&] {
                if (!target.compare_and_set(key, worker.value, &worker.read_buf)) ++worker.errors;
              });
            } else {
              counter_key.assign("#").append(context.keys.key(worker.random.below(counters)));
              running = worker.timed([&] {
                if (!target.increment(counter_key, 1)) ++worker.errors;
              });
            }
          }
        },
        context.progress);
  }
  const OpMix mix = mix_of(workload);
  const bool miss_tolerated = !target.atomic_overwrite() && mix.update_pct > 0;
  return run_workers(
      threads, context.seconds, context.timing, attach, detach,
      [&](Worker& worker) {
        std::array<char, kKeySize> fresh_key{};
        for (bool running = true; running;) {
          const std::uint64_t index = mix.zipfian ? context.zipf.next(worker.random) : worker.random.below(loaded);
          const std::string_view key = context.keys.key(index);
          const std::uint64_t dice = worker.random.below(100);
          if (dice < mix.read_pct) {
            Lookup lookup{};
            running = worker.timed([&] { lookup = target.get(key, &worker.read_buf); });
            account_read(lookup, key, value_size, miss_tolerated, worker);
          } else if (dice < mix.read_pct + mix.update_pct) {
            fill_value(key, value_size, &worker.value);
            running = worker.timed([&] {
              if (!target.put(key, worker.value)) ++worker.errors;
            });
          } else if (dice < mix.read_pct + mix.update_pct + mix.scan_pct) {
            const std::size_t length = 1 + worker.random.below(kMaxScanLength);
            // The start key is loaded, so a scan that visits nothing has failed.
            running = worker.timed([&] {
              if (target.scan(key, length) == 0) ++worker.errors;
            });
          } else {
            format_key(context.next_fresh_key.fetch_add(1, std::memory_order_relaxed), fresh_key.data());
            const std::string_view new_key(fresh_key.data(), fresh_key.size());
            fill_value(new_key, value_size, &worker.value);
            running = worker.timed([&] {
              if (!target.put(new_key, worker.value)) ++worker.errors;
            });
          }
        }
      },
      context.progress);
}

// Puts keys [0, hot_keys) into the cache (one thread, untimed), then times gets of uniformly random
// hot keys on `threads` threads. Misses (evictions) are counted, not errors.
inline Measurement run_cache_hits(CacheTarget& cache, int threads, std::uint64_t hot_keys,
                                  const PhaseContext& context) {
  std::string value;
  for (std::uint64_t i = 0; i < hot_keys; ++i) {
    fill_value(context.keys.key(i), context.value_size, &value);
    // A refused put is not an error for a cache: it shows up as misses.
    static_cast<void>(cache.put(context.keys.key(i), value));
  }
  auto no_attachment = [] {};
  return run_workers(
      threads, context.seconds, context.timing, no_attachment, no_attachment,
      [&](Worker& worker) {
        for (bool running = true; running;) {
          const std::string_view key = context.keys.key(worker.random.below(hot_keys));
          Lookup lookup{};
          running = worker.timed([&] { lookup = cache.get(key, &worker.read_buf); });
          account_read(lookup, key, context.value_size, /*miss_tolerated=*/true, worker);
        }
      },
      context.progress);
}

}  // namespace mantis::bench
