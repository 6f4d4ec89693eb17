// HillClimber: tunes the share of a cache's capacity given to W-TinyLFU's admission window, online,
// from the hit ratio it observes.
//
// Design note. A small window suits frequency-skewed traces (the main region, guarded by TinyLFU,
// keeps the popular keys); a large one suits recency-skewed traces (new keys reused soon after they
// arrive must survive long enough to be hit). Which one a workload wants is learnt by hill climbing:
// every sample period (about ten requests per entry held, so that one sample sees the effect of a
// step), compare the period's hit ratio with the previous one; if it did not fall, step the window
// share again in the same direction, else step the other way. Steps start at kInitialStep of the
// capacity and shrink by kStepDecay per sample, so the share settles; a jump of the hit ratio by
// kRestartThreshold or more (the workload changed) restarts with full-size steps.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <mutex>

namespace mantis::detail {

// Thread-safe: window_share() may be read by any thread at any time; observe() may be called by any
// number of threads (one of them at a time does the work, the others return at once). Not copyable.
class HillClimber {
 public:
  static constexpr double kInitialShare = 0.01;
  static constexpr double kInitialStep = 0.0625;
  static constexpr double kStepDecay = 0.98;
  static constexpr double kRestartThreshold = 0.05;

  HillClimber() = default;
  HillClimber(const HillClimber&) = delete;
  HillClimber& operator=(const HillClimber&) = delete;

  // The window's share of the capacity, in [0, 1].
  double window_share() const noexcept { return share_.load(std::memory_order_relaxed); }
  // How many times the share moved.
  std::uint64_t adjustments() const noexcept { return adjustments_.load(std::memory_order_relaxed); }

  // Takes the cache's running totals of hits and misses; once `period` requests have passed since the
  // last sample, ends the sample and steps the share. Cheap when it is not time yet. Never blocks.
  void observe(std::uint64_t hits, std::uint64_t misses, std::uint64_t period) noexcept {
    std::unique_lock<std::mutex> lock(mutex_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    const std::uint64_t requests = hits + misses - sample_start_hits_ - sample_start_misses_;
    if (requests < std::max<std::uint64_t>(period, 1)) return;
    const double hit_ratio = static_cast<double>(hits - sample_start_hits_) / static_cast<double>(requests);
    sample_start_hits_ = hits;
    sample_start_misses_ = misses;
    if (has_previous_) {
      const double change = hit_ratio - previous_hit_ratio_;
      if (change < 0) direction_ = -direction_;
      step_ = std::abs(change) >= kRestartThreshold ? kInitialStep : step_ * kStepDecay;
    }
    has_previous_ = true;
    previous_hit_ratio_ = hit_ratio;
    const double current = share_.load(std::memory_order_relaxed);
    const double next = std::clamp(current + direction_ * step_, 0.0, 1.0);
    if (next != current) {
      // Relaxed: the share is a tuning knob; a shard that reads the old value for a while is harmless.
      share_.store(next, std::memory_order_relaxed);
      adjustments_.fetch_add(1, std::memory_order_relaxed);
    }
  }

 private:
  std::atomic<double> share_{kInitialShare};
  std::atomic<std::uint64_t> adjustments_{0};

  // Guarded by mutex_.
  std::mutex mutex_;
  std::uint64_t sample_start_hits_ = 0;
  std::uint64_t sample_start_misses_ = 0;
  bool has_previous_ = false;
  double previous_hit_ratio_ = 0;
  double direction_ = 1;
  double step_ = kInitialStep;
};

}  // namespace mantis::detail
