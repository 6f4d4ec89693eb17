// ShardedCache: the engine behind mantis::Cache and the Engine's cache tier.
//
// Design note.
// - Sharding: a 64-bit hash of the key picks one of 2^shard_bits shards by its top bits. Each shard has
//   its own byte budget, hash table, mutex, eviction pool and logical clock.
// - Reads are lock-free. A shard's hash table is an open-addressing array (linear probing) of atomic
//   entry pointers plus one control byte per slot (empty, deleted, or 0x80 | 7 hash bits, so a probe
//   dereferences an entry only on a 1-in-128 false match). Readers probe inside one libcds RCU read-side
//   critical section (detail/rcu.hpp); writers change the table under the shard mutex and retire
//   whatever they unlink (entries, replaced tables) through RCU, after releasing the mutex.
// - Entries are immutable and reference counted (like Record): the table holds one reference, dropped
//   through RCU when the entry is unlinked; a ValueView holds another. So a view survives eviction,
//   replacement, erase and the cache itself.
// - Recency: each shard has a logical clock `tick`, a counter, never wall time, so ties follow access
//   order. A put stamps its entry with the next tick; a hit stamps it with the next tick unless the entry
//   is already among the shard's `recent_window` most recent stamps (entries/8), which keeps hot keys
//   from touching the shared counter at all. No list, no splice, no exclusive lock on a hit.
// - Eviction (Redis's approximate LRU): each eviction samples kSamplesPerEviction occupied slots from a
//   random position into a per-shard pool of the kPoolSize oldest candidates seen, then evicts the pool
//   member with the oldest *current* stamp (stamps are re-read, so a candidate touched since it was
//   sampled is judged by its new stamp). Expired entries met while sampling go first. Work per evicted
//   entry is bounded (a sample plus a pool scan, given the table's minimum density of 1/8); a put evicts
//   as many entries as its charge needs, and evicts before it inserts, so a shard's charge never exceeds
//   its capacity, not even transiently.
// - Admission::kTinyLfu: a FrequencySketch per shard counts hits and puts; a new key that needs room is
//   admitted only if its estimated frequency exceeds that of the entry it would evict.
// - Table maintenance: a table is rebuilt (entries keep their identity; only the slot array is new and
//   the old one is retired through RCU) when live + deleted slots exceed 7/8, or live slots fall below
//   1/8 of it. A rebuilt table has 1.6 slots per live entry.
//
// Costs: a hit is one hash, one RCU read lock, a short probe, a relaxed load of the shard clock and
// sometimes one relaxed fetch_add. A put takes the shard mutex and, when full, samples ~5 slots per
// eviction. Memory per entry: 32-byte header + ~1.6 slots of 9 bytes, covered by kEntryOverhead.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <mantis/cache.hpp>
#include <mantis/detail/clock.hpp>
#include <mantis/detail/frequency_sketch.hpp>
#include <mantis/detail/memory.hpp>
#include <mantis/detail/rcu.hpp>
#include <mantis/detail/striped_counters.hpp>
#include <mantis/status.hpp>
#include <mantis/value_view.hpp>

namespace mantis::detail {

// One cached key -> value: a 32-byte header followed by the key bytes and the value bytes, in one
// allocation. Immutable once published, except its access stamp and reference count.
class CacheEntry {
 public:
  // A new entry with one reference, or nullptr when memory is exhausted. REQUIRES: sizes fit 32 bits.
  static CacheEntry* create(std::string_view key, std::string_view value, std::uint32_t hash32,
                            std::uint64_t expires_at_ms, std::uint64_t stamp) noexcept {
    void* memory = allocate(sizeof(CacheEntry) + key.size() + value.size());
    if (memory == nullptr) return nullptr;
    auto* entry = new (memory) CacheEntry(key.size(), value.size(), hash32, expires_at_ms, stamp);
    char* bytes = reinterpret_cast<char*>(entry + 1);
    if (!key.empty()) std::memcpy(bytes, key.data(), key.size());
    if (!value.empty()) std::memcpy(bytes + key.size(), value.data(), value.size());
    return entry;
  }

  std::string_view key() const noexcept { return {reinterpret_cast<const char*>(this + 1), key_size_}; }
  std::string_view value() const noexcept { return {reinterpret_cast<const char*>(this + 1) + key_size_, value_size_}; }
  std::uint32_t hash32() const noexcept { return hash32_; }
  std::size_t charge() const noexcept { return std::size_t{key_size_} + value_size_ + Cache::kEntryOverhead; }
  // 0 = never expires.
  std::uint64_t expires_at_ms() const noexcept { return expires_at_ms_; }
  bool expired_at(std::uint64_t now_ms) const noexcept { return expires_at_ms_ != 0 && now_ms >= expires_at_ms_; }

