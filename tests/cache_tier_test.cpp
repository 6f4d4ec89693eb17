// The Engine's cache tier: read-through fills, write-side refresh, TTL, stats, and the hunt for the
// stale-fill race of docs/DESIGN.md, rule 3, "Linearizable point operations".
#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "engine/cache_bypass.hpp"
#include "manual_clock.hpp"

#include "test_util.hpp"

using mantis::Options;
using mantis::ValueView;
using mantis::WriteOptions;
using mantis::test::lazy_expiry_options;
using mantis::test::ManualClock;
using mantis::test::open_engine;
using mantis::test::value_of;
using namespace std::chrono_literals;

namespace {
// Reads `key` until a fill puts it in the cache tier: the doorkeeper admits a key on its second miss
// (or, by a Bloom false positive, its first). Returns the number of reads.
std::uint32_t warm(const mantis::Engine& db, std::string_view key, std::string_view expected) {
  const std::uint64_t inserts = db.stats().cache.inserts;
  for (std::uint32_t reads = 1; reads <= 2; ++reads) {
    CHECK(value_of(db, key) == expected);
    if (db.stats().cache.inserts > inserts) return reads;
  }
  FAIL("no fill after 2 misses of " << key);
  return 0;
}
}  // namespace

TEST_CASE("a key's second read miss fills the cache tier and later reads hit it", "[cache_tier]") {
  auto db = open_engine(lazy_expiry_options(1 << 20));
  REQUIRE(db->put("k", "v").ok());
  CHECK(db->stats().cache.entries == 0);  // writes do not fill
  const std::uint32_t misses = warm(*db, "k", "v");
  auto s = db->stats();
  CHECK(s.cache.entries == 1);
  CHECK(s.cache.inserts == 1);
  CHECK(s.cache.misses == misses);
  CHECK(value_of(*db, "k") == "v");
  ValueView view;
  REQUIRE(db->get("k", &view).ok());
  CHECK(view.data() == "v");
  CHECK(db->contains("k"));
  s = db->stats();
  CHECK(s.cache.hits == 3);
  CHECK(s.hits == misses + 3);
  CHECK(s.cache.capacity == 1 << 20);
  CHECK(s.cache.charge > 0);
  CHECK(s.cache.hit_ratio == Approx(3.0 / (3 + misses)));
}

TEST_CASE("keys read once do not fill the tier (a pass over more keys than it holds evicts nothing)", "[cache_tier]") {
  auto db = open_engine(lazy_expiry_options(64 << 10));  // room for ~500 entries; the doorkeeper spans ~500 misses
  REQUIRE(db->put("hot", "v").ok());
  warm(*db, "hot", "v");
  for (int i = 0; i < 4000; ++i) REQUIRE(db->put("k" + std::to_string(i), "v").ok());
  for (int i = 0; i < 4000; ++i) REQUIRE(value_of(*db, "k" + std::to_string(i)) == "v");
  const auto s = db->stats();
  CHECK(s.cache.inserts < 1 + 4000 / 20);  // Bloom false positives only (under 5%)
  CHECK(s.cache.evictions == 0);           // so the hot key is still cached
  CHECK(s.cache.entries == s.cache.inserts);
}

TEST_CASE("writes keep cached entries coherent", "[cache_tier]") {
  ManualClock clock;
  auto db = open_engine(lazy_expiry_options(1 << 20), &clock);
  REQUIRE(db->put("k", "v1").ok());
  warm(*db, "k", "v1");
  REQUIRE(db->put("k", "v2").ok());
  CHECK(value_of(*db, "k") == "v2");
  mantis::WriteBatch batch;
  batch.put("k", "v3");
  REQUIRE(db->write(batch).ok());
  CHECK(value_of(*db, "k") == "v3");
  REQUIRE(db->erase("k").ok());
  CHECK(value_of(*db, "k") == "<absent>");
  CHECK(db->stats().cache.entries == 0);

  REQUIRE(db->put("t", "tv").ok());
  warm(*db, "t", "tv");  // cached without TTL
  REQUIRE(db->expire("t", 10ms).ok());
  clock.advance(10);
  CHECK(value_of(*db, "t") == "<absent>");  // the cached entry expired with its record
  REQUIRE(db->put("p", "pv", WriteOptions{10ms}).ok());
  warm(*db, "p", "pv");  // cached with its TTL
  REQUIRE(db->persist("p").ok());
  clock.advance(100);
  CHECK(value_of(*db, "p") == "pv");

  REQUIRE(db->clear().ok());
  CHECK(db->stats().cache.entries == 0);
  CHECK(value_of(*db, "p") == "<absent>");
}

