// CacheTier: the Engine's read-through cache in front of the store, and the policy that keeps it
// coherent with the store, decides which misses fill it and steps aside where it does not pay.
//
// Design note.
// - What it holds: copies of hot values in a ShardedCache (cache/sharded_cache.hpp), charged against
//   Options::cache_capacity. Writes never fill it; a read miss fills it only for a key that missed
//   recently too (the Doorkeeper, cache/doorkeeper.hpp), so scans and uniform reads over more data than
//   the tier holds never make it evict what it holds.
// - Coherence (docs/DESIGN.md, "Cache coherence"): writers call write_through() inside the store's
//   critical section in which they published their record; it updates a cached entry only while the
//   store still holds that record, and drops it otherwise. Fills run inside the reader's store critical
//   section and install only while the store still holds the record they read. Both checks happen
//   under the shard mutex, so a fill that raced with a write can never leave the older value behind.
// - Bypass (engine/cache_bypass.hpp): a thread whose probes mostly miss stops probing for a while; a
//   probe that misses costs about as much as a short store read.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <string_view>

#include <mantis/options.hpp>
#include <mantis/stats.hpp>

#include "cache/doorkeeper.hpp"
#include "cache/sharded_cache.hpp"
#include "engine/cache_bypass.hpp"
#include "store/record.hpp"
#include "util/clock.hpp"
#include "util/retire_list.hpp"

namespace mantis::detail {

// A read miss fills the tier only if the same key missed before within the doorkeeper's window, which
// spans about as many misses as the tier holds entries, estimated at kCacheEntryEstimate bytes of
// charge each.
inline constexpr std::size_t kCacheEntryEstimate = 128;

// Thread-safe: every method may be called from any number of threads. A tier of capacity 0 is off:
// probes skip it, and fills, write-throughs and erases do nothing. Not copyable or movable.
class CacheTier {
 public:
  // What probe() did.
  enum class Probe {
    kHit,      // consume(entry) ran
    kMiss,     // probed and missed: the caller offers the store's record to fill()
    kSkipped,  // the tier is off, or this thread bypasses it for now
  };

  // Throws std::bad_alloc when memory is exhausted.
  CacheTier(const Options& options, const Clock& clock);
  CacheTier(const CacheTier&) = delete;
  CacheTier& operator=(const CacheTier&) = delete;

  // Looks the key up; on a hit calls consume(CacheEntry&) inside the cache's read-side critical
  // section (the entry may be ref()'d there). Takes no lock.
  template <class Consume>
  Probe probe(std::string_view key, Consume&& consume) const {
    if (!cache_ || !CacheBypass::should_probe(id_)) return Probe::kSkipped;
    const bool hit = cache_->find(key, std::forward<Consume>(consume)).ok();
    CacheBypass::record_probe(id_, hit);
    return hit ? Probe::kHit : Probe::kMiss;
  }

  // After a probe() that missed, inside the store critical section in which the reader found `record`:
  // caches its value if the doorkeeper admits the key and `is_current()` (checked under the shard
  // mutex) confirms the store still holds `record`. Unlinked entries go to `retired`.
  template <class IsCurrent>
  void fill(std::string_view key, const Record& record, const IsCurrent& is_current, RetireList& retired) {
    if (!doorkeeper_->offer(key)) return;
    try {
      cache_->fill(key, record.value(), record.expires_at_ms(), is_current, retired);
    } catch (const std::bad_alloc&) {
      // A fill is an optimisation; without memory for it the read is served from the store alone.
    }
  }

  // Inside the store critical section in which a writer published `record` for `key`: a cached entry
  // of the key takes the record's value if `is_current()` confirms the store still holds it, and is
  // dropped otherwise. Uncached keys stay uncached. Unlinked entries go to `retired`.
  template <class IsCurrent>
  void write_through(std::string_view key, const Record& record, const IsCurrent& is_current, RetireList& retired) {
    if (!cache_) return;
    try {
      cache_->write_through(key, record.value(), record.expires_at_ms(), is_current, retired);
    } catch (const std::bad_alloc&) {
      // Only RetireList's overflow can throw, after the entry was replaced or unlinked: coherent.
    }
  }

  // Drops the key's entry: always coherent, the next read refills it. Call after the store's erase.
  void erase(std::string_view key);
  // Drops every entry. Call after the store is cleared: a fill racing with it validates against the
  // store and finds nothing current.
  void clear() noexcept;
  // The tier's figures for Stats::cache (all zero when the tier is off).
  void report(Stats& stats) const;

 private:
  static std::uint64_t next_id() noexcept;

  const std::uint64_t id_ = next_id();      // process-unique, for CacheBypass's per-thread state
  std::unique_ptr<ShardedCache> cache_;     // null when Options::cache_capacity == 0
  std::unique_ptr<Doorkeeper> doorkeeper_;  // decides which misses fill `cache_`
};

}  // namespace mantis::detail
