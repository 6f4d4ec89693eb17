// Tests of mantis::Cache (the standalone cache) and its engine, detail::ShardedCache.
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include <mantis/cache.hpp>
#include "cache/cache_testing.hpp"
#include "cache/sharded_cache.hpp"
#include "manual_clock.hpp"

namespace {

using mantis::Admission;
using mantis::Cache;
using mantis::CacheOptions;
using mantis::ValueView;
using namespace std::chrono_literals;

constexpr std::size_t charge_of(std::string_view key, std::string_view value) {
  return key.size() + value.size() + Cache::kEntryOverhead;
}

CacheOptions one_shard(std::size_t capacity, Admission admission = Admission::kAlways) {
  CacheOptions options;
  options.capacity = capacity;
  options.shard_bits = 0;
  options.admission = admission;
  return options;
}

// Opens a cache the test owns; fails the test if open does.
std::unique_ptr<Cache> open_cache(const CacheOptions& options) {
  std::unique_ptr<Cache> cache;
  const mantis::Status s = Cache::open(options, &cache);
  INFO(s.to_string());
  REQUIRE(s.ok());
  return cache;
}

bool present(Cache& cache, std::string_view key) {
  std::string value;
  return cache.get(key, &value).ok();
}

std::string value_for(std::string_view key, std::size_t size) {
  std::string value(key);
  value.resize(std::max(size, key.size()), '#');
  return value;
}

}  // namespace

TEST_CASE("a recently read entry survives; the least recently used one is evicted", "[cache]") {
  const auto cache_owner = open_cache(one_shard(2 * charge_of("k1", "v1")));
  Cache& cache = *cache_owner;
  REQUIRE(cache.put("k1", "v1").ok());
  REQUIRE(cache.put("k2", "v2").ok());
  REQUIRE(present(cache, "k1"));
  REQUIRE(cache.put("k3", "v3").ok());
  CHECK(present(cache, "k1"));
  CHECK(present(cache, "k3"));
  CHECK_FALSE(present(cache, "k2"));
  CHECK(cache.entries() == 2);
  CHECK(cache.charge() == 2 * charge_of("k1", "v1"));
  CHECK(cache.stats().evictions == 1);
}

TEST_CASE("without reads, eviction follows insertion order", "[cache]") {
  const auto cache_owner = open_cache(one_shard(3 * charge_of("k1", "v1")));
  Cache& cache = *cache_owner;
  for (const char* key : {"k1", "k2", "k3", "k4", "k5"}) REQUIRE(cache.put(key, "vv").ok());
  CHECK_FALSE(present(cache, "k1"));
  CHECK_FALSE(present(cache, "k2"));
  CHECK(present(cache, "k3"));
  CHECK(present(cache, "k4"));
  CHECK(present(cache, "k5"));
}

TEST_CASE("get copies, overwrite replaces, views are pinned", "[cache]") {
  const auto cache_owner = open_cache(CacheOptions{});
  Cache& cache = *cache_owner;
  std::string value;
  CHECK(cache.get("missing", &value).is_not_found());
  REQUIRE(cache.put("key", "first").ok());
  REQUIRE(cache.get("key", &value).ok());
  CHECK(value == "first");

  ValueView view;
  REQUIRE(cache.get("key", &view).ok());
  CHECK(view.pinned());
  CHECK(view.data() == "first");
  REQUIRE(cache.put("key", "second").ok());
  CHECK(view.data() == "first");
  REQUIRE(cache.get("key", &value).ok());
  CHECK(value == "second");
  CHECK(cache.entries() == 1);
  CHECK(cache.charge() == charge_of("key", "second"));

  CHECK(cache.get("missing", &view).is_not_found());
  CHECK_FALSE(view.pinned());

  std::string empty_key_value;
  REQUIRE(cache.put("", "").ok());
  REQUIRE(cache.get("", &empty_key_value).ok());
  CHECK(empty_key_value.empty());
}

