// Durable engines (Options::dir set), tested through the public API only: every operation type
// survives a clean close and reopen, snapshots (checkpoint) plus the log tail recover exactly, TTLs
// keep their absolute deadlines across restarts, a second opener gets Busy (G6), the open flags
// (create_if_missing, error_if_exists) and file modes behave as documented, and damage inside a data
// file fails open with Corruption naming the file. Crashes (kill -9 at random moments) are the job of
// tests/crash/crash_loop.cpp; power loss needs the fault-injecting file layer and is tested there.
// A failed write (G5) is provoked here with RLIMIT_FSIZE, in a child process.
//
// One file, past the usual size, because it is the one place that states the durable engine's
// contract as seen through the public API; each TEST_CASE is one guarantee and reads on its own.
//
// Every case works in its own directory under std::filesystem::temp_directory_path(), removed at the
// end. A database directory is always created by the engine (create_if_missing), never by the test,
// so the modes checked are the engine's own.
#include <catch2/catch.hpp>

#include <poll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "manual_clock.hpp"
#include "process_memory.hpp"
#include "printable.hpp"
#include "test_util.hpp"

namespace fs = std::filesystem;
using mantis::Durability;
using mantis::Engine;
using mantis::Options;
using mantis::Status;
using mantis::WriteBatch;
using mantis::WriteOptions;
using mantis::test::contents_of;
using mantis::test::durable_options;
using mantis::test::invert_bytes;
using mantis::test::ManualClock;
using mantis::test::open_engine;
using mantis::test::printable;
using mantis::test::value_of;
using namespace std::chrono_literals;

namespace {

using Contents = std::map<std::string, std::string>;

// A fresh directory of its own for one test case; the database lives in db(), which does not exist
// until an engine creates it. Removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    static std::atomic<unsigned> counter{0};
    std::random_device entropy;
    root_ = fs::temp_directory_path() / ("mantis-durability-test-" + std::to_string(::getpid()) + "-" +
                                         std::to_string(counter.fetch_add(1)) + "-" + std::to_string(entropy()));
    fs::create_directory(root_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
  const fs::path& root() const { return root_; }
  fs::path db() const { return root_ / "db"; }

 private:
  fs::path root_;
};

const char* durability_name(Durability durability) {
  switch (durability) {
    case Durability::kNone:
      return "kNone";
    case Durability::kAsync:
      return "kAsync";
    case Durability::kSync:
      return "kSync";
    case Durability::kPeriodic:
      return "kPeriodic";
  }
  return "?";
}

void require_ok(const Status& s) {
  INFO(s.to_string());
  REQUIRE(s.ok());
}

// The engine holds exactly `expected`: by iteration and by point reads.
void require_contents(const Engine& engine, const Contents& expected) {
  const Contents actual = contents_of(engine);
  for (const auto& [key, value] : expected) {
    INFO("key '" << printable(key) << "' expected '" << printable(value) << "'");
    const auto found = actual.find(key);
    REQUIRE(found != actual.end());
    REQUIRE(found->second == value);
    REQUIRE(value_of(engine, key) == value);
  }
  for (const auto& [key, value] : actual) {
    INFO("unexpected key '" << printable(key) << "' = '" << printable(value) << "'");
    REQUIRE(expected.count(key) == 1);
  }
  // size() counts expired keys until they are removed, so it is only a lower bound here.
  REQUIRE(engine.size() >= expected.size());
}

std::optional<std::chrono::milliseconds> ttl_of(const Engine& engine, std::string_view key) {
  std::optional<std::chrono::milliseconds> remaining;
  const Status s = engine.ttl(key, &remaining);
  INFO("ttl('" << printable(key) << "'): " << s.to_string());
  REQUIRE(s.ok());
  return remaining;
}

std::string numbered(const char* prefix, int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%06d", prefix, i);
  return buf;
}

// Regular files under dir, recursively.
std::vector<fs::path> files_under(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files.push_back(entry.path());
  }
  return files;
}

unsigned permission_bits(const fs::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return static_cast<unsigned>(st.st_mode) & 07777u;
}

}  // namespace

TEST_CASE("durable: a new directory opens, and an empty engine reopens empty", "[durability]") {
  TempDir tmp;
  const Options options = durable_options(tmp.db());
  {
    auto db = open_engine(options);
    REQUIRE(fs::is_directory(tmp.db()));
    REQUIRE(db->size() == 0);
  }
  auto db = open_engine(options);
  require_contents(*db, {});
  REQUIRE(db->stats().keys == 0);
  std::string value;
  REQUIRE(db->get("anything", &value).is_not_found());
}

