#include "util/rcu.hpp"

#include <mutex>

namespace mantis::detail {
namespace {
// Retired objects buffered before a grace period is forced. Larger amortizes grace periods over more
// writes; smaller bounds the memory held by retired records. 4096 records of ~150 bytes is ~600 KiB.
constexpr std::size_t kRetireBufferCapacity = 4096;
}  // namespace

void rcu_init_process() {
  static std::once_flag once;
  std::call_once(once, [] {
    cds::Initialize();
    // Construct() keeps an RCU singleton that the host (or another library) already made.
    cds::urcu::general_buffered<>::Construct(kRetireBufferCapacity);
  });
}

void rcu_attach_thread_slow() {
  rcu_init_process();
  if (!cds::threading::Manager::isThreadAttached()) cds::threading::Manager::attachThread();
}

}  // namespace mantis::detail
