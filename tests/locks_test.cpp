// The locks that sleep on their own futex words (util/futex.hpp): KeyLocks and SpinMutex. Their holders
// here stay in for longer than a waiter spins, so waiters sleep, and the tests check exclusion and that
// every sleeper is woken: a lost wake-up leaves a thread asleep and the test never ends (ctest's
// timeout fails it).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "mvcc/key_locks.hpp"
#include "util/spin_mutex.hpp"

using mantis::detail::KeyLocks;
using mantis::detail::SpinMutex;

namespace {

// Stays inside a critical section long enough, now and then, that the threads waiting for it give up
// spinning and sleep.
void hold(std::mt19937_64& rng) {
  if (rng() % 4 == 0) std::this_thread::sleep_for(std::chrono::microseconds(50 + rng() % 200));
}

constexpr int kThreads = 8;
constexpr int kRounds = 300;

// Runs kThreads threads, each calling round(rng) kRounds times with a generator seeded by `seed` and
// its index, and joins them.
template <class Round>
void run_threads(std::uint64_t seed, Round round) {
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&round, seed, t] {
      std::mt19937_64 rng(seed + t);
      for (int i = 0; i < kRounds; ++i) round(rng);
    });
  }
  for (std::thread& thread : threads) thread.join();
}

}  // namespace

TEST_CASE("key stripes exclude as promised and wake every sleeper: shared, exclusive and waits for a writer",
          "[locks][threads]") {
  KeyLocks locks;
  // Two keys on one stripe would do as well as one; a second stripe checks nothing leaks across.
  const std::string keys[] = {"hot", "other"};
  std::atomic<int> writers[2] = {0, 0};
  std::atomic<int> readers[2] = {0, 0};
  std::atomic<int> violations{0};
  std::atomic<int> waits_for_writer{0};
  run_threads(1, [&](std::mt19937_64& rng) {
    const int k = rng() % 5 == 0 ? 1 : 0;
    switch (rng() % 3) {
      case 0: {
        const KeyLocks::Exclusive lock(locks, keys[k]);
        if (writers[k].fetch_add(1) != 0 || readers[k].load() != 0) ++violations;
        hold(rng);
        writers[k].fetch_sub(1);
        break;
      }
      case 1: {
        const KeyLocks::Shared lock(locks, keys[k]);
        readers[k].fetch_add(1);
        if (writers[k].load() != 0) ++violations;
        hold(rng);
        readers[k].fetch_sub(1);
        break;
      }
      default:
        // K4: returns once no exclusive holder or waiter is left on the stripe.
        if (locks.wait_for(keys[k])) ++waits_for_writer;
        break;
    }
  });
  CHECK(violations.load() == 0);
  CHECK(waits_for_writer.load() > 0);  // the K4 wait did wait, at least once
  // Nothing is left held: a new exclusive locker gets each stripe at once.
  for (const std::string& key : keys) {
    const KeyLocks::Exclusive lock(locks, key);
  }
}

TEST_CASE("a spin mutex excludes and wakes every sleeper when holders outstay the spin", "[locks][threads]") {
  SpinMutex mutex;
  int inside = 0;  // guarded by mutex
  std::atomic<int> violations{0};
  long counter = 0;  // guarded by mutex
  run_threads(100, [&](std::mt19937_64& rng) {
    const std::lock_guard<SpinMutex> lock(mutex);
    if (++inside != 1) ++violations;
    ++counter;
    hold(rng);
    --inside;
  });
  CHECK(violations.load() == 0);
  CHECK(counter == kThreads * kRounds);
}
