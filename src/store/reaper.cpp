#include "store/reaper.hpp"

#include <utility>

namespace mantis::detail {

Reaper::Reaper(Store& store, std::chrono::milliseconds interval, std::function<void()> before_tick)
    : store_(store), interval_(interval), before_tick_(std::move(before_tick)), thread_([this] { run(); }) {}

Reaper::~Reaper() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::size_t Reaper::sweep(Store& store, std::string& cursor) {
  std::size_t removed = 0;
  for (std::size_t slice = 0; slice < kSlicesPerTick; ++slice) {
    const Store::SweepResult result =
        store.remove_where(&cursor, kSliceNodes, /*count_as_expired=*/true,
                           [](const Record& record, std::uint64_t now_ms) { return record.expired_at(now_ms); });
    removed += result.removed;
    if (result.reached_end) {
      cursor.clear();
      break;
    }
  }
  return removed;
}

void Reaper::run() {
  std::string cursor;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!wake_.wait_for(lock, interval_, [this] { return stopping_; })) {
    if (!store_.has_ttls()) continue;
    lock.unlock();
    if (before_tick_) before_tick_();
    sweep(store_, cursor);
    lock.lock();
  }
}

}  // namespace mantis::detail
