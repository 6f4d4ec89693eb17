// MappedFile: a whole file mapped read-only, for the log reader and (later) for snapshots whose records
// point into the mapping.
//
// Ownership: hand it out as std::shared_ptr<const MappedFile>; whoever points into data() keeps a copy
// of that pointer, and the last copy unmaps. The file's bytes must not be truncated while mapped (a read
// past the new end would fault); mantis only maps files it no longer writes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <mantis/status.hpp>

namespace mantis::detail {

// Immutable after open: safe for concurrent readers without synchronization.
class MappedFile {
 public:
  // Maps `path` as it is now. An empty file maps to an empty view (mmap cannot map zero bytes).
  // IOError naming the path when it cannot be opened, stat'ed or mapped.
  static Status open(const std::string& path, std::shared_ptr<const MappedFile>* file);

  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  // Unmaps from this process every page of the file it has touched (madvise MADV_DONTNEED on a shared,
  // read-only mapping): data() stays valid and the bytes stay the same; a page read later is mapped
  // again from the page cache (or read from the file). For after a pass that read much of the mapping
  // and will not come back to it, so that resident memory holds only what is read later. A hint:
  // failures are ignored.
  void release_pages() const noexcept;

  // The file's bytes; valid while this object lives.
  std::string_view data() const noexcept { return {data_, size_}; }
  std::uint64_t size() const noexcept { return size_; }
  const std::string& path() const noexcept { return path_; }

 private:
  MappedFile(std::string path, const char* data, std::size_t size) noexcept
      : path_(std::move(path)), data_(data), size_(size) {}

  const std::string path_;
  const char* const data_;
  const std::size_t size_;
};

}  // namespace mantis::detail
