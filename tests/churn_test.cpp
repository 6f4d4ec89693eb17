// Memory stays flat under churn: erased and expired keys are physically unlinked and reclaimed.
// Each case runs a warm-up round, measures resident memory, runs several times more work with fresh
// keys, and checks that resident memory did not grow with the work (a leak of even one node or record
// per key would add hundreds of MiB). Sanitizer builds skip the RSS bound (their allocators
// quarantine freed memory) but still run the workload and check the key counts.
#include <catch2/catch.hpp>

#include <string>
#include <thread>
#include <vector>

#include "process_memory.hpp"
#include "test_util.hpp"

using mantis::Options;
using mantis::WriteOptions;
using mantis::support::resident_bytes;
using namespace std::chrono_literals;

namespace {

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kMeasureRss = false;
constexpr int kKeysPerRound = 10000;  // sanitizers run 5-20x slower; the RSS bound is not checked there
#else
constexpr bool kMeasureRss = true;
constexpr int kKeysPerRound = 100000;
#endif

constexpr int kThreads = 2;
constexpr std::size_t kLiveWindow = 2000;  // keys alive at once per thread
const std::string kValue(100, 'v');

// Each thread inserts `rounds * per_round` fresh keys, erasing each one kLiveWindow inserts later.
void erase_churn(mantis::Engine& db, int rounds, int per_round, int& next_round) {
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int r = next_round; r < next_round + rounds; ++r) {
        for (int i = 0; i < per_round; ++i) {
          const std::uint64_t n = static_cast<std::uint64_t>(r) * per_round + i;
          if (!db.put("churn:" + std::to_string(t) + ":" + std::to_string(n), kValue).ok()) std::abort();
          if (n >= kLiveWindow) {
            if (!db.erase("churn:" + std::to_string(t) + ":" + std::to_string(n - kLiveWindow)).ok()) std::abort();
          }
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  next_round += rounds;
}

// Each thread inserts fresh keys with a 1 ms TTL and never erases them: expiry must reclaim them.
void ttl_churn(mantis::Engine& db, int keys_per_thread, int& next_batch) {
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < keys_per_thread; ++i) {
        const std::string key = "ttl:" + std::to_string(next_batch) + ":" + std::to_string(t) + ":" + std::to_string(i);
        if (!db.put(key, kValue, WriteOptions{1ms}).ok()) std::abort();
      }
    });
  }
  for (auto& th : threads) th.join();
  ++next_batch;
}

}  // namespace

TEST_CASE("insert/erase churn of fresh keys keeps resident memory flat", "[churn][memory]") {
  auto db = mantis::test::open_engine();
  int round = 0;
  const int per_round = kKeysPerRound;
  erase_churn(*db, 2, per_round, round);  // warm-up: allocator pages and RCU buffers reach steady state
  const std::size_t before = resident_bytes();
  erase_churn(*db, 10, per_round, round);  // 2M more keys (Release): leaking would cost 300+ MiB
  const std::size_t after = resident_bytes();
  CHECK(db->size() == kThreads * kLiveWindow);
  INFO("RSS before " << before / 1024 << " KiB, after " << after / 1024 << " KiB");
  if (kMeasureRss) CHECK(after < before + (24u << 20));
}

TEST_CASE("TTL churn is reclaimed by the reaper and keeps resident memory flat", "[churn][memory][ttl]") {
  Options options;
  options.reaper_interval = 5ms;
  auto db = mantis::test::open_engine(options);
  int batch = 0;
  auto settle = [&] {
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    while (db->size() > 0 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(5ms);
  };
  for (int i = 0; i < 2; ++i) ttl_churn(*db, kKeysPerRound, batch);
  settle();
  const std::size_t before = resident_bytes();
  for (int i = 0; i < 10; ++i) {
    ttl_churn(*db, kKeysPerRound, batch);
    settle();
  }
  const std::size_t after = resident_bytes();
  CHECK(db->size() == 0);
  CHECK(db->stats().expired == static_cast<std::uint64_t>(12 * kThreads * kKeysPerRound));
  INFO("RSS before " << before / 1024 << " KiB, after " << after / 1024 << " KiB");
  if (kMeasureRss) CHECK(after < before + (24u << 20));
}
