// mantis::Snapshot: a consistent, point-in-time view of an Engine, and ReadOptions to read through one.
#pragma once

#include <cstdint>

#include <mantis/export.h>

namespace mantis {

namespace detail {
class Versioning;
}  // namespace detail

// A key's version: the sequence number of the write that gave the key its current value (a put, a
// conditional put, an increment, or an expire/persist that rewrote its TTL). Every write gets a new one,
// unique across the engine and kept across recovery, so a version names exactly one value of a key;
// a key's versions increase in the order its writes are applied. 0 is never a version: as an expected
// version it means "the key is absent".
using Version = std::uint64_t;

// A snapshot of an Engine (Engine::snapshot()): reads through it see exactly the writes with version
// <= version(), across all keys, for as long as it lives, and none after; a key with a TTL is expired
// at the snapshot if it was expired at the moment the snapshot was taken. A batch or a transaction's
// commit is seen whole or not at all. Move-only; destroying it (or reset()) releases what it holds.
// REQUIRES: released before its engine is destroyed. Not thread-safe itself (one owner), but any number
// of threads may read through one snapshot concurrently while its owner keeps it.
class MANTIS_EXPORT Snapshot {
 public:
  Snapshot() noexcept = default;  // empty: valid() is false
  Snapshot(Snapshot&& other) noexcept;
  Snapshot& operator=(Snapshot&& other) noexcept;
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  ~Snapshot();

  bool valid() const noexcept { return owner_ != nullptr; }
  // Every write with a version <= this one is visible through the snapshot. REQUIRES: valid().
  Version version() const noexcept { return version_; }
  // Releases the snapshot now; valid() becomes false.
  void reset() noexcept;

 private:
  friend class Engine;
  friend class Transaction;
  Snapshot(detail::Versioning* owner, Version version, std::uint64_t time_ms) noexcept
      : owner_(owner), version_(version), time_ms_(time_ms) {}

  detail::Versioning* owner_ = nullptr;
  Version version_ = 0;
  std::uint64_t time_ms_ = 0;  // the wall-clock millisecond at which expiry is judged
};

struct ReadOptions {
  // Default: nullptr = read the latest state. Otherwise read at this snapshot, which must be valid and
  // taken from the same engine (InvalidArgument otherwise).
  const Snapshot* snapshot = nullptr;
};

}  // namespace mantis
