#include "mvcc/versioning.hpp"

#include <algorithm>
#include <thread>

#include "util/cpu_relax.hpp"
#include "util/rcu.hpp"

namespace mantis::detail {

std::optional<Versioning::Held> Versioning::acquire() {
  Held held;
  {
    const std::lock_guard<SpinMutex> lock(mutex_);
    if (!turn_on()) return std::nullopt;
    // V5 and V6: lower the floor and raise the newest before the version is read.
    // (Stored only when it changes, here and in publish_bounds(): every write of the bounds is under
    // mutex_, so an unchanged value was stored earlier still; each store costs every History::add a
    // cache miss.)
    const std::uint64_t floor = floor_.load(std::memory_order_relaxed);
    if (const std::uint64_t lower = std::min(floor, last()); lower != floor) floor_.store(lower, std::memory_order_seq_cst);
    newest_.store(~std::uint64_t{0}, std::memory_order_seq_cst);
    held.version = last();
    try {
      live_.insert(std::upper_bound(live_.begin(), live_.end(), held.version), held.version);
    } catch (...) {  // restore the bounds from the snapshots still live
      publish_bounds();
      throw;
    }
    publish_bounds();  // the bounds now count this snapshot, as V5 and V6 need
  }
  // V2, outside mutex_: other snapshots begin and end while this one waits for the writes below it.
  wait_applied_below(held.version + 1);
  held.time_ms = clock_.now_ms();
  return held;
}

void Versioning::release(std::uint64_t version) noexcept {
  const std::lock_guard<SpinMutex> lock(mutex_);
  const auto it = std::lower_bound(live_.begin(), live_.end(), version);
  if (it == live_.end() || *it != version) return;
  live_.erase(it);
  publish_bounds();
  start_idle_if_unheld();
}

void Versioning::start_idle_if_unheld() noexcept {
  if (live_.empty() && holds_ == 0) idle_since_ms_.store(clock_.now_ms(), std::memory_order_relaxed);
}

bool Versioning::turn_on() {
  if (versioned_.load(std::memory_order_relaxed)) return true;
  if (rcu_in_critical_section()) return false;
  store_.pause_removals(true);
  versioned_.store(true, std::memory_order_seq_cst);
  try {
    rcu_synchronize();  // V4. No writer waits for mutex_ inside a section (there maybe_turn_off only tries it).
  } catch (...) {  // no grace period: off again
    turn_off();
    throw;
  }
  return true;
}

Versioning::ModeHold::ModeHold(Versioning& versioning) : versioning_(versioning) {
  const std::lock_guard<SpinMutex> lock(versioning_.mutex_);
  holds_ = versioning_.turn_on();
  if (holds_) ++versioning_.holds_;
}

Versioning::ModeHold::~ModeHold() {
  if (!holds_) return;
  const std::lock_guard<SpinMutex> lock(versioning_.mutex_);
  --versioning_.holds_;
  versioning_.start_idle_if_unheld();
}

void Versioning::publish_bounds() noexcept {
  const std::uint64_t floor = live_.empty() ? ~std::uint64_t{0} : live_.front();
  const std::uint64_t newest = live_.empty() ? 0 : live_.back();
  if (floor_.load(std::memory_order_relaxed) != floor) floor_.store(floor, std::memory_order_seq_cst);
  if (newest_.load(std::memory_order_relaxed) != newest) newest_.store(newest, std::memory_order_seq_cst);
  live_count_.store(live_.size(), std::memory_order_relaxed);
}

Versioning::Claim::Claim(Versioning& versioning) noexcept : slot_(versioning.hold_free_slot()) {}

std::atomic<std::uint64_t>& Versioning::hold_free_slot() noexcept {
  // Each thread starts at the slot it held last (a new one at the first free slot), so that up to
  // kClaimSlots threads keep to slots of their own and never contend, packed at the front, where V2's
  // wait reads few of them.
  static thread_local std::size_t home = 0;
  for (std::size_t probe = 0;; ++probe) {
    const std::size_t index = (home + probe) % kClaimSlots;
    std::atomic<std::uint64_t>& slot = claims_[index].value;
    if (slot.load(std::memory_order_relaxed) == 0) {
      // V2's wait reads only the slots below slots_used_: raise it past this one first (seq_cst, as
      // the claim: both precede the numbers the holder takes next).
      std::size_t used = slots_used_.load(std::memory_order_seq_cst);
      while (used <= index && !slots_used_.compare_exchange_weak(used, index + 1, std::memory_order_seq_cst)) {
      }
      std::uint64_t free = 0;
      if (slot.compare_exchange_strong(free, kClaiming, std::memory_order_seq_cst)) {
        home = index;
        return slot;
      }
    }
    if (probe % kClaimSlots == kClaimSlots - 1) std::this_thread::yield();  // every slot is held
  }
}

void Versioning::wait_applied_below(std::uint64_t bound) const noexcept {
  // A write numbered below `bound` raised slots_used_ past its slot before it took its number, so a
  // load of slots_used_ after the caller's load of the counter covers its slot.
  const std::size_t used = slots_used_.load(std::memory_order_seq_cst);
  for (std::size_t i = 0; i < used; ++i) {
    for (int spins = 0;; ++spins) {
      const std::uint64_t claim = claims_[i].value.load(std::memory_order_seq_cst);
      if (claim == 0 || (claim != kClaiming && claim >= bound)) break;
      // The holder is between its claim and its apply: microseconds, or one log write. Spin about as
      // long as a write's apply takes, then yield: a holder that was preempted needs this core.
      if (spins < SpinMutex::kSpins) {
        cpu_relax();
        continue;
      }
      std::this_thread::yield();
    }
  }
}

void Versioning::maybe_turn_off() noexcept {
  if (live_count_.load(std::memory_order_relaxed) != 0) return;
  const std::uint64_t now = clock_.now_ms();
  if (now < idle_since_ms_.load(std::memory_order_relaxed) + static_cast<std::uint64_t>(kIdleLinger.count())) return;
  // Outside a section, wait for the lock: when another thread is turning the mode off, this caller
  // returns only once the history is dropped. Inside one (a write from a scan's callback) only try it:
  // the holder may be turning the mode on, waiting for a grace period this section delays.
  std::unique_lock<SpinMutex> lock(mutex_, std::defer_lock);
  if (rcu_in_critical_section()) {
    if (!lock.try_lock()) return;
  } else {
    lock.lock();
  }
  if (!live_.empty() || holds_ != 0 || !versioned_.load(std::memory_order_relaxed)) return;
  turn_off();
}

void Versioning::turn_off() noexcept {
  // The history goes first, so that a writer that finds the mode off knows it is gone. A write still
  // in flight in the mode may add to it meanwhile or after; with no snapshot alive (floor ~0) the
  // addition retires itself at once (History::add).
  history_.clear();
  versioned_.store(false, std::memory_order_seq_cst);
  store_.pause_removals(false);
}

}  // namespace mantis::detail
