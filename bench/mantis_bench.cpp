// mantis-bench: MantisDB's benchmark suite rerun unthrottled on mantis::Engine, plus YCSB A/B/C/E,
// side by side with peers (std::map + shared_mutex, libcds SkipListMap, an exact LRU) in the same
// process and run, on identical keys and workloads. `mantis-bench --help` lists the flags;
// docs/BENCHMARKS.md explains the method and shows a full run.
//
// Order of a run: timing calibration; then forked children, one per implementation, for the memory
// measurements (bytes per key after loading --keys keys; memory_pressure), while the parent still has
// no other thread; then, per thread count and implementation, a store loaded in ascending key order
// (seq_write) for seq_read, and a fresh store loaded in a shuffled order (rand_insert) on which the other
// time-bounded phases run; then the cache phase. Exit status: 0 when every operation
// succeeded, 1 on any error, 2 on bad flags.
#include <fcntl.h>
#include <unistd.h>

#include <sys/utsname.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <mantis/cache.hpp>
#include <mantis/engine.hpp>

#include "durability.hpp"
#include "json.hpp"
#include "peers.hpp"
#include "process.hpp"
#include "workloads.hpp"

namespace mantis::bench {
namespace {

constexpr std::string_view kUsage = R"(usage: mantis-bench [flags]

Runs MantisDB's benchmark suite unthrottled on mantis::Engine, plus YCSB A, B, C and E, next to peers
in the same process on the same keys. Keys are 16 bytes ("key:" + 12 digits).

  --keys N            keys loaded before each group of phases (default 1000000)
  --value-size N      value bytes (default 100)
  --threads LIST      thread counts, e.g. 1,2,40 (default 1,2,40); `concurrent` always uses 40
  --seconds S         duration of each time-bounded phase (default 2)
  --workloads LIST    phases to run (default: all; listed below). The shuffled load, rand_insert,
                      always runs before the other phases and is reported when listed; seq_write
                      (an ascending load into a store of its own) runs when it or seq_read is listed
  --cache-size BYTES  Options::cache_capacity of the engine, and the capacity of the cache-phase
                      caches; K/M/G suffixes allowed (default: the engine without a tier, as
                      Options' default, and 64M caches for the cache phase)
  --compare LIST      peers: stdmap,cds,lru, and memory (the engine without --dir) (default: all that
                      apply; "" for mantis alone)
  --dir DIR           durable engines: each mantis store lives in a fresh directory under DIR (removed
                      afterwards), with the log and snapshots; adds the recovery phases
  --durability MODE   with --dir: none, async, sync or periodic (default async)
  --json FILE         write every result as JSON
  --csv FILE          write every result as CSV (scripts/plot_bench.sh charts it)
  --quick             a smoke run of every workload and peer in a few seconds (20000 keys, 0.1 s
                      phases); flags given explicitly still win
  --help              this text

Exit status: 0 if every operation succeeded, 1 if any failed, 2 on bad flags.

Workloads:
)";

// MantisDB's published figures, which its throttled benchmark could never have measured.
struct Claim {
  std::string_view metric;
  Workload workload;
  double ops_per_sec;
};
constexpr Claim kClaims[] = {
    {"Sequential writes", Workload::kSeqWrite, 150e3}, {"Sequential reads", Workload::kSeqRead, 500e3},
    {"Random writes", Workload::kRandWrite, 100e3},    {"Concurrent ops (40 workers)", Workload::kConcurrent, 50e3},
    {"Cache hits", Workload::kCacheHits, 200e3},
};
constexpr double kClaimedP99Ns = 100e6;  // "p99 < 100 ms"

struct Config {
  std::uint64_t keys = 1'000'000;
  std::size_t value_size = 100;
  std::vector<int> threads = {1, 2, 40};
  double seconds = 2.0;
  std::vector<Workload> workloads;
  // --cache-size: the engine's tier (default: Options' default, no tier) and the cache phases' caches
  // (default: CacheOptions' default capacity).
  std::optional<std::size_t> cache_size;
  std::size_t engine_cache_size() const { return cache_size.value_or(Options{}.cache_capacity); }
  std::size_t cache_phase_size() const { return cache_size.value_or(mantis::CacheOptions{}.capacity); }
  std::vector<std::string> compare = {"stdmap", "cds", "lru", "memory"};
  std::string dir;  // empty: engines in memory
  Durability durability = Durability::kAsync;
  std::string json_path;
  std::string csv_path;
  bool quick = false;

