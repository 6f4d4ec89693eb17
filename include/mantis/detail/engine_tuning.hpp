// Tuning constants of mantis::Engine, in one place (tests use them too). No API promise.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mantis::detail {

// TTLs longer than this (about 10,000 years) are refused: expires_at must not overflow.
inline constexpr std::int64_t kMaxTtlMs = std::int64_t{315'360'000'000'000};

// Entries a scan copies out per RCU critical section: the first batch is small, so that short scans
// copy little beyond what they use; each next batch doubles, up to the largest.
inline constexpr std::size_t kFirstScanBatch = 64;
inline constexpr std::size_t kLargestScanBatch = 256;

// Read misses fill the cache tier one time in this many, counted per thread: a key read again and
// again still gets in after a few misses, while scans and uniform reads of more data than the tier
// holds do not pay a fill (and an eviction) on every read.
inline constexpr std::uint32_t kCacheFillSampling = 8;

// The cache tier steps aside for a thread whose reads it does not serve: when fewer than 1 in
// kCacheBypassRatio of a window of kCacheBypassWindow probes hit, the next window probes the tier only
// on 1 read in kCacheBypassRatio (the others go straight to the store), and probing resumes on every
// read once a window's probes hit often enough again. Sequential passes over more data than the tier
// holds then cost a store read, not a store read plus a useless probe.
inline constexpr std::uint32_t kCacheBypassWindow = 1024;
inline constexpr std::uint32_t kCacheBypassRatio = 16;

}  // namespace mantis::detail
