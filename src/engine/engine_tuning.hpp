// Limits and batch sizes of mantis::Engine, in one place (tests use them too). No API promise.
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

}  // namespace mantis::detail