TEST_CASE("durable: every operation type survives a clean reopen", "[durability]") {
  TempDir tmp;
  const Options options = durable_options(tmp.db());
  {
    auto db = open_engine(options);
    require_ok(db->put("put", "plain"));
    require_ok(db->put("put-ttl", "with a ttl", WriteOptions{.ttl = 1h}));
    require_ok(db->put("overwrite", "v1"));
    require_ok(db->put("overwrite", "v2"));
    require_ok(db->put("overwrite", "v3"));
    require_ok(db->put("erased", "gone soon"));
    require_ok(db->erase("erased"));
    require_ok(db->erase("never-existed"));
    require_ok(db->put("expired-later", "gets a ttl"));
    require_ok(db->expire("expired-later", 2h));
    require_ok(db->put("persisted", "loses its ttl", WriteOptions{.ttl = 1h}));
    require_ok(db->persist("persisted"));
    require_ok(db->put("expire-zero", "expires at once"));
    require_ok(db->expire("expire-zero", 0ms));
    require_ok(db->put("erased-then-put", "old"));
    require_ok(db->erase("erased-then-put"));
    require_ok(db->put("erased-then-put", "new"));
    WriteBatch batch;
    batch.put("batch-a", "A");
    batch.put("batch-b", "B", 1h);
    batch.put("batch-a", "A2");  // in order: the later put wins
    batch.erase("put-doomed-by-batch");
    batch.put("batch-c", "C");
    batch.erase("batch-c");
    require_ok(db->put("put-doomed-by-batch", "x"));
    require_ok(db->write(batch));
    require_ok(db->put("sync-write", "durable now", WriteOptions{.sync = true}));
    require_ok(db->erase("put", WriteOptions{.sync = true}));
    require_ok(db->put("put", "plain again"));
  }
  auto db = open_engine(options);
  require_contents(*db, {{"put", "plain again"},
                         {"put-ttl", "with a ttl"},
                         {"overwrite", "v3"},
                         {"expired-later", "gets a ttl"},
                         {"persisted", "loses its ttl"},
                         {"erased-then-put", "new"},
                         {"batch-a", "A2"},
                         {"batch-b", "B"},
                         {"sync-write", "durable now"}});
  REQUIRE_FALSE(ttl_of(*db, "put").has_value());
  REQUIRE_FALSE(ttl_of(*db, "persisted").has_value());
  REQUIRE_FALSE(ttl_of(*db, "overwrite").has_value());
  const auto put_ttl = ttl_of(*db, "put-ttl");
  REQUIRE(put_ttl.has_value());
  REQUIRE(*put_ttl <= 1h);
  REQUIRE(*put_ttl > 1h - 1min);
  const auto expire_ttl = ttl_of(*db, "expired-later");
  REQUIRE(expire_ttl.has_value());
  REQUIRE(*expire_ttl <= 2h);
  REQUIRE(*expire_ttl > 2h - 1min);
  const auto batch_ttl = ttl_of(*db, "batch-b");
  REQUIRE(batch_ttl.has_value());
  REQUIRE(*batch_ttl > 1h - 1min);
  REQUIRE_FALSE(db->contains("expire-zero"));
  REQUIRE_FALSE(db->contains("erased"));
  REQUIRE_FALSE(db->contains("batch-c"));
  REQUIRE_FALSE(db->contains("put-doomed-by-batch"));
}

TEST_CASE("durable: clear() is logged: keys before it stay gone after reopen, keys after it stay", "[durability]") {
  TempDir tmp;
  const Options options = durable_options(tmp.db());
  {
    auto db = open_engine(options);
    for (int i = 0; i < 100; ++i) require_ok(db->put(numbered("old", i), "x"));
    require_ok(db->clear());
    require_ok(db->put("after-clear", "kept"));
  }
  {
    auto db = open_engine(options);
    require_contents(*db, {{"after-clear", "kept"}});
    // A clear after a checkpoint must hide the snapshot's keys too.
    for (int i = 0; i < 10; ++i) require_ok(db->put(numbered("snap", i), "s"));
    require_ok(db->checkpoint());
    require_ok(db->clear());
    require_ok(db->put("after-second-clear", "kept"));
  }
  auto db = open_engine(options);
  require_contents(*db, {{"after-second-clear", "kept"}});
}

TEST_CASE("durable: 10,000 keys survive reopen, in order, with exact values", "[durability]") {
  TempDir tmp;
  const Options options = durable_options(tmp.db());
  constexpr int kKeys = 10'000;
  Contents expected;
  {
    auto db = open_engine(options);
    for (int i = 0; i < kKeys; ++i) {
      std::string value = "value-" + std::to_string(i) + std::string(static_cast<std::size_t>(i % 50), 'v');
      require_ok(db->put(numbered("key", i), value));
      expected.emplace(numbered("key", i), std::move(value));
    }
  }
  auto db = open_engine(options);
  require_contents(*db, expected);
  REQUIRE(db->stats().keys == kKeys);
  // Ordered by key bytes.
  std::string previous;
  int seen = 0;
  require_ok(db->scan({}, {}, [&](std::string_view key, std::string_view) {
    if (seen++ > 0) REQUIRE(previous < key);
    previous = std::string(key);
    return true;
  }));
  REQUIRE(seen == kKeys);
}

TEST_CASE("durable: reopening three times without writes changes nothing", "[durability]") {
  TempDir tmp;
  const Options options = durable_options(tmp.db());
  Contents expected;
  {
    auto db = open_engine(options);
    for (int i = 0; i < 500; ++i) {
      require_ok(db->put(numbered("k", i), numbered("v", i * 7)));
      expected[numbered("k", i)] = numbered("v", i * 7);
    }
    for (int i = 0; i < 500; i += 5) {
      require_ok(db->erase(numbered("k", i)));
      expected.erase(numbered("k", i));
    }
  }
  for (int round = 0; round < 3; ++round) {
    INFO("reopen " << round + 1);
    auto db = open_engine(options);
    require_contents(*db, expected);
  }
}

TEST_CASE("durable: many reopen cycles with writes in between match a model", "[durability]") {
  TempDir tmp;
  const Options options = durable_options(tmp.db());
  std::mt19937 rng(20261126);
  Contents model;
  std::uint64_t version = 0;
  for (int cycle = 0; cycle < 25; ++cycle) {
    INFO("cycle " << cycle);
    auto db = open_engine(options);
    require_contents(*db, model);
    const int ops = 50 + static_cast<int>(rng() % 200);
    for (int op = 0; op < ops; ++op) {
      const std::string key = numbered("key", static_cast<int>(rng() % 300));
      const std::string value = key + "@" + std::to_string(++version);
      switch (rng() % 6) {
        case 0:
          require_ok(db->erase(key));
          model.erase(key);
          break;
        case 1: {
          WriteBatch batch;
          const std::string other = numbered("key", static_cast<int>(rng() % 300));
          batch.put(key, value);
          batch.put(other, other + "@" + std::to_string(version) + "b");
          if (rng() % 2 == 0) batch.erase(numbered("key", static_cast<int>(rng() % 300)));
          require_ok(db->write(batch));
          for (const auto& batch_op : batch.ops()) {
            if (batch_op.kind == WriteBatch::Op::Kind::kPut) {
              model[batch_op.key] = batch_op.value;
            } else {
              model.erase(batch_op.key);
            }
          }
          break;
        }
        case 2:
          require_ok(db->put(key, value, WriteOptions{.ttl = 1h}));
          model[key] = value;
          break;
        default:
          require_ok(db->put(key, value));
          model[key] = value;
          break;
      }
    }
    if (cycle % 7 == 3) require_ok(db->checkpoint());
  }
  auto db = open_engine(options);
  require_contents(*db, model);
}

