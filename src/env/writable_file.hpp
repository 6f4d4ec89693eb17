// WritableFile: an append-only file, the way the write-ahead log and snapshot writers see the disk.
//
// Every method reports failure as an IOError naming the path, the operation and the errno text. After a
// failed append the file may hold a prefix of the data; callers treat the file as broken from then on.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <mantis/status.hpp>

namespace mantis::detail {

// Not thread-safe: one writer at a time (the log's group-commit leader).
class WritableFile {
 public:
  virtual ~WritableFile() = default;
  WritableFile(const WritableFile&) = delete;
  WritableFile& operator=(const WritableFile&) = delete;

  // Appends all of `data` (retrying short writes and EINTR).
  virtual Status append(std::string_view data) = 0;
  // Makes every appended byte durable (fdatasync).
  virtual Status sync() = 0;
  // Reserves disk space for `bytes` more bytes past the current size without changing the size, so that
  // later appends need fewer metadata updates. Best effort: file systems without support return OK.
  virtual Status preallocate(std::uint64_t bytes) = 0;
  // Closes the descriptor (without syncing). Idempotent; the destructor closes too, ignoring errors.
  virtual Status close() = 0;
  // Bytes in the file: its size when opened plus everything appended since.
  virtual std::uint64_t size() const noexcept = 0;
  virtual const std::string& path() const noexcept = 0;

 protected:
  WritableFile() = default;
};

// The POSIX implementation. `create_new`: the file must not exist yet (O_EXCL), mode 0600; otherwise an
// existing file is opened for appending at its end (a missing one is created). On success *file owns the
// descriptor.
Status open_posix_writable_file(const std::string& path, bool create_new, std::unique_ptr<WritableFile>* file);

}  // namespace mantis::detail
