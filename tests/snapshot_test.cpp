// Snapshot files end to end: SnapshotWriter and SnapshotReader round trips, the alignment and
// zero-copy promises, the writer's temporary file, damage of every kind, disk faults, and the resident
// memory of opening a large snapshot.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "durability/coding.hpp"
#include "durability/crc32c.hpp"
#include "durability/file_names.hpp"
#include "durability/snapshot_format.hpp"
#include "durability/snapshot_reader.hpp"
#include "durability/snapshot_writer.hpp"
#include "env/fault_injection_env.hpp"
#include "process_memory.hpp"
#include "store/record.hpp"
#include "temp_dir.hpp"

namespace mantis::detail {
namespace {

using test::TempDir;

struct Entry {
  std::string key;
  std::string value;
  std::uint64_t expires_at_ms = 0;
};

// A Record's flatbuffer bytes, as the store would hand them to the writer.
std::string encode_record(const std::string& value, std::uint64_t expires_at_ms, std::uint64_t seq = 1) {
  Record* record = Record::create(value, expires_at_ms, seq);
  REQUIRE(record != nullptr);
  std::string encoded;
  record->encoded(&encoded);
  Record::unref(record);
  return encoded;
}

// Writes `entries` (sorted by the caller) as snap-<lsn>.snap in `dir`; returns its path.
std::string write_snapshot(Env* env, const std::string& dir, std::uint64_t lsn, const std::vector<Entry>& entries) {
  std::unique_ptr<SnapshotWriter> writer;
  REQUIRE(SnapshotWriter::create(env, dir, lsn, &writer).ok());
  for (const Entry& e : entries) {
    const Status s = writer->add(e.key, encode_record(e.value, e.expires_at_ms), e.expires_at_ms);
    INFO(s.to_string());
    REQUIRE(s.ok());
  }
  const Status s = writer->finish();
  INFO(s.to_string());
  REQUIRE(s.ok());
  CHECK(writer->entries() == entries.size());
  const std::string path = dir + "/" + snapshot_file_name(lsn);
  CHECK(writer->bytes() == std::filesystem::file_size(path));
  return path;
}

struct ReadBack {
  Status status;
  std::vector<Entry> entries;
  std::uint64_t lsn = 0;
};

ReadBack read_snapshot(const std::string& path, std::string name = "snap-7.snap") {
  ReadBack back;
  std::unique_ptr<SnapshotReader> reader;
  back.status = SnapshotReader::open(Env::posix(), path, std::move(name), &reader);
  if (!back.status.ok()) return back;
  back.lsn = reader->lsn();
  const std::string_view mapped = reader->file()->data();
  std::string_view key;
  std::string_view record;
  std::uint64_t expires = 0;
  std::uint32_t value_size = 0;
  std::uint64_t max_seq = 0;
  while (reader->next(&key, &record, &expires, &value_size)) {
    // Views into the mapping; the record 8-aligned in memory (and so in the file).
    CHECK(key.data() >= mapped.data());
    CHECK(key.data() + key.size() <= mapped.data() + mapped.size());
    CHECK(record.data() >= mapped.data());
    CHECK(record.data() + record.size() <= mapped.data() + mapped.size());
    CHECK(reinterpret_cast<std::uintptr_t>(record.data()) % 8 == 0);
    CHECK((record.data() - mapped.data()) % 8 == 0);
    const auto* table = flatbuffers::GetRoot<fbs::Record>(record.data());
    CHECK(table->expires_at_ms() == expires);
    const auto* value = table->value();
    CHECK(value_size == (value == nullptr ? 0 : value->size()));  // noted while verifying
    max_seq = std::max(max_seq, table->seq());
    back.entries.push_back(
        {std::string(key),
         value == nullptr ? "" : std::string(reinterpret_cast<const char*>(value->data()), value->size()), expires});
  }
  CHECK(back.entries.size() == reader->entries());
  CHECK(reader->max_seq() == max_seq);
  return back;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}
void write_file(const std::string& path, std::string_view contents) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
}

bool operator==(const Entry& a, const Entry& b) {
  return a.key == b.key && a.value == b.value && a.expires_at_ms == b.expires_at_ms;
}

std::vector<Entry> numbered(std::size_t n, std::size_t value_size) {
  std::vector<Entry> entries;
  entries.reserve(n);
  char key[32];
  for (std::size_t i = 0; i < n; ++i) {
    std::snprintf(key, sizeof key, "key%09zu", i);
    entries.push_back({key, std::string(value_size, static_cast<char>('a' + i % 26)), i % 3 == 0 ? 0 : 1000 + i});
  }
  return entries;
}

std::uint64_t footer_field(const std::string& contents, std::size_t index) {
  return decode_fixed64(contents.data() + contents.size() - kSnapshotFooterPayloadSize + 8 * index);
}

// A whole frame: header with its checksum, payload (a multiple of 8).
std::string frame(SnapshotFrameType type, std::string_view payload) {
  std::string out(kSnapshotFrameHeaderSize, '\0');
  out[4] = static_cast<char>(type);
  encode_fixed64(out.data() + 8, payload.size());
  out.append(payload);
  encode_fixed32(out.data(), mask_crc(crc32c(std::string_view(out).substr(4))));
  return out;
}
std::string footer_frame(std::uint64_t lsn, std::uint64_t entries, std::uint64_t chunks) {
  std::string payload;
  put_fixed64(&payload, lsn);
  put_fixed64(&payload, entries);
  put_fixed64(&payload, chunks);
  return frame(SnapshotFrameType::kFooter, payload);
}

void check_corruption(const Status& s, std::string_view name = "snap-7.snap") {
  INFO(s.to_string());
  REQUIRE(s.is_corruption());
  CHECK(s.message().starts_with(std::string(name) + " offset "));
}

TEST_CASE("snapshots round-trip: empty, one entry, 100k entries") {
  TempDir dir;
  for (const std::size_t n : {std::size_t{0}, std::size_t{1}, std::size_t{100000}}) {
    const std::vector<Entry> entries = numbered(n, 20);
    const std::string path = write_snapshot(Env::posix(), dir.path(), 7 + n, entries);
    const ReadBack back = read_snapshot(path);
    INFO(back.status.to_string());
    REQUIRE(back.status.ok());
    CHECK(back.lsn == 7 + n);
    CHECK(back.entries == entries);
    CHECK_FALSE(std::filesystem::exists(path + ".tmp"));
  }
}

TEST_CASE("snapshots carry empty keys and values, NULs, expiries, and values of several MiB") {
  TempDir dir;
  std::vector<Entry> entries = {
      {"", "value of the empty key", 0},
      {std::string("\0", 1), "", 42},
      {std::string("a\0b", 3), std::string("x\0y\0", 4), 0},
      {"big1", std::string(5 << 20, 'p'), 7},
      {"big2", std::string(3 << 20, 'q'), 0},
      {"small", "s", 1},
      {"zbig", std::string(9 << 20, 'r'), 99},
  };
  const std::string path = write_snapshot(Env::posix(), dir.path(), 7, entries);
  const ReadBack back = read_snapshot(path);
  INFO(back.status.to_string());
  REQUIRE(back.status.ok());
  CHECK(back.entries == entries);
  const std::string contents = read_file(path);
  CHECK(footer_field(contents, 1) == entries.size());
  CHECK(footer_field(contents, 2) >= 4);  // the big values split the chunks
  CHECK(contents.size() % 8 == 0);
  CHECK(contents.starts_with(kSnapshotMagic));
}

TEST_CASE("the writer refuses keys out of order and bad records, and stays usable") {
  TempDir dir;
  std::unique_ptr<SnapshotWriter> writer;
  REQUIRE(SnapshotWriter::create(Env::posix(), dir.path(), 7, &writer).ok());
  REQUIRE(writer->add("b", encode_record("1", 0), 0).ok());
  CHECK(writer->add("a", encode_record("2", 0), 0).is_invalid_argument());
  CHECK(writer->add("b", encode_record("2", 0), 0).is_invalid_argument());
  CHECK(writer->add("c", "not a record", 0).is_invalid_argument());
  CHECK(writer->add("c", "", 0).is_invalid_argument());
  CHECK(writer->add("c", encode_record("3", 5), 6).is_invalid_argument());  // expiry differs from the record's
  REQUIRE(writer->add("c", encode_record("3", 5), 5).ok());
  REQUIRE(writer->finish().ok());
  CHECK(writer->entries() == 2);
  const ReadBack back = read_snapshot(dir / "snap-7.snap");
  REQUIRE(back.status.ok());
  CHECK(back.entries == std::vector<Entry>{{"b", "1", 0}, {"c", "3", 5}});
}

TEST_CASE("the temporary file is removed unless finished, and a leftover one is replaced") {
  TempDir dir;
  {
    std::unique_ptr<SnapshotWriter> writer;
    REQUIRE(SnapshotWriter::create(Env::posix(), dir.path(), 7, &writer).ok());
    REQUIRE(writer->add("a", encode_record("1", 0), 0).ok());
    CHECK(std::filesystem::exists(dir / "snap-7.snap.tmp"));
  }
  CHECK_FALSE(std::filesystem::exists(dir / "snap-7.snap.tmp"));
  CHECK_FALSE(std::filesystem::exists(dir / "snap-7.snap"));

  write_file(dir / "snap-7.snap.tmp", "left over by a crash");
  const std::string path = write_snapshot(Env::posix(), dir.path(), 7, numbered(10, 5));
  CHECK_FALSE(std::filesystem::exists(dir / "snap-7.snap.tmp"));
  CHECK(read_snapshot(path).status.ok());
}

TEST_CASE("every bit flip and every truncation of a small snapshot is Corruption with an offset") {
  TempDir dir;
  const std::string path = write_snapshot(Env::posix(), dir.path(), 7, numbered(5, 3));
  const std::string good = read_file(path);
  const std::string damaged = dir / "damaged";
  for (std::size_t at = 0; at < good.size(); ++at) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[at] = static_cast<char>(bad[at] ^ (1 << bit));
      write_file(damaged, bad);
      INFO("byte " << at << " bit " << bit);
      check_corruption(read_snapshot(damaged).status);
      CHECK(read_file(damaged) == bad);  // opening never changes the file
    }
  }
  for (std::size_t size = 0; size < good.size(); ++size) {
    write_file(damaged, std::string_view(good).substr(0, size));
    INFO("truncated to " << size);
    check_corruption(read_snapshot(damaged).status);
  }
  for (const std::string_view garbage :
       {std::string_view("x"), std::string_view("\0\0\0\0\0\0\0\0", 8), std::string_view(good).substr(32, 40)}) {
    write_file(damaged, good + std::string(garbage));
    const Status s = read_snapshot(damaged).status;
    check_corruption(s);
    CHECK(s.message() == "snap-7.snap offset " + std::to_string(good.size()) + ": " + std::to_string(garbage.size()) +
                             " bytes after the footer");
  }
}

