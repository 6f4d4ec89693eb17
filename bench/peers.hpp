// The key-value implementations mantis-bench measures, behind one small interface (KvTarget):
//   mantis  mantis::Engine, default options except Options::cache_capacity (the read-through cache tier)
//           and, with --dir, Options::dir and Options::durability; used exactly as a user would (public
//           API only).
//   memory  with --dir: the same engine in memory (no dir), the peer a durable engine is measured against.
//   snapshot  the mantis engine (same options) with one Snapshot alive throughout: what the versioned
//           mode (writes keeping what they replace, serialized per key stripe) costs each workload.
//           Only when listed in --compare.
//   stdmap  std::map<std::string, std::string> under one std::shared_mutex: the "map + RWMutex"
//           design MantisDB replaced. Readers take the lock shared, writers exclusive.
//   cds     libcds SkipListMap<cds::gc::DHP, std::string, std::string>, off the shelf. It has no
//           atomic replace (update() writes the value in place, racing with readers), so an
//           overwrite is erase + emplace: readers may miss the key in between (counted as misses,
//           not errors), and it has no seek, so it cannot run range scans (YCSB E).
//   lmdb, rocksdb  LMDB and RocksDB, each in a directory of its own, in bench/peers/ (one file each;
//           embedded_stores.hpp says how they are opened). Built only when their packages are installed.
// The cache phase has its own interface (CacheTarget):
//   mantis  mantis::Cache, the standalone cache (public API only).
//   lru     ExactLru (bench/exact_lru.hpp): hash map + recency list under one mutex, exact LRU.
//
// Every worker thread calls attach_thread() before its first operation and detach_thread() after its
// last. Each target is thread-safe for concurrent put/get/scan from attached threads.
// init_cds_runtime() must run once, first thing in main(), before any thread (or the engine) touches
// libcds: attaching a thread only registers it with the garbage collectors constructed by then.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>

#include <cds/container/skip_list_map_dhp.h>
#include <cds/gc/dhp.h>
#include <cds/init.h>

#include <mantis/cache.hpp>
#include <mantis/engine.hpp>

#include "exact_lru.hpp"

namespace mantis::bench {

enum class Lookup { kFound, kMissing, kError };

class KvTarget {
 public:
  virtual ~KvTarget() = default;

  virtual void attach_thread() {}
  virtual void detach_thread() {}
  // Inserts or replaces key -> value. False on an error.
  virtual bool put(std::string_view key, std::string_view value) = 0;
  // Copies the value into *value.
  virtual Lookup get(std::string_view key, std::string* value) = 0;
  // Visits up to `limit` keys >= start in key order. Returns how many (0 on an error, so a scan
  // that starts at a present key and visits nothing has failed).
  // REQUIRES: supports_scan().
  virtual std::size_t scan(std::string_view start, std::size_t limit) = 0;
  virtual bool supports_scan() const = 0;
  // False when an overwrite briefly removes the key (readers may then miss it).
  virtual bool atomic_overwrite() const = 0;

  // Atomic read-modify-writes, where the target has them (supports_conditional()).
  // Reads the key's value into *scratch, then writes `value` only if nobody wrote the key in between,
  // reading again until it does. False on an error.
  virtual bool compare_and_set(std::string_view /*key*/, std::string_view /*value*/, std::string* /*scratch*/) {
    return false;
  }
  // Adds delta to the key's decimal counter (an absent key counts as 0), as Redis's INCRBY. False on
  // an error.
  virtual bool increment(std::string_view /*key*/, std::int64_t /*delta*/) { return false; }
  virtual bool supports_conditional() const { return false; }