TEST_CASE("a view outlives eviction, erase, clear and the cache itself", "[cache]") {
  ValueView evicted;
  ValueView erased;
  ValueView cleared;
  {
    const auto cache_owner = open_cache(one_shard(2 * charge_of("k1", "value-1")));
    Cache& cache = *cache_owner;
    REQUIRE(cache.put("k1", "value-1").ok());
    REQUIRE(cache.get("k1", &evicted).ok());
    REQUIRE(cache.put("k2", "value-2").ok());
    REQUIRE(cache.put("k3", "value-3").ok());
    REQUIRE(cache.put("k4", "value-4").ok());
    REQUIRE_FALSE(present(cache, "k1"));
    REQUIRE(cache.get("k3", &erased).ok());
    REQUIRE(cache.erase("k3"));
    REQUIRE(cache.get("k4", &cleared).ok());
    cache.clear();
  }
  CHECK(evicted.data() == "value-1");
  CHECK(erased.data() == "value-3");
  CHECK(cleared.data() == "value-4");
}

TEST_CASE("TTL: an entry is invisible from the millisecond it expires", "[cache][ttl]") {
  mantis::test::ManualClock clock;
  auto cache = mantis::detail::CacheTesting::make(one_shard(1 << 20), clock);
  REQUIRE(cache->put("short", "v", 100ms).ok());
  REQUIRE(cache->put("forever", "v").ok());
  CHECK(cache->put("bad", "v", -1ms).is_invalid_argument());
  CHECK_FALSE(present(*cache, "bad"));

  clock.advance(99);
  CHECK(present(*cache, "short"));
  clock.advance(1);
  std::string value;
  CHECK(cache->get("short", &value).is_not_found());
  ValueView view;
  CHECK(cache->get("short", &view).is_not_found());
  CHECK(present(*cache, "forever"));
  // The expired read removed the entry (the shard mutex was free).
  CHECK(cache->entries() == 1);
  CHECK(cache->charge() == charge_of("forever", "v"));
  CHECK(cache->stats().expired == 1);

  // A new put of the key starts a new life.
  REQUIRE(cache->put("short", "again", 10ms).ok());
  CHECK(present(*cache, "short"));
  clock.advance(1'000'000);
  CHECK_FALSE(present(*cache, "short"));
  CHECK(present(*cache, "forever"));
}

TEST_CASE("TTL: eviction removes expired entries before live ones", "[cache][ttl]") {
  mantis::test::ManualClock clock;
  auto cache = mantis::detail::CacheTesting::make(one_shard(3 * charge_of("k1", "v1")), clock);
  REQUIRE(cache->put("k1", "v1").ok());
  REQUIRE(cache->put("k2", "v2", 5ms).ok());  // newer than k1, but it will have expired
  REQUIRE(cache->put("k3", "v3").ok());
  clock.advance(5);
  REQUIRE(cache->put("k4", "v4").ok());
  CHECK(present(*cache, "k1"));
  CHECK(present(*cache, "k3"));
  CHECK(present(*cache, "k4"));
  CHECK(cache->stats().expired == 1);
  CHECK(cache->stats().evictions == 0);
}

TEST_CASE("erase, erase_prefix and clear", "[cache]") {
  const auto cache_owner = open_cache(CacheOptions{});
  Cache& cache = *cache_owner;
  for (int i = 0; i < 100; ++i) {
    REQUIRE(cache.put("user:" + std::to_string(i), "u").ok());
    REQUIRE(cache.put("item:" + std::to_string(i), "i").ok());
  }
  REQUIRE(cache.entries() == 200);
  CHECK(cache.erase("user:7"));
  CHECK_FALSE(cache.erase("user:7"));
  CHECK_FALSE(present(cache, "user:7"));
  CHECK(cache.erase_prefix("user:") == 99);
  CHECK(cache.entries() == 100);
  CHECK_FALSE(present(cache, "user:42"));
  CHECK(present(cache, "item:42"));
  CHECK(cache.erase_prefix("nothing") == 0);
  std::size_t expected_charge = 0;
  for (int i = 0; i < 100; ++i) expected_charge += charge_of("item:" + std::to_string(i), "i");
  CHECK(cache.charge() == expected_charge);

  cache.clear();
  CHECK(cache.entries() == 0);
  CHECK(cache.charge() == 0);
  CHECK_FALSE(present(cache, "item:42"));
  REQUIRE(cache.put("item:42", "again").ok());
  CHECK(present(cache, "item:42"));
  CHECK(cache.erase_prefix("") == 1);
}