// Recovery applies the log in sorted slices, folding each key's operations (engine/applier.cpp): the
// state it rebuilds must be exactly the one the live engine had, value, version and deadline of every
// key, whatever the mix. Many operations per key per slice, more operations than one slice holds, keys
// that share long prefixes or are prefixes of one another, expires and persists on keys the snapshot
// holds (and on keys that expired meanwhile), clears, batches and conditional writes.
TEST_CASE("durable: replaying the log rebuilds exactly the live engine's state", "[durability][replay]") {
  TempDir tmp;
  Options options = durable_options(tmp.db());
  options.reaper_interval = 0ms;
  ManualClock clock;
  std::vector<std::string> keys;
  for (int i = 0; i < 600; ++i) {
    std::string key;
    switch (i % 3) {
      case 0: key = numbered("k", i); break;
      case 1: key = std::string(40, 's') + std::to_string(i); break;
      default: key = std::string("ab") + std::string(static_cast<std::size_t>(i % 11), '\0') + std::to_string(i % 7); break;
    }
    keys.push_back(key);
  }
  std::sort(keys.begin(), keys.end());
  keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
  struct KeyState {
    std::string value;
    mantis::Version version = 0;
    std::optional<std::chrono::milliseconds> ttl;
    bool operator==(const KeyState&) const = default;
  };
  auto state_of = [&](const Engine& db) {
    std::vector<std::optional<KeyState>> state;
    for (const std::string& key : keys) {
      KeyState entry;
      const Status s = db.get(key, &entry.value, &entry.version);
      REQUIRE((s.ok() || s.is_not_found()));
      if (s.is_not_found()) {
        state.emplace_back();
        continue;
      }
      REQUIRE(db.ttl(key, &entry.ttl).ok());
      state.push_back(entry);
    }
    return state;
  };
  std::mt19937_64 rng(20261206);
  auto some_key = [&] { return keys[rng() % keys.size()]; };
  auto random_op = [&](Engine& db, const std::string& key, int op) {
    const std::string value = "v" + std::to_string(op);
    const std::uint64_t choice = rng() % 100;
    if (choice < 40) {
      require_ok(db.put(key, value));
    } else if (choice < 50) {
      require_ok(db.put(key, value, WriteOptions{.ttl = std::chrono::milliseconds(1 + rng() % 40)}));
    } else if (choice < 60) {
      require_ok(db.erase(key));
    } else if (choice < 70) {
      const Status s = db.expire(key, std::chrono::milliseconds(rng() % 40));
      REQUIRE((s.ok() || s.is_not_found()));
    } else if (choice < 78) {
      const Status s = db.persist(key);
      REQUIRE((s.ok() || s.is_not_found()));
    } else if (choice < 84) {
      WriteBatch batch;
      batch.put(key, value);
      batch.erase(some_key());
      batch.put(some_key(), value + "b", std::chrono::milliseconds(rng() % 2 == 0 ? 0 : 1 + rng() % 40));
      require_ok(db.write(batch));
    } else if (choice < 90) {
      const Status s = db.put_if_absent(key, value);
      REQUIRE((s.ok() || s.is_condition_failed()));
    } else if (choice < 95) {
      const Status s = db.increment(key, 1, nullptr);
      REQUIRE((s.ok() || s.is_invalid_argument()));
    } else if (rng() % 20'000 == 0) {
      require_ok(db.clear());
    } else {
      require_ok(db.put(key, value, WriteOptions{.keep_ttl = true}));
    }
    if (rng() % 4 == 0) clock.advance(1);
  };
  auto require_same = [&](const std::vector<std::optional<KeyState>>& live, const std::vector<std::optional<KeyState>>& recovered) {
    REQUIRE(recovered.size() == live.size());
    std::size_t present = 0;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      INFO("key " << printable(keys[i]) << (live[i] ? " live " + live[i]->value + " v" + std::to_string(live[i]->version) + " ttl " + std::to_string(live[i]->ttl ? live[i]->ttl->count() : -1) : std::string(" live absent")));
      REQUIRE(recovered[i].has_value() == live[i].has_value());
      if (!live[i]) continue;
      ++present;
      CHECK(recovered[i]->value == live[i]->value);
      CHECK(recovered[i]->version == live[i]->version);
      CHECK(recovered[i]->ttl == live[i]->ttl);
    }
    CHECK(present > keys.size() / 4);  // the mix leaves a good share of keys to compare
  };
  // Dense: far more operations than one replay slice, dozens per key per slice.
  std::vector<std::optional<KeyState>> live;
  {
    auto db = open_engine(options, &clock);
    for (const std::string& key : keys) require_ok(db->put(key, "snapshot:" + printable(key)));
    require_ok(db->checkpoint());
    for (int op = 0; op < 150'000; ++op) random_op(*db, some_key(), op);
    live = state_of(*db);
  }
  {
    auto db = open_engine(options, &clock);
    {
      INFO("dense");
      require_same(live, state_of(*db));
    }
    require_ok(db->checkpoint());
    // Sparse: a few operations per key over the snapshot's state, so that most keys' first (and
    // only) operation in the slice meets the value the snapshot gave them.
    for (int op = 0; op < 800; ++op) random_op(*db, some_key(), op);
    live = state_of(*db);
  }
  auto db = open_engine(options, &clock);
  require_same(live, state_of(*db));
}