TEST_CASE("bit flips at sampled positions of a multi-chunk snapshot are Corruption") {
  TempDir dir;
  const std::string path = write_snapshot(Env::posix(), dir.path(), 7, numbered(12000, 1000));
  const std::string good = read_file(path);
  REQUIRE(footer_field(good, 2) >= 3);
  const std::string damaged = dir / "damaged";
  std::mt19937_64 random(20261126);
  for (int i = 0; i < 120; ++i) {
    const std::size_t at = i < 40 ? random() % 4096 : random() % good.size();
    std::string bad = good;
    bad[at] = static_cast<char>(bad[at] ^ (1 << (random() % 8)));
    write_file(damaged, bad);
    INFO("byte " << at);
    check_corruption(read_snapshot(damaged).status);
  }
}

TEST_CASE("keys out of order across chunks are Corruption even with valid checksums") {
  TempDir dir;
  const std::string a = read_file(write_snapshot(Env::posix(), dir.path(), 1, {{"b", "1", 0}}));
  const std::string b = read_file(write_snapshot(Env::posix(), dir.path(), 2, {{"a", "2", 0}}));
  const std::size_t footer = kSnapshotFrameHeaderSize + kSnapshotFooterPayloadSize;
  const std::string chunk_a = a.substr(kSnapshotHeaderSize, a.size() - kSnapshotHeaderSize - footer);
  const std::string chunk_b = b.substr(kSnapshotHeaderSize, b.size() - kSnapshotHeaderSize - footer);
  const std::string spliced = a.substr(0, kSnapshotHeaderSize) + chunk_a + chunk_b + footer_frame(1, 2, 2);
  write_file(dir / "spliced", spliced);
  const Status s = read_snapshot(dir / "spliced").status;
  check_corruption(s);
  CHECK(s.message() ==
        "snap-7.snap offset " + std::to_string(kSnapshotHeaderSize + chunk_a.size()) + ": keys not strictly ascending");
  // The same chunks in order verify; wrong counts or LSN in the footer do not.
  write_file(dir / "spliced", a.substr(0, kSnapshotHeaderSize) + chunk_b + chunk_a + footer_frame(1, 2, 2));
  CHECK(read_snapshot(dir / "spliced").status.ok());
  for (const auto& [lsn, entries, chunks] : {std::tuple{1, 3, 2}, std::tuple{1, 2, 1}, std::tuple{2, 2, 2}}) {
    write_file(dir / "spliced", a.substr(0, kSnapshotHeaderSize) + chunk_b + chunk_a +
                                    footer_frame(static_cast<std::uint64_t>(lsn), static_cast<std::uint64_t>(entries),
                                                 static_cast<std::uint64_t>(chunks)));
    check_corruption(read_snapshot(dir / "spliced").status);
  }
  // A frame of unknown type, and a huge length, with valid checksums.
  write_file(dir / "spliced",
             a.substr(0, kSnapshotHeaderSize) + frame(SnapshotFrameType{3}, "12345678") + footer_frame(1, 0, 0));
  check_corruption(read_snapshot(dir / "spliced").status);
  std::string huge = a.substr(0, kSnapshotHeaderSize) + footer_frame(1, 0, 0);
  encode_fixed64(huge.data() + kSnapshotHeaderSize + 8, std::uint64_t{1} << 62);
  write_file(dir / "spliced", huge);
  check_corruption(read_snapshot(dir / "spliced").status);
}

