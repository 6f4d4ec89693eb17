// Snapshots (snapshot.hpp, Engine::snapshot): a read through a snapshot sees exactly the writes with
// version <= the snapshot's, for as long as it lives, across point reads, scans and iterators, with
// expiry judged at the snapshot's time; batches and clears are seen whole or not at all; bad snapshots
// are refused. Each in memory, with the cache tier, and durable; then under concurrent writers, where
// every snapshot must stay stable while it lives and see every write acknowledged before it.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "manual_clock.hpp"
#include "temp_dir.hpp"
#include "test_util.hpp"

using mantis::Engine;
using mantis::Options;
using mantis::ReadOptions;
using mantis::Snapshot;
using mantis::Status;
using mantis::Version;
using mantis::WriteBatch;
using mantis::WriteOptions;
using mantis::test::contents_of;
using mantis::test::options_for;
using mantis::test::Setup;
using mantis::test::ManualClock;
using mantis::test::open_engine;
using mantis::test::TempDir;
using mantis::test::value_at;
using mantis::test::value_of;
using namespace std::chrono_literals;

namespace {

std::unique_ptr<Engine> open_for(Setup setup, const TempDir& dir, const mantis::detail::Clock* clock = nullptr) {
  Options options = options_for(setup, dir.path());
  options.reaper_interval = 0ms;
  return open_engine(options, clock);
}

std::map<std::string, std::string> scan_at(const Engine& engine, const Snapshot& snapshot,
                                           std::string_view begin = {}, std::string_view end = {}) {
  ReadOptions read;
  read.snapshot = &snapshot;
  std::map<std::string, std::string> out;
  const Status s = engine.scan(read, begin, end, [&](std::string_view k, std::string_view v) {
    REQUIRE(out.emplace(std::string(k), std::string(v)).second);
    return true;
  });
  REQUIRE(s.ok());
  return out;
}

std::map<std::string, std::string> iterate_at(const Engine& engine, const Snapshot& snapshot) {
  ReadOptions read;
  read.snapshot = &snapshot;
  std::unique_ptr<mantis::Iterator> it;
  REQUIRE(engine.new_iterator(read, &it).ok());
  std::map<std::string, std::string> out;
  for (it->seek_to_first(); it->valid(); it->next()) {
    REQUIRE(out.emplace(std::string(it->key()), std::string(it->value())).second);
  }
  REQUIRE(it->status().ok());
  return out;
}

}  // namespace

