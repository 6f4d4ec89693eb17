// Segments: the regions of a cache shard under W-TinyLFU (the admission window, and the main region's
// probation and protected parts), and each region's bookkeeping.
//
// An entry's segment is a tag in its slot's control byte (cache_table.hpp), so a writer finds the
// members of a segment by scanning control bytes, without touching entries, and moving an entry between
// segments is one byte store. Readers ignore the tag.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "cache/cache_entry.hpp"
#include "cache/eviction_pool.hpp"

namespace mantis::detail {

enum class Segment : std::uint8_t {
  kWindow = 0,     // new entries, evicted by recency; its victims become candidates for the main region
  kProbation = 1,  // the main region's entries not hit since they entered it; main victims come from here
  kProtected = 2,  // main-region entries hit while on probation; demoted to probation when it overflows
};
inline constexpr std::size_t kSegmentCount = 3;

// Per shard: the charge and entry count of each segment, and each segment's eviction pool (the oldest
// members its samples have met). Every entry of the shard's table is counted in exactly one segment,
// the one its control byte names. Not thread-safe: written under the shard mutex; count() and charge()
// may be read without it (relaxed snapshots, for stats).
class Segments {
 public:
  void join(Segment segment, const CacheEntry& entry) noexcept {
    Books& books = of(segment);
    books.count.store(books.count.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    books.charge.store(books.charge.load(std::memory_order_relaxed) + entry.charge(), std::memory_order_relaxed);
  }
  // Also drops the entry from the segment's pool. REQUIRES: the entry is counted in `segment`.
  void leave(Segment segment, const CacheEntry& entry) noexcept {
    Books& books = of(segment);
    books.pool.remove(&entry);
    books.count.store(books.count.load(std::memory_order_relaxed) - 1, std::memory_order_relaxed);
    books.charge.store(books.charge.load(std::memory_order_relaxed) - entry.charge(), std::memory_order_relaxed);
  }

  // Relaxed: written only under the shard mutex; a reader without it wants a snapshot.
  std::size_t count(Segment segment) const noexcept { return of(segment).count.load(std::memory_order_relaxed); }
  std::size_t charge(Segment segment) const noexcept { return of(segment).charge.load(std::memory_order_relaxed); }
  EvictionPool& pool(Segment segment) noexcept { return of(segment).pool; }

 private:
  struct Books {
    std::atomic<std::size_t> count{0};
    std::atomic<std::size_t> charge{0};
    EvictionPool pool;
  };
  Books& of(Segment segment) noexcept { return books_[static_cast<std::size_t>(segment)]; }
  const Books& of(Segment segment) const noexcept { return books_[static_cast<std::size_t>(segment)]; }

  std::array<Books, kSegmentCount> books_;
};

}  // namespace mantis::detail
