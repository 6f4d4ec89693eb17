#include "scan_cursors.hpp"

#include <random>

namespace mantis::server {

ScanCursors::ScanCursors(std::size_t max_cursors, std::size_t max_bytes)
    : max_cursors_(max_cursors), max_bytes_(max_bytes) {
  std::random_device random;
  // Below 2^62, so that numbering never wraps to 0 in practice and stays a positive int64 for clients.
  next_ = ((std::uint64_t{random()} << 32) ^ random()) & ((std::uint64_t{1} << 62) - 1);
  if (next_ == 0) next_ = 1;
}

std::uint64_t ScanCursors::save(std::string_view resume_key) {
  std::lock_guard<std::mutex> guard(mutex_);
  const std::uint64_t cursor = next_++;
  keys_.emplace(cursor, std::string(resume_key));
  order_.push_back(cursor);
  bytes_ += resume_key.size();
  evict_locked();
  return cursor;
}

std::optional<std::string> ScanCursors::find(std::uint64_t cursor) const {
  std::lock_guard<std::mutex> guard(mutex_);
  const auto it = keys_.find(cursor);
  if (it == keys_.end()) return std::nullopt;
  return it->second;
}

void ScanCursors::evict_locked() {
  while (!order_.empty() && (order_.size() > max_cursors_ || bytes_ > max_bytes_)) {
    const auto it = keys_.find(order_.front());
    bytes_ -= it->second.size();
    keys_.erase(it);
    order_.pop_front();
  }
}

}  // namespace mantis::server