  // The shard clock's value at the last recorded access. Relaxed: recency is a heuristic, a stale
  // stamp only makes eviction slightly less exact, and nothing else is published through it.
  std::uint64_t stamp() const noexcept { return stamp_.load(std::memory_order_relaxed); }
  void set_stamp(std::uint64_t stamp) noexcept { stamp_.store(stamp, std::memory_order_relaxed); }

  // REQUIRES: the caller holds a reference, or is inside an RCU read-side critical section in which the
  // entry was reachable from a table (the table's reference is dropped only through RCU).
  void ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  // acq_rel: every holder's use of the bytes happens before the free.
  static void unref(CacheEntry* entry) noexcept {
    if (entry->refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      entry->~CacheEntry();
      deallocate(entry);
    }
  }
  // unref() in the signature RCU retirement and ValueView unpinning take.
  static void unref_opaque(void* entry) noexcept { unref(static_cast<CacheEntry*>(entry)); }

  CacheEntry(const CacheEntry&) = delete;
  CacheEntry& operator=(const CacheEntry&) = delete;

 private:
  CacheEntry(std::size_t key_size, std::size_t value_size, std::uint32_t hash32, std::uint64_t expires_at_ms,
             std::uint64_t stamp) noexcept
      : key_size_(static_cast<std::uint32_t>(key_size)),
        value_size_(static_cast<std::uint32_t>(value_size)),
        hash32_(hash32),
        stamp_(stamp),
        expires_at_ms_(expires_at_ms) {}
  ~CacheEntry() = default;

  std::atomic<std::uint32_t> refs_{1};
  const std::uint32_t key_size_;
  const std::uint32_t value_size_;
  const std::uint32_t hash32_;
  std::atomic<std::uint64_t> stamp_;
  const std::uint64_t expires_at_ms_;
};
static_assert(sizeof(CacheEntry) == 32, "kEntryOverhead accounts for a 32-byte entry header");

// One shard's open-addressing slot array: `slot_count` atomic entry pointers, then as many control
// bytes, in one allocation. Readers use it inside an RCU read-side critical section; only the holder of
// the shard mutex changes it. Slot i's control byte is written after its pointer (both release), so a
// reader that acquires a full control byte sees the entry it announces, or a later one.
class CacheTable {
 public:
  static constexpr std::uint8_t kEmpty = 0x00;
  static constexpr std::uint8_t kDeleted = 0x01;
  static constexpr std::size_t kNotFound = std::numeric_limits<std::size_t>::max();

  static std::uint8_t control_of(std::uint32_t hash32) noexcept { return 0x80 | (hash32 & 0x7f); }

  // A table of `slot_count` empty slots (1 <= slot_count <= 2^32), or nullptr when memory is exhausted.
  static CacheTable* create(std::size_t slot_count) noexcept {
    const std::size_t bytes = sizeof(CacheTable) + slot_count * (sizeof(std::atomic<CacheEntry*>) + 1);
    void* memory = allocate(bytes);
    if (memory == nullptr) return nullptr;
    auto* table = new (memory) CacheTable(slot_count);
    for (std::size_t i = 0; i < slot_count; ++i) {
      new (&table->slot(i)) std::atomic<CacheEntry*>(nullptr);
      new (&table->control(i)) std::atomic<std::uint8_t>(kEmpty);
    }
    return table;
  }
  // Frees the slot array only (the entries live on in a newer table).
  static void destroy(void* table) noexcept { deallocate(table); }
  // Frees the slot array and drops its reference to every entry in it (clear(), destruction).
  static void destroy_with_entries(void* opaque) noexcept {
    auto* table = static_cast<CacheTable*>(opaque);
    for (std::size_t i = 0; i < table->slot_count_; ++i) {
      if (CacheEntry* entry = table->slot(i).load(std::memory_order_relaxed)) CacheEntry::unref(entry);
    }
    deallocate(table);
  }

  std::size_t slot_count() const noexcept { return slot_count_; }
  std::atomic<CacheEntry*>& slot(std::size_t i) noexcept { return slots()[i]; }
  std::atomic<std::uint8_t>& control(std::size_t i) noexcept { return controls()[i]; }

  // The slot holding `key`, or kNotFound. Writers only: under the shard mutex the slot keeps its
  // entry. (A reader must not load the slot again: see find_entry().)
  std::size_t find(std::string_view key, std::uint32_t hash32) noexcept {
    std::size_t found = kNotFound;
    probe(key, hash32, &found);
    return found;
  }
  // The entry of `key`, or nullptr. Safe for readers: it returns the very entry whose key it compared,
  // because a concurrent writer may unlink that entry and reuse its slot for another key at any time.
  CacheEntry* find_entry(std::string_view key, std::uint32_t hash32) noexcept {
    std::size_t ignored;
    return probe(key, hash32, &ignored);
  }

