// Test seams of mantis::Engine. No API promise.
#pragma once

#include <memory>

#include <mantis/engine.hpp>
#include "env/env.hpp"
#include "util/clock.hpp"

namespace mantis::detail {

struct EngineTesting {
  // Opens an engine whose TTLs are measured against `clock` and whose files (with Options::dir) go
  // through `env` (nullptr: the POSIX file system); both must outlive the engine.
  static Status open(const Options& options, const Clock& clock, std::unique_ptr<Engine>* out, Env* env = nullptr) {
    return Engine::open_with(options, clock, env, out);
  }
};
}  // namespace mantis::detail
