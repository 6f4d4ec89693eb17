// ScanBatch: a run of consecutive entries copied out of the store in one RCU critical section, so that
// scans and iterators hand entries to the caller with no lock held.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/record.hpp"
#include "util/memory.hpp"

namespace mantis::detail {

// Keys are copied; each entry pins its record (one reference) until clear() or destruction, so values
// stay valid whatever writers do meanwhile. Not thread-safe. Not copyable.
class ScanBatch {
 public:
  ScanBatch() = default;
  ScanBatch(const ScanBatch&) = delete;
  ScanBatch& operator=(const ScanBatch&) = delete;
  ~ScanBatch() { clear(); }

  // REQUIRES: the caller holds a reference on `record` for the batch (see Record::ref()).
  void add(std::string_view key, Record* record) {
    entries_.push_back(Entry{keys_.size(), key.size(), record});
    keys_.append(key);
  }
  // Makes room for `entries` entries with keys of `key_bytes` in all, so that filling the batch does
  // not reallocate as it grows.
  void reserve(std::size_t entries, std::size_t key_bytes) {
    entries_.reserve(entries);
    keys_.reserve(key_bytes);
  }
  void clear() noexcept {
    for (const Entry& e : entries_) Record::unref(e.record);
    entries_.clear();
    keys_.clear();
  }

  std::size_t size() const noexcept { return entries_.size(); }
  bool empty() const noexcept { return entries_.empty(); }
  std::string_view key(std::size_t i) const noexcept {
    return {keys_.data() + entries_[i].key_offset, entries_[i].key_size};
  }
  const Record& record(std::size_t i) const noexcept { return *entries_[i].record; }
  // Makes `record` (one reference, the batch's now) entry i's record, dropping the old one's.
  void replace_record(std::size_t i, Record* record) noexcept {
    Record::unref(std::exchange(entries_[i].record, record));
  }
  // True when the store had no more entries in range after this batch.
  bool exhausted = false;
  // The last key the store visited for this batch (entries skipped as expired included): the next
  // batch starts after it. Meaningful when !exhausted.
  std::string_view resume_key() const noexcept { return resume_key_; }
  void set_resume_key(std::string_view key) { resume_key_.assign(key); }

 private:
  struct Entry {
    std::size_t key_offset;
    std::size_t key_size;
    Record* record;
  };
  std::basic_string<char, std::char_traits<char>, Allocator<char>> keys_;
  std::basic_string<char, std::char_traits<char>, Allocator<char>> resume_key_;
  std::vector<Entry, Allocator<Entry>> entries_;
};

}  // namespace mantis::detail