  // The first empty or deleted slot on `hash32`'s probe sequence. Writers only.
  std::size_t free_slot(std::uint32_t hash32) noexcept {
    std::size_t i = home(hash32);
    while (control(i).load(std::memory_order_relaxed) >= 0x80) i = next(i);
    return i;
  }

  // Publishes `entry` in slot i (release: readers that find it see its bytes). Writers only.
  void publish(std::size_t i, CacheEntry* entry) noexcept {
    slot(i).store(entry, std::memory_order_release);
    control(i).store(control_of(entry->hash32()), std::memory_order_release);
  }
  // Marks slot i deleted. A reader still holding the entry keeps it alive through RCU. Writers only.
  void remove(std::size_t i) noexcept {
    control(i).store(kDeleted, std::memory_order_release);
    slot(i).store(nullptr, std::memory_order_release);
  }

  std::size_t next(std::size_t i) const noexcept { return i + 1 == slot_count_ ? 0 : i + 1; }

 private:
  // Walks `key`'s probe sequence; returns the matching entry (and sets *slot_index), or nullptr.
  // Terminates because a table is never more than 7/8 used, so every probe sequence reaches an empty slot.
  CacheEntry* probe(std::string_view key, std::uint32_t hash32, std::size_t* slot_index) noexcept {
    const std::uint8_t wanted = control_of(hash32);
    for (std::size_t i = home(hash32);; i = next(i)) {
      // Acquire pairs with the writer's release store of the control byte: the slot pointer and the
      // entry's bytes written before it are visible.
      const std::uint8_t control_byte = control(i).load(std::memory_order_acquire);
      if (control_byte == kEmpty) return nullptr;
      if (control_byte != wanted) continue;
      // Acquire pairs with the release store that published the entry into the slot.
      CacheEntry* entry = slot(i).load(std::memory_order_acquire);
      if (entry != nullptr && entry->hash32() == hash32 && entry->key() == key) {
        *slot_index = i;
        return entry;
      }
    }
  }

 private:
  explicit CacheTable(std::size_t slot_count) noexcept : slot_count_(slot_count) {}

  // Multiply-shift maps the hash onto [0, slot_count) without a power-of-two size.
  std::size_t home(std::uint32_t hash32) const noexcept {
    return static_cast<std::size_t>((std::uint64_t{hash32} * slot_count_) >> 32);
  }
  std::atomic<CacheEntry*>* slots() noexcept { return reinterpret_cast<std::atomic<CacheEntry*>*>(this + 1); }
  std::atomic<std::uint8_t>* controls() noexcept {
    return reinterpret_cast<std::atomic<std::uint8_t>*>(slots() + slot_count_);
  }

  const std::size_t slot_count_;
};
static_assert(sizeof(CacheTable) % alignof(std::atomic<CacheEntry*>) == 0);

// Objects a writer unlinked under a shard mutex, handed to RCU when the list is destroyed, which must
// happen after the mutex is released (a grace period may wait for a reader that waits for that mutex).
class RetireList {
 public:
  // Objects held without allocating.
  static constexpr std::size_t kInlineCapacity = 8;

  RetireList() = default;
  RetireList(const RetireList&) = delete;
  RetireList& operator=(const RetireList&) = delete;
  ~RetireList() {
    for (std::size_t i = 0; i < inline_count_; ++i) rcu_retire(inline_[i].object, inline_[i].dispose);
    for (const Retired& retired : overflow_) rcu_retire(retired.object, retired.dispose);
  }

  void add(void* object, void (*dispose)(void*) noexcept) {
    if (inline_count_ < inline_.size()) {
      inline_[inline_count_++] = {object, dispose};
    } else {
      overflow_.push_back({object, dispose});
    }
  }

 private:
  struct Retired {
    void* object;
    void (*dispose)(void*) noexcept;
  };
  std::array<Retired, kInlineCapacity> inline_{};
  std::size_t inline_count_ = 0;
  std::vector<Retired, Allocator<Retired>> overflow_;
};

// Thread-safe: every method may be called concurrently from any number of threads, except the
// destructor. No method may be called from inside an RcuReadLock held by the caller.
// Not copyable or movable.
class ShardedCache {
 public:
  static constexpr int kMaxShardBits = 16;
  static constexpr std::size_t kPoolSize = 16;
  static constexpr std::size_t kSamplesPerEviction = 5;