TEST_CASE("durable: opening from a snapshot leaves its values' pages untouched", "[durability][memory]") {
  // 16,384 values of 4 KiB: a 64 MiB snapshot. The open builds nodes and index (about 100 bytes a key)
  // and must not read a record: the process grows by far less than the file.
  TempDir tmp;
  const Options options = durable_options(tmp.db());
  const std::string value(4096, 'v');
  std::uintmax_t snapshot_bytes = 0;
  {
    auto db = open_engine(options);
    for (int i = 0; i < 16384; ++i) require_ok(db->put(numbered("key", i), value, WriteOptions{.ttl = 1h}));
    require_ok(db->checkpoint());
  }
  for (const auto& entry : fs::directory_iterator(tmp.db())) {
    if (entry.path().extension() == ".snap") snapshot_bytes = entry.file_size();
  }
  REQUIRE(snapshot_bytes > (64u << 20));
  const std::size_t before = mantis::support::resident_bytes();
  auto db = open_engine(options);
  const std::size_t after = mantis::support::resident_bytes();
  INFO("resident growth " << (after - std::min(after, before)) << " bytes for a " << snapshot_bytes << "-byte snapshot");
#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
  CHECK(after < before + snapshot_bytes / 10);
#endif
  CHECK(db->size() == 16384);
  CHECK(value_of(*db, numbered("key", 16383)) == value);
}

TEST_CASE("durable: checkpoint, then more writes, then reopen: snapshot plus log tail", "[durability]") {
  TempDir tmp;
  const Options options = durable_options(tmp.db());
  Contents expected;
  std::uint64_t tail_records = 0;  // log records written after the checkpoint: one per write call
  {
    auto db = open_engine(options);
    for (int i = 0; i < 2000; ++i) {
      require_ok(db->put(numbered("k", i), "snap-" + std::to_string(i)));
      expected[numbered("k", i)] = "snap-" + std::to_string(i);
    }
    require_ok(db->checkpoint());
    // The log tail overwrites, erases, adds and changes TTLs of keys that are in the snapshot.
    for (int i = 0; i < 2000; i += 3) {
      require_ok(db->put(numbered("k", i), "tail-value-" + std::to_string(i)));  // longer than the snapshot's
      ++tail_records;
      expected[numbered("k", i)] = "tail-value-" + std::to_string(i);
    }
    for (int i = 1; i < 2000; i += 10) {
      require_ok(db->erase(numbered("k", i)));
      ++tail_records;
      expected.erase(numbered("k", i));
    }
    for (int i = 2000; i < 2500; ++i) {
      require_ok(db->put(numbered("k", i), "new-" + std::to_string(i)));
      ++tail_records;
      expected[numbered("k", i)] = "new-" + std::to_string(i);
    }
    require_ok(db->expire(numbered("k", 2), 1h));
    WriteBatch batch;
    batch.put("batch-after-snapshot", "b");
    batch.erase(numbered("k", 5));
    require_ok(db->write(batch));
    tail_records += 2;  // the expire and the batch
    expected["batch-after-snapshot"] = "b";
    expected.erase(numbered("k", 5));
  }
  {
    auto db = open_engine(options);
    require_contents(*db, expected);
    REQUIRE(ttl_of(*db, numbered("k", 2)).has_value());
    // The counters, kept without reading the snapshot's records, count what the store holds.
    std::uint64_t bytes = 0;
    for (const auto& [key, value] : expected) bytes += key.size() + value.size();
    CHECK(db->stats().keys == expected.size());
    CHECK(db->stats().bytes == bytes);
    // The open reports what it recovered from each.
    const mantis::Stats::Recovery recovery = db->stats().recovery;
    CHECK(recovery.snapshot_entries == 2000);
    CHECK(recovery.log_records == tail_records);
    CHECK(recovery.snapshot_seconds > 0);
    CHECK(recovery.log_seconds > 0);
    // A second checkpoint over a recovered engine, and another tail.
    require_ok(db->checkpoint());
    require_ok(db->checkpoint());
    require_ok(db->put("after-second-checkpoint", "c"));
    expected["after-second-checkpoint"] = "c";
  }
  auto db = open_engine(options);
  require_contents(*db, expected);
  REQUIRE(ttl_of(*db, numbered("k", 2)).has_value());
  CHECK(db->stats().recovery.snapshot_entries == expected.size() - 1);
  CHECK(db->stats().recovery.log_records == 1);
  // A memory-only engine recovered nothing.
  auto memory = open_engine(Options{});
  CHECK(memory->stats().recovery.snapshot_entries == 0);
  CHECK(memory->stats().recovery.log_records == 0);
  CHECK(memory->stats().recovery.log_seconds == 0);
}

TEST_CASE("durable: a TTL that passes while the engine is closed hides the key; a long TTL keeps its deadline",
          "[durability][ttl]") {
  TempDir tmp;
  const Options options = durable_options(tmp.db());
  std::chrono::steady_clock::time_point written;  // after the last TTL was set: deadlines are before it + TTL
  {
    auto db = open_engine(options);
    require_ok(db->put("short", "200 ms", WriteOptions{.ttl = 200ms}));
    require_ok(db->put("short-in-batch", "x"));
    WriteBatch batch;
    batch.put("short-in-batch", "200 ms", 200ms);
    require_ok(db->write(batch));
    require_ok(db->put("short-by-expire", "y"));
    require_ok(db->expire("short-by-expire", 200ms));
    require_ok(db->put("long", "1 h", WriteOptions{.ttl = 1h}));
    require_ok(db->put("medium", "1.5 s", WriteOptions{.ttl = 1500ms}));
    require_ok(db->put("forever", "no ttl"));
    written = std::chrono::steady_clock::now();
  }
  std::this_thread::sleep_until(written + 400ms);
  {
    auto db = open_engine(options);
    for (const char* key : {"short", "short-in-batch", "short-by-expire"}) {
      INFO("key " << key << " should have expired while the engine was closed");
      std::string value;
      REQUIRE(db->get(key, &value).is_not_found());
      REQUIRE_FALSE(db->contains(key));
      std::optional<std::chrono::milliseconds> remaining;
      REQUIRE(db->ttl(key, &remaining).is_not_found());
    }
    require_contents(*db, {{"long", "1 h"}, {"medium", "1.5 s"}, {"forever", "no ttl"}});
    const auto long_ttl = ttl_of(*db, "long");
    REQUIRE(long_ttl.has_value());
    REQUIRE(*long_ttl <= 1h);
    REQUIRE(*long_ttl > 1h - 1min);
    // The deadline is absolute: the medium key's remaining time counts the time spent closed.
    const auto medium_ttl = ttl_of(*db, "medium");
    REQUIRE(medium_ttl.has_value());
    REQUIRE(*medium_ttl <= 1100ms);
    REQUIRE_FALSE(ttl_of(*db, "forever").has_value());
    require_ok(db->checkpoint());
  }
  // Expired keys stay expired after a checkpoint; the medium key expires on time after recovery
  // from the snapshot.
  std::this_thread::sleep_until(written + 1700ms);
  auto db = open_engine(options);
  require_contents(*db, {{"long", "1 h"}, {"forever", "no ttl"}});
}