TEST_CASE("stats count hits, misses, inserts, evictions", "[cache]") {
  const auto cache_owner = open_cache(one_shard(2 * charge_of("k1", "v1")));
  Cache& cache = *cache_owner;
  REQUIRE(cache.put("k1", "v1").ok());
  REQUIRE(cache.put("k1", "v1").ok());
  REQUIRE(cache.put("k2", "v2").ok());
  REQUIRE(cache.put("k3", "v3").ok());
  CHECK(present(cache, "k3"));
  CHECK(present(cache, "k2"));
  CHECK_FALSE(present(cache, "k1"));
  CHECK_FALSE(present(cache, "zz"));
  const mantis::CacheStats stats = cache.stats();
  CHECK(stats.inserts == 4);
  CHECK(stats.evictions == 1);
  CHECK(stats.hits == 2);
  CHECK(stats.misses == 2);
  CHECK(stats.expired == 0);
  CHECK(stats.hit_ratio == Approx(0.5));
  CHECK(open_cache(CacheOptions{})->stats().hit_ratio == 0.0);
}

TEST_CASE("an entry larger than a shard is refused and changes nothing", "[cache]") {
  const std::size_t capacity = 4 * charge_of("k1", "v1");
  const auto cache_owner = open_cache(one_shard(capacity));
  Cache& cache = *cache_owner;
  REQUIRE(cache.put("k1", "v1").ok());
  REQUIRE(cache.put("k2", "v2").ok());
  const std::string huge(capacity, 'x');
  CHECK(cache.put("k1", huge).is_invalid_argument());
  CHECK(cache.put("big", huge).is_invalid_argument());
  std::string value;
  REQUIRE(cache.get("k1", &value).ok());
  CHECK(value == "v1");
  CHECK(present(cache, "k2"));
  CHECK(cache.entries() == 2);
  CHECK(cache.charge() == 2 * charge_of("k1", "v1"));
  CHECK(cache.stats().evictions == 0);
  CHECK(cache.stats().inserts == 2);

  // Exactly a shard's capacity fits, evicting everything else.
  const std::string fits(capacity - Cache::kEntryOverhead - 3, 'y');
  REQUIRE(cache.put("fit", fits).ok());
  CHECK(cache.entries() == 1);
  CHECK(cache.charge() == capacity);

  const auto empty_owner = open_cache(one_shard(0));

  Cache& empty = *empty_owner;
  CHECK(empty.put("k", "v").is_invalid_argument());
}

TEST_CASE("automatic sharding and shard capacities", "[cache]") {
  CacheOptions options;
  options.capacity = 64u << 20;
  mantis::detail::SystemClock clock;
  mantis::detail::ShardedCache automatic(options, clock);
  CHECK(automatic.shard_count() >= 1);
  CHECK(automatic.shard_count() <= 256);
  options.capacity = 1000;
  mantis::detail::ShardedCache tiny(options, clock);
  CHECK(tiny.shard_count() == 1);
  options.shard_bits = 3;
  mantis::detail::ShardedCache eight(options, clock);
  CHECK(eight.shard_count() == 8);
  CHECK(eight.shard_capacity_for("any") == 125);
  options.shard_bits = 40;
  options.capacity = 1u << 30;
  mantis::detail::ShardedCache clamped(options, clock);
  CHECK(clamped.shard_count() == std::size_t{1} << mantis::detail::ShardedCache::kMaxShardBits);
}

