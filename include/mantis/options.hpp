// Options for mantis::Engine and its writes.
#pragma once

#include <chrono>
#include <cstddef>
#include <filesystem>

namespace mantis {

// How writes reach stable storage. Only meaningful with Options::dir set.
enum class Durability {
  kNone,      // no write-ahead log: data persists only through snapshots
  kAsync,     // every write reaches the OS before it returns (survives kill -9)
  kSync,      // every write is also fdatasync'ed, with group commit (survives power loss)
  kPeriodic,  // fdatasync every Options::sync_interval
};

// Which newcomers the cache (standalone, or the Engine's tier) admits when it must evict for them.
// In the Engine's tier a read miss fills only a key that missed recently too (the doorkeeper), in
// every mode; writes never fill.
enum class Admission {
  kAlways,   // every insert is admitted; plain approximate LRU
  kTinyLfu,  // a frequency sketch decides whether a newcomer may displace the eviction victim
  // The default. Adaptive W-TinyLFU: new keys enter a small LRU window; the window's oldest entry then
  // takes the place of the main region's victim only if the frequency sketch says it is accessed more
  // often. The main region is a segmented LRU (probation, protected), and the window's share of the
  // capacity is tuned online from ghost hits (misses on keys the window or the main region recently let
  // go, as in ARC), so recency-heavy and frequency-heavy workloads are both served. Costs about
  // capacity/8 bytes of counters and capacity/128 bytes of ghosts, not charged.
  kAdaptive,
};

struct Options {
  // Directory of a durable engine: its write-ahead log, snapshots, MANIFEST and LOCK (docs/DURABILITY.md).
  // Default: empty = memory only, no files at all.
  std::filesystem::path dir;
  // Default: true. Create `dir` if it does not exist.
  bool create_if_missing = true;
  // Default: false. Fail open() if `dir` already holds a database.
  bool error_if_exists = false;
  // Default: kAsync. Only with dir.
  Durability durability = Durability::kAsync;
  // Default: 1000 ms. Interval of kPeriodic syncs; must be > 0.
  std::chrono::milliseconds sync_interval{1000};
  // Default: 0 (no tier). Bytes charged to the read-through cache tier in front of the store; 0
  // disables it. Off by default because the store's point index already serves a read in about as
  // many cache misses as a tier hit, while a tier adds work to every write and, with many more
  // threads than cores, millisecond tails (README, "Cache tier").
  std::size_t cache_capacity = 0;
  // Default: kAdaptive (see Admission).
  Admission cache_admission = Admission::kAdaptive;
  // Default: 100 ms. Interval of the background TTL sweep; 0 = lazy expiry only. Must be >= 0.
  std::chrono::milliseconds reaper_interval{100};
  // Default: 64 KiB. Larger keys are refused with InvalidArgument. 1 .. kMaxKeySizeLimit.
  std::size_t max_key_size = 64u << 10;
  // Default: 64 MiB. Larger values are refused with InvalidArgument. 0 .. kMaxValueSizeLimit.
  std::size_t max_value_size = 64u << 20;

  // Hard upper bounds for max_key_size and max_value_size: a record is one flatbuffer, and a snapshot
  // keeps a key and its record in one flatbuffer chunk, both capped at 2 GiB.
  static constexpr std::size_t kMaxKeySizeLimit = 16u << 20;
  static constexpr std::size_t kMaxValueSizeLimit = (std::size_t{1} << 31) - (std::size_t{32} << 20);
};

struct WriteOptions {
  // The longest TTL a write, expire() or the servers accept (about 10,000 years): an absolute expiry
  // in milliseconds never overflows. Longer TTLs get InvalidArgument.
  static constexpr std::chrono::milliseconds kMaxTtl{315'360'000'000'000};

  // Default: 0 = no expiry. Time to live from the moment of the write, in milliseconds; 0 .. kMaxTtl.
  std::chrono::milliseconds ttl{0};
  // Default: false. With a durable engine, fdatasync before returning.
  bool sync = false;
  // Default: false. When the key already holds a live value, the new value keeps that value's expiry
  // (`ttl` then applies only to a key that was absent), as Redis's SET KEEPTTL.
  bool keep_ttl = false;
};

}  // namespace mantis
