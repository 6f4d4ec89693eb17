// PointIndex: the store's hash index from key to skiplist node, so that point operations find a key in
// O(1) instead of walking the skiplist (as Redis keeps a dict beside its sorted-set skiplist).
//
// Layout: kShards shards, chosen by the top bits of the key's 64-bit hash. Each shard has an
// open-addressing table (linear probing) of 8-byte entries and a mutex that only its writers take.
// An entry is one word: the node's address (16-byte aligned, below 2^48), 4 hash bits in its low bits
// as a tag, so that a probe dereferences a node only when the tag matches, and the key's 16-bit home
// in its top bits, so that a rebuild places entries without touching their nodes. 0 is an empty slot,
// kTombstone a deleted one.
//
// Concurrency:
// - Readers never lock: inside an RCU read-side critical section they load the shard's table and probe
//   it. A table replaced by a rebuild, and every node the index drops, are retired through RCU, so a
//   reader's table and the node it found stay valid for its section.
// - Writers (insert, erase, rebuild) hold the shard mutex. Each entry is written with one release
//   store, after which readers see it with the node's contents.
// - A table is rebuilt (to kRebuildLoadPercent live) when live + deleted entries would pass
//   kMaxLoadPercent: probe sequences always reach an empty slot.
//
// The store keeps these invariants with it (store.hpp, I6-I8): every key has at most one entry, and a
// key's node is inserted into the index by its inserter, under the shard mutex, before its record is
// published and before the put returns.
//
// Readers and rebuilds (why a probe's answer is always one the key had during the probe):
// - A reader probes the table it loaded, perhaps one that a rebuild or shrink has replaced since. The
//   old table keeps the entries it had when it was replaced, and stays allocated for the reader's
//   section. Its entry for a key, if any, was the key's entry at the moment the reader loaded it.
// - Erase writes a tombstone; a re-insert of the same key (only after its old node is dead, I6) may
//   reuse that slot or an earlier one. A probe that passes the new entry's slot before it is written
//   and the old entry's slot after it is erased finds nothing: the key was absent in between (the old
//   node was dead, the new one still pending, I8).
// - So what a probe returns is the key's current node, a dead node (absent at some moment of the
//   probe: its death came before the entry's removal, which came before any re-insert), a pending one
//   (absent), or nothing (absent or pending at that moment). Every case is a state the key had.
#pragma once

#include <algorithm>
#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <new>
#include <string_view>

#include "util/hash.hpp"
#include "util/memory.hpp"
#include "util/retire_list.hpp"
#include "util/stress_sizes.hpp"

namespace mantis::detail {

// The hash bits the index takes from a key. `home` (the top 16 bits of `slot_hash`) is what an entry
// keeps, so a rebuild of a table of at most 2^16 slots places entries without rehashing their keys.
struct IndexHash {
  static constexpr std::size_t kShards = stress_size<std::size_t>(256, 4);  // a power of two

  std::uint32_t shard;
  std::uint32_t slot_hash;
  std::uintptr_t tag;

  static IndexHash of(std::string_view key) noexcept {
    const std::uint64_t h = hash_key(key);
    return {static_cast<std::uint32_t>((h >> 56) % kShards), static_cast<std::uint32_t>(h), (h >> 32) & 0xf};
  }
  std::uint16_t home() const noexcept { return static_cast<std::uint16_t>(slot_hash >> 16); }
};

// Node: any type with `std::string_view key() const`, allocated 16-byte aligned at an address below
// 2^48 (addressable(); x86-64 and AArch64 Linux hand out such addresses unless asked for more).
template <class Node>
class PointIndex {
 public:
  static constexpr std::size_t kShards = IndexHash::kShards;
  static constexpr std::size_t kMinSlots = 8;
  // A table is rebuilt when live + deleted entries would exceed 85% of its slots, or when removals
  // leave fewer than 15% of them live (so that a store that shrinks gives the memory back), to 60% live.
  static constexpr std::size_t kMaxLoadPercent = 85;
  static constexpr std::size_t kShrinkLoadPercent = 15;
  static constexpr std::size_t kRebuildLoadPercent = 60;

 private:
  static constexpr std::uintptr_t kTombstone = 1;
  static constexpr std::uintptr_t kTagMask = 0xf;
  static constexpr int kHomeShift = 48;
  static constexpr std::uintptr_t kNodeMask = ((std::uintptr_t{1} << kHomeShift) - 1) & ~kTagMask;

  static std::uintptr_t entry_of(const Node* node, const IndexHash& hash) noexcept {
    return reinterpret_cast<std::uintptr_t>(node) | hash.tag | (std::uintptr_t{hash.home()} << kHomeShift);
  }
  static Node* node_of(std::uintptr_t entry) noexcept { return reinterpret_cast<Node*>(entry & kNodeMask); }

