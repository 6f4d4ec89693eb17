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

// A read miss fills the cache tier only if the same key missed before within the doorkeeper's window
// (detail/doorkeeper.hpp), which spans about as many misses as the tier holds entries, estimated at
// kCacheEntryEstimate bytes of charge each: hot keys get in on their second miss, while scans and
// uniform reads of more data than the tier holds never make it evict.
inline constexpr std::size_t kCacheEntryEstimate = 128;

// The cache tier steps aside for a thread whose reads it does not serve well: when fewer than
// kCacheBypassHitPercent of a window of kCacheBypassWindow probes hit, the next window probes the tier
// only on 1 read in kCacheBypassRatio (the others go straight to the store; the sampled probes keep
// filling it through the doorkeeper), and probing resumes on every read once a window's probes hit
// often enough again. A probe that misses costs about as much as a short store read, so a tier that
// serves fewer than half of a thread's reads rarely pays for its probes.
inline constexpr std::uint32_t kCacheBypassWindow = 1024;
inline constexpr std::uint32_t kCacheBypassHitPercent = 50;
inline constexpr std::uint32_t kCacheBypassRatio = 16;

}  // namespace mantis::detail
