// Reads never go back in time: the exact linearizability checker (linearizability/register_checker.hpp)
// proves itself on histories with known answers and on injected faults, then checks concurrent
// put/get/erase and conditional-write histories of engines with the cache tier off, at 64 MiB and tiny, with
// random and sequential reads (the store's finger), and durable. Also the monotonic-reads hunt:
// versioned writers and readers that must never see a key's version decrease.
// MANTIS_STRESS_SECONDS sets how long each engine case runs; mantis-linearizability runs long ones.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "engine_workload.hpp"
#include "temp_dir.hpp"
#include "test_util.hpp"

using mantis::test::EngineConfig;
using mantis::test::kAbsent;
using mantis::test::RegisterChecker;
using mantis::test::RegisterOp;
using mantis::test::RegisterWorkload;
using Kind = RegisterOp::Kind;

namespace {

RegisterOp op(std::uint16_t thread, Kind kind, std::uint64_t value, std::uint64_t invoked, std::uint64_t returned) {
  RegisterOp result;
  result.thread = thread;
  result.kind = kind;
  result.value = value;
  result.invoked_ns = invoked;
  result.returned_ns = returned;
  return result;
}

std::size_t violations_in(const std::vector<RegisterOp>& history) {
  RegisterChecker checker;
  return checker.check(history);
}

// Runs the workload on an engine of `config` in rounds for the stress duration; returns the checker.
RegisterChecker check_engine(const EngineConfig& config, RegisterWorkload workload) {
  mantis::test::TempDir dir;
  auto engine = mantis::test::open_engine(mantis::test::options_for(config, std::filesystem::path(dir.path()) / "db"));
  RegisterChecker checker;
  const auto deadline = std::chrono::steady_clock::now() + mantis::test::stress_duration();
  std::uint64_t round = 0;
  do {
    const auto result = mantis::test::run_register_round(*engine, workload, ++round);
    CHECK(result.torn == 0);
    CHECK(result.errors == 0);
    checker.check(result.ops);
  } while (std::chrono::steady_clock::now() < deadline);
  INFO(config.name << (workload.sequential_gets ? ", sequential gets" : "") << ": " << checker.operations()
                   << " operations");
  for (const std::string& report : checker.reports()) UNSCOPED_INFO(report);
  CHECK(checker.violations() == 0);
  return checker;
}

}  // namespace

TEST_CASE("the checker accepts linearizable histories", "[linearizability]") {
  // Sequential: put 1, get 1, erase, get absent, put 2, get 2.
  CHECK(violations_in({op(0, Kind::kPut, 1, 0, 1), op(0, Kind::kGet, 1, 2, 3), op(0, Kind::kErase, 0, 4, 5),
                       op(0, Kind::kGet, kAbsent, 6, 7), op(0, Kind::kPut, 2, 8, 9), op(0, Kind::kGet, 2, 10, 11)}) ==
        0);
  // Gets overlapping a put may return the old or the new value, as long as none returns the old one
  // after another get that ended earlier returned the new one.
  CHECK(violations_in({op(0, Kind::kPut, 1, 0, 1), op(0, Kind::kPut, 2, 10, 50), op(1, Kind::kGet, 1, 12, 20),
                       op(2, Kind::kGet, 2, 15, 30), op(1, Kind::kGet, 2, 40, 45)}) == 0);
  // A read may see a put that has not returned yet.
  CHECK(violations_in({op(0, Kind::kPut, 7, 0, 100), op(1, Kind::kGet, 7, 10, 20)}) == 0);
  // Concurrent puts may be ordered either way.
  CHECK(violations_in({op(0, Kind::kPut, 1, 0, 10), op(1, Kind::kPut, 2, 0, 10), op(2, Kind::kGet, 1, 20, 30)}) == 0);
  CHECK(violations_in({op(0, Kind::kPut, 1, 0, 10), op(1, Kind::kPut, 2, 0, 10), op(2, Kind::kGet, 2, 20, 30)}) == 0);
  // Keys are independent.
  RegisterOp other = op(1, Kind::kGet, kAbsent, 2, 3);
  other.key = 1;
  CHECK(violations_in({op(0, Kind::kPut, 1, 0, 1), other}) == 0);
}

