// A TTL cache in front of a slow lookup with the standalone mantis::Cache: entries expire on their
// own (cache-aside with a time to live), a miss falls through to the source, and the cache's
// counters show what happened.
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include <mantis/cache.hpp>

namespace {

int source_lookups = 0;

// Stands in for a database or an HTTP call.
std::string load_profile(std::string_view user) {
  ++source_lookups;
  return "profile of " + std::string(user);
}

// Cache-aside: serve from the cache, else load and cache for `ttl`.
std::string profile(mantis::Cache& cache, std::string_view user, std::chrono::milliseconds ttl) {
  std::string value;
  if (cache.get(user, &value).ok()) return value;
  value = load_profile(user);
  if (mantis::Status s = cache.put(user, value, ttl); !s.ok()) {
    std::fprintf(stderr, "put: %s\n", s.to_string().c_str());  // still serve the loaded value
  }
  return value;
}

}  // namespace

int main() {
  using namespace std::chrono_literals;
  std::unique_ptr<mantis::Cache> owner;
  if (mantis::Status s = mantis::Cache::open(mantis::CacheOptions{.capacity = 1 << 20}, &owner); !s.ok()) {
    std::fprintf(stderr, "open: %s\n", s.to_string().c_str());
    return 1;
  }
  mantis::Cache& cache = *owner;

  for (int i = 0; i < 3; ++i) profile(cache, "ada", 500ms);  // one load, two hits
  std::printf("after 3 reads: %d source lookup(s)\n", source_lookups);
  if (source_lookups != 1) return 1;

  std::this_thread::sleep_for(600ms);  // the entry expires on its own
  std::printf("after the TTL: %s\n", profile(cache, "ada", 500ms).c_str());
  if (source_lookups != 2) return 1;

  const mantis::CacheStats stats = cache.stats();
  std::printf("hits %llu, misses %llu, entries %zu, charge %zu of %zu bytes\n",
              static_cast<unsigned long long>(stats.hits), static_cast<unsigned long long>(stats.misses),
              cache.entries(), cache.charge(), cache.capacity());
  return stats.hits == 2 && stats.misses == 2 ? 0 : 1;
}