  bool runs(Workload workload) const {
    return std::find(workloads.begin(), workloads.end(), workload) != workloads.end();
  }
  bool compares(std::string_view peer) const {
    if (peer == "memory" && dir.empty()) return false;  // the memory peer is the engine without --dir
    return std::find(compare.begin(), compare.end(), peer) != compare.end();
  }
  bool durable() const { return !dir.empty(); }
};

std::vector<std::string> split_list(std::string_view text) {
  std::vector<std::string> items;
  while (!text.empty()) {
    const std::size_t comma = text.find(',');
    if (comma != 0) items.emplace_back(text.substr(0, comma));
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

template <class Number>
std::optional<Number> parse_number(std::string_view text) {
  Number value{};
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::size_t> parse_bytes(std::string_view text) {
  std::size_t multiplier = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 'K':
      case 'k':
        multiplier = std::size_t{1} << 10;
        break;
      case 'M':
      case 'm':
        multiplier = std::size_t{1} << 20;
        break;
      case 'G':
      case 'g':
        multiplier = std::size_t{1} << 30;
        break;
      default:
        break;
    }
    if (multiplier != 1) text.remove_suffix(1);
  }
  const auto number = parse_number<std::size_t>(text);
  if (!number) return std::nullopt;
  return *number * multiplier;
}

// Parses argv into *config; on a bad flag prints why and returns false.
bool parse_flags(int argc, char** argv, Config* config, bool* help) {
  std::map<std::string, std::string, std::less<>> given;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      *help = true;
      return true;
    }
    if (arg == "--quick") {
      config->quick = true;
      continue;
    }
    if (arg.substr(0, 2) != "--") {
      std::cerr << "mantis-bench: unexpected argument '" << arg << "' (see --help)\n";
      return false;
    }
    std::string name(arg.substr(2));
    std::string value;
    if (const std::size_t eq = name.find('='); eq != std::string::npos) {
      value = name.substr(eq + 1);
      name.resize(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      std::cerr << "mantis-bench: --" << name << " needs a value\n";
      return false;
    }
    given[name] = value;
  }
  if (config->quick) {
    config->keys = 20'000;
    config->seconds = 0.1;
  }
  auto fail = [](std::string_view flag, std::string_view value) {
    std::cerr << "mantis-bench: bad value '" << value << "' for --" << flag << " (see --help)\n";
    return false;
  };
  for (const auto& [name, value] : given) {
    if (name == "keys") {
      const auto keys = parse_number<std::uint64_t>(value);
      if (!keys || *keys == 0 || *keys >= 1'000'000'000'000ULL / 2) return fail(name, value);
      config->keys = *keys;
    } else if (name == "value-size") {
      const auto size = parse_bytes(value);
      if (!size || *size > Options{}.max_value_size) return fail(name, value);
      config->value_size = *size;
    } else if (name == "threads") {
      config->threads.clear();
      for (const std::string& item : split_list(value)) {
        const auto threads = parse_number<int>(item);
        if (!threads || *threads < 1 || *threads > 4096) return fail(name, value);
        config->threads.push_back(*threads);
      }
      if (config->threads.empty()) return fail(name, value);
    } else if (name == "seconds") {
      const auto seconds = parse_number<double>(value);
      if (!seconds || !(*seconds > 0) || *seconds > 86400) return fail(name, value);
      config->seconds = *seconds;
    } else if (name == "workloads") {
      for (const std::string& item : split_list(value)) {
        const auto workload = parse_workload(item);
        if (!workload) return fail(name, item);
        config->workloads.push_back(*workload);
      }
      if (config->workloads.empty()) return fail(name, value);
    } else if (name == "cache-size") {
      const auto size = parse_bytes(value);
      if (!size) return fail(name, value);
      config->cache_size = *size;
    } else if (name == "compare") {
      config->compare = split_list(value);
      for (const std::string& peer : config->compare) {
        if (peer != "stdmap" && peer != "cds" && peer != "lru" && peer != "memory") return fail(name, peer);
      }
    } else if (name == "dir") {
      if (value.empty()) return fail(name, value);
      config->dir = value;
    } else if (name == "durability") {
      const auto durability = mantis::tools::parse_durability(value);
      if (!durability) return fail(name, value);
      config->durability = *durability;
    } else if (name == "json") {
      config->json_path = value;
    } else if (name == "csv") {
      config->csv_path = value;
    } else {
      std::cerr << "mantis-bench: unknown flag --" << name << " (see --help)\n";
      return false;
    }
  }
  if (config->workloads.empty()) {
    for (const WorkloadInfo& info : kWorkloads) config->workloads.push_back(info.workload);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Results

struct Row {
  std::string impl;
  std::string workload;
  int threads = 0;
  Measurement m;
};

struct Footprint {
  std::string impl;
  double bytes_per_key = 0;
  double peak_rss_bytes = 0;
};

struct Results {
  std::vector<Row> rows;
  std::vector<Footprint> footprints;
  std::vector<std::string> failures;  // phases that could not run (a child that died)
  std::string load_before;            // /proc/loadavg at the start and the end: how busy the machine was
  std::string load_after;

  const Row* find(std::string_view impl, std::string_view workload, int threads) const {
    for (const Row& row : rows) {
      if (row.impl == impl && row.workload == workload && row.threads == threads) return &row;
    }
    return nullptr;
  }
  std::uint64_t errors() const {
    std::uint64_t total = 0;
    for (const Row& row : rows) total += row.m.errors;
    return total;
  }
};

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

std::string format_rate(double per_sec) {
  char text[32];
  if (per_sec >= 1e6) {
    std::snprintf(text, sizeof text, "%.2fM", per_sec / 1e6);
  } else if (per_sec >= 1e3) {
    std::snprintf(text, sizeof text, "%.1fK", per_sec / 1e3);
  } else {
    std::snprintf(text, sizeof text, "%.0f", per_sec);
  }
  return text;
}

std::string format_nanos(double nanos) {
  char text[32];
  if (nanos < 1e3) {
    std::snprintf(text, sizeof text, "%.0fns", nanos);
  } else if (nanos < 1e6) {
    std::snprintf(text, sizeof text, "%.1fus", nanos / 1e3);
  } else if (nanos < 1e9) {
    std::snprintf(text, sizeof text, "%.1fms", nanos / 1e6);
  } else {
    std::snprintf(text, sizeof text, "%.2fs", nanos / 1e9);
  }
  return text;
}

std::string format_mib(double bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.0fMiB", bytes / (1024.0 * 1024.0));
  return text;
}

std::string format_ratio(double ratio) {
  char text[32];
  std::snprintf(text, sizeof text, ratio >= 100 ? "%.0fx" : "%.2fx", ratio);
  return text;
}

// ---------------------------------------------------------------------------------------------
// Running

// The 1, 5 and 15 minute load averages.
std::string load_average() {
  std::ifstream file("/proc/loadavg");
  std::string one, five, fifteen;
  file >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// The time-bounded phases run on each loaded store, in this order (ycsb_e last: it inserts keys).
// seq_read runs apart, on the store seq_write loaded in ascending order.
constexpr Workload kTimedOrder[] = {Workload::kRandRead, Workload::kRandWrite, Workload::kHighThroughput,
                                    Workload::kYcsbC,    Workload::kYcsbB,     Workload::kYcsbA,
                                    Workload::kYcsbE};

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
    for (std::string_view peer : {"memory", "stdmap", "cds"}) {
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
    Options options;
    options.cache_capacity = config_.engine_cache_size();
    if (impl == "mantis" && config_.durable()) {
      options.dir = std::filesystem::path(config_.dir) /
                    ("mantis-bench-" + std::to_string(::getpid()) + "-" + std::to_string(next_dir_++));
      options.durability = config_.durability;
    }
    return std::make_unique<MantisTarget>(options);
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

  // Durable engines: how long opening takes after everything the group wrote (the whole log replayed),
  // how long a checkpoint of the store takes, and how long opening from that snapshot takes. ops = keys
  // in the store; rss_delta_bytes = how much the open grew the process (records point into the mapped
  // snapshot, so values are not copied).
  void run_recovery(MantisTarget& target) {
    auto timed = [&](std::string_view name, const std::function<Status()>& step) {
      Measurement m;
      const double rss_before = resident_bytes();
      const auto start = SteadyClock::now();
      const Status status = step();
      m.seconds = std::chrono::duration<double>(SteadyClock::now() - start).count();
      m.rss_delta_bytes = resident_bytes() - rss_before;
      m.peak_rss_bytes = peak_resident_bytes();
      m.ops = target.size();
      if (!status.ok()) {
        m.errors = 1;
        std::cerr << "mantis-bench: " << name << ": " << status.to_string() << "\n";
      }
      record("mantis", name, 1, m);
    };
    timed("recovery_log", [&] { return target.reopen(); });
    timed("checkpoint", [&] { return target.checkpoint(); });
    timed("recovery_snapshot", [&] { return target.reopen(); });
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

// ---------------------------------------------------------------------------------------------
// Reporting

// The row of `impl` for `workload` with the most ops/s over the thread counts, or nullptr.
const Row* best_row(const Results& results, std::string_view impl, std::string_view workload) {
  const Row* best = nullptr;
  for (const Row& row : results.rows) {
    if (row.impl == impl && row.workload == workload &&
        (best == nullptr || row.m.ops_per_sec() > best->m.ops_per_sec())) {
      best = &row;
    }
  }
  return best;
}

std::string cell_rate(const Row* row) {
  if (row == nullptr) return "-";
  return format_rate(row->m.ops_per_sec()) + "/s (" + std::to_string(row->threads) + "t)";
}

void print_comparison(const Results& results, const Config& config) {
  std::printf("\nPerformance Comparison (MantisDB's claimed figures vs this run; best over thread counts)\n\n");
  std::printf("| %-28s | %-14s | %-18s | %-9s | %-18s | %-18s |\n", "Metric", "MantisDB claim", "mantis (measured)",
              "vs claim", "stdmap", "cds / lru");
  std::printf("|%s|%s|%s|%s|%s|%s|\n", std::string(30, '-').c_str(), std::string(16, '-').c_str(),
              std::string(20, '-').c_str(), std::string(11, '-').c_str(), std::string(20, '-').c_str(),
              std::string(20, '-').c_str());
  for (const Claim& claim : kClaims) {
    const std::string_view workload = workload_name(claim.workload);
    const Row* ours = best_row(results, "mantis", workload);
    const bool cache = claim.workload == Workload::kCacheHits;
    const std::string vs = ours ? format_ratio(ours->m.ops_per_sec() / claim.ops_per_sec) : "-";
    std::printf("| %-28s | %-14s | %-18s | %-9s | %-18s | %-18s |\n", std::string(claim.metric).c_str(),
                (format_rate(claim.ops_per_sec) + "/s").c_str(), cell_rate(ours).c_str(), vs.c_str(),
                cache ? "-" : cell_rate(best_row(results, "stdmap", workload)).c_str(),
                cell_rate(best_row(results, cache ? "lru" : "cds", workload)).c_str());
  }
  double worst_p99 = 0;
  std::string worst_where = "-";
  for (const Row& row : results.rows) {
    if (row.impl == "mantis" && row.m.p99_ns >= worst_p99) {
      worst_p99 = static_cast<double>(row.m.p99_ns);
      worst_where = row.workload + " " + std::to_string(row.threads) + "t";
    }
  }
  std::printf("| %-28s | %-14s | %-18s | %-9s | %-18s | %-18s |\n", "p99 latency (worst phase)", "< 100ms",
              (format_nanos(worst_p99) + " (" + worst_where + ")").c_str(),
              worst_p99 > 0 ? format_ratio(kClaimedP99Ns / worst_p99).c_str() : "-", "", "");
  std::printf(
      "\n%llu keys of 16 bytes, %zu-byte values, %.3g s per phase. Load average %s at the start, %s at "
      "the end, on %u CPUs.\n",
      static_cast<unsigned long long>(config.keys), config.value_size, config.seconds, results.load_before.c_str(),
      results.load_after.c_str(), std::thread::hardware_concurrency());
}

void print_details(const Results& results) {
  std::printf(
      "\nAll phases (latency per operation; mantis/x = mantis ops/s / this implementation's ops/s;\n"
      "peak RSS = VmHWM of the whole process, which all implementations share, except memory_pressure,\n"
      "where each implementation runs alone in a forked child)\n\n");
  std::printf("%-16s %4s %-7s %10s %8s %8s %8s %8s %8s %6s %8s %9s %8s\n", "workload", "thr", "impl", "ops/s", "p50",
              "p95", "p99", "p99.9", "max", "errors", "misses", "peak RSS", "mantis/x");
  std::vector<std::pair<std::string, int>> groups;
  for (const Row& row : results.rows) {
    const std::pair<std::string, int> group{row.workload, row.threads};
    if (std::find(groups.begin(), groups.end(), group) == groups.end()) groups.push_back(group);
  }
  for (const auto& [workload, threads] : groups) {
    const Row* ours = results.find("mantis", workload, threads);
    bool first = true;
    for (const Row& row : results.rows) {
      if (row.workload != workload || row.threads != threads) continue;
      std::string ratio;
      if (ours != nullptr && &row != ours && row.m.ops_per_sec() > 0)
        ratio = format_ratio(ours->m.ops_per_sec() / row.m.ops_per_sec());
      std::printf("%-16s %4s %-7s %10s %8s %8s %8s %8s %8s %6llu %8llu %9s %8s\n", first ? workload.c_str() : "",
                  first ? std::to_string(threads).c_str() : "", row.impl.c_str(),
                  format_rate(row.m.ops_per_sec()).c_str(), format_nanos(static_cast<double>(row.m.p50_ns)).c_str(),
                  format_nanos(static_cast<double>(row.m.p95_ns)).c_str(),
                  format_nanos(static_cast<double>(row.m.p99_ns)).c_str(),
                  format_nanos(static_cast<double>(row.m.p999_ns)).c_str(),
                  format_nanos(static_cast<double>(row.m.max_ns)).c_str(),
                  static_cast<unsigned long long>(row.m.errors), static_cast<unsigned long long>(row.m.misses),
                  format_mib(row.m.peak_rss_bytes).c_str(), ratio.c_str());
      first = false;
    }
  }
}

void print_footprints(const Results& results, const Config& config) {
  if (results.footprints.empty()) return;
  std::printf(
      "\nResident bytes per key after loading %llu keys (RSS delta of the load, each implementation alone "
      "in a forked child; payload = 16 + %zu bytes)\n\n",
      static_cast<unsigned long long>(config.keys), config.value_size);
  const Footprint* map = nullptr;
  for (const Footprint& f : results.footprints) {
    if (f.impl == "stdmap") map = &f;
  }
  std::printf("%-8s %12s %14s %12s\n", "impl", "bytes/key", "over payload", "vs stdmap");
  for (const Footprint& f : results.footprints) {
    const double payload = static_cast<double>(kKeySize + config.value_size);
    std::printf(
        "%-8s %12.1f %14.1f %12s\n", f.impl.c_str(), f.bytes_per_key, f.bytes_per_key - payload,
        map != nullptr && map->bytes_per_key > 0 ? format_ratio(f.bytes_per_key / map->bytes_per_key).c_str() : "-");
  }
}

void print_timing(const Results& results, const TimingCalibration& timing) {
  double worst = 0;
  std::string where = "-";
  for (const Row& row : results.rows) {
    if (row.m.timing_overhead_pct > worst) {
      worst = row.m.timing_overhead_pct;
      where = row.impl + " " + row.workload + " " + std::to_string(row.threads) + "t";
    }
  }
  std::printf(
      "\nTiming: steady_clock::now() costs %.1f ns; each latency sample has the %llu ns of an empty "
      "interval subtracted.\nTwo clock reads per operation took at most %.1f%% of the CPU time of a "
      "phase (%s); throughput includes them.\n",
      timing.clock_read_ns, static_cast<unsigned long long>(timing.empty_interval_ns), worst, where.c_str());
}

std::string read_first_matching(const char* path, std::string_view prefix) {
  std::ifstream file(path);
  std::string line;
  while (std::getline(file, line)) {
    if (line.compare(0, prefix.size(), prefix) == 0) {
      const std::size_t colon = line.find(':');
      std::string value = colon == std::string::npos ? line : line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      return value;
    }
  }
  return {};
}

double mantis_ratio(const Results& results, const Row& row) {
  if (row.impl == "mantis" || row.m.ops_per_sec() <= 0) return 0;
  const Row* ours = results.find("mantis", row.workload, row.threads);
  return ours == nullptr ? 0 : ours->m.ops_per_sec() / row.m.ops_per_sec();
}

bool write_json(const std::string& path, const Results& results, const Config& config,
                const TimingCalibration& timing) {
  std::ofstream out(path);
  out << std::setprecision(12);
  utsname host{};
  uname(&host);
  out << "{\n  \"config\": {\"keys\": " << config.keys << ", \"key_size\": " << kKeySize
      << ", \"value_size\": " << config.value_size << ", \"seconds\": " << config.seconds
      << ", \"cache_size\": " << config.engine_cache_size() << ", \"threads\": [";
  for (std::size_t i = 0; i < config.threads.size(); ++i) out << (i ? ", " : "") << config.threads[i];
  out << "], \"quick\": " << (config.quick ? "true" : "false") << "},\n";
  out << "  \"machine\": {\"cpu\": " << mantis::tools::json_quote(read_first_matching("/proc/cpuinfo", "model name"))
      << ", \"cpus\": " << std::thread::hardware_concurrency()
      << ", \"memory\": " << mantis::tools::json_quote(read_first_matching("/proc/meminfo", "MemTotal"))
      << ", \"kernel\": " << mantis::tools::json_quote(std::string(host.sysname) + " " + host.release)
      << ", \"loadavg_start\": " << mantis::tools::json_quote(results.load_before)
      << ", \"loadavg_end\": " << mantis::tools::json_quote(results.load_after) << "},\n";
  out << "  \"timing\": {\"clock_read_ns\": " << timing.clock_read_ns
      << ", \"subtracted_per_sample_ns\": " << timing.empty_interval_ns << "},\n";
  out << "  \"results\": [\n";
  for (std::size_t i = 0; i < results.rows.size(); ++i) {
    const Row& row = results.rows[i];
    const Measurement& m = row.m;
    out << "    {\"impl\": " << mantis::tools::json_quote(row.impl)
        << ", \"workload\": " << mantis::tools::json_quote(row.workload) << ", \"threads\": " << row.threads
        << ", \"ops\": " << m.ops << ", \"seconds\": " << m.seconds << ", \"ops_per_sec\": " << m.ops_per_sec()
        << ", \"latency_ns\": {\"mean\": " << m.mean_ns << ", \"p50\": " << m.p50_ns << ", \"p95\": " << m.p95_ns
        << ", \"p99\": " << m.p99_ns << ", \"p999\": " << m.p999_ns << ", \"max\": " << m.max_ns
        << "}, \"errors\": " << m.errors << ", \"misses\": " << m.misses << ", \"peak_rss_bytes\": " << m.peak_rss_bytes
        << ", \"peak_rss_is_phase\": " << (m.peak_rss_is_phase ? "true" : "false")
        << ", \"rss_delta_bytes\": " << m.rss_delta_bytes << ", \"timing_overhead_pct\": " << m.timing_overhead_pct
        << ", \"in_child\": " << (m.in_child ? "true" : "false") << ", \"mantis_ratio\": " << mantis_ratio(results, row)
        << "}" << (i + 1 < results.rows.size() ? "," : "") << "\n";
  }
  out << "  ],\n  \"bytes_per_key\": [";
  for (std::size_t i = 0; i < results.footprints.size(); ++i) {
    const Footprint& f = results.footprints[i];
    out << (i ? ", " : "") << "{\"impl\": " << mantis::tools::json_quote(f.impl)
        << ", \"bytes_per_key\": " << f.bytes_per_key << ", \"peak_rss_bytes\": " << f.peak_rss_bytes << "}";
  }
  out << "],\n  \"failures\": [";
  for (std::size_t i = 0; i < results.failures.size(); ++i)
    out << (i ? ", " : "") << mantis::tools::json_quote(results.failures[i]);
  out << "],\n  \"errors\": " << results.errors() << "\n}\n";
  return static_cast<bool>(out);
}

bool write_csv(const std::string& path, const Results& results) {
  std::ofstream out(path);
  out << std::setprecision(12);
  out << "impl,workload,threads,ops,seconds,ops_per_sec,mean_ns,p50_ns,p95_ns,p99_ns,p999_ns,max_ns,errors,misses,"
         "peak_rss_bytes,rss_delta_bytes,timing_overhead_pct,in_child,mantis_ratio\n";
  for (const Row& row : results.rows) {
    const Measurement& m = row.m;
    out << row.impl << ',' << row.workload << ',' << row.threads << ',' << m.ops << ',' << m.seconds << ','
        << m.ops_per_sec() << ',' << m.mean_ns << ',' << m.p50_ns << ',' << m.p95_ns << ',' << m.p99_ns << ','
        << m.p999_ns << ',' << m.max_ns << ',' << m.errors << ',' << m.misses << ',' << m.peak_rss_bytes << ','
        << m.rss_delta_bytes << ',' << m.timing_overhead_pct << ',' << (m.in_child ? 1 : 0) << ','
        << mantis_ratio(results, row) << '\n';
  }
  return static_cast<bool>(out);
}

int run_main(int argc, char** argv) {
  Config config;
  bool help = false;
  if (!parse_flags(argc, argv, &config, &help)) return 2;
  if (help) {
    std::cout << kUsage;
    for (const WorkloadInfo& info : kWorkloads)
      std::printf("  %-18s  %s\n", std::string(info.name).c_str(), std::string(info.description).c_str());
    return 0;
  }
  // libcds (shared by the engine and the cds peer) before anything else touches it; see peers.hpp.
  init_cds_runtime();

  Bench bench(config);
  const Results results = bench.run();

  print_comparison(results, config);
  print_details(results);
  print_footprints(results, config);
  print_timing(results, bench.timing());
  if (!config.json_path.empty() && !write_json(config.json_path, results, config, bench.timing())) {
    std::cerr << "mantis-bench: cannot write " << config.json_path << "\n";
    return 1;
  }
  if (!config.csv_path.empty() && !write_csv(config.csv_path, results)) {
    std::cerr << "mantis-bench: cannot write " << config.csv_path << "\n";
    return 1;
  }
  for (const std::string& failure : results.failures) std::cerr << "mantis-bench: FAILED: " << failure << "\n";
  if (results.errors() != 0) {
    std::cerr << "mantis-bench: " << results.errors() << " operations failed\n";
  }
  return results.errors() == 0 && results.failures.empty() ? 0 : 1;
}

}  // namespace
}  // namespace mantis::bench

int main(int argc, char** argv) { return mantis::bench::run_main(argc, argv); }
