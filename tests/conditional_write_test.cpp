// Versions and conditional writes (engine.hpp): put_if_absent, put_if_present, put_if_version,
// erase_if_version, erase reporting removal, get_and_put, increment and WriteOptions::keep_ttl.
// Each contract is checked in memory, in memory with the cache tier on, and in a durable engine
// (where conditional writes take another path: key_locks.hpp), then under contention: counters
// incremented by CAS loops and by increment() must come out exact, and exactly one put_if_absent wins
// each race. Durable engines must recover exactly the values and versions they acknowledged.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "manual_clock.hpp"
#include "temp_dir.hpp"
#include "test_util.hpp"

using mantis::Engine;
using mantis::Options;
using mantis::Status;
using mantis::Version;
using mantis::WriteOptions;
using mantis::test::options_for;
using mantis::test::Setup;
using mantis::test::ManualClock;
using mantis::test::open_engine;
using mantis::test::TempDir;
using mantis::test::value_of;
using namespace std::chrono_literals;

namespace {

// An engine for `setup`; durable ones live in `dir`.
std::unique_ptr<Engine> open_for(Setup setup, const TempDir& dir, const mantis::detail::Clock* clock = nullptr) {
  Options options = options_for(setup, dir.path());
  options.reaper_interval = 0ms;
  return open_engine(options, clock);
}

Version version_of(const Engine& engine, std::string_view key) {
  std::string value;
  Version version = 0;
  const Status s = engine.get(key, &value, &version);
  REQUIRE(s.ok());
  return version;
}

}  // namespace

TEST_CASE("conditional writes do what they say, and a failed condition changes nothing", "[conditional]") {
  const Setup setup = GENERATE(Setup::kMemory, Setup::kMemoryTier, Setup::kDurable);
  CAPTURE(static_cast<int>(setup));
  TempDir dir;
  auto engine = open_for(setup, dir);

  SECTION("put_if_absent writes once") {
    REQUIRE(engine->put_if_absent("k", "first").ok());
    const Version v1 = version_of(*engine, "k");
    CHECK(engine->put_if_absent("k", "second").is_condition_failed());
    CHECK(value_of(*engine, "k") == "first");
    CHECK(version_of(*engine, "k") == v1);
    REQUIRE(engine->erase("k").ok());
    CHECK(engine->put_if_absent("k", "third").ok());
    CHECK(value_of(*engine, "k") == "third");
  }
  SECTION("put_if_present writes only over a value") {
    CHECK(engine->put_if_present("k", "x").is_condition_failed());
    CHECK(value_of(*engine, "k") == "<absent>");
    REQUIRE(engine->put("k", "a").ok());
    CHECK(engine->put_if_present("k", "b").ok());
    CHECK(value_of(*engine, "k") == "b");
  }
  SECTION("every write gives a new version; put_if_version is compare-and-set") {
    REQUIRE(engine->put("k", "a").ok());
    const Version v1 = version_of(*engine, "k");
    REQUIRE(v1 != 0);
    REQUIRE(engine->put("k", "a").ok());  // the same bytes, a new write
    const Version v2 = version_of(*engine, "k");
    CHECK(v2 != v1);
    CHECK(engine->put_if_version("k", v1, "stale").is_condition_failed());
    CHECK(value_of(*engine, "k") == "a");
    REQUIRE(engine->put_if_version("k", v2, "b").ok());
    CHECK(value_of(*engine, "k") == "b");
    CHECK(version_of(*engine, "k") != v2);
    // Expected version 0: only if absent.
    CHECK(engine->put_if_version("k", 0, "c").is_condition_failed());
    CHECK(engine->put_if_version("fresh", 0, "c").ok());
    CHECK(engine->put_if_version("nothing", 12345, "c").is_condition_failed());
    CHECK(value_of(*engine, "nothing") == "<absent>");
  }
  SECTION("erase_if_version and erase with removal") {
    REQUIRE(engine->put("k", "a").ok());
    const Version v1 = version_of(*engine, "k");
    CHECK(engine->erase_if_version("k", v1 + 1000).is_condition_failed());
    CHECK(value_of(*engine, "k") == "a");
    CHECK(engine->erase_if_version("k", v1).ok());
    CHECK(value_of(*engine, "k") == "<absent>");
    CHECK(engine->erase_if_version("k", v1).is_condition_failed());
    bool removed = true;
    REQUIRE(engine->erase("k", &removed).ok());
    CHECK_FALSE(removed);
    REQUIRE(engine->put("k", "a").ok());
    REQUIRE(engine->erase("k", &removed).ok());
    CHECK(removed);
    CHECK(value_of(*engine, "k") == "<absent>");
    CHECK(engine->erase("k", nullptr).is_invalid_argument());
  }
  SECTION("get_and_put returns what it replaced") {
    std::optional<std::string> old = "sentinel";
    REQUIRE(engine->get_and_put("k", "a", &old).ok());
    CHECK_FALSE(old.has_value());
    REQUIRE(engine->get_and_put("k", "b", &old).ok());
    REQUIRE(old.has_value());
    CHECK(*old == "a");
    CHECK(value_of(*engine, "k") == "b");
  }
  SECTION("increment reads and writes strict decimal integers") {
    std::int64_t result = 0;
    REQUIRE(engine->increment("n", 5, &result).ok());
    CHECK(result == 5);
    REQUIRE(engine->increment("n", -7, &result).ok());
    CHECK(result == -2);
    CHECK(value_of(*engine, "n") == "-2");
    for (const char* bad : {"", "abc", "01", "-0", "+1", " 1", "1 ", "1.5", "99999999999999999999", "-"}) {
      CAPTURE(bad);
      REQUIRE(engine->put("bad", bad).ok());
      const Version before = version_of(*engine, "bad");
      CHECK(engine->increment("bad", 1, &result).is_invalid_argument());
      CHECK(value_of(*engine, "bad") == bad);
      CHECK(version_of(*engine, "bad") == before);
    }
    const std::int64_t max = std::numeric_limits<std::int64_t>::max();
    const std::int64_t min = std::numeric_limits<std::int64_t>::min();
    REQUIRE(engine->put("big", std::to_string(max)).ok());
    CHECK(engine->increment("big", 1, &result).is_invalid_argument());
    CHECK(value_of(*engine, "big") == std::to_string(max));
    REQUIRE(engine->put("small", std::to_string(min)).ok());
    CHECK(engine->increment("small", -1, &result).is_invalid_argument());
    REQUIRE(engine->increment("small", 0, &result).ok());
    CHECK(result == min);
    REQUIRE(engine->put("zero", "0").ok());
    REQUIRE(engine->increment("zero", 0, nullptr).ok());
    CHECK(value_of(*engine, "zero") == "0");
  }
  SECTION("bad input gets InvalidArgument and changes nothing") {
    const std::string long_key(Options{}.max_key_size + 1, 'k');
    CHECK(engine->put_if_absent(long_key, "v").is_invalid_argument());
    CHECK(engine->increment(long_key, 1, nullptr).is_invalid_argument());
    CHECK(engine->put_if_absent("k", "v", WriteOptions{.ttl = -1ms}).is_invalid_argument());
    CHECK(engine->increment("k", 1, nullptr, WriteOptions{.ttl = -1ms}).is_invalid_argument());
    CHECK(engine->get_and_put("k", "v", nullptr).is_invalid_argument());
    CHECK(engine->get("k", nullptr, nullptr).is_invalid_argument());
    CHECK(value_of(*engine, "k") == "<absent>");
    mantis::WriteBatch batch;
    batch.put("k", "v");
    CHECK(engine->write(batch, WriteOptions{.keep_ttl = true}).is_invalid_argument());
    CHECK(value_of(*engine, "k") == "<absent>");
  }
}