TEST_CASE("a snapshot sees exactly the state when it was taken, however the engine changes", "[snapshot]") {
  const Setup setup = GENERATE(Setup::kMemory, Setup::kMemoryTier, Setup::kDurable);
  CAPTURE(static_cast<int>(setup));
  TempDir dir;
  auto engine = open_for(setup, dir);
  REQUIRE(engine->put("a", "1").ok());
  REQUIRE(engine->put("b", "2").ok());
  REQUIRE(engine->put("d", "4").ok());
  Version a_version = 0;
  std::string value;
  REQUIRE(engine->get("a", &value, &a_version).ok());

  Snapshot snapshot = engine->snapshot();
  REQUIRE(snapshot.valid());
  CHECK(snapshot.version() >= a_version);
  const std::map<std::string, std::string> before{{"a", "1"}, {"b", "2"}, {"d", "4"}};

  // Every kind of write after it.
  REQUIRE(engine->put("a", "10").ok());
  REQUIRE(engine->put("a", "11").ok());
  REQUIRE(engine->erase("b").ok());
  REQUIRE(engine->put("c", "3").ok());
  REQUIRE(engine->put("b", "20").ok());  // erased, then back
  WriteBatch batch;
  batch.put("e", "5");
  batch.erase("d");
  REQUIRE(engine->write(batch).ok());
  REQUIRE(engine->put_if_present("a", "12").ok());
  std::int64_t sum = 0;
  REQUIRE(engine->increment("n", 5, &sum).ok());
  REQUIRE(engine->expire("a", 1h).ok());

  CHECK(value_at(*engine, snapshot, "a") == "1");
  CHECK(value_at(*engine, snapshot, "b") == "2");
  CHECK(value_at(*engine, snapshot, "c") == "<absent>");
  CHECK(value_at(*engine, snapshot, "d") == "4");
  CHECK(value_at(*engine, snapshot, "e") == "<absent>");
  CHECK(value_at(*engine, snapshot, "n") == "<absent>");
  Version version = 0;
  ReadOptions read;
  read.snapshot = &snapshot;
  REQUIRE(engine->get(read, "a", &value, &version).ok());
  CHECK(version == a_version);
  CHECK(scan_at(*engine, snapshot) == before);
  CHECK(iterate_at(*engine, snapshot) == before);
  CHECK(scan_at(*engine, snapshot, "b", "d") == std::map<std::string, std::string>{{"b", "2"}});
  std::map<std::string, std::string> prefixed;
  REQUIRE(engine->scan_prefix(read, "d", [&](std::string_view k, std::string_view v) {
                  prefixed.emplace(k, v);
                  return true;
                }).ok());
  CHECK(prefixed == std::map<std::string, std::string>{{"d", "4"}});

  // The latest state is unaffected by the snapshot.
  CHECK(value_of(*engine, "a") == "12");
  CHECK(contents_of(*engine) ==
        std::map<std::string, std::string>{{"a", "12"}, {"b", "20"}, {"c", "3"}, {"e", "5"}, {"n", "5"}});

  // A second snapshot sees the new state; the first is unchanged.
  Snapshot later = engine->snapshot();
  CHECK(later.version() > snapshot.version());
  CHECK(scan_at(*engine, later) == contents_of(*engine));
  REQUIRE(engine->clear().ok());
  CHECK(scan_at(*engine, snapshot) == before);
  CHECK(value_at(*engine, later, "c") == "3");
  CHECK(contents_of(*engine).empty());
}

TEST_CASE("a snapshot judges expiry at the moment it was taken", "[snapshot][ttl]") {
  const Setup setup = GENERATE(Setup::kMemory, Setup::kMemoryTier, Setup::kDurable);
  CAPTURE(static_cast<int>(setup));
  TempDir dir;
  ManualClock clock(1'000'000);
  auto engine = open_for(setup, dir, &clock);
  WriteOptions ttl;
  ttl.ttl = 100ms;
  REQUIRE(engine->put("dies-before", "x", ttl).ok());
  clock.advance(150);
  REQUIRE(engine->put("dies-after", "y", ttl).ok());
  Snapshot snapshot = engine->snapshot();
  clock.advance(150);  // dies-after expires now, after the snapshot
  CHECK(value_of(*engine, "dies-after") == "<absent>");
  CHECK(value_at(*engine, snapshot, "dies-after") == "y");
  CHECK(value_at(*engine, snapshot, "dies-before") == "<absent>");
  CHECK(scan_at(*engine, snapshot) == std::map<std::string, std::string>{{"dies-after", "y"}});
  CHECK(iterate_at(*engine, snapshot) == std::map<std::string, std::string>{{"dies-after", "y"}});
  // A write over the expired record keeps the snapshot's view of it.
  REQUIRE(engine->put("dies-after", "z").ok());
  CHECK(value_at(*engine, snapshot, "dies-after") == "y");
  CHECK(value_of(*engine, "dies-after") == "z");
}

TEST_CASE("reads through a bad snapshot are refused", "[snapshot]") {
  auto engine = open_engine();
  auto other = open_engine();
  REQUIRE(engine->put("k", "v").ok());
  Snapshot foreign = other->snapshot();
  Snapshot empty;
  Snapshot released = engine->snapshot();
  released.reset();
  std::string value;
  for (const Snapshot* bad : {&foreign, &empty, &released}) {
    ReadOptions read;
    read.snapshot = bad;
    CHECK(engine->get(read, "k", &value).is_invalid_argument());
    CHECK(engine->scan(read, "", "", [](std::string_view, std::string_view) { return true; }).is_invalid_argument());
    std::unique_ptr<mantis::Iterator> it;
    CHECK(engine->new_iterator(read, &it).is_invalid_argument());
    CHECK(it == nullptr);
  }
  // Moving a snapshot moves its hold.
  Snapshot first = engine->snapshot();
  REQUIRE(engine->put("k", "w").ok());
  Snapshot moved = std::move(first);
  CHECK_FALSE(first.valid());
  CHECK(value_at(*engine, moved, "k") == "v");
}

