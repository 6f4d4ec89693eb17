// Log replay at open, below the public API: ReplayBatch, the order recovery applies a log slice in
// (sort() must give exactly a stable sort by key, memcmp order and log order within a key, and mark
// where keys change, for any keys: long shared prefixes, keys that are prefixes of others, zero
// bytes, the empty key, many repeats), and the expire and persist records only older logs hold, which
// replay must still apply as those versions did. That replay rebuilds what the live engine had, for
// every operation it logs today, is durability_test's "[replay]" case.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "durability/file_names.hpp"
#include "durability/log_record.hpp"
#include "engine/replay_batch.hpp"
#include "log_test_util.hpp"
#include "manual_clock.hpp"
#include "store/record.hpp"
#include "test_util.hpp"

using mantis::Engine;
using mantis::Options;
using mantis::Status;
using mantis::Version;
using mantis::detail::append_log_record;
using mantis::detail::LogOp;
using mantis::detail::LogOpType;
using mantis::detail::Record;
using mantis::detail::ReplayBatch;
using mantis::test::ManualClock;
using mantis::test::open_engine;
using mantis::test::TempDir;
using namespace std::chrono_literals;

namespace {

std::string random_key(std::mt19937_64& rng) {
  static const std::string kShared(37, 'p');
  std::string key;
  switch (rng() % 5) {
    case 0: return key;  // the empty key
    case 1: key = kShared; break;
    case 2: key = "ab"; break;
    case 3: key = std::string(static_cast<std::size_t>(rng() % 20), '\0'); break;
    default: break;
  }
  const std::size_t tail = rng() % 12;
  for (std::size_t i = 0; i < tail; ++i) key.push_back(static_cast<char>("\0\1ab\xff"[rng() % 5]));
  return key;
}

}  // namespace