TEST_CASE("an expired key is absent to conditions; keep_ttl and increment keep a live key's TTL", "[conditional]") {
  const Setup setup = GENERATE(Setup::kMemory, Setup::kDurable);
  CAPTURE(static_cast<int>(setup));
  TempDir dir;
  ManualClock clock;
  auto engine = open_for(setup, dir, &clock);
  std::optional<std::chrono::milliseconds> remaining;

  REQUIRE(engine->put("k", "old", WriteOptions{.ttl = 1000ms}).ok());
  REQUIRE(engine->put("k", "new", WriteOptions{.keep_ttl = true}).ok());
  REQUIRE(engine->ttl("k", &remaining).ok());
  CHECK(remaining == 1000ms);
  REQUIRE(engine->put_if_present("k", "newer", WriteOptions{.ttl = 5000ms, .keep_ttl = true}).ok());
  REQUIRE(engine->ttl("k", &remaining).ok());
  CHECK(remaining == 1000ms);
  REQUIRE(engine->put("n", "1", WriteOptions{.ttl = 2000ms}).ok());
  REQUIRE(engine->increment("n", 1, nullptr).ok());
  REQUIRE(engine->ttl("n", &remaining).ok());
  CHECK(remaining == 2000ms);

  clock.advance(1000);  // "k" expires
  CHECK(engine->put_if_present("k", "x").is_condition_failed());
  CHECK(engine->put_if_absent("k", "reborn", WriteOptions{.keep_ttl = true}).ok());
  REQUIRE(engine->ttl("k", &remaining).ok());
  CHECK_FALSE(remaining.has_value());  // keep_ttl keeps only a live value's TTL
  clock.advance(1000);                 // "n" expires: increment starts again from 0
  std::int64_t result = 0;
  REQUIRE(engine->increment("n", 3, &result).ok());
  CHECK(result == 3);
}

