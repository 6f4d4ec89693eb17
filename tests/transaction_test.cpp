// Optimistic transactions (transaction.hpp): reads at the snapshot plus own writes, commit applying all
// writes at once, Conflict when a key read (or a range scanned, phantoms included) was written after
// the snapshot, and serializability under contention: a bank whose total never changes (checked by
// concurrent snapshots and after recovery), counters that lose no increment, and no write skew.
#include <catch2/catch.hpp>

#include <atomic>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.hpp"
#include "test_util.hpp"

using mantis::Engine;
using mantis::Options;
using mantis::ReadOptions;
using mantis::Snapshot;
using mantis::Status;
using mantis::Transaction;
using mantis::WriteOptions;
using mantis::test::contents_of;
using mantis::test::options_for;
using mantis::test::Setup;
using mantis::test::value_at;
using mantis::test::open_engine;
using mantis::test::TempDir;
using mantis::test::value_of;
using namespace std::chrono_literals;

namespace {

std::string txn_value(Transaction& txn, std::string_view key) {
  std::string value;
  const Status s = txn.get(key, &value);
  if (s.is_not_found()) return "<absent>";
  INFO(s.to_string());
  REQUIRE(s.ok());
  return value;
}

std::map<std::string, std::string> txn_scan(Transaction& txn, std::string_view begin = {}, std::string_view end = {}) {
  std::map<std::string, std::string> out;
  REQUIRE(txn.scan(begin, end, [&](std::string_view k, std::string_view v) {
                REQUIRE(out.emplace(std::string(k), std::string(v)).second);
                return true;
              }).ok());
  return out;
}

// A read in a transaction from a worker thread (no Catch macros there: they are not thread-safe):
// the value, "<absent>", or "<error>" when the read failed.
std::string txn_value_quiet(Transaction& txn, std::string_view key) {
  std::string value;
  const Status s = txn.get(key, &value);
  if (s.is_not_found()) return "<absent>";
  return s.ok() ? value : "<error>";
}

}  // namespace

TEST_CASE("a transaction reads its snapshot and its own writes, and commits them all at once", "[transaction]") {
  const Setup setup = GENERATE(Setup::kMemory, Setup::kMemoryTier, Setup::kDurable);
  CAPTURE(static_cast<int>(setup));
  TempDir dir;
  auto engine = open_engine(options_for(setup, dir.path()));
  REQUIRE(engine->put("a", "1").ok());
  REQUIRE(engine->put("b", "2").ok());
  auto txn = engine->begin();
  REQUIRE(txn != nullptr);
  REQUIRE(engine->put("c", "3").ok());  // after the snapshot: the transaction does not see it
  REQUIRE(txn->put("a", "10").ok());
  REQUIRE(txn->erase("b").ok());
  REQUIRE(txn->put("z", "26").ok());
  CHECK(txn_value(*txn, "a") == "10");
  CHECK(txn_value(*txn, "b") == "<absent>");
  CHECK(txn_scan(*txn, "", "c") == std::map<std::string, std::string>{{"a", "10"}});
  CHECK(txn_scan(*txn, "y") == std::map<std::string, std::string>{{"z", "26"}});
  // Nothing is visible before the commit.
  CHECK(value_of(*engine, "a") == "1");
  CHECK(value_of(*engine, "z") == "<absent>");
  Snapshot before = engine->snapshot();
  REQUIRE(txn->commit().ok());
  CHECK(contents_of(*engine) == std::map<std::string, std::string>{{"a", "10"}, {"c", "3"}, {"z", "26"}});
  CHECK(value_at(*engine, before, "a") == "1");  // a snapshot from before the commit sees none of it
  CHECK(value_at(*engine, before, "b") == "2");
  // Finished: every call is refused.
  std::string value;
  CHECK(txn->get("a", &value).is_invalid_argument());
  CHECK(txn->put("a", "x").is_invalid_argument());
  CHECK(txn->erase("a").is_invalid_argument());
  CHECK(txn->commit().is_invalid_argument());
  CHECK(txn->scan("", "", [](std::string_view, std::string_view) { return true; }).is_invalid_argument());

  if (setup == Setup::kDurable) {  // the commit survives a reopen whole
    before.reset();
    txn.reset();
    engine.reset();
    engine = open_engine(options_for(setup, dir.path()));
    CHECK(contents_of(*engine) == std::map<std::string, std::string>{{"a", "10"}, {"c", "3"}, {"z", "26"}});
  }
}

