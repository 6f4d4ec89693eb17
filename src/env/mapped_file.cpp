#include "env/mapped_file.hpp"

#include <cerrno>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "env/io_status.hpp"

namespace mantis::detail {

Status MappedFile::open(const std::string& path, std::shared_ptr<const MappedFile>* file) {
  int fd = -1;
  std::uint64_t file_size = 0;
  Status s = open_file(path, O_RDONLY | O_CLOEXEC, 0, &fd, &file_size);
  if (!s.ok()) return s;
  const auto size = static_cast<std::size_t>(file_size);
  const char* data = nullptr;
  if (size > 0) {
    void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
      const int err = errno;
      ::close(fd);
      return io_status(path, "mmap", err);
    }
    data = static_cast<const char*>(map);
  }
  ::close(fd);  // the mapping keeps its own reference to the file
  file->reset(new MappedFile(path, data, size));
  return Status::ok_status();
}

void MappedFile::release_pages() const noexcept {
  if (data_ != nullptr) static_cast<void>(::madvise(const_cast<char*>(data_), size_, MADV_DONTNEED));
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<char*>(data_), size_);
}

}  // namespace mantis::detail
