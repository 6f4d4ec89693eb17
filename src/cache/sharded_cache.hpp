// ShardedCache: the engine behind mantis::Cache and the Engine's cache tier.
//
// Design note.
// - Sharding: a 64-bit hash of the key picks one of 2^shard_bits shards by its top bits. Each shard has
//   its own byte budget, hash table, mutex, eviction pool and logical clock.
// - Reads are lock-free. A shard's hash table (cache_table.hpp) is an open-addressing array (linear probing) of atomic
//   entry pointers plus one control byte per slot (empty, deleted, or full with 2 segment bits and 5 hash bits, so a
//   probe dereferences an entry only on a 1-in-32 false match). Readers probe inside one libcds RCU read-side critical
//   section (util/rcu.hpp); writers change the table under the shard mutex and retire whatever they unlink (entries,
//   replaced tables) through RCU, after releasing the mutex.
// - Entries (cache_entry.hpp) are immutable and reference counted (like Record): the table holds one reference, dropped
//   through RCU when the entry is unlinked; a ValueView holds another. So a view survives eviction,
//   replacement, erase and the cache itself.
// - Recency: each shard has a logical clock `tick`, a counter, never wall time, so ties follow access
//   order. A put stamps its entry with the next tick; a hit stamps it with the next tick unless the entry
//   is already among the shard's `recent_window` most recent stamps (entries/8), which keeps hot keys
//   from touching the shared counter at all. No list, no splice, no exclusive lock on a hit.
// - Eviction (Redis's approximate LRU): each eviction samples 5 to 16 occupied slots (more for larger segments) from a
//   random position into a per-shard pool (eviction_pool.hpp) of the EvictionPool::kCapacity oldest candidates seen,
//   then evicts the pool member with the oldest *current* stamp (stamps are re-read, so a candidate touched since it
//   was sampled is judged by its new stamp). Expired entries met while sampling go first. Work per evicted entry is
//   bounded (a sample plus a pool scan, given the table's minimum density of 1/8); a put evicts as many entries as its
//   charge needs, and evicts before it inserts, so a shard's charge never exceeds its capacity, not even transiently.
// - Admission::kTinyLfu: a FrequencySketch (frequency_sketch.hpp) per shard counts hits and puts; a new key that needs
//   room is admitted only if its estimated frequency exceeds that of the entry it would evict.
// - Admission::kAdaptive (the default), W-TinyLFU: a new key enters the admission window (segments.hpp); the window's
//   oldest entry moves to the main region's probation segment as the candidate, and takes the place of the least
//   frequent of probation's oldest entries (its eviction pool) only if the sketch ranks it higher (else the candidate
//   is evicted). Probation entries hit since they entered it (a bit in the stamp) are promoted to protected when
//   eviction reaches them. Each shard sizes its window
//   ARC-style from ghost hits (ghosts.hpp): a miss on a key the window recently let go grows the window, a miss on a
//   key the main region recently evicted shrinks it. A hit counts in the sketch only when it stamps the entry (see
//   touch()), so a hot key costs a hit nothing beyond kAlways's work. Segments are tags
//   in the control bytes, so a writer samples a segment without loading other entries. docs/DESIGN.md explains why.
// - Table maintenance: a table is rebuilt (entries keep their identity; only the slot array is new and
//   the old one is retired through RCU) when live + deleted slots exceed 7/8, or live slots fall below
//   1/8 of it. A rebuilt table has 1.6 slots per live entry.
//
// Costs: a hit is one hash, one RCU read lock, a short probe, a relaxed load of the shard clock and
// sometimes one relaxed fetch_add. A put takes the shard mutex and, when full, samples ~5 slots per
// eviction. Memory per entry: 32-byte header + ~1.6 slots of 9 bytes, covered by kEntryOverhead.
//
// The templates a read or a write of the Engine inlines (find, fill, write_through) live here; the rest
// of the shard machinery (put, eviction, table rebuilds, erase, clear) is in sharded_cache.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include <mantis/cache.hpp>
#include <mantis/status.hpp>
#include <mantis/value_view.hpp>

