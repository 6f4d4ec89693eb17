// Ghosts: the fingerprints of keys a W-TinyLFU shard recently evicted, by the route they left by.
//
// Design note. ARC's insight, applied to the window's share: a miss on a key that the window recently
// let go (it lost its duel for the main region) is a hit a larger window would have had; a miss on a key
// the main region recently evicted is a hit a larger main region would have had. Each route keeps its
// own ghost of the same size, so the two ghost hit counts compare like for like. A ghost is a
// direct-mapped array of 16-bit fingerprints (no keys, no list): remembering overwrites whatever the slot
// held, so an entry survives about `size` later evictions of its route (random replacement), and a
// lookup is one load. Costs 4 bytes per slot pair; a false ghost hit is 1 in 65536.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace mantis::detail {

enum class Ghost : std::uint8_t { kNone, kWindow, kMain };

// Not thread-safe: used under the shard mutex. Not copyable.
class Ghosts {
 public:
  explicit Ghosts(std::size_t size)
      : size_(size), window_(new std::uint16_t[size]()), main_(new std::uint16_t[size]()) {}
  Ghosts(const Ghosts&) = delete;
  Ghosts& operator=(const Ghosts&) = delete;

  // Remembers that the key with 64-bit hash `hash` left by `route` (kWindow or kMain).
  void remember(Ghost route, std::uint64_t hash) noexcept {
    (route == Ghost::kWindow ? window_ : main_)[index(hash)] = fingerprint(hash);
  }
  // Which ghost, if any, remembers the key; that ghost forgets it (one miss counts once).
  Ghost take(std::uint64_t hash) noexcept {
    const std::size_t i = index(hash);
    const std::uint16_t wanted = fingerprint(hash);
    if (window_[i] == wanted) {
      window_[i] = 0;
      return Ghost::kWindow;
    }
    if (main_[i] == wanted) {
      main_[i] = 0;
      return Ghost::kMain;
    }
    return Ghost::kNone;
  }

 private:
  // The low 32 bits place the key (multiply-shift, any size); bits 32..47 are its fingerprint (the top
  // bits pick the shard, so they are the same for all keys here). 0 marks an empty slot.
  std::size_t index(std::uint64_t hash) const noexcept {
    return static_cast<std::size_t>(((hash & 0xffffffffu) * size_) >> 32);
  }
  static std::uint16_t fingerprint(std::uint64_t hash) noexcept {
    const auto bits = static_cast<std::uint16_t>(hash >> 32);
    return bits == 0 ? 1 : bits;
  }

  const std::size_t size_;
  std::unique_ptr<std::uint16_t[]> window_;
  std::unique_ptr<std::uint16_t[]> main_;
};

}  // namespace mantis::detail
