// The epoch-based reclamation of util/rcu.hpp: what it frees, when, and that no writer waits for a
// reader (the header's G1-G3).
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "store/store.hpp"
#include "util/rcu.hpp"
#include "util/stress_sizes.hpp"

using mantis::detail::rcu_flush_thread;
using mantis::detail::rcu_pending;
using mantis::detail::rcu_retire;
using mantis::detail::RcuReadLock;
using mantis::detail::Record;
using mantis::detail::Store;

namespace {

using namespace std::chrono_literals;

// Objects retired by these tests must outnumber every buffer and threshold of the reclaimer.
constexpr int kFarBeyondAnyBuffer = 200'000;

struct Tracked {
  static constexpr std::uint64_t kAlive = 0x600dcafe;
  std::atomic<std::uint64_t> magic{kAlive};
  std::atomic<bool>* freed;

  static void dispose(void* p) noexcept {
    auto* tracked = static_cast<Tracked*>(p);
    tracked->magic.store(0, std::memory_order_relaxed);
    tracked->freed->store(true, std::memory_order_relaxed);
    delete tracked;
  }
};

// Polls `done` for up to 20 s (sanitizer builds on a loaded machine are slow).
template <class Done>
bool eventually(Done&& done) {
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

std::size_t count_freed(const std::vector<std::atomic<bool>>& freed) {
  std::size_t count = 0;
  for (const auto& flag : freed) count += flag.load(std::memory_order_relaxed) ? 1 : 0;
  return count;
}

// A thread parked inside a read-side critical section until released.
class StoppedReader {
 public:
  StoppedReader()
      : thread_([this] {
          RcuReadLock lock;
          inside_.store(true);
          while (!release_.load()) std::this_thread::sleep_for(1ms);
        }) {
    while (!inside_.load()) std::this_thread::sleep_for(1ms);
  }
  ~StoppedReader() { resume(); }
  void resume() {
    release_.store(true);
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::atomic<bool> inside_{false};
  std::atomic<bool> release_{false};
  std::thread thread_;
};

// Two readers run `section` (one critical section each time) over and over while this thread retires
// far more objects than any buffer holds; checks every one of them is freed meanwhile.
template <class Section>
void reclaim_under_readers(Section&& section) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> readers;
  for (int i = 0; i < 2; ++i) {
    readers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) section();
    });
  }
  std::vector<std::atomic<bool>> freed(kFarBeyondAnyBuffer);
  for (auto& flag : freed) rcu_retire(new Tracked{.freed = &flag}, &Tracked::dispose);
  rcu_flush_thread();
  CHECK(eventually([&] { return count_freed(freed) == freed.size(); }));
  stop.store(true);
  for (auto& reader : readers) reader.join();
}

}  // namespace

TEST_CASE("retired objects are freed, and a thread's partial bag is handed over when it exits", "[rcu]") {
  std::vector<std::atomic<bool>> freed(1000);
  std::thread([&] {
    for (auto& flag : freed) rcu_retire(new Tracked{.freed = &flag}, &Tracked::dispose);
  }).join();
  CHECK(eventually([&] { return count_freed(freed) == freed.size(); }));
}

TEST_CASE("a stopped reader holds back what was retired after it entered, and no writer waits for it", "[rcu]") {
  std::vector<std::atomic<bool>> freed(kFarBeyondAnyBuffer);
  {
    StoppedReader reader;
    // The writer runs far past every bag and the help threshold: each call returns at once.
    for (auto& flag : freed) rcu_retire(new Tracked{.freed = &flag}, &Tracked::dispose);
    rcu_flush_thread();
    CHECK(rcu_pending() >= freed.size());
    std::this_thread::sleep_for(50ms);  // many reclaimer passes
    CHECK(count_freed(freed) == 0);
  }
  CHECK(eventually([&] { return count_freed(freed) == freed.size(); }));
}

TEST_CASE("readers entering and leaving all the time do not stop reclamation", "[rcu]") {
  reclaim_under_readers([] {
    RcuReadLock outer;
    RcuReadLock nested;  // sections nest
  });
}

