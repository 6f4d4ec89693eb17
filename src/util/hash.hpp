// Hashing of keys for mantis's hash tables and filters.
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>

namespace mantis::detail {

// splitmix64's finalizer: spreads every input bit over all 64 output bits.
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A 64-bit hash of the key bytes in which every bit is usable (std::hash mixes well but not every bit):
// the cache takes its shard from the top bits and its slot and control byte from the low 32.
inline std::uint64_t hash_key(std::string_view key) noexcept { return mix64(std::hash<std::string_view>{}(key)); }

}  // namespace mantis::detail