  struct Table {
    std::size_t slot_count;
    // Followed by slot_count entries.

    static std::size_t bytes_for(std::size_t slot_count) noexcept {
      return sizeof(Table) + slot_count * sizeof(std::atomic<std::uintptr_t>);
    }
    static Table* create(std::size_t slot_count) noexcept {
      void* memory = allocate(bytes_for(slot_count));
      if (memory == nullptr) return nullptr;
      auto* table = new (memory) Table{slot_count};
      for (std::size_t i = 0; i < slot_count; ++i) new (&table->slot(i)) std::atomic<std::uintptr_t>(0);
      return table;
    }
    static void destroy(void* table) noexcept { deallocate(table); }

    std::atomic<std::uintptr_t>& slot(std::size_t i) noexcept {
      return reinterpret_cast<std::atomic<std::uintptr_t>*>(this + 1)[i];
    }
    const std::atomic<std::uintptr_t>& slot(std::size_t i) const noexcept {
      return reinterpret_cast<const std::atomic<std::uintptr_t>*>(this + 1)[i];
    }
    std::size_t next(std::size_t i) const noexcept { return i + 1 == slot_count ? 0 : i + 1; }
    // Multiply-shift maps the hash onto [0, slot_count) without a power-of-two size. Tables of up to
    // 2^16 slots use only the top 16 bits (IndexHash::home()), which entries keep for rebuilds.
    std::size_t home(std::uint32_t slot_hash) const noexcept {
      if (slot_count <= (std::size_t{1} << 16)) return ((slot_hash >> 16) * slot_count) >> 16;
      return static_cast<std::size_t>((std::uint64_t{slot_hash} * slot_count) >> 32);
    }

    // The node of `key` and (if `slot_index`) its slot, or nullptr. Terminates because a table always
    // has an empty slot (kMaxLoadPercent < 100).
    Node* find(std::string_view key, const IndexHash& hash, std::size_t* slot_index) const noexcept {
      for (std::size_t i = home(hash.slot_hash);; i = next(i)) {
        // acquire: pairs with the release store that published the entry.
        const std::uintptr_t entry = slot(i).load(std::memory_order_acquire);
        if (entry == 0) return nullptr;
        if (entry == kTombstone || (entry & kTagMask) != hash.tag) continue;
        Node* node = node_of(entry);
        if (node->key() == key) {
          if (slot_index != nullptr) *slot_index = i;
          return node;
        }
      }
    }
  };

  struct alignas(64) Shard {
    std::atomic<Table*> table{nullptr};
    std::mutex mutex;
    // Guarded by mutex.
    std::size_t live = 0;
    std::size_t deleted = 0;
  };

 public:
  PointIndex() {
    for (Shard& shard : shards_) {
      Table* table = Table::create(kMinSlots);
      if (table == nullptr) {
        destroy_tables();
        throw std::bad_alloc();
      }
      shard.table.store(table, std::memory_order_relaxed);
    }
  }
  PointIndex(const PointIndex&) = delete;
  PointIndex& operator=(const PointIndex&) = delete;
  // Frees the tables (not the nodes). REQUIRES: no concurrent use.
  ~PointIndex() { destroy_tables(); }

  // The node indexed for `key`, or nullptr. Never blocks. REQUIRES: inside an RcuReadLock, for as long
  // as the node is used.
  Node* find(std::string_view key, const IndexHash& hash) const noexcept {
    const Table* table = shards_[hash.shard].table.load(std::memory_order_acquire);
    return table->find(key, hash, nullptr);
  }

  // Starts loading the slot where a probe for `hash` begins (a hint; changes nothing).
  void prefetch(const IndexHash& hash) const noexcept {
    const Table* table = shards_[hash.shard].table.load(std::memory_order_relaxed);
    __builtin_prefetch(&table->slot(table->home(hash.slot_hash)));
  }

  // One shard's writer lock, and the writes made under it.
  class Locked {
   public:
    Locked(PointIndex& index, const IndexHash& hash)
        : shard_(index.shards_[hash.shard]), hash_(hash), lock_(shard_.mutex) {}

    Node* find(std::string_view key) const noexcept {
      return shard_.table.load(std::memory_order_relaxed)->find(key, hash_, nullptr);
    }
    // Makes room for one more entry (rebuilding the table if needed), so that insert() cannot fail.
    // False when memory is exhausted; the index is unchanged then.
    bool reserve_one(RetireList& retired) noexcept { return PointIndex::reserve_one(shard_, retired); }
    // Adds `node` (whose key has no entry). REQUIRES: reserve_one() returned true under this lock.
    void insert(Node* node) noexcept { place(shard_, node, hash_); }
    // Drops `node`'s entry, if it has one, and shrinks a table left mostly empty (the old table goes
    // to `retired`; without memory for a smaller one, the table stays as it is).
    void erase(Node* node, RetireList& retired) noexcept {
      Table* table = shard_.table.load(std::memory_order_relaxed);
      std::size_t slot = 0;
      if (table->find(node->key(), hash_, &slot) != node) return;
      table->slot(slot).store(kTombstone, std::memory_order_release);
      --shard_.live;
      ++shard_.deleted;
      if (table->slot_count > kMinSlots && shard_.live * 100 < table->slot_count * kShrinkLoadPercent) {
        rebuild(shard_, shard_.live, retired);
      }
    }

