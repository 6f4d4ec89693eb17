// CacheTable: one cache shard's open-addressing hash table of entry pointers, read lock-free.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>
#include <string_view>

#include "cache/cache_entry.hpp"
#include "cache/segments.hpp"
#include "util/memory.hpp"

namespace mantis::detail {

// One shard's open-addressing slot array: `slot_count` atomic entry pointers, then as many control
// bytes, in one allocation. Readers use it inside an RCU read-side critical section; only the holder of
// the shard mutex changes it. Slot i's control byte is written after its pointer (both release), so a
// reader that acquires a full control byte sees the entry it announces, or a later one.
//
// A full control byte is 0b1SSHHHHH: S the entry's segment (segments.hpp), H 5 bits of its hash. A
// probe compares only the full bit and the hash bits (a false match, 1 in 32, costs one entry load);
// the segment is for writers, who find a segment's members by scanning control bytes alone.
class CacheTable {
 public:
  static constexpr std::uint8_t kEmpty = 0x00;
  static constexpr std::uint8_t kDeleted = 0x01;
  static constexpr std::size_t kNotFound = std::numeric_limits<std::size_t>::max();

  static std::uint8_t control_of(std::uint32_t hash32, Segment segment) noexcept {
    return static_cast<std::uint8_t>(kFull | static_cast<unsigned>(segment) << kSegmentShift | (hash32 & kHashBits));
  }

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
    while (control(i).load(std::memory_order_relaxed) >= kFull) i = next(i);
    return i;
  }

  // Publishes `entry` in slot i, in `segment` (release: readers that find it see its bytes). Writers only.
  void publish(std::size_t i, CacheEntry* entry, Segment segment) noexcept {
    slot(i).store(entry, std::memory_order_release);
    control(i).store(control_of(entry->hash32(), segment), std::memory_order_release);
  }
  // Marks slot i deleted. A reader still holding the entry keeps it alive through RCU. Writers only.
  void remove(std::size_t i) noexcept {
    control(i).store(kDeleted, std::memory_order_release);
    slot(i).store(nullptr, std::memory_order_release);
  }

  std::size_t next(std::size_t i) const noexcept { return i + 1 == slot_count_ ? 0 : i + 1; }

  // Whether slot i holds an entry of `segment`, from its control byte alone. Writers only.
  bool holds(std::size_t i, Segment segment) noexcept {
    const std::uint8_t control_byte = control(i).load(std::memory_order_relaxed);
    return control_byte >= kFull && segment_of(control_byte) == segment;
  }
  // The segment of the entry in slot i. REQUIRES: slot i is full. Writers only.
  Segment segment_at(std::size_t i) noexcept { return segment_of(control(i).load(std::memory_order_relaxed)); }
  // Moves the entry in slot i to `segment`; readers ignore the segment bits. Release, as in publish():
  // every store of a full control byte announces the entry already in the slot. REQUIRES: slot i is
  // full. Writers only.
  void set_segment(std::size_t i, Segment segment) noexcept {
    const CacheEntry* entry = slot(i).load(std::memory_order_relaxed);
    control(i).store(control_of(entry->hash32(), segment), std::memory_order_release);
  }

 private:
  // Walks `key`'s probe sequence; returns the matching entry (and sets *slot_index), or nullptr.
  // Terminates because a table is never more than 7/8 used, so every probe sequence reaches an empty slot.
  CacheEntry* probe(std::string_view key, std::uint32_t hash32, std::size_t* slot_index) noexcept {
    const std::uint8_t wanted = kFull | (hash32 & kHashBits);
    for (std::size_t i = home(hash32);; i = next(i)) {
      // Acquire pairs with the writer's release store of the control byte: the slot pointer and the
      // entry's bytes written before it are visible.
      const std::uint8_t control_byte = control(i).load(std::memory_order_acquire);
      if (control_byte == kEmpty) return nullptr;
      if ((control_byte & (kFull | kHashBits)) != wanted) continue;
      // Acquire pairs with the release store that published the entry into the slot.
      CacheEntry* entry = slot(i).load(std::memory_order_acquire);
      if (entry != nullptr && entry->hash32() == hash32 && entry->key() == key) {
        *slot_index = i;
        return entry;
      }
    }
  }

 private:
  static constexpr std::uint8_t kFull = 0x80;
  static constexpr unsigned kSegmentShift = 5;
  static constexpr std::uint8_t kHashBits = 0x1f;
  static Segment segment_of(std::uint8_t control_byte) noexcept {
    return static_cast<Segment>((control_byte >> kSegmentShift) & 3);
  }

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

}  // namespace mantis::detail
