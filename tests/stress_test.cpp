// Concurrency stress: readers, writers, erasers and scanners on a small key range, with a checker of
// what each reader may legally see. Runs for MANTIS_STRESS_SECONDS per case (default 2); the TSan
// and ASan builds run it too.
//
// Keys k00000..k00299 interleave three kinds, so that scans cross churning nodes everywhere:
// - stable  (i % 3 == 0): written once before the threads start, never touched: every scan must return
//   each of them exactly once, with its exact value, and every get must find it.
// - churn   (i % 3 == 1): each owned by one writer thread that runs op 1, 2, 3, ... on it: odd ops put
//   value(key, op), even ops erase. The writer publishes `started` before and `completed` after each
//   op, so a reader that loads completed (c0) before its read and started (s1) after it knows the
//   legal outcomes: a value whose op v is odd with max(c0, first put >= c0) <= v <= s1 (no stale value,
//   no resurrection, nothing from the future), or NotFound when the state at c0 is "erased" or some
//   erase lies in [c0 + 1, s1].
// - doomed  (i % 3 == 2): written before the threads start, erased once by an eraser thread, never
//   written again: once its erase has completed, no read or scan that starts later may return it.
// Every value is self-describing (key, op, length-dependent filler), so a torn or misplaced value
// fails the check.
#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <cstdio>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "temp_dir.hpp"
#include "test_util.hpp"

using mantis::Engine;
using mantis::Status;
using mantis::WriteOptions;
using namespace std::chrono_literals;

namespace {

constexpr int kKeys = 300;
constexpr int kWriters = 3;

enum class Kind { kStable, kChurn, kDoomed };
Kind kind_of(int i) { return i % 3 == 0 ? Kind::kStable : (i % 3 == 1 ? Kind::kChurn : Kind::kDoomed); }

std::string key_of(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "k%05d", i);
  return buf;
}
int index_of(std::string_view key) { return std::stoi(std::string(key.substr(1))); }

std::string value_of_op(std::string_view key, std::uint64_t op) {
  std::string v(key);
  v += '#';
  v += std::to_string(op);
  v += '#';
  v.append(op % 97, static_cast<char>('a' + op % 26));
  return v;
}
// Returns the op encoded in a well-formed value of `key`, or 0 if the value is torn or foreign.
std::uint64_t op_of_value(std::string_view key, std::string_view value) {
  if (value.substr(0, key.size()) != key || value.size() < key.size() + 3 || value[key.size()] != '#') return 0;
  const auto rest = value.substr(key.size() + 1);
  const auto hash = rest.find('#');
  if (hash == std::string_view::npos) return 0;
  std::uint64_t op = 0;
  try {
    op = std::stoull(std::string(rest.substr(0, hash)));
  } catch (...) {
    return 0;
  }
  return value == value_of_op(key, op) ? op : 0;
}

struct KeyState {
  std::atomic<std::uint64_t> started{0};
  std::atomic<std::uint64_t> completed{0};
  std::atomic<bool> erased{false};  // doomed keys: the erase has completed
};

struct Violations {
  std::atomic<long> count{0};
  std::array<std::string, 8> first;
  void report(std::string what) {
    const long n = count.fetch_add(1);
    if (n < static_cast<long>(first.size())) first[n] = std::move(what);
  }
};

// Is observing `op` (0 = NotFound) legal for a churn key, given c0 before and s1 after the read?
bool churn_read_legal(std::uint64_t observed_op, bool found, std::uint64_t c0, std::uint64_t s1) {
  if (!found) return c0 % 2 == 0 || s1 >= c0 + 1;  // erased at c0, or an erase (c0 + 1) began
  if (observed_op % 2 == 0) return false;          // even ops are erases: no value
  const std::uint64_t oldest_legal = c0 % 2 == 1 ? c0 : c0 + 1;
  return observed_op >= oldest_legal && observed_op <= s1;
}

class StressFixture {
 public:
  explicit StressFixture(mantis::Options options = {}) : db_(mantis::test::open_engine(options)) {
    for (int i = 0; i < kKeys; ++i) {
      if (kind_of(i) != Kind::kChurn) REQUIRE(db_->put(key_of(i), value_of_op(key_of(i), 1)).ok());
    }
  }

  void writer(int id, const std::atomic<bool>& stop) {
    std::mt19937 rng(id);
    while (!stop.load(std::memory_order_relaxed)) {
      for (int i = 1 + 3 * id; i < kKeys; i += 3 * kWriters) {
        KeyState& st = states_[i];
        const std::uint64_t op = st.completed.load() + 1;
        st.started.store(op);
        const std::string key = key_of(i);
        Status s = op % 2 == 1 ? (rng() % 4 == 0 ? write_as_batch(key, op) : db_->put(key, value_of_op(key, op)))
                               : db_->erase(key);
        if (!s.ok()) violations_.report("write failed: " + s.to_string());
        st.completed.store(op);
      }
    }
  }

