// Snapshots (snapshot.hpp, Engine::snapshot): a read through a snapshot sees exactly the writes with
// version <= the snapshot's, for as long as it lives, across point reads, scans and iterators, with
// expiry judged at the snapshot's time; batches and clears are seen whole or not at all; bad snapshots
// are refused. Each in memory, with the cache tier, and durable; then under concurrent writers, where
// every snapshot must stay stable while it lives and see every write acknowledged before it, and under
// churn against an exact model of the state, held through 100k later writes, after which nothing is kept.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdio>
#include <deque>
#include <iterator>
#include <map>
#include <mutex>
#include <random>
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

// One old snapshot pins one past state per key, however often its keys are erased and written again
// after it (an absent state has no sequence number of its own, so the history must tell when it began).
TEST_CASE("a snapshot held through erase and rewrite churn keeps one past state per key", "[snapshot][stats]") {
  auto engine = open_engine();
  constexpr int kKeys = 100;
  for (int k = 0; k < kKeys; ++k) REQUIRE(engine->put("k" + std::to_string(k), "before").ok());
  const Snapshot snapshot = engine->snapshot();
  for (int round = 0; round < 50; ++round) {
    for (int k = 0; k < kKeys; ++k) {
      const std::string key = "k" + std::to_string(k);
      REQUIRE(engine->erase(key).ok());
      REQUIRE(engine->put(key, std::to_string(round)).ok());
    }
  }
  CHECK(engine->stats().versions_kept == kKeys);
  for (int k = 0; k < kKeys; ++k) CHECK(value_at(*engine, snapshot, "k" + std::to_string(k)) == "before");
  // A snapshot taken now pins the current states: the next round keeps one more per key, no more.
  const Snapshot later = engine->snapshot();
  for (int round = 0; round < 5; ++round) {
    for (int k = 0; k < kKeys; ++k) {
      const std::string key = "k" + std::to_string(k);
      REQUIRE(engine->erase(key).ok());
      REQUIRE(engine->put(key, "after").ok());
    }
  }
  CHECK(engine->stats().versions_kept == 2 * kKeys);
  CHECK(value_at(*engine, later, "k7") == "49");
  CHECK(value_at(*engine, snapshot, "k7") == "before");
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

TEST_CASE("a write racing the reaper's turn-off returns with nothing kept", "[snapshot][stats]") {
  // The reaper ticks every millisecond and turns the idle mode off, dropping a history of 20,000
  // entries; the write lands at a random moment of that tick, and must not return before the drop ends.
  ManualClock clock(1'000'000);
  Options options;
  options.reaper_interval = 1ms;
  auto engine = open_engine(options, &clock);
  constexpr int kKeys = 20'000;
  std::mt19937_64 random(7);
  for (int round = 0; round < 20; ++round) {
    {
      Snapshot snapshot = engine->snapshot();
      for (int i = 0; i < kKeys; ++i) REQUIRE(engine->put("k" + std::to_string(i), std::to_string(round)).ok());
      REQUIRE(engine->stats().versions_kept > 0);
    }
    clock.advance(2000);
    std::this_thread::sleep_for(std::chrono::microseconds(random() % 2000));
    REQUIRE(engine->put("k0", "after").ok());
    CHECK(engine->stats().versions_kept == 0);
  }
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

// ---- snapshots held through churn, against an exact model ----

namespace {

// The modelled writer's keys, "m:00000".."m:03999", and the other writers' "o<w>:00000"..: these sort
// after every "m:" key. More keys than one scan run (1024), so scans resume at a snapshot.
constexpr int kModelKeys = 4000;
constexpr int kOtherWriters = 2;
constexpr int kOtherKeys = 1000;      // per other writer
constexpr long kLongHold = 100'000;   // writes a long-held snapshot lives through
constexpr std::size_t kMaxHeld = 6;   // snapshots alive at once
constexpr long kWritesPerMs = 8;      // the modelled writer moves the clock 1 ms every 8 writes
constexpr long kQuietWrites = 9'000;  // 1125 ms of clock without a snapshot: past the idle linger (1 s)
// What may be kept once the mode has turned off while the other writers go on: a write in flight when
// it turned off still records the states it ends (history.cpp, add()), one write of up to 3 keys each.
constexpr std::uint64_t kStaleEntries = 3 * kOtherWriters + 1;

std::string numbered(const std::string& prefix, long i) {
  char digits[24];
  std::snprintf(digits, sizeof digits, "%05ld", i);
  return prefix + digits;
}
std::string model_key(long i) { return numbered("m:", i); }
std::string other_key(int writer, long i) { return numbered("o" + std::to_string(writer) + ":", i); }

using Contents = std::map<std::string, std::string>;

// A modelled key's state: its value and its expiry on the engine's clock (0: none).
struct ModelEntry {
  std::string value;
  std::uint64_t expires_at_ms = 0;
  bool visible_at(std::uint64_t now_ms) const { return expires_at_ms == 0 || now_ms < expires_at_ms; }
};
using Model = std::map<std::string, ModelEntry>;

Contents visible_at(const Model& model, std::uint64_t now_ms) {
  Contents out;
  for (const auto& [key, entry] : model) {
    if (entry.visible_at(now_ms)) out.emplace_hint(out.end(), key, entry.value);
  }
  return out;
}

// "" when `actual` equals `expected`, else the first key on which they differ.
std::string difference(const Contents& expected, const Contents& actual) {
  auto e = expected.begin();
  auto a = actual.begin();
  for (; e != expected.end() || a != actual.end(); ++e, ++a) {
    if (a == actual.end() || (e != expected.end() && e->first < a->first)) return "missing " + e->first;
    if (e == expected.end() || a->first < e->first) return "unexpected " + a->first + " = " + a->second;
    if (e->second != a->second) return e->first + ": expected " + e->second + ", read " + a->second;
  }
  return "";
}

// The entries of `contents` in [begin, end) (empty end: to the last key).
Contents slice(const Contents& contents, const std::string& begin, const std::string& end) {
  if (!end.empty() && end <= begin) return {};
  return Contents(contents.lower_bound(begin), end.empty() ? contents.end() : contents.lower_bound(end));
}

Contents with_prefix(const Contents& contents, const std::string& prefix) {
  Contents out;
  for (auto it = contents.lower_bound(prefix); it != contents.end() && it->first.starts_with(prefix); ++it) {
    out.emplace_hint(out.end(), *it);
  }
  return out;
}

// What worker threads found wrong (they must not use Catch's macros): a count and the first report.
class Failures {
 public:
  void add(const std::string& what) {
    const std::lock_guard<std::mutex> lock(mutex_);
    if (count_++ == 0) first_ = what;
  }
  long count() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return count_;
  }
  std::string first() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return first_;
  }

 private:
  mutable std::mutex mutex_;
  long count_ = 0;
  std::string first_;
};

// A snapshot the modelled writer took, with what it must show of the modelled keys. The other writers'
// keys are not modelled: the first check records what the snapshot shows of them (`all`), and every
// later read through it must show exactly that again.
struct HeldSnapshot {
  Snapshot snapshot;
  Contents expected;    // the modelled keys visible at the snapshot's version and time
  long taken_at = 0;    // the modelled writer's write count when it was taken
  long release_at = 0;  // the write count from which on the checker releases it
  Contents all;         // `expected` and the other writers' keys, once `seen`
  bool seen = false;
};

// The one writer of the modelled keys, on a thread of its own: random puts (a third of them with TTLs
// of 1-400 ms), erases and expires over kModelKeys keys, moving the clock (the engine's, a ManualClock
// that nothing else moves) 1 ms every kWritesPerMs writes, so keys expire while snapshots live. After
// each write the model is the exact state. After every other write it checks a latest read against
// the model; now and then it takes a snapshot with a copy of the model, handed to the checker.
// Snapshots are alive all the time except in quiet stretches, in which the versioned mode turns off.
// Thread-safe as documented.
class ModelledWriter {
 public:
  ModelledWriter(Engine& engine, ManualClock& clock, Failures& failures, std::uint64_t seed)
      : engine_(engine), clock_(clock), failures_(failures), seed_(seed) {}

  // Writes until `stop`. Call once.
  void run(const std::atomic<bool>& stop) {
    std::mt19937_64 rng(seed_);
    long next_snapshot = kModelKeys;  // once every key has been written
    bool quiet = false;               // in a quiet stretch
    bool long_taken = false;
    long taken = 0;
    for (long n = 1; !stop.load(std::memory_order_relaxed); ++n) {
      write(n, rng);
      writes_.store(n, std::memory_order_release);
      if (n % kWritesPerMs == 0) clock_.advance(1);
      // A new snapshot only once the checker has read the last one: the writer outruns it otherwise.
      if (n < next_snapshot || live_.load() >= kMaxHeld || handed_count_.load() > seen_.load()) continue;
      // Two quiet stretches, then the long-held snapshot; after its release, quiet stretches at random.
      if (quiet) {  // the mode has turned off, or is dropping what it kept: give it up to 2 s
        quiet = false;
        std::uint64_t kept = engine_.stats().versions_kept;
        for (int wait = 0; wait < 2000 && kept > kStaleEntries; ++wait) {
          std::this_thread::sleep_for(1ms);
          kept = engine_.stats().versions_kept;
        }
        kept_after_quiet_.store(std::max(kept_after_quiet_.load(), kept));
      } else if (taken > 0 && live_.load() == 0 && (!long_taken || rng() % 2 == 0)) {
        quiet = true;
        quiet_stretches_.fetch_add(1);
        next_snapshot = n + kQuietWrites;
        continue;
      } else if (taken > 0 && !long_taken && live_.load() > 0) {  // one at a time until then
        continue;
      }
      const bool long_hold = !long_taken && quiet_stretches_.load() >= 2;
      long_taken = long_taken || long_hold;
      HeldSnapshot held;
      held.snapshot = engine_.snapshot();
      expect(held.snapshot.valid(), "snapshot() returned an empty snapshot");
      held.expected = visible_at(model_, clock_.now_ms());
      held.taken_at = n;
      held.release_at = n + (long_hold ? kLongHold + static_cast<long>(rng() % 10'000)
                                       : 500 + static_cast<long>(rng() % (long_taken ? 20'000 : 5'000)));
      next_snapshot = n + 200 + static_cast<long>(rng() % 5000);
      ++taken;
      ++live_;
      ++handed_count_;
      const std::lock_guard<std::mutex> lock(mutex_);
      handed_.push_back(std::move(held));
    }
  }

  // Writes so far. Thread-safe.
  long writes() const { return writes_.load(std::memory_order_acquire); }
  // The snapshots taken since the last call; the caller releases each with released(). Thread-safe.
  std::vector<HeldSnapshot> take_handed() {
    const std::lock_guard<std::mutex> lock(mutex_);
    std::vector<HeldSnapshot> out(std::make_move_iterator(handed_.begin()), std::make_move_iterator(handed_.end()));
    handed_.clear();
    return out;
  }
  // The checker has read a snapshot for the first time / released one. Thread-safe.
  void seen() { ++seen_; }
  void released() { --live_; }
  // Stretches of kQuietWrites writes with no snapshot alive so far, and the most versions_kept read
  // at the end of one (once at most kStaleEntries, or after 2 s). Thread-safe.
  long quiet_stretches() const { return quiet_stretches_.load(); }
  std::uint64_t kept_after_quiet() const { return kept_after_quiet_.load(); }
  // The state after the last write. REQUIRES: run() has returned.
  const Model& model() const { return model_; }

 private:
  // Write number n, and after every other write a latest read.
  void write(long n, std::mt19937_64& rng) {
    // The first kModelKeys writes put every key, so reads find them from the start.
    const std::string key = model_key(n <= kModelKeys ? n - 1 : static_cast<long>(rng() % kModelKeys));
    const std::uint64_t now = clock_.now_ms();
    const auto ttl = std::chrono::milliseconds(1 + rng() % 400);
    const unsigned roll = n <= kModelKeys ? 0 : static_cast<unsigned>(rng() % 100);
    if (roll < 75) {
      const std::string value = "v" + std::to_string(n) + ":" + std::string(static_cast<std::size_t>(n % 48), 'x');
      WriteOptions options;
      if (roll >= 50) options.ttl = ttl;
      expect(engine_.put(key, value, options).ok(), "put " + key);
      model_[key] = {value, roll >= 50 ? now + static_cast<std::uint64_t>(ttl.count()) : 0};
    } else if (roll < 95) {
      expect(engine_.erase(key).ok(), "erase " + key);
      model_.erase(key);
    } else {
      const auto it = model_.find(key);
      const bool live = it != model_.end() && it->second.visible_at(now);
      const Status s = engine_.expire(key, ttl);
      expect(live ? s.ok() : s.is_not_found(), "expire " + key + ": " + s.to_string());
      if (live) it->second.expires_at_ms = now + static_cast<std::uint64_t>(ttl.count());
    }
    if (roll % 2 == 0) {  // mostly among 64 hot keys, which move on: the tier fills and evicts
      const long read = roll % 8 != 0 ? n / 64 + static_cast<long>(rng() % 64) : static_cast<long>(rng());
      check_latest(model_key(read % kModelKeys));
    }
  }
  void expect(bool ok, const std::string& what) {
    if (!ok) failures_.add("modelled writer: " + what);
  }
  // The latest value of `key` against the model (with the tier on, reads fill it and evict).
  void check_latest(const std::string& key) {
    std::string value;
    const Status s = engine_.get(key, &value);
    const auto it = model_.find(key);
    if (it != model_.end() && it->second.visible_at(clock_.now_ms())) {
      expect(s.ok() && value == it->second.value, "latest read of " + key + ": " + s.to_string() + " '" + value +
                                                      "', the model has '" + it->second.value + "'");
    } else {
      expect(s.is_not_found(), "latest read of " + key + ": " + s.to_string() + ", the model has it absent");
    }
  }

  Engine& engine_;
  ManualClock& clock_;
  Failures& failures_;
  const std::uint64_t seed_;
  Model model_;  // the writer thread's own
  std::atomic<long> writes_{0};
  std::atomic<long> handed_count_{0};
  std::atomic<long> seen_{0};
  std::atomic<std::size_t> live_{0};  // snapshots handed and not yet released
  std::atomic<long> quiet_stretches_{0};
  std::atomic<std::uint64_t> kept_after_quiet_{0};
  std::mutex mutex_;
  std::deque<HeldSnapshot> handed_;
};

// A writer of keys nobody models, other_key(writer, *): puts, short-TTL puts, erases and batches, at
// most half as many as the modelled writer's writes (which would get little of two cores otherwise).
void churn_other_keys(Engine& engine, int writer, const ModelledWriter& pace, const std::atomic<bool>& stop,
                      Failures& failures) {
  std::mt19937_64 rng(static_cast<std::uint64_t>(writer) + 7);
  auto key = [&] { return other_key(writer, static_cast<long>(rng() % kOtherKeys)); };
  for (long n = 0; !stop.load(std::memory_order_relaxed); ++n) {
    while (n > pace.writes() / 2 && !stop.load(std::memory_order_relaxed)) std::this_thread::sleep_for(50us);
    const std::string value = "o" + std::to_string(writer) + "-" + std::to_string(n);
    const unsigned roll = static_cast<unsigned>(rng() % 100);
    Status s;
    if (roll < 50) {
      s = engine.put(key(), value);
    } else if (roll < 70) {
      s = engine.put(key(), value, WriteOptions{.ttl = std::chrono::milliseconds(1 + rng() % 400)});
    } else if (roll < 90) {
      s = engine.erase(key());
    } else {
      WriteBatch batch;
      batch.put(key(), value);
      batch.erase(key());
      batch.put(key(), value, std::chrono::milliseconds(1 + rng() % 400));
      s = engine.write(batch);
    }
    if (!s.ok()) failures.add("other writer " + std::to_string(writer) + ": " + s.to_string());
  }
}

Contents scan_prefix_at(const Engine& engine, const Snapshot& snapshot, const std::string& prefix) {
  ReadOptions read;
  read.snapshot = &snapshot;
  Contents out;
  REQUIRE(engine
              .scan_prefix(read, prefix,
                           [&](std::string_view k, std::string_view v) {
                             REQUIRE(out.emplace(std::string(k), std::string(v)).second);
                             return true;
                           })
              .ok());
  return out;
}

// Up to `count` entries from seek(target) on, through an iterator at the snapshot.
Contents seek_at(const Engine& engine, const Snapshot& snapshot, const std::string& target, int count) {
  ReadOptions read;
  read.snapshot = &snapshot;
  std::unique_ptr<mantis::Iterator> it;
  REQUIRE(engine.new_iterator(read, &it).ok());
  Contents out;
  for (it->seek(target); it->valid() && static_cast<int>(out.size()) < count; it->next()) {
    REQUIRE(out.emplace(std::string(it->key()), std::string(it->value())).second);
  }
  REQUIRE(it->status().ok());
  return out;
}

// The first `count` entries of `contents` from `target` on.
Contents first_from(const Contents& contents, const std::string& target, int count) {
  Contents out;
  for (auto it = contents.lower_bound(target); it != contents.end() && static_cast<int>(out.size()) < count; ++it) {
    out.emplace_hint(out.end(), *it);
  }
  return out;
}

// A scan bound in or around the key spaces: "", a key, a prefix of one, a key past the last, or a key
// with a byte appended (between two keys).
std::string random_bound(std::mt19937_64& rng) {
  const unsigned roll = static_cast<unsigned>(rng() % 10);
  if (roll == 0) return "";
  const std::string key =
      roll == 1 ? other_key(static_cast<int>(rng() % kOtherWriters), static_cast<long>(rng() % kOtherKeys))
                : model_key(static_cast<long>(rng() % (kModelKeys + 50)));
  switch (rng() % 3) {
    case 0:
      return key;
    case 1:
      return key.substr(0, 1 + rng() % key.size());
    default:
      return key + '\x01';
  }
}

// The first key in [0, keys) of `name(i)` whose read at the snapshot differs from `expected`, or "".
template <class Name>
std::string wrong_point_read(const Engine& engine, const Snapshot& snapshot, const Contents& expected, long keys,
                             Name&& name) {
  for (long i = 0; i < keys; ++i) {
    const std::string key = name(i);
    const auto it = expected.find(key);
    const std::string want = it == expected.end() ? "<absent>" : it->second;
    const std::string got = value_at(engine, snapshot, key);
    if (got != want) return key + ": expected " + want + ", read " + got;
  }
  return "";
}

// Reads `held` every way and compares with what it must show. The first check, and every `full` one,
// reads every key of both key spaces by get, the whole range by scan, scan_prefix and the iterator;
// every check reads random ranges, prefixes, seeks and keys.
void check_held(const Engine& engine, HeldSnapshot& held, std::mt19937_64& rng, bool full) {
  const Snapshot& snapshot = held.snapshot;
  if (!held.seen) {
    held.all = scan_at(engine, snapshot);
    Contents modelled;
    for (const auto& [key, value] : held.all) {
      INFO("a key no writer wrote: " << key);
      REQUIRE((key.starts_with("m:") || (key.size() > 3 && key[0] == 'o' && key[2] == ':')));
      if (key.starts_with("m:")) modelled.emplace_hint(modelled.end(), key, value);
    }
    REQUIRE(difference(held.expected, modelled) == "");
    held.seen = true;
    full = true;
  }
  const Contents& all = held.all;
  if (full) {
    REQUIRE(wrong_point_read(engine, snapshot, all, kModelKeys, model_key) == "");
    for (int w = 0; w < kOtherWriters; ++w) {
      REQUIRE(wrong_point_read(engine, snapshot, all, kOtherKeys, [w](long i) { return other_key(w, i); }) == "");
    }
    REQUIRE(difference(all, scan_at(engine, snapshot)) == "");
    REQUIRE(difference(all, iterate_at(engine, snapshot)) == "");
    REQUIRE(difference(all, scan_prefix_at(engine, snapshot, "")) == "");
    REQUIRE(difference(held.expected, scan_prefix_at(engine, snapshot, "m:")) == "");
  }
  for (int i = 0; i < 3; ++i) {
    std::string begin = random_bound(rng);
    std::string end = random_bound(rng);
    if (!end.empty() && end < begin) std::swap(begin, end);
    CAPTURE(begin, end);
    REQUIRE(difference(slice(all, begin, end), scan_at(engine, snapshot, begin, end)) == "");
    const std::string prefix = random_bound(rng);
    CAPTURE(prefix);
    REQUIRE(difference(with_prefix(all, prefix), scan_prefix_at(engine, snapshot, prefix)) == "");
    const int count = 1 + static_cast<int>(rng() % 100);
    REQUIRE(difference(first_from(all, begin, count), seek_at(engine, snapshot, begin, count)) == "");
  }
  const long first = static_cast<long>(rng() % kModelKeys);
  REQUIRE(wrong_point_read(engine, snapshot, all, 200,
                           [first](long i) { return model_key((first + i) % kModelKeys); }) == "");
}

}  // namespace

TEST_CASE("snapshots held through churn read exactly a model of the state at their version, then nothing is kept",
          "[snapshot][stress]") {
  const Setup setup = GENERATE(Setup::kMemory, Setup::kMemoryTier, Setup::kDurable);
  const std::uint64_t seed = std::random_device{}();
  CAPTURE(static_cast<int>(setup), seed);
  TempDir dir;
  ManualClock clock;
  Options options = options_for(setup, dir.path());
  if (setup == Setup::kMemoryTier) options.cache_capacity = 2 << 10;  // about 20 entries: it evicts
  options.reaper_interval = 10ms;  // sweeps while no snapshot is alive; paused while one is
  auto engine = open_engine(options, &clock);

  Failures failures;
  ModelledWriter writer(*engine, clock, failures, seed);
  std::vector<HeldSnapshot> held;  // released before the engine is destroyed
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  struct JoinAtExit {  // however the test ends, the writers stop before what they use goes
    std::atomic<bool>& stop;
    std::vector<std::thread>& threads;
    void join() {
      stop = true;
      for (auto& t : threads) {
        if (t.joinable()) t.join();
      }
    }
    ~JoinAtExit() { join(); }
  } writers{stop, threads};
  threads.emplace_back([&] { writer.run(stop); });
  for (int w = 0; w < kOtherWriters; ++w) {
    threads.emplace_back([&, w] { churn_other_keys(*engine, w, writer, stop, failures); });
  }

  // Check every held snapshot over and over, fully when it is due for release, for a third of the
  // stress duration (one per setup) and at least until a snapshot has been checked after kLongHold
  // later writes.
  std::mt19937_64 rng(seed + 1);
  const auto deadline = std::chrono::steady_clock::now() + mantis::test::stress_duration() / 3;
  long checks = 0;
  long long_held = 0;
  long taken = 0;
  while (failures.count() == 0 && (std::chrono::steady_clock::now() < deadline || long_held == 0)) {
    for (auto& h : writer.take_handed()) {
      held.push_back(std::move(h));
      ++taken;
    }
    for (std::size_t i = 0; i < held.size();) {
      const long writes = writer.writes();
      const bool due = writes >= held[i].release_at;
      INFO("snapshot at version " << held[i].snapshot.version() << ", taken at write " << held[i].taken_at
                                  << ", checked at write " << writes);
      const bool first = !held[i].seen;
      check_held(*engine, held[i], rng, due);
      if (first) writer.seen();
      ++checks;
      if (!due) {
        ++i;
        continue;
      }
      long_held += writes - held[i].taken_at >= kLongHold;
      held.erase(held.begin() + static_cast<std::ptrdiff_t>(i));
      writer.released();
    }
    std::this_thread::sleep_for(held.empty() ? 1ms : 2ms);  // the writers need the cores more
  }
  writers.join();
  INFO(failures.count() << " failures in the writers; the first: " << failures.first());
  REQUIRE(failures.count() == 0);
  for (auto& h : writer.take_handed()) held.push_back(std::move(h));
  for (auto& h : held) check_held(*engine, h, rng, /*full=*/true);
  held.clear();
  INFO(taken << " snapshots, " << checks << " checks, " << long_held << " after " << kLongHold << " writes or more, "
             << writer.writes() << " modelled writes, " << writer.quiet_stretches() << " quiet stretches");
  CHECK(long_held > 0);
  // The versioned mode turned off in the quiet stretches, while the other writers went on.
  CHECK(writer.quiet_stretches() >= 2);
  CHECK(writer.kept_after_quiet() <= kStaleEntries);

  // The final state, through a last snapshot and through latest reads.
  const Contents final_state = visible_at(writer.model(), clock.now_ms());
  {
    HeldSnapshot last;
    last.snapshot = engine->snapshot();
    last.expected = final_state;
    check_held(*engine, last, rng, /*full=*/true);
  }
  CHECK(difference(final_state, with_prefix(contents_of(*engine), "m:")) == "");
  if (setup == Setup::kMemoryTier) CHECK(engine->stats().cache.evictions > 0);

  // Nothing is kept once no snapshot is alive: the first write a second later drops it all, or the
  // reaper's tick does, which may be dropping it at that moment; either way it is gone when the write
  // returns (the write waits for a tick that is dropping it).
  CHECK(engine->stats().snapshots == 0);
  clock.advance(2000);
  REQUIRE(engine->put(model_key(0), "after").ok());
  CHECK(engine->stats().versions_kept == 0);
  // And the store's gauges are what it holds, once reads have removed the expired keys.
  for (long i = 0; i < kModelKeys; ++i) static_cast<void>(value_of(*engine, model_key(i)));
  for (int w = 0; w < kOtherWriters; ++w) {
    for (long i = 0; i < kOtherKeys; ++i) static_cast<void>(value_of(*engine, other_key(w, i)));
  }
  const Contents stored = contents_of(*engine);
  std::uint64_t bytes = 0;
  for (const auto& [key, value] : stored) bytes += key.size() + value.size();
  const mantis::Stats stats = engine->stats();
  CHECK(stats.keys == stored.size());
  CHECK(stats.bytes == bytes);
}
