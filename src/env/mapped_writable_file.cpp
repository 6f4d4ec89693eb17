#include "env/mapped_writable_file.hpp"

#include <algorithm>
#include <cerrno>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "env/io_status.hpp"

namespace mantis::detail {

Status MappedWritableFile::create(const std::string& path, std::uint64_t capacity,
                                  std::unique_ptr<MappedWritableFile>* out) {
  if (capacity == 0) return Status::invalid_argument(path + ": a mapped file needs a capacity above 0");
  int fd = -1;
  std::uint64_t size = 0;
  Status s = open_file(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600, &fd, &size);
  if (!s.ok()) return s;
  // posix_fallocate returns the error (it does not set errno); it retries EINTR itself.
  if (const int err = ::posix_fallocate(fd, 0, static_cast<off_t>(capacity)); err != 0) {
    ::close(fd);
    ::unlink(path.c_str());  // an empty file of ours: nothing was written to it
    return io_status(path, "fallocate", err);
  }
  void* data = ::mmap(nullptr, capacity, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (data == MAP_FAILED) {
    const int err = errno;
    ::close(fd);
    ::unlink(path.c_str());
    return io_status(path, "mmap", err);
  }
  out->reset(new MappedWritableFile(path, fd, static_cast<char*>(data), capacity));
  return Status::ok_status();
}

MappedWritableFile::~MappedWritableFile() {
  if (data_ != nullptr) ::munmap(data_, capacity_);
  ::close(fd_);
}

Status MappedWritableFile::sync() {
  if (retry_on_eintr([&] { return ::fdatasync(fd_); }) != 0) return io_status(path_, "fdatasync", errno);
  return Status::ok_status();
}

void MappedWritableFile::write_back(std::uint64_t offset, std::uint64_t length) noexcept {
  // Drop first, then write back. A shared file mapping's pages keep their data when dropped: a dirty
  // one stays dirty in the page cache. Unmapped, a page is written back without being write-protected
  // in this mapping first, which costs a TLB flush (an interrupt to every other core running the
  // process) per page; dropping the range costs one flush for all of it.
  advise(offset, length, MADV_DONTNEED);
  static_cast<void>(retry_on_eintr([&] {
    return ::sync_file_range(fd_, static_cast<off_t>(offset), static_cast<off_t>(length), SYNC_FILE_RANGE_WRITE);
  }));
}

void MappedWritableFile::prefault(std::uint64_t offset, std::uint64_t length) noexcept {
  advise(offset, length, MADV_POPULATE_WRITE);
}

void MappedWritableFile::advise(std::uint64_t offset, std::uint64_t length, int advice) noexcept {
  std::lock_guard<std::mutex> lock(mapping_mutex_);
  if (data_ != nullptr && offset < capacity_) {
    static_cast<void>(::madvise(data_ + offset, std::min(length, capacity_ - offset), advice));
  }
}

Status MappedWritableFile::finish(std::uint64_t size) {
  {
    std::lock_guard<std::mutex> lock(mapping_mutex_);
    if (data_ == nullptr) return io_status(path_, "finish", EBADF);
    if (::munmap(data_, capacity_) != 0) return io_status(path_, "munmap", errno);
    data_ = nullptr;
  }
  if (retry_on_eintr([&] { return ::ftruncate(fd_, static_cast<off_t>(size)); }) != 0) {
    return io_status(path_, "ftruncate", errno);
  }
  return sync();
}

}  // namespace mantis::detail
