#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "manual_clock.hpp"
#include "store/store.hpp"

using mantis::detail::Record;
using mantis::detail::ScanBatch;
using mantis::detail::Store;
using mantis::test::ManualClock;

namespace {

Record* record(std::string_view value, std::uint64_t expires_at = 0) {
  Record* r = Record::create(value, expires_at, 1);
  REQUIRE(r != nullptr);
  return r;
}

std::string get(const Store& store, std::string_view key) {
  std::string out = "<absent>";
  store.read(key, [&](Record& r) { out.assign(r.value()); });
  return out;
}

// Every live entry in order, through collect() in batches of `batch_size`.
std::vector<std::pair<std::string, std::string>> dump(const Store& store, std::size_t batch_size = 3) {
  std::vector<std::pair<std::string, std::string>> out;
  ScanBatch batch;
  std::string from;
  bool inclusive = true;
  while (true) {
    store.collect(from, inclusive, {}, false, batch_size, batch);
    for (std::size_t i = 0; i < batch.size(); ++i) out.emplace_back(batch.key(i), batch.record(i).value());
    if (batch.exhausted) return out;
    from.assign(batch.resume_key());
    inclusive = false;
  }
}

}  // namespace

TEST_CASE("put inserts, then replaces", "[store]") {
  Store store;
  CHECK(store.put("a", record("1")) == Store::PutOutcome::kInserted);
  CHECK(get(store, "a") == "1");
  CHECK(store.put("a", record("2")) == Store::PutOutcome::kReplaced);
  CHECK(get(store, "a") == "2");
  CHECK(store.size() == 1);
  CHECK(store.bytes() == 2);
  CHECK(get(store, "b") == "<absent>");
}

TEST_CASE("erase removes and a key can come back", "[store]") {
  Store store;
  REQUIRE(store.put("k", record("v1")) == Store::PutOutcome::kInserted);
  CHECK(store.erase("k"));
  CHECK_FALSE(store.erase("k"));
  CHECK(get(store, "k") == "<absent>");
  CHECK(store.size() == 0);
  CHECK(store.bytes() == 0);
  CHECK(store.put("k", record("v2")) == Store::PutOutcome::kInserted);
  CHECK(get(store, "k") == "v2");
}

TEST_CASE("keys are ordered by their bytes, like memcmp", "[store]") {
  Store store;
  const std::vector<std::string> keys = {std::string("\xff", 1), "b",  "a",    "",
                                         std::string("a\0", 2),  "ab", "\x01", std::string("\x80", 1)};
  for (const auto& k : keys) REQUIRE(store.put(k, record("v:" + k)) == Store::PutOutcome::kInserted);
  auto sorted = keys;
  std::sort(sorted.begin(), sorted.end());
  const auto entries = dump(store);
  REQUIRE(entries.size() == sorted.size());
  for (std::size_t i = 0; i < sorted.size(); ++i) {
    CHECK(entries[i].first == sorted[i]);
    CHECK(entries[i].second == "v:" + sorted[i]);
  }
}

TEST_CASE("the store matches std::map under a random single-threaded workload", "[store]") {
  Store store;
  std::map<std::string, std::string> model;
  std::mt19937_64 rng(12345);
  for (int i = 0; i < 20000; ++i) {
    const std::string key = "key" + std::to_string(rng() % 2000);
    switch (rng() % 3) {
      case 0:
      case 1: {
        const std::string value = std::to_string(rng());
        const bool existed = model.count(key) != 0;
        CHECK(store.put(key, record(value)) == (existed ? Store::PutOutcome::kReplaced : Store::PutOutcome::kInserted));
        model[key] = value;
        break;
      }
      default:
        CHECK(store.erase(key) == (model.erase(key) == 1));
    }
  }
  CHECK(store.size() == model.size());
  std::uint64_t bytes = 0;
  for (const auto& [k, v] : model) bytes += k.size() + v.size();
  CHECK(store.bytes() == bytes);
  const auto entries = dump(store, 7);
  REQUIRE(entries.size() == model.size());
  auto it = model.begin();
  for (const auto& e : entries) {
    CHECK(e.first == it->first);
    CHECK(e.second == it->second);
    ++it;
  }
}

