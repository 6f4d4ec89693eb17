#include "runner.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <mantis/cache.hpp>
#include <mantis/engine.hpp>

#include "peers.hpp"
#include "peers/embedded_stores.hpp"
#include "process.hpp"

namespace mantis::bench {
namespace {

// The progress line: stderr only, and only when stderr is a terminal.
class Progress {
 public:
  explicit Progress(int total) : total_(total), enabled_(isatty(STDERR_FILENO) == 1) {}

  void begin(std::string_view impl, std::string_view workload, int threads) {
    ++done_;
    label_ = "[" + std::to_string(done_) + "/" + std::to_string(total_) + "] " + std::string(impl) + " " +
             std::string(workload) + " threads=" + std::to_string(threads);
    show(0);
  }
  void show(double elapsed_seconds) const {
    if (!enabled_) return;
    std::fprintf(stderr, "\r\033[K%s  %.1fs", label_.c_str(), elapsed_seconds);
    std::fflush(stderr);
  }
  void clear() const {
    if (enabled_) std::fprintf(stderr, "\r\033[K");
  }

 private:
  int total_;
  int done_ = 0;
  bool enabled_;
  std::string label_;
};

// The 1, 5 and 15 minute load averages.
std::string load_average() {
  std::ifstream file("/proc/loadavg");
  std::string one, five, fifteen;
  file >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// The time-bounded phases run on each loaded store, in this order (ycsb_e last: it inserts keys).
// seq_read runs apart, on the store seq_write loaded in ascending order.
constexpr Workload kTimedOrder[] = {Workload::kRandRead,   Workload::kRandWrite,      Workload::kCompareAndSet,
                                    Workload::kIncrement,  Workload::kBatch,          Workload::kTransaction,
                                    Workload::kSnapshotGet,
                                    Workload::kHighThroughput, Workload::kYcsbC,      Workload::kYcsbB,
                                    Workload::kYcsbA,      Workload::kYcsbE};

class Bench {
 public:
  explicit Bench(const Config& config)
      : config_(config),
        keys_(config.keys),
        shuffled_(LoadOrder::shuffled(config.keys)),
        zipf_(config.keys),
        timing_(calibrate_timing()),
        progress_(planned_phases()) {}

  Results run() {
    results_.load_before = load_average();
    if (config_.durable()) run_fdatasync_probe();
    run_memory_children();
    for (int threads : config_.threads) {
      for (const std::string& impl : kv_impls()) run_store_group(impl, threads, threads == config_.threads.front());
    }
    if (config_.runs(Workload::kCacheHits)) run_cache_phases();
    progress_.clear();
    results_.load_after = load_average();
    return std::move(results_);
  }

  const TimingCalibration& timing() const { return timing_; }

 private:
  std::vector<std::string> kv_impls() const {
    std::vector<std::string> impls = {"mantis"};
    for (std::string_view peer : {"snapshot", "memory", "stdmap", "cds", "lmdb", "rocksdb"}) {
      if (config_.compares(peer)) impls.emplace_back(peer);
    }
    return impls;
  }
  std::vector<std::string> cache_impls() const {
    std::vector<std::string> impls = {"mantis"};
    if (config_.compares("lru")) impls.emplace_back("lru");
    return impls;
  }

  int planned_phases() const {
    const auto kv = static_cast<int>(kv_impls().size());
    const auto thread_counts = static_cast<int>(config_.threads.size());
    int total = kv;  // footprint children
    if (config_.runs(Workload::kMemoryPressure)) total += kv * thread_counts;
    int per_group = 1;  // the shuffled load
    if (runs_ascending_store()) per_group += config_.runs(Workload::kSeqRead) ? 2 : 1;
    for (Workload workload : kTimedOrder) per_group += config_.runs(workload) ? 1 : 0;
    total += kv * thread_counts * per_group;
    if (config_.runs(Workload::kConcurrent)) total += kv;
    if (config_.runs(Workload::kCacheHits)) total += static_cast<int>(cache_impls().size()) * thread_counts;
    if (config_.durable() && config_.runs(Workload::kRecovery)) ++total;
    return total;
  }

  bool runs_ascending_store() const { return config_.runs(Workload::kSeqWrite) || config_.runs(Workload::kSeqRead); }

  std::unique_ptr<KvTarget> make_kv(std::string_view impl) const {
    if (impl == "stdmap") return std::make_unique<StdMapTarget>();
    if (impl == "cds") return std::make_unique<CdsTarget>();
    if (impl == "lmdb" || impl == "rocksdb") return make_embedded(impl);
    Options options;
    options.cache_capacity = config_.engine_cache_size();
    if ((impl == "mantis" || impl == "snapshot") && config_.durable()) {
      options.dir = std::filesystem::path(config_.dir) /
                    ("mantis-bench-" + std::to_string(::getpid()) + "-" + std::to_string(next_dir_++));
      options.durability = config_.durability;
    }
    return std::make_unique<MantisTarget>(options, /*hold_snapshot=*/impl == "snapshot");
  }

  // LMDB or RocksDB in a directory of its own: under --dir for durable runs (the filesystem mantis's
  // log is on), else a scratch directory on the real disk. Sized for the largest load of a run: --keys
  // keys, or memory_pressure's keys/16 keys of 8 KiB, plus what YCSB E inserts.
  std::unique_ptr<KvTarget> make_embedded(std::string_view impl) const {
    const std::filesystem::path root = config_.durable() ? std::filesystem::path(config_.dir) : kScratchRoot;
    StoreSetup setup;
    setup.dir = root / ("mantis-bench-" + std::string(impl) + "-" + std::to_string(::getpid()) + "-" +
                        std::to_string(next_dir_++));
    if (config_.durable()) setup.durability = config_.durability;
    const std::size_t per_key = kKeySize + std::max<std::size_t>(config_.value_size, kLargeValueSize /
                                                                                         kMemoryPressureKeyDivisor);
    setup.data_bytes = static_cast<std::size_t>(config_.keys) * per_key * 2;
    setup.max_threads = std::max(kConcurrentWorkers, *std::max_element(config_.threads.begin(), config_.threads.end()));
#if MANTIS_BENCH_HAVE_LMDB
    if (impl == "lmdb") return make_lmdb_target(setup);
#endif
#if MANTIS_BENCH_HAVE_ROCKSDB
    if (impl == "rocksdb") return make_rocksdb_target(setup);
#endif
    throw std::logic_error("mantis-bench: peer " + std::string(impl) + " is not built");
  }

  PhaseContext context(std::size_t value_size, const ProgressFn& progress) {
    return PhaseContext{keys_, value_size, config_.seconds, zipf_, next_fresh_key_, timing_, progress};
  }
  ProgressFn progress_fn() {
    return [this](double elapsed) { progress_.show(elapsed); };
  }

  void record(std::string_view impl, std::string_view workload, int threads, const Measurement& m) {
    results_.rows.push_back(Row{std::string(impl), std::string(workload), threads, m});
  }

  // Memory is measured in forked children, one implementation alone in each, before this process
  // starts any thread of its own.
  void run_memory_children() {
    const ProgressFn progress = progress_fn();
    for (const std::string& impl : kv_impls()) {
      progress_.begin(impl, "footprint", 1);
      const auto load = run_in_child([&] {
        auto target = make_kv(impl);
        Measurement m =
            run_load(*target, 1, config_.keys, config_.value_size, shuffled_, context(config_.value_size, progress));
        m.in_child = true;
        return m;
      });
      if (!load) {
        results_.failures.push_back(impl + " footprint (child failed)");
        continue;
      }
      results_.footprints.push_back(
          Footprint{impl, load->rss_delta_bytes / static_cast<double>(config_.keys), load->peak_rss_bytes});
    }
    if (!config_.runs(Workload::kMemoryPressure)) return;
    const std::uint64_t large_keys = std::max<std::uint64_t>(1, config_.keys / kMemoryPressureKeyDivisor);
    for (int threads : config_.threads) {
      for (const std::string& impl : kv_impls()) {
        progress_.begin(impl, "memory_pressure", threads);
        const auto m = run_in_child([&] {
          auto target = make_kv(impl);
          Measurement result = run_load(*target, threads, large_keys, kLargeValueSize, LoadOrder::shuffled(large_keys),
                                        context(kLargeValueSize, progress));
          result.in_child = true;
          return result;
        });
        if (!m) {
          results_.failures.push_back(impl + " memory_pressure (child failed)");
          continue;
        }
        record(impl, "memory_pressure", threads, *m);
      }
    }
  }

  // For `impl` and `threads` threads: a store loaded in ascending order (seq_write) for seq_read, then a
  // fresh store loaded in a shuffled order (rand_insert) and every other selected time-bounded phase.
  void run_store_group(const std::string& impl, int threads, bool with_concurrent) {
    const ProgressFn progress = progress_fn();
    const PhaseContext phase = context(config_.value_size, progress);
    next_fresh_key_.store(config_.keys);
    if (runs_ascending_store()) {
      auto ascending_target = make_kv(impl);
      progress_.begin(impl, "seq_write", threads);
      const Measurement load =
          run_load(*ascending_target, threads, config_.keys, config_.value_size, LoadOrder::ascending(), phase);
      if (config_.runs(Workload::kSeqWrite) || load.errors != 0) record(impl, "seq_write", threads, load);
      if (config_.runs(Workload::kSeqRead)) {
        progress_.begin(impl, "seq_read", threads);
        record(impl, "seq_read", threads, run_timed_phase(*ascending_target, Workload::kSeqRead, threads, phase));
      }
    }
    auto target = make_kv(impl);
    progress_.begin(impl, "rand_insert", threads);
    const Measurement load = run_load(*target, threads, config_.keys, config_.value_size, shuffled_, phase);
    if (config_.runs(Workload::kRandInsert) || load.errors != 0) record(impl, "rand_insert", threads, load);
    for (Workload workload : kTimedOrder) {
      if (!config_.runs(workload)) continue;
      progress_.begin(impl, workload_name(workload), threads);
      if (workload == Workload::kYcsbE && !target->supports_scan()) continue;
      if ((workload == Workload::kCompareAndSet || workload == Workload::kIncrement) &&
          !target->supports_conditional()) {
        continue;
      }
      if ((workload == Workload::kBatch || workload == Workload::kTransaction) && !target->supports_multi_key()) {
        continue;
      }
      if (workload == Workload::kSnapshotGet && !target->supports_snapshots()) continue;
      record(impl, workload_name(workload), threads, run_timed_phase(*target, workload, threads, phase));
    }
    // concurrent comes last: it runs on the keys loaded (and written) by the first group.
    if (with_concurrent && config_.runs(Workload::kConcurrent)) {
      progress_.begin(impl, "concurrent", kConcurrentWorkers);
      record(impl, "concurrent", kConcurrentWorkers,
             run_timed_phase(*target, Workload::kConcurrent, kConcurrentWorkers, phase));
    }
    if (with_concurrent && impl == "mantis" && config_.durable() && config_.runs(Workload::kRecovery)) {
      progress_.begin(impl, "recovery", 1);
      run_recovery(static_cast<MantisTarget&>(*target));
    }
  }

  // The disk under --dir, as the log sees it: 4 KiB appended with pwrite, then fdatasync, 200 times.
  // Reported as impl "disk", workload "fdatasync": what a kSync write costs at the least.
  void run_fdatasync_probe() {
    constexpr int kSyncs = 200;
    const std::string path =
        (std::filesystem::path(config_.dir) / ("fdatasync-probe-" + std::to_string(::getpid()))).string();
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    Measurement m;
    if (fd < 0) {
      results_.failures.push_back("fdatasync probe: cannot create " + path);
      return;
    }
    const std::string block(4096, 'p');
    LatencyHistogram latencies;
    const auto start = SteadyClock::now();
    for (int i = 0; i < kSyncs; ++i) {
      const auto before = SteadyClock::now();
      const bool ok = ::pwrite(fd, block.data(), block.size(), static_cast<off_t>(i) * 4096) ==
                          static_cast<ssize_t>(block.size()) &&
                      ::fdatasync(fd) == 0;
      latencies.record(static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::nanoseconds>(SteadyClock::now() - before).count()));
      if (!ok) ++m.errors;
    }
    m.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
    ::close(fd);
    ::unlink(path.c_str());
    record_latencies(latencies, m);
    record("disk", "fdatasync", 1, m);
  }

  // Durable engines, after everything the group wrote: closing the engine (ops = keys), replaying the
  // log at the next open (ops = log records, seconds = the replay, from Stats::recovery: the log holds
  // what was written since the last automatic checkpoint), a checkpoint of the store (ops = keys), and
  // loading that snapshot at the open after it (ops = entries, seconds = the load). rss_delta_bytes =
  // how much the step grew the process (records point into the mapped snapshot, so values are not
  // copied).
  void run_recovery(MantisTarget& target) {
    // Runs `step`; `part` (if given) replaces the operations and seconds with the open's own figures.
    using Part = std::function<void(const Stats::Recovery&, Measurement&)>;
    auto timed = [&](std::string_view name, const std::function<Status()>& step, const Part& part = nullptr) {
      Measurement m;
      const std::uint64_t keys = target.open() ? target.size() : 0;
      const double rss_before = resident_bytes();
      const auto start = SteadyClock::now();
      const Status status = step();
      m.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
      m.rss_delta_bytes = resident_bytes() - rss_before;
      m.peak_rss_bytes = peak_resident_bytes();
      m.ops = target.open() ? target.size() : keys;
      if (!status.ok()) {
        m.errors = 1;
        std::cerr << "mantis-bench: " << name << ": " << status.to_string() << "\n";
      } else if (part) {
        part(target.stats().recovery, m);
      }
      record("mantis", name, 1, m);
    };
    const Part log = [](const Stats::Recovery& r, Measurement& m) {
      m.ops = r.log_records;
      m.seconds = r.log_seconds;
    };
    const Part snapshot = [](const Stats::Recovery& r, Measurement& m) {
      m.ops = r.snapshot_entries;
      m.seconds = r.snapshot_seconds;
    };
    timed("close", [&] {
      target.close();
      return Status::ok_status();
    });
    timed("recovery_log", [&] { return target.reopen(); }, log);
    timed("checkpoint", [&] { return target.checkpoint(); });
    target.close();
    timed("recovery_snapshot", [&] { return target.reopen(); }, snapshot);
  }

  void run_cache_phases() {
    const ProgressFn progress = progress_fn();
    const PhaseContext phase = context(config_.value_size, progress);
    // Entries charging 40% of the capacity: resident in every shard despite uneven hashing.
    const std::uint64_t hot_keys = std::clamp<std::uint64_t>(
        config_.cache_phase_size() * 2 / 5 / (kKeySize + config_.value_size + Cache::kEntryOverhead), 1, config_.keys);
    for (int threads : config_.threads) {
      for (const std::string& impl : cache_impls()) {
        progress_.begin(impl, "cache_hits", threads);
        std::unique_ptr<CacheTarget> cache;
        if (impl == "lru") {
          cache = std::make_unique<LruTarget>(config_.cache_phase_size());
        } else {
          cache = std::make_unique<MantisCacheTarget>(config_.cache_phase_size());
        }
        record(impl, "cache_hits", threads, run_cache_hits(*cache, threads, hot_keys, phase));
      }
    }
  }

  const Config& config_;
  KeySpace keys_;
  LoadOrder shuffled_;  // the order of every load but seq_write's
  ScrambledZipfian zipf_;
  std::atomic<std::uint64_t> next_fresh_key_{0};
  mutable std::uint64_t next_dir_ = 0;  // names the durable engines' directories
  TimingCalibration timing_;
  Progress progress_;
  Results results_;
};

}  // namespace

Run run_benchmarks(const Config& config) {
  Bench bench(config);
  Results results = bench.run();
  return Run{std::move(results), bench.timing()};
}

}  // namespace mantis::bench
