#include "store/record.hpp"

#include <cstring>
#include <memory>
#include <new>
#include <utility>

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

// Builders larger than this are released after use instead of being kept by the thread.
constexpr std::size_t kKeptBuilderBytes = 256u << 10;

}  // namespace

Record* Record::create(std::string_view value, std::uint64_t expires_at_ms, std::uint64_t seq) noexcept {
  static BuilderAllocator builder_allocator;
  thread_local flatbuffers::FlatBufferBuilder builder(1024, &builder_allocator);
  try {
    builder.Clear();
    // 8-byte alignment of the value bytes, so values that are flatbuffers themselves read aligned.
    builder.ForceVectorAlignment(value.size(), 1, 8);
    const auto bytes = builder.CreateVector(reinterpret_cast<const std::uint8_t*>(value.data()), value.size());
    builder.Finish(fbs::CreateRecord(builder, bytes, expires_at_ms, seq));
    const std::size_t size = builder.GetSize();
    void* memory = detail::allocate(sizeof(Record) + size);
    Record* record = memory == nullptr ? nullptr : new (memory) Record(static_cast<std::uint32_t>(size));
    if (record != nullptr) std::memcpy(static_cast<char*>(memory) + sizeof(Record), builder.GetBufferPointer(), size);
    if (size > kKeptBuilderBytes) builder.Reset();
    return record;
  } catch (const std::bad_alloc&) {
    builder.Reset();
    return nullptr;
  }
}

Record* Record::copy_of(std::string_view encoded) noexcept {
  void* memory = detail::allocate(sizeof(Record) + encoded.size());
  if (memory == nullptr) return nullptr;
  auto* record = new (memory) Record(static_cast<std::uint32_t>(encoded.size()));
  std::memcpy(static_cast<char*>(memory) + sizeof(Record), encoded.data(), encoded.size());
  return record;
}

Record* Record::mapped(std::string_view encoded, RecordBacking* backing) noexcept {
  void* memory = detail::allocate(sizeof(Record) + sizeof(MappedPart));
  if (memory == nullptr) return nullptr;
  auto* record = new (memory) Record(static_cast<std::uint32_t>(encoded.size()) | kMappedBit);
  new (&record->mapped_part()) MappedPart{reinterpret_cast<const std::uint8_t*>(encoded.data()), backing};
  backing->ref();
  return record;
}

bool Record::verify(std::string_view encoded) noexcept {
  if (encoded.size() >= kMappedBit) return false;
  flatbuffers::Verifier verifier(reinterpret_cast<const std::uint8_t*>(encoded.data()), encoded.size(),
                                 flatbuffers::Verifier::Options{});
  return verifier.VerifyBuffer<fbs::Record>(nullptr);
}

void Record::destroy(Record* record) noexcept {
  RecordBacking* backing = record->is_mapped() ? record->mapped_part().backing : nullptr;
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
