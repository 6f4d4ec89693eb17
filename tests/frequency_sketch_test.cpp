// Tests of detail::FrequencySketch, the TinyLFU counter.
#include <cstdint>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "cache/frequency_sketch.hpp"

using mantis::detail::FrequencySketch;

TEST_CASE("estimates count increments and saturate at 15", "[frequency_sketch]") {
  FrequencySketch sketch(1024, 0x5eed);
  CHECK(sketch.estimate(42) == 0);
  for (int i = 0; i < 5; ++i) sketch.increment(42);
  CHECK(sketch.estimate(42) == 5);
  for (int i = 0; i < 100; ++i) sketch.increment(42);
  CHECK(sketch.estimate(42) == FrequencySketch::kMaxCount);
  // Saturation never carries into a neighbouring counter: other keys stay low.
  int others_high = 0;
  for (std::uint32_t h = 1000; h < 1100; ++h) others_high += sketch.estimate(h) > 1 ? 1 : 0;
  CHECK(others_high == 0);
}

TEST_CASE("a frequent key outranks rare keys", "[frequency_sketch]") {
  FrequencySketch sketch(4096, 0x5eed);
  for (std::uint32_t h = 0; h < 2000; ++h) sketch.increment(h * 2654435761u);
  for (int i = 0; i < 10; ++i) sketch.increment(7);
  CHECK(sketch.estimate(7) >= 10);
  int overestimated = 0;
  for (std::uint32_t h = 0; h < 2000; ++h) overestimated += sketch.estimate(h * 2654435761u) > 2 ? 1 : 0;
  CHECK(overestimated < 20);
}

TEST_CASE("counters are halved after sample_size increments", "[frequency_sketch]") {
  FrequencySketch sketch(64, 0x5eed);
  for (int i = 0; i < 12; ++i) sketch.increment(99);
  REQUIRE(sketch.estimate(99) == 12);
  std::uint32_t filler = 1;
  CHECK(sketch.halvings() == 0);
  for (std::size_t i = 12; i < sketch.sample_size(); ++i) sketch.increment(filler++ * 2654435761u + 5);
  CHECK(sketch.halvings() == 1);
  CHECK(sketch.estimate(99) <= 7);
  CHECK(sketch.estimate(99) >= 5);
}

TEST_CASE("concurrent increments are never torn", "[frequency_sketch][concurrency]") {
  FrequencySketch sketch(1 << 16, 0x5eed);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&sketch] {
      for (int i = 0; i < 10000; ++i) sketch.increment(12345);
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(sketch.estimate(12345) == FrequencySketch::kMaxCount);
  CHECK(sketch.estimate(54321) <= 1);
}

TEST_CASE("the seed decides which keys share counters", "[frequency_sketch]") {
  // Keys never counted that read as counted share all their counters with counted keys; with another
  // seed, other keys do.
  auto overestimated = [](std::uint64_t seed) {
    FrequencySketch sketch(64, seed);
    for (std::uint64_t h = 0; h < 300; ++h) sketch.increment(h);
    std::vector<std::uint64_t> found;
    for (std::uint64_t h = 1000; h < 3000; ++h) {
      if (sketch.estimate(h) > 0) found.push_back(h);
    }
    return found;
  };
  const std::vector<std::uint64_t> first = overestimated(1);
  const std::vector<std::uint64_t> second = overestimated(2);
  REQUIRE(!first.empty());
  REQUIRE(!second.empty());
  CHECK(first != second);
}

TEST_CASE("an increment raises only the key's smallest counters (conservative update)", "[frequency_sketch]") {
  // A sketch far too small for its keys: every counter is shared. Raising all four counters of a key on
  // each increment would let every collision inflate the other keys' estimates; raising only the
  // counters at the key's minimum keeps them close to the true counts (the sketch stays an overestimate).
  FrequencySketch sketch(64, 0x5eed);
  constexpr std::uint64_t kKeys = 200;
  constexpr unsigned kCount = 2;
  for (unsigned round = 0; round < kCount; ++round) {
    for (std::uint64_t h = 0; h < kKeys; ++h) sketch.increment(h * 0x9E3779B97F4A7C15ull);
  }
  REQUIRE(sketch.sample_size() > kKeys * kCount);  // no halving in between
  unsigned excess = 0;
  for (std::uint64_t h = 0; h < kKeys; ++h) {
    const unsigned estimate = sketch.estimate(h * 0x9E3779B97F4A7C15ull);
    REQUIRE(estimate >= kCount);
    excess += estimate - kCount;
  }
  INFO("total overestimate " << excess);
  CHECK(excess < kKeys / 2);
}
