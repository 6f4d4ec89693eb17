// The one way the env layer turns a failed system call into a Status, its EINTR retry loop, and the
// open-and-measure step every file type starts with.
#pragma once

#include <cerrno>
#include <cstdint>
#include <string>
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

// open(path, flags, mode) (EINTR retried), then fstat: *fd is the open descriptor and *size the file's
// size. On failure nothing stays open and the IOError names the path and the call that failed.
Status open_file(const std::string& path, int flags, int mode, int* fd, std::uint64_t* size);

}  // namespace mantis::detail
