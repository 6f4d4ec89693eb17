// SnapshotReader: maps a snapshot file read-only, verifies it, and hands out its entries in key order
// as views into the mapping (so that recovery can point records at them: zero-copy).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <mantis/status.hpp>

#include "env/env.hpp"
#include "env/mapped_file.hpp"

namespace mantis::detail {

// Not thread-safe. The views it hands out stay valid while file() (or a copy of it) lives.
class SnapshotReader {
 public:
  // Maps `path` and verifies all of it before returning: header, every chunk's checksum, the footer, and
  // that keys are strictly ascending. Corruption "<name> offset <N>: <what>" on any damage (`name` is
  // how messages call the file, e.g. "snap-42.snap"); IOError when it cannot be read. Verification
  // reads the file without touching the mapping's pages, so that after open() only what is used
  // becomes resident.
  static Status open(Env* env, const std::string& path, std::string name, std::unique_ptr<SnapshotReader>* out);
  ~SnapshotReader();
  SnapshotReader(const SnapshotReader&) = delete;
  SnapshotReader& operator=(const SnapshotReader&) = delete;

  // The LSN of the last write the snapshot holds (from the file header).
  std::uint64_t lsn() const noexcept;
  std::uint64_t entries() const noexcept;
  const std::shared_ptr<const MappedFile>& file() const noexcept;

  // The highest seq of any record in the file.
  std::uint64_t max_seq() const noexcept;

  // The next entry in key order: its key, its Record's flatbuffer bytes (8-byte aligned in memory), both
  // views into the mapping, the record's expires_at_ms (kept beside the key in the file) and its value's
  // size (noted while verifying, 4 bytes per entry held until the reader goes), so that a loader can
  // skip expired entries and account for the rest without touching a record's page. False after the
  // last entry.
  bool next(std::string_view* key, std::string_view* record, std::uint64_t* expires_at_ms, std::uint32_t* value_size);

 private:
  struct State;
  explicit SnapshotReader(std::unique_ptr<State> state) noexcept;
  std::unique_ptr<State> state_;
};

}  // namespace mantis::detail
