#include "durability/mapped_log.hpp"

#include <algorithm>
#include <chrono>
#include <thread>
#include <utility>

#include "durability/coding.hpp"
#include "durability/log_format.hpp"
#include "durability/log_framing.hpp"

namespace mantis::detail {
namespace {

// Segment capacities are whole pages.
constexpr std::uint64_t kPageBytes = 4096;
constexpr std::size_t kCacheLineBytes = 64;

}  // namespace

Status MappedLog::create_segment(const Config& config, std::uint64_t number, std::uint64_t capacity, Segment* out) {
  capacity = std::max<std::uint64_t>((capacity + kPageBytes - 1) / kPageBytes * kPageBytes, kPageBytes);
  std::unique_ptr<MappedWritableFile> file;
  Status s = create_segment_file(config, number, [&](const std::string& path) {
    return config.env->new_mapped_file(path, capacity, &file);
  });
  if (!s.ok()) return s;
  // The first two chunks: write() maps each later one as the tail enters the chunk before it.
  file->prefault(0, 2 * kWriteBehindBytes);
  out->file = std::move(file);
  out->number = number;
  return Status::ok_status();
}

Status MappedLog::open(const Config& config, std::uint64_t segment, std::uint64_t next_lsn,
                       std::unique_ptr<WriteAheadLog>* out) {
  Segment first;
  Status s = create_segment(config, segment, config.segment_bytes, &first);
  if (!s.ok()) return s;
  out->reset(new MappedLog(config, std::move(first), next_lsn));
  return Status::ok_status();
}

MappedLog::MappedLog(const Config& config, Segment segment, std::uint64_t next_lsn)
    : config_(config), segment_(std::move(segment)), next_lsn_(next_lsn), synced_lsn_(next_lsn - 1) {
  tail_address_.store(segment_.file->data(), std::memory_order_relaxed);
}

MappedLog::~MappedLog() { static_cast<void>(close()); }

Status MappedLog::error() const {
  std::lock_guard<SpinMutex> lock(mutex_);
  return error_;
}

std::uint64_t MappedLog::last_lsn() const {
  std::lock_guard<SpinMutex> lock(mutex_);
  return next_lsn_ - 1;
}

void MappedLog::fail(const Status& status) {
  std::lock_guard<SpinMutex> lock(mutex_);
  if (error_.ok()) error_ = status;
}

Status MappedLog::write(std::string* payload, bool sync, Apply apply) {
  std::uint64_t lsn = 0;
  std::size_t slot = 0;
  std::shared_ptr<MappedWritableFile> filled;  // set when this write completed write-behind chunks
  std::uint64_t filled_chunk = 0;              // the first chunk it completed
  std::uint64_t entered_chunk = 0;             // the chunk its end lies in: the tail's chunk now
  if (char* tail = tail_address_.load(std::memory_order_relaxed); tail != nullptr) {
    for (std::size_t offset = 0; offset < kLogHeaderSize + payload->size(); offset += kCacheLineBytes) {
      __builtin_prefetch(tail + offset, /*rw=*/1);
    }
  }
  {
    std::lock_guard<SpinMutex> lock(mutex_);
    if (!error_.ok()) return error_;
    std::size_t bytes = framed_size(payload->size(), tail_ % kLogBlockSize);
    if (tail_ + bytes > segment_.file->capacity()) {
      bytes = framed_size(payload->size(), 0);
      Status s = start_next_segment(bytes);
      if (!s.ok()) {
        error_ = s;
        return s;
      }
    }
    lsn = next_lsn_++;
    encode_fixed64(payload->data(), lsn);
    frame_record(*payload, segment_.number, tail_ % kLogBlockSize, segment_.file->data() + tail_);
    if ((tail_ + bytes) / kWriteBehindBytes != tail_ / kWriteBehindBytes) {
      filled = segment_.file;
      filled_chunk = tail_ / kWriteBehindBytes;
      entered_chunk = (tail_ + bytes) / kWriteBehindBytes;
    }
    tail_ += bytes;
    tail_address_.store(segment_.file->data() + tail_, std::memory_order_relaxed);
    slot = generation_ & 1;
    applying_[slot].fetch_add(1, std::memory_order_relaxed);  // ordered before rotate()'s read by mutex_
  }
  bytes_since_rotate_.fetch_add(payload->size(), std::memory_order_relaxed);
  if (filled) {
    // Every chunk the record completed (one, unless the record is larger than a chunk), then the
    // chunk after the tail's, so that the mapping stays a chunk ahead (see the design note).
    filled->write_back(filled_chunk * kWriteBehindBytes, (entered_chunk - filled_chunk) * kWriteBehindBytes);
    filled->prefault((entered_chunk + 1) * kWriteBehindBytes, kWriteBehindBytes);
  }
  Status s;
  if (sync) s = sync_through(lsn);  // (open() never picks this log for Config::sync_every_write)
  if (s.ok()) {
    s = apply(lsn);
    if (!s.ok()) fail(s);  // the log now holds a write the store does not (W5)
  }
  // release: rotate() sees this write applied once it sees the count drop.
  applying_[slot].fetch_sub(1, std::memory_order_release);
  return s;
}

Status MappedLog::sync() {
  std::uint64_t through = 0;
  {
    std::lock_guard<SpinMutex> lock(mutex_);
    if (!error_.ok()) return error_;
    through = next_lsn_ - 1;
  }
  return sync_through(through);
}

Status MappedLog::sync_through(std::uint64_t lsn) {
  if (synced_lsn_.load(std::memory_order_acquire) >= lsn) return Status::ok_status();
  // Writers that queue here while one fdatasyncs find their records covered by it when they get in.
  std::lock_guard<std::mutex> syncing(sync_mutex_);
  const std::uint64_t synced = synced_lsn_.load(std::memory_order_acquire);
  if (synced >= lsn) return Status::ok_status();
  std::shared_ptr<MappedWritableFile> file;
  std::uint64_t through = 0;  // every record up to it is in `file` or in an ended (synced) segment
  {
    std::lock_guard<SpinMutex> lock(mutex_);
    if (!error_.ok()) return error_;
    file = segment_.file;
    through = next_lsn_ - 1;
  }
  const auto started = std::chrono::steady_clock::now();
  Status s = file->sync();
  if (!s.ok()) {
    fail(s);
    return s;
  }
  timings_.fdatasync_ns.record(LatencySampler::elapsed_ns(started));
  timings_.group_records.record(through - std::min(through, synced));
  raise_synced(through);
  return Status::ok_status();
}

void MappedLog::raise_synced(std::uint64_t lsn) noexcept {
  std::uint64_t seen = synced_lsn_.load(std::memory_order_relaxed);
  while (seen < lsn && !synced_lsn_.compare_exchange_weak(seen, lsn, std::memory_order_release, std::memory_order_relaxed)) {
  }
}

Status MappedLog::start_next_segment(std::uint64_t bytes) {
  // W6: the ended segment is durable and cut to its records before the next one exists.
  Status s = segment_.file->sync();
  if (!s.ok()) return s;
  raise_synced(next_lsn_ - 1);
  s = segment_.file->finish(tail_);
  if (!s.ok()) return s;
  Segment next;
  s = create_segment(config_, segment_.number + 1, std::max(config_.segment_bytes, bytes), &next);
  if (!s.ok()) return s;
  segment_ = std::move(next);
  tail_ = 0;
  tail_address_.store(segment_.file->data(), std::memory_order_relaxed);
  return Status::ok_status();
}

Status MappedLog::rotate(std::uint64_t* last_lsn, std::uint64_t* new_segment) {
  std::lock_guard<std::mutex> rotating(rotate_mutex_);
  std::size_t ended = 0;  // the parity slot of the generation this rotation ends
  {
    std::lock_guard<SpinMutex> lock(mutex_);
    if (!error_.ok()) return error_;
    Status s = start_next_segment(0);
    if (!s.ok()) {
      error_ = s;
      return s;
    }
    *last_lsn = next_lsn_ - 1;
    *new_segment = segment_.number;
    ended = generation_++ & 1;
    bytes_since_rotate_.store(0, std::memory_order_relaxed);
  }
  // W4: the ended generation's writes (every LSN up to *last_lsn) finish applying within microseconds,
  // or one fdatasync for a write that syncs; rotations are rare (checkpoints), so poll.
  while (applying_[ended].load(std::memory_order_acquire) != 0) std::this_thread::yield();
  return error();
}

Status MappedLog::close() {
  std::lock_guard<SpinMutex> lock(mutex_);
  if (closed_) return Status::ok_status();
  closed_ = true;
  tail_address_.store(nullptr, std::memory_order_relaxed);
  Status s;
  // A segment whose switch failed half-way was finished already.
  if (segment_.file->data() != nullptr) s = segment_.file->finish(tail_);
  if (error_.ok()) error_ = Status::closed("the write-ahead log is closed");
  return s;
}

}  // namespace mantis::detail
