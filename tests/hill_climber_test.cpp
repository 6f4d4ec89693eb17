// Tests of detail::HillClimber, the tuner of W-TinyLFU's window share.
#include <cmath>
#include <cstdint>

#include <catch2/catch.hpp>

#include "cache/hill_climber.hpp"

using mantis::detail::HillClimber;

namespace {

// Feeds `samples` periods of `period` requests whose hit ratio is `hit_ratio(share)` at the share the
// climber had when the period began.
template <class HitRatio>
void climb(HillClimber& climber, int samples, HitRatio hit_ratio) {
  constexpr std::uint64_t kPeriod = 10'000;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
  for (int i = 0; i < samples; ++i) {
    const auto period_hits = static_cast<std::uint64_t>(hit_ratio(climber.window_share()) * kPeriod);
    hits += period_hits;
    misses += kPeriod - period_hits;
    climber.observe(hits, misses, kPeriod);
  }
}

}  // namespace

TEST_CASE("the share starts at 1% and moves only once a period has passed", "[hill_climber]") {
  HillClimber climber;
  CHECK(climber.window_share() == HillClimber::kInitialShare);
  climber.observe(10, 10, 100);
  CHECK(climber.window_share() == HillClimber::kInitialShare);
  CHECK(climber.adjustments() == 0);
  climber.observe(50, 50, 100);
  CHECK(climber.window_share() != HillClimber::kInitialShare);
  CHECK(climber.adjustments() == 1);
}

TEST_CASE("the climber finds the window share with the best hit ratio", "[hill_climber]") {
  for (const double best : {0.0, 0.3, 0.7, 1.0}) {
    HillClimber climber;
    climb(climber, 200, [best](double share) { return 0.6 - 0.5 * std::abs(share - best); });
    INFO("best " << best << ", found " << climber.window_share());
    CHECK(std::abs(climber.window_share() - best) < 0.1);
  }
}

TEST_CASE("a change of workload restarts the climb", "[hill_climber]") {
  HillClimber climber;
  climb(climber, 300, [](double share) { return 0.6 - 0.5 * share; });  // frequency-skewed: no window
  REQUIRE(climber.window_share() < 0.1);
  climb(climber, 300, [](double share) { return 0.1 + 0.5 * share; });  // then recency-skewed: all window
  CHECK(climber.window_share() > 0.9);
}
