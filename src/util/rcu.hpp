// Safe memory reclamation for mantis's lock-free structures: libcds's general-purpose buffered
// user-space RCU (cds::urcu::general_buffered).
//
// Readers wrap each operation in one RcuReadLock (one per operation, not per node visited). An
// object unlinked from a shared structure is handed to rcu_retire(); libcds frees it only after
// every read-side critical section that could still see it has ended.
//
// Rules:
// - Any thread may use these helpers: the first use attaches the thread to libcds (libcds detaches
//   it through its pthread-key destructor when the thread exits).
// - Never call rcu_retire() inside an RcuReadLock: a full retire buffer waits for a grace period,
//   which would wait for the caller itself.
// - The libcds runtime and the RCU singleton are process-wide and are never torn down (hosts and other
//   libraries in the process may share them).
#pragma once

#include <cds/init.h>
#include <cds/urcu/general_buffered.h>

namespace mantis::detail {

using Rcu = cds::urcu::gc<cds::urcu::general_buffered<>>;

// Initializes libcds and the RCU singleton once per process. Thread-safe; cheap after the first call.
void rcu_init_process();
// Attaches the calling thread to libcds if it is not attached yet.
void rcu_attach_thread_slow();

inline void rcu_attach_thread() {
  thread_local bool attached = false;
  if (!attached) [[unlikely]] {
    rcu_attach_thread_slow();
    attached = true;
  }
}

// A read-side critical section. Nests. Never blocks.
class RcuReadLock {
 public:
  RcuReadLock() {
    rcu_attach_thread();
    Rcu::thread_gc::access_lock();
  }
  ~RcuReadLock() { Rcu::thread_gc::access_unlock(); }
  RcuReadLock(const RcuReadLock&) = delete;
  RcuReadLock& operator=(const RcuReadLock&) = delete;
};

// Frees `p` with `dispose(p)` once no reader can hold it. REQUIRES: not inside an RcuReadLock.
inline void rcu_retire(void* p, void (*dispose)(void*) noexcept) {
  rcu_attach_thread();
  Rcu::retire_ptr(p, dispose);
}

}  // namespace mantis::detail
