#include "store/record.hpp"

#include <bit>
#include <cstring>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "util/memory.hpp"

namespace mantis::detail {
namespace {

// Aligned copies larger than this are released after use instead of being kept by the thread.
constexpr std::size_t kKeptCopyBytes = 256u << 10;

}  // namespace

Record* Record::create(std::string_view value, std::uint64_t expires_at_ms, std::uint64_t seq) noexcept {
  if (value.size() >= kMappedBit) return nullptr;
  void* memory = detail::allocate(sizeof(Record) + value.size());
  if (memory == nullptr) return nullptr;
  auto* record = new (memory) Record;
  record->size_ = static_cast<std::uint32_t>(value.size());
  record->fields_.own = {expires_at_ms, seq};
  if (!value.empty()) std::memcpy(static_cast<char*>(memory) + sizeof(Record), value.data(), value.size());
  return record;
}

Record* Record::from_encoded(std::string_view encoded) noexcept {
  // A log record carries the flatbuffer at any offset: read it from an 8-aligned copy if need be.
  thread_local std::vector<std::uint64_t, Allocator<std::uint64_t>> aligned;
  if (reinterpret_cast<std::uintptr_t>(encoded.data()) % alignof(std::uint64_t) != 0) {
    try {
      aligned.resize((encoded.size() + sizeof(std::uint64_t) - 1) / sizeof(std::uint64_t));
    } catch (const std::bad_alloc&) {
      return nullptr;
    }
    std::memcpy(aligned.data(), encoded.data(), encoded.size());
    encoded = {reinterpret_cast<const char*>(aligned.data()), encoded.size()};
  }
  const auto* table = flatbuffers::GetRoot<fbs::Record>(encoded.data());
  const auto* bytes = table->value();
  const std::string_view value = bytes == nullptr
                                     ? std::string_view()
                                     : std::string_view(reinterpret_cast<const char*>(bytes->data()), bytes->size());
  Record* record = create(value, table->expires_at_ms(), table->seq());
  if (aligned.capacity() * sizeof(std::uint64_t) > kKeptCopyBytes) aligned = {};
  return record;
}

Record* Record::mapped(std::string_view encoded, std::size_t value_size, std::uint64_t expires_at_ms,
                       RecordBacking* backing) noexcept {
  if (value_size >= kMappedBit) return nullptr;
  void* memory = detail::allocate(sizeof(Record) + sizeof expires_at_ms);
  if (memory == nullptr) return nullptr;
  auto* record = new (memory) Record;
  record->size_ = static_cast<std::uint32_t>(value_size) | kMappedBit;
  record->fields_.mapped = {reinterpret_cast<const std::uint8_t*>(encoded.data()), backing};
  std::memcpy(static_cast<char*>(memory) + sizeof(Record), &expires_at_ms, sizeof expires_at_ms);
  backing->ref();
  return record;
}

// The flatbuffer of record.fbs, laid out by hand: exactly the bytes flatbuffers::FlatBufferBuilder
// makes of it (record_test compares them, for every shape and many sizes), in a tenth of its time
// (bench/record_bench BM_RecordEncode: 113 -> 9 ns for a 100-byte value). The builder leaves out
// scalar fields equal to their default (0) and trims the vtable after the last present one, so there
// are four shapes, by which of expires_at_ms and seq are set:
//   offset 0        u32  the table's offset (`table`: 12 with no scalar field, else 16)
//   4 .. vtable     zeros
//   vtable          u16  vtable bytes (4 + 2 per field entry), u16 table bytes, u16 4 (value), then
//                   u16 8 (expires_at_ms, when it or seq is set; 0 when only seq is), u16 seq's offset
//                   (when seq is set: 16 after expires_at_ms, else 8)
//   table           s32  table - vtable, u32 from here to the value's length, u64 expires_at_ms and
//                   u64 seq (those set), 4 zero bytes when any scalar is set
//   length          u32  the value's size; then the value, 8-byte aligned, zero-padded to 8 bytes.
std::string_view Record::encoded(std::string* scratch) const {
  static_assert(std::endian::native == std::endian::little, "flatbuffers are little-endian");
  const std::string_view bytes = value();
  const std::uint64_t expires = expires_at_ms();
  const std::uint64_t sequence = seq();
  const std::size_t scalars = (expires != 0 ? 1 : 0) + (sequence != 0 ? 1 : 0);
  const std::size_t entries = sequence != 0 ? 3 : (expires != 0 ? 2 : 1);
  const std::uint16_t vtable_bytes = static_cast<std::uint16_t>(4 + 2 * entries);
  const std::uint16_t table_bytes = static_cast<std::uint16_t>(8 + 8 * scalars + (scalars != 0 ? 4 : 0));
  const std::size_t table = scalars == 0 ? 12 : 16;
  const std::size_t vtable = table - vtable_bytes;
  const std::size_t length = table + table_bytes;
  const std::size_t size = length + 4 + (bytes.size() + 7) / 8 * 8;
  scratch->assign(size, '\0');
  char* out = scratch->data();
  auto put16 = [out](std::size_t at, std::uint16_t v) { std::memcpy(out + at, &v, sizeof v); };
  auto put32 = [out](std::size_t at, std::uint32_t v) { std::memcpy(out + at, &v, sizeof v); };
  auto put64 = [out](std::size_t at, std::uint64_t v) { std::memcpy(out + at, &v, sizeof v); };
  put32(0, static_cast<std::uint32_t>(table));
  put16(vtable, vtable_bytes);
  put16(vtable + 2, table_bytes);
  put16(vtable + 4, 4);
  if (entries >= 2) put16(vtable + 6, expires != 0 ? 8 : 0);
  if (entries == 3) put16(vtable + 8, expires != 0 ? 16 : 8);
  put32(table, static_cast<std::uint32_t>(table - vtable));
  put32(table + 4, static_cast<std::uint32_t>(length - (table + 4)));
  std::size_t scalar = table + 8;
  if (expires != 0) {
    put64(scalar, expires);
    scalar += 8;
  }
  if (sequence != 0) put64(scalar, sequence);
  put32(length, static_cast<std::uint32_t>(bytes.size()));
  if (!bytes.empty()) std::memcpy(out + length + 4, bytes.data(), bytes.size());
  return *scratch;
}

bool Record::verify(std::string_view encoded) noexcept {
  if (encoded.size() >= kMappedBit) return false;
  flatbuffers::Verifier verifier(reinterpret_cast<const std::uint8_t*>(encoded.data()), encoded.size(),
                                 flatbuffers::Verifier::Options{});
  return verifier.VerifyBuffer<fbs::Record>(nullptr);
}

void Record::destroy(Record* record) noexcept {
  RecordBacking* backing = record->is_mapped() ? record->fields_.mapped.backing : nullptr;
  record->~Record();
  detail::deallocate(record);
  if (backing != nullptr) RecordBacking::unref(backing);
}

RecordBacking* RecordBacking::create(std::shared_ptr<const void> memory) noexcept {
  void* bytes = detail::allocate(sizeof(RecordBacking));
  if (bytes == nullptr) return nullptr;
  return new (bytes) RecordBacking(std::move(memory));
}

void RecordBacking::unref(RecordBacking* backing) noexcept {
  if (!backing->refs_.unref()) return;
  backing->~RecordBacking();
  detail::deallocate(backing);
}

}  // namespace mantis::detail
