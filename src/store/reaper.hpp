// Reaper: the background thread that frees expired records so memory does not grow with dead keys.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

#include "store/store.hpp"

namespace mantis::detail {

// Every `interval` the reaper sweeps the store in slices of kSliceNodes nodes (one short RCU
// critical section each, so readers and writers are never blocked) and removes records whose TTL has
// passed, comparing the record so that a newer value written meanwhile survives. At most
// kSlicesPerTick slices run per tick; the next tick resumes where this one stopped, so each key is
// visited once every (keys / (kSliceNodes * kSlicesPerTick)) ticks. Sleeps while the store has never
// seen a TTL. Each tick first calls `before_tick` (if set) outside any critical section: the engine
// ends its versioned mode there once it has been idle, since the store removes nothing while that mode
// pauses removals, and an engine that only reads would otherwise never leave it. The destructor stops
// and joins the thread.
class Reaper {
 public:
  static constexpr std::size_t kSliceNodes = Store::kSliceNodes;
  static constexpr std::size_t kSlicesPerTick = 64;

  Reaper(Store& store, std::chrono::milliseconds interval, std::function<void()> before_tick = {});
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;
  ~Reaper();

  // One tick's worth of sweeping, on the caller's thread. Returns the records removed.
  static std::size_t sweep(Store& store, std::string& cursor);

 private:
  void run();

  Store& store_;
  const std::chrono::milliseconds interval_;
  const std::function<void()> before_tick_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace mantis::detail