#include "cache/cache_entry.hpp"
#include "cache/cache_table.hpp"
#include "cache/eviction_pool.hpp"
#include "cache/frequency_sketch.hpp"
#include "cache/ghosts.hpp"
#include "cache/segments.hpp"
#include "util/clock.hpp"
#include "util/hash.hpp"
#include "util/random.hpp"
#include "util/rcu.hpp"
#include "util/retire_list.hpp"
#include "util/striped_counters.hpp"

namespace mantis::detail {

// Thread-safe: every method may be called concurrently from any number of threads, except the
// destructor. Methods may be called from inside an RcuReadLock held by the caller (sections nest).
// Not copyable or movable.
class ShardedCache {
 public:
  static constexpr int kMaxShardBits = 16;
  // Samples per eviction from a segment: kMaxSamplesPerEviction times the segment's share of the
  // shard's entries, at least kMinSamplesPerEviction (Redis's 5). A segment holding most entries (a
  // window grown on a recency trace, or the one segment of kAlways/kTinyLfu) gets up to 16: at the
  // LRU cliff of a recency trace (1500 entries) 5 samples ended 2.0 points below exact LRU, 16 end
  // 0.7 below. A small segment gets 5, because finding its members means scanning the control bytes
  // of the slots between them (a 1% window: ~100 slots per sample).
  static constexpr std::size_t kMinSamplesPerEviction = 5;
  static constexpr std::size_t kMaxSamplesPerEviction = 16;

  // `clock` measures TTLs and must outlive the cache. Throws std::bad_alloc when memory is exhausted.
  ShardedCache(const CacheOptions& options, const Clock& clock);
  ~ShardedCache();
  ShardedCache(const ShardedCache&) = delete;
  ShardedCache& operator=(const ShardedCache&) = delete;

  // Picks about 4 shards per hardware thread, at most 2^8, with at least 64 KiB each when possible.
  static int auto_shard_bits(std::size_t capacity) noexcept;

  // mantis::Cache::put: inserts or replaces, evicting as needed. Thread-safe.
  Status put(std::string_view key, std::string_view value, std::chrono::milliseconds ttl);

  // The read-through fill of the Engine's cache tier (docs/DESIGN.md, rule 3, "Linearizable point operations"). Caches
  // key -> value unless `still_current()`, called under the shard mutex that writers' write_through() also takes, says
  // that the store no longer holds the record the value was read from; so a fill that raced with a write can never
  // leave the older value behind. Entries too large for their shard are not cached. Thread-safe. May be called inside
  // an RCU read-side critical section: whatever it unlinks goes to the caller's `retired`, which the caller must
  // destroy outside that section. `still_current` must not retire anything through RCU (the mutex is held).
  template <class StillCurrent>
  void fill(std::string_view key, std::string_view value, std::uint64_t expires_at_ms, StillCurrent&& still_current,
            RetireList& retired) {
    const std::uint64_t hash = hash_key(key);
    Shard& shard = shard_for(hash);
    if (key.size() + value.size() + Cache::kEntryOverhead > shard.capacity) return;
    const std::uint32_t hash32 = static_cast<std::uint32_t>(hash);
    if (shard.sketch != nullptr) shard.sketch->increment(hash);  // a fill is an access, as a put is
    CacheEntry* entry = CacheEntry::create(key, value, hash32, expires_at_ms);
    if (entry == nullptr) return;  // a fill is an optimisation: out of memory just skips it
    std::lock_guard<std::mutex> lock(shard.mutex);
    if (!still_current()) {
      CacheEntry::unref(entry);  // never published
      return;
    }
    install_locked(shard, entry, retired);  // a fill that cannot be installed is simply skipped
  }