TEST_CASE("sampled eviction keeps recently read entries", "[cache]") {
  constexpr int kEntries = 1000;
  const auto cache_owner = open_cache(one_shard(kEntries * charge_of("key-0000", "value-0000")));
  Cache& cache = *cache_owner;
  auto key = [](int i) {
    std::string k = "key-" + std::to_string(10000 + i).substr(1);
    return k;
  };
  for (int i = 0; i < kEntries; ++i) REQUIRE(cache.put(key(i), "value-0000").ok());
  // Read the older half: only the access stamps make it the more recent half now.
  for (int i = 0; i < kEntries / 2; ++i) REQUIRE(present(cache, key(i)));
  for (int i = kEntries; i < kEntries + kEntries / 2; ++i) REQUIRE(cache.put(key(i), "value-0000").ok());
  int recent_kept = 0;
  for (int i = 0; i < kEntries / 2; ++i) recent_kept += present(cache, key(i)) ? 1 : 0;
  // Exact LRU keeps all 500 and random eviction about a third; the sampled approximation keeps most.
  CHECK(recent_kept >= 400);
}

TEST_CASE("TinyLFU admission beats LRU on a loop larger than the cache", "[cache][tinylfu]") {
  constexpr int kKeys = 2000;
  auto hit_ratio = [](Admission admission) {
    const auto cache_owner = open_cache(one_shard(kKeys / 2 * charge_of("key-00000", "v"), admission));
    Cache& cache = *cache_owner;
    std::string value;
    for (int pass = 0; pass < 20; ++pass) {
      for (int i = 0; i < kKeys; ++i) {
        const std::string key = "key-" + std::to_string(100000 + i).substr(1);
        if (!cache.get(key, &value).ok()) REQUIRE(cache.put(key, "v").ok());
      }
    }
    return cache.stats().hit_ratio;
  };
  const double lru = hit_ratio(Admission::kAlways);
  const double tiny_lfu = hit_ratio(Admission::kTinyLfu);
  INFO("lru " << lru << ", tinylfu " << tiny_lfu);
  CHECK(tiny_lfu >= 0.40);
  CHECK(tiny_lfu > lru);
}

namespace {

std::string loop_key(int i) { return "key-" + std::to_string(100000 + i).substr(1); }

// Replays get, then put on a miss; returns the hit ratio of the replay.
double replay(Cache& cache, const std::vector<int>& trace) {
  std::string value;
  std::size_t hits = 0;
  for (int id : trace) {
    const std::string key = loop_key(id);
    if (cache.get(key, &value).ok()) {
      ++hits;
    } else {
      REQUIRE(cache.put(key, "v").ok());
    }
  }
  return static_cast<double>(hits) / static_cast<double>(trace.size());
}

std::vector<int> loop_trace(int keys, int passes) {
  std::vector<int> trace;
  for (int pass = 0; pass < passes; ++pass) {
    for (int i = 0; i < keys; ++i) trace.push_back(i);
  }
  return trace;
}

// Mostly new keys (60%), the others repeats of a key requested at most 2000 requests earlier: only
// recency predicts hits here.
std::vector<int> recency_trace(int length) {
  std::mt19937_64 random(11);
  std::vector<int> trace;
  int next_new = 0;
  for (int i = 0; i < length; ++i) {
    if (i == 0 || random() % 10 < 6) {
      trace.push_back(next_new++);
    } else {
      trace.push_back(trace[static_cast<std::size_t>(i) - 1 - random() % std::min<std::uint64_t>(2000, i)]);
    }
  }
  return trace;
}

}  // namespace

TEST_CASE("adaptive W-TinyLFU beats LRU on a loop larger than the cache", "[cache][adaptive]") {
  const std::size_t capacity = 1000 * charge_of(loop_key(0), "v");
  const std::vector<int> trace = loop_trace(2000, 20);
  const auto lru_owner = open_cache(one_shard(capacity, Admission::kAlways));
  Cache& lru = *lru_owner;
  const auto adaptive_owner = open_cache(one_shard(capacity, Admission::kAdaptive));
  Cache& adaptive = *adaptive_owner;
  const double lru_ratio = replay(lru, trace);
  const double adaptive_ratio = replay(adaptive, trace);
  INFO("lru " << lru_ratio << ", adaptive " << adaptive_ratio);
  // OPT is 0.5 minus the first pass's misses; LRU hits nothing.
  CHECK(lru_ratio < 0.01);
  CHECK(adaptive_ratio >= 0.40);
  const mantis::CacheStats stats = adaptive.stats();
  CHECK(stats.admission_rejections > 0);
  CHECK(stats.window_entries + stats.probation_entries + stats.protected_entries == adaptive.entries());
  CHECK(stats.protected_entries > 0);            // the loop's resident keys were hit while on probation
  CHECK(stats.window_capacity < capacity / 10);  // a loop wants a small window (ghost hits on main's victims)
}

