// LsnChain: checks that the LSNs replayed from the log follow one another with no gap, across segments.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <mantis/status.hpp>

namespace mantis::detail {

// Not thread-safe: one recovery walks the log in order.
class LsnChain {
 public:
  // `expected`: the LSN the first record must have (snapshot LSN + 1), or 0 to accept any first LSN.
  explicit LsnChain(std::uint64_t expected = 0) noexcept : expected_(expected) {}

  // OK when `lsn` is the expected one, which then advances; otherwise Corruption "<location>: LSN <lsn>
  // where <expected> was expected" (location like "wal/000007.log offset 4096") and nothing changes.
  Status accept(std::uint64_t lsn, std::string_view location) {
    if (expected_ != 0 && lsn != expected_) {
      std::string message(location);
      message.append(": LSN ").append(std::to_string(lsn)).append(" where ").append(std::to_string(expected_));
      message.append(" was expected");
      return Status::corruption(message);
    }
    expected_ = lsn + 1;
    return Status::ok_status();
  }

  // The LSN the next record must have (0 before the first record when none was given).
  std::uint64_t expected() const noexcept { return expected_; }

 private:
  std::uint64_t expected_;
};

}  // namespace mantis::detail
