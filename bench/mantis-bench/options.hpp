// mantis-bench's command line: what to run (Config) and its CLI11 parser.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <mantis/cache.hpp>
#include <mantis/options.hpp>

#include "peers/embedded_stores.hpp"
#include "workloads.hpp"

namespace mantis::bench {

// Every peer --compare accepts in this binary (lmdb and rocksdb only when built), and the default set:
// all of them but snapshot.
inline std::vector<std::string> known_peers() {
  std::vector<std::string> peers = {"stdmap", "cds", "lru", "memory", "snapshot"};
  if (kLmdbBuilt) peers.emplace_back("lmdb");
  if (kRocksDbBuilt) peers.emplace_back("rocksdb");
  return peers;
}
inline std::vector<std::string> default_peers() {
  std::vector<std::string> peers = known_peers();
  std::erase(peers, "snapshot");
  return peers;
}

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
  std::vector<std::string> compare = default_peers();
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

// Parses argv into *config. nullopt: run; otherwise the exit status (0 after --help, 2 after a bad
// flag), the text already printed.
std::optional<int> parse_options(int argc, char** argv, Config* config);

}  // namespace mantis::bench
