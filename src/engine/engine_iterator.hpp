// EngineIterator: mantis::Iterator over the store, or over a snapshot of it, fed by ScanBatch refills.
#pragma once

#include <cassert>
#include <cstddef>
#include <optional>
#include <string>

#include <mantis/iterator.hpp>
#include "mvcc/snapshot_reads.hpp"
#include "store/scan_batch.hpp"
#include "store/store.hpp"

namespace mantis::detail {

// Copies kBatchEntries entries at a time out of the store in one RCU critical section, then serves
// them with no lock held; the next refill seeks past the last key served. An entry whose record has
// expired by the time it would be served is read again (a write may have kept the key alive), and
// skipped if the key is absent now. At a snapshot, refills read at the snapshot
// (SnapshotReads), and expiry is the snapshot's.
class EngineIterator final : public Iterator {
 public:
  static constexpr std::size_t kBatchEntries = 64;
  static_assert(kBatchEntries <= Store::kMaxCollect, "a refill is one collect() call");

  explicit EngineIterator(const Store& store, std::optional<SnapshotReads> at = std::nullopt)
      : store_(store), at_(at) {}

  bool valid() const override { return index_ < batch_.size(); }
  void seek_to_first() override { refill({}, /*inclusive=*/true); }
  void seek(std::string_view target) override { refill(target, /*inclusive=*/true); }
  void next() override;
  std::string_view key() const override {
    assert(valid());
    return batch_.key(index_);
  }
  std::string_view value() const override {
    assert(valid());
    return batch_.record(index_).value();
  }
  Status status() const override { return Status::ok_status(); }

 private:
  void refill(std::string_view from, bool inclusive);
  // Moves forward from index_ to the first unexpired entry, refilling as needed.
  void settle();
  // Entry i's record expired: makes the key's live record its record and returns true, or returns
  // false if the key is absent or expired now.
  bool reread(std::size_t i);

  // One refill from `from` (after it when !inclusive).
  void collect(std::string_view from, bool inclusive);

  const Store& store_;
  const std::optional<SnapshotReads> at_;
  ScanBatch batch_;
  std::size_t index_ = 0;
  std::string resume_key_;
};

}  // namespace mantis::detail