TEST_CASE("open reports a missing file as IOError") {
  TempDir dir;
  std::unique_ptr<SnapshotReader> reader;
  const Status s = SnapshotReader::open(Env::posix(), dir / "snap-1.snap", "snap-1.snap", &reader);
  CHECK(s.is_io_error());
}

TEST_CASE("a failing write or sync is a sticky IOError and leaves no snapshot") {
  TempDir dir;
  FaultInjectionEnv env(Env::posix());
  for (const bool sync : {false, true}) {
    for (const std::uint64_t nth : {1, 2, 3, 5}) {
      INFO("sync " << sync << " nth " << nth);
      env.clear_faults();
      if (sync) {
        env.fail_syncs_from(1, EIO);
      } else {
        env.fail_appends_from(nth, ENOSPC);
      }
      {
        std::unique_ptr<SnapshotWriter> writer;
        Status s = SnapshotWriter::create(&env, dir.path(), 7, &writer);
        for (int i = 0; s.ok() && i < 3; ++i) {
          s = writer->add("key" + std::to_string(i), encode_record(std::string(3 << 20, 'v'), 0), 0);
        }
        if (s.ok()) s = writer->finish();
        INFO(s.to_string());
        REQUIRE(s.is_io_error());
        CHECK(s.message().find("snap-7.snap.tmp") != std::string::npos);
        if (writer != nullptr) {
          CHECK(writer->add("zzz", encode_record("v", 0), 0).is_io_error());  // sticky
          CHECK(writer->finish().is_io_error());
        }
      }
      CHECK_FALSE(std::filesystem::exists(dir / "snap-7.snap"));
      CHECK_FALSE(std::filesystem::exists(dir / "snap-7.snap.tmp"));
    }
  }
}

