#include "options.hpp"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <system_error>

#include <CLI/CLI.hpp>

#include "cli.hpp"
#include "durability.hpp"

namespace mantis::bench {
namespace {

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

// The help text's list of workloads.
std::string workloads_help() {
  std::string text = "Workloads:\n";
  for (const WorkloadInfo& info : kWorkloads) {
    char line[512];
    std::snprintf(line, sizeof line, "  %-18s  %s\n", std::string(info.name).c_str(),
                  std::string(info.description).c_str());
    text += line;
  }
  return text + "\nExit status: 0 if every operation succeeded, 1 if any failed, 2 on bad flags.";
}

// The --compare help on the embedded stores: which ones this binary has.
std::string embedded_peers_help() {
  auto state = [](bool built, std::string_view package) {
    return built ? std::string() : "; not built: " + std::string(package) + " was missing at build time";
  };
  return std::string("lmdb (LMDB") + state(kLmdbBuilt, "liblmdb-dev") + "), rocksdb (RocksDB" +
         state(kRocksDbBuilt, "librocksdb-dev") + "); in-memory runs put their files under " + kScratchRoot +
         ", --dir runs under DIR";
}

}  // namespace

std::optional<int> parse_options(int argc, char** argv, Config* config) {
  CLI::App app{
      "mantis-bench: the benchmark suite on mantis::Engine (seq/rand writes and reads, concurrent ops, cache\n"
      "hits, memory) plus YCSB A, B, C and E, next to peers in the same process on the same keys. Keys are\n"
      "16 bytes (\"key:\" + 12 digits). docs/BENCHMARKS.md explains the method.",
      "mantis-bench"};
  app.footer(workloads_help());
  // Every value is taken as text and checked below, with the messages and rules of the hand-written
  // parser this replaced (lists split on commas, K/M/G byte suffixes).
  std::string keys, value_size, threads, seconds, workloads, cache_size, compare, dir, durability;
  app.add_option("--keys", keys, "Keys loaded before each group of phases (default 1000000)")->type_name("N");
  app.add_option("--value-size", value_size, "Value bytes; K/M/G suffixes allowed (default 100)")->type_name("N");
  app.add_option("--threads", threads, "Thread counts, e.g. 1,2,40 (default 1,2,40); `concurrent` always uses 40")
      ->type_name("LIST");
  app.add_option("--seconds", seconds, "Duration of each time-bounded phase (default 2)")->type_name("S");
  app.add_option("--workloads", workloads,
                 "Phases to run (default: all; listed below). The shuffled load, rand_insert, always runs before the "
                 "other phases and is reported when listed; seq_write (an ascending load into a store of its own) "
                 "runs when it or seq_read is listed")
      ->type_name("LIST");
  app.add_option("--cache-size", cache_size,
                 "Options::cache_capacity of the engine, and the capacity of the cache-phase caches; K/M/G suffixes "
                 "allowed (default: the engine without a tier, as Options' default, and 64M caches for the cache "
                 "phase)")
      ->type_name("BYTES");
  app.add_option("--compare", compare,
                 "Peers: stdmap,cds,lru, memory (the engine without --dir), snapshot (the engine holding a snapshot; "
                 "only when listed), " +
                     embedded_peers_help() +
                     " (default: all that apply but snapshot; \"\" for mantis alone)")
      ->type_name("LIST");
  app.add_option("--dir", dir,
                 "Durable engines: each mantis store lives in a fresh directory under DIR (removed afterwards), with "
                 "the log and snapshots; adds the recovery phases");
  mantis::tools::add_durability_option(app, &durability, "With --dir: none, async, sync or periodic (default async)")
      ->type_name("MODE");
  app.add_option("--json", config->json_path, "Write every result as JSON")->type_name("FILE");
  app.add_option("--csv", config->csv_path, "Write every result as CSV (scripts/plot_bench.sh charts it)")
      ->type_name("FILE");
  app.add_flag("--quick", config->quick,
               "A smoke run of every workload and peer in a few seconds (20000 keys, 0.1 s phases); flags given "
               "explicitly still win");
  if (const std::optional<int> status = mantis::tools::parse_command_line(app, argc, argv)) return status;

  if (config->quick) {
    config->keys = 20'000;
    config->seconds = 0.1;
  }
  auto bad = [&app](std::string_view flag, std::string_view value) {
    return mantis::tools::usage_error(app, "bad value '" + std::string(value) + "' for --" + std::string(flag));
  };
  if (app.count("--keys") > 0) {
    const auto n = parse_number<std::uint64_t>(keys);
    if (!n || *n == 0 || *n >= 1'000'000'000'000ULL / 2) return bad("keys", keys);
    config->keys = *n;
  }
  if (app.count("--value-size") > 0) {
    const auto size = parse_bytes(value_size);
    if (!size || *size > Options{}.max_value_size) return bad("value-size", value_size);
    config->value_size = *size;
  }
  if (app.count("--threads") > 0) {
    config->threads.clear();
    for (const std::string& item : split_list(threads)) {
      const auto n = parse_number<int>(item);
      if (!n || *n < 1 || *n > 4096) return bad("threads", threads);
      config->threads.push_back(*n);
    }
    if (config->threads.empty()) return bad("threads", threads);
  }
  if (app.count("--seconds") > 0) {
    const auto s = parse_number<double>(seconds);
    if (!s || !(*s > 0) || *s > 86400) return bad("seconds", seconds);
    config->seconds = *s;
  }
  if (app.count("--workloads") > 0) {
    for (const std::string& item : split_list(workloads)) {
      const auto workload = parse_workload(item);
      if (!workload) return bad("workloads", item);
      config->workloads.push_back(*workload);
    }
    if (config->workloads.empty()) return bad("workloads", workloads);
  }
  if (app.count("--cache-size") > 0) {
    const auto size = parse_bytes(cache_size);
    if (!size) return bad("cache-size", cache_size);
    config->cache_size = *size;
  }
  if (app.count("--compare") > 0) {
    config->compare = split_list(compare);
    for (const std::string& peer : config->compare) {
      const std::vector<std::string> known = known_peers();
      if (std::find(known.begin(), known.end(), peer) != known.end()) continue;
      if ((peer == "lmdb" && !kLmdbBuilt) || (peer == "rocksdb" && !kRocksDbBuilt)) {
        return mantis::tools::usage_error(app, "peer '" + peer + "' is not built into this mantis-bench (lib" + peer +
                                                   "-dev was not installed when it was built)");
      }
      return bad("compare", peer);
    }
  }
  if (app.count("--dir") > 0) {
    if (dir.empty()) return bad("dir", dir);
    config->dir = dir;
  }
  if (app.count("--durability") > 0) config->durability = *mantis::tools::parse_durability(durability);
  if (config->workloads.empty()) {
    for (const WorkloadInfo& info : kWorkloads) config->workloads.push_back(info.workload);
  }
  return std::nullopt;
}

}  // namespace mantis::bench
