#include "util/memory.hpp"

#include <cstdlib>

#if MANTIS_USE_MIMALLOC
#include <mimalloc.h>
#endif

namespace mantis::detail {

#if MANTIS_USE_MIMALLOC
namespace {
// mimalloc allocates only mantis's memory here (the host keeps its own malloc), so its options are
// ours to tune. Large OS pages (transparent huge pages via madvise) cut TLB misses on the random
// node and record accesses of a big store: about 1.3x on random gets at 1M keys (docs/BENCHMARKS.md).
// An explicit MIMALLOC_LARGE_OS_PAGES in the environment wins.
const bool large_os_pages_configured = [] {
  if (std::getenv("MIMALLOC_LARGE_OS_PAGES") == nullptr) mi_option_enable(mi_option_large_os_pages);
  return true;
}();
}  // namespace

void* allocate(std::size_t size) noexcept { return mi_malloc(size); }
void deallocate(void* p) noexcept { mi_free(p); }
const char* allocator_name() noexcept { return "mimalloc"; }
bool allocated_by_mimalloc(const void* p) noexcept { return p != nullptr && mi_is_in_heap_region(p); }
FirstSegmentHold::FirstSegmentHold() noexcept : block_(mi_malloc(std::size_t{64} << 20)) {}
FirstSegmentHold::~FirstSegmentHold() { mi_free(block_); }
#else
void* allocate(std::size_t size) noexcept { return std::malloc(size == 0 ? 1 : size); }
void deallocate(void* p) noexcept { std::free(p); }
const char* allocator_name() noexcept { return "system"; }
bool allocated_by_mimalloc(const void*) noexcept { return false; }
FirstSegmentHold::FirstSegmentHold() noexcept = default;
FirstSegmentHold::~FirstSegmentHold() = default;
#endif

}  // namespace mantis::detail
