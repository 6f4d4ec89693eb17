// CacheEntry: one cached key -> value, immutable and reference counted.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <new>
#include <string_view>

#include <mantis/cache.hpp>

#include "util/memory.hpp"
#include "util/ref_count.hpp"

namespace mantis::detail {

// One cached key -> value: a 32-byte header followed by the key bytes and the value bytes, in one
// allocation. Immutable once published, except its access stamp and reference count.
class CacheEntry {
 public:
  // A new entry with one reference, or nullptr when memory is exhausted. REQUIRES: sizes fit 32 bits.
  static CacheEntry* create(std::string_view key, std::string_view value, std::uint32_t hash32,
                            std::uint64_t expires_at_ms) noexcept {
    void* memory = allocate(sizeof(CacheEntry) + key.size() + value.size());
    if (memory == nullptr) return nullptr;
    auto* entry = new (memory) CacheEntry(key.size(), value.size(), hash32, expires_at_ms);
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

  // The stamp word is `tick << 1 | unreferenced`: the shard clock's value at the last recorded access,
  // and a bit that a writer sets when it moves the entry into a segment (kUnreferenced) and that the
  // next hit clears by storing a plain stamp. So "hit since it joined its segment" needs no extra
  // field and a hit still does a single store. Relaxed everywhere: recency is a heuristic, a stale or
  // lost stamp only makes eviction slightly less exact, and nothing else is published through it.
  static constexpr std::uint64_t kUnreferenced = 1;

  // The shard clock's value at the last recorded access (or at the last move between segments).
  std::uint64_t stamp() const noexcept { return stamp_.load(std::memory_order_relaxed) >> 1; }
  // The whole stamp word, for a hit's decision whether to stamp at all.
  std::uint64_t stamp_word() const noexcept { return stamp_.load(std::memory_order_relaxed); }
  // A hit (or a write) at `tick`: recent, and referenced.
  void set_stamp(std::uint64_t tick) noexcept { stamp_.store(tick << 1, std::memory_order_relaxed); }
  // A writer's move into a segment at `tick`: recent there, not referenced since. Under the shard mutex.
  void set_stamp_unreferenced(std::uint64_t tick) noexcept {
    stamp_.store(tick << 1 | kUnreferenced, std::memory_order_relaxed);
  }
  // True if a hit stamped the entry since its last set_stamp_unreferenced().
  bool referenced() const noexcept { return (stamp_word() & kUnreferenced) == 0; }

  // REQUIRES: the caller holds a reference, or is inside an RCU read-side critical section in which the
  // entry was reachable from a table (the table's reference is dropped only through RCU).
  void ref() noexcept { refs_.ref(); }
  // Drops a reference and frees the entry at zero.
  static void unref(CacheEntry* entry) noexcept {
    if (entry->refs_.unref()) {
      entry->~CacheEntry();
      deallocate(entry);
    }
  }
  // unref() in the signature RCU retirement and ValueView unpinning take.
  static void unref_opaque(void* entry) noexcept { unref(static_cast<CacheEntry*>(entry)); }

  CacheEntry(const CacheEntry&) = delete;
  CacheEntry& operator=(const CacheEntry&) = delete;

 private:
  CacheEntry(std::size_t key_size, std::size_t value_size, std::uint32_t hash32, std::uint64_t expires_at_ms) noexcept
      : key_size_(static_cast<std::uint32_t>(key_size)),
        value_size_(static_cast<std::uint32_t>(value_size)),
        hash32_(hash32),
        expires_at_ms_(expires_at_ms) {}
  ~CacheEntry() = default;

  RefCount refs_;
  const std::uint32_t key_size_;
  const std::uint32_t value_size_;
  const std::uint32_t hash32_;
  std::atomic<std::uint64_t> stamp_{0};  // see stamp()
  const std::uint64_t expires_at_ms_;
};
static_assert(sizeof(CacheEntry) == 32, "kEntryOverhead accounts for a 32-byte entry header");

}  // namespace mantis::detail
