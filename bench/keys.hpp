// Benchmark keys and values.
//
// Keys are 16 bytes: "key:" + 12 zero-padded decimal digits, so key order is index order. A value is
// `size` bytes whose first (up to) 16 bytes repeat its key, so a reader can check what it got.
// KeySpace is immutable after construction and may be shared by any number of threads.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <numeric>
#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace mantis::bench {

inline constexpr std::size_t kKeySize = 16;

inline void format_key(std::uint64_t index, char* out) {
  std::memcpy(out, "key:", 4);
  for (int i = 15; i >= 4; --i) {
    out[i] = static_cast<char>('0' + index % 10);
    index /= 10;
  }
}

// Every key of [0, count) formatted once up front, so choosing a key costs no formatting.
class KeySpace {
 public:
  explicit KeySpace(std::uint64_t count) : count_(count), bytes_(count * kKeySize) {
    for (std::uint64_t i = 0; i < count; ++i) format_key(i, bytes_.data() + i * kKeySize);
  }
  std::uint64_t count() const noexcept { return count_; }
  std::string_view key(std::uint64_t index) const noexcept { return {bytes_.data() + index * kKeySize, kKeySize}; }

 private:
  std::uint64_t count_;
  std::vector<char> bytes_;
};

// The order in which a load inserts keys [0, count): ascending (index order, which places a skiplist's
// nodes in key order in memory) or a fixed pseudo-random permutation (how users' data arrives).
class LoadOrder {
 public:
  static LoadOrder ascending() { return LoadOrder(); }
  // The same permutation in every run (a fixed seed), so runs compare.
  static LoadOrder shuffled(std::uint64_t count) {
    LoadOrder order;
    order.permutation_.resize(count);
    std::iota(order.permutation_.begin(), order.permutation_.end(), std::uint64_t{0});
    std::mt19937_64 random(0x6d616e746973);  // "mantis"
    std::shuffle(order.permutation_.begin(), order.permutation_.end(), random);
    return order;
  }
  // The index of the i-th key to insert.
  std::uint64_t operator[](std::uint64_t i) const noexcept { return permutation_.empty() ? i : permutation_[i]; }

 private:
  LoadOrder() = default;
  std::vector<std::uint64_t> permutation_;  // empty: ascending
};

// The value written for `key`: `size` bytes, the key's bytes first.
inline void fill_value(std::string_view key, std::size_t size, std::string* value) {
  if (value->size() != size) value->assign(size, 'v');
  std::memcpy(value->data(), key.data(), std::min(size, key.size()));
}
inline bool value_matches(std::string_view key, std::string_view value, std::size_t size) {
  const std::size_t prefix = std::min(size, key.size());
  return value.size() == size && std::memcmp(value.data(), key.data(), prefix) == 0;
}

}  // namespace mantis::bench
