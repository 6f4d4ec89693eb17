// ExactLru: the reference cache for benchmarks, an exact least-recently-used cache.
//
// A hash map from key to a node of one recency list, under one std::mutex: every get and put takes the
// mutex, and a hit splices its node to the front of the list. This is the textbook design the
// mantis cache is measured against (hit ratio and throughput), so it is kept deliberately plain.
// Header-only and standard library only, so any benchmark can use it as a peer.
//
// Capacity is in bytes, charged like mantis::Cache: key bytes + value bytes + `entry_overhead`.
// Pass mantis::Cache::kEntryOverhead to hold exactly as many entries as the mantis cache would.
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mantis::bench {

// Thread-safe: every method may be called from any number of threads (one mutex serializes them all).
// Not copyable or movable.
class ExactLru {
 public:
  explicit ExactLru(std::size_t capacity_bytes, std::size_t entry_overhead = 0)
      : capacity_(capacity_bytes), entry_overhead_(entry_overhead) {}
  ExactLru(const ExactLru&) = delete;
  ExactLru& operator=(const ExactLru&) = delete;

  // Inserts or replaces `key`, evicting least recently used entries until it fits. Returns false (and
  // changes nothing) when the entry alone is larger than the capacity.
  bool put(std::string_view key, std::string_view value) {
    const std::size_t entry_charge = charge_of(key.size(), value.size());
    if (entry_charge > capacity_) return false;
    std::lock_guard<std::mutex> lock(mutex_);
    if (auto found = index_.find(key); found != index_.end()) {
      Node& node = *found->second;
      charge_ = charge_ - node.value.size() + value.size();
      node.value.assign(value);
      recency_.splice(recency_.begin(), recency_, found->second);
    } else {
      recency_.push_front(Node{std::string(key), std::string(value)});
      // The map's key views the list node's string, which never moves while the node exists.
      index_.emplace(recency_.front().key, recency_.begin());
      charge_ += entry_charge;
    }
    while (charge_ > capacity_) {
      const Node& oldest = recency_.back();
      charge_ -= charge_of(oldest.key.size(), oldest.value.size());
      index_.erase(oldest.key);
      recency_.pop_back();
      ++evictions_;
    }
    return true;
  }

  // Copies the value of `key` into *value and makes it the most recently used entry. Returns false on a miss.
  bool get(std::string_view key, std::string* value) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = index_.find(key);
    if (found == index_.end()) {
      ++misses_;
      return false;
    }
    recency_.splice(recency_.begin(), recency_, found->second);
    value->assign(found->second->value);
    ++hits_;
    return true;
  }

  bool erase(std::string_view key) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto found = index_.find(key);
    if (found == index_.end()) return false;
    charge_ -= charge_of(found->second->key.size(), found->second->value.size());
    auto node = found->second;
    index_.erase(found);
    recency_.erase(node);
    return true;
  }

  std::size_t entries() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return index_.size();
  }
  std::size_t charge() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return charge_;
  }
  std::size_t capacity() const { return capacity_; }
  std::uint64_t hits() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return hits_;
  }
  std::uint64_t misses() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return misses_;
  }
  std::uint64_t evictions() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return evictions_;
  }

 private:
  struct Node {
    std::string key;
    std::string value;
  };
  using Recency = std::list<Node>;  // most recently used first

  std::size_t charge_of(std::size_t key_size, std::size_t value_size) const {
    return key_size + value_size + entry_overhead_;
  }

  const std::size_t capacity_;
  const std::size_t entry_overhead_;
  mutable std::mutex mutex_;
  Recency recency_;
  std::unordered_map<std::string_view, Recency::iterator> index_;
  std::size_t charge_ = 0;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
  std::uint64_t evictions_ = 0;
};

}  // namespace mantis::bench