  // Multi-key writes, where the target has them (supports_multi_key()). kMultiKeys keys at a time.
  static constexpr std::size_t kMultiKeys = 4;
  // Writes values[i] to keys[i], all at once (a batch). False on an error.
  virtual bool write_all(const std::string_view* /*keys*/, const std::string* /*values*/) { return false; }
  // A read-modify-write transaction: reads every key, then writes values[i] to keys[i], atomically and
  // serializably, retrying until it commits; *retries counts the attempts that conflicted. False on an
  // error.
  virtual bool transact_all(const std::string_view* /*keys*/, const std::string* /*values*/, std::string* /*scratch*/,
                            std::uint64_t* /*retries*/) {
    return false;
  }
  virtual bool supports_multi_key() const { return false; }

  // Takes a snapshot (a consistent read view), reads the key through it and releases it, where the
  // target has snapshots (supports_snapshots()).
  virtual Lookup snapshot_get(std::string_view /*key*/, std::string* /*value*/) { return Lookup::kError; }
  virtual bool supports_snapshots() const { return false; }
};

// libcds runtime for the cds peer: cds::Initialize() and the DHP singleton, built once per process
// and never torn down (the engine shares the libcds runtime). The calling thread is not attached:
// the main thread only constructs and destroys maps, which needs no garbage collector.
inline void init_cds_runtime() {
  static const bool initialized = [] {
    cds::Initialize();
    static cds::gc::DHP dhp;
    return true;
  }();
  static_cast<void>(initialized);
}

class MantisTarget final : public KvTarget {
 public:
  // With options.dir set, the directory belongs to the target: it is removed when the target is.
  // With hold_snapshot, a snapshot stays alive for the target's life (the `snapshot` peer).
  explicit MantisTarget(const Options& options, bool hold_snapshot = false)
      : options_(options), hold_snapshot_(hold_snapshot) {
    const Status status = Engine::open(options, &engine_);
    if (!status.ok()) throw std::runtime_error("mantis::Engine::open: " + status.to_string());
    if (hold_snapshot_) held_ = engine_->snapshot();
  }
  ~MantisTarget() override {
    held_.reset();
    engine_.reset();
    if (!options_.dir.empty()) {
      std::error_code ignored;
      std::filesystem::remove_all(options_.dir, ignored);
    }
  }
  MantisTarget(const MantisTarget&) = delete;
  MantisTarget& operator=(const MantisTarget&) = delete;

  // Durable engines: closes the engine (open() false until reopen()), and opens its directory again
  // (recovery), closing it first if it is open.
  void close() {
    held_.reset();
    engine_.reset();
  }
  Status reopen() {
    close();
    Status status = Engine::open(options_, &engine_);
    if (status.ok() && hold_snapshot_) held_ = engine_->snapshot();
    return status;
  }
  bool open() const { return engine_ != nullptr; }
  Status checkpoint() { return engine_->checkpoint(); }
  std::size_t size() const { return engine_->size(); }
  Stats stats() const { return engine_->stats(); }

