// Limits and batch sizes of mantis::Engine, in one place (tests use them too). No API promise.
#pragma once

#include <cstddef>
#include <cstdint>

namespace mantis::detail {

// Entries Engine::scan visits per store critical section (Store::visit): the callback sees them in
// place, so a short scan pays for what it consumes only. A longer scan re-seeks once per run, which
// bounds how long one section holds back reclamation.
inline constexpr std::size_t kScanRunEntries = 1024;

}  // namespace mantis::detail
