// Histogram and LatencySampler (src/util/histogram.hpp): bucket bounds, quantile error, concurrent counts.
#include "util/histogram.hpp"

#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>
#include <thread>
#include <vector>

using mantis::detail::Histogram;
using mantis::detail::LatencySampler;

TEST_CASE("every value falls in the bucket whose bounds hold it, within 1/8 of its lower bound", "[histogram]") {
  std::vector<std::uint64_t> values;
  for (std::uint64_t v = 0; v < 5000; ++v) values.push_back(v);
  for (int shift = 12; shift < 64; ++shift) {
    const std::uint64_t base = std::uint64_t{1} << shift;
    values.insert(values.end(), {base - 1, base, base + 1, base + base / 3, base + base / 2 + 7});
  }
  values.push_back(std::numeric_limits<std::uint64_t>::max());
  for (const std::uint64_t v : values) {
    INFO(v);
    const std::size_t bucket = Histogram::bucket_of(v);
    REQUIRE(bucket < Histogram::kBuckets);
    CHECK(Histogram::lower_bound(bucket) <= v);
    if (bucket + 1 < Histogram::kBuckets) {
      CHECK(v < Histogram::lower_bound(bucket + 1));
      const std::uint64_t width = Histogram::lower_bound(bucket + 1) - Histogram::lower_bound(bucket);
      CHECK(width * 8 <= std::max<std::uint64_t>(8, Histogram::lower_bound(bucket)));
    }
  }
  CHECK(Histogram::bucket_of(std::numeric_limits<std::uint64_t>::max()) == Histogram::kBuckets - 1);
}

TEST_CASE("quantiles of a known distribution are within 6.25% and the maximum is exact", "[histogram]") {
  Histogram h;
  CHECK(h.summary().count == 0);
  CHECK(h.summary().p99 == 0);
  for (std::uint64_t v = 1; v <= 100000; ++v) h.record(v);
  const Histogram::Summary s = h.summary();
  CHECK(s.count == 100000);
  CHECK(s.sum == std::uint64_t{100000} * 100001 / 2);
  CHECK(s.max == 100000);
  auto near = [](std::uint64_t got, double want) { return got >= want * 0.9375 && got <= want * 1.0625; };
  CHECK(near(s.p50, 50000));
  CHECK(near(s.p90, 90000));
  CHECK(near(s.p99, 99000));
  CHECK(near(s.p999, 99900));
  CHECK(s.p50 <= s.p90);
  CHECK(s.p99 <= s.p999);
  CHECK(s.p999 <= s.max);

  Histogram small;  // exact below 16
  for (std::uint64_t v : {3, 3, 3, 7}) small.record(v);
  CHECK(small.summary().p50 == 3);
  CHECK(small.summary().p999 == 7);
}

TEST_CASE("concurrent records are all counted", "[histogram][threads]") {
  Histogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (std::uint64_t i = 0; i < 50000; ++i) h.record(i * (t + 1));
    });
  }
  for (std::thread& thread : threads) thread.join();
  CHECK(h.summary().count == 200000);
  CHECK(h.summary().max == 49999 * 4);
}

TEST_CASE("the sampler times about one operation in kSampleEvery, without aliasing", "[histogram]") {
  // Two samplers alternating on one thread (a put, then a get) are each sampled at the same rate.
  Histogram first;
  Histogram second;
  const std::uint32_t rounds = LatencySampler::kSampleEvery * 400;
  for (std::uint32_t i = 0; i < rounds; ++i) {
    { const LatencySampler timed(first); }
    { const LatencySampler timed(second); }
  }
  // 400 expected each; a binomial's standard deviation is about 20.
  CHECK(first.summary().count > 300);
  CHECK(first.summary().count < 500);
  CHECK(second.summary().count > 300);
  CHECK(second.summary().count < 500);
}
