// The byte-level pieces of the write-ahead log: CRC32C, integer coding, logical records, file names.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "durability/coding.hpp"
#include "durability/crc32c.hpp"
#include "durability/file_names.hpp"
#include "durability/log_record.hpp"

namespace mantis::detail {
namespace {

TEST_CASE("crc32c matches the standard check value and extends piecewise") {
  CHECK(crc32c("123456789") == 0xe3069283u);
  CHECK(crc32c("") == 0u);
  const std::string data(100000, 'x');
  for (std::size_t split : {std::size_t{0}, std::size_t{1}, std::size_t{4097}, data.size()}) {
    const std::string_view view(data);
    CHECK(crc32c_extend(crc32c(view.substr(0, split)), view.substr(split)) == crc32c(view));
  }
  CHECK(crc32c("a") != crc32c("b"));
}

TEST_CASE("crc masking round-trips and changes the value") {
  for (std::uint32_t crc : {0u, 1u, 0xe3069283u, 0xffffffffu}) {
    CHECK(unmask_crc(mask_crc(crc)) == crc);
    CHECK(mask_crc(crc) != crc);
  }
}

TEST_CASE("varints round-trip and reject truncated or overlong input") {
  for (std::uint32_t v : {0u, 1u, 127u, 128u, 16383u, 16384u, 0xffffffffu}) {
    std::string buf;
    put_varint32(&buf, v);
    std::string_view in(buf);
    std::uint32_t out = 0;
    REQUIRE(get_varint32(&in, &out));
    CHECK(out == v);
    CHECK(in.empty());
    std::string_view cut(buf.data(), buf.size() - 1);
    CHECK_FALSE(get_varint32(&cut, &out));
  }
  std::string_view overlong("\xff\xff\xff\xff\x7f", 5);  // more than 32 bits
  std::uint32_t out = 0;
  CHECK_FALSE(get_varint32(&overlong, &out));
  std::string_view hostile_length(
      "\xff\xff\xff\xff\x0f"
      "abc",
      8);  // 4 GiB - 1 bytes claimed, 3 present
  std::string_view bytes;
  CHECK_FALSE(get_length_prefixed(&hostile_length, &bytes));
}

TEST_CASE("logical records round-trip for every op") {
  const std::vector<LogOp> singles = {
      {LogOpType::kPut, "key", "record-bytes"}, {LogOpType::kPut, "", ""},
      {LogOpType::kErase, "gone", ""},          {LogOpType::kExpire, "k", "", 1234567, 42},
      {LogOpType::kPersist, "k", "", 0, 43},    {LogOpType::kClear, "", ""}};
  std::uint64_t lsn = 1;
  for (const LogOp& op : singles) {
    std::string payload;
    append_log_record(&payload, lsn, op);
    LogRecord record;
    const Status s = decode_log_record(payload, &record);
    INFO(s.to_string());
    REQUIRE(s.ok());
    CHECK(record.lsn == lsn);
    CHECK(record.type == op.type);
    REQUIRE(record.ops.size() == 1);
    CHECK(record.ops[0].type == op.type);
    CHECK(record.ops[0].key == op.key);
    CHECK(record.ops[0].record == op.record);
    CHECK(record.ops[0].expires_at_ms == op.expires_at_ms);
    CHECK(record.ops[0].seq == op.seq);
    ++lsn;
  }

  const std::string big_value(70000, 'v');
  const std::vector<LogOp> batch = {{LogOpType::kPut, "a", big_value},
                                    {LogOpType::kErase, "b", ""},
                                    {LogOpType::kExpire, "c", "", 99, 7},
                                    {LogOpType::kPersist, "d", "", 0, 8}};
  std::string payload;
  append_log_batch(&payload, 0x0123456789abcdefULL, batch);
  LogRecord record;
  REQUIRE(decode_log_record(payload, &record).ok());
  CHECK(record.lsn == 0x0123456789abcdefULL);
  CHECK(record.type == LogOpType::kBatch);
  REQUIRE(record.ops.size() == batch.size());
  for (std::size_t i = 0; i < batch.size(); ++i) {
    CHECK(record.ops[i].type == batch[i].type);
    CHECK(record.ops[i].key == batch[i].key);
    CHECK(record.ops[i].record == batch[i].record);
    CHECK(record.ops[i].expires_at_ms == batch[i].expires_at_ms);
    CHECK(record.ops[i].seq == batch[i].seq);
  }
}

TEST_CASE("malformed logical records are Corruption saying what is wrong, located by the caller") {
  std::string put;
  append_log_record(&put, 7, {LogOpType::kPut, "key", "value"});
  LogRecord record;
  // Every proper prefix is malformed, and so is any trailing byte.
  for (std::size_t n = 0; n < put.size(); ++n) {
    const Status s = located("wal/000001.log offset 0", decode_log_record(std::string_view(put).substr(0, n), &record));
    CHECK(s.is_corruption());
    CHECK(s.message().starts_with("wal/000001.log offset 0: "));
  }
  CHECK(decode_log_record(put + "x", &record).is_corruption());

  std::string unknown = put;
  unknown[8] = 42;
  CHECK(located("loc", decode_log_record(unknown, &record)).to_string() ==
        "Corruption: loc: log record with unknown op type 42");
  CHECK(located("loc", Status::ok_status()).ok());
  CHECK(located("loc", Status::io_error("disk")).to_string() == "IOError: disk");

  // A batch claiming four billion entries in a few bytes is rejected before any allocation.
  std::string hostile;
  put_fixed64(&hostile, 1);
  hostile.push_back(static_cast<char>(LogOpType::kBatch));
  put_fixed32(&hostile, 0xffffffffu);
  hostile.append("\x01\x00\x00", 3);
  CHECK(decode_log_record(hostile, &record).is_corruption());

  // The writer never puts a clear inside a batch (append_log_batch asserts it), so the bytes are
  // built by hand: header, one entry, and that entry's type is kClear.
  std::string nested;
  put_fixed64(&nested, 1);
  nested.push_back(static_cast<char>(LogOpType::kBatch));
  put_fixed32(&nested, 1);
  nested.push_back(static_cast<char>(LogOpType::kClear));
  CHECK(decode_log_record(nested, &record).is_corruption());
}

TEST_CASE("random mutations of logical records never crash the decoder") {
  std::mt19937_64 rng(12345);
  std::string payload;
  const std::vector<LogOp> batch = {{LogOpType::kPut, "alpha", "one"}, {LogOpType::kErase, "beta", ""}};
  append_log_batch(&payload, 99, batch);
  LogRecord record;
  for (int i = 0; i < 5000; ++i) {
    std::string mutated = payload;
    const int mutations = 1 + static_cast<int>(rng() % 4);
    for (int m = 0; m < mutations; ++m) mutated[rng() % mutated.size()] = static_cast<char>(rng());
    const Status s = decode_log_record(mutated, &record);
    CHECK((s.ok() || s.is_corruption()));
    if (s.ok()) {
      for (const LogOp& op : record.ops) CHECK(op.key.size() + op.record.size() <= mutated.size());
    }
  }
}

TEST_CASE("file names are built and parsed back strictly") {
  CHECK(log_file_name(7) == "wal/000007.log");
  CHECK(log_file_name(1234567) == "wal/1234567.log");
  CHECK(snapshot_file_name(42) == "snap-42.snap");
  CHECK(temp_file_name("MANIFEST") == "MANIFEST.tmp");

  std::uint64_t number = 99;
  CHECK(parse_file_name("000007.log", &number) == FileKind::kLog);
  CHECK(number == 7);
  CHECK(parse_file_name("4294967295.log", &number) == FileKind::kLog);
  CHECK(number == 4294967295u);
  CHECK(parse_file_name("snap-42.snap", &number) == FileKind::kSnapshot);
  CHECK(number == 42);
  CHECK(parse_file_name("MANIFEST", &number) == FileKind::kManifest);
  CHECK(number == 0);
  CHECK(parse_file_name("LOCK", &number) == FileKind::kLock);
  CHECK(parse_file_name("snap-42.snap.tmp", &number) == FileKind::kTemp);
  for (const char* bad : {"7.log", "0000007.log", "4294967296.log", "-00001.log", "000007.log.bak", "snap-.snap",
                          "snap-007.snap", "snap-18446744073709551616.snap", "snap-4x.snap", ".tmp", "foo"}) {
    INFO(bad);
    CHECK(parse_file_name(bad, &number) == FileKind::kUnknown);
    CHECK(number == 0);
  }
}

}  // namespace
}  // namespace mantis::detail