// The commit's own snapshot is released once the commit is checked, before the write records the
// states it ends: with no other snapshot alive, none is kept; with one, exactly the states it needs.
TEST_CASE("a commit keeps past states only for the other live snapshots", "[transaction][stats]") {
  auto engine = open_engine();
  REQUIRE(engine->put("a", "1").ok());
  REQUIRE(engine->put("b", "2").ok());
  auto alone = engine->begin();
  REQUIRE(txn_value(*alone, "a") == "1");
  REQUIRE(alone->put("a", "10").ok());
  REQUIRE(alone->put("b", "20").ok());
  REQUIRE(alone->commit().ok());
  CHECK(engine->stats().versions_kept == 0);

  const Snapshot other = engine->snapshot();
  auto beside = engine->begin();
  REQUIRE(txn_value(*beside, "a") == "10");
  REQUIRE(beside->put("a", "100").ok());
  REQUIRE(beside->commit().ok());
  CHECK(engine->stats().versions_kept == 1);
  CHECK(value_at(*engine, other, "a") == "10");
  CHECK(value_at(*engine, other, "b") == "20");
  CHECK(value_of(*engine, "a") == "100");
}

TEST_CASE("bad input to a transaction is refused and changes nothing", "[transaction]") {
  Options options;
  options.max_key_size = 8;
  options.max_value_size = 8;
  auto engine = open_engine(options);
  auto txn = engine->begin();
  std::string value;
  CHECK(txn->get("a-key-too-long", &value).is_invalid_argument());
  CHECK(txn->get("k", nullptr).is_invalid_argument());
  CHECK(txn->put("a-key-too-long", "v").is_invalid_argument());
  CHECK(txn->put("k", "a-value-too-long").is_invalid_argument());
  WriteOptions keep;
  keep.keep_ttl = true;
  CHECK(txn->put("k", "v", keep).is_invalid_argument());
  WriteOptions negative;
  negative.ttl = -1ms;
  CHECK(txn->put("k", "v", negative).is_invalid_argument());
  CHECK(txn->erase("a-key-too-long").is_invalid_argument());
  REQUIRE(txn->put("k", "v").ok());
  CHECK(txn->commit(keep).is_invalid_argument());  // refused, and the transaction is still open
  REQUIRE(txn->commit().ok());
  CHECK(value_of(*engine, "k") == "v");
  txn = engine->begin();
  REQUIRE(txn->put("k", "w").ok());
  txn->rollback();
  CHECK(txn->commit().is_invalid_argument());
  CHECK(value_of(*engine, "k") == "v");
  {
    auto dropped = engine->begin();
    REQUIRE(dropped->put("k", "dropped").ok());
  }  // destroyed unfinished: rolled back
  CHECK(value_of(*engine, "k") == "v");
}

TEST_CASE("a transaction begun before the first write conflicts with a commit after it", "[transaction]") {
  // Its snapshot is at version 0, the value `newest` also takes when no snapshot is alive: a write
  // must still keep what the transaction needs to see the conflict.
  const Setup setup = GENERATE(Setup::kMemory, Setup::kDurable);
  CAPTURE(static_cast<int>(setup));
  TempDir dir;
  auto engine = open_engine(options_for(setup, dir.path()));
  auto first = engine->begin();
  auto second = engine->begin();
  CHECK(txn_value(*first, "counter") == "<absent>");
  CHECK(txn_value(*second, "counter") == "<absent>");
  REQUIRE(first->put("counter", "1").ok());
  REQUIRE(first->commit().ok());
  REQUIRE(second->put("counter", "1").ok());
  CHECK(second->commit().is_conflict());
}

