// Engine::backup: a live durable engine writes a consistent copy of itself into a new directory while
// writes go on. The copy opens as a data directory and holds exactly the state at one instant of the
// call: every batch whole (bank transfers keep the total), a sequential writer's counter between what
// was acknowledged before the call and what was acknowledged when it returned. Refusals (memory-only,
// kNone, a non-empty target, the engine's own directory) change nothing.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using mantis::Durability;
using mantis::Engine;
using mantis::Options;
using mantis::Status;
using mantis::WriteBatch;
using mantis::test::contents_of;
using mantis::test::durable_options;
using mantis::test::open_engine;
using mantis::test::TempDir;

namespace {

using Contents = std::map<std::string, std::string>;

std::string account(int i) { return "account/" + std::to_string(i); }

std::int64_t balance(const Engine& engine, int i) {
  std::string value;
  REQUIRE(engine.get(account(i), &value).ok());
  return std::stoll(value);
}

}  // namespace

TEST_CASE("backup: a copy of a quiet engine opens with the same contents, TTLs included", "[backup]") {
  TempDir dir;
  auto engine = open_engine(durable_options(dir / "db"));
  for (int i = 0; i < 2000; ++i) REQUIRE(engine->put("key/" + std::to_string(i), "value " + std::to_string(i)).ok());
  for (int i = 0; i < 2000; i += 7) REQUIRE(engine->erase("key/" + std::to_string(i)).ok());
  REQUIRE(engine->checkpoint().ok());  // a snapshot and a log tail, both copied
  REQUIRE(engine->put("tail", "after the snapshot").ok());
  REQUIRE(engine->put("ttl", "v", mantis::WriteOptions{.ttl = std::chrono::hours(1)}).ok());
  const Contents before = contents_of(*engine);

  REQUIRE(engine->backup(dir / "copy").ok());
  // The engine goes on, and its writes do not reach the copy.
  REQUIRE(engine->put("later", "x").ok());
  {
    auto copy = open_engine(durable_options(dir / "copy"));
    CHECK(contents_of(*copy) == before);
    std::optional<std::chrono::milliseconds> remaining;
    REQUIRE(copy->ttl("ttl", &remaining).ok());
    CHECK((remaining && *remaining > std::chrono::minutes(59)));
    // The copy is a data directory like any other: writable, and it survives its own reopen.
    REQUIRE(copy->put("in the copy", "y").ok());
  }
  auto copy = open_engine(durable_options(dir / "copy"));
  CHECK(mantis::test::value_of(*copy, "in the copy") == "y");
  CHECK(!copy->contains("later"));
  // The source reopens with everything, its extra log rotations included.
  engine.reset();
  engine = open_engine(durable_options(dir / "db"));
  CHECK(engine->contains("later"));
  CHECK(engine->size() == before.size() + 1);
}

TEST_CASE("backup: an empty engine and a second backup of the same engine", "[backup]") {
  TempDir dir;
  auto engine = open_engine(durable_options(dir / "db", Durability::kSync));
  REQUIRE(engine->backup(dir / "empty").ok());
  REQUIRE(engine->put("k", "v1").ok());
  REQUIRE(engine->backup(dir / "one").ok());
  REQUIRE(engine->put("k", "v2").ok());
  REQUIRE(engine->backup(dir / "two").ok());
  CHECK(open_engine(durable_options(dir / "empty"))->size() == 0);
  CHECK(mantis::test::value_of(*open_engine(durable_options(dir / "one")), "k") == "v1");
  CHECK(mantis::test::value_of(*open_engine(durable_options(dir / "two")), "k") == "v2");
}

