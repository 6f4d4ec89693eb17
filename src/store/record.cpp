#include "store/record.hpp"

#include <cstring>
#include <memory>
#include <new>
#include <utility>
#include <vector>

#include "util/memory.hpp"

namespace mantis::detail {
namespace {

// Lets the flatbuffers builder grow its buffer through mantis's allocator.
class BuilderAllocator final : public flatbuffers::Allocator {
 public:
  std::uint8_t* allocate(std::size_t size) override {
    void* p = detail::allocate(size);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<std::uint8_t*>(p);
  }
  void deallocate(std::uint8_t* p, std::size_t) override { detail::deallocate(p); }
};

// Builders (and copies) larger than this are released after use instead of being kept by the thread.
constexpr std::size_t kKeptBuilderBytes = 256u << 10;

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
  if (aligned.capacity() * sizeof(std::uint64_t) > kKeptBuilderBytes) aligned = {};  // as for builders
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

std::string_view Record::encoded(std::string* scratch) const {
  static BuilderAllocator builder_allocator;
  thread_local flatbuffers::FlatBufferBuilder builder(1024, &builder_allocator);
  try {
    builder.Clear();
    const std::string_view bytes = value();
    // 8-byte alignment of the value bytes, so values that are flatbuffers themselves read aligned where
    // the encoding is mapped (snapshots).
    builder.ForceVectorAlignment(bytes.size(), 1, 8);
    const auto vector = builder.CreateVector(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    builder.Finish(fbs::CreateRecord(builder, vector, expires_at_ms(), seq()));
    scratch->assign(reinterpret_cast<const char*>(builder.GetBufferPointer()), builder.GetSize());
  } catch (const std::bad_alloc&) {
    builder.Reset();
    throw;
  }
  if (builder.GetSize() > kKeptBuilderBytes) builder.Reset();
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