TEST_CASE("a commit conflicts when a key it read was written after its snapshot", "[transaction]") {
  const Setup setup = GENERATE(Setup::kMemory, Setup::kDurable);
  CAPTURE(static_cast<int>(setup));
  TempDir dir;
  auto engine = open_engine(options_for(setup, dir.path()));
  REQUIRE(engine->put("a", "1").ok());

  SECTION("a read key overwritten") {
    auto txn = engine->begin();
    CHECK(txn_value(*txn, "a") == "1");
    REQUIRE(engine->put("a", "2").ok());
    REQUIRE(txn->put("b", "from-txn").ok());
    CHECK(txn->commit().is_conflict());
    CHECK(value_of(*engine, "b") == "<absent>");
  }
  SECTION("a key read as absent, then inserted") {
    auto txn = engine->begin();
    CHECK(txn_value(*txn, "new") == "<absent>");
    REQUIRE(engine->put("new", "x").ok());
    REQUIRE(txn->put("b", "from-txn").ok());
    CHECK(txn->commit().is_conflict());
    CHECK(value_of(*engine, "b") == "<absent>");
  }
  SECTION("a read key erased, by another transaction") {
    auto txn = engine->begin();
    CHECK(txn_value(*txn, "a") == "1");
    auto other = engine->begin();
    REQUIRE(other->erase("a").ok());
    REQUIRE(other->commit().ok());
    REQUIRE(txn->put("a", "mine").ok());
    CHECK(txn->commit().is_conflict());
    CHECK(value_of(*engine, "a") == "<absent>");
  }
  SECTION("an insert into a scanned range: a phantom") {
    auto txn = engine->begin();
    CHECK(txn_scan(*txn, "m", "p").empty());
    REQUIRE(engine->put("n", "phantom").ok());
    REQUIRE(txn->put("b", "from-txn").ok());
    CHECK(txn->commit().is_conflict());
  }
  SECTION("a write past where a scan stopped does not conflict") {
    REQUIRE(engine->put("m1", "x").ok());
    REQUIRE(engine->put("m3", "x").ok());
    auto txn = engine->begin();
    int seen = 0;
    REQUIRE(txn->scan("m", "", [&](std::string_view, std::string_view) { return ++seen < 1; }).ok());
    CHECK(seen == 1);
    REQUIRE(engine->put("m5", "after").ok());
    REQUIRE(txn->put("b", "from-txn").ok());
    CHECK(txn->commit().ok());
  }
  SECTION("blind writes of the same key do not conflict: the later commit wins") {
    auto first = engine->begin();
    auto second = engine->begin();
    REQUIRE(first->put("a", "first").ok());
    REQUIRE(second->put("a", "second").ok());
    REQUIRE(first->commit().ok());
    REQUIRE(second->commit().ok());
    CHECK(value_of(*engine, "a") == "second");
  }
  SECTION("writes to keys it did not read do not conflict") {
    auto txn = engine->begin();
    CHECK(txn_value(*txn, "a") == "1");
    REQUIRE(engine->put("unrelated", "x").ok());
    REQUIRE(txn->put("a", "2").ok());
    CHECK(txn->commit().ok());
    CHECK(value_of(*engine, "a") == "2");
  }
  SECTION("stats count commits and conflicts") {
    const auto before = engine->stats();
    auto txn = engine->begin();
    CHECK(txn_value(*txn, "a") == "1");
    REQUIRE(engine->put("a", "2").ok());
    REQUIRE(txn->put("a", "3").ok());
    CHECK(txn->commit().is_conflict());
    txn = engine->begin();
    REQUIRE(txn->put("a", "4").ok());
    REQUIRE(txn->commit().ok());
    const auto after = engine->stats();
    CHECK(after.commits == before.commits + 1);
    CHECK(after.conflicts == before.conflicts + 1);
  }
  SECTION("no write skew: of two transactions that read both keys and each write one, one conflicts") {
    REQUIRE(engine->put("x", "1").ok());
    REQUIRE(engine->put("y", "1").ok());
    auto t1 = engine->begin();
    auto t2 = engine->begin();
    CHECK(txn_value(*t1, "x") == "1");
    CHECK(txn_value(*t1, "y") == "1");
    CHECK(txn_value(*t2, "x") == "1");
    CHECK(txn_value(*t2, "y") == "1");
    REQUIRE(t1->put("x", "0").ok());
    REQUIRE(t2->put("y", "0").ok());
    REQUIRE(t1->commit().ok());
    CHECK(t2->commit().is_conflict());
    CHECK(value_of(*engine, "y") == "1");
  }
  SECTION("a read-only transaction always commits") {
    auto txn = engine->begin();
    CHECK(txn_value(*txn, "a") == "1");
    REQUIRE(engine->put("a", "2").ok());
    CHECK(txn_value(*txn, "a") == "1");
    CHECK(txn->commit().ok());
  }
}