TEST_CASE("the default policy is adaptive W-TinyLFU", "[cache][adaptive]") {
  CHECK(CacheOptions{}.admission == Admission::kAdaptive);
  const auto cache_owner = open_cache(CacheOptions{.capacity = 1 << 20, .shard_bits = 0});
  CHECK(cache_owner->stats().window_capacity == (1u << 20) / 100);  // only kAdaptive has a window
}

TEST_CASE("a loop keeps its resident keys through the sketch's halvings", "[cache][adaptive]") {
  // 1011 keys in a loop, room for 250: OPT keeps 249 keys resident (24.7% of requests hit). Every key
  // is equally frequent, but each halving of the sketch leaves the keys counted since it one count
  // ahead; unless a victim with an estimate of 2 or more must be beaten by 2, candidates displace
  // entries just before their next hit (22-23.8% measured without the margin, 24.4% with it).
  const std::size_t capacity = 250 * charge_of(loop_key(0), "v");
  const auto cache_owner = open_cache(one_shard(capacity, Admission::kAdaptive));
  const double ratio = replay(*cache_owner, loop_trace(1011, 200));
  INFO("hit ratio " << ratio);
  CHECK(ratio >= 0.240);
}

TEST_CASE("the main victim is the least frequent of probation's oldest entries", "[cache][adaptive]") {
  // Probation's oldest entry was put 7 times, the entries behind it once each. A window candidate put 4
  // times must lose to the oldest entry but beat the others: it displaces one of them, and the frequent
  // entry stays. Evicting probation's oldest regardless would have rejected the candidate instead.
  // Several key sets, so that the sampled pool is seen from several slot layouts.
  for (int set = 0; set < 8; ++set) {
    auto key = [set](std::string_view name) { return std::string(name) + "-" + std::to_string(set); };
    const std::size_t capacity = 20 * charge_of(key("r00"), "v");
    const auto cache_owner = open_cache(one_shard(capacity, Admission::kAdaptive));
    Cache& cache = *cache_owner;
    auto put_times = [&cache](const std::string& name, int times) {
      for (int i = 1; i < times; ++i) {
        REQUIRE(cache.put(name, "v").ok());
        REQUIRE(cache.erase(name));
      }
      REQUIRE(cache.put(name, "v").ok());
    };
    put_times(key("f00"), 7);  // the window holds only the newest entry: each put moves the previous one on
    for (int i = 1; i <= 18; ++i) put_times(key("r" + std::string(i < 10 ? "0" : "") + std::to_string(i)), 1);
    put_times(key("c00"), 4);
    REQUIRE(cache.entries() == 20);
    REQUIRE(cache.stats().evictions == 0);
    put_times(key("n00"), 1);  // moves c00, the candidate, out of the window
    INFO("key set " << set);
    CHECK(present(cache, key("f00")));
    CHECK(present(cache, key("c00")));
    CHECK(cache.stats().admission_rejections == 0);
  }
}

