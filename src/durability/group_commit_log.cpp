#include "durability/group_commit_log.hpp"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "durability/coding.hpp"

namespace mantis::detail {

Status GroupCommitLog::open_segment(const Config& config, std::uint64_t segment, std::unique_ptr<LogWriter>* out) {
  std::unique_ptr<WritableFile> file;
  Status s = create_segment_file(config, segment,
                                 [&](const std::string& path) { return config.env->new_writable_file(path, &file); });
  if (!s.ok()) return s;
  *out = std::make_unique<LogWriter>(std::move(file), segment);
  return Status::ok_status();
}

Status GroupCommitLog::open(const Config& config, std::uint64_t segment, std::uint64_t next_lsn,
                           std::unique_ptr<WriteAheadLog>* out) {
  std::unique_ptr<LogWriter> log;
  Status s = open_segment(config, segment, &log);
  if (!s.ok()) return s;
  out->reset(new GroupCommitLog(config, std::move(log), next_lsn));
  return Status::ok_status();
}

GroupCommitLog::GroupCommitLog(const Config& config, std::unique_ptr<LogWriter> log, std::uint64_t next_lsn)
    : config_(config), next_lsn_(next_lsn), log_(std::move(log)) {}

GroupCommitLog::~GroupCommitLog() { static_cast<void>(close()); }

Status GroupCommitLog::error() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return error_;
}

std::uint64_t GroupCommitLog::last_lsn() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return next_lsn_ - 1;
}

Status GroupCommitLog::write(std::string* payload, bool sync, Apply apply) {
  Writer writer(Writer::Kind::kWrite, payload, sync, &apply);
  return run(writer);
}

Status GroupCommitLog::sync() {
  Writer writer(Writer::Kind::kSync, nullptr, true, nullptr);
  return run(writer);
}

Status GroupCommitLog::rotate(std::uint64_t* last_lsn, std::uint64_t* new_segment) {
  Writer writer(Writer::Kind::kRotate, nullptr, false, nullptr);
  Status s = run(writer);
  if (s.ok()) {
    *last_lsn = writer.lsn;
    *new_segment = writer.segment;
  }
  return s;
}

Status GroupCommitLog::close() {
  std::unique_lock<std::mutex> lock(mutex_);
  if (log_ == nullptr) return Status::ok_status();
  Status s;
  if (error_.ok() && unsynced_) s = log_->sync();
  Status closed = log_->close();
  if (s.ok()) s = closed;
  log_.reset();
  if (error_.ok()) error_ = Status::closed("the write-ahead log is closed");
  return s;
}

namespace {
// The last log group the calling thread's write was in (see GroupCommitLog::returning_).
struct LastGroup {
  const void* log = nullptr;
  std::uint64_t group = 0;
};
thread_local LastGroup last_group;
}  // namespace

