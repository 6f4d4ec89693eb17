#include <catch2/catch.hpp>

#include <cstdint>
#include <string>

#include <mantis/flatbuffers.hpp>
#include <mantis/value_view.hpp>
#include "store/record.hpp"
#include "util/memory.hpp"

using mantis::detail::Record;

namespace {
struct RecordDeleter {
  void operator()(Record* r) const noexcept { Record::unref(r); }
};
using RecordPtr = std::unique_ptr<Record, RecordDeleter>;
RecordPtr make(std::string_view value, std::uint64_t expires_at, std::uint64_t seq) {
  Record* r = Record::create(value, expires_at, seq);
  REQUIRE(r != nullptr);
  return RecordPtr(r);
}
}  // namespace

TEST_CASE("a record round-trips value, expiry and sequence number", "[record]") {
  const std::string value("va\0lue\xff", 7);
  auto r = make(value, 12345, 77);
  CHECK(r->value() == value);
  CHECK(r->expires_at_ms() == 12345);
  CHECK(r->seq() == 77);
}

TEST_CASE("the encoded bytes are a verifiable flatbuffers Record", "[record]") {
  auto r = make("hello", 0, 1);
  std::string scratch;
  const std::string_view encoded = r->encoded(&scratch);
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(encoded.data());
  flatbuffers::Verifier verifier(bytes, encoded.size(), flatbuffers::Verifier::Options{});
  REQUIRE(mantis::fbs::VerifyRecordBuffer(verifier));
  const auto* table = mantis::fbs::GetRecord(bytes);
  CHECK(table->expires_at_ms() == 0);
  CHECK(table->seq() == 1);
  CHECK(std::string_view(reinterpret_cast<const char*>(table->value()->data()), table->value()->size()) == "hello");
}

// Record::encoded() lays the flatbuffer out by hand; the reference is what the flatbuffers builder makes
// of record.fbs (the value 8-byte aligned, as encoded() promises for values that are flatbuffers).
TEST_CASE("encoded() makes exactly the flatbuffers builder's bytes, for every shape and size", "[record]") {
  flatbuffers::FlatBufferBuilder builder;
  auto built = [&builder](const std::string& value, std::uint64_t expires, std::uint64_t seq) {
    builder.Clear();
    builder.ForceVectorAlignment(value.size(), 1, 8);
    const auto vector = builder.CreateVector(reinterpret_cast<const std::uint8_t*>(value.data()), value.size());
    builder.Finish(mantis::fbs::CreateRecord(builder, vector, expires, seq));
    return std::string_view(reinterpret_cast<const char*>(builder.GetBufferPointer()), builder.GetSize());
  };
  std::string scratch = "left over from an earlier, longer encoding: replaced, not appended to";
  std::uint64_t state = 0x9e3779b97f4a7c15;
  auto next = [&state] { return state = state * 6364136223846793005u + 1442695040888963407u; };
  const std::uint64_t scalars[] = {0, 1, 1'700'000'000'000, ~std::uint64_t{0}};
  for (std::size_t size = 0; size < 300; size += size < 40 ? 1 : 37) {
    std::string value(size, '\0');
    for (char& c : value) c = static_cast<char>(next());
    for (const std::uint64_t expires : scalars) {
      for (const std::uint64_t seq : scalars) {
        INFO("value of " << size << " bytes, expires_at_ms " << expires << ", seq " << seq);
        REQUIRE(make(value, expires, seq)->encoded(&scratch) == built(value, expires, seq));
      }
    }
  }
  const std::string big(70000, 'b');
  CHECK(make(big, 5, 6)->encoded(&scratch) == built(big, 5, 6));
}

TEST_CASE("empty and large values encode", "[record]") {
  auto empty = make("", 0, 1);
  CHECK(empty->value().empty());
  const std::string big(3u << 20, 'x');
  auto large = make(big, 0, 2);
  CHECK(large->value() == big);
}

TEST_CASE("value bytes are 8-byte aligned in memory", "[record]") {
  for (std::size_t size : {0u, 1u, 7u, 8u, 100u, 1000u}) {
    auto r = make(std::string(size, 'a'), 99, 5);
    CHECK(reinterpret_cast<std::uintptr_t>(r->value().data()) % 8 == 0);
  }
}

TEST_CASE("expiry is exact to the millisecond and 0 means never", "[record]") {
  auto r = make("v", 1000, 1);
  CHECK_FALSE(r->expired_at(999));
  CHECK(r->expired_at(1000));
  CHECK(r->expired_at(1001));
  auto forever = make("v", 0, 1);
  CHECK_FALSE(forever->expired_at(~std::uint64_t{0}));
}

TEST_CASE("records are allocated by mantis's allocator", "[record][memory]") {
  auto r = make("v", 0, 1);
  if (std::string_view(mantis::detail::allocator_name()) == "mimalloc") {
    CHECK(mantis::detail::allocated_by_mimalloc(r.get()));
  } else {
    CHECK_FALSE(mantis::detail::allocated_by_mimalloc(r.get()));
  }
}

