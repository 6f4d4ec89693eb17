// The one way the env layer turns a failed system call into a Status, and its EINTR retry loop.
#pragma once

#include <cerrno>
#include <string_view>

#include <mantis/status.hpp>

namespace mantis::detail {

// IOError "<path>: <operation>: <strerror(err)>", e.g. "IOError: /data/wal/000007.log: write: No space left on
// device". Thread-safe.
Status io_status(std::string_view path, std::string_view operation, int err);

// Runs `call` (a system call returning -1 and setting errno on failure) until it is not interrupted.
template <typename Call>
auto retry_on_eintr(Call call) {
  decltype(call()) rc;
  do {
    rc = call();
  } while (rc < 0 && errno == EINTR);
  return rc;
}

}  // namespace mantis::detail