  // The write side of the Engine's cache tier (docs/DESIGN.md, rule 3, "Linearizable point operations"), called by a
  // writer inside the critical section in which it published `value` to the store. If `key` is cached, the entry
  // becomes `value` when `is_current()` (under the shard mutex) confirms that the store still holds the writer's
  // record, and is dropped otherwise (the newer writer keeps it current itself). Uncached keys stay uncached: writes
  // never fill. Whatever is unlinked goes to the caller's `retired`, destroyed outside the critical section.
  // Thread-safe.
  template <class IsCurrent>
  void write_through(std::string_view key, std::string_view value, std::uint64_t expires_at_ms, IsCurrent&& is_current,
                     RetireList& retired) {
    const std::uint64_t hash = hash_key(key);
    Shard& shard = shard_for(hash);
    const std::uint32_t hash32 = static_cast<std::uint32_t>(hash);
    std::lock_guard<std::mutex> lock(shard.mutex);
    CacheTable* table = shard.table.load(std::memory_order_relaxed);
    const std::size_t slot = table->find(key, hash32);
    if (slot == CacheTable::kNotFound) return;
    CacheEntry* entry = nullptr;
    if (is_current() && key.size() + value.size() + Cache::kEntryOverhead <= shard.capacity) {
      entry = CacheEntry::create(key, value, hash32, expires_at_ms);
    }
    if (entry == nullptr) {
      unlink(shard, slot, retired);
      maybe_shrink(shard, retired);
      return;
    }
    install_locked(shard, entry, retired);
  }

  // Calls consume(entry) for a live entry of `key` inside the read-side critical section (the entry may
  // be ref()'d there) and returns OK; NotFound on a miss or an expired entry. Takes no lock on a hit.
  template <class Consume>
  Status find(std::string_view key, Consume&& consume) {
    const Found found = find_confirmed(
        key, [] { return true; }, std::forward<Consume>(consume));
    return found == Found::kHit ? Status::ok_status() : Status::not_found();
  }

  enum class Found { kHit, kMiss, kUnconfirmed };
  // Like find(), but once a live entry is found, and before consume(entry) runs, confirm() decides
  // whether it may be used: kUnconfirmed (consume not called, nothing counted) when it returns false.
  // The Engine's tier confirms that no write of the key overlapped the lookup (CacheTier::probe).
  // Entries are immutable, so confirming which entry was found confirms the value consume() reads.
  template <class Confirm, class Consume>
  Found find_confirmed(std::string_view key, Confirm&& confirm, Consume&& consume) {
    const std::uint64_t hash = hash_key(key);
    Shard& shard = shard_for(hash);
    const std::uint32_t hash32 = static_cast<std::uint32_t>(hash);
    std::uint64_t expired_at_ms = 0;
    {
      RcuReadLock read_lock;
      // Acquire pairs with the release store that published the table: its slots are initialized.
      CacheTable* table = shard.table.load(std::memory_order_acquire);
      CacheEntry* entry = table->find_entry(key, hash32);
      if (entry != nullptr) {
        if (entry->expires_at_ms() != 0) {
          const std::uint64_t now_ms = clock_.now_ms();
          if (entry->expired_at(now_ms)) expired_at_ms = now_ms;
        }
        if (expired_at_ms == 0) {
          if (!confirm()) return Found::kUnconfirmed;
          if (touch(shard, *entry) && shard.sketch != nullptr) shard.sketch->increment(hash);
          consume(*entry);
          counters_.add(kHits);
          return Found::kHit;
        }
      }
    }
    counters_.add(kMisses);
    if (expired_at_ms != 0) remove_if_expired(shard, key, hash32, expired_at_ms);
    return Found::kMiss;
  }

  // mantis::Cache::get, copying or pinning. Thread-safe; takes no lock on a hit.
  Status get(std::string_view key, std::string* value);
  Status get(std::string_view key, ValueView* view);
  // Removes the key's entry; true if there was one. Thread-safe.
  bool erase(std::string_view key);
  // Removes every entry whose key starts with `prefix`; returns how many. Thread-safe.
  std::size_t erase_prefix(std::string_view prefix);
  // Allocates nothing, so it cannot fail: entries are unlinked in batches that fit RetireList's inline
  // room, each batch retired after the shard mutex is released. The emptied table is then shrunk if
  // memory allows. Thread-safe.
  void clear() noexcept;

