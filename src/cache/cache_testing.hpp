// Test seams of mantis::Cache. No API promise.
#pragma once

#include <memory>

#include <mantis/cache.hpp>
#include "util/clock.hpp"

namespace mantis::detail {

struct CacheTesting {
  // A cache whose TTLs are measured against `clock`, which must outlive the cache.
  static std::unique_ptr<Cache> make(const CacheOptions& options, const Clock& clock) {
    return std::unique_ptr<Cache>(new Cache(options, clock));
  }
};

}  // namespace mantis::detail
