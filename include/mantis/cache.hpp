// mantis::Cache: a standalone, byte-bounded, sharded key-value cache with per-entry TTL.
//
// The same engine serves as the Engine's cache tier. Recency is an atomic access stamp per entry: a hit
// stores a stamp (and skips even that when the entry is already among the most recent) and counts the
// access in a frequency sketch, never takes a lock and never moves anything, so hits from many threads
// scale. Eviction samples victims with a candidate pool (as Redis does), O(1) amortized per insert; by
// default the policy is adaptive W-TinyLFU (Admission::kAdaptive; see Admission). See
// src/cache/sharded_cache.hpp.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <mantis/export.h>
#include <mantis/options.hpp>
#include <mantis/status.hpp>
#include <mantis/value_view.hpp>

namespace mantis {

namespace detail {
class Clock;
class ShardedCache;
struct CacheTesting;
}  // namespace detail

struct CacheOptions {
  // Default: 64 MiB. Bytes of charge the cache may hold (see Cache::kEntryOverhead), split evenly
  // between the shards. A cache of capacity 0 refuses every put.
  std::size_t capacity = 64u << 20;
  // Default: kAdaptive, W-TinyLFU with a self-sizing admission window (see Admission): far better than
  // LRU on frequency-skewed, looping and database traces, and within a point of exact LRU on a recency
  // trace (README, "Cache hit ratio"). kAlways is plain approximate LRU; kTinyLfu lets a newcomer
  // displace the eviction victim only when it was accessed more often. kTinyLfu and kAdaptive cost
  // about capacity/8 bytes of counters, not charged; kAdaptive also about capacity/128 bytes of ghosts.
  Admission admission = Admission::kAdaptive;
  // Default: -1 = automatic: about 4 shards per hardware thread (at most 256), fewer when a shard would
  // get less than 64 KiB. Otherwise the cache has 2^shard_bits shards; values above 16 are taken as 16,
  // values below -1 are InvalidArgument.
  int shard_bits = -1;
};

// A snapshot of a cache's counters (approximate while other threads run).
struct CacheStats {
  std::uint64_t hits = 0;       // get() calls that found a live entry
  std::uint64_t misses = 0;     // get() calls that found nothing, or an expired entry
  std::uint64_t inserts = 0;    // entries written by put() (new keys and replacements)
  std::uint64_t evictions = 0;  // live entries removed to make room
  std::uint64_t expired = 0;    // entries removed because their TTL had passed
  // Admission's refusals: new keys TinyLFU turned away (kTinyLfu), or window entries that lost their
  // place to the main region's victim and were evicted (kAdaptive).
  std::uint64_t admission_rejections = 0;
  double hit_ratio = 0;  // hits / (hits + misses); 0 before the first get()
  // Where the entries are (gauges). kAdaptive: the admission window, and the main region's probation
  // (not hit since they entered it: the next victims) and protected (hit there) segments. The other
  // policies keep every entry in probation.
  std::uint64_t window_entries = 0;
  std::uint64_t probation_entries = 0;
  std::uint64_t protected_entries = 0;
  // kAdaptive: bytes of capacity the window may use now (the hill climber's current choice), and how
  // many times the climber moved it. 0 for the other policies.
  std::uint64_t window_capacity = 0;
  std::uint64_t window_adjustments = 0;
};

// A Cache is safe for concurrent use by any number of threads without external locking. Reads never
// block: they take no lock at all. A put locks only the shard of its key. Not copyable or movable (hold
// it by unique_ptr, as Cache::open gives it).
//
// Keys and values are arbitrary bytes. A cache may drop any entry at any time to make room, so a miss
// is never an error. An entry with a TTL is invisible from the millisecond it expires (wall clock).
//
// The write calls differ from Engine's on purpose. put takes the TTL itself: it is the one knob a cache
// write has, while WriteOptions' other fields (sync, keep_ttl) would mean nothing here. erase returns
// whether the key was present as a plain bool: removing an entry from memory cannot fail, whereas
// Engine::erase returns a Status because a logged erase can (its bool* overload reports presence).
class MANTIS_EXPORT Cache {
 public:
  // The fixed per-entry overhead in the charge: charge = key bytes + value bytes + kEntryOverhead.
  // It covers the real metadata of an entry: a 32-byte header (reference count, sizes, hash, access
  // stamp, expiry) and its hash-table slots (9 bytes per slot, at most 1.6 slots per entry in steady
  // state: <= 14.4 bytes), so at most 46.4 bytes, rounded up to 48.
  static constexpr std::size_t kEntryOverhead = 48;

  // Creates a cache. On success *out holds it; on failure *out is untouched and nothing is created.
  // Invalid options give InvalidArgument naming the field; ResourceExhausted when memory runs out.
  static Status open(const CacheOptions& options, std::unique_ptr<Cache>* out);

  Cache(const Cache&) = delete;
  Cache& operator=(const Cache&) = delete;
  // REQUIRES: no call into the cache still running. ValueViews may outlive the cache.
  ~Cache();

  // Inserts or replaces key -> value, evicting least recently used entries of the key's shard until it
  // fits. ttl 0 = no expiry; ttl < 0 is InvalidArgument. An entry whose charge exceeds a shard's
  // capacity (capacity() >> shard bits) is refused with InvalidArgument and nothing changes. With
  // Admission::kTinyLfu a new key may be declined (OK is returned, nothing changes) when it was
  // accessed less often than the entry it would evict; with kAdaptive a new key is always cached, and
  // an older one may be evicted instead of the main region's victim. Thread-safe.
  Status put(std::string_view key, std::string_view value, std::chrono::milliseconds ttl = {});
  // Copies the value into *value. NotFound on a miss or an expired entry (*value is untouched then).
  // Thread-safe; takes no lock.
  Status get(std::string_view key, std::string* value);
  // Pins the value without copying: the view stays valid after the entry is evicted, replaced or
  // erased, and even after the cache is destroyed. NotFound on a miss (the view is reset then).
  // Thread-safe; takes no lock.
  Status get(std::string_view key, ValueView* value);
  // Removes key; true if it was present (expired or not). Thread-safe.
  bool erase(std::string_view key);
  // Removes every key that starts with `prefix` and returns how many. O(entries). Thread-safe.
  std::size_t erase_prefix(std::string_view prefix);
  // Removes every entry. Counters in stats() are kept. Thread-safe.
  void clear();

  // Entries held, including expired ones not yet removed. Thread-safe.
  std::size_t entries() const;
  // Sum of the charges of the entries held; never more than capacity(). Thread-safe.
  std::size_t charge() const;
  // The configured capacity in bytes. Thread-safe.
  std::size_t capacity() const;
  // Thread-safe.
  CacheStats stats() const;

 private:
  friend struct detail::CacheTesting;
  explicit Cache(detail::ShardedCache* impl) noexcept;  // takes ownership of impl
  static Status open_with(const CacheOptions& options, const detail::Clock& clock, std::unique_ptr<Cache>* out);

  detail::ShardedCache* impl_;
};

}  // namespace mantis
