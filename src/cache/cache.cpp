#include <mantis/cache.hpp>

#include <new>
#include <string>

#include "cache/sharded_cache.hpp"
#include "util/clock.hpp"
#include "util/memory.hpp"

namespace mantis {

namespace {

Status validate_options(const CacheOptions& options) {
  if (options.shard_bits < -1) {
    return Status::invalid_argument("CacheOptions::shard_bits must be -1 (automatic) or >= 0, got " +
                                    std::to_string(options.shard_bits));
  }
  switch (options.admission) {
    case Admission::kAlways:
    case Admission::kTinyLfu:
    case Admission::kAdaptive:
      break;
    default:
      return Status::invalid_argument("CacheOptions::admission is not an Admission value");
  }
  return Status::ok_status();
}

// Throws std::bad_alloc when memory runs out.
detail::ShardedCache* new_sharded_cache(const CacheOptions& options, const detail::Clock& clock) {
  void* memory = detail::allocate(sizeof(detail::ShardedCache));
  if (memory == nullptr) throw std::bad_alloc();
  try {
    return new (memory) detail::ShardedCache(options, clock);
  } catch (...) {
    detail::deallocate(memory);
    throw;
  }
}

void delete_sharded_cache(detail::ShardedCache* cache) noexcept {
  cache->~ShardedCache();
  detail::deallocate(cache);
}

}  // namespace

Status Cache::open(const CacheOptions& options, std::unique_ptr<Cache>* out) {
  return open_with(options, detail::SystemClock::instance(), out);
}

Status Cache::open_with(const CacheOptions& options, const detail::Clock& clock, std::unique_ptr<Cache>* out) {
  if (out == nullptr) return Status::invalid_argument("Cache::open: out is null");
  Status s = validate_options(options);
  if (!s.ok()) return s;
  detail::ShardedCache* impl = nullptr;
  try {
    impl = new_sharded_cache(options, clock);
  } catch (const std::bad_alloc&) {
    return Status::resource_exhausted("Cache::open: out of memory");
  }
  Cache* cache = new (std::nothrow) Cache(impl);
  if (cache == nullptr) {
    delete_sharded_cache(impl);
    return Status::resource_exhausted("Cache::open: out of memory");
  }
  out->reset(cache);
  return Status::ok_status();
}

Cache::Cache(detail::ShardedCache* impl) noexcept : impl_(impl) {}
Cache::~Cache() { delete_sharded_cache(impl_); }

Status Cache::put(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) {
  return impl_->put(key, value, ttl);
}
Status Cache::get(std::string_view key, std::string* value) { return impl_->get(key, value); }
Status Cache::get(std::string_view key, ValueView* value) { return impl_->get(key, value); }
bool Cache::erase(std::string_view key) { return impl_->erase(key); }
std::size_t Cache::erase_prefix(std::string_view prefix) { return impl_->erase_prefix(prefix); }
void Cache::clear() { impl_->clear(); }
std::size_t Cache::entries() const { return impl_->entries(); }
std::size_t Cache::charge() const { return impl_->charge(); }
std::size_t Cache::capacity() const { return impl_->capacity(); }
CacheStats Cache::stats() const { return impl_->stats(); }

}  // namespace mantis