TEST_CASE("durable: binary keys and values, the empty key and large values round trip", "[durability]") {
  TempDir tmp;
  const Options options = durable_options(tmp.db());
  std::string all_bytes;
  for (int c = 0; c < 256; ++c) all_bytes += static_cast<char>(c);
  std::string large(1u << 20, '\0');
  for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<char>((i * 131) ^ (i >> 8));
  const Contents expected = {
      {std::string(), "value of the empty key"},
      {std::string("\0", 1), std::string("\0\0\0", 3)},
      {std::string("a\0b", 3), std::string("x\0y\0", 4)},
      {"empty value", std::string()},
      {all_bytes, all_bytes},
      {"\xff\xfe invalid utf-8", "\xc3\x28"},
      {"large", large},
      {std::string(1000, 'k'), "long key"},
  };
  {
    auto db = open_engine(options);
    for (const auto& [key, value] : expected) require_ok(db->put(key, value));
  }
  {
    auto db = open_engine(options);
    require_contents(*db, expected);
    require_ok(db->checkpoint());
  }
  auto db = open_engine(options);
  require_contents(*db, expected);
}

TEST_CASE("durable: ValueView, iterator, seek and scans read recovered data", "[durability]") {
  TempDir tmp;
  const Options options = durable_options(tmp.db());
  {
    auto db = open_engine(options);
    for (int i = 0; i < 100; ++i) require_ok(db->put(numbered("a:", i), "A" + std::to_string(i)));
    for (int i = 0; i < 100; ++i) require_ok(db->put(numbered("b:", i), "B" + std::to_string(i)));
    require_ok(db->checkpoint());
    for (int i = 0; i < 100; i += 2) require_ok(db->put(numbered("b:", i), "B" + std::to_string(i) + "'"));
  }
  for (int round = 0; round < 2; ++round) {
    INFO("round " << round);
    auto db = open_engine(options);
    {
      // A view of a recovered value stays valid across an overwrite and an erase of its key.
      mantis::ValueView view;
      require_ok(db->get(numbered("a:", 7), &view));
      REQUIRE(view.data() == "A7");
      mantis::ValueView tail_view;
      require_ok(db->get(numbered("b:", 8), &tail_view));
      REQUIRE(tail_view.data() == "B8'");
      require_ok(db->put(numbered("a:", 7), "overwritten"));
      require_ok(db->erase(numbered("b:", 8)));
      REQUIRE(view.data() == "A7");
      REQUIRE(tail_view.data() == "B8'");
      require_ok(db->put(numbered("a:", 7), "A7"));
      require_ok(db->put(numbered("b:", 8), "B8'"));
    }
    {
      auto it = db->new_iterator();
      it->seek("b:");
      REQUIRE(it->valid());
      REQUIRE(it->key() == numbered("b:", 0));
      REQUIRE(it->value() == "B0'");
      it->next();
      REQUIRE(it->key() == numbered("b:", 1));
      REQUIRE(it->value() == "B1");
      it->seek(numbered("a:", 99) + "~");
      REQUIRE(it->valid());
      REQUIRE(it->key() == numbered("b:", 0));
      it->seek("c");
      REQUIRE_FALSE(it->valid());
      require_ok(it->status());
    }
    int count = 0;
    require_ok(db->scan_prefix("a:", [&](std::string_view key, std::string_view value) {
      REQUIRE(key.substr(0, 2) == "a:");
      REQUIRE(value.substr(0, 1) == "A");
      ++count;
      return true;
    }));
    REQUIRE(count == 100);
    std::vector<std::string> range;
    require_ok(db->scan(numbered("b:", 10), numbered("b:", 13), [&](std::string_view key, std::string_view value) {
      range.push_back(std::string(key) + "=" + std::string(value));
      return true;
    }));
    REQUIRE(range == std::vector<std::string>{numbered("b:", 10) + "=B10'", numbered("b:", 11) + "=B11",
                                              numbered("b:", 12) + "=B12'"});
  }
}

TEST_CASE("durable: writes from many threads all survive a reopen", "[durability]") {
  TempDir tmp;
  const Options options = durable_options(tmp.db());
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  {
    auto db = open_engine(options);
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kPerThread; ++i) {
          const std::string key = numbered(("t" + std::to_string(t) + ":").c_str(), i);
          Status s = i % 10 == 0 ? db->put(key, key, WriteOptions{.sync = true}) : db->put(key, key);
          if (s.ok() && i % 100 == 50) s = db->checkpoint();
          if (!s.ok()) failures.fetch_add(1);
        }
      });
    }
    for (auto& thread : threads) thread.join();
    REQUIRE(failures.load() == 0);
  }
  auto db = open_engine(options);
  Contents expected;
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      const std::string key = numbered(("t" + std::to_string(t) + ":").c_str(), i);
      expected[key] = key;
    }
  }
  require_contents(*db, expected);
}

