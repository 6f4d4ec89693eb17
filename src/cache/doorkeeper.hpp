// Doorkeeper: TinyLFU's filter of recently seen keys, used to decide which read misses fill the cache.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>

#include "util/hash.hpp"
#include "util/memory.hpp"

namespace mantis::detail {

// A Bloom filter of the key hashes offered since it was last reset, reset after about `window` offers.
// offer(hash) answers "was this key offered within the current window?" and records it. A key read
// again soon (a hot key) passes on its second miss; keys whose reuse distance exceeds the window
// (sequential passes and uniform reads over more data than the cache holds) never pass, so they
// never make the cache evict what it holds.
//
// Thread-safe and lock-free: bits are set with relaxed fetch_or and the reset clears words with relaxed
// stores, racing harmlessly with concurrent offers (a lost bit or a stale bit only changes whether one
// fill happens, never what any read returns).
class Doorkeeper {
 public:
  // `window`: offers between resets; about the number of entries the cache holds, at least
  // kMinWindow (far above the per-thread count batch, so a reset rarely falls between a key's two
  // misses). 8 bits per key and two probes keep false positives under 5% at a full window.
  explicit Doorkeeper(std::size_t window)
      : window_(window < kMinWindow ? kMinWindow : window),
        word_count_((window_ * 8 + 63) / 64),
        words_(make_words(word_count_)) {}

  // offer() for a key, hashed.
  bool offer(std::string_view key) noexcept { return offer(hash_key(key)); }
  // True if `hash` was offered within the current window. Records it either way.
  bool offer(std::uint64_t hash) noexcept {
    const std::uint64_t first = hash;
    const std::uint64_t second = (hash >> 32) | (hash << 32);
    const bool seen = test_and_set(first) & test_and_set(second * 0x9E3779B97F4A7C15ull);
    // Offers are counted per thread and added kCountBatch at a time, so threads do not bounce the
    // shared counter's cache line (the window is approximate by at most kCountBatch per thread).
    thread_local std::uint32_t uncounted = 0;
    if (++uncounted == kCountBatch) {
      uncounted = 0;
      // Relaxed: the count only paces resets.
      if (offers_.fetch_add(kCountBatch, std::memory_order_relaxed) + kCountBatch >= window_) reset();
    }
    return seen;
  }

 private:
  struct WordsDeleter {
    void operator()(std::atomic<std::uint64_t>* words) const noexcept { deallocate(words); }
  };
  using Words = std::unique_ptr<std::atomic<std::uint64_t>[], WordsDeleter>;

  static Words make_words(std::size_t count) {
    void* memory = allocate(count * sizeof(std::atomic<std::uint64_t>));
    if (memory == nullptr) throw std::bad_alloc();
    auto* words = static_cast<std::atomic<std::uint64_t>*>(memory);
    for (std::size_t i = 0; i < count; ++i) new (&words[i]) std::atomic<std::uint64_t>(0);
    return Words(words);
  }

  bool test_and_set(std::uint64_t hash) noexcept {
    const std::uint64_t bit = hash % (word_count_ * 64);
    const std::uint64_t mask = std::uint64_t{1} << (bit % 64);
    std::atomic<std::uint64_t>& word = words_[bit / 64];
    if ((word.load(std::memory_order_relaxed) & mask) != 0) return true;  // the common case writes nothing
    return (word.fetch_or(mask, std::memory_order_relaxed) & mask) != 0;
  }

  void reset() noexcept {
    offers_.store(0, std::memory_order_relaxed);
    for (std::size_t i = 0; i < word_count_; ++i) words_[i].store(0, std::memory_order_relaxed);
  }

  static constexpr std::uint32_t kCountBatch = 64;
  static constexpr std::size_t kMinWindow = 1024;

  const std::size_t window_;
  const std::size_t word_count_;
  Words words_;
  std::atomic<std::size_t> offers_{0};
};

}  // namespace mantis::detail
