#include "engine/cache_tier.hpp"

namespace mantis::detail {

CacheTier::CacheTier(const Options& options, const Clock& clock) {
  if (options.cache_capacity == 0) return;
  CacheOptions cache_options;
  cache_options.capacity = options.cache_capacity;
  cache_options.admission = options.cache_admission;
  cache_ = std::make_unique<ShardedCache>(cache_options, clock);
  doorkeeper_ = std::make_unique<Doorkeeper>(options.cache_capacity / kCacheEntryEstimate);
  stripes_ = std::make_unique<Stripe[]>(kStripes);
}

CacheTier::WriteWindowAll::WriteWindowAll(const CacheTier& tier) noexcept : tier_(tier) {
  if (!tier_.cache_) return;
  for (std::size_t i = 0; i < kStripes; ++i) tier_.stripes_[i].word.fetch_add(1, std::memory_order_seq_cst);
}

CacheTier::WriteWindowAll::~WriteWindowAll() {
  if (!tier_.cache_) return;
  for (std::size_t i = 0; i < kStripes; ++i) {
    tier_.stripes_[i].word.fetch_add(kGeneration - 1, std::memory_order_seq_cst);
  }
}

std::uint64_t CacheTier::next_id() noexcept {
  static std::atomic<std::uint64_t> last{0};
  return last.fetch_add(1, std::memory_order_relaxed) + 1;
}

void CacheTier::erase(std::string_view key) {
  if (cache_) cache_->erase(key);
}

void CacheTier::clear() noexcept {
  if (cache_) cache_->clear();
}

void CacheTier::report(Stats& stats) const {
  if (!cache_) return;
  const CacheStats cache = cache_->stats();
  stats.cache.capacity = cache_->capacity();
  stats.cache.charge = cache_->charge();
  stats.cache.entries = cache_->entries();
  stats.cache.hits = cache.hits;
  stats.cache.misses = cache.misses;
  stats.cache.inserts = cache.inserts;
  stats.cache.evictions = cache.evictions;
  stats.cache.hit_ratio = cache.hit_ratio;
  stats.cache.admission_rejections = cache.admission_rejections;
  stats.cache.window_capacity = cache.window_capacity;
  stats.cache.window_entries = cache.window_entries;
  stats.cache.probation_entries = cache.probation_entries;
  stats.cache.protected_entries = cache.protected_entries;
  stats.cache.window_adjustments = cache.window_adjustments;
}

}  // namespace mantis::detail
