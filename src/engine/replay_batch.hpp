// ReplayBatch: log operations taken during recovery, to be applied many at a time in key order.
//
// Replaying a log one operation at a time costs what a random insert costs: a skiplist search of
// dependent cache misses per operation. Recovery instead takes up to kMaxOps operations (or kMaxKeyBytes
// of keys) into a batch, sorts them by key, and the Applier applies them key by key (Applier::
// apply_replayed), putting the final records through Store::Loader, which walks forward from the
// previous key instead of searching from the top.
//
// sort() orders the operations by key (memcmp order) and, within a key, in the order they were added
// (log order): that is all the Applier needs for the result to be the log's (see apply_replayed).
// Keys are compared eight bytes at a time as big-endian integers (one integer comparison instead of a
// memcmp call); only operations whose keys agree on the first 8k bytes are sorted again on the next
// eight, so keys with long shared prefixes cost as many passes as the prefix has words.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "durability/log_record.hpp"
#include "store/record.hpp"
#include "util/memory.hpp"

namespace mantis::detail {

// Not thread-safe (one recovery). Not copyable.
class ReplayBatch {
 public:
  // Where a batch is full: bounds the memory recovery holds beyond the records themselves (an Op of
  // 48 bytes and the key per operation, and 36 bytes more while the batch is applied: sort items,
  // order, the final puts).
  static constexpr std::size_t kMaxOps = std::size_t{1} << 16;
  static constexpr std::size_t kMaxKeyBytes = std::size_t{4} << 20;

  struct Op {
    LogOpType type;                  // kPut, kErase, kExpire or kPersist
    Record* record;                  // kPut: the new value, owned by the batch until taken (nullptr then)
    std::uint64_t expires_at_ms;     // kExpire and kPersist
    std::uint64_t seq;               // kExpire and kPersist
    std::uint64_t key_offset;        // in keys_
    std::uint32_t key_size;
  };

  ReplayBatch() = default;
  ~ReplayBatch() { clear(); }
  ReplayBatch(const ReplayBatch&) = delete;
  ReplayBatch& operator=(const ReplayBatch&) = delete;

  // Takes one operation, copying its key; a put's `record` reference becomes the batch's. Throws
  // std::bad_alloc (then the caller keeps the record). REQUIRES: type is not kClear or kBatch.
  void add(LogOpType type, std::string_view key, Record* record, std::uint64_t expires_at_ms, std::uint64_t seq);
  bool empty() const noexcept { return ops_.empty(); }
  bool full() const noexcept { return ops_.size() >= kMaxOps || keys_.size() >= kMaxKeyBytes; }

  // Orders the operations by key, then by when they were added. Throws std::bad_alloc.
  void sort();
  // After sort(): the i-th operation in that order, and its key (valid until clear()).
  std::size_t size() const noexcept { return ops_.size(); }
  Op& sorted(std::size_t i) noexcept { return ops_[order_[i]]; }
  // After sort(): whether the i-th operation's key differs from the (i-1)-th's (true for i = 0).
  bool starts_key(std::size_t i) const noexcept { return starts_key_[i]; }
  std::string_view key(const Op& op) const noexcept { return {keys_.data() + op.key_offset, op.key_size}; }
  // How far ahead a walk over operations, keys or records in an order other than where they lie loads
  // them: far enough to hide a miss, near enough that they are still cached when reached.
  static constexpr std::size_t kAhead = 16;
  // For a walk in sorted order at position i: starts loading the operation kAhead positions on, and
  // the key of the one kAhead / 2 on (whose operation was loaded by then). A hint; no effect on results.
  void prefetch(std::size_t i) const noexcept {
    if (i + kAhead < order_.size()) __builtin_prefetch(&ops_[order_[i + kAhead]]);
    if (i + kAhead / 2 < order_.size()) __builtin_prefetch(keys_.data() + ops_[order_[i + kAhead / 2]].key_offset);
  }

  // Drops every operation, releasing the records not taken.
  void clear() noexcept;

 private:
  // Through mimalloc (util/memory.hpp), whose large blocks fault in as huge pages: a batch is tens of
  // MiB written once, and faulting it in 4 KiB pages cost more than the replay itself.
  template <class T>
  using Vector = std::vector<T, Allocator<T>>;
  Vector<Op> ops_;  // in the order added
  std::basic_string<char, std::char_traits<char>, Allocator<char>> keys_;  // every key, concatenated
  Vector<std::uint32_t> order_;
  Vector<bool> starts_key_;
};

}  // namespace mantis::detail