TEST_CASE("collect honours start, inclusiveness, end and limit", "[store]") {
  Store store;
  for (char c = 'a'; c <= 'j'; ++c) REQUIRE(store.put(std::string(1, c), record("v")) == Store::PutOutcome::kInserted);
  ScanBatch batch;
  store.collect("c", true, "f", true, 100, batch);
  REQUIRE(batch.size() == 3);
  CHECK(batch.key(0) == "c");
  CHECK(batch.key(2) == "e");
  CHECK(batch.exhausted);
  store.collect("c", false, "f", true, 100, batch);
  REQUIRE(batch.size() == 2);
  CHECK(batch.key(0) == "d");
  store.collect("bb", true, {}, false, 2, batch);
  REQUIRE(batch.size() == 2);
  CHECK(batch.key(0) == "c");
  CHECK_FALSE(batch.exhausted);
  store.collect("z", true, {}, false, 2, batch);
  CHECK(batch.empty());
  CHECK(batch.exhausted);
}

TEST_CASE("expired records are invisible from their expiry millisecond", "[store][ttl]") {
  ManualClock clock(1000);
  Store store(clock);
  REQUIRE(store.put("t", record("v", 1500)) == Store::PutOutcome::kInserted);
  clock.set(1499);
  CHECK(get(store, "t") == "v");
  CHECK(dump(store).size() == 1);
  clock.set(1500);
  CHECK(dump(store).empty());
  CHECK(get(store, "t") == "<absent>");
  // The read removed the expired record lazily.
  CHECK(store.size() == 0);
  CHECK(store.expired_removals() == 1);
}

TEST_CASE("update replaces only a live record and never resurrects", "[store]") {
  ManualClock clock(1000);
  Store store(clock);
  auto make_upper = [](const Record& r) {
    std::string v(r.value());
    for (char& c : v) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return Record::create(v, 0, 2);
  };
  CHECK(store.update("missing", make_upper) == Store::UpdateOutcome::kNotFound);
  CHECK(get(store, "missing") == "<absent>");
  REQUIRE(store.put("k", record("abc")) == Store::PutOutcome::kInserted);
  CHECK(store.update("k", make_upper) == Store::UpdateOutcome::kUpdated);
  CHECK(get(store, "k") == "ABC");
  REQUIRE(store.put("old", record("x", 1001)) == Store::PutOutcome::kInserted);
  clock.set(2000);
  CHECK(store.update("old", make_upper) == Store::UpdateOutcome::kNotFound);
  CHECK(get(store, "old") == "<absent>");
}

TEST_CASE("remove_where compares the record and resumes from its cursor", "[store]") {
  ManualClock clock(1000);
  Store store(clock);
  for (int i = 0; i < 100; ++i) {
    const std::string key = "k" + std::to_string(1000 + i);
    REQUIRE(store.put(key, record("v", i % 2 == 0 ? 1500 : 0)) == Store::PutOutcome::kInserted);
  }
  clock.set(1600);
  std::string cursor;
  std::size_t removed = 0;
  int slices = 0;
  while (true) {
    const auto result =
        store.remove_where(&cursor, 10, true, [](const Record& r, std::uint64_t now) { return r.expired_at(now); });
    removed += result.removed;
    ++slices;
    if (result.reached_end) break;
  }
  CHECK(slices == 10);
  CHECK(removed == 50);
  CHECK(store.size() == 50);
  CHECK(store.expired_removals() == 50);
}