TEST_CASE("the checker reports stale reads, lost writes and values never written", "[linearizability]") {
  // Stale: put 2 returned before the get began, which still returns 1.
  CHECK(violations_in({op(0, Kind::kPut, 1, 0, 1), op(0, Kind::kPut, 2, 2, 3), op(1, Kind::kGet, 1, 4, 5)}) == 1);
  // Lost write: an acknowledged put that no later read sees.
  CHECK(violations_in({op(0, Kind::kPut, 1, 0, 1), op(1, Kind::kGet, kAbsent, 2, 3)}) == 1);
  // Resurrected: a value read after an erase of it returned.
  CHECK(violations_in({op(0, Kind::kPut, 1, 0, 1), op(0, Kind::kErase, 0, 2, 3), op(1, Kind::kGet, 1, 4, 5)}) == 1);
  // Back in time: a put overlaps two reads, the first sees the new value, the second (later) the old.
  CHECK(violations_in({op(0, Kind::kPut, 1, 0, 1), op(0, Kind::kPut, 2, 10, 100), op(1, Kind::kGet, 2, 20, 30),
                       op(2, Kind::kGet, 1, 40, 50)}) == 1);
  // A value nobody wrote.
  CHECK(violations_in({op(0, Kind::kPut, 1, 0, 1), op(1, Kind::kGet, 9, 2, 3)}) == 1);
  // State carries across rounds: round 2 reads what round 1 overwrote.
  RegisterChecker checker;
  CHECK(checker.check({op(0, Kind::kPut, 1, 0, 1), op(0, Kind::kPut, 2, 2, 3)}) == 0);
  CHECK(checker.check({op(1, Kind::kGet, 1, 10, 11)}) == 1);
  REQUIRE(checker.reports().size() == 1);
  CHECK(checker.reports()[0].find("get() -> 1") != std::string::npos);
}

TEST_CASE("the checker knows the conditional writes", "[linearizability]") {
  auto cas = [](std::uint16_t thread, std::uint64_t expected, std::uint64_t value, bool succeeded,
                std::uint64_t invoked, std::uint64_t returned) {
    RegisterOp result = op(thread, Kind::kCompareAndSet, value, invoked, returned);
    result.expected = expected;
    result.succeeded = succeeded;
    return result;
  };
  auto swap = [](std::uint16_t thread, std::uint64_t value, std::uint64_t old, std::uint64_t invoked,
                 std::uint64_t returned) {
    RegisterOp result = op(thread, Kind::kSwap, value, invoked, returned);
    result.expected = old;
    return result;
  };
  auto erase_reporting = [](std::uint16_t thread, bool removed, std::uint64_t invoked, std::uint64_t returned) {
    RegisterOp result = op(thread, Kind::kEraseReporting, kAbsent, invoked, returned);
    result.succeeded = removed;
    return result;
  };
  // Legal: put if absent wins on an absent key, loses on a present one; a CAS from the value read.
  CHECK(violations_in({cas(0, kAbsent, 1, true, 0, 1), cas(1, kAbsent, 2, false, 2, 3), op(0, Kind::kGet, 1, 4, 5),
                       cas(0, 1, 3, true, 6, 7), cas(1, 1, 4, false, 8, 9), op(0, Kind::kGet, 3, 10, 11)}) == 0);
  // Two concurrent put-if-absent: exactly one may win, either one.
  CHECK(violations_in({cas(0, kAbsent, 1, true, 0, 10), cas(1, kAbsent, 2, false, 0, 10)}) == 0);
  CHECK(violations_in({cas(0, kAbsent, 1, false, 0, 10), cas(1, kAbsent, 2, true, 0, 10)}) == 0);
  // Both winning is a violation; so is neither on an absent key.
  CHECK(violations_in({cas(0, kAbsent, 1, true, 0, 10), cas(1, kAbsent, 2, true, 0, 10)}) == 1);
  CHECK(violations_in({cas(0, kAbsent, 1, false, 0, 10), cas(1, kAbsent, 2, false, 0, 10)}) >= 1);
  // A CAS erasing (value kAbsent), then a get sees absent.
  CHECK(violations_in({op(0, Kind::kPut, 1, 0, 1), cas(0, 1, kAbsent, true, 2, 3), op(1, Kind::kGet, kAbsent, 4, 5)}) ==
        0);
  // Lost CAS: it reported writing 3, a later get still sees 1.
  CHECK(violations_in({op(0, Kind::kPut, 1, 0, 1), cas(0, 1, 3, true, 2, 3), op(1, Kind::kGet, 1, 4, 5)}) == 1);
  // Swap returns the value it replaced; two swaps chain.
  CHECK(violations_in({op(0, Kind::kPut, 1, 0, 1), swap(0, 2, 1, 2, 3), swap(1, 3, 2, 4, 5)}) == 0);
  CHECK(violations_in({op(0, Kind::kPut, 1, 0, 1), swap(0, 2, 1, 2, 10), swap(1, 3, 1, 2, 10)}) == 1);
  // Erase reporting: removed only when present.
  CHECK(violations_in({op(0, Kind::kPut, 1, 0, 1), erase_reporting(0, true, 2, 3), erase_reporting(1, false, 4, 5)}) ==
        0);
  CHECK(violations_in({op(0, Kind::kPut, 1, 0, 1), erase_reporting(0, false, 2, 3)}) == 1);
  CHECK(violations_in({erase_reporting(0, true, 0, 1)}) == 1);
}

