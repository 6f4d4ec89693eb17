#include <catch2/catch.hpp>

#include <atomic>
#include <functional>
#include <thread>

#include "manual_clock.hpp"
#include "temp_dir.hpp"
#include "store/reaper.hpp"

#include "test_util.hpp"

using mantis::Options;
using mantis::WriteOptions;
using mantis::test::lazy_expiry_options;
using mantis::test::ManualClock;
using mantis::test::open_engine;
using mantis::test::value_of;
using namespace std::chrono_literals;

TEST_CASE("a key is visible until the millisecond it expires, to every read", "[ttl]") {
  ManualClock clock(5000);
  auto db = open_engine(lazy_expiry_options(), &clock);
  REQUIRE(db->put("k", "v", WriteOptions{100ms}).ok());
  REQUIRE(db->put("other", "o").ok());
  clock.set(5099);
  CHECK(value_of(*db, "k") == "v");
  CHECK(db->contains("k"));
  std::optional<std::chrono::milliseconds> remaining;
  REQUIRE(db->ttl("k", &remaining).ok());
  CHECK(remaining == 1ms);
  clock.set(5100);
  CHECK(value_of(*db, "k") == "<absent>");
  CHECK_FALSE(db->contains("k"));
  CHECK(db->ttl("k", &remaining).is_not_found());
  int seen = 0;
  REQUIRE(db->scan({}, {}, [&](std::string_view key, std::string_view) {
              CHECK(key == "other");
              ++seen;
              return true;
            }).ok());
  CHECK(seen == 1);
  auto it = db->new_iterator();
  it->seek_to_first();
  REQUIRE(it->valid());
  CHECK(it->key() == "other");
  it->next();
  CHECK_FALSE(it->valid());
}

TEST_CASE("a key that expires while an iterator holds it is skipped", "[ttl][iterator]") {
  ManualClock clock(5000);
  auto db = open_engine(lazy_expiry_options(), &clock);
  REQUIRE(db->put("a", "1").ok());
  REQUIRE(db->put("b", "2", WriteOptions{10ms}).ok());
  REQUIRE(db->put("c", "3").ok());
  auto it = db->new_iterator();
  it->seek_to_first();  // the batch now holds a, b, c
  REQUIRE(it->key() == "a");
  clock.advance(10);
  it->next();
  REQUIRE(it->valid());
  CHECK(it->key() == "c");
}

TEST_CASE("expire, persist and ttl", "[ttl]") {
  ManualClock clock(10000);
  auto db = open_engine(lazy_expiry_options(), &clock);
  std::optional<std::chrono::milliseconds> remaining;
  CHECK(db->expire("absent", 10ms).is_not_found());
  CHECK(db->persist("absent").is_not_found());
  CHECK(db->ttl("absent", &remaining).is_not_found());

  REQUIRE(db->put("k", "v").ok());
  REQUIRE(db->ttl("k", &remaining).ok());
  CHECK_FALSE(remaining.has_value());
  REQUIRE(db->expire("k", 250ms).ok());
  REQUIRE(db->ttl("k", &remaining).ok());
  CHECK(remaining == 250ms);
  clock.advance(100);
  REQUIRE(db->ttl("k", &remaining).ok());
  CHECK(remaining == 150ms);
  CHECK(value_of(*db, "k") == "v");
  REQUIRE(db->persist("k").ok());
  REQUIRE(db->ttl("k", &remaining).ok());
  CHECK_FALSE(remaining.has_value());
  clock.advance(1000);
  CHECK(value_of(*db, "k") == "v");
  REQUIRE(db->persist("k").ok());  // no TTL: still OK

  REQUIRE(db->expire("k", 0ms).ok());  // expires at once
  CHECK(value_of(*db, "k") == "<absent>");
  CHECK(db->expire("k", 10ms).is_not_found());
}

TEST_CASE("a put replaces the TTL; a put without TTL removes it", "[ttl]") {
  ManualClock clock(10000);
  auto db = open_engine(lazy_expiry_options(), &clock);
  REQUIRE(db->put("k", "1", WriteOptions{10ms}).ok());
  REQUIRE(db->put("k", "2").ok());
  clock.advance(50);
  CHECK(value_of(*db, "k") == "2");
  REQUIRE(db->put("k", "3", WriteOptions{10ms}).ok());
  clock.advance(10);
  CHECK(value_of(*db, "k") == "<absent>");
}