  std::size_t entries() const noexcept;
  std::size_t charge() const noexcept;
  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t shard_count() const noexcept { return shard_count_; }
  // The byte budget of the shard that holds `key`.
  std::size_t shard_capacity_for(std::string_view key) const noexcept { return shard_for(hash_key(key)).capacity; }
  CacheStats stats() const noexcept;

 private:
  static constexpr std::size_t kMinSlots = 16;
  // W-TinyLFU: the protected segment's share of the main region (the rest is probation).
  static constexpr double kProtectedShare = 0.8;
  // A probation victim that was hit since it entered probation is promoted instead of evicted, at most
  // this many times per eviction (bounds the work when concurrent hits keep re-referencing entries).
  static constexpr int kMaxPromotionsPerEviction = 8;
  // A window candidate that lost to the main victim is still admitted once in 128 times when its
  // estimated frequency is at least this: a victim whose counters were inflated cannot stay forever.
  static constexpr unsigned kJitterMinFrequency = 6;
  // A candidate must beat a main victim whose estimate is at least this by 2, not 1. Halving the
  // sketch leaves keys counted since the halving one ahead of keys counted before it; on a loop (all
  // keys equally frequent) that one-count edge made candidates displace entries about to be hit (LIRS
  // loop @500 entries: 0.91x OPT; 0.99x with the margin). Victims with an estimate of 1 are still
  // displaced by any key seen twice, which is what a frequency-skewed trace (LIRS gli) needs.
  static constexpr unsigned kAdmitMarginFrom = 2;
  // Bytes of capacity per sketch counter pair (one 64-bit word of 16 counters per two "entries" of
  // this charge): capacity/8 bytes of counters. Narrower sketches collide more on traces with many
  // distinct keys (ARC OLTP @1000: 39.3% with capacity/32 bytes, 40.7% with capacity/8).
  static constexpr std::size_t kSketchChargePerEntry = 32;
  // kAdaptive: the window starts at 1/kInitialWindowDivisor of the shard's capacity; a miss on a key in
  // a ghost (ghosts.hpp) moves the window's budget by kGhostStep times the newcomer's charge. Each ghost
  // has one slot per kGhostSlotCharge bytes of capacity (about a quarter of the entries at 128 bytes
  // each): a longer ghost remembers loop keys long enough to grow the window on a loop (loop @500:
  // 0.80x OPT with twice the slots, 0.94x with these), a shorter one climbs too slowly on a recency trace
  // (1.7 points below LRU with half the slots and a step of 1). Measured with cache_hit_ratio.
  static constexpr std::size_t kInitialWindowDivisor = 100;
  static constexpr std::size_t kGhostStep = 4;
  static constexpr std::size_t kGhostSlotCharge = 512;
  enum Counter : std::size_t {
    kHits,
    kMisses,
    kInserts,
    kEvictions,
    kExpired,
    kRejections,
    kWindowMoves,
    kCounterCount
  };

  struct alignas(64) Shard {
    // Throws std::bad_alloc when memory is exhausted.
    Shard(std::size_t shard_capacity, Admission admission, std::uint64_t sketch_seed, std::size_t index);
    ~Shard();
    Shard(const Shard&) = delete;
    Shard& operator=(const Shard&) = delete;

    // Read by every operation on the shard, written only by writers: kept apart from `tick`.
    const std::size_t capacity;
    std::atomic<CacheTable*> table{nullptr};
    // Written under `mutex`; read without it by charge()/entries() (relaxed: snapshots).
    std::atomic<std::size_t> usage{0};
    std::atomic<std::size_t> live_count{0};
    // A hit skips stamping an entry whose stamp is within this many ticks of the clock (entries / 8:
    // wider windows spare the shared clock more increments but blur recency; at / 8 hit ratios stay
    // within 0.2 points of exact LRU, and YCSB-C through the engine tier gains ~10% at 2 threads).
    std::atomic<std::uint64_t> recent_window{0};
    FrequencySketch* sketch = nullptr;
    // kAdaptive: the bytes of capacity the window may use. Written under `mutex`; read without it by
    // stats() (relaxed: a snapshot).
    std::atomic<std::size_t> window_budget{0};