  bool put(std::string_view key, std::string_view value) override { return engine_->put(key, value).ok(); }
  Lookup get(std::string_view key, std::string* value) override {
    const Status status = engine_->get(key, value);
    if (status.ok()) return Lookup::kFound;
    return status.is_not_found() ? Lookup::kMissing : Lookup::kError;
  }
  std::size_t scan(std::string_view start, std::size_t limit) override {
    std::size_t visited = 0;
    const Status status =
        engine_->scan(start, {}, [&](std::string_view, std::string_view) { return ++visited < limit; });
    return status.ok() ? visited : 0;
  }
  bool supports_scan() const override { return true; }
  bool atomic_overwrite() const override { return true; }
  bool compare_and_set(std::string_view key, std::string_view value, std::string* scratch) override {
    for (;;) {
      Version version = 0;
      Status status = engine_->get(key, scratch, &version);
      if (!status.ok() && !status.is_not_found()) return false;
      status = engine_->put_if_version(key, status.ok() ? version : 0, value);
      if (!status.is_condition_failed()) return status.ok();
    }
  }
  bool increment(std::string_view key, std::int64_t delta) override {
    return engine_->increment(key, delta, nullptr).ok();
  }
  bool supports_conditional() const override { return true; }
  bool write_all(const std::string_view* keys, const std::string* values) override {
    WriteBatch batch;
    for (std::size_t i = 0; i < kMultiKeys; ++i) batch.put(keys[i], values[i]);
    return engine_->write(batch).ok();
  }
  bool transact_all(const std::string_view* keys, const std::string* values, std::string* scratch,
                    std::uint64_t* retries) override {
    for (;;) {
      auto txn = engine_->begin();
      if (txn == nullptr) return false;
      for (std::size_t i = 0; i < kMultiKeys; ++i) {
        const Status read = txn->get(keys[i], scratch);
        if (!read.ok() && !read.is_not_found()) return false;
        if (!txn->put(keys[i], values[i]).ok()) return false;
      }
      const Status committed = txn->commit();
      if (!committed.is_conflict()) return committed.ok();
      ++*retries;
    }
  }
  bool supports_multi_key() const override { return true; }
  Lookup snapshot_get(std::string_view key, std::string* value) override {
    const Snapshot snapshot = engine_->snapshot();
    if (!snapshot.valid()) return Lookup::kError;
    ReadOptions at;
    at.snapshot = &snapshot;
    const Status status = engine_->get(at, key, value);
    if (status.ok()) return Lookup::kFound;
    return status.is_not_found() ? Lookup::kMissing : Lookup::kError;
  }
  bool supports_snapshots() const override { return true; }

 private:
  const Options options_;
  const bool hold_snapshot_;
  std::unique_ptr<Engine> engine_;
  Snapshot held_;  // released before the engine
};

class StdMapTarget final : public KvTarget {
 public:
  bool put(std::string_view key, std::string_view value) override {
    std::unique_lock lock(mutex_);
    auto it = map_.find(key);
    if (it == map_.end()) {
      map_.emplace(key, value);
    } else {
      it->second.assign(value);
    }
    return true;
  }
  Lookup get(std::string_view key, std::string* value) override {
    std::shared_lock lock(mutex_);
    auto it = map_.find(key);
    if (it == map_.end()) return Lookup::kMissing;
    value->assign(it->second);
    return Lookup::kFound;
  }
  std::size_t scan(std::string_view start, std::size_t limit) override {
    std::shared_lock lock(mutex_);
    std::size_t visited = 0;
    for (auto it = map_.lower_bound(start); it != map_.end() && visited < limit; ++it) ++visited;
    return visited;
  }
  bool supports_scan() const override { return true; }
  bool atomic_overwrite() const override { return true; }
  // One exclusive section each: the read and the write cannot be separated by another writer.
  bool compare_and_set(std::string_view key, std::string_view value, std::string* scratch) override {
    std::unique_lock lock(mutex_);
    auto it = map_.find(key);
    if (it == map_.end()) {
      map_.emplace(key, value);
    } else {
      scratch->assign(it->second);
      it->second.assign(value);
    }
    return true;
  }
  bool increment(std::string_view key, std::int64_t delta) override {
    std::unique_lock lock(mutex_);
    auto it = map_.find(key);
    if (it == map_.end()) it = map_.emplace(key, "0").first;
    std::int64_t current = 0;
    const auto parsed = std::from_chars(it->second.data(), it->second.data() + it->second.size(), current);
    if (parsed.ec != std::errc() || __builtin_add_overflow(current, delta, &current)) return false;
    it->second = std::to_string(current);
    return true;
  }
  bool supports_conditional() const override { return true; }
  // Both under the exclusive lock: the map's only way to make several keys change at once.
  bool write_all(const std::string_view* keys, const std::string* values) override {
    std::unique_lock lock(mutex_);
    for (std::size_t i = 0; i < kMultiKeys; ++i) map_.insert_or_assign(std::string(keys[i]), values[i]);
    return true;
  }
  bool transact_all(const std::string_view* keys, const std::string* values, std::string* scratch,
                    std::uint64_t* /*retries*/) override {
    std::unique_lock lock(mutex_);
    for (std::size_t i = 0; i < kMultiKeys; ++i) {
      auto it = map_.find(keys[i]);
      if (it == map_.end()) {
        map_.emplace(keys[i], values[i]);
      } else {
        scratch->assign(it->second);
        it->second.assign(values[i]);
      }
    }
    return true;
  }
  bool supports_multi_key() const override { return true; }

