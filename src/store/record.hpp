// Record: the immutable, reference-counted encoding of one stored value.
//
// Layout: an 8-byte header {refs, size} followed by a flatbuffers `mantis.fbs.Record` (record.fbs)
// holding the value bytes, expires_at_ms and seq. A record is encoded once per write and never changed:
// a new value, or a new TTL, is a new record that replaces the old one atomically.
//
// Ownership: whoever creates a record holds one reference; the store keeps it while the record is a
// key's current value, and retires it through RCU when replaced or removed; every pinned ValueView
// holds one more. The last unref() frees it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "store/record_generated.h"
#include "util/ref_count.hpp"

namespace mantis::detail {

class Record {
 public:
  // A new record with one reference, or nullptr when memory is exhausted. Thread-safe.
  static Record* create(std::string_view value, std::uint64_t expires_at_ms, std::uint64_t seq) noexcept;

  std::string_view value() const noexcept {
    const auto* bytes = table()->value();
    if (bytes == nullptr) return {};
    return {reinterpret_cast<const char*>(bytes->data()), bytes->size()};
  }
  // 0 = never expires.
  std::uint64_t expires_at_ms() const noexcept { return table()->expires_at_ms(); }
  std::uint64_t seq() const noexcept { return table()->seq(); }
  // True when the record has a TTL that has passed at `now_ms` (expired from that millisecond on).
  bool expired_at(std::uint64_t now_ms) const noexcept {
    const std::uint64_t at = expires_at_ms();
    return at != 0 && now_ms >= at;
  }
  // The flatbuffer bytes (what a log or snapshot stores).
  std::string_view encoded() const noexcept { return {reinterpret_cast<const char*>(this + 1), size_}; }

  // Adds a reference. REQUIRES: the caller already holds a reference or is inside an RCU read-side
  // critical section in which the record was reachable.
  void ref() noexcept { refs_.ref(); }
  // Drops a reference and frees the record at zero.
  static void unref(Record* record) noexcept {
    if (record->refs_.unref()) destroy(record);
  }
  // unref() in the signature that RCU retire and ValueView unpinning take.
  static void unref_opaque(void* record) noexcept { unref(static_cast<Record*>(record)); }

  Record(const Record&) = delete;
  Record& operator=(const Record&) = delete;

 private:
  explicit Record(std::uint32_t size) noexcept : size_(size) {}
  ~Record() = default;
  static void destroy(Record* record) noexcept;

  const fbs::Record* table() const noexcept {
    return flatbuffers::GetRoot<fbs::Record>(reinterpret_cast<const std::uint8_t*>(this + 1));
  }

  RefCount refs_;
  std::uint32_t size_;
};
static_assert(sizeof(Record) == 8, "the flatbuffer follows an 8-byte header, so it starts 8-aligned");

}  // namespace mantis::detail