TEST_CASE("the checker catches faults injected into a real engine's history", "[linearizability]") {
  mantis::test::TempDir dir;
  auto engine = mantis::test::open_engine(mantis::test::options_for(mantis::test::kTierOn, dir.path()));
  RegisterWorkload workload;
  workload.ops_per_thread = 20'000;
  SECTION("stale reads, among 4 threads") {
    workload.inject_stale_every = 1000;
    RegisterChecker checker;
    checker.check(mantis::test::run_register_round(*engine, workload, 1).ops);
    CHECK(checker.violations() == workload.ops_per_thread / workload.inject_stale_every);
  }
  SECTION("double wins of put_if_absent, one thread with conditional writes") {
    workload.threads = 1;
    workload.conditional_percent = 30;
    workload.inject_double_win_every = 1000;
    RegisterChecker checker;
    const auto result = mantis::test::run_register_round(*engine, workload, 1);
    CHECK(result.errors == 0);
    checker.check(result.ops);
    // Each claimed win fails, and so may later gets of its key that see the value it did not replace.
    CHECK(checker.violations() >= workload.ops_per_thread / workload.inject_double_win_every);
  }
  SECTION("lost writes, one thread") {
    workload.threads = 1;
    workload.inject_lost_every = 1000;
    RegisterChecker checker;
    checker.check(mantis::test::run_register_round(*engine, workload, 1).ops);
    // Each lost write fails the get right after it, and any later get of that key before the next put.
    CHECK(checker.violations() >= workload.ops_per_thread / workload.inject_lost_every);
  }
}

TEST_CASE("engine histories are linearizable: put, get, erase on 4 keys from 4 threads", "[linearizability]") {
  RegisterWorkload workload;
  workload.ops_per_thread = 50'000;
  const bool sequential = GENERATE(false, true);
  workload.sequential_gets = sequential;
  SECTION("tier off") { check_engine(mantis::test::kTierOff, workload); }
  SECTION("tier 64 MiB") { check_engine(mantis::test::kTierOn, workload); }
  SECTION("tier tiny") { check_engine(mantis::test::kTierTiny, workload); }
}