TEST_CASE("concurrent transfers keep a bank's total, seen whole by every snapshot and after recovery",
          "[transaction][stress]") {
  const Setup setup = GENERATE(Setup::kMemory, Setup::kMemoryTier, Setup::kDurable);
  CAPTURE(static_cast<int>(setup));
  TempDir dir;
  auto engine = open_engine(options_for(setup, dir.path()));
  constexpr int kAccounts = 16;
  constexpr long kStart = 1000;
  auto account = [](int i) { return "acct" + std::to_string(100 + i); };
  for (int i = 0; i < kAccounts; ++i) REQUIRE(engine->put(account(i), std::to_string(kStart)).ok());
  std::atomic<bool> stop{false};
  std::atomic<long> commits{0};
  std::atomic<long> conflicts{0};
  std::atomic<long> errors{0};  // worker threads count failures; the test thread checks them
  std::vector<std::thread> tellers;
  for (int t = 0; t < 3; ++t) {
    tellers.emplace_back([&, t] {
      std::mt19937 random(static_cast<unsigned>(t) + 1);
      while (!stop.load(std::memory_order_relaxed)) {
        const int from = static_cast<int>(random() % kAccounts);
        const int to = static_cast<int>((from + 1 + random() % (kAccounts - 1)) % kAccounts);
        const long amount = static_cast<long>(random() % 50);
        auto txn = engine->begin();
        const std::string a = txn == nullptr ? "<error>" : txn_value_quiet(*txn, account(from));
        const std::string b = txn == nullptr ? "<error>" : txn_value_quiet(*txn, account(to));
        if (a == "<error>" || b == "<error>" || a == "<absent>" || b == "<absent>") {
          errors.fetch_add(1);
          return;
        }
        if (!txn->put(account(from), std::to_string(std::stol(a) - amount)).ok() ||
            !txn->put(account(to), std::to_string(std::stol(b) + amount)).ok()) {
          errors.fetch_add(1);
          return;
        }
        const Status s = txn->commit();
        if (s.ok()) {
          commits.fetch_add(1, std::memory_order_relaxed);
        } else if (s.is_conflict()) {
          conflicts.fetch_add(1, std::memory_order_relaxed);
        } else {
          errors.fetch_add(1);
          return;
        }
      }
    });
  }
  // Plain writers on other keys, so commits interleave with the non-transactional path too.
  std::thread bystander([&] {
    for (long n = 0; !stop.load(std::memory_order_relaxed); ++n) {
      if (!engine->put("other" + std::to_string(n % 64), std::to_string(n)).ok()) errors.fetch_add(1);
    }
  });
  auto total_at = [&](const Snapshot& snapshot) {
    long total = 0;
    ReadOptions read;
    read.snapshot = &snapshot;
    int accounts = 0;
    REQUIRE(engine->scan_prefix(read, "acct", [&](std::string_view, std::string_view v) {
                    total += std::stol(std::string(v));
                    ++accounts;
                    return true;
                  }).ok());
    REQUIRE(accounts == kAccounts);
    return total;
  };
  const auto deadline = std::chrono::steady_clock::now() + mantis::test::stress_duration();
  long audits = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    Snapshot snapshot = engine->snapshot();
    REQUIRE(total_at(snapshot) == kAccounts * kStart);
    ++audits;
  }
  stop = true;
  for (auto& t : tellers) t.join();
  bystander.join();
  INFO("commits " << commits.load() << ", conflicts " << conflicts.load() << ", audits " << audits);
  CHECK(errors.load() == 0);
  CHECK(commits.load() > 0);
  CHECK(total_at(engine->snapshot()) == kAccounts * kStart);
  if (setup == Setup::kDurable) {
    engine.reset();
    engine = open_engine(options_for(setup, dir.path()));
    CHECK(total_at(engine->snapshot()) == kAccounts * kStart);
  }
}

TEST_CASE("read-modify-write transactions lose no increment", "[transaction][stress]") {
  const Setup setup = GENERATE(Setup::kMemory, Setup::kDurable);
  CAPTURE(static_cast<int>(setup));
  TempDir dir;
  auto engine = open_engine(options_for(setup, dir.path()));
  constexpr int kThreads = 3;
  constexpr int kEach = 300;
  std::atomic<long> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      for (int done = 0; done < kEach;) {
        auto txn = engine->begin();
        const std::string current = txn_value_quiet(*txn, "counter");
        if (current == "<error>") {
          errors.fetch_add(1);
          return;
        }
        const long n = current == "<absent>" ? 0 : std::stol(current);
        if (!txn->put("counter", std::to_string(n + 1)).ok()) errors.fetch_add(1);
        const Status s = txn->commit();
        if (s.ok()) {
          ++done;
        } else if (!s.is_conflict()) {
          errors.fetch_add(1);
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(errors.load() == 0);
  CHECK(value_of(*engine, "counter") == std::to_string(kThreads * kEach));
}