  Status write_as_batch(const std::string& key, std::uint64_t op) {
    mantis::WriteBatch batch;
    batch.put(key, value_of_op(key, op));
    return db_->write(batch);
  }

  void eraser(const std::atomic<bool>& stop) {
    for (int i = 2; i < kKeys && !stop.load(); i += 3) {
      if (!db_->erase(key_of(i)).ok()) violations_.report("erase failed");
      states_[i].erased.store(true);
      std::this_thread::sleep_for(1ms);
    }
  }

  void reader(int seed, const std::atomic<bool>& stop) {
    std::mt19937 rng(seed);
    std::string value;
    mantis::ValueView view;
    while (!stop.load(std::memory_order_relaxed)) {
      const int i = static_cast<int>(rng() % kKeys);
      const std::string key = key_of(i);
      KeyState& st = states_[i];
      const std::uint64_t c0 = st.completed.load();
      const bool erased_before = st.erased.load();
      const bool use_view = rng() % 2 == 0;
      const Status s = use_view ? db_->get(key, &view) : db_->get(key, &value);
      const std::uint64_t s1 = st.started.load();
      if (!s.ok() && !s.is_not_found()) violations_.report("get failed: " + s.to_string());
      const std::string_view got = use_view ? view.data() : std::string_view(value);
      const std::uint64_t op = s.ok() ? op_of_value(key, got) : 0;
      if (s.ok() && op == 0) violations_.report("torn or foreign value under " + key + ": " + std::string(got));
      switch (kind_of(i)) {
        case Kind::kStable:
          if (!s.ok() || op != 1) violations_.report("stable key " + key + " not found intact");
          break;
        case Kind::kDoomed:
          if (erased_before && s.ok()) violations_.report("resurrected doomed key " + key);
          break;
        case Kind::kChurn:
          if (!churn_read_legal(op, s.ok(), c0, s1)) {
            violations_.report("illegal read of " + key + ": op " + std::to_string(op) + " c0 " + std::to_string(c0) +
                               " s1 " + std::to_string(s1));
          }
          break;
      }
      view.reset();
    }
  }

  // Full scans (scan() or an iterator, alternately) checking the scan properties.
  void scanner(int seed, const std::atomic<bool>& stop) {
    std::mt19937 rng(seed);
    while (!stop.load(std::memory_order_relaxed)) {
      std::array<bool, kKeys> erased_before{};
      for (int i = 2; i < kKeys; i += 3) erased_before[i] = states_[i].erased.load();
      std::vector<int> seen;
      auto visit = [&](std::string_view key, std::string_view value) {
        const int i = index_of(key);
        if (!seen.empty() && i <= seen.back())
          violations_.report("scan out of order or repeated at " + std::string(key));
        seen.push_back(i);
        if (op_of_value(key, value) == 0) violations_.report("scan returned a torn value under " + std::string(key));
        if (kind_of(i) == Kind::kDoomed && erased_before[i]) violations_.report("scan resurrected " + std::string(key));
        return true;
      };
      if (rng() % 2 == 0) {
        if (!db_->scan({}, {}, visit).ok()) violations_.report("scan failed");
      } else {
        auto it = db_->new_iterator();
        for (it->seek_to_first(); it->valid(); it->next()) visit(it->key(), it->value());
      }
      std::size_t stable_seen = 0;
      for (int i : seen) stable_seen += kind_of(i) == Kind::kStable;
      if (stable_seen != kKeys / 3) {
        violations_.report("scan returned " + std::to_string(stable_seen) + " of " + std::to_string(kKeys / 3) +
                           " stable keys (stopped early or skipped)");
      }
      scans_.fetch_add(1);
    }
  }

  Engine& engine() { return *db_; }

  void run(int readers, int scanners) {
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int w = 0; w < kWriters; ++w) threads.emplace_back([&, w] { writer(w, stop); });
    threads.emplace_back([&] { eraser(stop); });
    for (int r = 0; r < readers; ++r) threads.emplace_back([&, r] { reader(100 + r, stop); });
    for (int s = 0; s < scanners; ++s) threads.emplace_back([&, s] { scanner(200 + s, stop); });
    std::this_thread::sleep_for(mantis::test::stress_duration());
    stop.store(true);
    for (auto& t : threads) t.join();
    for (long i = 0; i < std::min<long>(violations_.count.load(), 8); ++i) UNSCOPED_INFO(violations_.first[i]);
    CHECK(violations_.count.load() == 0);
    CHECK(scans_.load() > 0);
    // Quiescent: size() is exact and agrees with a scan.
    std::size_t scanned = 0;
    REQUIRE(db_->scan({}, {}, [&](std::string_view, std::string_view) { return ++scanned, true; }).ok());
    CHECK(db_->size() == scanned);
  }

 private:
  std::unique_ptr<Engine> db_;
  std::array<KeyState, kKeys> states_;
  Violations violations_;
  std::atomic<long> scans_{0};
};

}  // namespace