   private:
    Shard& shard_;
    IndexHash hash_;
    std::lock_guard<std::mutex> lock_;
  };

  // Whether the index can hold `node`: false for an address at or above 2^48 (never seen on Linux
  // unless a program maps memory there on purpose). The store then fails the insert as out of memory.
  static bool addressable(const Node* node) noexcept {
    return (reinterpret_cast<std::uintptr_t>(node) >> kHomeShift) == 0;
  }

  // Inserts `node` with no other thread using the index (a bulk load). False when memory is exhausted.
  bool insert_unshared(Node* node, const IndexHash& hash) noexcept {
    Shard& shard = shards_[hash.shard];
    RetireList retired;  // nothing reads concurrently; the old table is freed after a grace period anyway
    if (!reserve_one(shard, retired)) return false;
    place(shard, node, hash);
    return true;
  }

  // Bytes of every table (slots and headers). Approximate while writers run.
  std::size_t memory_bytes() const noexcept {
    std::size_t bytes = 0;
    for (const Shard& shard : shards_)
      bytes += Table::bytes_for(shard.table.load(std::memory_order_relaxed)->slot_count);
    return bytes;
  }

 private:
  // Makes room in the shard's table for one more entry, rebuilding it if needed; false when memory is
  // exhausted (the table is unchanged then). REQUIRES: the shard mutex, or no concurrent use.
  static bool reserve_one(Shard& shard, RetireList& retired) noexcept {
    const Table* table = shard.table.load(std::memory_order_relaxed);
    if ((shard.live + shard.deleted + 1) * 100 <= table->slot_count * kMaxLoadPercent) return true;
    return rebuild(shard, shard.live + 1, retired);
  }
  // Writes `node`'s entry into the first free slot of its probe sequence. REQUIRES: reserve_one()
  // returned true, and the shard mutex or no concurrent use.
  static void place(Shard& shard, Node* node, const IndexHash& hash) noexcept {
    Table* table = shard.table.load(std::memory_order_relaxed);
    assert((shard.live + shard.deleted + 1) * 100 <= table->slot_count * kMaxLoadPercent);  // reserve_one()
    std::size_t i = table->home(hash.slot_hash);
    while (table->slot(i).load(std::memory_order_relaxed) > kTombstone) i = table->next(i);
    if (table->slot(i).load(std::memory_order_relaxed) == kTombstone) --shard.deleted;
    // release: a reader that loads the entry sees the node's contents.
    table->slot(i).store(entry_of(node, hash), std::memory_order_release);
    ++shard.live;
  }

  // Replaces the shard's table with one sized for `live` entries at kRebuildLoadPercent, without
  // tombstones; the old table goes to `retired`. REQUIRES: the shard mutex, or no concurrent use.
  static bool rebuild(Shard& shard, std::size_t live, RetireList& retired) noexcept {
    Table* old_table = shard.table.load(std::memory_order_relaxed);
    const std::size_t slot_count = std::max(kMinSlots, live * 100 / kRebuildLoadPercent + 1);
    Table* table = Table::create(slot_count);
    if (table == nullptr) return false;
    try {
      retired.add(old_table, &Table::destroy);
    } catch (const std::bad_alloc&) {
      Table::destroy(table);
      return false;
    }
    for (std::size_t i = 0; i < old_table->slot_count; ++i) {
      const std::uintptr_t entry = old_table->slot(i).load(std::memory_order_relaxed);
      if (entry <= kTombstone) continue;
      const std::uint32_t slot_hash = slot_count <= (std::size_t{1} << 16)
                                          ? static_cast<std::uint32_t>(entry >> kHomeShift) << 16
                                          : IndexHash::of(node_of(entry)->key()).slot_hash;
      std::size_t j = table->home(slot_hash);
      while (table->slot(j).load(std::memory_order_relaxed) != 0) j = table->next(j);
      table->slot(j).store(entry, std::memory_order_relaxed);
    }
    // release: readers that load the new table see its entries.
    shard.table.store(table, std::memory_order_release);
    shard.deleted = 0;
    return true;
  }

  void destroy_tables() noexcept {
    for (Shard& shard : shards_) {
      if (Table* table = shard.table.load(std::memory_order_relaxed)) Table::destroy(table);
    }
  }

  Shard shards_[kShards];
};

}  // namespace mantis::detail