  // `clock` measures TTLs and must outlive the cache. Throws std::bad_alloc when memory is exhausted.
  ShardedCache(const CacheOptions& options, const Clock& clock)
      : clock_(clock),
        capacity_(options.capacity),
        shard_bits_(options.shard_bits < 0 ? auto_shard_bits(options.capacity)
                                           : std::min(options.shard_bits, kMaxShardBits)),
        shard_count_(std::size_t{1} << shard_bits_) {
    // allocate() aligns to 16 bytes only; shards are cache-line aligned so that they share no line.
    shard_memory_ = allocate(shard_count_ * sizeof(Shard) + alignof(Shard) - 1);
    if (shard_memory_ == nullptr) throw std::bad_alloc();
    std::size_t space = shard_count_ * sizeof(Shard) + alignof(Shard) - 1;
    void* aligned = shard_memory_;
    shards_ = static_cast<Shard*>(std::align(alignof(Shard), shard_count_ * sizeof(Shard), aligned, space));
    std::size_t constructed = 0;
    try {
      for (; constructed < shard_count_; ++constructed) {
        const std::size_t shard_capacity = capacity_ / shard_count_ + (constructed < capacity_ % shard_count_ ? 1 : 0);
        new (&shards_[constructed]) Shard(shard_capacity, options.admission, constructed);
      }
    } catch (...) {
      destroy_shards(constructed);
      throw;
    }
  }
  ~ShardedCache() { destroy_shards(shard_count_); }
  ShardedCache(const ShardedCache&) = delete;
  ShardedCache& operator=(const ShardedCache&) = delete;

  // Picks about 4 shards per hardware thread, at most 2^8, with at least 64 KiB each when possible.
  static int auto_shard_bits(std::size_t capacity) noexcept {
    const std::size_t threads = std::max(1u, std::thread::hardware_concurrency());
    int bits = 0;
    while ((std::size_t{1} << bits) < 4 * threads && bits < 8) ++bits;
    while (bits > 0 && (capacity >> bits) < (std::size_t{64} << 10)) --bits;
    return bits;
  }

  Status put(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
    if (ttl.count() < 0) return Status::invalid_argument("cache put: negative ttl");
    if (key.size() > std::numeric_limits<std::uint32_t>::max() ||
        value.size() > std::numeric_limits<std::uint32_t>::max()) {
      return Status::invalid_argument("cache put: key or value larger than 4 GiB");
    }
    const std::uint64_t hash = hash_of(key);
    Shard& shard = shard_for(hash);
    const std::size_t charge = key.size() + value.size() + Cache::kEntryOverhead;
    if (charge > shard.capacity) {
      return Status::invalid_argument("cache put: entry charge " + std::to_string(charge) +
                                      " exceeds the shard capacity " + std::to_string(shard.capacity));
    }
    const std::uint32_t hash32 = static_cast<std::uint32_t>(hash);
    const std::uint64_t expires_at_ms = ttl.count() == 0 ? 0 : saturating_add(clock_.now_ms(), ttl.count());
    // Allocated before locking, to keep the critical section short.
    CacheEntry* entry = CacheEntry::create(key, value, hash32, expires_at_ms, 0);
    if (entry == nullptr) return Status::resource_exhausted("cache put: out of memory");
    if (shard.sketch != nullptr) shard.sketch->increment(hash32);

    RetireList retired;  // declared before the lock: retires after the mutex is released
    std::lock_guard<std::mutex> lock(shard.mutex);
    if (install_locked(shard, entry, retired) == Installed::kOutOfMemory) {
      return Status::resource_exhausted("cache put: out of memory growing the table");
    }
    return Status::ok_status();  // also when TinyLFU declined the newcomer
  }

  // The read-through fill of the Engine's cache tier (DESIGN.md rule 3). Caches key -> value unless
  // `still_current()`, called under the shard mutex that writers' write_through() also takes, says that
  // the store no longer holds the record the value was read from; so a fill that raced with a write
  // can never leave the older value behind. Entries too large for their shard are not cached. Thread-safe.
  // May be called inside an RCU read-side critical section: whatever it unlinks goes to the caller's
  // `retired`, which the caller must destroy outside that section. `still_current` must not retire
  // anything through RCU (the mutex is held).
  template <class StillCurrent>
  void fill(std::string_view key, std::string_view value, std::uint64_t expires_at_ms, StillCurrent&& still_current,
            RetireList& retired) {
    const std::uint64_t hash = hash_of(key);
    Shard& shard = shard_for(hash);
    if (key.size() + value.size() + Cache::kEntryOverhead > shard.capacity) return;
    const std::uint32_t hash32 = static_cast<std::uint32_t>(hash);
    if (shard.sketch != nullptr) shard.sketch->increment(hash32);  // a fill is an access, as a put is
    CacheEntry* entry = CacheEntry::create(key, value, hash32, expires_at_ms, 0);
    if (entry == nullptr) return;  // a fill is an optimisation: out of memory just skips it
    std::lock_guard<std::mutex> lock(shard.mutex);
    if (!still_current()) {
      CacheEntry::unref(entry);  // never published
      return;
    }
    install_locked(shard, entry, retired);  // a fill that cannot be installed is simply skipped
  }