 private:
  std::shared_mutex mutex_;
  std::map<std::string, std::string, std::less<>> map_;  // std::less<>: find(string_view) without a copy
};

class CdsTarget final : public KvTarget {
 public:
  CdsTarget() { init_cds_runtime(); }

  void attach_thread() override { cds::threading::Manager::attachThread(); }
  void detach_thread() override { cds::threading::Manager::detachThread(); }

  bool put(std::string_view key, std::string_view value) override {
    // emplace builds the node with its value before linking it; insert() would assign the value
    // after the node is visible, racing with readers.
    if (map_.emplace(std::string(key), value)) return true;
    map_.erase_with(key, ViewLess{});
    // A concurrent writer may win the re-insert: its value then simply replaced ours.
    map_.emplace(std::string(key), value);
    return true;
  }
  Lookup get(std::string_view key, std::string* value) override {
    auto found = map_.get_with(key, ViewLess{});  // get_with: no std::string built for the probe
    if (!found) return Lookup::kMissing;
    value->assign(found->second);
    return Lookup::kFound;
  }
  std::size_t scan(std::string_view, std::size_t) override {
    throw std::logic_error("libcds SkipListMap has no seek: scans are unsupported");
  }
  bool supports_scan() const override { return false; }
  bool atomic_overwrite() const override { return false; }

 private:
  // Orders std::string keys and string_view probes alike (memcmp order, as std::less<std::string>).
  struct ViewLess {
    bool operator()(std::string_view a, std::string_view b) const noexcept { return a < b; }
  };
  struct Traits : cds::container::skip_list::traits {
    using item_counter = cds::atomicity::item_counter;  // the default counter keeps size() at 0
    using less = std::less<std::string>;
  };
  cds::container::SkipListMap<cds::gc::DHP, std::string, std::string, Traits> map_;
};

// A byte-bounded cache under test. Thread-safe like KvTarget; needs no thread attachment.
class CacheTarget {
 public:
  virtual ~CacheTarget() = default;
  // False on an error (a refused entry).
  virtual bool put(std::string_view key, std::string_view value) = 0;
  // kMissing on a miss (evicted or never cached).
  virtual Lookup get(std::string_view key, std::string* value) = 0;
};

class MantisCacheTarget final : public CacheTarget {
 public:
  // Exits with a message when the cache cannot be created.
  explicit MantisCacheTarget(std::size_t capacity_bytes) {
    if (const Status s = Cache::open(CacheOptions{.capacity = capacity_bytes}, &cache_); !s.ok()) {
      std::fprintf(stderr, "mantis-bench: cache: %s\n", s.to_string().c_str());
      std::exit(1);
    }
  }
  bool put(std::string_view key, std::string_view value) override { return cache_->put(key, value).ok(); }
  Lookup get(std::string_view key, std::string* value) override {
    const Status status = cache_->get(key, value);
    if (status.ok()) return Lookup::kFound;
    return status.is_not_found() ? Lookup::kMissing : Lookup::kError;
  }

 private:
  std::unique_ptr<Cache> cache_;
};

// Charges entries like mantis::Cache (Cache::kEntryOverhead), so both hold the same number of entries.
class LruTarget final : public CacheTarget {
 public:
  explicit LruTarget(std::size_t capacity_bytes) : lru_(capacity_bytes, Cache::kEntryOverhead) {}
  bool put(std::string_view key, std::string_view value) override { return lru_.put(key, value); }
  Lookup get(std::string_view key, std::string* value) override {
    return lru_.get(key, value) ? Lookup::kFound : Lookup::kMissing;
  }

 private:
  ExactLru lru_;
};

}  // namespace mantis::bench
