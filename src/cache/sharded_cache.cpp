#include "cache/sharded_cache.hpp"

#include <algorithm>
#include <limits>
#include <memory>
#include <new>
#include <string>
#include <thread>

namespace mantis::detail {

namespace {

std::uint64_t saturating_add(std::uint64_t now_ms, std::int64_t ttl_ms) noexcept {
  const auto ttl = static_cast<std::uint64_t>(ttl_ms);
  return ttl > std::numeric_limits<std::uint64_t>::max() - now_ms ? std::numeric_limits<std::uint64_t>::max()
                                                                  : now_ms + ttl;
}

}  // namespace

ShardedCache::ShardedCache(const CacheOptions& options, const Clock& clock)
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

ShardedCache::~ShardedCache() { destroy_shards(shard_count_); }

int ShardedCache::auto_shard_bits(std::size_t capacity) noexcept {
  const std::size_t threads = std::max(1u, std::thread::hardware_concurrency());
  int bits = 0;
  while ((std::size_t{1} << bits) < 4 * threads && bits < 8) ++bits;
  while (bits > 0 && (capacity >> bits) < (std::size_t{64} << 10)) --bits;
  return bits;
}

Status ShardedCache::put(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
  if (ttl.count() < 0) return Status::invalid_argument("cache put: negative ttl");
  if (key.size() > std::numeric_limits<std::uint32_t>::max() ||
      value.size() > std::numeric_limits<std::uint32_t>::max()) {
    return Status::invalid_argument("cache put: key or value larger than 4 GiB");
  }
  const std::uint64_t hash = hash_key(key);
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

Status ShardedCache::get(std::string_view key, std::string* value) {
  return find(key, [value](const CacheEntry& entry) { value->assign(entry.value()); });
}
Status ShardedCache::get(std::string_view key, ValueView* view) {
  Status status = find(key, [view](CacheEntry& entry) {
    entry.ref();
    ViewAccess::assign(*view, entry.value(), &entry, &CacheEntry::unref_opaque);
  });
  if (!status.ok()) view->reset();
  return status;
}

bool ShardedCache::erase(std::string_view key) {
  const std::uint64_t hash = hash_key(key);
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

std::size_t ShardedCache::erase_prefix(std::string_view prefix) {
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

void ShardedCache::clear() noexcept {
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

std::size_t ShardedCache::entries() const noexcept {
  std::size_t total = 0;
  for (std::size_t s = 0; s < shard_count_; ++s) total += shards_[s].live_count.load(std::memory_order_relaxed);
  return total;
}
std::size_t ShardedCache::charge() const noexcept {
  std::size_t total = 0;
  for (std::size_t s = 0; s < shard_count_; ++s) total += shards_[s].usage.load(std::memory_order_relaxed);
  return total;
}

CacheStats ShardedCache::stats() const noexcept {
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

ShardedCache::Shard::Shard(std::size_t shard_capacity, Admission admission, std::size_t index)
    : capacity(shard_capacity), random(XorShift64::kGolden * (index + 1)) {
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
ShardedCache::Shard::~Shard() {
  CacheTable::destroy_with_entries(table.load(std::memory_order_relaxed));
  if (sketch != nullptr) {
    sketch->~FrequencySketch();
    deallocate(sketch);
  }
}

ShardedCache::Victim ShardedCache::pick_victim(Shard& shard, const CacheEntry* exclude, std::uint64_t now_ms) noexcept {
  CacheTable* table = shard.table.load(std::memory_order_relaxed);
  const std::size_t slot_count = table->slot_count();
  std::size_t i = static_cast<std::size_t>(shard.random.next() % slot_count);
  std::size_t sampled = 0;
  for (std::size_t scanned = 0; scanned < slot_count && sampled < kSamplesPerEviction; ++scanned, i = table->next(i)) {
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

ShardedCache::Installed ShardedCache::install_locked(Shard& shard, CacheEntry* entry, RetireList& retired) {
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

void ShardedCache::unlink(Shard& shard, std::size_t slot, RetireList& retired) {
  CacheTable* table = shard.table.load(std::memory_order_relaxed);
  CacheEntry* entry = table->slot(slot).load(std::memory_order_relaxed);
  shard.pool.remove(entry);
  table->remove(slot);
  --shard.live;
  shard.usage.store(shard.usage.load(std::memory_order_relaxed) - entry->charge(), std::memory_order_relaxed);
  publish_live_count(shard);
  retired.add(entry, &CacheEntry::unref_opaque);
}

void ShardedCache::publish_live_count(Shard& shard) noexcept {
  shard.live_count.store(shard.live, std::memory_order_relaxed);
  shard.recent_window.store(shard.live / 8, std::memory_order_relaxed);
}

CacheTable* ShardedCache::rebuild(Shard& shard, std::size_t expected_live, RetireList& retired) noexcept {
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

void ShardedCache::maybe_shrink(Shard& shard, RetireList& retired) noexcept {
  const std::size_t slot_count = shard.table.load(std::memory_order_relaxed)->slot_count();
  if (slot_count > kMinSlots && shard.live * 8 < slot_count) rebuild(shard, shard.live, retired);
}

void ShardedCache::remove_if_expired(Shard& shard, std::string_view key, std::uint32_t hash32, std::uint64_t now_ms) {
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

void ShardedCache::destroy_shards(std::size_t count) noexcept {
  for (std::size_t i = 0; i < count; ++i) shards_[i].~Shard();
  deallocate(shard_memory_);
}

}  // namespace mantis::detail
