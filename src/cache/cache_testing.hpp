// Test seams of mantis::Cache. No API promise.
#pragma once

#include <memory>

#include <mantis/cache.hpp>
#include "util/clock.hpp"

namespace mantis::detail {

struct CacheTesting {
  // A cache whose TTLs are measured against `clock`, which must outlive the cache; null when
  // Cache::open would fail with these options.
  static std::unique_ptr<Cache> make(const CacheOptions& options, const Clock& clock) {
    std::unique_ptr<Cache> cache;
    if (!Cache::open_with(options, clock, &cache).ok()) return nullptr;
    return cache;
  }
};

}  // namespace mantis::detail