TEST_CASE("while a section lasts the global epoch stays within one of what it announced (G5)", "[rcu]") {
  // Readers enter and leave all the time while a writer's retirements keep passes advancing the epoch.
  // A section that announced a stale epoch (one a pass had already moved past, unseen) could watch the
  // epoch pass p + 1, and then what an earlier section of its thread held (the store's finger) be freed.
  std::atomic<long> violations{0};
  std::atomic<long> sections{0};
  reclaim_under_readers([&] {
    const RcuReadLock section;
    const std::uint64_t announced = mantis::detail::rcu_section_epoch();
    for (int spin = 0; spin < 64; ++spin) {
      const std::uint64_t now = mantis::detail::rcu_internal::global_epoch.load(std::memory_order_seq_cst);
      if (now < announced || now > announced + 1) violations.fetch_add(1, std::memory_order_relaxed);
    }
    sections.fetch_add(1, std::memory_order_relaxed);
  });
  CHECK(sections.load() > 0);
  CHECK(violations.load() == 0);
}

TEST_CASE("no object is freed while a reader can still hold it", "[rcu]") {
  // Writers swap a shared pointer and retire what they took out; readers check every object they
  // reach is still alive (ASan also catches any use after free).
  std::vector<std::atomic<bool>> freed(kFarBeyondAnyBuffer + 1);
  std::atomic<Tracked*> shared{new Tracked{.freed = &freed.back()}};
  std::atomic<bool> stop{false};
  std::atomic<std::uint64_t> dead_seen{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 2; ++i) {
    readers.emplace_back([&] {
      while (!stop.load(std::memory_order_relaxed)) {
        RcuReadLock lock;
        const Tracked* seen = shared.load(std::memory_order_acquire);
        for (int spin = 0; spin < 16; ++spin) {
          if (seen->magic.load(std::memory_order_relaxed) != Tracked::kAlive) dead_seen.fetch_add(1);
        }
      }
    });
  }
  for (int i = 0; i < kFarBeyondAnyBuffer; ++i) {
    Tracked* old = shared.exchange(new Tracked{.freed = &freed[i]}, std::memory_order_acq_rel);
    rcu_retire(old, &Tracked::dispose);
  }
  stop.store(true);
  for (auto& reader : readers) reader.join();
  rcu_retire(shared.load(), &Tracked::dispose);
  rcu_flush_thread();
  CHECK(dead_seen.load() == 0);
  CHECK(eventually([&] { return count_freed(freed) == freed.size(); }));  // before `freed` goes away
}

TEST_CASE("a store's puts, overwrites and erases complete while a reader is stopped, and memory returns after",
          "[rcu][store]") {
  Store store;
  constexpr int kKeys = 20'000;
  auto key = [](int i) { return "key" + std::to_string(i); };
  for (int i = 0; i < kKeys; ++i)
    REQUIRE(store.put(key(i), Record::create("v0", 0, 1)) == Store::PutOutcome::kInserted);
  const std::uint64_t pending_before = rcu_pending();
  {
    StoppedReader reader;
    // Each round replaces every record (retiring the old one); the last erases every key (retiring
    // nodes and records): ~10 retirements per key, 200,000 in all.
    for (int round = 1; round < 10; ++round) {
      for (int i = 0; i < kKeys; ++i) {
        Record* record = Record::create("v" + std::to_string(round), 0, 1);
        REQUIRE(store.put(key(i), record) == Store::PutOutcome::kReplaced);
      }
    }
    for (int i = 0; i < kKeys; ++i) REQUIRE(store.erase(key(i)));
    CHECK(store.size() == 0);
    rcu_flush_thread();
    CHECK(rcu_pending() >= pending_before + 10 * kKeys);
  }
  CHECK(eventually([&] { return rcu_pending() == 0; }));
}

TEST_CASE("sanitizer builds shrink the reclaimer's bags and the index's shards (stress sizes)", "[rcu]") {
  CHECK(mantis::detail::kStressSizes == static_cast<bool>(MANTIS_TEST_SANITIZED));
  if (mantis::detail::kStressSizes) {
    CHECK(mantis::detail::rcu_internal::kBagCapacity == 4);
    CHECK(mantis::detail::IndexHash::kShards == 4);
  }
}
