// Record: the immutable, reference-counted encoding of one stored value.
//
// Layout: an 8-byte header {refs, size} followed by a flatbuffers `mantis.fbs.Record` (record.fbs)
// holding the value bytes, expires_at_ms and seq. A record is encoded once per write and never changed:
// a new value, or a new TTL, is a new record that replaces the old one atomically.
//
// Ownership: whoever creates a record holds one reference; the store keeps it while the record is a
// key's current value, and retires it through RCU when replaced or removed; every pinned ValueView
// holds one more. The last unref() frees it.
//
// Mapped records (recovery): the flatbuffer stays where it is, in a read-only mapping of a snapshot
// file, and the record is a 24-byte header {refs, size | kMappedBit, bytes, backing}. Each mapped record
// holds a reference on its RecordBacking, which keeps the mapping alive; so a mapping lives exactly as
// long as any record (in the store, a view or a scan batch) points into it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "store/record_generated.h"
#include "util/ref_count.hpp"

namespace mantis::detail {

// Keeps alive the memory that mapped records point into (a snapshot mapping): one reference per mapped
// record, plus its creator's. Thread-safe. Not copyable.
class RecordBacking {
 public:
  // A backing holding `memory` (whatever owns the mapped bytes) with one reference, or nullptr when
  // memory is exhausted.
  static RecordBacking* create(std::shared_ptr<const void> memory) noexcept;
  void ref() noexcept { refs_.ref(); }
  // Drops a reference; the last one releases `memory`.
  static void unref(RecordBacking* backing) noexcept;

  RecordBacking(const RecordBacking&) = delete;
  RecordBacking& operator=(const RecordBacking&) = delete;

 private:
  explicit RecordBacking(std::shared_ptr<const void> memory) noexcept : memory_(std::move(memory)) {}
  ~RecordBacking() = default;

  RefCount refs_;
  std::shared_ptr<const void> memory_;
};

class Record {
 public:
  // A new record with one reference, or nullptr when memory is exhausted. Thread-safe.
  static Record* create(std::string_view value, std::uint64_t expires_at_ms, std::uint64_t seq) noexcept;
  // A new record holding a copy of `encoded`, flatbuffer bytes that verify() accepted (a log record's
  // body), or nullptr when memory is exhausted. Thread-safe.
  static Record* copy_of(std::string_view encoded) noexcept;
  // A new record whose bytes are `encoded` in place (8-byte aligned, verified, inside the memory
  // `backing` keeps alive), holding a reference on `backing`; nullptr when memory is exhausted.
  static Record* mapped(std::string_view encoded, RecordBacking* backing) noexcept;
  // True when `encoded` is a well-formed Record flatbuffer (bounds-checked: safe on any bytes).
  static bool verify(std::string_view encoded) noexcept;
  // What expire (expires_at_ms > 0) or persist (0) makes of `current`: a new record with the same value,
  // this expiry and `seq`; or `current` itself when persisting a record that has no expiry. nullptr when
  // memory is exhausted. The engine and log replay both use it, so both make the same record.
  static Record* with_expiry(const Record& current, std::uint64_t expires_at_ms, std::uint64_t seq) noexcept {
    if (expires_at_ms == 0 && current.expires_at_ms() == 0) return const_cast<Record*>(&current);
    return create(current.value(), expires_at_ms, seq);
  }

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
  std::string_view encoded() const noexcept { return {reinterpret_cast<const char*>(bytes()), size_ & ~kMappedBit}; }

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

  static constexpr std::uint32_t kMappedBit = std::uint32_t{1} << 31;  // sizes stay below 2 GiB
  // What follows the header of a mapped record.
  struct MappedPart {
    const std::uint8_t* bytes;
    RecordBacking* backing;
  };

  bool is_mapped() const noexcept { return (size_ & kMappedBit) != 0; }
  MappedPart& mapped_part() const noexcept { return *reinterpret_cast<MappedPart*>(const_cast<Record*>(this) + 1); }
  const std::uint8_t* bytes() const noexcept {
    return is_mapped() ? mapped_part().bytes : reinterpret_cast<const std::uint8_t*>(this + 1);
  }
  const fbs::Record* table() const noexcept { return flatbuffers::GetRoot<fbs::Record>(bytes()); }

  RefCount refs_;
  std::uint32_t size_;  // the flatbuffer's size, | kMappedBit for a mapped record
};
static_assert(sizeof(Record) == 8, "the flatbuffer follows an 8-byte header, so it starts 8-aligned");

}  // namespace mantis::detail
