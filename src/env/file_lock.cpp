#include "env/file_lock.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "env/io_status.hpp"

namespace mantis::detail {

Status FileLock::acquire(const std::string& dir, std::unique_ptr<FileLock>* lock) {
  std::string path = dir + "/" + std::string(kLockFileName);
  const int fd = retry_on_eintr([&] { return ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600); });
  if (fd < 0) return io_status(path, "open", errno);
  if (retry_on_eintr([&] { return ::flock(fd, LOCK_EX | LOCK_NB); }) != 0) {
    const int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) return Status::busy("data dir " + dir + " is locked by another engine or process");
    return io_status(path, "flock", err);
  }
  lock->reset(new FileLock(std::move(path), fd));
  return Status::ok_status();
}

FileLock::~FileLock() { ::close(fd_); }  // closing the last descriptor of the description unlocks

}  // namespace mantis::detail
