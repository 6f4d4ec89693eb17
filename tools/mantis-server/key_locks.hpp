// KeyLocks: striped mutexes that make the server's read-modify-write commands atomic.
//
// The Engine has no conditional put, and DEL must count the keys it removed, so SET NX/XX, DEL,
// PERSIST and friends are "read, then write" sequences. Every command that writes takes the stripes of
// its keys for the whole sequence, plain SET included (otherwise a SET landing between SET NX's check
// and its write would be overwritten by a NX that reported success). Reads take no lock. The server
// is the engine's only writer (a data directory is locked by one engine), so this makes each
// command atomic with respect to every other client. Thread-safe.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string_view>
#include <vector>

namespace mantis::server {

class KeyLocks {
 public:
  static constexpr std::size_t kStripes = 1024;  // a power of two

  KeyLocks() = default;
  KeyLocks(const KeyLocks&) = delete;
  KeyLocks& operator=(const KeyLocks&) = delete;

  std::size_t stripe_of(std::string_view key) const noexcept {
    return std::hash<std::string_view>{}(key) & (kStripes - 1);
  }
  std::mutex& stripe(std::size_t index) noexcept { return stripes_[index].mutex; }

 private:
  struct alignas(64) Stripe {  // one cache line each: neighbouring stripes do not false-share
    std::mutex mutex;
  };
  std::array<Stripe, kStripes> stripes_;
};

// Holds the stripes of a set of keys, taken in ascending stripe order (so two multi-key commands
// never deadlock) and each once. `scratch` is the caller's reusable vector, to avoid allocating per
// command.
class MultiKeyLock {
 public:
  MultiKeyLock(KeyLocks& locks, std::vector<std::size_t>* scratch) : locks_(locks), stripes_(*scratch) {
    stripes_.clear();
  }
  MultiKeyLock(const MultiKeyLock&) = delete;
  MultiKeyLock& operator=(const MultiKeyLock&) = delete;

  void add(std::string_view key) { stripes_.push_back(locks_.stripe_of(key)); }
  void lock() {
    std::sort(stripes_.begin(), stripes_.end());
    stripes_.erase(std::unique(stripes_.begin(), stripes_.end()), stripes_.end());
    for (const std::size_t s : stripes_) locks_.stripe(s).lock();
    locked_ = true;
  }
  ~MultiKeyLock() {
    if (!locked_) return;
    for (auto it = stripes_.rbegin(); it != stripes_.rend(); ++it) locks_.stripe(*it).unlock();
  }

 private:
  KeyLocks& locks_;
  std::vector<std::size_t>& stripes_;
  bool locked_ = false;
};

}  // namespace mantis::server
