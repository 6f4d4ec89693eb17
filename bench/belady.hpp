// Belady's offline optimum (OPT): the best hit ratio any cache of a given entry count could reach on a
// trace, knowing the future. The reference line of the hit-ratio benchmark.
//
// On a miss, OPT caches the requested key unless every cached key is requested again before it, and
// then evicts the cached key whose next request is farthest away (never requested again counts as
// infinitely far). Next-use positions are precomputed in one backward pass, so a replay is
// O(requests * log(entries)).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <set>
#include <utility>
#include <vector>

namespace mantis::bench {

// The percentage of `requests` (key ids < distinct) that OPT with room for `entries` keys hits.
inline double belady_hit_ratio(const std::vector<std::uint64_t>& requests, std::uint64_t distinct,
                               std::size_t entries) {
  constexpr std::size_t kNever = std::numeric_limits<std::size_t>::max();
  std::vector<std::size_t> next_use(requests.size());
  std::vector<std::size_t> upcoming(distinct, kNever);
  for (std::size_t i = requests.size(); i-- > 0;) {
    next_use[i] = upcoming[requests[i]];
    upcoming[requests[i]] = i;
  }
  // Cached keys by their next request, farthest last; cached_until[key] is the key's position in it.
  std::set<std::pair<std::size_t, std::uint64_t>> cached;
  std::vector<std::size_t> cached_until(distinct, kNever);
  std::uint64_t hits = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    const std::uint64_t key = requests[i];
    if (cached_until[key] != kNever) {
      ++hits;
      cached.erase({cached_until[key], key});
    } else if (entries == 0) {
      continue;
    } else if (cached.size() == entries) {
      const auto farthest = std::prev(cached.end());
      if (farthest->first <= next_use[i]) continue;  // the newcomer is the one to drop
      cached_until[farthest->second] = kNever;
      cached.erase(farthest);
    }
    // A key never requested again is not worth caching.
    if (next_use[i] == kNever) {
      cached_until[key] = kNever;
      continue;
    }
    cached.insert({next_use[i], key});
    cached_until[key] = next_use[i];
  }
  return requests.empty() ? 0.0 : 100.0 * static_cast<double>(hits) / static_cast<double>(requests.size());
}

}  // namespace mantis::bench
