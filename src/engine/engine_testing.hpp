// Test seams of mantis::Engine. No API promise.
#pragma once

#include <memory>

#include <mantis/engine.hpp>
#include "util/clock.hpp"

namespace mantis::detail {

struct EngineTesting {
  // Opens an engine whose TTLs are measured against `clock`, which must outlive the engine.
  static Status open(const Options& options, const Clock& clock, std::unique_ptr<Engine>* out) {
    return Engine::open_with_clock(options, clock, out);
  }
};
}  // namespace mantis::detail
