#include "cache/sharded_cache.hpp"

#include <algorithm>
#include <limits>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <thread>

namespace mantis::detail {

namespace {

std::uint64_t saturating_add(std::uint64_t now_ms, std::int64_t ttl_ms) noexcept {
  const auto ttl = static_cast<std::uint64_t>(ttl_ms);
  return ttl > std::numeric_limits<std::uint64_t>::max() - now_ms ? std::numeric_limits<std::uint64_t>::max()
                                                                  : now_ms + ttl;
}

// A seed nobody can predict, for the frequency sketches (frequency_sketch.hpp: hash flooding).
std::uint64_t random_seed() {
  std::random_device device;
  return (std::uint64_t{device()} << 32) ^ device();
}

}  // namespace

ShardedCache::ShardedCache(const CacheOptions& options, const Clock& clock)
    : clock_(clock),
      admission_(options.admission),
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
    const std::uint64_t sketch_seed = random_seed();
    for (; constructed < shard_count_; ++constructed) {
      const std::size_t shard_capacity = capacity_ / shard_count_ + (constructed < capacity_ % shard_count_ ? 1 : 0);
      new (&shards_[constructed]) Shard(shard_capacity, options.admission, sketch_seed, constructed);
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
  CacheEntry* entry = CacheEntry::create(key, value, hash32, expires_at_ms);
  if (entry == nullptr) return Status::resource_exhausted("cache put: out of memory");
  if (shard.sketch != nullptr) shard.sketch->increment(hash);

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
  stats.admission_rejections = counters_.sum(kRejections);
  const std::uint64_t lookups = stats.hits + stats.misses;
  stats.hit_ratio = lookups == 0 ? 0.0 : static_cast<double>(stats.hits) / static_cast<double>(lookups);
  for (std::size_t s = 0; s < shard_count_; ++s) {
    const Segments& segments = shards_[s].segments;
    stats.window_entries += segments.count(Segment::kWindow);
    stats.probation_entries += segments.count(Segment::kProbation);
    stats.protected_entries += segments.count(Segment::kProtected);
    if (admission_ == Admission::kAdaptive) stats.window_capacity += window_budget(shards_[s]);
  }
  stats.window_adjustments = counters_.sum(kWindowMoves);
  return stats;
}

ShardedCache::Shard::Shard(std::size_t shard_capacity, Admission admission, std::uint64_t sketch_seed,
                           std::size_t index)
    : capacity(shard_capacity), random(XorShift64::kGolden * (index + 1)) {
  CacheTable* initial = CacheTable::create(kMinSlots);
  if (initial == nullptr) throw std::bad_alloc();
  table.store(initial, std::memory_order_relaxed);
  if (admission == Admission::kAdaptive) {
    ghosts = std::make_unique<Ghosts>(std::max<std::size_t>(shard_capacity / kGhostSlotCharge, 16));
    window_budget.store(shard_capacity / kInitialWindowDivisor, std::memory_order_relaxed);
  }
  if (admission != Admission::kAlways) {
    // kSketchChargePerEntry: see there.
    void* memory = allocate(sizeof(FrequencySketch));
    if (memory == nullptr) {
      CacheTable::destroy(initial);
      throw std::bad_alloc();
    }
    try {
      sketch = new (memory) FrequencySketch(std::max<std::size_t>(shard_capacity / kSketchChargePerEntry, 16), sketch_seed);
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

ShardedCache::Victim ShardedCache::pick_victim(Shard& shard, Segment segment, const CacheEntry* exclude,
                                               EvictionClock& clock, const CacheEntry* keep) noexcept {
  EvictionPool& pool = shard.segments.pool(segment);
  CacheTable* table = shard.table.load(std::memory_order_relaxed);
  const std::size_t slot_count = table->slot_count();
  std::size_t i = static_cast<std::size_t>(shard.random.next() % slot_count);
  std::size_t sampled = 0;
  std::size_t unseen = shard.segments.count(segment);
  const std::size_t samples = std::clamp(kMaxSamplesPerEviction * unseen / std::max<std::size_t>(shard.live, 1),
                                         kMinSamplesPerEviction, kMaxSamplesPerEviction);
  for (std::size_t scanned = 0; scanned < slot_count && sampled < samples && unseen > 0;
       ++scanned, i = table->next(i)) {
    if (!table->holds(i, segment)) continue;
    --unseen;
    CacheEntry* entry = table->slot(i).load(std::memory_order_relaxed);
    if (entry == exclude || entry == keep) continue;
    ++sampled;
    if (entry->expired_at(clock.now_ms())) return {entry, i, true};
    if (!pool.contains(entry)) pool.offer(entry);
  }
  CacheEntry* oldest = pool.oldest();
  while (oldest != nullptr && (oldest == exclude || oldest == keep)) {
    pool.remove(oldest);
    oldest = pool.oldest();
  }
  if (oldest == nullptr) return {};
  return {oldest, table->find(oldest->key(), oldest->hash32()), false};
}

ShardedCache::Victim ShardedCache::pick_main_victim(Shard& shard, const CacheEntry* exclude, EvictionClock& clock,
                                                    RetireList& retired) noexcept {
  for (int promotions = 0;; ++promotions) {
    const Victim victim = pick_victim(shard, Segment::kProbation, exclude, clock);
    if (victim.entry == nullptr) break;
    if (victim.expired || promotions == kMaxPromotionsPerEviction) return victim;
    if (!victim.entry->referenced()) return least_frequent_of_pool(shard, victim, exclude);
    promote(shard, victim, exclude, clock, retired);
  }
  const Victim victim = pick_victim(shard, Segment::kProtected, exclude, clock);
  return victim.entry != nullptr ? victim : pick_victim(shard, Segment::kWindow, exclude, clock);
}

ShardedCache::Victim ShardedCache::least_frequent_of_pool(Shard& shard, const Victim& oldest,
                                                          const CacheEntry* exclude) noexcept {
  EvictionPool& pool = shard.segments.pool(Segment::kProbation);
  CacheEntry* victim = pool.least_frequent(exclude, shard.sketch->halvings(), [&shard](const CacheEntry& entry) {
    return shard.sketch->estimate(hash_key(entry.key()));
  });
  if (victim == nullptr || victim == oldest.entry) return oldest;
  return {victim, shard.table.load(std::memory_order_relaxed)->find(victim->key(), victim->hash32()), false};
}

ShardedCache::Victim ShardedCache::shrink_window(Shard& shard, std::size_t incoming, EvictionClock& clock,
                                                 RetireList& retired) noexcept {
  Victim candidate;
  const std::size_t budget = window_budget(shard);
  while (shard.segments.charge(Segment::kWindow) + incoming > budget) {
    const Victim oldest = pick_victim(shard, Segment::kWindow, nullptr, clock);
    if (oldest.entry == nullptr) break;
    if (oldest.expired) {
      unlink(shard, oldest.slot, retired);
      count_eviction(true);
      continue;
    }
    move(shard, oldest, Segment::kWindow, Segment::kProbation);
    candidate = oldest;
  }
  return candidate;
}

void ShardedCache::promote(Shard& shard, const Victim& hit, const CacheEntry* keep, EvictionClock& clock, RetireList& retired) noexcept {
  move(shard, hit, Segment::kProbation, Segment::kProtected);
  const auto budget = static_cast<std::size_t>(
      static_cast<double>(shard.capacity - std::min(shard.capacity, window_budget(shard))) * kProtectedShare);
  while (shard.segments.charge(Segment::kProtected) > budget) {
    const Victim oldest = pick_victim(shard, Segment::kProtected, hit.entry, clock, keep);
    if (oldest.entry == nullptr) break;
    if (oldest.expired) {
      unlink(shard, oldest.slot, retired);
      count_eviction(true);
      continue;
    }
    move(shard, oldest, Segment::kProtected, Segment::kProbation);
  }
}

void ShardedCache::move(Shard& shard, const Victim& entry, Segment from, Segment to) noexcept {
  shard.segments.leave(from, *entry.entry);
  shard.table.load(std::memory_order_relaxed)->set_segment(entry.slot, to);
  shard.segments.join(to, *entry.entry);
  // It enters `to` as its most recent member, not referenced there yet.
  entry.entry->set_stamp_unreferenced(next_stamp(shard));
}

bool ShardedCache::admit(Shard& shard, const CacheEntry& candidate, const CacheEntry& victim) noexcept {
  const unsigned candidate_frequency = shard.sketch->estimate(hash_key(candidate.key()));
  const unsigned victim_frequency = shard.sketch->estimate(hash_key(victim.key()));
  if (candidate_frequency > victim_frequency &&
      (victim_frequency < kAdmitMarginFrom || candidate_frequency > victim_frequency + 1)) {
    return true;
  }
  return candidate_frequency >= kJitterMinFrequency && (shard.random.next() & 127) == 0;
}

void ShardedCache::count_eviction(bool expired) noexcept { counters_.add(expired ? kExpired : kEvictions); }

void ShardedCache::remember_evicted(Shard& shard, const CacheEntry& entry, Segment segment) noexcept {
  shard.ghosts->remember(segment == Segment::kWindow ? Ghost::kWindow : Ghost::kMain, hash_key(entry.key()));
}

void ShardedCache::adapt_window(Shard& shard, const CacheEntry& newcomer) noexcept {
  const Ghost ghost = shard.ghosts->take(hash_key(newcomer.key()));
  if (ghost == Ghost::kNone) return;
  const std::size_t step = newcomer.charge() * kGhostStep;
  const std::size_t budget = window_budget(shard);
  const std::size_t next =
      ghost == Ghost::kWindow ? std::min(shard.capacity, budget + step) : budget - std::min(budget, step);
  if (next == budget) return;
  shard.window_budget.store(next, std::memory_order_relaxed);
  counters_.add(kWindowMoves);
}

bool ShardedCache::make_room(Shard& shard, const CacheEntry& entry, const CacheEntry* existing,
                             RetireList& retired) noexcept {
  const std::size_t existing_charge = existing == nullptr ? 0 : existing->charge();
  const bool adaptive = admission_ == Admission::kAdaptive;
  EvictionClock clock(clock_);
  // kAdaptive: a new key enters the window, whose oldest entry then competes for the main region.
  Victim candidate;
  if (adaptive && existing == nullptr) candidate = shrink_window(shard, entry.charge(), clock, retired);
  while (shard.usage.load(std::memory_order_relaxed) - existing_charge + entry.charge() > shard.capacity) {
    const CacheEntry* exclude = existing != nullptr ? existing : candidate.entry;
    const Victim victim = adaptive ? pick_main_victim(shard, exclude, clock, retired)
                                   : pick_victim(shard, Segment::kProbation, exclude, clock);
    if (victim.entry == nullptr) {
      if (candidate.entry == nullptr) break;   // only `existing` is left, and the new entry alone fits the shard
      unlink(shard, candidate.slot, retired);  // the candidate is all the main region holds
      count_eviction(false);
      candidate = {};
      continue;
    }
    if (!victim.expired) {
      // kAdaptive: the window's candidate against the main victim; kTinyLfu: the new key against it.
      const bool duel = adaptive ? candidate.entry != nullptr : existing == nullptr && shard.sketch != nullptr;
      if (duel && !admit(shard, adaptive ? *candidate.entry : entry, *victim.entry)) {
        counters_.add(kRejections);
        if (!adaptive) return false;
        remember_evicted(shard, *candidate.entry, Segment::kWindow);
        unlink(shard, candidate.slot, retired);
        count_eviction(false);
        candidate = {};
        continue;
      }
      if (duel) candidate = {};  // it won: a later eviction (a larger newcomer) needs no second duel
      if (adaptive)
        remember_evicted(shard, *victim.entry, shard.table.load(std::memory_order_relaxed)->segment_at(victim.slot));
    }
    unlink(shard, victim.slot, retired);
    count_eviction(victim.expired);
  }
  return true;
}

ShardedCache::Installed ShardedCache::install_locked(Shard& shard, CacheEntry* entry, RetireList& retired) {
  const std::uint32_t hash32 = entry->hash32();
  const std::size_t charge = entry->charge();
  CacheTable* table = shard.table.load(std::memory_order_relaxed);
  const std::size_t existing_slot = table->find(entry->key(), hash32);
  CacheEntry* existing =
      existing_slot == CacheTable::kNotFound ? nullptr : table->slot(existing_slot).load(std::memory_order_relaxed);
  // A replacement keeps its key's segment; a new key starts in the window (kAdaptive) or the one
  // segment the other policies use.
  const Segment segment = existing != nullptr                  ? table->segment_at(existing_slot)
                          : admission_ == Admission::kAdaptive ? Segment::kWindow
                                                               : Segment::kProbation;
  if (existing != nullptr) shard.segments.pool(segment).remove(existing);
  if (existing == nullptr && admission_ == Admission::kAdaptive) adapt_window(shard, *entry);

  if (!make_room(shard, *entry, existing, retired)) {
    CacheEntry::unref(entry);  // declined by TinyLFU; never published, so no reader can hold it
    return Installed::kDeclined;
  }

  entry->set_stamp(next_stamp(shard));
  if (existing != nullptr) {
    table->publish(existing_slot, entry, segment);  // unlinking victims never moves other entries
    shard.segments.leave(segment, *existing);
    shard.segments.join(segment, *entry);
    retired.add(existing, &CacheEntry::unref_opaque);
    shard.usage.store(shard.usage.load(std::memory_order_relaxed) - existing->charge() + charge,
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
    table->publish(slot, entry, segment);
    shard.segments.join(segment, *entry);
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
  shard.segments.leave(table->segment_at(slot), *entry);
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
    if (entry != nullptr) fresh->publish(fresh->free_slot(entry->hash32()), entry, old_table->segment_at(i));
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