TEST_CASE("a view from the cache tier survives eviction and overwrite", "[cache_tier][view]") {
  auto db = open_engine(lazy_expiry_options(4096));
  REQUIRE(db->put("k", "cached value").ok());
  warm(*db, "k", "cached value");
  ValueView view;
  const auto hits = db->stats().cache.hits;
  REQUIRE(db->get("k", &view).ok());
  REQUIRE(db->stats().cache.hits == hits + 1);  // pinned from the cache
  REQUIRE(db->put("k", "new").ok());
  for (int i = 0; i < 60; ++i) {  // ~40 fit; 60 warmed fillers stay within one CacheBypass window
    const std::string key = "filler" + std::to_string(i);
    REQUIRE(db->put(key, std::string(50, 'x')).ok());
    warm(*db, key, std::string(50, 'x'));
  }
  CHECK(db->stats().cache.evictions > 0);
  CHECK(view.data() == "cached value");
}

TEST_CASE("cache_capacity 0 disables the tier", "[cache_tier]") {
  auto db = open_engine(lazy_expiry_options(0));
  REQUIRE(db->put("k", "v").ok());
  CHECK(value_of(*db, "k") == "v");
  const auto s = db->stats();
  CHECK(s.cache.capacity == 0);
  CHECK(s.cache.entries == 0);
  CHECK(s.cache.inserts == 0);
  CHECK(s.hits == 1);
}

TEST_CASE("values too large for the cache are served from the store", "[cache_tier]") {
  auto db = open_engine(lazy_expiry_options(1024));
  const std::string big(4096, 'b');
  REQUIRE(db->put("big", big).ok());
  CHECK(value_of(*db, "big") == big);
  CHECK(value_of(*db, "big") == big);
  CHECK(db->stats().cache.entries == 0);
}

TEST_CASE("TinyLFU admission works inside the engine", "[cache_tier]") {
  Options o = lazy_expiry_options(64 << 10);
  o.cache_admission = mantis::Admission::kTinyLfu;
  auto db = open_engine(o);
  for (int i = 0; i < 2000; ++i) REQUIRE(db->put("k" + std::to_string(i), std::string(64, 'v')).ok());
  for (int round = 0; round < 3; ++round) {
    for (int i = 0; i < 2000; ++i) CHECK(value_of(*db, "k" + std::to_string(i)).size() == 64);
  }
  CHECK(db->stats().cache.charge <= 64u << 10);
}

TEST_CASE("the tier's default policy is adaptive W-TinyLFU and its stats say where entries are", "[cache_tier]") {
  CHECK(Options{}.cache_admission == mantis::Admission::kAdaptive);
  constexpr std::size_t kCapacity = 64 << 10;
  auto db = open_engine(lazy_expiry_options(kCapacity));
  // A hot set read often, then a stream of keys read twice each (so the doorkeeper lets them fill)
  // that overflows the tier: the window's candidates lose their duels against the hot set. Hot reads
  // go on between the stream's reads, so that the tier serves most reads and is not bypassed.
  for (int i = 0; i < 3000; ++i) REQUIRE(db->put("k" + std::to_string(i), std::string(64, 'v')).ok());
  for (int round = 0; round < 6; ++round) {
    for (int i = 0; i < 100; ++i) CHECK(value_of(*db, "k" + std::to_string(i)).size() == 64);
  }
  for (int i = 100; i < 3000; ++i) {
    CHECK(value_of(*db, "k" + std::to_string(i)).size() == 64);
    CHECK(value_of(*db, "k" + std::to_string(i)).size() == 64);
    for (int h = 0; h < 4; ++h) CHECK(value_of(*db, "k" + std::to_string((4 * i + h) % 100)).size() == 64);
  }
  const auto s = db->stats();
  INFO("entries " << s.cache.entries << ", window " << s.cache.window_entries << ", probation "
                  << s.cache.probation_entries << ", protected " << s.cache.protected_entries << ", rejections "
                  << s.cache.admission_rejections << ", window budget " << s.cache.window_capacity << " after "
                  << s.cache.window_adjustments << " moves, inserts " << s.cache.inserts << ", evictions "
                  << s.cache.evictions << ", charge " << s.cache.charge);
  CHECK(s.cache.window_entries + s.cache.probation_entries + s.cache.protected_entries == s.cache.entries);
  CHECK(s.cache.window_entries > 0);
  CHECK(s.cache.evictions > 0);
  CHECK(s.cache.admission_rejections > 0);
  CHECK(s.cache.window_capacity > 0);
  CHECK(s.cache.window_capacity <= kCapacity);
  // The hot set survived the stream.
  const auto hits = s.cache.hits;
  for (int i = 0; i < 100; ++i) CHECK(value_of(*db, "k" + std::to_string(i)).size() == 64);
  CHECK(db->stats().cache.hits >= hits + 90);
}

