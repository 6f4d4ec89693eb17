// RefCount: the reference count at the head of mantis's shared immutable objects (Record, CacheEntry).
#pragma once

#include <atomic>
#include <cstdint>

namespace mantis::detail {

// Starts at one reference (the creator's). Thread-safe. Not copyable: it is part of its object.
class RefCount {
 public:
  RefCount() noexcept = default;
  RefCount(const RefCount&) = delete;
  RefCount& operator=(const RefCount&) = delete;

  // Adds a reference. Relaxed: the caller already holds a reference (or an RCU read-side critical
  // section keeps the object alive), so no ordering is needed to make the object valid.
  void ref() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
  // Drops a reference; true when it was the last, and the caller must then free the object.
  // acq_rel: every other holder's use of the object happens before that free.
  [[nodiscard]] bool unref() noexcept { return refs_.fetch_sub(1, std::memory_order_acq_rel) == 1; }

 private:
  std::atomic<std::uint32_t> refs_{1};
};
static_assert(sizeof(RefCount) == 4);

}  // namespace mantis::detail