TEST_CASE("the checker itself rejects stale, future, torn and resurrected reads", "[stress][checker]") {
  CHECK(churn_read_legal(5, true, 5, 5));
  CHECK(churn_read_legal(7, true, 5, 7));
  CHECK_FALSE(churn_read_legal(3, true, 5, 6));   // stale: op 5 completed before the read
  CHECK_FALSE(churn_read_legal(5, true, 6, 7));   // resurrected: erased at 6 before the read
  CHECK_FALSE(churn_read_legal(9, true, 5, 7));   // from the future
  CHECK_FALSE(churn_read_legal(0, false, 5, 5));  // NotFound while op 5's value stood throughout
  CHECK(churn_read_legal(0, false, 5, 6));        // erase 6 ran concurrently
  CHECK(churn_read_legal(0, false, 0, 0));        // never written
  CHECK(op_of_value("k00001", value_of_op("k00001", 42)) == 42);
  CHECK(op_of_value("k00001", value_of_op("k00004", 42)) == 0);
  std::string torn = value_of_op("k00001", 42);
  torn.back() = 'z';
  CHECK(op_of_value("k00001", torn) == 0);
}

TEST_CASE("readers, writers, erasers and scanners on a small key range", "[stress][threads]") {
  StressFixture fixture;
  fixture.run(/*readers=*/3, /*scanners=*/2);
}

TEST_CASE("the same on a durable engine, with group commit and checkpoints while it runs",
          "[stress][threads][durability]") {
  const mantis::Durability durability = GENERATE(mantis::Durability::kAsync, mantis::Durability::kSync);
  mantis::test::TempDir dir;
  mantis::Options options;
  options.dir = dir.path();
  options.durability = durability;
  StressFixture fixture(options);
  std::atomic<bool> stop{false};
  std::atomic<int> checkpoints{0};
  std::atomic<int> failed_checkpoints{0};
  std::thread checkpointer([&] {
    while (!stop.load()) {
      (fixture.engine().checkpoint().ok() ? checkpoints : failed_checkpoints).fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  fixture.run(/*readers=*/2, /*scanners=*/1);
  stop = true;
  checkpointer.join();
  CHECK(checkpoints.load() > 0);
  CHECK(failed_checkpoints.load() == 0);
}

TEST_CASE("contended writers of the same keys never tear values or lose the last write", "[stress][threads]") {
  auto db = mantis::test::open_engine();
  constexpr int kHot = 8;
  constexpr int kThreads = 6;
  std::atomic<bool> stop{false};
  std::atomic<long> torn{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937 rng(t);
      std::string out;
      std::uint64_t op = static_cast<std::uint64_t>(t) << 40;
      while (!stop.load(std::memory_order_relaxed)) {
        const std::string key = key_of(static_cast<int>(rng() % kHot));
        switch (rng() % 6) {
          case 0:
            static_cast<void>(db->erase(key));
            break;
          case 1:
            static_cast<void>(db->expire(key, std::chrono::milliseconds(rng() % 3)));
            break;
          case 2:
            static_cast<void>(db->persist(key));
            break;
          case 3:
            if (db->get(key, &out).ok() && op_of_value(key, out) == 0) torn.fetch_add(1);
            break;
          default:
            static_cast<void>(db->put(key, value_of_op(key, ++op), WriteOptions{std::chrono::milliseconds(rng() % 2)}));
        }
      }
    });
  }
  std::this_thread::sleep_for(mantis::test::stress_duration() / 2);
  stop.store(true);
  for (auto& th : threads) th.join();
  CHECK(torn.load() == 0);
  // Quiescent: the last write of each key is what a read returns, and size() agrees with a scan.
  for (int i = 0; i < kHot; ++i) REQUIRE(db->put(key_of(i), value_of_op(key_of(i), 7)).ok());
  for (int i = 0; i < kHot; ++i) CHECK(mantis::test::value_of(*db, key_of(i)) == value_of_op(key_of(i), 7));
  std::size_t scanned = 0;
  REQUIRE(db->scan({}, {}, [&](std::string_view, std::string_view) { return ++scanned, true; }).ok());
  CHECK(scanned == kHot);
  CHECK(db->size() == kHot);
}
