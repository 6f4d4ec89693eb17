// DecidingWriters: how the store learns that a writer may be deciding a key's fate from its live
// record, to publish the outcome later (store.hpp, E1).
#pragma once

#include <string_view>

namespace mantis::detail {

// A writer that reads a key's record, decides (keep it? replace it? with what?) and publishes the
// outcome only after logging it holds a lock across that span; the engine's key stripes are such locks
// (mvcc/key_locks.hpp). A reader that finds the key's record expired asks wait_for() before reporting
// the key absent, so that it never contradicts a decision that found the record live.
class DecidingWriters {
 public:
  // Waits while a writer other than the calling thread may be deciding `key`; returns whether it
  // waited (the key may have changed meanwhile). The caller reads the clock before this call, and a
  // writer that takes the lock after this call returned false reads the clock after it (sequentially
  // consistent), so it sees at least the caller's time.
  virtual bool wait_for(std::string_view key) const noexcept = 0;

 protected:
  ~DecidingWriters() = default;
};

}  // namespace mantis::detail
