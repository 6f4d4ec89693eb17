#include <mantis/detail/memory.hpp>

#include <cstdlib>

#if MANTIS_USE_MIMALLOC
#include <mimalloc.h>
#endif

namespace mantis::detail {

#if MANTIS_USE_MIMALLOC
void* allocate(std::size_t size) noexcept { return mi_malloc(size); }
void deallocate(void* p) noexcept { mi_free(p); }
const char* allocator_name() noexcept { return "mimalloc"; }
bool allocated_by_mimalloc(const void* p) noexcept { return p != nullptr && mi_is_in_heap_region(p); }
#else
void* allocate(std::size_t size) noexcept { return std::malloc(size == 0 ? 1 : size); }
void deallocate(void* p) noexcept { std::free(p); }
const char* allocator_name() noexcept { return "system"; }
bool allocated_by_mimalloc(const void*) noexcept { return false; }
#endif

}  // namespace mantis::detail