TEST_CASE("ghost hits grow the window on a recency-skewed trace, within a point of LRU", "[cache][adaptive]") {
  const std::size_t capacity = 1000 * charge_of(loop_key(0), "v");
  const auto cache_owner = open_cache(one_shard(capacity, Admission::kAdaptive));
  Cache& cache = *cache_owner;
  CHECK(cache.stats().window_capacity == capacity / 100);  // it starts at 1% of the capacity
  // Short: the window must grow within a few hundred requests per entry, not after most of the trace.
  const std::vector<int> trace = recency_trace(100'000);
  const double adaptive_ratio = replay(cache, trace);
  const auto lru_owner = open_cache(one_shard(capacity, Admission::kAlways));
  Cache& lru = *lru_owner;
  const double lru_ratio = replay(lru, trace);
  const mantis::CacheStats stats = cache.stats();
  INFO("adaptive " << adaptive_ratio << ", lru " << lru_ratio << ", window " << stats.window_capacity << " of "
                   << capacity << " after " << stats.window_adjustments << " adjustments");
  CHECK(stats.window_adjustments >= 10);
  // Started at 1% of the capacity; a recency trace is served best by a window of nearly all of it.
  CHECK(stats.window_capacity > capacity / 2);
  CHECK(adaptive_ratio >= lru_ratio - 0.01);
}

TEST_CASE("segment and admission stats of every policy", "[cache][adaptive]") {
  const std::size_t capacity = 100 * charge_of(loop_key(0), "v");
  for (const Admission admission : {Admission::kAlways, Admission::kTinyLfu, Admission::kAdaptive}) {
    const auto cache_owner = open_cache(one_shard(capacity, admission));
    Cache& cache = *cache_owner;
    (void)replay(cache, loop_trace(300, 5));
    const mantis::CacheStats stats = cache.stats();
    INFO("admission " << static_cast<int>(admission));
    CHECK(stats.window_entries + stats.probation_entries + stats.protected_entries == cache.entries());
    CHECK(cache.entries() > 90);
    if (admission == Admission::kAdaptive) {
      CHECK(stats.window_entries >= 1);  // a new key enters the window even when its budget shrank to nothing
    } else {
      CHECK(stats.probation_entries == cache.entries());
      CHECK(stats.window_capacity == 0);
      CHECK(stats.window_adjustments == 0);
    }
    CHECK((stats.admission_rejections > 0) == (admission != Admission::kAlways));
    // Replacing and erasing keep the books: each entry is counted in exactly one segment.
    for (int i = 0; i < 300; i += 3) (void)cache.put(loop_key(i), "longer value");
    for (int i = 1; i < 300; i += 3) (void)cache.erase(loop_key(i));
    const mantis::CacheStats after = cache.stats();
    CHECK(after.window_entries + after.probation_entries + after.protected_entries == cache.entries());
    cache.clear();
    const mantis::CacheStats cleared = cache.stats();
    CHECK(cleared.window_entries + cleared.probation_entries + cleared.protected_entries == 0);
  }
}

TEST_CASE("the pool's least frequent member, each estimate read once and halved with the sketch", "[cache][adaptive]") {
  using mantis::detail::CacheEntry;
  using mantis::detail::EvictionPool;
  std::vector<CacheEntry*> entries;
  for (int i = 0; i < 4; ++i) {
    entries.push_back(CacheEntry::create("key" + std::to_string(i), "v", 0, 0));
    REQUIRE(entries.back() != nullptr);
    entries.back()->set_stamp_unreferenced(10 + static_cast<std::uint64_t>(i));  // entries[0] is the oldest
  }
  const std::vector<unsigned> frequency = {5, 2, 2, 1};
  int reads = 0;
  auto estimate = [&](const CacheEntry& entry) {
    ++reads;
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (entries[i] == &entry) return frequency[i];
    }
    FAIL("not a pool member");
    return 0u;
  };
  EvictionPool pool;
  for (int i = 0; i < 3; ++i) pool.offer(entries[static_cast<std::size_t>(i)]);
  // 1 and 2 tie at 2: the older one.
  CHECK(pool.least_frequent(nullptr, 0, estimate) == entries[1]);
  CHECK(reads == 3);
  CHECK(pool.least_frequent(entries[1], 0, estimate) == entries[2]);  // never `exclude`
  entries[2]->set_stamp(20);                                          // hit: referenced, skipped
  CHECK(pool.least_frequent(entries[1], 0, estimate) == entries[0]);
  CHECK(reads == 3);  // remembered
  // After two halvings, 0's remembered 5 counts as 1: older than 3, which is read as 1 now.
  pool.offer(entries[3]);
  CHECK(pool.least_frequent(entries[1], 2, estimate) == entries[0]);
  CHECK(reads == 4);
  pool.remove(entries[0]);
  CHECK(pool.least_frequent(entries[1], 2, estimate) == entries[3]);
  for (CacheEntry* entry : entries) CacheEntry::unref(entry);
}