TEST_CASE("a view pins a record past the last other reference", "[record][view]") {
  Record* r = Record::create("pinned", 0, 1);
  REQUIRE(r != nullptr);
  mantis::ValueView view;
  r->ref();
  mantis::detail::ViewAccess::assign(view, r->value(), r, &Record::unref_opaque);
  Record::unref(r);  // the creator's reference is gone; the view keeps the bytes alive
  CHECK(view.data() == "pinned");
  mantis::ValueView moved(std::move(view));
  CHECK(view.data().empty());
  CHECK_FALSE(view.pinned());
  CHECK(moved.data() == "pinned");
  moved.reset();
  CHECK(moved.data().empty());
}

TEST_CASE("as_flatbuffer verifies the value bytes", "[record][view]") {
  // A value that is itself a flatbuffer (here: an encoded Record) reads back through the view.
  auto inner = make("inner", 42, 9);
  std::string scratch;
  auto outer = make(inner->encoded(&scratch), 0, 1);
  mantis::ValueView view;
  outer->ref();
  mantis::detail::ViewAccess::assign(view, outer->value(), outer.get(), &Record::unref_opaque);
  const auto* table = mantis::as_flatbuffer<mantis::fbs::Record>(view);
  REQUIRE(table != nullptr);
  CHECK(table->expires_at_ms() == 42);
  CHECK(table->seq() == 9);

  auto garbage = make(std::string(16, '\xff'), 0, 1);
  mantis::ValueView bad;
  garbage->ref();
  mantis::detail::ViewAccess::assign(bad, garbage->value(), garbage.get(), &Record::unref_opaque);
  CHECK(mantis::as_flatbuffer<mantis::fbs::Record>(bad) == nullptr);
  CHECK(mantis::as_flatbuffer<mantis::fbs::Record>(mantis::ValueView()) == nullptr);
}

TEST_CASE("from_encoded rebuilds a record from its encoded bytes, and verify() checks any bytes", "[record]") {
  auto original = make(std::string("log\0ged", 7), 999, 5);
  std::string encoded;
  original->encoded(&encoded);
  REQUIRE(Record::verify(encoded));
  RecordPtr copy(Record::from_encoded(encoded));
  REQUIRE(copy != nullptr);
  CHECK(copy->value() == original->value());
  CHECK(copy->expires_at_ms() == 999);
  CHECK(copy->seq() == 5);
  CHECK_FALSE(Record::verify({}));
  CHECK_FALSE(Record::verify("not a flatbuffer at all"));
  std::string truncated(encoded);
  truncated.resize(truncated.size() / 2);
  CHECK_FALSE(Record::verify(truncated));
}

TEST_CASE("a mapped record reads its bytes in place and keeps their memory alive", "[record]") {
  auto source = make("in place", 42, 9);
  bool released = false;
  // The "mapping": a buffer whose release the test observes. 8-aligned, as a snapshot lays records out.
  std::string scratch;
  auto* buffer = new std::string(source->encoded(&scratch));
  std::shared_ptr<const void> memory(buffer, [&released](const void* p) {
    released = true;
    delete static_cast<const std::string*>(p);
  });
  mantis::detail::RecordBacking* backing = mantis::detail::RecordBacking::create(memory);
  REQUIRE(backing != nullptr);
  memory.reset();
  Record* record = Record::mapped(*buffer, 8, 42, backing);
  REQUIRE(record != nullptr);
  mantis::detail::RecordBacking::unref(backing);  // the creator's reference: the record still holds one
  CHECK_FALSE(released);
  CHECK(record->value() == "in place");
  CHECK(record->value().data() > buffer->data());  // no copy: the value lies inside the "mapping"
  CHECK(record->value().data() < buffer->data() + buffer->size());
  CHECK(record->value_size() == 8);
  CHECK(record->expires_at_ms() == 42);
  CHECK(record->seq() == 9);
  std::string encoded;
  RecordPtr copy(Record::from_encoded(record->encoded(&encoded)));
  REQUIRE(copy != nullptr);
  CHECK(copy->value() == "in place");
  CHECK(copy->expires_at_ms() == 42);
  CHECK(copy->seq() == 9);
  Record::unref(record);
  CHECK(released);
}

TEST_CASE("in memory a record is a 24-byte header followed by its value, with no framing", "[record]") {
  auto r = make(std::string(100, 'v'), 7, 3);
  CHECK(r->value().data() == reinterpret_cast<const char*>(r.get()) + sizeof(Record));
  CHECK(sizeof(Record) + r->value().size() <= 128);  // a 100-byte value fits the 128-byte size class
  std::string scratch;
  RecordPtr round_trip(Record::from_encoded(r->encoded(&scratch)));
  REQUIRE(round_trip != nullptr);
  CHECK(round_trip->value() == r->value());
  CHECK(round_trip->expires_at_ms() == 7);
  CHECK(round_trip->seq() == 3);
}

TEST_CASE("from_encoded reads a flatbuffer at any alignment, as a log record carries it", "[record]") {
  auto original = make("unaligned", 5, 6);
  std::string scratch;
  const std::string_view encoded = original->encoded(&scratch);
  for (std::size_t offset = 0; offset < 8; ++offset) {
    std::string shifted(offset, '\0');
    shifted.append(encoded);
    RecordPtr copy(Record::from_encoded(std::string_view(shifted).substr(offset)));
    REQUIRE(copy != nullptr);
    CHECK(copy->value() == "unaligned");
    CHECK(copy->expires_at_ms() == 5);
    CHECK(copy->seq() == 6);
  }
}
