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