TEST_CASE("a ghost forgets keys evicted more than twice its size ago", "[cache][adaptive]") {
  // Ghosts place a key by its hash's low 32 bits and fingerprint it by bits 32..47: `remembered` lands
  // in slot 0, `other` in slot 32, so only age, never an overwrite, can make `remembered` forgotten.
  constexpr std::size_t kSize = 64;
  constexpr std::uint64_t remembered = std::uint64_t{0x1234} << 32;
  constexpr std::uint64_t other = std::uint64_t{0x5678} << 32 | 0x80000000u;
  auto evict_others = [](mantis::detail::Ghosts& ghosts, mantis::detail::Ghost route, int count) {
    for (int i = 0; i < count; ++i) ghosts.remember(route, other);
  };
  using mantis::detail::Ghost;
  mantis::detail::Ghosts ghosts(kSize);
  ghosts.remember(Ghost::kWindow, remembered);
  evict_others(ghosts, Ghost::kWindow, static_cast<int>(kSize));
  CHECK(ghosts.take(remembered) == Ghost::kWindow);  // within its size: a ghost hit
  CHECK(ghosts.take(remembered) == Ghost::kNone);    // counted once

  ghosts.remember(Ghost::kWindow, remembered);
  evict_others(ghosts, Ghost::kMain, static_cast<int>(4 * kSize));  // the other route's evictions age nothing
  evict_others(ghosts, Ghost::kWindow, static_cast<int>(3 * kSize));
  CHECK(ghosts.take(remembered) == Ghost::kNone);  // three sizes ago: too late to be a hit a larger window had

  // Epochs (one per size/8 evictions) are 16 bits and wrap: ages are taken modulo 2^16.
  mantis::detail::Ghosts wrapping(kSize);
  evict_others(wrapping, Ghost::kMain, 65'535 * static_cast<int>(kSize / 8));  // the last epoch before 0
  wrapping.remember(Ghost::kMain, remembered);
  evict_others(wrapping, Ghost::kMain, static_cast<int>(kSize));
  CHECK(wrapping.take(remembered) == Ghost::kMain);
}

namespace {

// Writers put random keys with random value sizes into a small, many-shard cache while a monitor checks
// that the charge never exceeds the capacity by more than one maximum entry per shard.
void insert_storm(int writer_count) {
  constexpr std::size_t kMaxValue = 300;
  CacheOptions options;
  options.capacity = 256 << 10;
  options.shard_bits = 4;
  const auto cache_owner = open_cache(options);
  Cache& cache = *cache_owner;
  const std::size_t max_entry = charge_of("key-000000", std::string(kMaxValue, 'v'));
  const std::size_t bound = options.capacity + (std::size_t{1} << options.shard_bits) * max_entry;
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> worst{0};
  std::thread monitor([&] {
    while (!stop.load()) worst.store(std::max(worst.load(), cache.charge()));
  });
  std::vector<std::thread> writers;
  const auto deadline = std::chrono::steady_clock::now() + 600ms;
  for (int w = 0; w < writer_count; ++w) {
    writers.emplace_back([&, w] {
      std::mt19937_64 random(static_cast<std::uint64_t>(w) + 1);
      std::string value;
      while (std::chrono::steady_clock::now() < deadline) {
        for (int i = 0; i < 64; ++i) {
          const std::string key = "key-" + std::to_string(1000000 + random() % 100000).substr(1);
          value.assign(random() % kMaxValue + 1, 'v');
          REQUIRE(cache.put(key, value).ok());
          if (random() % 4 == 0) (void)present(cache, key);
        }
      }
    });
  }
  for (std::thread& writer : writers) writer.join();
  stop.store(true);
  monitor.join();
  INFO("worst charge " << worst.load() << ", bound " << bound << ", final " << cache.charge());
  CHECK(worst.load() <= bound);
  CHECK(cache.charge() <= cache.capacity());
  CHECK(cache.charge() > cache.capacity() / 2);
  CHECK(cache.stats().evictions > 0);
  // After quiescence the accounting is exact: the entries' charges add up to charge().
  std::size_t entries_found = 0;
  std::string value;
  for (int k = 0; k < 100000; ++k) {
    if (cache.get("key-" + std::to_string(1000000 + k).substr(1), &value).ok()) ++entries_found;
  }
  CHECK(entries_found == cache.entries());
}

}  // namespace

TEST_CASE("2-thread insert storm keeps the charge bound", "[cache][concurrency]") { insert_storm(2); }
TEST_CASE("40-thread insert storm keeps the charge bound", "[cache][concurrency]") { insert_storm(40); }

TEST_CASE("readers keep pinned views valid while writers evict", "[cache][concurrency]") {
  CacheOptions options;
  options.capacity = 32 << 10;
  options.shard_bits = 2;
  const auto cache_owner = open_cache(options);
  Cache& cache = *cache_owner;
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> views_checked{0};
  std::atomic<std::uint64_t> bad_views{0};
  auto key_of = [](std::uint64_t k) { return "key-" + std::to_string(k); };
  std::vector<std::thread> threads;
  for (int w = 0; w < 2; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937_64 random(static_cast<std::uint64_t>(w) + 7);
      while (!stop.load()) {
        const std::string key = key_of(random() % 2000);
        REQUIRE(cache.put(key, value_for(key, 16 + random() % 200)).ok());
        if (random() % 16 == 0) cache.erase(key_of(random() % 2000));
      }
    });
  }
  for (int r = 0; r < 3; ++r) {
    threads.emplace_back([&, r] {
      std::mt19937_64 random(static_cast<std::uint64_t>(r) + 100);
      std::vector<std::pair<std::string, ValueView>> held;
      while (!stop.load()) {
        const std::string key = key_of(random() % 2000);
        ValueView view;
        if (cache.get(key, &view).ok()) held.emplace_back(key, std::move(view));
        if (held.size() == 64) {
          for (auto& [held_key, held_view] : held) {
            const std::string_view data = held_view.data();
            if (!data.starts_with(held_key) || data.find_first_not_of('#', held_key.size()) != std::string_view::npos) {
              bad_views.fetch_add(1);
            }
            views_checked.fetch_add(1);
          }
          held.clear();
        }
      }
    });
  }
  std::this_thread::sleep_for(700ms);
  stop.store(true);
  for (std::thread& thread : threads) thread.join();
  CHECK(views_checked.load() > 0);
  CHECK(bad_views.load() == 0);
  CHECK(cache.charge() <= cache.capacity());
  CHECK(cache.stats().evictions > 0);
}

