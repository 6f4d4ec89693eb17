// The write-ahead log end to end: LogWriter framing, LogReader verification, torn tails, damage,
// LSN continuity, and the log under injected and real disk faults.
#include <catch2/catch.hpp>

#include <cerrno>
#include <string>
#include <vector>

#include "durability/coding.hpp"
#include "durability/log_record.hpp"
#include "durability/lsn_chain.hpp"
#include "env/fault_injection_env.hpp"
#include "log_test_util.hpp"

namespace mantis::detail {
namespace {

using test::fragment;
using test::random_bytes;
using test::read_segment;
using test::ReadBack;
using test::Segment;
using test::TempDir;
using test::write_segment;

TEST_CASE("records of every size round-trip, in order, with their offsets") {
  TempDir dir;
  const std::size_t block_payload = kLogBlockSize - kLogHeaderSize;
  std::vector<std::string> payloads = {"", "a", std::string(100, 'b'), std::string(block_payload - 120, 'c'),
                                       // leaves fewer than kLogHeaderSize bytes in the block: padding
                                       std::string(block_payload - 5, 'd'), std::string(block_payload, 'e'),
                                       std::string(block_payload + 1, 'f'), random_bytes(100000, 1),
                                       random_bytes(5 << 20, 2), ""};
  for (int i = 0; i < 50; ++i) payloads.push_back(random_bytes(static_cast<std::size_t>(i * 37), 100 + i));
  const Segment segment = write_segment(dir, 1, payloads);
  const ReadBack back = read_segment(segment.contents, 1, /*last_segment=*/false);
  INFO(back.status.to_string());
  REQUIRE(back.status.ok());
  CHECK(back.records == payloads);
  CHECK(back.offsets == segment.starts);
  CHECK(back.valid_end == segment.contents.size());
  CHECK_FALSE(back.torn);

  const ReadBack empty = read_segment("", 1, false);
  CHECK(empty.status.ok());
  CHECK(empty.records.empty());
}

TEST_CASE("add_records frames a group like single adds, with one write") {
  TempDir dir;
  const std::vector<std::string> payloads = {"one", random_bytes(70000, 3), "", "three"};
  const Segment single = write_segment(dir, 1, payloads);

  FaultInjectionEnv env(Env::posix());
  std::unique_ptr<WritableFile> file;
  REQUIRE(env.new_writable_file(dir / log_file_name(2), &file).ok());
  LogWriter writer(std::move(file), 1);  // same segment number, so the bytes must match exactly
  env.fail_appends_from(2, EIO);         // a second write call would fail
  const std::vector<std::string_view> views(payloads.begin(), payloads.end());
  REQUIRE(writer.add_records(views).ok());
  CHECK(writer.size() == single.contents.size());
  std::shared_ptr<const MappedFile> mapped;
  REQUIRE(env.map_file(dir / log_file_name(2), &mapped).ok());
  CHECK(mapped->data() == single.contents);
}

TEST_CASE("a writer reopened on a segment continues its block layout") {
  TempDir dir;
  const std::vector<std::string> first = {"a", random_bytes(40000, 4), "b"};
  write_segment(dir, 3, first);
  std::unique_ptr<WritableFile> file;
  REQUIRE(Env::posix()->reopen_writable_file(dir / log_file_name(3), &file).ok());
  LogWriter writer(std::move(file), 3);
  const std::vector<std::string> second = {random_bytes(30000, 5), "c"};
  for (const std::string& payload : second) REQUIRE(writer.add_record(payload).ok());
  REQUIRE(writer.close().ok());
  CHECK(writer.add_record("x").is_closed());

  std::shared_ptr<const MappedFile> mapped;
  REQUIRE(Env::posix()->map_file(dir / log_file_name(3), &mapped).ok());
  const ReadBack back = read_segment(mapped->data(), 3, true);
  REQUIRE(back.status.ok());
  std::vector<std::string> all = first;
  all.insert(all.end(), second.begin(), second.end());
  CHECK(back.records == all);
}

// Cuts the last segment holding `payloads` at every byte from the start of record `from` on: the reader
// must return exactly the records that end before the cut, and report the cut-off rest as a torn tail.
void check_every_cut(const std::vector<std::string>& payloads, std::size_t from) {
  TempDir dir;
  const Segment segment = write_segment(dir, 7, payloads);
  for (std::size_t cut = segment.starts[from]; cut <= segment.contents.size(); ++cut) {
    const ReadBack back = read_segment(std::string_view(segment.contents).substr(0, cut), 7, true);
    std::size_t complete = 0;
    while (complete < payloads.size() && segment.ends[complete] <= cut) ++complete;
    INFO("cut at " << cut << ": " << back.status.to_string());
    REQUIRE(back.status.ok());
    REQUIRE(back.records.size() == complete);
    const std::uint64_t valid_end = complete == 0 ? 0 : segment.ends[complete - 1];
    if (complete > 0) REQUIRE(back.records.back() == payloads[complete - 1]);
    REQUIRE(back.valid_end == valid_end);
    REQUIRE(back.torn == (valid_end < cut));
  }
}

TEST_CASE("a last segment cut at any byte yields exactly its complete records") {
  SECTION("records of one, two and three fragments") {
    std::vector<std::string> payloads;
    for (int i = 0; i < 10; ++i) payloads.push_back(random_bytes(200 + static_cast<std::size_t>(i), 10 + i));
    payloads.push_back(random_bytes(kLogBlockSize + 5000, 30));  // spans a block: three fragments
    payloads.push_back("");
    payloads.push_back(random_bytes(300, 31));
    check_every_cut(payloads, payloads.size() - 4);
  }
  SECTION("a record that leaves block trailer padding behind it") {
    // The first record ends 5 bytes before the block's end: too few for a header, so padding follows.
    check_every_cut({random_bytes(kLogBlockSize - kLogHeaderSize - 5, 32), "next", ""}, 0);
  }
}

TEST_CASE("a cut-off segment that is not the last one is Corruption") {
  TempDir dir;
  const Segment segment = write_segment(dir, 7, {"first", random_bytes(kLogBlockSize, 40), "third"});
  for (std::size_t cut = 1; cut < segment.contents.size(); cut += 97) {
    const ReadBack back = read_segment(std::string_view(segment.contents).substr(0, cut), 7, false);
    const bool at_record_end = cut == segment.ends[0] || cut == segment.ends[1];
    INFO("cut at " << cut);
    CHECK(back.status.ok() == at_record_end);
    if (!at_record_end) CHECK(back.status.message().starts_with("wal/000007.log offset "));
  }
}

TEST_CASE("zero-filled space after the last record is a torn tail, zeros before data are not") {
  TempDir dir;
  const Segment segment = write_segment(dir, 2, {"one", "two"});
  const ReadBack padded = read_segment(segment.contents + std::string(5000, '\0'), 2, true);
  REQUIRE(padded.status.ok());
  CHECK(padded.records.size() == 2);
  CHECK(padded.torn);
  CHECK(padded.valid_end == segment.contents.size());

  const std::string hole = segment.contents + std::string(100, '\0') + "x";
  CHECK(read_segment(hole, 2, true).status.to_string() == "Corruption: wal/000002.log offset " +
                                                              std::to_string(segment.contents.size()) +
                                                              ": zeroed fragment header followed by data");
}

// The positions of the bytes of the record framed at `start` (ending at `end`) in the order
// frame_record() stores them: per fragment, length, type and segment, then the payload, then the crc.
std::vector<std::size_t> store_order(const std::string& contents, std::size_t start, std::size_t end) {
  std::vector<std::size_t> order;
  std::size_t pos = start;
  while (pos < end) {
    const std::size_t left_in_block = kLogBlockSize - pos % kLogBlockSize;
    if (left_in_block < kLogHeaderSize) {  // trailer padding: stored as zeros, whenever
      pos += left_in_block;
      continue;
    }
    const std::size_t length = decode_fixed16(contents.data() + pos + 4);
    for (std::size_t i = 4; i < kLogHeaderSize + length; ++i) order.push_back(pos + i);
    for (std::size_t i = 0; i < 4; ++i) order.push_back(pos + i);
    pos += kLogHeaderSize + length;
  }
  return order;
}

TEST_CASE("a record cut off while being stored into a mapped segment is a torn tail, in the last segment only") {
  TempDir dir;
  // The last record spans three blocks; the segment is mapped, so zeros follow it to the end.
  const std::vector<std::string> payloads = {"one", random_bytes(40000, 7), random_bytes(70000, 8)};
  const Segment segment = write_segment(dir, 2, payloads);
  const std::size_t start = segment.starts[2];
  const std::vector<std::size_t> order = store_order(segment.contents, start, segment.ends[2]);
  REQUIRE(order.size() + 2 * kLogHeaderSize >= payloads[2].size());
  const std::string zero_tail(3 * kLogBlockSize, '\0');
  for (std::size_t stored = 0; stored < order.size(); stored += 1 + stored / 50) {
    // What the file holds when the process died after `stored` of the record's byte stores.
    std::string contents = segment.contents.substr(0, start) + std::string(segment.ends[2] - start, '\0') + zero_tail;
    for (std::size_t i = 0; i < stored; ++i) contents[order[i]] = segment.contents[order[i]];
    INFO("died after " << stored << " of " << order.size() << " stores");
    const ReadBack back = read_segment(contents, 2, /*last_segment=*/true);
    INFO(back.status.to_string());
    REQUIRE(back.status.ok());
    REQUIRE(back.torn);
    REQUIRE(back.valid_end == start);
    REQUIRE(back.records == std::vector<std::string>(payloads.begin(), payloads.begin() + 2));
    // Not in a segment that a later one follows; nor with data after it, which no crash leaves.
    REQUIRE_FALSE(read_segment(contents, 2, /*last_segment=*/false).status.ok());
    if (stored > kLogHeaderSize) REQUIRE(read_segment(contents + "x", 2, true).status.is_corruption());
  }
  // Every store done: the record is whole.
  const ReadBack whole = read_segment(segment.contents + zero_tail, 2, true);
  REQUIRE(whole.status.ok());
  CHECK(whole.records == payloads);
  CHECK(whole.valid_end == segment.ends[2]);
}

TEST_CASE("one flipped bit in a middle record is Corruption naming the file and the offset") {
  TempDir dir;
  std::vector<std::string> payloads = {"before", "the middle record", "after"};
  payloads.push_back(random_bytes(2 * kLogBlockSize, 50));  // the damage is never in the final block
  const Segment segment = write_segment(dir, 2, payloads);
  const std::uint64_t begin = segment.starts[1];
  const std::uint64_t end = segment.ends[1];
  const std::string expected_prefix = "wal/000002.log offset " + std::to_string(begin) + ": ";
  for (std::uint64_t bit = begin * 8; bit < end * 8; ++bit) {
    std::string damaged = segment.contents;
    damaged[bit / 8] = static_cast<char>(damaged[bit / 8] ^ (1 << (bit % 8)));
    for (bool last : {false, true}) {
      const ReadBack back = read_segment(damaged, 2, last);
      INFO("bit " << bit << ": " << back.status.to_string());
      REQUIRE(back.status.is_corruption());
      REQUIRE(back.status.message().starts_with(expected_prefix));
      REQUIRE(back.records == std::vector<std::string>{"before"});
    }
  }
  std::string damaged = segment.contents;
  damaged[begin + kLogHeaderSize] ^= 1;
  CHECK(read_segment(damaged, 2, true).status.to_string() == "Corruption: " + expected_prefix + "bad checksum");
}

TEST_CASE("a record copied from another segment is rejected") {
  TempDir dir;
  const std::vector<std::string> payloads = {"alpha", "beta", "gamma"};
  const Segment three = write_segment(dir, 3, payloads);
  const Segment four = write_segment(dir, 4, payloads);
  REQUIRE(three.contents.size() == four.contents.size());
  CHECK(three.contents != four.contents);
  std::string spliced = four.contents;
  spliced.replace(four.starts[1], four.ends[1] - four.starts[1],
                  three.contents.substr(three.starts[1], three.ends[1] - three.starts[1]));
  for (bool last : {false, true}) {
    CHECK(read_segment(spliced, 4, last).status.to_string() == "Corruption: wal/000004.log offset " +
                                                                   std::to_string(four.starts[1]) +
                                                                   ": fragment written to segment 3, not this one");
  }
  // A whole segment renamed into another's place is rejected at its first record.
  CHECK(read_segment(three.contents, 4, true).status.message().starts_with("wal/000004.log offset 0: "));
}

TEST_CASE("malformed framing: bad types, fragments out of order, lengths past the block") {
  const std::string full = fragment(FragmentType::kFull, 1, "ok");
  const auto status_of = [](const std::string& contents) { return read_segment(contents, 1, true).status; };
  CHECK(status_of(full + fragment(static_cast<FragmentType>(9), 1, "x")).to_string() ==
        "Corruption: wal/000001.log offset 13: bad fragment type 9");
  CHECK(status_of(full + fragment(FragmentType::kMiddle, 1, "x")).message() ==
        "wal/000001.log offset 13: fragment of type 3 outside a fragmented record");
  CHECK(status_of(fragment(FragmentType::kFirst, 1, "a") + full).message() ==
        "wal/000001.log offset 12: fragment of type 1 inside a fragmented record");
  std::string too_long = fragment(FragmentType::kFull, 1, "x");
  encode_fixed16(too_long.data() + 4, 0xffff);
  too_long.append(70000, 'y');
  CHECK(status_of(too_long).message() == "wal/000001.log offset 0: fragment length 65535 runs past its block");
  // A FIRST fragment cut off by the end of the last segment is a torn tail.
  const ReadBack torn = read_segment(full + fragment(FragmentType::kFirst, 1, "a"), 1, true);
  CHECK(torn.status.ok());
  CHECK(torn.torn);
  CHECK(torn.valid_end == full.size());
}

// Reads segments in order, decoding every record and checking LSN continuity: the first error.
Status replay(const std::vector<Segment>& segments, std::uint64_t expected_lsn) {
  LsnChain chain(expected_lsn);
  for (std::size_t i = 0; i < segments.size(); ++i) {
    const std::uint64_t number = segments[i].number;
    LogReader reader(segments[i].contents, log_file_name(number), number, i + 1 == segments.size());
    std::string_view payload;
    while (reader.read(&payload)) {
      LogRecord record;
      Status s = decode_log_record(payload, &record);
      if (s.ok()) s = chain.accept(record.lsn);
      if (!s.ok()) return located(reader.location(reader.record_offset()), s);
    }
    if (!reader.status().ok()) return reader.status();
  }
  return Status::ok_status();
}

std::vector<std::string> puts_with_lsns(std::initializer_list<std::uint64_t> lsns) {
  std::vector<std::string> payloads;
  for (std::uint64_t lsn : lsns) {
    payloads.emplace_back();
    append_log_record(&payloads.back(), lsn, {LogOpType::kPut, "key" + std::to_string(lsn), "record"});
  }
  return payloads;
}

TEST_CASE("LSNs must follow one another across segments") {
  TempDir dir;
  const Segment one = write_segment(dir, 1, puts_with_lsns({11, 12, 13}));
  CHECK(replay({one, write_segment(dir, 2, puts_with_lsns({14, 15}))}, 11).ok());
  CHECK(replay({one}, 0).ok());
  CHECK(replay({one}, 10).to_string() == "Corruption: wal/000001.log offset 0: LSN 11 where 10 was expected");
  const Segment gap = write_segment(dir, 3, puts_with_lsns({14, 16}));
  CHECK(replay({one, gap}, 11).to_string() ==
        "Corruption: wal/000003.log offset " + std::to_string(gap.starts[1]) + ": LSN 16 where 15 was expected");
  const Segment repeat = write_segment(dir, 4, puts_with_lsns({13}));
  CHECK(replay({one, repeat}, 11).message() == "wal/000004.log offset 0: LSN 13 where 14 was expected");
}

}  // namespace
}  // namespace mantis::detail
