// EvictionPool: a cache shard's candidates for eviction, the oldest entries its samples have met.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>

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
        --size_;
        members_[i] = members_[size_];
        memos_[i] = memos_[size_];
        return;
      }
    }
  }
  // Keeps the kCapacity oldest: a candidate replaces the youngest member when it is older.
  void offer(CacheEntry* candidate) noexcept {
    if (size_ < kCapacity) {
      place(size_++, candidate);
      return;
    }
    std::size_t youngest = 0;
    for (std::size_t i = 1; i < size_; ++i) {
      if (members_[i]->stamp() > members_[youngest]->stamp()) youngest = i;
    }
    if (candidate->stamp() < members_[youngest]->stamp()) place(youngest, candidate);
  }
  // The member with the oldest current stamp, or nullptr when empty.
  CacheEntry* oldest() const noexcept {
    CacheEntry* best = nullptr;
    for (std::size_t i = 0; i < size_; ++i) {
      if (best == nullptr || members_[i]->stamp() < best->stamp()) best = members_[i];
    }
    return best;
  }

  // Of the members not hit since they joined their segment (!CacheEntry::referenced()), other than
  // `exclude`, the one with the lowest `estimate(entry)` (a FrequencySketch estimate), the oldest of
  // those on ties; nullptr if there is none. Each member's estimate is read once and remembered with
  // `halvings`, the sketch's count of halvings then: an entry not hit since it joined its segment is
  // counted only through collisions, so its estimate changes only when the sketch halves, and a
  // remembered one is halved as often as the sketch has been since. So a call reads the sketch only
  // for the members that joined the pool since the last call, a few, not for all kCapacity.
  template <class Estimate>
  CacheEntry* least_frequent(const CacheEntry* exclude, std::uint64_t halvings, Estimate&& estimate) noexcept {
    std::size_t best = size_;
    unsigned best_frequency = 0;
    for (std::size_t i = 0; i < size_; ++i) {
      CacheEntry* member = members_[i];
      if (member == exclude || member->referenced()) continue;
      Memo& memo = memos_[i];
      if (memo.frequency == Memo::kUnknown) {
        memo.frequency = static_cast<std::uint8_t>(estimate(*member));
        memo.halvings = static_cast<std::uint32_t>(halvings);
      }
      const std::uint32_t halved = static_cast<std::uint32_t>(halvings) - memo.halvings;
      const unsigned frequency = halved >= 8 ? 0u : unsigned{memo.frequency} >> halved;
      if (best == size_ || frequency < best_frequency ||
          (frequency == best_frequency && member->stamp() < members_[best]->stamp())) {
        best = i;
        best_frequency = frequency;
      }
    }
    return best == size_ ? nullptr : members_[best];
  }

 private:
  // least_frequent()'s memory of a member: its estimate (kUnknown until read) and the sketch's halvings
  // then (modulo 2^32). Kept beside the members, not in them, so that the scans of members stay dense.
  struct Memo {
    static constexpr std::uint8_t kUnknown = 0xff;
    std::uint32_t halvings = 0;
    std::uint8_t frequency = kUnknown;
  };

  void place(std::size_t i, CacheEntry* entry) noexcept {
    members_[i] = entry;
    memos_[i] = Memo{};
  }

  std::array<CacheEntry*, kCapacity> members_{};
  std::array<Memo, kCapacity> memos_{};
  std::size_t size_ = 0;
};

}  // namespace mantis::detail