TEST_CASE("Cache::open refuses bad options with InvalidArgument and creates nothing", "[cache][options]") {
  std::unique_ptr<Cache> cache;
  CacheOptions bad_shards;
  bad_shards.shard_bits = -2;
  mantis::Status s = Cache::open(bad_shards, &cache);
  CHECK(s.is_invalid_argument());
  CHECK(s.to_string() == "InvalidArgument: CacheOptions::shard_bits must be -1 (automatic) or >= 0, got -2");
  CHECK(cache == nullptr);

  CacheOptions bad_admission;
  bad_admission.admission = static_cast<Admission>(7);
  s = Cache::open(bad_admission, &cache);
  CHECK(s.is_invalid_argument());
  CHECK(s.message() == "CacheOptions::admission is not an Admission value");
  CHECK(cache == nullptr);

  CHECK(Cache::open(CacheOptions{}, nullptr).is_invalid_argument());

  // On failure *out is untouched: a cache it already holds stays.
  REQUIRE(Cache::open(one_shard(1 << 20), &cache).ok());
  const Cache* const held = cache.get();
  CHECK(Cache::open(bad_shards, &cache).is_invalid_argument());
  CHECK(cache.get() == held);

  // The edges of shard_bits: automatic, one shard, and more than 16 (taken as 16) are valid.
  for (const int bits : {-1, 0, 40}) {
    CacheOptions options;
    options.shard_bits = bits;
    std::unique_ptr<Cache> opened;
    CHECK(Cache::open(options, &opened).ok());
    CHECK(opened != nullptr);
  }
}