TEST_CASE("a replay batch sorts by key, keeping log order within a key, and marks key changes", "[replay]") {
  std::mt19937_64 rng(GENERATE(1, 2, 3));
  const std::size_t n = GENERATE(1, 2, 50, 5000);
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < n; ++i) keys.push_back(random_key(rng));
  ReplayBatch batch;
  for (std::size_t i = 0; i < n; ++i) batch.add(LogOpType::kErase, keys[i], nullptr, 0, /*seq=*/i);
  batch.sort();
  std::vector<std::size_t> expected(n);
  std::iota(expected.begin(), expected.end(), 0);
  std::stable_sort(expected.begin(), expected.end(), [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
  REQUIRE(batch.size() == n);
  for (std::size_t i = 0; i < n; ++i) {
    INFO("position " << i);
    ReplayBatch::Op& op = batch.sorted(i);
    REQUIRE(op.seq == expected[i]);
    REQUIRE(batch.key(op) == keys[expected[i]]);
    REQUIRE(batch.starts_key(i) == (i == 0 || keys[expected[i]] != keys[expected[i - 1]]));
  }
}

TEST_CASE("a replay batch releases the records it still owns, and reports when it is full", "[replay]") {
  ReplayBatch batch;
  CHECK(batch.empty());
  std::size_t added = 0;
  while (!batch.full()) batch.add(LogOpType::kErase, "key" + std::to_string(added++), nullptr, 0, 0);
  CHECK(added == ReplayBatch::kMaxOps);
  batch.clear();
  CHECK(batch.empty());
  CHECK_FALSE(batch.full());
  batch.add(LogOpType::kPut, "k", mantis::detail::Record::create("value", 0, 1), 0, 0);
  // The batch's destructor drops the record's reference: leak checkers (ASan) catch it if not.
}

namespace {

// A put log record of `value` with this expiry and seq, as the engine writes it.
std::string put_record(std::uint64_t lsn, std::string_view key, std::string_view value, std::uint64_t expires_at_ms,
                       std::uint64_t seq) {
  Record* record = Record::create(value, expires_at_ms, seq);
  REQUIRE(record != nullptr);
  std::string encoding;
  std::string payload;
  append_log_record(&payload, lsn, LogOp{LogOpType::kPut, key, record->encoded(&encoding)});
  Record::unref(record);
  return payload;
}

std::string erase_record(std::uint64_t lsn, std::string_view key) {
  std::string payload;
  LogOp op;
  op.type = LogOpType::kErase;
  op.key = key;
  append_log_record(&payload, lsn, op);
  return payload;
}

// An expire or persist log record, as versions before the fix of lost persists wrote them.
std::string rewrite_record(std::uint64_t lsn, LogOpType type, std::string_view key, std::uint64_t expires_at_ms,
                           std::uint64_t seq) {
  std::string payload;
  append_log_record(&payload, lsn, LogOp{type, key, {}, expires_at_ms, seq});
  return payload;
}

}  // namespace

TEST_CASE("expire and persist records of older logs replay as those versions applied them", "[replay]") {
  TempDir dir;
  Options options;
  options.dir = dir.path();
  options.reaper_interval = 0ms;
  ManualClock clock(1'000'000);
  const std::uint64_t t = clock.now_ms();
  {
    auto db = open_engine(options, &clock);
    REQUIRE(db->put("s1", "snap1").ok());
    REQUIRE(db->put("s3", "snap3", mantis::WriteOptions{.ttl = 50ms}).ok());
    REQUIRE(db->checkpoint().ok());
  }
  // The next segment after the session's, with LSNs after the snapshot's.
  std::uint64_t snapshot_lsn = 0;
  std::uint64_t last_segment = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    std::uint64_t number = 0;
    if (mantis::detail::parse_file_name(entry.path().filename().string(), &number) ==
        mantis::detail::FileKind::kSnapshot) {
      snapshot_lsn = number;
    }
  }
  for (const auto& entry : std::filesystem::directory_iterator(dir / "wal")) {
    last_segment = std::max<std::uint64_t>(last_segment, std::stoull(entry.path().stem().string()));
  }
  REQUIRE(snapshot_lsn > 0);
  std::uint64_t lsn = snapshot_lsn;
  std::vector<std::string> log;
  // Keys the snapshot holds, first touched by a rewrite (applied to the store's record).
  log.push_back(rewrite_record(++lsn, LogOpType::kExpire, "s1", t + 100, 1000));
  log.push_back(rewrite_record(++lsn, LogOpType::kPersist, "s3", 0, 1001));
  // Keys put earlier in the same slice (folded).
  log.push_back(put_record(++lsn, "p1", "one", 0, 1002));
  log.push_back(rewrite_record(++lsn, LogOpType::kExpire, "p1", t + 200, 1003));
  log.push_back(put_record(++lsn, "p2", "two", t + 5, 1004));  // expired by the time of the replay:
  log.push_back(rewrite_record(++lsn, LogOpType::kPersist, "p2", 0, 1005));  // judged then, so dropped
  log.push_back(put_record(++lsn, "p3", "three", 0, 1006));
  log.push_back(erase_record(++lsn, "p3"));
  log.push_back(rewrite_record(++lsn, LogOpType::kExpire, "p3", t + 300, 1007));    // absent: nothing
  log.push_back(rewrite_record(++lsn, LogOpType::kPersist, "never", 0, 1008));      // absent: nothing
  mantis::test::write_segment(dir, last_segment + 1, log);

  clock.advance(10);
  auto db = open_engine(options, &clock);
  auto state = [&](std::string_view key) -> std::optional<std::pair<std::string, Version>> {
    std::string value;
    Version version = 0;
    const Status s = db->get(key, &value, &version);
    if (s.is_not_found()) return std::nullopt;
    REQUIRE(s.ok());
    return std::make_pair(value, version);
  };
  auto ttl = [&](std::string_view key) {
    std::optional<std::chrono::milliseconds> remaining;
    REQUIRE(db->ttl(key, &remaining).ok());
    return remaining;
  };
  CHECK(state("s1") == std::make_pair(std::string("snap1"), Version{1000}));
  CHECK(ttl("s1") == 90ms);
  CHECK(state("s3") == std::make_pair(std::string("snap3"), Version{1001}));
  CHECK_FALSE(ttl("s3").has_value());
  CHECK(state("p1") == std::make_pair(std::string("one"), Version{1003}));
  CHECK(ttl("p1") == 190ms);
  CHECK_FALSE(state("p2").has_value());
  CHECK_FALSE(state("p3").has_value());
  CHECK_FALSE(state("never").has_value());
  // Versions go on after the highest one replayed.
  REQUIRE(db->put("after", "x").ok());
  CHECK(state("after")->second > 1008);
}
