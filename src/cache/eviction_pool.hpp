// EvictionPool: a cache shard's candidates for eviction, the oldest entries its samples have met.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>

#include "cache/cache_entry.hpp"

namespace mantis::detail {

// Redis's approximate LRU keeps, per shard, the kCapacity oldest entries seen by sampling; eviction
// takes the member with the oldest *current* stamp (stamps are re-read, so a member touched since it
// was sampled is judged by its new stamp). Every member is in the shard's table: whoever unlinks an
// entry removes it from the pool first. Not thread-safe: guarded by the shard mutex. Never allocates.
class EvictionPool {
 public:
  static constexpr std::size_t kCapacity = 16;

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
  // Keeps the kCapacity oldest: a candidate replaces the youngest member when it is older.
  void offer(CacheEntry* candidate) noexcept {
    if (size_ < kCapacity) {
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

 private:
  std::array<CacheEntry*, kCapacity> members_{};
  std::size_t size_ = 0;
};

}  // namespace mantis::detail
