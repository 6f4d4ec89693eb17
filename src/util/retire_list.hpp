// RetireList: what an operation unlinked inside a critical section, retired once the section is over.
#pragma once

#include <array>
#include <cstddef>
#include <vector>

#include "util/memory.hpp"
#include "util/rcu.hpp"

namespace mantis::detail {

// Collects objects an operation unlinked (replaced records, removed nodes, evicted cache entries,
// replaced tables) and hands each to rcu_retire() when the list is destroyed. Declare it before the
// RcuReadLock and mutexes it outlives, so that retiring happens once the operation is done: outside
// its critical section rcu_retire() can always free an object when memory for a bag is exhausted
// (util/rcu.hpp, G1), and no mutex is held meanwhile. Not thread-safe.
class RetireList {
 public:
  // Objects held without allocating.
  static constexpr std::size_t kInlineCapacity = 8;

  RetireList() = default;
  RetireList(const RetireList&) = delete;
  RetireList& operator=(const RetireList&) = delete;
  ~RetireList() {
    for (std::size_t i = 0; i < inline_count_; ++i) rcu_retire(inline_[i].object, inline_[i].dispose);
    for (const Retired& retired : overflow_) rcu_retire(retired.object, retired.dispose);
  }

  // `dispose(object)` runs once no reader can hold the object. Throws std::bad_alloc only past
  // kInlineCapacity objects, and then the object is not added.
  void add(void* object, void (*dispose)(void*) noexcept) {
    if (inline_count_ < inline_.size()) {
      inline_[inline_count_++] = {object, dispose};
    } else {
      overflow_.push_back({object, dispose});
    }
  }

 private:
  struct Retired {
    void* object;
    void (*dispose)(void*) noexcept;
  };
  // Only the first inline_count_ are set: left uninitialized, so that a list costs nothing to declare on
  // every operation's path.
  std::array<Retired, kInlineCapacity> inline_;
  std::size_t inline_count_ = 0;
  std::vector<Retired, Allocator<Retired>> overflow_;
};

}  // namespace mantis::detail
