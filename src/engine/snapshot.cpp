#include <mantis/snapshot.hpp>

#include <utility>

#include "mvcc/versioning.hpp"

namespace mantis {

Snapshot::Snapshot(Snapshot&& other) noexcept
    : owner_(std::exchange(other.owner_, nullptr)), version_(other.version_), time_ms_(other.time_ms_) {}

Snapshot& Snapshot::operator=(Snapshot&& other) noexcept {
  if (this != &other) {
    reset();
    owner_ = std::exchange(other.owner_, nullptr);
    version_ = other.version_;
    time_ms_ = other.time_ms_;
  }
  return *this;
}

Snapshot::~Snapshot() { reset(); }

void Snapshot::reset() noexcept {
  if (owner_ != nullptr) std::exchange(owner_, nullptr)->release(version_);
}

}  // namespace mantis
