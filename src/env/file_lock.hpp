// FileLock: the exclusive claim of one process (and one engine) on a data directory.
//
// The lock is flock(LOCK_EX | LOCK_NB) on `<dir>/LOCK`. flock locks belong to an open file description,
// so a second acquire of the same directory conflicts whether it comes from another process or from
// this one. The kernel drops the lock when the holder exits, so a crash never leaves a stale lock; the
// LOCK file itself stays and is harmless.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <mantis/status.hpp>

namespace mantis::detail {

// The name of the lock file inside a data directory.
inline constexpr std::string_view kLockFileName = "LOCK";

// Holding the object is holding the lock; destroying it (from any thread) releases the lock. Immutable,
// so safe to share between threads. Not copyable or movable.
class FileLock {
 public:
  // Creates `<dir>/LOCK` (0600) if needed and locks it. Busy naming `dir` when another holder has it;
  // IOError naming the path when the file cannot be opened or locked.
  static Status acquire(const std::string& dir, std::unique_ptr<FileLock>* lock);

  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

  const std::string& path() const noexcept { return path_; }

 private:
  FileLock(std::string path, int fd) noexcept : path_(std::move(path)), fd_(fd) {}

  const std::string path_;
  const int fd_;
};

}  // namespace mantis::detail
