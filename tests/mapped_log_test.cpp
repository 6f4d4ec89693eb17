// MappedLog, the write-ahead log of kAsync and kPeriodic (durability/mapped_log.hpp): LSNs and records
// in order across threads and segments, segments cut to their records, rotation waiting for applies,
// the sync barrier, sticky errors, and the fall-back to group commit where the Env maps no files.
#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "durability/coding.hpp"
#include "durability/file_names.hpp"
#include "durability/log_reader.hpp"
#include "durability/write_ahead_log.hpp"
#include "env/fault_injection_env.hpp"
#include "log_test_util.hpp"

namespace mantis::detail {
namespace {

using test::TempDir;
using namespace std::chrono_literals;

WriteAheadLog::Config config_for(const TempDir& dir, std::uint64_t segment_bytes, Env* env = Env::posix()) {
  REQUIRE(env->create_dir(dir / std::string(kWalDirName)).ok());
  WriteAheadLog::Config config;
  config.env = env;
  config.dir = dir.path();
  config.segment_bytes = segment_bytes;
  return config;
}

std::unique_ptr<WriteAheadLog> open_log(const WriteAheadLog::Config& config, std::uint64_t segment = 1,
                                        std::uint64_t next_lsn = 1) {
  std::unique_ptr<WriteAheadLog> log;
  const Status s = WriteAheadLog::open(config, segment, next_lsn, &log);
  INFO(s.to_string());
  REQUIRE(s.ok());
  return log;
}

// A payload: kLsnBytes for the log to fill, then `body`.
std::string payload_of(std::string_view body) { return std::string(WriteAheadLog::kLsnBytes, '\0') + std::string(body); }

Status write(WriteAheadLog& log, std::string body, bool sync = false, std::uint64_t* lsn = nullptr) {
  std::string payload = payload_of(body);
  return log.write(&payload, sync, [&](std::uint64_t given) {
    if (lsn != nullptr) *lsn = given;
    return Status::ok_status();
  });
}

struct Logged {
  std::map<std::uint64_t, std::string> bodies;  // by LSN
  std::vector<std::uint64_t> segments;
  std::vector<std::uint64_t> sizes;
};

// Every record of every segment in wal/, checked: each segment reads cleanly (no torn tail: they were
// closed) and LSNs ascend by one across segments.
Logged read_all(const TempDir& dir) {
  std::vector<std::string> names;
  REQUIRE(Env::posix()->list_dir(dir / std::string(kWalDirName), &names).ok());
  Logged logged;
  for (const std::string& name : names) {
    std::uint64_t number = 0;
    if (parse_file_name(name, &number) == FileKind::kLog) {
      logged.segments.push_back(number);
    }
  }
  std::sort(logged.segments.begin(), logged.segments.end());
  std::uint64_t expected = 0;
  for (const std::uint64_t number : logged.segments) {
    std::shared_ptr<const MappedFile> file;
    REQUIRE(Env::posix()->map_file(dir / log_file_name(number), &file).ok());
    logged.sizes.push_back(file->size());
    LogReader reader(file->data(), log_file_name(number), number, /*last_segment=*/false);
    std::string_view payload;
    while (reader.read(&payload)) {
      REQUIRE(payload.size() >= WriteAheadLog::kLsnBytes);
      const std::uint64_t lsn = decode_fixed64(payload.data());
      if (expected != 0) REQUIRE(lsn == expected);
      expected = lsn + 1;
      logged.bodies.emplace(lsn, std::string(payload.substr(WriteAheadLog::kLsnBytes)));
    }
    INFO(reader.status().to_string());
    REQUIRE(reader.status().ok());
    REQUIRE_FALSE(reader.torn_tail());
  }
  return logged;
}

TEST_CASE("mapped log: concurrent writers get consecutive LSNs, in the log in LSN order, across segments") {
  TempDir dir;
  auto log = open_log(config_for(dir, 16 << 10), /*segment=*/3, /*next_lsn=*/100);
  REQUIRE_FALSE(log->applies_in_lsn_order());
  constexpr int kThreads = 4;
  constexpr int kWrites = 2000;
  std::vector<std::map<std::uint64_t, std::string>> given(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i) {
        // Sizes from empty to a few blocks, so records are split across blocks and segments.
        const std::string body = std::to_string(t) + ":" + std::to_string(i) +
                                 std::string(static_cast<std::size_t>((i * 7919) % (i % 50 == 0 ? 70000 : 300)), 'x');
        std::uint64_t lsn = 0;
        if (!write(*log, body, /*sync=*/i % 500 == 0, &lsn).ok()) std::abort();
        given[static_cast<std::size_t>(t)].emplace(lsn, body);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(log->last_lsn() == 100 + kThreads * kWrites - 1);
  REQUIRE(log->close().ok());
  CHECK(write(*log, "after close").is_closed());

  const Logged logged = read_all(dir);
  REQUIRE(logged.bodies.size() == kThreads * kWrites);
  CHECK(logged.bodies.begin()->first == 100);
  for (const auto& mine : given) {
    for (const auto& [lsn, body] : mine) REQUIRE(logged.bodies.at(lsn) == body);
  }
  CHECK(logged.segments.front() == 3);
  CHECK(logged.segments.size() > 10);
  CHECK(logged.segments.back() == logged.segments.front() + logged.segments.size() - 1);
  // Segments are cut to their records (read_all: no zero tail), and a record larger than a segment
  // got one of its own size.
  CHECK(*std::max_element(logged.sizes.begin(), logged.sizes.end()) > (16u << 10));
}

TEST_CASE("mapped log: rotate() returns only once every write up to its LSN is applied") {
  TempDir dir;
  auto log = open_log(config_for(dir, 1 << 20));
  std::atomic<bool> applying{false};
  std::atomic<bool> applied{false};
  std::uint64_t slow_lsn = 0;
  std::thread slow([&] {
    std::string payload = payload_of("slow");
    const Status s = log->write(&payload, false, [&](std::uint64_t lsn) {
      slow_lsn = lsn;
      applying = true;
      std::this_thread::sleep_for(200ms);
      applied = true;
      return Status::ok_status();
    });
    if (!s.ok()) std::abort();
  });
  while (!applying) std::this_thread::yield();
  std::uint64_t last = 0;
  std::uint64_t segment = 0;
  REQUIRE(log->rotate(&last, &segment).ok());
  CHECK(applied);  // W4
  slow.join();
  CHECK(last == slow_lsn);
  CHECK(segment == 2);
  std::uint64_t next = 0;
  REQUIRE(write(*log, "next", false, &next).ok());
  CHECK(next == last + 1);
  CHECK(log->bytes_since_rotate() == WriteAheadLog::kLsnBytes + 4);
}

TEST_CASE("mapped log: sync() is a barrier with one fdatasync for everything before it, none when nothing is new") {
  TempDir dir;
  auto log = open_log(config_for(dir, 1 << 20));
  REQUIRE(log->sync().ok());
  CHECK(log->timings().fdatasync_ns.summary().count == 0);
  for (int i = 0; i < 10; ++i) REQUIRE(write(*log, "w" + std::to_string(i)).ok());
  CHECK(log->timings().fdatasync_ns.summary().count == 0);  // no write asked for one
  REQUIRE(log->sync().ok());
  REQUIRE(log->sync().ok());
  CHECK(log->timings().fdatasync_ns.summary().count == 1);
  CHECK(log->timings().group_records.summary().sum == 10);
  REQUIRE(write(*log, "synced", /*sync=*/true).ok());
  CHECK(log->timings().fdatasync_ns.summary().count == 2);
}

TEST_CASE("mapped log: a failed apply is sticky, and nothing after it is logged") {
  TempDir dir;
  auto log = open_log(config_for(dir, 1 << 20));
  REQUIRE(write(*log, "fine").ok());
  std::string payload = payload_of("refused by the store");
  const Status failed =
      log->write(&payload, false, [](std::uint64_t) { return Status::resource_exhausted("out of memory"); });
  CHECK(failed.is_resource_exhausted());
  CHECK(log->error().is_resource_exhausted());
  CHECK(write(*log, "later").is_resource_exhausted());
  CHECK(log->sync().is_resource_exhausted());
  std::uint64_t last = 0;
  std::uint64_t segment = 0;
  CHECK(log->rotate(&last, &segment).is_resource_exhausted());
  CHECK(log->close().ok());  // the segment is still cut to its records
  const Logged logged = read_all(dir);
  CHECK(logged.bodies.size() == 2);  // "fine" and the failed write, which recovery replays
  CHECK(logged.bodies.rbegin()->second == "refused by the store");
}

TEST_CASE("the log falls back to group commit where the Env maps no files, and for kSync") {
  TempDir dir;
  FaultInjectionEnv env(Env::posix());
  auto log = open_log(config_for(dir, 1 << 20, &env));
  CHECK(log->applies_in_lsn_order());
  REQUIRE(write(*log, "grouped").ok());
  REQUIRE(log->close().ok());

  TempDir sync_dir;
  WriteAheadLog::Config config = config_for(sync_dir, 1 << 20);
  config.sync_every_write = true;
  auto synced = open_log(config);
  CHECK(synced->applies_in_lsn_order());
}

}  // namespace
}  // namespace mantis::detail