TEST_CASE("backup: taken under concurrent transfers and a counter, the copy is one instant's state", "[backup]") {
  TempDir dir;
  auto engine = open_engine(durable_options(dir / "db"));
  constexpr int kAccounts = 64;
  constexpr std::int64_t kInitial = 1000;
  for (int i = 0; i < kAccounts; ++i) REQUIRE(engine->put(account(i), std::to_string(kInitial)).ok());

  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> counter_acked{0};
  std::atomic<std::uint64_t> failures{0};
  std::vector<std::thread> threads;
  // Transfers: a batch moves an amount between two accounts read just before (a reader may see a
  // batch half applied, so balances are not checked live; only the copy, replayed, is exact). One
  // transferrer per account pair set keeps each account's writes ordered.
  for (int t = 0; t < 2; ++t) {
    threads.emplace_back([&, t] {
      std::uint64_t random = 0x9e3779b97f4a7c15ull * (t + 1);
      std::vector<std::int64_t> balances(kAccounts / 2, kInitial);
      while (!stop.load()) {
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        const int from = static_cast<int>(random % (kAccounts / 2));
        const int to = static_cast<int>((random >> 16) % (kAccounts / 2));
        if (from == to) continue;
        const std::int64_t amount = static_cast<std::int64_t>((random >> 32) % 50);
        balances[from] -= amount;
        balances[to] += amount;
        WriteBatch batch;  // thread t owns the accounts t, t + 2, t + 4, ...
        batch.put(account(from * 2 + t), std::to_string(balances[from]));
        batch.put(account(to * 2 + t), std::to_string(balances[to]));
        if (!engine->write(batch).ok()) failures.fetch_add(1);
      }
    });
  }
  threads.emplace_back([&] {
    for (std::uint64_t i = 1; !stop.load(); ++i) {
      if (!engine->put("counter", std::to_string(i)).ok()) failures.fetch_add(1);
      counter_acked.store(i);
    }
  });

  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::vector<std::pair<std::uint64_t, std::uint64_t>> windows;
  for (int b = 0; b < 3; ++b) {
    const std::uint64_t acked_before = counter_acked.load();
    REQUIRE(engine->backup(dir / ("copy" + std::to_string(b))).ok());
    windows.emplace_back(acked_before, counter_acked.load() + 1);  // + 1: the put in flight at return
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  stop.store(true);
  for (std::thread& thread : threads) thread.join();
  REQUIRE(failures.load() == 0);

  for (int b = 0; b < 3; ++b) {
    INFO("backup " << b);
    auto copy = open_engine(durable_options(dir / ("copy" + std::to_string(b))));
    std::int64_t total = 0;
    for (int i = 0; i < kAccounts; ++i) total += balance(*copy, i);
    CHECK(total == kAccounts * kInitial);
    std::string counter;
    REQUIRE(copy->get("counter", &counter).ok());
    const std::uint64_t value = std::stoull(counter);
    CHECK(value >= windows[b].first);
    CHECK(value <= windows[b].second);
  }
}

TEST_CASE("backup: refusals change nothing", "[backup]") {
  TempDir dir;
  SECTION("memory-only") {
    auto engine = open_engine(Options{});
    CHECK(engine->backup(dir / "copy").is_not_supported());
    CHECK(!fs::exists(dir / "copy"));
  }
  SECTION("kNone has no log") {
    auto engine = open_engine(durable_options(dir / "db", Durability::kNone));
    REQUIRE(engine->put("k", "v").ok());
    CHECK(engine->backup(dir / "copy").is_not_supported());
    CHECK(!fs::exists(dir / "copy"));
  }
  SECTION("a non-empty target, the engine's own directory, an empty path") {
    auto engine = open_engine(durable_options(dir / "db"));
    REQUIRE(engine->put("k", "v").ok());
    fs::create_directory(dir / "full");
    std::ofstream(dir / "full/precious") << "keep me";
    CHECK(engine->backup(dir / "full").is_invalid_argument());
    CHECK(fs::file_size(dir / "full/precious") == 7);
    CHECK(std::distance(fs::directory_iterator(dir / "full"), fs::directory_iterator()) == 1);
    CHECK(engine->backup(dir / "db").is_invalid_argument());
    CHECK(engine->backup("").is_invalid_argument());
    CHECK(mantis::test::value_of(*engine, "k") == "v");
  }
  SECTION("an existing empty directory is fine") {
    auto engine = open_engine(durable_options(dir / "db"));
    REQUIRE(engine->put("k", "v").ok());
    fs::create_directory(dir / "empty");
    REQUIRE(engine->backup(dir / "empty").ok());
    CHECK(mantis::test::value_of(*open_engine(durable_options(dir / "empty")), "k") == "v");
  }
}
