// LogWriter: appends logical records to one log segment in the framing of log_format.hpp.
//
// Records are framed into an internal buffer and handed to the file with one append per call, so a
// group-commit leader passes its whole group to add_records() and pays one write (and, if asked, one
// sync) for all of it. The writer continues the block layout of an existing file from its current size,
// so a segment reopened for appending stays readable.
//
// Errors are sticky: after a failed append the file may end in a torn fragment and the writer no longer
// knows its block position, so every later call returns that first IOError. The caller starts a new
// segment (or, in the engine, refuses writes until reopened).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include <mantis/status.hpp>

#include "env/writable_file.hpp"

namespace mantis::detail {

// Not thread-safe: one writer (the group-commit leader) at a time.
class LogWriter {
 public:
  // Owns `file`. REQUIRES: segment <= kMaxLogSegmentNumber (log_format.hpp).
  LogWriter(std::unique_ptr<WritableFile> file, std::uint64_t segment);
  LogWriter(const LogWriter&) = delete;
  LogWriter& operator=(const LogWriter&) = delete;

  // Appends one logical record (any size, empty included). IOError from the file, or the sticky error.
  Status add_record(std::string_view payload);
  // Appends several records with one write, in order. On an error none of them may be acknowledged,
  // yet the file may hold some of them, whole or torn: recovery replays the whole ones, as it may any
  // write in flight at a crash, and drops the torn one.
  Status add_records(std::span<const std::string_view> payloads);
  // Makes everything appended so far durable (fdatasync). IOError, or the sticky error.
  Status sync();
  // Closes the file (without syncing). The writer accepts no more records afterwards.
  Status close();

  std::uint64_t segment() const noexcept { return segment_; }
  // Bytes in the segment file so far.
  std::uint64_t size() const noexcept { return file_->size(); }
  const std::string& path() const noexcept { return file_->path(); }

 private:
  const std::unique_ptr<WritableFile> file_;
  const std::uint64_t segment_;
  std::size_t block_offset_;  // bytes used in the current block
  std::string buffer_;        // framed bytes of the current call; kept for its capacity
  Status error_;              // the first failure, returned from then on
};

}  // namespace mantis::detail