TEST_CASE("durable engine histories are linearizable (kAsync, tier 64 MiB)", "[linearizability]") {
  RegisterWorkload workload;
  workload.ops_per_thread = 50'000;
  workload.conditional_percent = GENERATE(0u, 30u);
  check_engine(mantis::test::kDurableAsync, workload);
}

TEST_CASE("conditional writes are linearizable: put_if_absent, compare-and-set, get_and_put, erase reporting",
          "[linearizability]") {
  RegisterWorkload workload;
  workload.ops_per_thread = 50'000;
  workload.conditional_percent = 40;
  workload.erase_percent = 5;
  workload.put_percent = 15;
  SECTION("tier off") { check_engine(mantis::test::kTierOff, workload); }
  SECTION("tier 64 MiB") { check_engine(mantis::test::kTierOn, workload); }
  SECTION("tier tiny") { check_engine(mantis::test::kTierTiny, workload); }
}

TEST_CASE("with snapshots alive, writes, snapshot reads and transactions are linearizable", "[linearizability]") {
  RegisterWorkload workload;
  workload.ops_per_thread = 30'000;
  workload.versioned = true;
  workload.conditional_percent = 20;
  workload.transaction_percent = 20;
  workload.erase_percent = 5;
  workload.put_percent = 20;
  SECTION("tier off") { check_engine(mantis::test::kTierOff, workload); }
  SECTION("tier 64 MiB") { check_engine(mantis::test::kTierOn, workload); }
  SECTION("tier tiny") { check_engine(mantis::test::kTierTiny, workload); }
  SECTION("durable") { check_engine(mantis::test::kDurableAsync, workload); }
}

// The scenario that found the tier's stale hits: 2 writers each own half of 16 keys and write each key
// with strictly increasing versions; 2 readers remember the last version they saw of each key and
// must never see a smaller one.
TEST_CASE("reads are monotonic: a reader never sees a key's version decrease", "[linearizability]") {
  const std::size_t capacity = GENERATE(std::size_t{64} << 20, std::size_t{4096}, std::size_t{0});
  mantis::Options options;
  options.cache_capacity = capacity;
  auto engine = mantis::test::open_engine(options);
  constexpr std::size_t kKeys = 16;
  constexpr std::size_t kWriters = 2;
  constexpr std::size_t kReaders = 2;
  auto key_of = [](std::size_t i) { return mantis::test::register_key(i); };
  auto value_of = [](std::uint64_t version) {
    std::string value(64, 'v');
    std::memcpy(value.data(), &version, sizeof version);
    return value;
  };
  for (std::size_t i = 0; i < kKeys; ++i) REQUIRE(engine->put(key_of(i), value_of(0)).ok());
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> backwards{0};
  std::atomic<std::uint64_t> reads{0};
  std::vector<std::thread> threads;
  for (std::size_t w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::uint64_t version = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        ++version;
        for (std::size_t i = w; i < kKeys; i += kWriters) {
          if (!engine->put(key_of(i), value_of(version)).ok()) backwards.fetch_add(1);
        }
      }
    });
  }
  for (std::size_t r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      std::uint64_t seen[kKeys] = {};
      std::uint64_t random = 88172645463325252ull + r;
      std::string value;
      std::uint64_t count = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        random ^= random << 13;
        random ^= random >> 7;
        random ^= random << 17;
        const std::size_t i = random % kKeys;
        if (!engine->get(key_of(i), &value).ok() || value.size() != 64) {
          backwards.fetch_add(1);
          continue;
        }
        std::uint64_t version = 0;
        std::memcpy(&version, value.data(), sizeof version);
        if (version < seen[i]) backwards.fetch_add(1);
        seen[i] = std::max(seen[i], version);
        ++count;
      }
      reads.fetch_add(count);
    });
  }
  std::this_thread::sleep_for(mantis::test::stress_duration());
  stop.store(true);
  for (std::thread& thread : threads) thread.join();
  INFO("cache_capacity " << capacity << ": " << reads.load() << " reads");
  CHECK(reads.load() > 0);
  CHECK(backwards.load() == 0);
}
