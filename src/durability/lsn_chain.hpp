// LsnChain: checks that the LSNs replayed from the log follow one another with no gap, across segments.
#pragma once

#include <cstdint>
#include <string>

#include <mantis/status.hpp>

namespace mantis::detail {

// Not thread-safe: one recovery walks the log in order.
class LsnChain {
 public:
  // `expected`: the LSN the first record must have (snapshot LSN + 1), or 0 to accept any first LSN.
  explicit LsnChain(std::uint64_t expected = 0) noexcept : expected_(expected) {}

  // OK when `lsn` is the expected one, which then advances; otherwise Corruption "LSN <lsn> where
  // <expected> was expected" (the caller prefixes the location, see located()) and nothing changes.
  Status accept(std::uint64_t lsn) {
    if (expected_ != 0 && lsn != expected_) {
      return Status::corruption("LSN " + std::to_string(lsn) + " where " + std::to_string(expected_) +
                                " was expected");
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