    // Guarded by `mutex`.
    std::mutex mutex;
    std::size_t live = 0;
    std::size_t used_slots = 0;      // live + deleted
    Segments segments;               // every entry in one segment (kProbation only, unless kAdaptive)
    std::unique_ptr<Ghosts> ghosts;  // kAdaptive only
    XorShift64 random;

    // The logical clock, on its own cache line: hits advance it from every thread.
    alignas(64) std::atomic<std::uint64_t> tick{0};
  };

  struct Victim {
    CacheEntry* entry = nullptr;
    std::size_t slot = 0;
    bool expired = false;
  };
  // An eviction's lazily read wall clock (for expiry checks of sampled entries).
  class EvictionClock {
   public:
    explicit EvictionClock(const Clock& clock) noexcept : clock_(clock) {}
    std::uint64_t now_ms() noexcept {
      if (!known_) {
        now_ms_ = clock_.now_ms();
        known_ = true;
      }
      return now_ms_;
    }

   private:
    const Clock& clock_;
    std::uint64_t now_ms_ = 0;
    bool known_ = false;
  };
  enum class Installed { kYes, kDeclined, kOutOfMemory };

  Shard& shard_for(std::uint64_t hash) const noexcept {
    return shards_[shard_bits_ == 0 ? 0 : static_cast<std::size_t>(hash >> (64 - shard_bits_))];
  }
  // The shard clock's next value. Relaxed: the counter only orders recency, it publishes no data.
  static std::uint64_t next_stamp(Shard& shard) noexcept {
    return shard.tick.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  // A hit's stamp. A referenced entry stamped recently needs none; an unreferenced one (just moved into
  // its segment by a writer) is always stamped, which is what marks it referenced. True if it stamped:
  // only those hits count in the frequency sketch, so a key hit again and again within `recent_window`
  // counts once (like TinyLFU's doorkeeper) and the hottest hits skip the sketch's four counter updates.
  static bool touch(Shard& shard, CacheEntry& entry) noexcept {
    const std::uint64_t word = entry.stamp_word();
    const std::uint64_t now = shard.tick.load(std::memory_order_relaxed);
    if ((word & CacheEntry::kUnreferenced) == 0 &&
        (word >> 1) + shard.recent_window.load(std::memory_order_relaxed) >= now) {
      return false;
    }
    entry.set_stamp(next_stamp(shard));
    return true;
  }

  // Samples `segment` from a random slot (control bytes tell members apart without loading entries) and
  // returns the entry to evict from it: an expired sampled member at once, else the segment pool's
  // oldest; a null entry when the segment has no member but `exclude` and `keep`, which are never
  // chosen (dropped from the pool if it holds them). REQUIRES: shard.mutex held.
  Victim pick_victim(Shard& shard, Segment segment, const CacheEntry* exclude, EvictionClock& clock,
                     const CacheEntry* keep = nullptr) noexcept;
  // kAdaptive: the main region's victim. Probation's oldest, except that one hit since it entered
  // probation is promoted to protected instead; then protected's oldest, then the window's. A probation
  // victim is the least frequent of probation's pool (least_frequent_of_pool), not just its oldest.
  Victim pick_main_victim(Shard& shard, const CacheEntry* exclude, EvictionClock& clock, RetireList& retired) noexcept;
  // kAdaptive: `oldest`, probation's oldest unreferenced (and unexpired) entry, or the member of
  // probation's eviction pool that the sketch estimates less frequent (older on ties; never `exclude` or
  // a member hit since it entered probation). Among old entries, the one least likely to be hit again
  // goes: on a database trace (ARC OLTP) this is 0.25 points at 1000 and 2000 entries. Reads the sketch
  // only for members the pool has not estimated yet (EvictionPool::least_frequent). REQUIRES:
  // shard.mutex held.
  Victim least_frequent_of_pool(Shard& shard, const Victim& oldest, const CacheEntry* exclude) noexcept;
  // kAdaptive: moves window entries, oldest first, to probation until an entry of `incoming` bytes fits
  // the window's budget. Returns the last one moved, the candidate that must win its place in the main
  // region against the main victim (a null entry when none moved).
  Victim shrink_window(Shard& shard, std::size_t incoming, EvictionClock& clock, RetireList& retired) noexcept;
  // Moves a probation entry that was hit to protected, then demotes protected's oldest entries to
  // probation while protected exceeds its budget, never `keep` (the entry a write is replacing, which
  // its caller discards itself: removing or moving it here would free it twice).
  void promote(Shard& shard, const Victim& hit, const CacheEntry* keep, EvictionClock& clock, RetireList& retired) noexcept;
  void move(Shard& shard, const Victim& entry, Segment from, Segment to) noexcept;
  // TinyLFU: true if `candidate` may take `victim`'s place.
  bool admit(Shard& shard, const CacheEntry& candidate, const CacheEntry& victim) noexcept;
  // Evicts until `entry` fits, replacing `existing` (or nullptr). False if admission declined a new
  // key (kTinyLfu). REQUIRES: shard.mutex held.
  bool make_room(Shard& shard, const CacheEntry& entry, const CacheEntry* existing, RetireList& retired) noexcept;
  void count_eviction(bool expired) noexcept;
  // kAdaptive: remembers in its route's ghost the key of an entry that is being evicted from `segment`.
  static void remember_evicted(Shard& shard, const CacheEntry& entry, Segment segment) noexcept;
  // kAdaptive: a new key that a ghost remembers moves the window's budget (ghosts.hpp).
  void adapt_window(Shard& shard, const CacheEntry& newcomer) noexcept;
  static std::size_t window_budget(const Shard& shard) noexcept {
    return shard.window_budget.load(std::memory_order_relaxed);
  }
  // Publishes `entry` (owning its one reference) for its key, replacing the key's current entry and
  // evicting as needed, unless TinyLFU declines a newcomer or the table cannot grow (the entry is then
  // freed). Unlinked entries go to `retired`. REQUIRES: shard.mutex held.
  Installed install_locked(Shard& shard, CacheEntry* entry, RetireList& retired);
  // Removes the entry in `slot` from the table and the pool; its reference goes to `retired`.
  // REQUIRES: shard.mutex held.
  void unlink(Shard& shard, std::size_t slot, RetireList& retired);
  static void publish_live_count(Shard& shard) noexcept;
  // Moves the live entries into a new table with 1.6 slots per entry (for `expected_live` entries),
  // publishes it and retires the old slot array. Returns the new table, or nullptr (and changes
  // nothing) when memory is exhausted. REQUIRES: shard.mutex held.
  CacheTable* rebuild(Shard& shard, std::size_t expected_live, RetireList& retired) noexcept;
  // Keeps the table at least 1/8 live, which bounds the slots a sample scans (best effort: without
  // memory for a smaller table the current one stays). REQUIRES: shard.mutex held.
  void maybe_shrink(Shard& shard, RetireList& retired) noexcept;
  // Removes `key`'s entry if it is still expired at `now_ms`, when the shard mutex is free: a read never
  // waits for a lock.
  void remove_if_expired(Shard& shard, std::string_view key, std::uint32_t hash32, std::uint64_t now_ms);
  void destroy_shards(std::size_t count) noexcept;

  const Clock& clock_;
  const Admission admission_;
  const std::size_t capacity_;
  const int shard_bits_;
  const std::size_t shard_count_;
  void* shard_memory_ = nullptr;
  Shard* shards_ = nullptr;
  StripedCounters<kCounterCount> counters_;
};

}  // namespace mantis::detail