Status GroupCommitLog::run(Writer& writer) {
  std::unique_lock<std::mutex> lock(mutex_);
  if (last_group.log == this && last_group.group == groups_ && returning_ > 0) --returning_;
  queue_.push_back(&writer);
  if (gathering_) queue_.front()->cv.notify_one();
  const bool syncs = config_.sync_every_write || writer.sync;
  if (&writer != queue_.front() && !syncs) {
    // A group is usually done within microseconds (one write call, then the store): wait for `turn`
    // yielding the CPU a while before sleeping on the condition variable, whose wake-up costs more
    // than the whole group. `turn` only shortens the wait; the mutex-guarded state decides. A write
    // that syncs waits at least one fdatasync, far longer, so it sleeps at once: at 40 writers the
    // yielding of the others took the CPU the leader needed (kSync 40 writers: 30-39K -> 44-54K/s).
    lock.unlock();
    const auto give_up = std::chrono::steady_clock::now() + kSpinBeforeSleep;
    while (!writer.turn.load(std::memory_order_acquire) && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::yield();
    }
    lock.lock();
  }
  while (!writer.done && &writer != queue_.front()) writer.cv.wait(lock);
  if (writer.done) {
    // The leader that finished this write may still be about to notify writer.cv: wait for it to let go.
    last_group = {this, writer.group};
    lock.unlock();
    while (!writer.released.load(std::memory_order_acquire)) std::this_thread::yield();
    return writer.status;
  }
  if (syncs) gather(writer, lock);

  // The leader: a rotation goes alone; writes and syncs go together up to kMaxGroupBytes.
  group_.clear();
  std::size_t bytes = 0;
  for (Writer* member : queue_) {
    if (!group_.empty() && (member->kind == Writer::Kind::kRotate || group_.front()->kind == Writer::Kind::kRotate)) {
      break;
    }
    if (member->payload != nullptr) {
      if (!group_.empty() && bytes + member->payload->size() > kMaxGroupBytes) break;
      bytes += member->payload->size();
    }
    group_.push_back(member);
  }
  Status status = error_;
  if (status.ok()) {
    for (Writer* member : group_) {
      if (member->kind == Writer::Kind::kWrite) {
        member->lsn = next_lsn_++;
        encode_fixed64(member->payload->data(), member->lsn);
      } else if (member->kind == Writer::Kind::kRotate) {
        member->lsn = next_lsn_ - 1;
      }
    }
    lock.unlock();
    status = write_group(group_);
    lock.lock();
    if (!status.ok()) error_ = status;
  }
  ++groups_;
  returning_ = group_.size();
  for (Writer* member : group_) {
    queue_.pop_front();
    if (member->status.ok()) member->status = status;
    member->done = true;
    member->group = groups_;
    member->turn.store(true, std::memory_order_release);
  }
  last_group = {this, groups_};
  // The next leader first, under the mutex (until it leads, it cannot return); the members after the
  // mutex is released, so that the next group forms and starts while they wake. A member returns only
  // once `released` says this thread no longer touches it.
  if (!queue_.empty()) {
    queue_.front()->turn.store(true, std::memory_order_release);
    queue_.front()->cv.notify_one();
  }
  std::vector<Writer*> finished;
  finished.swap(group_);
  lock.unlock();
  for (Writer* member : finished) {
    if (member == &writer) continue;
    member->cv.notify_one();
    member->released.store(true, std::memory_order_release);
  }
  return writer.status;
}

void GroupCommitLog::gather(Writer& leader, std::unique_lock<std::mutex>& lock) {
  if (returning_ == 0 || last_sync_ns_ == 0) return;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::nanoseconds(std::min(last_sync_ns_ / 2, kMaxGatherNs));
  gathering_ = true;
  while (returning_ > 0 && leader.cv.wait_until(lock, deadline) != std::cv_status::timeout) {
  }
  gathering_ = false;
}

Status GroupCommitLog::write_group(const std::vector<Writer*>& group) {
  if (log_ == nullptr) return Status::closed("the write-ahead log is closed");
  if (group.front()->kind == Writer::Kind::kRotate) {
    Status s = start_next_segment();
    if (s.ok()) {
      group.front()->segment = log_->segment();
      bytes_since_rotate_.store(0, std::memory_order_relaxed);
    }
    return s;
  }
  payloads_.clear();
  bool sync = config_.sync_every_write;
  std::uint64_t bytes = 0;
  for (const Writer* member : group) {
    sync = sync || member->sync;
    if (member->payload != nullptr) {
      payloads_.emplace_back(*member->payload);
      bytes += member->payload->size();
    }
  }
  if (!payloads_.empty()) {
    if (log_->size() >= config_.segment_bytes) {
      Status s = start_next_segment();
      if (!s.ok()) return s;
    }
    Status s = log_->add_records(payloads_);
    if (!s.ok()) return s;
    timings_.group_records.record(payloads_.size());
    unsynced_ = true;
    bytes_since_rotate_.fetch_add(bytes, std::memory_order_relaxed);
  }
  if (sync && unsynced_) {
    const auto started = std::chrono::steady_clock::now();
    Status s = log_->sync();
    if (!s.ok()) return s;
    last_sync_ns_ = LatencySampler::elapsed_ns(started);
    timings_.fdatasync_ns.record(last_sync_ns_);
    unsynced_ = false;
  }
  // Publish in LSN order. A write that cannot be applied (out of memory) fails, and so does every later
  // one: the log now holds a write the store does not.
  Status applied;
  for (Writer* member : group) {
    if (member->kind != Writer::Kind::kWrite) continue;
    if (!applied.ok()) {
      member->status = applied;
      continue;
    }
    member->status = (*member->apply)(member->lsn);
    if (!member->status.ok()) applied = member->status;
  }
  return applied;
}

Status GroupCommitLog::start_next_segment() {
  Status s = log_->sync();
  if (!s.ok()) return s;
  unsynced_ = false;
  std::unique_ptr<LogWriter> next;
  s = open_segment(config_, log_->segment() + 1, &next);
  if (!s.ok()) return s;
  s = log_->close();
  log_ = std::move(next);
  return s;
}

}  // namespace mantis::detail
