// Internal allocation. Every record, node and cache entry is allocated here: with mimalloc's explicit
// API in normal builds (never its malloc override, so the host's malloc/new stay untouched), with
// the system allocator in sanitizer builds (mimalloc memory is invisible to ASan).
#pragma once

#include <cstddef>
#include <new>

namespace mantis::detail {

// Returns at least `size` bytes aligned to alignof(std::max_align_t), or nullptr when out of memory.
// Thread-safe. Compiled into libmantis, so inline hot paths never name mimalloc directly.
void* allocate(std::size_t size) noexcept;
// Frees memory from allocate(); nullptr is ignored. Thread-safe.
void deallocate(void* p) noexcept;
// The allocator behind allocate(): "mimalloc" or "system".
const char* allocator_name() noexcept;
// True when p was allocated by mimalloc (always false in system-allocator builds). For tests.
bool allocated_by_mimalloc(const void* p) noexcept;

// Held by a new thread that is about to allocate much (recovery's applying thread), for as long as it
// allocates. mimalloc 2.0 commits a thread's first segment lazily, one 4 KiB page at a time, when the
// process has other threads (its eager_commit_delay), so such a thread's first 32 MiB of nodes and
// records would miss the huge pages the rest of mantis's memory gets (memory.cpp). This takes that
// first segment with one block of its own (64 MiB, never touched: address space, no resident memory),
// so the thread's allocations go to segments committed with huge pages. No effect with the system
// allocator. Not thread-safe (the thread's own); not copyable.
class FirstSegmentHold {
 public:
  FirstSegmentHold() noexcept;
  ~FirstSegmentHold();
  FirstSegmentHold(const FirstSegmentHold&) = delete;
  FirstSegmentHold& operator=(const FirstSegmentHold&) = delete;

 private:
  void* block_ = nullptr;
};

// STL allocator adapter over allocate()/deallocate(); throws std::bad_alloc on exhaustion.
template <class T>
struct Allocator {
  using value_type = T;
  Allocator() noexcept = default;
  template <class U>
  Allocator(const Allocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor): rebinding
  T* allocate(std::size_t n) {
    if (n > static_cast<std::size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    void* p = detail::allocate(n * sizeof(T));
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) noexcept { detail::deallocate(p); }
  template <class U>
  bool operator==(const Allocator<U>&) const noexcept {
    return true;
  }
};

}  // namespace mantis::detail
