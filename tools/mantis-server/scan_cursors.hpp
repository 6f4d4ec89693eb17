// ScanCursors: the server side of SCAN's cursor.
//
// The engine is ordered, so a scan resumes at a key: the next one it has not returned yet. Clients
// (redis-cli, redis-py) parse the cursor as a decimal 64-bit integer, so the key cannot travel in the
// cursor itself; the server keeps "cursor -> resume key" here and hands out the number. Cursors are
// bounded in count and bytes (the oldest go first); an unknown cursor (never issued, evicted, or from
// before a restart) is an error, never a silent restart from the beginning. Numbers start at a random
// point per server start, so a cursor from an earlier run is very unlikely to be taken for a new one.
// A cursor can be used several times (a client retrying after a lost reply). Thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace mantis::server {

class ScanCursors {
 public:
  // Default: 65536 cursors and 64 MiB of resume keys at most.
  explicit ScanCursors(std::size_t max_cursors = 65536, std::size_t max_bytes = std::size_t{64} << 20);
  ScanCursors(const ScanCursors&) = delete;
  ScanCursors& operator=(const ScanCursors&) = delete;

  // Remembers where a scan resumes (the next key it has not returned) and returns a new cursor
  // number (never 0).
  std::uint64_t save(std::string_view resume_key);
  // The resume key of a cursor, or nullopt if the cursor is unknown.
  std::optional<std::string> find(std::uint64_t cursor) const;

 private:
  void evict_locked();

  const std::size_t max_cursors_;
  const std::size_t max_bytes_;
  mutable std::mutex mutex_;
  std::uint64_t next_;
  std::size_t bytes_ = 0;
  std::unordered_map<std::uint64_t, std::string> keys_;
  std::deque<std::uint64_t> order_;  // oldest first
};

}  // namespace mantis::server