TEST_CASE("durable: a second opener of a held directory gets Busy, in this process and in another one",
          "[durability][lock]") {
  TempDir tmp;
  Options options = durable_options(tmp.db());
  options.reaper_interval = 0ms;  // no background thread while this process forks

  SECTION("in this process") {
    auto first = open_engine(options);
    require_ok(first->put("k", "v"));
    std::unique_ptr<Engine> second;
    const Status busy = Engine::open(options, &second);
    INFO(busy.to_string());
    REQUIRE(busy.is_busy());
    REQUIRE(second == nullptr);
    // The failed opener changed nothing: the holder goes on working.
    require_ok(first->put("k2", "v2"));
    REQUIRE(value_of(*first, "k") == "v");
    first.reset();
    auto reopened = open_engine(options);
    require_contents(*reopened, {{"k", "v"}, {"k2", "v2"}});
  }

  SECTION("in another process") {
    // The child holds the directory open until the parent closes `release`; the parent forks before
    // it has any engine of its own.
    int ready[2];
    int release[2];
    REQUIRE(::pipe(ready) == 0);
    REQUIRE(::pipe(release) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
      ::close(ready[0]);
      ::close(release[1]);
      std::unique_ptr<Engine> held;
      const Status s = Engine::open(options, &held);
      const char verdict = s.ok() ? 'R' : 'E';
      if (!s.ok()) std::fprintf(stderr, "child: open %s: %s\n", options.dir.c_str(), s.to_string().c_str());
      if (::write(ready[1], &verdict, 1) != 1) ::_exit(3);
      char byte;
      while (::read(release[0], &byte, 1) > 0) {
      }
      ::_exit(s.ok() ? 0 : 1);  // exits holding the engine: the kernel releases the lock
    }
    ::close(ready[1]);
    ::close(release[0]);
    pollfd wait_ready{ready[0], POLLIN, 0};
    const int polled = ::poll(&wait_ready, 1, 20'000);
    char verdict = 0;
    const bool got_verdict = polled == 1 && ::read(ready[0], &verdict, 1) == 1;
    ::close(ready[0]);
    std::unique_ptr<Engine> second;
    const Status busy = got_verdict && verdict == 'R' ? Engine::open(options, &second) : Status::ok_status();
    ::close(release[1]);
    int wait_status = 0;
    REQUIRE(::waitpid(child, &wait_status, 0) == child);
    INFO("the child could not open the directory (see its message above)");
    REQUIRE(got_verdict);
    REQUIRE(verdict == 'R');
    INFO(busy.to_string());
    REQUIRE(busy.is_busy());
    REQUIRE(second == nullptr);
    REQUIRE(WIFEXITED(wait_status));
    REQUIRE(WEXITSTATUS(wait_status) == 0);
    // The holder is gone, and with it the lock.
    auto after = open_engine(options);
    REQUIRE(after->size() == 0);
  }
}

TEST_CASE("durable: error_if_exists and create_if_missing", "[durability]") {
  TempDir tmp;

  SECTION("error_if_exists on an existing database is InvalidArgument and changes nothing") {
    {
      auto db = open_engine(durable_options(tmp.db()));
      require_ok(db->put("k", "v"));
    }
    Options options = durable_options(tmp.db());
    options.error_if_exists = true;
    std::unique_ptr<Engine> db;
    const Status s = Engine::open(options, &db);
    INFO(s.to_string());
    REQUIRE(s.is_invalid_argument());
    REQUIRE(db == nullptr);
    auto reopened = open_engine(durable_options(tmp.db()));
    require_contents(*reopened, {{"k", "v"}});
  }

  SECTION("error_if_exists on a new directory creates the database") {
    Options options = durable_options(tmp.db());
    options.error_if_exists = true;
    {
      auto db = open_engine(options);
      require_ok(db->put("k", "v"));
    }
    auto reopened = open_engine(durable_options(tmp.db()));
    require_contents(*reopened, {{"k", "v"}});
  }

  SECTION("create_if_missing = false on a missing directory fails and creates nothing") {
    Options options = durable_options(tmp.db());
    options.create_if_missing = false;
    std::unique_ptr<Engine> db;
    const Status s = Engine::open(options, &db);
    INFO(s.to_string());
    REQUIRE((s.is_invalid_argument() || s.is_not_found()));
    REQUIRE(db == nullptr);
    REQUIRE_FALSE(fs::exists(tmp.db()));
  }

  SECTION("create_if_missing = false on an existing database opens it") {
    {
      auto db = open_engine(durable_options(tmp.db()));
      require_ok(db->put("k", "v"));
    }
    Options options = durable_options(tmp.db());
    options.create_if_missing = false;
    auto db = open_engine(options);
    require_contents(*db, {{"k", "v"}});
  }

  SECTION("a data directory path that is a regular file is refused, and the file is left alone") {
    {
      std::ofstream file(tmp.db());
      file << "not a database";
    }
    std::unique_ptr<Engine> db;
    const Status s = Engine::open(durable_options(tmp.db()), &db);
    INFO(s.to_string());
    REQUIRE_FALSE(s.ok());
    REQUIRE_FALSE(s.is_not_supported());
    REQUIRE(db == nullptr);
    std::ifstream file(tmp.db());
    std::string text;
    std::getline(file, text);
    REQUIRE(text == "not a database");
  }
}

TEST_CASE("durable: the data directory is 0700 and every file in it 0600", "[durability]") {
  TempDir tmp;
  const Options options = durable_options(tmp.db());
  auto check_modes = [&] {
    REQUIRE(permission_bits(tmp.db()) == 0700u);
    std::size_t files = 0;
    for (const auto& entry : fs::recursive_directory_iterator(tmp.db())) {
      INFO(entry.path().string());
      if (entry.is_directory()) {
        REQUIRE(permission_bits(entry.path()) == 0700u);
      } else {
        REQUIRE(permission_bits(entry.path()) == 0600u);
        ++files;
      }
    }
    REQUIRE(files > 0);
  };
  {
    auto db = open_engine(options);
    for (int i = 0; i < 100; ++i) require_ok(db->put(numbered("k", i), "v"));
    require_ok(db->checkpoint());
    require_ok(db->put("tail", "t"));
    check_modes();  // while open: lock, log and snapshot files
  }
  check_modes();  // after a clean close
  auto db = open_engine(options);
  check_modes();  // after recovery
}

TEST_CASE("durable: sync() and checkpoint() succeed in every durability mode", "[durability]") {
  for (const Durability durability :
       {Durability::kNone, Durability::kAsync, Durability::kSync, Durability::kPeriodic}) {
    DYNAMIC_SECTION("durability " << durability_name(durability)) {
      TempDir tmp;
      Options options = durable_options(tmp.db(), durability);
      options.sync_interval = 50ms;
      {
        auto db = open_engine(options);
        require_ok(db->put("before-checkpoint", "1"));
        require_ok(db->sync());
        require_ok(db->checkpoint());
        require_ok(db->sync());
        if (durability != Durability::kNone) {
          // With a log, every acknowledged write survives a clean close, synced or not.
          require_ok(db->put("sync-write", "2", WriteOptions{.sync = true}));
          require_ok(db->put("after-checkpoint", "3"));
          require_ok(db->put("synced-by-sync", "4"));
          require_ok(db->sync());
        }
      }
      auto db = open_engine(options);
      // kNone keeps no log: what it guarantees is what a checkpoint wrote (and a clean close, which
      // writes a last snapshot: see the next test).
      Contents expected = {{"before-checkpoint", "1"}};
      if (durability != Durability::kNone) {
        expected.insert({{"sync-write", "2"}, {"after-checkpoint", "3"}, {"synced-by-sync", "4"}});
      }
      require_contents(*db, expected);
      require_ok(db->sync());
      require_ok(db->checkpoint());
    }
  }
}

TEST_CASE("durable: kNone keeps what checkpoints wrote across several reopen cycles", "[durability]") {
  TempDir tmp;
  const Options options = durable_options(tmp.db(), Durability::kNone);
  Contents expected;
  for (int cycle = 0; cycle < 4; ++cycle) {
    INFO("cycle " << cycle);
    auto db = open_engine(options);
    require_contents(*db, expected);
    for (int i = 0; i < 200; ++i) {
      const std::string key = numbered("k", cycle * 100 + i);
      require_ok(db->put(key, key + "@" + std::to_string(cycle)));
      expected[key] = key + "@" + std::to_string(cycle);
    }
    require_ok(db->erase(numbered("k", cycle * 100)));
    expected.erase(numbered("k", cycle * 100));
    require_ok(db->checkpoint());
  }
}

TEST_CASE("durable: a clean close of a kNone engine writes a last snapshot; writes since it survive", "[durability]") {
  TempDir tmp;
  const Options options = durable_options(tmp.db(), Durability::kNone);
  {
    auto db = open_engine(options);
    require_ok(db->put("checkpointed", "1"));
    require_ok(db->checkpoint());
    require_ok(db->put("only-in-memory-until-close", "2"));
    require_ok(db->erase("checkpointed"));
  }
  auto db = open_engine(options);
  require_contents(*db, Contents{{"only-in-memory-until-close", "2"}});
}

TEST_CASE("durable: memory-only engines refuse sync() and checkpoint() with NotSupported", "[durability]") {
  auto db = open_engine(Options{});
  REQUIRE(db->sync().is_not_supported());
  REQUIRE(db->checkpoint().is_not_supported());
}

TEST_CASE("durable: invalid durable options are refused with InvalidArgument and create nothing", "[durability]") {
  TempDir tmp;
  Options options = durable_options(tmp.db(), Durability::kPeriodic);
  options.sync_interval = 0ms;
  std::unique_ptr<Engine> db;
  const Status s = Engine::open(options, &db);
  INFO(s.to_string());
  REQUIRE(s.is_invalid_argument());
  REQUIRE(db == nullptr);
  REQUIRE_FALSE(fs::exists(tmp.db()));
}

TEST_CASE("durable: damage inside a data file fails open with Corruption naming the file", "[durability]") {
  TempDir tmp;
  const Options options = durable_options(tmp.db());
  {
    auto db = open_engine(options);
    for (int i = 0; i < 20'000; ++i) {
      require_ok(db->put(numbered("key", i), std::string(100, static_cast<char>('a' + i % 26))));
    }
  }
  // The largest file holds most of the data (the log or a snapshot). Damage well before its end is
  // never a torn tail: recovery must refuse it, not truncate it away.
  fs::path largest;
  std::uintmax_t largest_size = 0;
  for (const auto& file : files_under(tmp.db())) {
    if (fs::file_size(file) > largest_size) {
      largest = file;
      largest_size = fs::file_size(file);
    }
  }
  INFO("damaged file " << largest.string() << " of " << largest_size << " bytes");
  REQUIRE(largest_size > 256 * 1024);
  invert_bytes(largest, largest_size / 3);
  std::unique_ptr<Engine> db;
  const Status s = Engine::open(options, &db);
  INFO(s.to_string());
  REQUIRE(s.is_corruption());
  REQUIRE(db == nullptr);
  REQUIRE(s.to_string().find(largest.filename().string()) != std::string::npos);
}

TEST_CASE("durable: damage far into a long log fails open with Corruption while earlier batches are applied",
          "[durability][replay]") {
  // Replay applies full batches of the log on a second thread while it reads on: damage two thirds in
  // is found with batches handed off before it, and the open must still fail cleanly (no hang, nothing
  // left running), then succeed once the damage is repaired.
  TempDir tmp;
  const Options options = durable_options(tmp.db());
  constexpr int kKeys = 200'000;  // three of replay's batches (65,536 operations) and some
  {
    auto db = open_engine(options);
    for (int i = 0; i < kKeys; ++i) require_ok(db->put(numbered("key", i), std::string(60, 'v')));
  }
  std::vector<fs::path> logs;
  for (const auto& file : files_under(tmp.db())) {
    if (file.extension() == ".log" && fs::file_size(file) > 0) logs.push_back(file);
  }
  REQUIRE(logs.size() == 1);  // no checkpoint: the whole history is in one segment
  const std::uintmax_t offset = fs::file_size(logs[0]) * 2 / 3;
  invert_bytes(logs[0], offset);
  std::unique_ptr<Engine> db;
  const Status s = Engine::open(options, &db);
  INFO(s.to_string());
  REQUIRE(s.is_corruption());
  REQUIRE(db == nullptr);
  invert_bytes(logs[0], offset);  // inverted twice: as written
  db = open_engine(options);
  CHECK(db->size() == static_cast<std::size_t>(kKeys));
  CHECK(db->stats().recovery.log_records == static_cast<std::uint64_t>(kKeys));
}

namespace {
// What the child of the G5 test saw, sent back in one write.
struct FailedWriteReport {
  char opened = 0;       // the engine opened
  int acknowledged = 0;  // puts k0..k(n-1) returned OK
  char failed = 0;       // some put failed
  mantis::Status::Code first_failure = mantis::Status::Code::kOk;
  char failed_key_visible = 0;         // the failed put's key was readable right after the failure
  mantis::Status::Code later[3] = {};  // put, erase and write after the failure
  char reads_ok = 0;                   // get of an acknowledged key still worked
  char message[240] = {};              // the first failure's Status text
};
std::string failed_write_key(int i) { return numbered("k", i); }
std::string failed_write_value(int i) { return std::string(1024, static_cast<char>('a' + i % 26)) + std::to_string(i); }
}  // namespace

TEST_CASE("durable: a write that fails on I/O is not acknowledged, and later writes are refused until reopen",
          "[durability][io-error]") {
  // kAsync's log stores into mapped segments allocated whole, so its writes fail where a segment is
  // created (at a full one); kSync's appends with write calls, so the append that crosses the limit fails.
  const Durability durability = GENERATE(Durability::kAsync, Durability::kSync);
  INFO("durability " << static_cast<int>(durability));
  TempDir tmp;
  Options options = durable_options(tmp.db(), durability);
  options.reaper_interval = 0ms;  // no background thread while this process forks
  {
    auto db = open_engine(options);
    require_ok(db->put("before", "x"));
  }
  int report_pipe[2];
  REQUIRE(::pipe(report_pipe) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child's files may not grow past a limit a little above the size of its largest file outside
    // the log now: the log write that crosses it, or the segment that would, fails (EFBIG; SIGXFSZ is
    // ignored). The child then exits without closing the engine.
    ::close(report_pipe[0]);
    std::signal(SIGXFSZ, SIG_IGN);
    FailedWriteReport report;
    std::unique_ptr<Engine> db;
    const Status opened = Engine::open(options, &db);
    if (opened.ok()) {
      report.opened = 1;
      std::uintmax_t largest = 0;
      for (const auto& file : files_under(tmp.db())) {
        if (file.parent_path().filename() != "wal") largest = std::max(largest, fs::file_size(file));
      }
      const rlimit limit{largest + (64u << 10), largest + (64u << 10)};
      ::setrlimit(RLIMIT_FSIZE, &limit);
      for (int i = 0; i < 100'000; ++i) {
        const Status s = db->put(failed_write_key(i), failed_write_value(i));
        if (s.ok()) {
          report.acknowledged = i + 1;
          continue;
        }
        report.failed = 1;
        report.first_failure = s.code();
        std::snprintf(report.message, sizeof report.message, "%s", s.to_string().c_str());
        report.failed_key_visible = db->contains(failed_write_key(i)) ? 1 : 0;
        report.later[0] = db->put("after", "refused?").code();
        report.later[1] = db->erase(failed_write_key(0)).code();
        WriteBatch batch;
        batch.put("after-batch", "refused?");
        report.later[2] = db->write(batch).code();
        std::string value;
        report.reads_ok = db->get(failed_write_key(0), &value).ok() && value == failed_write_value(0) ? 1 : 0;
        break;
      }
    } else {
      std::snprintf(report.message, sizeof report.message, "%s", opened.to_string().c_str());
    }
    const bool sent = ::write(report_pipe[1], &report, sizeof report) == static_cast<ssize_t>(sizeof report);
    ::_exit(sent ? 0 : 1);  // like a crash: no close, no flush
  }
  ::close(report_pipe[1]);
  FailedWriteReport report;
  const ssize_t got = ::read(report_pipe[0], &report, sizeof report);
  ::close(report_pipe[0]);
  int wait_status = 0;
  REQUIRE(::waitpid(child, &wait_status, 0) == child);
  REQUIRE(got == static_cast<ssize_t>(sizeof report));
  INFO("child: " << report.message);
  REQUIRE(report.opened == 1);
  REQUIRE(report.failed == 1);
  REQUIRE(report.first_failure == Status::Code::kIOError);
  REQUIRE(report.failed_key_visible == 0);
  for (const Status::Code later : report.later) {
    INFO("a write after the failure answered " << Status::code_name(later) << " (IOError expected until reopen)");
    REQUIRE(later == Status::Code::kIOError);
  }
  REQUIRE(report.reads_ok == 1);

  // Reopened without the limit: everything acknowledged is there; the failed put is absent or whole;
  // nothing written after the failure exists; writes work again.
  auto db = open_engine(options);
  REQUIRE(value_of(*db, "before") == "x");
  for (int i = 0; i < report.acknowledged; ++i) {
    INFO("acknowledged key " << failed_write_key(i));
    REQUIRE(value_of(*db, failed_write_key(i)) == failed_write_value(i));
  }
  const std::string failed_value = value_of(*db, failed_write_key(report.acknowledged));
  REQUIRE((failed_value == "<absent>" || failed_value == failed_write_value(report.acknowledged)));
  REQUIRE_FALSE(db->contains("after"));
  REQUIRE_FALSE(db->contains("after-batch"));
  REQUIRE(value_of(*db, failed_write_key(report.acknowledged + 1)) == "<absent>");
  require_ok(db->put("after-reopen", "works"));
  REQUIRE(value_of(*db, "after-reopen") == "works");
}
