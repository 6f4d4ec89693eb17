// The POSIX Env and the errno-to-Status helper every env file uses.
#include <cerrno>
#include <cstring>

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "env/env.hpp"
#include "env/io_status.hpp"

namespace mantis::detail {

Status io_status(std::string_view path, std::string_view operation, int err) {
  std::string message(path);
  message.append(": ").append(operation).append(": ").append(std::strerror(err));
  return Status::io_error(message);
}

Status open_file(const std::string& path, int flags, int mode, int* fd, std::uint64_t* size) {
  const int opened = retry_on_eintr([&] { return ::open(path.c_str(), flags, mode); });
  if (opened < 0) return io_status(path, "open", errno);
  struct stat st {};
  if (::fstat(opened, &st) != 0) {
    const int err = errno;
    ::close(opened);
    return io_status(path, "fstat", err);
  }
  *fd = opened;
  *size = static_cast<std::uint64_t>(st.st_size);
  return Status::ok_status();
}

namespace {

class PosixEnv final : public Env {
 public:
  Status new_writable_file(const std::string& path, std::unique_ptr<WritableFile>* file) override {
    return open_posix_writable_file(path, /*create_new=*/true, file);
  }

  Status reopen_writable_file(const std::string& path, std::unique_ptr<WritableFile>* file) override {
    return open_posix_writable_file(path, /*create_new=*/false, file);
  }

  Status new_mapped_file(const std::string& path, std::uint64_t capacity,
                         std::unique_ptr<MappedWritableFile>* file) override {
    return MappedWritableFile::create(path, capacity, file);
  }

  Status map_file(const std::string& path, std::shared_ptr<const MappedFile>* file) override {
    return MappedFile::open(path, file);
  }

  Status create_dir(const std::string& path) override {
    if (::mkdir(path.c_str(), 0700) == 0) return Status::ok_status();
    const int err = errno;
    struct stat st {};
    if (err == EEXIST && ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return Status::ok_status();
    return io_status(path, "mkdir", err);
  }

  Status sync_dir(const std::string& path) override {
    const int fd = retry_on_eintr([&] { return ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); });
    if (fd < 0) return io_status(path, "open", errno);
    const int rc = retry_on_eintr([&] { return ::fsync(fd); });
    const int err = errno;
    ::close(fd);
    return rc == 0 ? Status::ok_status() : io_status(path, "fsync", err);
  }

  Status list_dir(const std::string& dir, std::vector<std::string>* names) override {
    names->clear();
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return io_status(dir, "opendir", errno);
    errno = 0;
    while (const dirent* entry = ::readdir(d)) {
      const std::string_view name(entry->d_name);
      if (name != "." && name != "..") names->emplace_back(name);
    }
    const int err = errno;  // readdir returns null with errno unchanged at the end, set on error
    ::closedir(d);
    return err == 0 ? Status::ok_status() : io_status(dir, "readdir", err);
  }

  Status rename_and_sync(const std::string& dir, const std::string& from, const std::string& to) override {
    const std::string from_path = dir + "/" + from;
    if (::rename(from_path.c_str(), (dir + "/" + to).c_str()) != 0) return io_status(from_path, "rename", errno);
    return sync_dir(dir);
  }

  Status remove_file(const std::string& path) override {
    return ::unlink(path.c_str()) == 0 ? Status::ok_status() : io_status(path, "unlink", errno);
  }

  Status truncate_file(const std::string& path, std::uint64_t size) override {
    const int fd = retry_on_eintr([&] { return ::open(path.c_str(), O_WRONLY | O_CLOEXEC); });
    if (fd < 0) return io_status(path, "open", errno);
    Status s;
    if (retry_on_eintr([&] { return ::ftruncate(fd, static_cast<off_t>(size)); }) != 0) {
      s = io_status(path, "ftruncate", errno);
    } else if (retry_on_eintr([&] { return ::fsync(fd); }) != 0) {
      s = io_status(path, "fsync", errno);
    }
    ::close(fd);
    return s;
  }

  Status lock_dir(const std::string& dir, std::unique_ptr<FileLock>* lock) override {
    return FileLock::acquire(dir, lock);
  }
};

}  // namespace

Env* Env::posix() {
  static PosixEnv env;
  return &env;
}

}  // namespace mantis::detail
