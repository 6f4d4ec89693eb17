// SnapshotWriter: writes the store's entries, in key order, to snap-<lsn>.snap (snapshot_format.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <mantis/status.hpp>

#include "env/env.hpp"

namespace mantis::detail {

// Not thread-safe: one checkpoint writes one snapshot.
class SnapshotWriter {
 public:
  // Starts <dir>/snap-<lsn>.snap.tmp (removing one left over by a crash). IOError naming the file.
  static Status create(Env* env, const std::string& dir, std::uint64_t lsn, std::unique_ptr<SnapshotWriter>* out);
  // Removes the temporary file unless finish() succeeded.
  ~SnapshotWriter();
  SnapshotWriter(const SnapshotWriter&) = delete;
  SnapshotWriter& operator=(const SnapshotWriter&) = delete;

  // Adds one entry. `record` is a Record's flatbuffer bytes, `expires_at_ms` its expiry (0 = none).
  // REQUIRES: keys strictly ascending. IOError from the file (sticky).
  Status add(std::string_view key, std::string_view record, std::uint64_t expires_at_ms);
  // Writes what is buffered and the footer, fdatasyncs, renames the file to snap-<lsn>.snap and syncs
  // the directory: after OK the snapshot is durable under its final name.
  Status finish();

  std::uint64_t entries() const noexcept;
  // Bytes written so far (the file's size after finish()).
  std::uint64_t bytes() const noexcept;

 private:
  struct State;
  explicit SnapshotWriter(std::unique_ptr<State> state) noexcept;
  std::unique_ptr<State> state_;
};

}  // namespace mantis::detail
