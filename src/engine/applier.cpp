#include "engine/applier.hpp"

#include <algorithm>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "durability/snapshot_reader.hpp"
#include "durability/snapshot_writer.hpp"
#include "store/scan_batch.hpp"
#include "util/memory.hpp"
#include "util/retire_list.hpp"

namespace mantis::detail {
namespace {

Status out_of_memory(std::string_view what) { return Status::resource_exhausted("out of memory " + std::string(what)); }

}  // namespace

Status Applier::apply(const Mutation& mutation, bool* found) {
  bool present = true;
  Status s;
  switch (mutation.type) {
    case LogOpType::kPut: {
      RetireList retired;  // destroyed after the store's critical section has ended
      const CacheTier::WriteWindow window(tier_, mutation.key);
      auto write_through = [&](const Record& published, const auto& is_current) {
        tier_.write_through(mutation.key, published, is_current, retired);
      };
      if (mutation.make != nullptr) {
        const auto outcome = store_.put_if(mutation.key, *mutation.make, write_through);
        if (outcome == Store::PutOutcome::kOutOfMemory) s = out_of_memory("storing key");
        present = outcome == Store::PutOutcome::kInserted || outcome == Store::PutOutcome::kReplaced;
        break;
      }
      Record* record = mutation.record;
      const auto outcome = store_.put_if(
          mutation.key, [record](const Record*) { return record; }, write_through);
      if (outcome == Store::PutOutcome::kOutOfMemory) {
        Record::unref(record);
        s = out_of_memory("storing key");
      }
      present = outcome == Store::PutOutcome::kReplaced;
      break;
    }
    case LogOpType::kErase: {
      const CacheTier::WriteWindow window(tier_, mutation.key);
      if (mutation.admit != nullptr) {
        present = store_.erase_if(mutation.key, *mutation.admit) == Store::EraseOutcome::kErased;
      } else {
        present = store_.erase(mutation.key);
      }
      tier_.erase(mutation.key);
      break;
    }
    case LogOpType::kExpire:
    case LogOpType::kPersist: {
      RetireList retired;  // destroyed after the store's critical section has ended
      const CacheTier::WriteWindow window(tier_, mutation.key);
      const auto outcome = store_.update(
          mutation.key,
          [&](const Record& current) { return Record::with_expiry(current, mutation.expires_at_ms, mutation.seq); },
          [&](const Record& published, const auto& is_current) {
            tier_.write_through(mutation.key, published, is_current, retired);
          });
      if (outcome == Store::UpdateOutcome::kOutOfMemory) {
        s = out_of_memory(mutation.type == LogOpType::kExpire ? "in expire" : "in persist");
      }
      present = outcome != Store::UpdateOutcome::kNotFound;
      break;
    }
    case LogOpType::kClear: {
      const CacheTier::WriteWindowAll window(tier_);
      store_.remove_all();
      tier_.clear();  // after the store (see CacheTier::clear)
      break;
    }
    case LogOpType::kBatch:
      return Status::invalid_argument("a batch is applied one operation at a time");
  }
  if (found != nullptr) *found = present;
  return s;
}

Status Applier::replay(const LogOp& op) {
  Record* record = nullptr;
  switch (op.type) {
    case LogOpType::kPut:
      if (!Record::verify(op.record)) return Status::corruption("a put whose value is not a valid record");
      record = Record::from_encoded(op.record);
      if (record == nullptr) return out_of_memory("replaying the log");
      max_seq_ = std::max(max_seq_, record->seq());
      break;
    case LogOpType::kExpire:
    case LogOpType::kPersist:
      max_seq_ = std::max(max_seq_, op.seq);
      break;
    case LogOpType::kErase:
      break;
    case LogOpType::kClear: {
      // Touches every key: everything before it first, then the clear alone.
      Status s = apply_all_replayed();
      Mutation clear;
      clear.type = LogOpType::kClear;
      if (s.ok()) s = apply(clear);
      return s;
    }
    case LogOpType::kBatch:
      return Status::corruption("a batch inside a batch");
  }
  try {
    if (filling_ == nullptr) filling_ = std::make_unique<ReplayBatch>();
    filling_->add(op.type, op.key, record, op.expires_at_ms, op.seq);
  } catch (const std::bad_alloc&) {
    if (record != nullptr) Record::unref(record);
    return out_of_memory("replaying the log");
  }
  return filling_->full() ? hand_off() : Status::ok_status();
}

Status Applier::finish_replay() {
  Status s = apply_all_replayed();
  stop_applying();
  filling_.reset();
  applying_.reset();
  return s;
}

Status Applier::apply_all_replayed() {
  Status s = wait_applied();
  if (s.ok() && filling_ != nullptr) s = sort_replayed(*filling_);
  if (s.ok() && filling_ != nullptr) s = apply_replayed(*filling_);
  return s;
}

Status Applier::wait_applied() {
  std::unique_lock<std::mutex> lock(handoff_mutex_);
  handoff_.wait(lock, [this] { return !handed_off_; });
  return std::exchange(applying_status_, Status::ok_status());
}

void Applier::apply_handed_off() {
  // This thread allocates every node the replay loads: without the hold, the first 32 MiB of them
  // would sit in 4 KiB pages (7,600 page faults instead of 1,300 for a 330,000-record log, and no
  // faster than one thread).
  const FirstSegmentHold hold;
  std::unique_lock<std::mutex> lock(handoff_mutex_);
  for (;;) {
    handoff_.wait(lock, [this] { return handed_off_ || stop_applying_; });
    if (!handed_off_) return;
    lock.unlock();
    Status s = apply_replayed(*applying_);
    lock.lock();
    if (applying_status_.ok()) applying_status_ = std::move(s);
    handed_off_ = false;
    handoff_.notify_all();
  }
}

void Applier::stop_applying() noexcept {
  if (!applying_thread_.joinable()) return;
  {
    const std::lock_guard<std::mutex> lock(handoff_mutex_);
    stop_applying_ = true;
  }
  handoff_.notify_all();
  applying_thread_.join();  // after the batch it holds, if any
}

Status Applier::sort_replayed(ReplayBatch& batch) {
  try {
    batch.sort();
    return Status::ok_status();
  } catch (const std::bad_alloc&) {
    return out_of_memory("replaying the log");
  }
}

Status Applier::hand_off() {
  // Sorted here, while the batch before it is still being applied: the two threads' shares of the
  // work are closer to even (reading and sorting; folding and loading).
  Status s = sort_replayed(*filling_);
  if (s.ok()) s = wait_applied();
  if (!s.ok()) return s;
  // Operations on different keys commute, and each key's stay in log order: this batch's are all
  // applied before the next batch's begin (wait_applied() above, on the next hand-off or at the end).
  std::swap(filling_, applying_);
  try {
    if (filling_ == nullptr) filling_ = std::make_unique<ReplayBatch>();
    if (!applying_thread_.joinable()) applying_thread_ = std::thread([this] { apply_handed_off(); });
  } catch (const std::exception&) {  // no memory for a batch, or no thread: apply it here
    s = apply_replayed(*applying_);
    if (s.ok() && filling_ == nullptr) std::swap(filling_, applying_);
    return s;
  }
  {
    const std::lock_guard<std::mutex> lock(handoff_mutex_);
    handed_off_ = true;
  }
  handoff_.notify_all();
  return Status::ok_status();
}

// Why applying the batch this way leaves the store as applying its operations one by one in log order
// would: no operation reads or writes a key other than its own (clears never enter a batch), so
// operations on different keys commute and each key can be applied on its own; sort() keeps each
// key's operations in log order. For one key, the operations fold into its final state, with the
// live path's semantics: a put makes the record the value, an erase makes the key absent, and an
// expire or persist (only older logs hold them: expire() and persist() now log the put they make)
// rewrites the value through Record::with_expiry, or does nothing when the key is absent or its record
// has expired (Store::update removes it then: absent). While the fold has seen no put or erase, the
// key's value is whatever the store holds, so such an expire or persist is applied to the store at once
// (apply(), as live). The final state is then written: an erase through apply(), a put through the
// Loader, after every other key's erases and expires (again: keys commute), in key order. The cache
// tier is empty while the engine opens, so puts that bypass it keep it coherent.
Status Applier::apply_replayed(ReplayBatch& batch) {
  if (batch.empty()) return Status::ok_status();
  using Put = std::pair<std::string_view, Record*>;
  std::vector<Put, Allocator<Put>> puts;  // final values, in key order
  Status s;
  try {
    puts.reserve(batch.size());
  } catch (const std::bad_alloc&) {
    s = out_of_memory("replaying the log");
  }
  for (std::size_t begin = 0; s.ok() && begin < batch.size();) {
    batch.prefetch(begin);  // operations and keys are visited in key order, not where they lie
    const std::string_view key = batch.key(batch.sorted(begin));
    bool known = false;        // a put or erase seen: `value` is the key's value (nullptr: absent)
    Record* value = nullptr;   // owned here
    std::size_t end = begin;  // the key's operations are [begin, end)
    do {
      ReplayBatch::Op& op = batch.sorted(end);
      switch (op.type) {
        case LogOpType::kPut:
          if (value != nullptr) Record::unref(value);
          value = std::exchange(op.record, nullptr);
          known = true;
          break;
        case LogOpType::kErase:
          if (value != nullptr) Record::unref(value);
          value = nullptr;
          known = true;
          break;
        case LogOpType::kExpire:
        case LogOpType::kPersist:
          if (!known) {
            Mutation rewrite;
            rewrite.type = op.type;
            rewrite.key = key;
            rewrite.expires_at_ms = op.expires_at_ms;
            rewrite.seq = op.seq;
            s = apply(rewrite);
          } else if (value != nullptr && store_.expired(*value)) {
            Record::unref(value);
            value = nullptr;
          } else if (value != nullptr) {
            Record* rewritten = Record::with_expiry(*value, op.expires_at_ms, op.seq);
            if (rewritten == nullptr) {
              s = out_of_memory("replaying the log");
            } else if (rewritten != value) {
              Record::unref(value);
              value = rewritten;
            }
          }
          break;
        case LogOpType::kClear:
        case LogOpType::kBatch:
          s = Status::invalid_argument("a clear or batch in a replay batch");
          break;
      }
      ++end;
    } while (s.ok() && end < batch.size() && !batch.starts_key(end));
    if (s.ok() && known && value == nullptr) {
      Mutation erase;
      erase.type = LogOpType::kErase;
      erase.key = key;
      s = apply(erase);
    }
    if (value != nullptr) puts.emplace_back(key, value);  // reserved: cannot throw
    begin = end;
  }
  Store::Loader loader(store_);
  std::size_t loaded = 0;
  for (; s.ok() && loaded < puts.size(); ++loaded) {
    // Keys and records lie in log order and index slots anywhere: load them ahead, the slot (which
    // needs the key) when the key has arrived.
    constexpr std::size_t kAhead = ReplayBatch::kAhead;
    if (loaded + kAhead < puts.size()) {
      __builtin_prefetch(puts[loaded + kAhead].first.data());
      __builtin_prefetch(puts[loaded + kAhead].second);
    }
    if (loaded + kAhead / 2 < puts.size()) loader.prefetch(puts[loaded + kAhead / 2].first);
    if (loader.append(puts[loaded].first, puts[loaded].second) != Store::Appended::kOk) {
      s = out_of_memory("replaying the log");  // sorted and distinct: only memory can run out
      break;
    }
  }
  for (; loaded < puts.size(); ++loaded) Record::unref(puts[loaded].second);
  batch.clear();
  if (s.is_resource_exhausted()) return out_of_memory("replaying the log");
  return s;
}

Status Applier::load_snapshot(SnapshotReader& reader, const std::string& name, std::uint64_t* entries) {
  RecordBacking* backing = RecordBacking::create(reader.file());
  if (backing == nullptr) return out_of_memory("loading " + name);
  const std::uint64_t now = store_.clock().now_ms();
  Store::Loader loader(store_);
  Status s;
  std::string_view key;
  std::string_view bytes;
  std::uint64_t expires_at_ms = 0;
  std::uint32_t value_size = 0;
  // Nothing here reads a record's bytes (the reader noted value sizes and seqs while verifying): the
  // records' pages stay untouched until their keys are read.
  max_seq_ = std::max(max_seq_, reader.max_seq());
  while (s.ok() && reader.next(&key, &bytes, &expires_at_ms, &value_size)) {
    if (expires_at_ms != 0 && now >= expires_at_ms) continue;  // expired while the engine was closed
    Record* record = Record::mapped(bytes, value_size, expires_at_ms, backing);
    if (record == nullptr) {
      s = out_of_memory("loading " + name);
      break;
    }
    const Store::Appended appended = loader.append(key, record);
    if (appended != Store::Appended::kOk) {
      Record::unref(record);
      s = appended == Store::Appended::kOutOfMemory ? out_of_memory("loading " + name)
                                                    : Status::corruption(name + ": keys out of order");
      break;
    }
    ++*entries;
  }
  RecordBacking::unref(backing);  // the records hold their own references
  // Walking the entry tables and keys mapped their pages, and the kernel maps the page-cache folios
  // around what is touched (up to megabytes each): unmap them all, so that the records' pages come
  // back only as keys are read (1 GB snapshot: resident growth 290 MiB before this, 98 MiB after).
  reader.file()->release_pages();
  return s;
}

Status Applier::write_snapshot(SnapshotWriter& writer) {
  // The store's entries in key order, one batch per critical section, while writes go on.
  ScanBatch batch;
  std::string from;
  std::string encoding;  // a record's flatbuffer (Record::encoded())
  bool inclusive = true;
  Status s;
  do {
    store_.collect(from, inclusive, {}, /*bounded=*/false, Store::kMaxCollect, batch);
    for (std::size_t i = 0; i < batch.size() && s.ok(); ++i) {
      const Record& record = batch.record(i);
      try {
        s = writer.add(batch.key(i), record.encoded(&encoding), record.expires_at_ms());
      } catch (const std::bad_alloc&) {
        s = out_of_memory("encoding a record for the snapshot");
      }
    }
    if (!s.ok()) return s;
    if (!batch.exhausted) {
      from.assign(batch.resume_key());
      inclusive = false;
    }
  } while (!batch.exhausted);
  return s;
}

}  // namespace mantis::detail
