#include "env/writable_file.hpp"

#include <cerrno>

#include <fcntl.h>
#include <unistd.h>

#include "env/io_status.hpp"

namespace mantis::detail {
namespace {

class PosixWritableFile final : public WritableFile {
 public:
  PosixWritableFile(std::string path, int fd, std::uint64_t size) : path_(std::move(path)), fd_(fd), size_(size) {}
  ~PosixWritableFile() override {
    if (fd_ >= 0) ::close(fd_);
  }

  Status append(std::string_view data) override {
    if (fd_ < 0) return io_status(path_, "append", EBADF);
    while (!data.empty()) {
      // pwrite at our own offset: a short write followed by a retry never leaves a gap or an overlap.
      const ssize_t n =
          retry_on_eintr([&] { return ::pwrite(fd_, data.data(), data.size(), static_cast<off_t>(size_)); });
      if (n < 0) return io_status(path_, "write", errno);
      data.remove_prefix(static_cast<std::size_t>(n));
      size_ += static_cast<std::uint64_t>(n);
    }
    return Status::ok_status();
  }

  Status sync() override {
    if (fd_ < 0) return io_status(path_, "fdatasync", EBADF);
    if (retry_on_eintr([&] { return ::fdatasync(fd_); }) != 0) return io_status(path_, "fdatasync", errno);
    return Status::ok_status();
  }

  Status preallocate(std::uint64_t bytes) override {
    if (fd_ < 0) return io_status(path_, "fallocate", EBADF);
    if (::fallocate(fd_, FALLOC_FL_KEEP_SIZE, static_cast<off_t>(size_), static_cast<off_t>(bytes)) != 0 &&
        errno != EOPNOTSUPP) {
      return io_status(path_, "fallocate", errno);
    }
    return Status::ok_status();
  }

  Status close() override {
    if (fd_ < 0) return Status::ok_status();
    const int fd = fd_;
    fd_ = -1;
    // Linux releases the descriptor even when close() fails, so it is never retried.
    if (::close(fd) != 0 && errno != EINTR) return io_status(path_, "close", errno);
    return Status::ok_status();
  }

  std::uint64_t size() const noexcept override { return size_; }
  const std::string& path() const noexcept override { return path_; }

 private:
  const std::string path_;
  int fd_;
  std::uint64_t size_;
};

}  // namespace

Status open_posix_writable_file(const std::string& path, bool create_new, std::unique_ptr<WritableFile>* file) {
  const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (create_new ? O_EXCL : 0);
  int fd = -1;
  std::uint64_t size = 0;
  Status s = open_file(path, flags, 0600, &fd, &size);
  if (!s.ok()) return s;
  *file = std::make_unique<PosixWritableFile>(path, fd, size);
  return Status::ok_status();
}

}  // namespace mantis::detail