TEST_CASE("the loader builds a store from sorted entries that then works like any other", "[store][load]") {
  ManualClock clock(1000);
  Store store(clock);
  {
    Store::Loader loader(store);
    for (int i = 0; i < 2000; ++i) {
      char key[16];
      std::snprintf(key, sizeof(key), "k%06d", i);
      REQUIRE(loader.append(key, record("v" + std::to_string(i), i % 2 == 0 ? 0 : 5000)) == Store::Appended::kOk);
    }
    Record* late = record("x");
    CHECK(loader.append("k000000", late) == Store::Appended::kOutOfOrder);  // not after the last key
    CHECK(loader.append("k001999", late) == Store::Appended::kOutOfOrder);  // equal is out of order too
    Record::unref(late);
  }
  CHECK(store.size() == 2000);
  CHECK(store.has_ttls());
  CHECK(get(store, "k000000") == "v0");
  CHECK(get(store, "k001999") == "v1999");
  CHECK(get(store, "k0005") == "<absent>");
  const auto all = dump(store, 7);
  REQUIRE(all.size() == 2000);
  CHECK(std::is_sorted(all.begin(), all.end()));
  // Writes, erases and expiry work on loaded nodes as on inserted ones.
  REQUIRE(store.put("k000500", record("new")) == Store::PutOutcome::kReplaced);
  REQUIRE(store.put("k000500x", record("between")) == Store::PutOutcome::kInserted);
  CHECK(store.erase("k000001"));
  CHECK(get(store, "k000500") == "new");
  CHECK(get(store, "k000500x") == "between");
  CHECK(get(store, "k000001") == "<absent>");
  clock.set(5000);
  CHECK(get(store, "k000003") == "<absent>");
  CHECK(get(store, "k000004") == "v4");
}

TEST_CASE("the loader puts sorted entries into a store that holds keys already, inserting and replacing",
          "[store][load]") {
  // Several rounds, each a sorted run over a store that earlier rounds, puts and erases filled: the
  // walk from the previous key must land right whether it passes many nodes, none, or tall towers.
  ManualClock clock(1000);
  Store store(clock);
  std::map<std::string, std::string> model;
  std::mt19937_64 rng(7);
  auto key_of = [](std::uint64_t n) {
    char key[16];
    std::snprintf(key, sizeof(key), "k%07llu", static_cast<unsigned long long>(n));
    return std::string(key);
  };
  for (int i = 0; i < 3000; ++i) {
    const std::string key = key_of(rng() % 20000);
    REQUIRE(store.put(key, record("put" + std::to_string(i))) != Store::PutOutcome::kOutOfMemory);
    model[key] = "put" + std::to_string(i);
  }
  for (int round = 0; round < 6; ++round) {
    std::map<std::string, std::string> run;  // sorted, distinct
    const int size = round == 0 ? 1 : 1 << (2 * round);
    for (int i = 0; i < size; ++i) run[key_of(rng() % 20000)] = "round" + std::to_string(round) + "." + std::to_string(i);
    {
      Store::Loader loader(store);
      for (const auto& [key, value] : run) {
        loader.prefetch(key);
        REQUIRE(loader.append(key, record(value)) == Store::Appended::kOk);
        model[key] = value;
      }
      Record* late = record("late");
      CHECK(loader.append(run.begin()->first, late) == Store::Appended::kOutOfOrder);
      Record::unref(late);
    }
    for (int i = 0; i < 100; ++i) {  // live operations between rounds
      const std::string key = key_of(rng() % 20000);
      if (rng() % 2 == 0) {
        store.erase(key);
        model.erase(key);
      } else {
        REQUIRE(store.put(key, record("live")) != Store::PutOutcome::kOutOfMemory);
        model[key] = "live";
      }
    }
    const auto all = dump(store, 100);
    REQUIRE(all == std::vector<std::pair<std::string, std::string>>(model.begin(), model.end()));
    CHECK(store.size() == model.size());
    std::uint64_t bytes = 0;
    for (const auto& [key, value] : model) bytes += key.size() + value.size();
    CHECK(store.bytes() == bytes);
    for (const auto& [key, value] : model) REQUIRE(get(store, key) == value);  // the index agrees
  }
  // A run in stretches of keys the store holds and keys it does not, so that the loader switches
  // between finding keys through the index and walking to them (see append()).
  std::map<std::string, std::string> run;
  for (std::uint64_t n = 0; n < 20000; ++n) {
    const std::string key = key_of(n);
    const bool held = model.contains(key);
    if ((n / 2000) % 2 == 0 ? held : !held && n % 3 == 0) run[key] = "stretch-" + std::to_string(n);
  }
  {
    Store::Loader loader(store);
    for (const auto& [key, value] : run) {
      REQUIRE(loader.append(key, record(value)) == Store::Appended::kOk);
      model[key] = value;
    }
  }
  REQUIRE(dump(store, 100) == std::vector<std::pair<std::string, std::string>>(model.begin(), model.end()));
  std::uint64_t bytes = 0;
  for (const auto& [key, value] : model) bytes += key.size() + value.size();
  CHECK(store.size() == model.size());
  CHECK(store.bytes() == bytes);
  for (const auto& [key, value] : model) REQUIRE(get(store, key) == value);
}

