#include <mantis/cache.hpp>

#include <new>

#include "cache/sharded_cache.hpp"
#include "util/clock.hpp"
#include "util/memory.hpp"

namespace mantis {

namespace {
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
}  // namespace

Cache::Cache(const CacheOptions& options) : Cache(options, detail::SystemClock::instance()) {}
Cache::Cache(const CacheOptions& options, const detail::Clock& clock) : impl_(new_sharded_cache(options, clock)) {}
Cache::~Cache() {
  impl_->~ShardedCache();
  detail::deallocate(impl_);
}

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