TEST_CASE("opening a 64 MiB snapshot keeps resident memory far below its size", "[memory]") {
  TempDir dir;
  constexpr std::size_t kEntries = 64 << 10;  // of 1 KiB values
  const std::string value(1024, 'v');
  const std::string record = encode_record(value, 0);
  const auto start = std::chrono::steady_clock::now();
  {
    std::unique_ptr<SnapshotWriter> writer;
    REQUIRE(SnapshotWriter::create(Env::posix(), dir.path(), 7, &writer).ok());
    char key[32];
    for (std::size_t i = 0; i < kEntries; ++i) {
      std::snprintf(key, sizeof key, "key%09zu", i);
      REQUIRE(writer->add(key, record, 0).ok());
    }
    REQUIRE(writer->finish().ok());
  }
  const auto written = std::chrono::steady_clock::now();
  const std::string path = dir / "snap-7.snap";
  const std::uint64_t size = std::filesystem::file_size(path);
  const std::size_t before = support::resident_bytes();
  std::unique_ptr<SnapshotReader> reader;
  REQUIRE(SnapshotReader::open(Env::posix(), path, "snap-7.snap", &reader).ok());
  const auto opened = std::chrono::steady_clock::now();
  const std::size_t after = support::resident_bytes();
  REQUIRE(reader->entries() == kEntries);
  std::size_t n = 0;
  std::string_view k;
  std::string_view r;
  std::uint64_t expires = 0;
  std::uint32_t value_size = 0;
  while (reader->next(&k, &r, &expires, &value_size)) ++n;  // keys only: records stay untouched
  CHECK(n == kEntries);
  const std::size_t after_keys = support::resident_bytes();
  const auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  std::printf(
      "[snapshot] %.1f MiB: write+fsync %.0f ms, open (verify all) %.0f ms; RSS +%.1f MiB after open, "
      "+%.1f MiB after walking the keys\n",
      static_cast<double>(size) / (1 << 20), ms(written - start), ms(opened - written),
      (static_cast<double>(after) - static_cast<double>(before)) / (1 << 20),
      (static_cast<double>(after_keys) - static_cast<double>(before)) / (1 << 20));
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  CHECK(after < before + size / 8);
  CHECK(after_keys < before + size / 4);
#endif
}

}  // namespace
}  // namespace mantis::detail
