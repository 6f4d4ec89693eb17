// Record: the immutable, reference-counted form of one stored value.
//
// In memory a record is a 24-byte header {refs, value size, expires_at_ms, seq} followed by the value
// bytes (8-byte aligned): one allocation, no framing, so a 100-byte value takes a 128-byte size class.
// On disk (the write-ahead log's puts, snapshots) a record is a flatbuffers `mantis.fbs.Record`
// (record.fbs) with the same three fields: encoded() produces it, from_encoded() reads it back. A record
// is made once per write and never changed: a new value, or a new TTL, is a new record that replaces
// the old one atomically.
//
// Ownership: whoever creates a record holds one reference; the store keeps it while the record is a
// key's current value, and retires it through RCU when replaced or removed; every pinned ValueView
// holds one more. The last unref() frees it.
//
// Mapped records (recovery): the flatbuffer stays where it is, in a read-only mapping of a snapshot
// file, and the record is a 24-byte header {refs, value size | kMappedBit, bytes, backing} followed by
// its expiry (a 32-byte size class); its value and seq are read from the flatbuffer, so values are never
// copied. The value size and expiry are kept in the header because replacing, erasing or expiring a
// record reads them (for the store's counters), and reading them from the flatbuffer would bring in the
// record's page of the mapping: that read took half the time of replaying a log of overwrites over a
// snapshot. Each mapped record holds a reference on its RecordBacking, which keeps the mapping alive; so
// a mapping lives exactly as long as any record (in the store, a view or a scan batch) points into it.
#pragma once

#include <cassert>
#include <cstddef>
#include <cstdint>
#include <cstring>
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
  // A new record with the fields of `encoded`, flatbuffer bytes that verify() accepted (a log record's
  // body, at any alignment), or nullptr when memory is exhausted. Thread-safe.
  static Record* from_encoded(std::string_view encoded) noexcept;
  // A new record whose bytes are `encoded` in place (8-byte aligned, verified, inside the memory
  // `backing` keeps alive), holding a reference on `backing`; nullptr when memory is exhausted, or when
  // value_size is not below 2 GiB. value_size and expires_at_ms are the flatbuffer's (as a snapshot's
  // verification noted them), given so that creating the record reads nothing of `encoded`.
  static Record* mapped(std::string_view encoded, std::size_t value_size, std::uint64_t expires_at_ms,
                        RecordBacking* backing) noexcept;
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
    if (!is_mapped()) [[likely]]
      return {reinterpret_cast<const char*>(this + 1), size_};
    const auto* bytes = table()->value();
    if (bytes == nullptr) return {};
    return {reinterpret_cast<const char*>(bytes->data()), bytes->size()};
  }
  // value().size(), without reading a mapped record's bytes.
  std::size_t value_size() const noexcept { return size_ & ~kMappedBit; }
  // 0 = never expires.
  std::uint64_t expires_at_ms() const noexcept { return is_mapped() ? mapped_expiry() : fields_.own.expires_at_ms; }
  std::uint64_t seq() const noexcept { return is_mapped() ? table()->seq() : fields_.own.seq; }
  // Sets the sequence number of a record create() made, for a write that makes its records before it
  // takes its numbers. REQUIRES: no other thread can reach the record yet (never published, one
  // reference).
  void set_unpublished_seq(std::uint64_t seq) noexcept {
    assert(!is_mapped());
    fields_.own.seq = seq;
  }
  // True when the record has a TTL that has passed at `now_ms` (expired from that millisecond on).
  bool expired_at(std::uint64_t now_ms) const noexcept {
    const std::uint64_t at = expires_at_ms();
    return at != 0 && now_ms >= at;
  }
  // The flatbuffer bytes (what a log or snapshot stores), encoded into *scratch (replacing its contents;
  // a mapped record is encoded anew too, as its header does not keep its flatbuffer's size). Throws
  // std::bad_alloc.
  std::string_view encoded(std::string* scratch) const;

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
  Record() noexcept = default;
  ~Record() = default;
  static void destroy(Record* record) noexcept;

  static constexpr std::uint32_t kMappedBit = std::uint32_t{1} << 31;  // sizes stay below 2 GiB

  bool is_mapped() const noexcept { return (size_ & kMappedBit) != 0; }
  // A mapped record's expiry, stored after its header.
  std::uint64_t mapped_expiry() const noexcept {
    std::uint64_t expires_at_ms;
    std::memcpy(&expires_at_ms, this + 1, sizeof expires_at_ms);
    return expires_at_ms;
  }
  const fbs::Record* table() const noexcept { return flatbuffers::GetRoot<fbs::Record>(fields_.mapped.bytes); }

  RefCount refs_;
  std::uint32_t size_ = 0;  // the value's size; | kMappedBit for a mapped record
  union Fields {
    struct Own {  // a record in memory; the value bytes follow the header
      std::uint64_t expires_at_ms;
      std::uint64_t seq;
    } own;
    struct Mapped {  // a mapped record: its flatbuffer, and what keeps it mapped
      const std::uint8_t* bytes;
      RecordBacking* backing;
    } mapped;
  } fields_{};
};
static_assert(sizeof(Record) == 24, "the value follows a 24-byte header, so it starts 8-aligned");

}  // namespace mantis::detail