TEST_CASE("concurrent inserts of disjoint keys are all present and ordered", "[store][threads]") {
  Store store;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string key = "key" + std::to_string(i * kThreads + t + 100000);
        Record* r = Record::create(key, 0, 1);
        if (r == nullptr || store.put(key, r) != Store::PutOutcome::kInserted) std::abort();
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(store.size() == kThreads * kPerThread);
  const auto entries = dump(store, 100);
  REQUIRE(entries.size() == kThreads * kPerThread);
  for (std::size_t i = 1; i < entries.size(); ++i) CHECK(entries[i - 1].first < entries[i].first);
  for (const auto& e : entries) CHECK(e.first == e.second);
}

TEST_CASE("point reads near the last key read stay exact through erases and reinserts", "[store]") {
  // Reads of a key or of its successor start from the thread's last lookup (the finger); removing,
  // reinserting and replacing those very keys between reads must never show a stale or dead node.
  Store store;
  for (int i = 0; i < 100; ++i) store.put("k" + std::to_string(100 + i), record("v" + std::to_string(i)));
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 99; ++i) {
      const std::string key = "k" + std::to_string(100 + i);
      const std::string next = "k" + std::to_string(101 + i);
      REQUIRE(get(store, key) != "<absent>");
      REQUIRE(store.erase(next));
      CHECK(get(store, next) == "<absent>");
      CHECK(get(store, key) != "<absent>");
      store.put(next, record("again" + std::to_string(round)));
      CHECK(get(store, next) == "again" + std::to_string(round));
      store.put(next, record("new" + std::to_string(round)));
      CHECK(get(store, next) == "new" + std::to_string(round));
      REQUIRE(store.erase(key));
      CHECK(get(store, key) == "<absent>");
      store.put(key, record("back"));
      CHECK(get(store, key) == "back");
    }
  }
  // Another store at work in between: a finger never crosses stores.
  Store other;
  other.put("k100", record("other"));
  CHECK(get(other, "k100") == "other");
  CHECK(get(store, "k101") != "other");
}

TEST_CASE("the point index costs 8-16 bytes per key and shrinks back as keys go", "[store]") {
  // An 8-byte entry per key at 60-85% load, plus per-shard headers (docs/BENCHMARKS.md counts on it).
  Store store;
  constexpr int kKeys = 200'000;
  for (int i = 0; i < kKeys; ++i) store.put("key" + std::to_string(i), record("v"));
  const double per_key = static_cast<double>(store.index_bytes()) / kKeys;
  CHECK(per_key >= 8.0);
  CHECK(per_key <= 16.0);
  for (int i = 0; i < kKeys; ++i) REQUIRE(store.erase("key" + std::to_string(i)));
  // Tables left mostly empty by removals are rebuilt smaller.
  CHECK(store.index_bytes() < kKeys * 8 / 4);
  for (int i = 0; i < 1000; ++i) store.put("again" + std::to_string(i), record("v"));
  for (int i = 0; i < 1000; ++i) CHECK(get(store, "again" + std::to_string(i)) == "v");
}
