// MappedWritableFile: a new file of fixed capacity, with its disk space allocated up front and mapped
// writable (MAP_SHARED), which its writer fills with memory stores instead of write calls: the segments
// of the write-ahead log in the modes that do not sync every write (durability/mapped_log.hpp).
//
// - Space: create() allocates every block (posix_fallocate) before mapping, so a store into the mapping
//   never needs a block the disk cannot give (a store into an unallocated page of a full disk would
//   kill the process with SIGBUS instead of returning an error).
// - Durability: a byte stored into data() is in the page cache at once. It survives the process (a
//   crash, kill -9) but not the machine until sync() returns. The unwritten rest of the file reads as
//   zeros, also after a crash.
// - finish(size) ends the file: unmaps it, cuts it to `size` bytes and fdatasyncs it, so that a
//   finished file is exactly what was written.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include <mantis/status.hpp>

namespace mantis::detail {

// Thread-safe as follows: any number of threads may store into data() (the caller keeps them apart) and
// call sync(), write_back() and prefault() concurrently; finish() REQUIRES that no store or other
// finish() is in flight (sync(), write_back() and prefault() may be: the descriptor stays open until the
// object is destroyed, and the mapping is touched only under mapping_mutex_).
class MappedWritableFile {
 public:
  // Creates `path` (it must not exist), mode 0600, `capacity` bytes long (> 0), allocated and mapped.
  // IOError naming the path and the call that failed; a file this call created is removed again.
  static Status create(const std::string& path, std::uint64_t capacity, std::unique_ptr<MappedWritableFile>* out);

  // Unmaps (if finish() did not) and closes, without syncing.
  ~MappedWritableFile();
  MappedWritableFile(const MappedWritableFile&) = delete;
  MappedWritableFile& operator=(const MappedWritableFile&) = delete;

  // The mapping: capacity() writable bytes. Null after finish(); read it only where finish() cannot run.
  char* data() const noexcept { return data_; }
  std::uint64_t capacity() const noexcept { return capacity_; }
  const std::string& path() const noexcept { return path_; }

  // Makes every byte stored so far durable (fdatasync: it writes back the mapping's dirty pages).
  Status sync();
  // Starts writing back the bytes [offset, offset + length) without waiting (sync_file_range), so that
  // a later sync() has less to wait for, and drops their pages from this process's mapping (they stay
  // in the page cache, dirty until written): resident memory holds only the part being written. For
  // bytes no longer stored into (a store to them would fault the page back in). A hint: errors are left
  // to sync(); after finish() it only starts the write-back. Page-aligned `offset`.
  void write_back(std::uint64_t offset, std::uint64_t length) noexcept;
  // Maps the pages of [offset, offset + length) writable ahead of the stores that will fill them
  // (MADV_POPULATE_WRITE: one call instead of a page fault per page, and no fault in a later store's
  // critical section). A hint: nothing happens where the kernel cannot, or after finish(). Page-aligned
  // `offset`.
  void prefault(std::uint64_t offset, std::uint64_t length) noexcept;
  // Unmaps the file, cuts it to `size` (<= capacity()) bytes and fdatasyncs it. Idempotent only in the
  // sense that a second call fails with IOError (EBADF): the file is done.
  Status finish(std::uint64_t size);

 private:
  MappedWritableFile(std::string path, int fd, char* data, std::uint64_t capacity) noexcept
      : path_(std::move(path)), fd_(fd), data_(data), capacity_(capacity) {}

  // madvise(advice) on the mapped part of [offset, offset + length), under mapping_mutex_; nothing after
  // finish(). Errors ignored: write_back() and prefault() are hints.
  void advise(std::uint64_t offset, std::uint64_t length, int advice) noexcept;

  const std::string path_;
  const int fd_;
  // Guards data_ against finish() while write_back() drops pages or prefault() maps them: once
  // unmapped, the address range may hold another mapping, which madvise() must never touch.
  std::mutex mapping_mutex_;
  char* data_;  // null once finished
  const std::uint64_t capacity_;
};

}  // namespace mantis::detail