TEST_CASE("expired keys are removed lazily on read and counted", "[ttl]") {
  ManualClock clock(10000);
  auto db = open_engine(lazy_expiry_options(), &clock);
  for (int i = 0; i < 100; ++i) REQUIRE(db->put("k" + std::to_string(i), "v", WriteOptions{5ms}).ok());
  clock.advance(5);
  CHECK(db->size() == 100);  // nothing has looked at them yet
  for (int i = 0; i < 100; ++i) CHECK_FALSE(db->contains("k" + std::to_string(i)));
  CHECK(db->size() == 0);
  CHECK(db->stats().expired == 100);
}

TEST_CASE("the reaper removes expired keys in the background", "[ttl][reaper]") {
  ManualClock clock(10000);
  Options o;
  o.reaper_interval = 5ms;
  auto db = open_engine(o, &clock);
  for (int i = 0; i < 5000; ++i) {
    REQUIRE(db->put("k" + std::to_string(i), "v", WriteOptions{i % 2 == 0 ? 10ms : 0ms}).ok());
  }
  clock.advance(10);
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (db->size() != 2500 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  CHECK(db->size() == 2500);
  CHECK(db->stats().expired == 2500);
  CHECK(value_of(*db, "k1") == "v");
}

TEST_CASE("the reaper goes on once snapshots and clears have ended, with no write after them", "[ttl][reaper][snapshot]") {
  // A snapshot (and a clear) turn the versioned mode on, which pauses the store's removals; a write a
  // second after the last one ends turns it off. An engine that only reads afterwards must still
  // reap: the reaper's tick turns the idle mode off itself.
  ManualClock clock(10000);
  Options o;
  o.reaper_interval = 5ms;
  auto db = open_engine(o, &clock);
  const bool clears = GENERATE(false, true);
  CAPTURE(clears);
  if (clears) {
    REQUIRE(db->clear().ok());
  } else {
    const mantis::Snapshot snapshot = db->snapshot();
    REQUIRE(snapshot.valid());
  }
  for (int i = 0; i < 1000; ++i) REQUIRE(db->put("k" + std::to_string(i), "v", WriteOptions{10ms}).ok());
  clock.advance(10);  // expired, while the mode lingers: nothing may be removed yet
  std::this_thread::sleep_for(50ms);
  CHECK(db->stats().expired == 0);
  clock.advance(2000);  // past the linger, with no write since
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (db->size() != 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  CHECK(db->size() == 0);
  CHECK(db->stats().expired == 1000);
}

TEST_CASE("reaping an expired key never removes a newer value", "[ttl][reaper][threads]") {
  ManualClock clock(10000);
  mantis::detail::Store store(clock);
  std::atomic<bool> stop{false};
  std::atomic<long> rewrites{0};
  // A writer keeps replacing keys whose old records have expired; the sweep must only ever remove the
  // expired records, never the fresh ones (which never expire).
  std::thread writer([&] {
    for (int round = 0; !stop.load(); ++round) {
      for (int i = 0; i < 64; ++i) {
        const std::string key = "k" + std::to_string(i);
        const bool fresh = (round % 2) == 1;
        auto* r = mantis::detail::Record::create(fresh ? "fresh" : "stale", fresh ? 0 : 10001, 1);
        if (r == nullptr) std::abort();
        store.put(key, r);
        rewrites.fetch_add(1);
      }
    }
  });
  clock.set(20000);  // every "stale" record has expired
  std::string cursor;
  const auto end = std::chrono::steady_clock::now() + 300ms;
  while (std::chrono::steady_clock::now() < end) mantis::detail::Reaper::sweep(store, cursor);
  stop.store(true);
  writer.join();
  // After a final fresh write of every key, nothing can remove them.
  for (int i = 0; i < 64; ++i) {
    store.put("k" + std::to_string(i), mantis::detail::Record::create("fresh", 0, 2));
  }
  for (int s = 0; s < 3; ++s) mantis::detail::Reaper::sweep(store, cursor);
  CHECK(store.size() == 64);
  for (int i = 0; i < 64; ++i) {
    bool fresh = false;
    store.read("k" + std::to_string(i), [&](mantis::detail::Record& r) { fresh = r.value() == "fresh"; });
    CHECK(fresh);
  }
  CHECK(rewrites.load() > 0);
}

TEST_CASE("the reaper stops promptly when the engine closes", "[ttl][reaper]") {
  Options o;
  o.reaper_interval = std::chrono::hours(1);
  const auto start = std::chrono::steady_clock::now();
  {
    auto db = open_engine(o);
    REQUIRE(db->put("k", "v", WriteOptions{1ms}).ok());
  }
  CHECK(std::chrono::steady_clock::now() - start < 5s);
}

TEST_CASE("scans and iterators do not stop at a run of expired keys longer than a batch", "[ttl][scan]") {
  ManualClock clock(5000);
  auto db = open_engine(lazy_expiry_options(), &clock);
  // Scans visit runs of kScanRunEntries (1024) entries, iterators batches of up to 256.
  for (int i = 0; i < 3500; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "k%04d", i);
    REQUIRE(db->put(key, "v", WriteOptions{i < 3400 ? 10ms : 0ms}).ok());
  }
  clock.advance(10);  // k0000..k3399 expire: several whole runs of expired keys, then 100 live ones
  int scanned = 0;
  REQUIRE(db->scan({}, {}, [&](std::string_view, std::string_view) { return ++scanned, true; }).ok());
  CHECK(scanned == 100);
  int iterated = 0;
  auto it = db->new_iterator();
  for (it->seek_to_first(); it->valid(); it->next()) ++iterated;
  CHECK(iterated == 100);
}

// A write that found its key live (here persist) takes effect before the key's deadline: no read may
// see the key expired and then see the same value again. One writer puts unique values with a 1 ms TTL
// and persists each at once, while a thread moves the clock a millisecond every few microseconds (so
// the deadline often passes between the persist's decision and its store write) and readers (by get,
// scan and iterator) check that a value they saw expire never comes back. In each engine setup, with a
// snapshot alive (every write then decides under its key's lock and expired records are not removed),
// and with the background reaper removing expired records too.
TEST_CASE("a key persisted at its deadline never reads absent, then present again", "[ttl][threads]") {
  struct Setup {
    const char* name;
    bool durable;
    std::size_t cache_capacity;
    bool snapshot;
    bool reaper;  // the background sweep removes expired records too
  };
  const Setup setups[] = {{"memory", false, 0, false, false},
                          {"memory, tier", false, std::size_t{1} << 20, false, false},
                          {"memory, snapshot alive", false, 0, true, false},
                          {"durable kAsync", true, 0, false, false},
                          {"durable kAsync, reaper", true, 0, false, true}};
  for (const Setup& setup : setups) {
    SECTION(setup.name) {
      const mantis::test::TempDir dir;
      ManualClock clock(10000);
      Options options = lazy_expiry_options(setup.cache_capacity);
      if (setup.reaper) options.reaper_interval = 1ms;
      if (setup.durable) {
        options.dir = dir / "db";
        options.durability = mantis::Durability::kAsync;
      }
      auto db = open_engine(options, &clock);
      const mantis::Snapshot pinned = setup.snapshot ? db->snapshot() : mantis::Snapshot{};
      std::atomic<bool> stop{false};
      std::atomic<long> violations{0};
      std::atomic<long> errors{0};
      std::atomic<long> persists{0};
      std::thread ticker([&] {
        while (!stop.load(std::memory_order_relaxed)) {
          clock.advance(1);
          for (int spin = 0; spin < 200; ++spin) std::atomic_signal_fence(std::memory_order_seq_cst);
        }
      });
      // Readers by get, by scan and by iterator. read(&value) returns whether the key was there.
      const std::function<bool(std::string*)> reads[] = {
          [&](std::string* value) { return db->get("k", value).ok(); },
          [&](std::string* value) {
            bool found = false;
            if (!db->scan({}, {}, [&](std::string_view, std::string_view v) {
                     value->assign(v);
                     return found = true;
                   }).ok()) {
              errors.fetch_add(1);
            }
            return found;
          },
          [&](std::string* value) {
            const auto it = db->new_iterator();
            it->seek_to_first();
            if (!it->valid()) return false;
            value->assign(it->value());
            return true;
          }};
      std::vector<std::thread> readers;
      for (const auto& read : reads) {
        readers.emplace_back([&] {
          long last_seen = -1;    // the last value this reader saw
          long seen_expire = -1;  // a value this reader saw, then saw absent
          std::string value;
          while (!stop.load(std::memory_order_relaxed)) {
            if (read(&value)) {
              const long id = std::stol(value);
              if (id == seen_expire) violations.fetch_add(1);
              last_seen = id;
            } else {
              seen_expire = last_seen;
            }
          }
        });
      }
      const auto end = std::chrono::steady_clock::now() + 1500ms;
      for (long id = 0; std::chrono::steady_clock::now() < end; ++id) {
        REQUIRE(db->put("k", std::to_string(id), WriteOptions{1ms}).ok());
        if (db->persist("k").ok()) persists.fetch_add(1);
      }
      stop.store(true);
      ticker.join();
      for (std::thread& reader : readers) reader.join();
      INFO(setup.name << ": " << persists.load() << " persists");
      CHECK(persists.load() > 0);
      CHECK(violations.load() == 0);
      CHECK(errors.load() == 0);
    }
  }
}