TEST_CASE("durable engines recover the values and versions conditional writes acknowledged", "[conditional]") {
  TempDir dir;
  Version version = 0;
  {
    auto engine = open_for(Setup::kDurable, dir);
    REQUIRE(engine->put_if_absent("a", "1").ok());
    REQUIRE(engine->put_if_absent("a", "lost").is_condition_failed());
    REQUIRE(engine->increment("counter", 41, nullptr).ok());
    REQUIRE(engine->increment("counter", 1, nullptr).ok());
    REQUIRE(engine->put("gone", "x").ok());
    REQUIRE(engine->erase_if_version("gone", version_of(*engine, "gone")).ok());
    REQUIRE(engine->put("cas", "v0").ok());
    REQUIRE(engine->put_if_version("cas", version_of(*engine, "cas"), "v1").ok());
    version = version_of(*engine, "cas");
  }
  auto engine = open_for(Setup::kDurable, dir);
  CHECK(value_of(*engine, "a") == "1");
  CHECK(value_of(*engine, "counter") == "42");
  CHECK(value_of(*engine, "gone") == "<absent>");
  CHECK(value_of(*engine, "cas") == "v1");
  CHECK(version_of(*engine, "cas") == version);
  // Versions go on being new after recovery.
  REQUIRE(engine->put("other", "x").ok());
  CHECK(version_of(*engine, "other") > version);
}

TEST_CASE("counters come out exact under contention: increment and CAS loops", "[conditional][concurrency]") {
  const Setup setup = GENERATE(Setup::kMemory, Setup::kMemoryTier, Setup::kDurable);
  CAPTURE(static_cast<int>(setup));
  TempDir dir;
  auto engine = open_for(setup, dir);
  constexpr int kThreads = 4;
  constexpr int kCounters = 3;
  const int per_thread = setup == Setup::kDurable ? 2'000 : 20'000;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const std::string key = "c" + std::to_string((i + t) % kCounters);
        if (!engine->increment("inc:" + key, 1, nullptr).ok()) failures.fetch_add(1);
        // The same through a CAS loop on the version.
        while (true) {
          std::string value;
          Version version = 0;
          const Status got = engine->get("cas:" + key, &value, &version);
          const long next = got.ok() ? std::stol(value) + 1 : 1;
          const Status put = engine->put_if_version("cas:" + key, got.ok() ? version : 0, std::to_string(next));
          if (put.ok()) break;
          if (!put.is_condition_failed()) {
            failures.fetch_add(1);
            break;
          }
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  CHECK(failures.load() == 0);
  long total_inc = 0;
  long total_cas = 0;
  for (int c = 0; c < kCounters; ++c) {
    total_inc += std::stol(value_of(*engine, "inc:c" + std::to_string(c)));
    total_cas += std::stol(value_of(*engine, "cas:c" + std::to_string(c)));
  }
  CHECK(total_inc == long{kThreads} * per_thread);
  CHECK(total_cas == long{kThreads} * per_thread);
}

TEST_CASE("exactly one put_if_absent wins each race, and exactly one erase removes", "[conditional][concurrency]") {
  const Setup setup = GENERATE(Setup::kMemory, Setup::kMemoryTier, Setup::kDurable);
  CAPTURE(static_cast<int>(setup));
  TempDir dir;
  auto engine = open_for(setup, dir);
  constexpr int kThreads = 4;
  const int keys = setup == Setup::kDurable ? 1'000 : 20'000;
  std::vector<std::atomic<int>> put_wins(keys);
  std::vector<std::atomic<int>> winner(keys);
  std::vector<std::atomic<int>> erase_wins(keys);
  std::atomic<int> failures{0};
  auto race = [&](auto&& body) {
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int k = 0; k < keys; ++k) body(t, k, "race" + std::to_string(k));
      });
    }
    for (auto& thread : threads) thread.join();
  };
  race([&](int t, int k, const std::string& key) {
    const Status s = engine->put_if_absent(key, std::to_string(t));
    if (s.ok()) {
      put_wins[k].fetch_add(1);
      winner[k].store(t);
    } else if (!s.is_condition_failed()) {
      failures.fetch_add(1);
    }
  });
  int bad = 0;
  for (int k = 0; k < keys; ++k) {
    if (put_wins[k].load() != 1 || value_of(*engine, "race" + std::to_string(k)) != std::to_string(winner[k].load())) {
      ++bad;
    }
  }
  CHECK(bad == 0);
  race([&](int, int k, const std::string& key) {
    bool removed = false;
    if (!engine->erase(key, &removed).ok()) failures.fetch_add(1);
    if (removed) erase_wins[k].fetch_add(1);
  });
  CHECK(failures.load() == 0);
  bad = 0;
  for (int k = 0; k < keys; ++k) bad += erase_wins[k].load() != 1 ? 1 : 0;
  CHECK(bad == 0);
  CHECK(engine->size() == 0);
}