TEST_CASE("a snapshot sees a batch whole or not at all, under concurrent batches", "[snapshot][stress]") {
  const Setup setup = GENERATE(Setup::kMemory, Setup::kMemoryTier);
  CAPTURE(static_cast<int>(setup));
  TempDir dir;
  auto engine = open_for(setup, dir);
  constexpr int kKeys = 16;
  std::atomic<bool> stop{false};
  std::atomic<long> errors{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&, w] {
      for (int round = 1; !stop.load(std::memory_order_relaxed); ++round) {
        WriteBatch batch;
        const std::string value = std::to_string(w) + ":" + std::to_string(round);
        for (int k = 0; k < kKeys; ++k) batch.put("key" + std::to_string(k), value);
        if (!engine->write(batch).ok()) errors.fetch_add(1);  // no Catch macros in worker threads
        if (round % 3 == 0 && !engine->clear().ok()) errors.fetch_add(1);
      }
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + mantis::test::stress_duration();
  int snapshots = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    Snapshot snapshot = engine->snapshot();
    const auto first = scan_at(*engine, snapshot);
    // All or nothing: every key holds the same batch's value, or the state is empty (after a clear).
    if (!first.empty()) {
      REQUIRE(first.size() == static_cast<std::size_t>(kKeys));
      for (const auto& [key, value] : first) REQUIRE(value == first.begin()->second);
    }
    // Stable while it lives, by every read path.
    REQUIRE(iterate_at(*engine, snapshot) == first);
    for (int k = 0; k < kKeys; ++k) {
      const std::string key = "key" + std::to_string(k);
      const auto it = first.find(key);
      REQUIRE(value_at(*engine, snapshot, key) == (it == first.end() ? "<absent>" : it->second));
    }
    ++snapshots;
  }
  stop = true;
  for (auto& t : writers) t.join();
  CHECK(snapshots > 0);
  CHECK(errors.load() == 0);
}

