// Ghosts: the fingerprints of keys a W-TinyLFU shard recently evicted, by the route they left by.
//
// Design note. ARC's insight, applied to the window's share: a miss on a key that the window recently
// let go (it lost its duel for the main region) is a hit a larger window would have had; a miss on a key
// the main region recently evicted is a hit a larger main region would have had. Each route keeps its
// own ghost of the same size, so the two ghost hit counts compare like for like. A ghost is a
// direct-mapped array of 16-bit fingerprints (no keys, no list): remembering overwrites whatever the slot
// held, so an entry survives about `size` later evictions of its route (random replacement), and a
// lookup is one load. Random replacement alone lets a few entries survive many times that; a key that
// comes back that late would not have been a hit in a somewhat larger region, yet it moved the window
// (LIRS gli @1000 entries: keys read twice, 1,700 keys apart, grew the window late in the trace at the
// expense of frequent keys). So each slot also records the route's epoch (one per size/8 evictions),
// and a ghost hit counts only within kMaxAgeEpochs epochs (twice the size) of the eviction. Costs 8
// bytes per slot pair; a false ghost hit is 1 in 65536.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>

namespace mantis::detail {

enum class Ghost : std::uint8_t { kNone, kWindow, kMain };

// Not thread-safe: used under the shard mutex. Not copyable.
class Ghosts {
 public:
  explicit Ghosts(std::size_t size)
      : size_(size),
        evictions_per_epoch_(std::max<std::size_t>(size / kEpochsPerSize, 1)),
        window_(new std::uint32_t[size]()),
        main_(new std::uint32_t[size]()) {}
  Ghosts(const Ghosts&) = delete;
  Ghosts& operator=(const Ghosts&) = delete;

  // Remembers that the key with 64-bit hash `hash` left by `route` (kWindow or kMain).
  void remember(Ghost route, std::uint64_t hash) noexcept {
    Route& r = route == Ghost::kWindow ? window_ : main_;
    if (++r.evictions == evictions_per_epoch_) {
      r.evictions = 0;
      ++r.epoch;
    }
    r.slots[index(hash)] = std::uint32_t{fingerprint(hash)} << 16 | r.epoch;
  }
  // Which ghost, if any, remembers the key as evicted within kMaxAgeEpochs epochs; that ghost forgets it
  // (one miss counts once).
  Ghost take(std::uint64_t hash) noexcept {
    const std::size_t i = index(hash);
    const std::uint16_t wanted = fingerprint(hash);
    if (recent(window_, i, wanted)) return Ghost::kWindow;
    if (recent(main_, i, wanted)) return Ghost::kMain;
    return Ghost::kNone;
  }

 private:
  static constexpr std::size_t kEpochsPerSize = 8;
  static constexpr std::uint16_t kMaxAgeEpochs = 2 * kEpochsPerSize;

  struct Route {
    explicit Route(std::uint32_t* memory) : slots(memory) {}
    std::unique_ptr<std::uint32_t[]> slots;  // fingerprint << 16 | epoch; 0 is empty
    std::size_t evictions = 0;               // since the epoch began
    std::uint16_t epoch = 0;                 // wraps: ages are compared modulo 2^16
  };

  // True (and forgets the slot) if it holds `wanted`; a match older than kMaxAgeEpochs is forgotten too.
  static bool recent(Route& route, std::size_t i, std::uint16_t wanted) noexcept {
    const std::uint32_t slot = route.slots[i];
    if (static_cast<std::uint16_t>(slot >> 16) != wanted) return false;
    route.slots[i] = 0;
    return static_cast<std::uint16_t>(route.epoch - static_cast<std::uint16_t>(slot)) <= kMaxAgeEpochs;
  }
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
  const std::size_t evictions_per_epoch_;
  Route window_;
  Route main_;
};

}  // namespace mantis::detail
