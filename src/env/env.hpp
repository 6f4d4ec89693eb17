// Env: every file-system operation the durability layer performs, behind one interface, so that tests
// can inject faults (env/fault_injection_env.hpp) under unchanged log and snapshot code.
//
// Paths are plain strings (absolute, or relative to the working directory). Every failure is an IOError
// naming the path, the operation and the errno text (e.g. "IOError: /d/wal/000003.log: write: No space
// left on device"); NotFound is never used, so callers test existence with list_dir().
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <mantis/status.hpp>

#include "env/file_lock.hpp"
#include "env/mapped_file.hpp"
#include "env/mapped_writable_file.hpp"
#include "env/writable_file.hpp"

namespace mantis::detail {

// Implementations are thread-safe: any method may be called from any thread (the files they hand out
// are not, see WritableFile).
class Env {
 public:
  virtual ~Env() = default;
  Env(const Env&) = delete;
  Env& operator=(const Env&) = delete;

  // The process-wide POSIX environment. Never null; lives until exit.
  static Env* posix();

  // A new file (it must not exist), mode 0600, open for appending.
  virtual Status new_writable_file(const std::string& path, std::unique_ptr<WritableFile>* file) = 0;
  // An existing (or missing, then created) file, open for appending at its end.
  virtual Status reopen_writable_file(const std::string& path, std::unique_ptr<WritableFile>* file) = 0;
  // A new file (it must not exist) of `capacity` bytes, allocated and mapped writable (see
  // MappedWritableFile). NotSupported from an Env that must see every write as a call (fault injection):
  // the log then writes with write calls (write_ahead_log.hpp).
  virtual Status new_mapped_file(const std::string& path, std::uint64_t capacity,
                                 std::unique_ptr<MappedWritableFile>* file) = 0;
  // The whole file mapped read-only (see MappedFile).
  virtual Status map_file(const std::string& path, std::shared_ptr<const MappedFile>* file) = 0;
  // Creates `path` with mode 0700; OK if it already is a directory.
  virtual Status create_dir(const std::string& path) = 0;
  // fsync on the directory itself, so that entries created, renamed or removed in it are durable.
  virtual Status sync_dir(const std::string& path) = 0;
  // The names in `dir` (not paths), without "." and "..", in no particular order.
  virtual Status list_dir(const std::string& dir, std::vector<std::string>* names) = 0;
  // Atomically replaces `to` with `from` (both in `dir`), then syncs `dir`: after OK the new name is
  // durable. The temp-file-then-rename idiom for the manifest and snapshots.
  virtual Status rename_and_sync(const std::string& dir, const std::string& from, const std::string& to) = 0;
  virtual Status remove_file(const std::string& path) = 0;
  // Cuts `path` to `size` bytes and syncs it (recovery truncating a torn log tail).
  virtual Status truncate_file(const std::string& path, std::uint64_t size) = 0;
  // FileLock::acquire on `dir`: Busy when another holder has it.
  virtual Status lock_dir(const std::string& dir, std::unique_ptr<FileLock>* lock) = 0;

 protected:
  Env() = default;
};

}  // namespace mantis::detail
