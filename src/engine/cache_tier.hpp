// CacheTier: the Engine's read-through cache in front of the store, and the policy that keeps it
// coherent with the store, decides which misses fill it and steps aside where it does not pay.
//
// Design note.
// - What it holds: copies of hot values in a ShardedCache (cache/sharded_cache.hpp), charged against
//   Options::cache_capacity. Writes never fill it; a read miss fills it only for a key that missed
//   recently too (the Doorkeeper, cache/doorkeeper.hpp), so scans and uniform reads over more data than
//   the tier holds never make it evict what it holds.
// - Coherence (docs/DESIGN.md, rule 3, "Linearizable point operations"), two rules:
//   C1. Eventual agreement. Writers call write_through() inside the store's critical section in which
//       they published their record; it updates a cached entry only while the store still holds that
//       record, and drops it otherwise. Fills run inside the reader's store critical section and install
//       only while the store still holds the record they read. Both checks happen under the shard
//       mutex, so a fill that raced with a write can never leave the older value behind.
//   C2. No hit inside a write. C1 leaves a window: between a writer's publish in the store and its
//       write_through(), the store holds the new value and the cache the old one, so a reader that
//       read the new value from the store (a miss, a bypassed probe) could read the old one from the
//       cache next: back in time. So every write of a key runs inside a WriteWindow on the key's stripe
//       (one of kStripes atomic words): the window opens before the store publish and closes after
//       write_through(). A probe reads the stripe word before and after finding the entry, and uses
//       the entry only if no window was open and none opened or closed in between; otherwise the read
//       goes to the store. Outside every window of a stripe, each cached entry of its keys holds the
//       store's current value (C1), so a confirmed hit returns the value the store held at that moment.
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
#include "util/hash.hpp"
#include "util/retire_list.hpp"
#include "util/stress_sizes.hpp"

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
  // section (the entry may be ref()'d there). Takes no lock. kSkipped also when a write of a key of
  // the same stripe overlapped the lookup (C2): the caller reads the store and does not fill.
  template <class Consume>
  Probe probe(std::string_view key, Consume&& consume) const {
    if (!cache_ || !CacheBypass::should_probe(id_)) return Probe::kSkipped;
    const std::atomic<std::uint64_t>& stripe = stripe_for(key);
    // acquire: a window closed before this load has its write_through() visible to the lookup below.
    const std::uint64_t before = stripe.load(std::memory_order_acquire);
    if (open_windows(before) != 0) return Probe::kSkipped;
    // The entry's slot is loaded with acquire inside find_confirmed(), so this second load cannot move
    // before it: if the lookup saw anything a window wrote, this load sees that window opened (C2).
    const auto found = cache_->find_confirmed(
        key, [&stripe, before] { return stripe.load(std::memory_order_acquire) == before; },
        std::forward<Consume>(consume));
    if (found == ShardedCache::Found::kUnconfirmed) return Probe::kSkipped;
    const bool hit = found == ShardedCache::Found::kHit;
    CacheBypass::record_probe(id_, hit);
    return hit ? Probe::kHit : Probe::kMiss;
  }

  // A write's window on its key's stripe (C2): open from construction, before the store publishes,
  // until destruction, after write_through() or erase(). Does nothing when the tier is off.
  class WriteWindow {
   public:
    WriteWindow(const CacheTier& tier, std::string_view key) noexcept
        : stripe_(tier.cache_ ? &tier.stripe_for(key) : nullptr) {
      // seq_cst: the opening is ordered before the store publish that follows it, for every reader.
      if (stripe_ != nullptr) stripe_->fetch_add(1, std::memory_order_seq_cst);
    }
    // One step closes the window and advances the generation, so a probe that straddled the whole
    // window sees the word change.
    ~WriteWindow() {
      if (stripe_ != nullptr) stripe_->fetch_add(kGeneration - 1, std::memory_order_seq_cst);
    }
    WriteWindow(const WriteWindow&) = delete;
    WriteWindow& operator=(const WriteWindow&) = delete;

   private:
    std::atomic<std::uint64_t>* stripe_;
  };
  // Windows on every stripe at once, for clear().
  class WriteWindowAll {
   public:
    explicit WriteWindowAll(const CacheTier& tier) noexcept;
    ~WriteWindowAll();
    WriteWindowAll(const WriteWindowAll&) = delete;
    WriteWindowAll& operator=(const WriteWindowAll&) = delete;

   private:
    const CacheTier& tier_;
  };

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

  // Drops the key's entry: always coherent, the next read refills it. Call after the store's erase,
  // inside the erase's WriteWindow.
  void erase(std::string_view key);
  // Drops every entry. Call after the store is cleared, inside a WriteWindowAll: a fill racing with it
  // validates against the store and finds nothing current.
  void clear() noexcept;
  // The tier's figures for Stats::cache (all zero when the tier is off).
  void report(Stats& stats) const;

 private:
  static std::uint64_t next_id() noexcept;

  // A stripe word: the number of open windows in the low kGeneration bits, above them a generation
  // that every closing advances (2^44 closings per stripe before it wraps).
  static constexpr std::uint64_t kGeneration = std::uint64_t{1} << 20;
  static constexpr std::size_t kStripes = stress_size<std::size_t>(1024, 8);
  static std::uint64_t open_windows(std::uint64_t word) noexcept { return word & (kGeneration - 1); }
  struct alignas(64) Stripe {
    std::atomic<std::uint64_t> word{0};
  };
  std::atomic<std::uint64_t>& stripe_for(std::string_view key) const noexcept {
    return stripes_[hash_key(key) % kStripes].word;
  }

  const std::uint64_t id_ = next_id();      // process-unique, for CacheBypass's per-thread state
  std::unique_ptr<ShardedCache> cache_;     // null when Options::cache_capacity == 0
  std::unique_ptr<Doorkeeper> doorkeeper_;  // decides which misses fill `cache_`
  std::unique_ptr<Stripe[]> stripes_;       // kStripes words when the tier is on (C2)
};

}  // namespace mantis::detail