  // The write side of the Engine's cache tier (DESIGN.md rule 3), called by a writer inside the
  // critical section in which it published `value` to the store. If `key` is cached, the entry becomes
  // `value` when `is_current()` (under the shard mutex) confirms that the store still holds the
  // writer's record, and is dropped otherwise (the newer writer keeps it current itself). Uncached keys
  // stay uncached: writes never fill. Whatever is unlinked goes to the caller's `retired`, destroyed
  // outside the critical section. Thread-safe.
  template <class IsCurrent>
  void write_through(std::string_view key, std::string_view value, std::uint64_t expires_at_ms, IsCurrent&& is_current,
                     RetireList& retired) {
    const std::uint64_t hash = hash_of(key);
    Shard& shard = shard_for(hash);
    const std::uint32_t hash32 = static_cast<std::uint32_t>(hash);
    std::lock_guard<std::mutex> lock(shard.mutex);
    CacheTable* table = shard.table.load(std::memory_order_relaxed);
    const std::size_t slot = table->find(key, hash32);
    if (slot == CacheTable::kNotFound) return;
    CacheEntry* entry = nullptr;
    if (is_current() && key.size() + value.size() + Cache::kEntryOverhead <= shard.capacity) {
      entry = CacheEntry::create(key, value, hash32, expires_at_ms, 0);
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
    const std::uint64_t hash = hash_of(key);
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
          touch(shard, *entry);
          if (shard.sketch != nullptr) shard.sketch->increment(hash32);
          consume(*entry);
          counters_.add(kHits);
          return Status::ok_status();
        }
      }
    }
    counters_.add(kMisses);
    if (expired_at_ms != 0) remove_if_expired(shard, key, hash32, expired_at_ms);
    return Status::not_found();
  }

  Status get(std::string_view key, std::string* value) {
    return find(key, [value](const CacheEntry& entry) { value->assign(entry.value()); });
  }
  Status get(std::string_view key, ValueView* view) {
    Status status = find(key, [view](CacheEntry& entry) {
      entry.ref();
      ViewAccess::assign(*view, entry.value(), &entry, &CacheEntry::unref_opaque);
    });
    if (!status.ok()) view->reset();
    return status;
  }

  bool erase(std::string_view key) {
    const std::uint64_t hash = hash_of(key);
    Shard& shard = shard_for(hash);
    RetireList retired;
    std::lock_guard<std::mutex> lock(shard.mutex);
    CacheTable* table = shard.table.load(std::memory_order_relaxed);
    const std::size_t slot = table->find(key, static_cast<std::uint32_t>(hash));
    if (slot == CacheTable::kNotFound) return false;
    unlink(shard, slot, retired);
    maybe_shrink(shard, retired);
    return true;
  }

  std::size_t erase_prefix(std::string_view prefix) {
    std::size_t erased = 0;
    for (std::size_t s = 0; s < shard_count_; ++s) {
      Shard& shard = shards_[s];
      RetireList retired;
      std::lock_guard<std::mutex> lock(shard.mutex);
      CacheTable* table = shard.table.load(std::memory_order_relaxed);
      for (std::size_t i = 0; i < table->slot_count(); ++i) {
        const CacheEntry* entry = table->slot(i).load(std::memory_order_relaxed);
        if (entry != nullptr && entry->key().starts_with(prefix)) {
          unlink(shard, i, retired);
          ++erased;
        }
      }
      maybe_shrink(shard, retired);
    }
    return erased;
  }

  // Allocates nothing, so it cannot fail: entries are unlinked in batches that fit RetireList's inline
  // room, each batch retired after the shard mutex is released. The emptied table is then shrunk if
  // memory allows.
  void clear() noexcept {
    for (std::size_t s = 0; s < shard_count_; ++s) {
      Shard& shard = shards_[s];
      const CacheTable* scanned = nullptr;  // the table `next_slot` refers to (a concurrent put may grow it)
      std::size_t next_slot = 0;
      bool more = true;
      while (more) {
        RetireList retired;  // declared before the lock: retires after the mutex is released
        std::lock_guard<std::mutex> lock(shard.mutex);
        CacheTable* table = shard.table.load(std::memory_order_relaxed);
        if (table != scanned) {
          scanned = table;
          next_slot = 0;
        }
        std::size_t unlinked = 0;
        for (; next_slot < table->slot_count() && unlinked < RetireList::kInlineCapacity; ++next_slot) {
          if (table->slot(next_slot).load(std::memory_order_relaxed) == nullptr) continue;
          unlink(shard, next_slot, retired);
          ++unlinked;
        }
        more = next_slot < table->slot_count();
        // Shrinking replaces the table: only once this shard is done.
        if (!more) maybe_shrink(shard, retired);
      }
    }
  }

  std::size_t entries() const noexcept {
    std::size_t total = 0;
    for (std::size_t s = 0; s < shard_count_; ++s) total += shards_[s].live_count.load(std::memory_order_relaxed);
    return total;
  }
  std::size_t charge() const noexcept {
    std::size_t total = 0;
    for (std::size_t s = 0; s < shard_count_; ++s) total += shards_[s].usage.load(std::memory_order_relaxed);
    return total;
  }
  std::size_t capacity() const noexcept { return capacity_; }
  std::size_t shard_count() const noexcept { return shard_count_; }
  // The byte budget of the shard that holds `key`.
  std::size_t shard_capacity_for(std::string_view key) const noexcept { return shard_for(hash_of(key)).capacity; }

  CacheStats stats() const noexcept {
    CacheStats stats;
    stats.hits = counters_.sum(kHits);
    stats.misses = counters_.sum(kMisses);
    stats.inserts = counters_.sum(kInserts);
    stats.evictions = counters_.sum(kEvictions);
    stats.expired = counters_.sum(kExpired);
    const std::uint64_t lookups = stats.hits + stats.misses;
    stats.hit_ratio = lookups == 0 ? 0.0 : static_cast<double>(stats.hits) / static_cast<double>(lookups);
    return stats;
  }

 private:
  static constexpr std::size_t kMinSlots = 16;
  enum Counter : std::size_t { kHits, kMisses, kInserts, kEvictions, kExpired, kCounterCount };

  // The oldest eviction candidates seen by sampling. Every member is in the shard's table: whoever
  // unlinks an entry removes it from the pool first. Guarded by the shard mutex.
  class EvictionPool {
   public:
    bool contains(const CacheEntry* entry) const noexcept {
      return std::find(members_.begin(), members_.begin() + size_, entry) != members_.begin() + size_;
    }
    void remove(const CacheEntry* entry) noexcept {
      for (std::size_t i = 0; i < size_; ++i) {
        if (members_[i] == entry) {
          members_[i] = members_[--size_];
          return;
        }
      }
    }
    // Keeps the kPoolSize oldest: a candidate replaces the youngest member when it is older.
    void offer(CacheEntry* candidate) noexcept {
      if (size_ < kPoolSize) {
        members_[size_++] = candidate;
        return;
      }
      std::size_t youngest = 0;
      for (std::size_t i = 1; i < size_; ++i) {
        if (members_[i]->stamp() > members_[youngest]->stamp()) youngest = i;
      }
      if (candidate->stamp() < members_[youngest]->stamp()) members_[youngest] = candidate;
    }
    // The member with the oldest current stamp, or nullptr when empty.
    CacheEntry* oldest() const noexcept {
      CacheEntry* best = nullptr;
      for (std::size_t i = 0; i < size_; ++i) {
        if (best == nullptr || members_[i]->stamp() < best->stamp()) best = members_[i];
      }
      return best;
    }
    void clear() noexcept { size_ = 0; }

   private:
    std::array<CacheEntry*, kPoolSize> members_{};
    std::size_t size_ = 0;
  };

  struct alignas(64) Shard {
    Shard(std::size_t shard_capacity, Admission admission, std::size_t index)
        : capacity(shard_capacity), random_state(0x9E3779B97F4A7C15ull * (index + 1)) {
      CacheTable* initial = CacheTable::create(kMinSlots);
      if (initial == nullptr) throw std::bad_alloc();
      table.store(initial, std::memory_order_relaxed);
      if (admission == Admission::kTinyLfu) {
        // Sized for entries of ~128 bytes of charge; smaller entries share counters a little more.
        void* memory = allocate(sizeof(FrequencySketch));
        if (memory == nullptr) {
          CacheTable::destroy(initial);
          throw std::bad_alloc();
        }
        try {
          sketch = new (memory) FrequencySketch(std::max<std::size_t>(shard_capacity / 128, 16));
        } catch (...) {
          deallocate(memory);
          CacheTable::destroy(initial);
          throw;
        }
      }
    }
    ~Shard() {
      CacheTable::destroy_with_entries(table.load(std::memory_order_relaxed));
      if (sketch != nullptr) {
        sketch->~FrequencySketch();
        deallocate(sketch);
      }
    }

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

    // Guarded by `mutex`.
    std::mutex mutex;
    std::size_t live = 0;
    std::size_t used_slots = 0;  // live + deleted
    EvictionPool pool;
    std::uint64_t random_state;

    // The logical clock, on its own cache line: hits advance it from every thread.
    alignas(64) std::atomic<std::uint64_t> tick{0};
  };

  struct Victim {
    CacheEntry* entry = nullptr;
    std::size_t slot = 0;
    bool expired = false;
  };

  static std::uint64_t saturating_add(std::uint64_t now_ms, std::int64_t ttl_ms) noexcept {
    const auto ttl = static_cast<std::uint64_t>(ttl_ms);
    return ttl > std::numeric_limits<std::uint64_t>::max() - now_ms ? std::numeric_limits<std::uint64_t>::max()
                                                                    : now_ms + ttl;
  }

  static std::uint64_t hash_of(std::string_view key) noexcept {
    // std::hash mixes well but not every bit; the finalizer (splitmix64) spreads it over all 64 bits,
    // whose top bits pick the shard and whose low 32 the slot and the control byte.
    std::uint64_t x = std::hash<std::string_view>{}(key);
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
  }
  Shard& shard_for(std::uint64_t hash) const noexcept {
    return shards_[shard_bits_ == 0 ? 0 : static_cast<std::size_t>(hash >> (64 - shard_bits_))];
  }

  // The shard clock's next value. Relaxed: the counter only orders recency, it publishes no data.
  static std::uint64_t next_stamp(Shard& shard) noexcept {
    return shard.tick.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  static void touch(Shard& shard, CacheEntry& entry) noexcept {
    const std::uint64_t now = shard.tick.load(std::memory_order_relaxed);
    if (entry.stamp() + shard.recent_window.load(std::memory_order_relaxed) >= now) return;
    entry.set_stamp(next_stamp(shard));
  }

  static std::uint64_t next_random(Shard& shard) noexcept {
    std::uint64_t x = shard.random_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    shard.random_state = x;
    return x;
  }

  // Samples from a random slot and returns the entry to evict: an expired sampled entry at once, else the
  // pool's oldest. `exclude` (the entry being replaced) is never chosen. REQUIRES: shard.mutex held.
  Victim pick_victim(Shard& shard, const CacheEntry* exclude, std::uint64_t now_ms) noexcept {
    CacheTable* table = shard.table.load(std::memory_order_relaxed);
    const std::size_t slot_count = table->slot_count();
    std::size_t i = static_cast<std::size_t>(next_random(shard) % slot_count);
    std::size_t sampled = 0;
    for (std::size_t scanned = 0; scanned < slot_count && sampled < kSamplesPerEviction;
         ++scanned, i = table->next(i)) {
      CacheEntry* entry = table->slot(i).load(std::memory_order_relaxed);
      if (entry == nullptr || entry == exclude) continue;
      ++sampled;
      if (entry->expired_at(now_ms)) return {entry, i, true};
      if (!shard.pool.contains(entry)) shard.pool.offer(entry);
    }
    CacheEntry* oldest = shard.pool.oldest();
    if (oldest == nullptr) return {};
    return {oldest, table->find(oldest->key(), oldest->hash32()), false};
  }

  enum class Installed { kYes, kDeclined, kOutOfMemory };
  // Publishes `entry` (owning its one reference) for its key, replacing the key's current entry and
  // evicting as needed, unless TinyLFU declines a newcomer or the table cannot grow (the entry is then
  // freed). Unlinked entries go to `retired`. REQUIRES: shard.mutex held.
  Installed install_locked(Shard& shard, CacheEntry* entry, RetireList& retired) {
    const std::uint32_t hash32 = entry->hash32();
    const std::size_t charge = entry->charge();
    CacheTable* table = shard.table.load(std::memory_order_relaxed);
    const std::size_t existing_slot = table->find(entry->key(), hash32);
    CacheEntry* existing =
        existing_slot == CacheTable::kNotFound ? nullptr : table->slot(existing_slot).load(std::memory_order_relaxed);
    const std::size_t existing_charge = existing == nullptr ? 0 : existing->charge();
    if (existing != nullptr) shard.pool.remove(existing);

    std::uint64_t now_ms = 0;
    bool now_known = false;
    while (shard.usage.load(std::memory_order_relaxed) - existing_charge + charge > shard.capacity) {
      if (!now_known) {
        now_ms = clock_.now_ms();
        now_known = true;
      }
      const Victim victim = pick_victim(shard, existing, now_ms);
      // Only `existing` is left, and the new entry alone fits the shard.
      if (victim.entry == nullptr) break;
      if (existing == nullptr && !victim.expired && shard.sketch != nullptr &&
          shard.sketch->estimate(hash32) <= shard.sketch->estimate(victim.entry->hash32())) {
        CacheEntry::unref(entry);  // declined by TinyLFU; never published, so no reader can hold it
        return Installed::kDeclined;
      }
      unlink(shard, victim.slot, retired);
      counters_.add(victim.expired ? kExpired : kEvictions);
    }

    entry->set_stamp(next_stamp(shard));
    if (existing != nullptr) {
      table->publish(existing_slot, entry);  // unlinking victims never moves other entries
      retired.add(existing, &CacheEntry::unref_opaque);
      shard.usage.store(shard.usage.load(std::memory_order_relaxed) - existing_charge + charge,
                        std::memory_order_relaxed);
    } else {
      if ((shard.used_slots + 1) * 8 > table->slot_count() * 7) {
        table = rebuild(shard, shard.live + 1, retired);
        if (table == nullptr) {
          CacheEntry::unref(entry);  // never published
          return Installed::kOutOfMemory;
        }
      }
      const std::size_t slot = table->free_slot(hash32);
      if (table->control(slot).load(std::memory_order_relaxed) == CacheTable::kEmpty) ++shard.used_slots;
      table->publish(slot, entry);
      ++shard.live;
      shard.usage.store(shard.usage.load(std::memory_order_relaxed) + charge, std::memory_order_relaxed);
      publish_live_count(shard);
    }
    maybe_shrink(shard, retired);
    counters_.add(kInserts);
    return Installed::kYes;
  }

  // Removes the entry in `slot` from the table and the pool; its reference goes to `retired`.
  // REQUIRES: shard.mutex held.
  void unlink(Shard& shard, std::size_t slot, RetireList& retired) {
    CacheTable* table = shard.table.load(std::memory_order_relaxed);
    CacheEntry* entry = table->slot(slot).load(std::memory_order_relaxed);
    shard.pool.remove(entry);
    table->remove(slot);
    --shard.live;
    shard.usage.store(shard.usage.load(std::memory_order_relaxed) - entry->charge(), std::memory_order_relaxed);
    publish_live_count(shard);
    retired.add(entry, &CacheEntry::unref_opaque);
  }

  static void publish_live_count(Shard& shard) noexcept {
    shard.live_count.store(shard.live, std::memory_order_relaxed);
    shard.recent_window.store(shard.live / 8, std::memory_order_relaxed);
  }

  // Moves the live entries into a new table with 1.6 slots per entry (for `expected_live` entries),
  // publishes it and retires the old slot array. Returns the new table, or nullptr (and changes
  // nothing) when memory is exhausted. REQUIRES: shard.mutex held.
  CacheTable* rebuild(Shard& shard, std::size_t expected_live, RetireList& retired) noexcept {
    CacheTable* old_table = shard.table.load(std::memory_order_relaxed);
    const std::size_t slot_count = std::max(kMinSlots, expected_live + expected_live * 3 / 5 + 1);
    CacheTable* fresh = CacheTable::create(slot_count);
    if (fresh == nullptr) return nullptr;
    for (std::size_t i = 0; i < old_table->slot_count(); ++i) {
      CacheEntry* entry = old_table->slot(i).load(std::memory_order_relaxed);
      if (entry != nullptr) fresh->publish(fresh->free_slot(entry->hash32()), entry);
    }
    shard.used_slots = shard.live;
    // Release: a reader that loads the new table sees its slots filled in.
    shard.table.store(fresh, std::memory_order_release);
    retired.add(old_table, &CacheTable::destroy);
    return fresh;
  }

  // Keeps the table at least 1/8 live, which bounds the slots a sample scans (best effort: without
  // memory for a smaller table the current one stays). REQUIRES: shard.mutex held.
  void maybe_shrink(Shard& shard, RetireList& retired) noexcept {
    const std::size_t slot_count = shard.table.load(std::memory_order_relaxed)->slot_count();
    if (slot_count > kMinSlots && shard.live * 8 < slot_count) rebuild(shard, shard.live, retired);
  }

  // Removes `key`'s entry if it is still expired at `now_ms`, when the shard mutex is free: a read never
  // waits for a lock.
  void remove_if_expired(Shard& shard, std::string_view key, std::uint32_t hash32, std::uint64_t now_ms) {
    RetireList retired;
    std::unique_lock<std::mutex> lock(shard.mutex, std::try_to_lock);
    if (!lock.owns_lock()) return;
    CacheTable* table = shard.table.load(std::memory_order_relaxed);
    const std::size_t slot = table->find(key, hash32);
    if (slot == CacheTable::kNotFound || !table->slot(slot).load(std::memory_order_relaxed)->expired_at(now_ms)) return;
    unlink(shard, slot, retired);
    counters_.add(kExpired);
    maybe_shrink(shard, retired);
  }

  void destroy_shards(std::size_t count) noexcept {
    for (std::size_t i = 0; i < count; ++i) shards_[i].~Shard();
    deallocate(shard_memory_);
  }

  const Clock& clock_;
  const std::size_t capacity_;
  const int shard_bits_;
  const std::size_t shard_count_;
  void* shard_memory_ = nullptr;
  Shard* shards_ = nullptr;
  StripedCounters<kCounterCount> counters_;
};

}  // namespace mantis::detail