// The stale-fill race (docs/DESIGN.md, rule 3, "Linearizable point operations"): reader R misses the cache and reads v1
// from the store; writer W stores v2 and refreshes the cache; R then fills the cache with v1, stale forever. A tiny
// cache evicts constantly, so fills happen all the time. Each key has one writer writing increasing versions and
// publishing the last completed one; a read must never return a version older than one whose write completed before the
// read began.
TEST_CASE("no read returns a version older than a completed write (stale-fill race hunt)", "[cache_tier][stress]") {
  constexpr int kKeys = 6;
  constexpr int kWriters = 2;
  constexpr int kReaders = 4;
  auto db =
      open_engine(lazy_expiry_options(200));  // room for about 3 of the 6 keys (~65 bytes each): constant eviction
  std::array<std::atomic<std::uint64_t>, kKeys> completed{};
  auto key_of = [](int i) { return "key" + std::to_string(i); };
  auto encode = [](std::uint64_t v) { return "v" + std::to_string(v) + std::string(v % 7, '.'); };
  auto decode = [](std::string_view s) -> std::uint64_t {
    if (s.empty() || s[0] != 'v') return 0;
    const std::uint64_t v = std::stoull(std::string(s.substr(1, s.find('.') - 1)));
    return s.size() == 1 + std::to_string(v).size() + v % 7 ? v : 0;
  };
  for (int i = 0; i < kKeys; ++i) REQUIRE(db->put(key_of(i), encode(1)).ok());
  for (auto& c : completed) c.store(1);

  std::atomic<bool> stop{false};
  std::atomic<long> stale{0}, torn{0}, reads{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(w);
      while (!stop.load(std::memory_order_relaxed)) {
        for (int i = w; i < kKeys; i += kWriters) {
          const std::uint64_t v = completed[i].load() + 1;
          mantis::Status s;
          if (rng() % 4 == 0) {
            mantis::WriteBatch batch;
            batch.put(key_of(i), encode(v));
            s = db->write(batch);
          } else {
            s = db->put(key_of(i), encode(v));
          }
          if (!s.ok()) std::abort();
          completed[i].store(v);
        }
      }
    });
  }
  for (int r = 0; r < kReaders; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937 rng(100 + r);
      std::string value;
      ValueView view;
      while (!stop.load(std::memory_order_relaxed)) {
        const int i = static_cast<int>(rng() % kKeys);
        const std::uint64_t floor = completed[i].load();
        std::string_view got;
        if (rng() % 2 == 0) {
          if (!db->get(key_of(i), &value).ok()) std::abort();
          got = value;
        } else {
          if (!db->get(key_of(i), &view).ok()) std::abort();
          got = view.data();
        }
        const std::uint64_t v = decode(got);
        if (v == 0) torn.fetch_add(1);
        if (v < floor) stale.fetch_add(1);
        reads.fetch_add(1);
      }
    });
  }
  std::this_thread::sleep_for(mantis::test::stress_duration());
  stop.store(true);
  for (auto& t : threads) t.join();
  CHECK(torn.load() == 0);
  CHECK(stale.load() == 0);
  CHECK(reads.load() > 1000);
  const auto s = db->stats();
  CHECK(s.cache.evictions > 100);  // the cache really churned
  CHECK(s.cache.hits > 100);       // and really served reads
  for (int i = 0; i < kKeys; ++i) CHECK(decode(value_of(*db, key_of(i))) == completed[i].load());
}

TEST_CASE("the tier steps aside for sequential passes it cannot hold, and comes back for a hot set", "[cache_tier]") {
  using mantis::detail::kCacheBypassRatio;
  using mantis::detail::kCacheBypassWindow;
  auto db = open_engine(lazy_expiry_options(16 << 10));  // room for ~150 of the 20,000 keys
  constexpr int kKeys = 20000;
  for (int i = 0; i < kKeys; ++i) REQUIRE(db->put("k" + std::to_string(i), "value").ok());
  auto probes = [&] {
    const auto s = db->stats();
    return s.cache.hits + s.cache.misses;
  };
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < kKeys; ++i) REQUIRE(value_of(*db, "k" + std::to_string(i)) == "value");
  }
  const std::uint64_t pass_probes = probes();
  // Without the bypass every read would probe (40,000); with it, after the first window of misses only
  // one read in kCacheBypassRatio does.
  CHECK(pass_probes < kCacheBypassWindow + 2 * kKeys / kCacheBypassRatio + kCacheBypassWindow);
  CHECK(db->stats().hits == 2 * kKeys);  // every read was still served

  // A hot set that fits: the sampled probes start hitting and the tier serves every read again.
  for (int round = 0; round < 40 * static_cast<int>(kCacheBypassRatio); ++round) {
    for (int i = 0; i < 64; ++i) REQUIRE(value_of(*db, "k" + std::to_string(i)) == "value");
  }
  const auto before = db->stats();
  for (int i = 0; i < 64; ++i) REQUIRE(value_of(*db, "k" + std::to_string(i)) == "value");
  const auto after = db->stats();
  CHECK(after.cache.hits - before.cache.hits == 64);
}
