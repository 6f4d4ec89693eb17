// Reads at a snapshot: the store first, then the history (Versioning, V3), each key's state judged
// for expiry at the snapshot's time.
#pragma once

#include <cstddef>
#include <string_view>

#include "mvcc/versioning.hpp"
#include "store/scan_batch.hpp"
#include "store/store.hpp"

namespace mantis::detail {

// Thread-safe (reads only). REQUIRES: the snapshot `at` is live for the whole call.
class SnapshotReads {
 public:
  SnapshotReads(const Store& store, const History& history, Versioning::Held at) noexcept
      : store_(store), history_(history), at_(at) {}

  // Calls fn(const Record&) if the key was present and unexpired at the snapshot. Returns whether it
  // did. fn runs inside an RCU critical section and may ref() the record to keep it.
  template <class Fn>
  bool get(std::string_view key, Fn&& fn) const {
    RcuReadLock section;  // keeps the store's record allocated after read_any() returns (store.hpp I5)
    const Record* current = nullptr;
    store_.read_any(key, [&current](const Record& record) { current = &record; });
    // A record that began at or before the version is the key's state at it: every write numbered up
    // to the version is applied (V2), and a write after it would have replaced the record (with a
    // larger number) or removed it. Otherwise the history knows, or no write after the version
    // touched the key and `current` is absent at it too (V3).
    History::State past;
    if (current == nullptr || current->seq() > at_.version) past = history_.state_at(key, at_.version);
    const Record* record = past.known ? past.record : current;
    const bool found = record != nullptr && !record->expired_at(at_.time_ms);
    if (found) fn(*record);
    if (past.record != nullptr) Record::unref(past.record);
    return found;
  }

  // Fills `batch` (cleared first) with up to about `limit` entries present at the snapshot, in key
  // order, from `start` (after it when !inclusive) below `end` when `bounded`, each pinning its record;
  // sets batch.exhausted, or batch.resume_key() to resume after. Throws std::bad_alloc.
  void collect(std::string_view start, bool inclusive, std::string_view end, bool bounded, std::size_t limit,
               ScanBatch& batch) const;

 private:
  const Store& store_;
  const History& history_;
  const Versioning::Held at_;
};

}  // namespace mantis::detail