TEST_CASE("a snapshot sees every write acknowledged before it and nothing started after it", "[snapshot][stress]") {
  const Setup setup = GENERATE(Setup::kMemory, Setup::kMemoryTier, Setup::kDurable);
  CAPTURE(static_cast<int>(setup));
  TempDir dir;
  auto engine = open_for(setup, dir);
  // Each writer owns its keys and writes increasing counters; acked[w] is its last acknowledged
  // counter and started[w] the last it began to write.
  constexpr int kWriters = 3;
  constexpr int kKeysEach = 8;
  std::atomic<long> acked[kWriters];
  std::atomic<long> started[kWriters];
  std::atomic<long> errors{0};
  for (int w = 0; w < kWriters; ++w) {
    acked[w] = 0;
    started[w] = 0;
  }
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      for (long n = 1; !stop.load(std::memory_order_relaxed); ++n) {
        const std::string key = "w" + std::to_string(w) + "k" + std::to_string(n % kKeysEach);
        started[w].store(n, std::memory_order_seq_cst);
        // The key's counter: n; a key not yet written holds n - kKeysEach's.
        const Status s = n % 5 == 0 ? engine->erase(key) : engine->put(key, std::to_string(n));
        if (!s.ok()) errors.fetch_add(1);  // no Catch macros in worker threads
        acked[w].store(n, std::memory_order_seq_cst);
      }
    });
  }
  const auto deadline = std::chrono::steady_clock::now() + mantis::test::stress_duration();
  while (std::chrono::steady_clock::now() < deadline) {
    long low[kWriters];
    long high[kWriters];
    for (int w = 0; w < kWriters; ++w) low[w] = acked[w].load(std::memory_order_seq_cst);
    Snapshot snapshot = engine->snapshot();
    for (int w = 0; w < kWriters; ++w) high[w] = started[w].load(std::memory_order_seq_cst);
    for (int pass = 0; pass < 2; ++pass) {  // the same answer both times, while the writers go on
      for (int w = 0; w < kWriters; ++w) {
        for (int k = 0; k < kKeysEach; ++k) {
          const std::string key = "w" + std::to_string(w) + "k" + std::to_string(k);
          // The last write of key acknowledged before the snapshot: the largest n <= low with n % kKeysEach == k.
          const long last_acked = low[w] - ((low[w] - k) % kKeysEach + kKeysEach) % kKeysEach;
          const std::string seen = value_at(*engine, snapshot, key);
          CAPTURE(key, low[w], high[w], seen, pass);
          if (seen == "<absent>") {
            // Absent: never written by then, or erased by a write in [last_acked, high].
            const bool erased_in_window = [&] {
              for (long n = std::max(last_acked, 1L); n <= high[w]; n += kKeysEach) {
                if (n % kKeysEach == k && n % 5 == 0) return true;
              }
              return false;
            }();
            REQUIRE((last_acked < 1 || erased_in_window));
          } else {
            const long n = std::stol(seen);
            REQUIRE(n % kKeysEach == k);
            REQUIRE(n >= last_acked);
            REQUIRE(n <= high[w]);
          }
        }
      }
    }
  }
  stop = true;
  for (auto& t : writers) t.join();
  CHECK(errors.load() == 0);
}

TEST_CASE("stats count live snapshots and kept versions, which go once no snapshot lives", "[snapshot][stats]") {
  ManualClock clock(1'000'000);
  Options options;
  options.reaper_interval = 0ms;
  auto engine = open_engine(options, &clock);
  REQUIRE(engine->put("k", "1").ok());
  CHECK(engine->stats().snapshots == 0);
  {
    Snapshot snapshot = engine->snapshot();
    Snapshot second = engine->snapshot();
    CHECK(engine->stats().snapshots == 2);
    for (int i = 2; i <= 10; ++i) REQUIRE(engine->put("k", std::to_string(i)).ok());
    CHECK(engine->stats().versions_kept >= 1);
    CHECK(value_at(*engine, snapshot, "k") == "1");
  }
  CHECK(engine->stats().snapshots == 0);
  // A write after a quiet second turns the versioned mode off and drops what was kept.
  clock.advance(2000);
  REQUIRE(engine->put("k", "11").ok());
  CHECK(engine->stats().versions_kept == 0);
  // And the next snapshot turns it on again, from the state now.
  Snapshot again = engine->snapshot();
  REQUIRE(engine->put("k", "12").ok());
  CHECK(value_at(*engine, again, "k") == "11");
  const std::string json = engine->stats().to_json();
  CHECK(json.find("\"snapshots\":1") != std::string::npos);
}

TEST_CASE("a batch that writes a key several times keeps the key's state before the batch", "[snapshot]") {
  auto engine = open_engine();
  REQUIRE(engine->put("k", "before").ok());
  REQUIRE(engine->put("gone", "x").ok());
  Snapshot snapshot = engine->snapshot();
  WriteBatch batch;
  batch.put("k", "1");
  batch.erase("k");
  batch.put("k", "2");
  batch.erase("gone");
  batch.put("gone", "back");
  batch.erase("gone");
  batch.erase("never");
  batch.put("new", "n");
  batch.put("new", "m");
  REQUIRE(engine->write(batch).ok());
  CHECK(scan_at(*engine, snapshot) == std::map<std::string, std::string>{{"gone", "x"}, {"k", "before"}});
  CHECK(contents_of(*engine) == std::map<std::string, std::string>{{"k", "2"}, {"new", "m"}});
  Snapshot after = engine->snapshot();
  CHECK(scan_at(*engine, after) == contents_of(*engine));
}
