#include <mantis/engine.hpp>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "engine/engine_impl.hpp"
#include "engine/engine_iterator.hpp"
#include "engine/engine_tuning.hpp"
#include "util/decimal.hpp"

namespace mantis {
namespace {

using detail::kScanRunEntries;
using detail::LogOp;
using detail::LogOpType;
using detail::Record;
using detail::Store;
using engine_internal::describe_size;
using engine_internal::log_op;

// clear() from a scan's callback while the versioned mode is off: turning it on waits for every
// critical section, the scan's own included (Versioning::turn_on).
constexpr std::string_view kInsideScan =
    "clear: called from a scan's callback while no snapshot is alive, where it cannot wait for the writes "
    "in flight; call it after the scan";

Status validate_options(const Options& options) {
  if (options.max_key_size == 0 || options.max_key_size > Options::kMaxKeySizeLimit) {
    return Status::invalid_argument("Options::max_key_size must be in 1.." + std::to_string(Options::kMaxKeySizeLimit) +
                                    ", got " + std::to_string(options.max_key_size));
  }
  if (options.max_value_size > Options::kMaxValueSizeLimit) {
    return Status::invalid_argument("Options::max_value_size must be at most " +
                                    std::to_string(Options::kMaxValueSizeLimit) + ", got " +
                                    std::to_string(options.max_value_size));
  }
  if (options.sync_interval.count() <= 0) {
    return Status::invalid_argument("Options::sync_interval must be > 0 ms, got " +
                                    std::to_string(options.sync_interval.count()));
  }
  if (options.reaper_interval.count() < 0) {
    return Status::invalid_argument("Options::reaper_interval must be >= 0 ms, got " +
                                    std::to_string(options.reaper_interval.count()));
  }
  switch (options.durability) {
    case Durability::kNone:
    case Durability::kAsync:
    case Durability::kSync:
    case Durability::kPeriodic:
      break;
    default:
      return Status::invalid_argument("Options::durability is not a Durability value");
  }
  switch (options.cache_admission) {
    case Admission::kAlways:
    case Admission::kTinyLfu:
    case Admission::kAdaptive:
      break;
    default:
      return Status::invalid_argument("Options::cache_admission is not an Admission value");
  }
  return Status::ok_status();
}

// The smallest key greater than every key that starts with `prefix`, or "" when there is none.
std::string prefix_successor(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

}  // namespace


Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

Status Engine::open(const Options& options, std::unique_ptr<Engine>* out) {
  return open_with(options, detail::SystemClock::instance(), nullptr, out);
}

Status Engine::open_with(const Options& options, const detail::Clock& clock, detail::Env* env,
                         std::unique_ptr<Engine>* out) {
  if (out == nullptr) return Status::invalid_argument("open: out is null");
  Status s = validate_options(options);
  if (!s.ok()) return s;
  try {
    auto impl = std::make_unique<Impl>(options, clock);
    s = impl->start(env == nullptr ? detail::Env::posix() : env);
    if (!s.ok()) return s;
    out->reset(new Engine(std::move(impl)));
  } catch (const std::bad_alloc&) {
    return Status::resource_exhausted("open: out of memory");
  } catch (const std::system_error& e) {
    return Status::resource_exhausted(std::string("open: cannot start the reaper thread: ") + e.what());
  }
  return Status::ok_status();
}

Status Engine::put(std::string_view key, std::string_view value, const WriteOptions& options) {
  const detail::LatencySampler timed(impl_->put_ns);
  Status s = impl_->check_put(key, value, options.ttl);
  if (!s.ok()) return s;
  if (options.keep_ttl) {  // reads the key's expiry: a conditional write that always writes
    bool wrote = false;
    return impl_->put_if(
        key, options.sync,
        [&](const Record* live, Impl::Draft* draft) {
          *draft = {value, impl_->expiry_for(live, options)};
          return true;
        },
        &wrote);
  }
  const Impl::WriteScope scope(*impl_);
  if (scope.versioned()) {
    return impl_->locked_write(key, /*versioned=*/true, options.sync, [&](Impl::Plan* ops) {
      ops->push_back({LogOpType::kPut, key, value, impl_->expires_at(options.ttl)});
      return Status::ok_status();
    });
  }
  Record* record = impl_->make_record(value, options.ttl);
  if (record == nullptr) return Status::resource_exhausted("out of memory encoding value");
  bool handed_over = false;  // impl_->put() owns the record once called
  const auto lock = impl_->plain_write_lock(key);
  s = impl_->logged(impl_->encode_put(key, *record), options.sync, [&] {
    handed_over = true;
    return impl_->put(key, record);
  });
  if (!handed_over) Record::unref(record);
  return s;
}

Status Engine::get(std::string_view key, std::string* value) const {
  if (value == nullptr) return Status::invalid_argument("get: value is null");
  Status s = impl_->check_key(key);
  if (!s.ok()) return s;
  auto copy = [value](const auto& entry_or_record) { value->assign(entry_or_record.value()); };
  if (!impl_->read(key, copy, copy)) return Status::not_found();
  return Status::ok_status();
}

Status Engine::get(std::string_view key, ValueView* value) const {
  if (value == nullptr) return Status::invalid_argument("get: value is null");
  Status s = impl_->check_key(key);
  if (!s.ok()) return s;
  const bool found = impl_->read(
      key,
      [value](detail::CacheEntry& entry) {
        entry.ref();  // safe inside the cache's critical section
        detail::ViewAccess::assign(*value, entry.value(), &entry, &detail::CacheEntry::unref_opaque);
      },
      [value](Record& record) {
        record.ref();  // safe inside the store's critical section (store.hpp I5)
        detail::ViewAccess::assign(*value, record.value(), &record, &Record::unref_opaque);
      });
  if (!found) {
    value->reset();
    return Status::not_found();
  }
  return Status::ok_status();
}

bool Engine::contains(std::string_view key) const {
  if (!impl_->check_key(key).ok()) return false;
  return impl_->read(
      key, [](const auto&) {}, [](const auto&) {});
}

Status Engine::erase(std::string_view key, const WriteOptions& options) {
  Status s = impl_->check_key(key);
  if (!s.ok()) return s;
  const Impl::WriteScope scope(*impl_);
  if (scope.versioned()) {
    return impl_->locked_write(key, /*versioned=*/true, options.sync, [&](Impl::Plan* ops) {
      ops->push_back({LogOpType::kErase, key, {}, 0});
      return Status::ok_status();
    });
  }
  const auto lock = impl_->plain_write_lock(key);
  return impl_->logged(impl_->encode(log_op(LogOpType::kErase, key)), options.sync, [&] {
    impl_->erase(key);
    return Status::ok_status();
  });
}

Status Engine::get(std::string_view key, std::string* value, Version* version) const {
  if (value == nullptr) return Status::invalid_argument("get: value is null");
  Status s = impl_->check_key(key);
  if (!s.ok()) return s;
  // From the store, which holds versions (the tier does not): always a linearizable read (DESIGN rule 3).
  const bool found = impl_->store.read(key, [&](Record& record) {
    value->assign(record.value());
    if (version != nullptr) *version = record.seq();
  });
  impl_->counters.add(found ? Impl::kHits : Impl::kMisses);
  return found ? Status::ok_status() : Status::not_found();
}

Status Engine::put_if_absent(std::string_view key, std::string_view value, const WriteOptions& options) {
  return put_if_version(key, 0, value, options);
}

Status Engine::put_if_present(std::string_view key, std::string_view value, const WriteOptions& options) {
  bool wrote = false;
  const Status s = impl_->put_value_if(
      key, value, options, [](const Record* live) { return live != nullptr; }, &wrote);
  if (!s.ok() || wrote) return s;
  return Status::condition_failed("put_if_present: the key is absent");
}

Status Engine::put_if_version(std::string_view key, Version expected, std::string_view value,
                              const WriteOptions& options) {
  bool wrote = false;
  const Status s = impl_->put_value_if(
      key, value, options,
      [expected](const Record* live) { return live == nullptr ? expected == 0 : live->seq() == expected; }, &wrote);
  if (!s.ok() || wrote) return s;
  return Status::condition_failed(expected == 0 ? "the key is present"
                                                : "the key's version is not " + std::to_string(expected));
}

Status Engine::erase_if_version(std::string_view key, Version expected, const WriteOptions& options) {
  Status s = impl_->check_key(key);
  if (!s.ok()) return s;
  bool erased = false;
  s = impl_->erase_if(
      key, options.sync, [expected](const Record& live) { return live.seq() == expected; }, &erased);
  if (!s.ok()) return s;
  return erased ? s : Status::condition_failed("the key's version is not " + std::to_string(expected));
}

Status Engine::erase(std::string_view key, bool* removed, const WriteOptions& options) {
  if (removed == nullptr) return Status::invalid_argument("erase: removed is null");
  Status s = impl_->check_key(key);
  if (!s.ok()) return s;
  return impl_->erase_if(
      key, options.sync, [](const Record&) { return true; }, removed);
}

Status Engine::get_and_put(std::string_view key, std::string_view value, std::optional<std::string>* old,
                           const WriteOptions& options) {
  if (old == nullptr) return Status::invalid_argument("get_and_put: old is null");
  Status s = impl_->check_put(key, value, options.ttl);
  if (!s.ok()) return s;
  bool wrote = false;
  std::optional<std::string> previous;
  s = impl_->put_if(
      key, options.sync,
      [&](const Record* live, Impl::Draft* draft) {
        if (live == nullptr) {
          previous.reset();
        } else {
          previous.emplace(live->value());
        }
        *draft = {value, impl_->expiry_for(live, options)};
        return true;
      },
      &wrote);
  if (s.ok()) *old = std::move(previous);
  return s;
}

Status Engine::increment(std::string_view key, std::int64_t delta, std::int64_t* result, const WriteOptions& options) {
  Status s = impl_->check_key(key);
  if (!s.ok()) return s;
  s = Impl::check_ttl(options.ttl);
  if (!s.ok()) return s;
  Status refused;
  std::int64_t sum = 0;
  char text[20];
  bool wrote = false;
  s = impl_->put_if(
      key, options.sync,
      [&](const Record* live, Impl::Draft* draft) {
        std::int64_t current = 0;
        if (live != nullptr && !detail::parse_decimal_int64(live->value(), &current)) {
          refused = Status::invalid_argument("increment: the value is not a decimal 64-bit integer");
          return false;
        }
        if (__builtin_add_overflow(current, delta, &sum)) {
          refused = Status::invalid_argument("increment: " + std::to_string(current) + " + " + std::to_string(delta) +
                                             " overflows a 64-bit integer");
          return false;
        }
        refused = Status::ok_status();
        // A live key keeps its expiry (as INCR does); options.ttl applies to an absent one.
        *draft = {detail::format_decimal_int64(sum, text),
                  live != nullptr ? live->expires_at_ms() : impl_->expires_at(options.ttl)};
        return true;
      },
      &wrote);
  if (!s.ok()) return s;
  if (!refused.ok()) return refused;
  if (result != nullptr) *result = sum;
  return s;
}

Status Engine::write(const WriteBatch& batch, const WriteOptions& options) {
  using Op = WriteBatch::Op;
  for (const Op& op : batch.ops()) {
    Status s = op.kind == Op::Kind::kPut ? impl_->check_put(op.key, op.value, op.ttl) : impl_->check_key(op.key);
    if (!s.ok()) return s;
  }
  if (options.keep_ttl) return Status::invalid_argument("write: WriteOptions::keep_ttl does not apply to a batch");
  if (batch.count() == 0) return Status::ok_status();
  const Impl::WriteScope scope(*impl_);
  if (scope.versioned()) {  // one locked write: a snapshot sees the whole batch or none of it (V2)
    std::vector<std::size_t> stripes;
    Impl::Plan ops;
    try {
      stripes.reserve(batch.count());
      ops.reserve(batch.count());
    } catch (const std::bad_alloc&) {
      return Status::resource_exhausted("write: out of memory planning the batch");
    }
    for (const Op& op : batch.ops()) {
      stripes.push_back(detail::KeyLocks::stripe_of(op.key));
      if (op.kind == Op::Kind::kPut) {
        ops.push_back({LogOpType::kPut, op.key, op.value, impl_->expires_at(op.ttl)});
      } else {
        ops.push_back({LogOpType::kErase, op.key, {}, 0});
      }
    }
    return impl_->locked_write_planned(
        std::move(stripes), ops, /*versioned=*/true, options.sync, [] { return Status::ok_status(); },
        [](std::uint64_t) { return Status::ok_status(); });
  }
  // Encode every record before applying anything, so running out of memory changes nothing.
  std::vector<Record*> records;
  std::vector<LogOp> log_ops;
  std::vector<std::string> encodings;  // the puts' flatbuffers, which log_ops point into
  try {
    records.reserve(batch.count());
    if (impl_->data_dir) {
      log_ops.reserve(batch.count());
      encodings.reserve(batch.count());  // never reallocated below: log_ops' views stay valid
    }
    for (const Op& op : batch.ops()) {
      if (op.kind == Op::Kind::kPut) {
        Record* record = impl_->make_record(op.value, op.ttl);
        if (record == nullptr) throw std::bad_alloc();
        records.push_back(record);
        if (impl_->data_dir) {
          log_ops.push_back(log_op(LogOpType::kPut, op.key, record->encoded(&encodings.emplace_back())));
        }
      } else if (impl_->data_dir) {
        log_ops.push_back(log_op(LogOpType::kErase, op.key));
      }
    }
  } catch (const std::bad_alloc&) {
    for (Record* r : records) Record::unref(r);
    return Status::resource_exhausted("out of memory encoding a batch");
  }
  std::size_t handed_over = 0;                       // records impl_->put() owns
  Impl::PlainWriteLocks locks;  // a durable engine's stripes of the batch's keys
  if (impl_->data_dir) {
    std::vector<std::size_t> stripes;
    stripes.reserve(batch.count());
    for (const Op& op : batch.ops()) stripes.push_back(detail::KeyLocks::stripe_of(op.key));
    impl_->plain_write_locks(std::move(stripes), &locks);
  }
  Status s = impl_->logged(impl_->encode_batch(log_ops), options.sync, [&] {
    Status result;
    for (const Op& op : batch.ops()) {
      if (op.kind == Op::Kind::kErase) {
        impl_->erase(op.key);
      } else {
        Status put = impl_->put(op.key, records[handed_over++]);
        if (!put.ok() && result.ok()) result = put;
      }
    }
    return result;
  });
  for (std::size_t i = handed_over; i < records.size(); ++i) Record::unref(records[i]);
  return s;
}

Status Engine::expire(std::string_view key, std::chrono::milliseconds ttl) {
  Status s = impl_->check_key(key);
  if (!s.ok()) return s;
  s = Impl::check_ttl(ttl);
  if (!s.ok()) return s;
  // ttl == 0 expires the key at once: expires_at = now (>= 1 so that it is not "no expiry").
  const std::uint64_t at =
      ttl.count() == 0 ? std::max<std::uint64_t>(impl_->clock.now_ms(), 1) : impl_->expires_at(ttl);
  return impl_->rewrite_expiry(key, LogOpType::kExpire, at);
}

Status Engine::persist(std::string_view key) {
  Status s = impl_->check_key(key);
  if (!s.ok()) return s;
  return impl_->rewrite_expiry(key, LogOpType::kPersist, 0);
}

Status Engine::ttl(std::string_view key, std::optional<std::chrono::milliseconds>* remaining) const {
  if (remaining == nullptr) return Status::invalid_argument("ttl: remaining is null");
  Status s = impl_->check_key(key);
  if (!s.ok()) return s;
  std::optional<std::chrono::milliseconds> result;
  const bool found = impl_->store.read(key, [&](Record& record) {
    const std::uint64_t at = record.expires_at_ms();
    if (at == 0) return;
    const std::uint64_t now = impl_->clock.now_ms();
    result = std::chrono::milliseconds(at > now ? static_cast<std::int64_t>(at - now) : 1);
  });
  if (!found) return Status::not_found();
  *remaining = result;
  return Status::ok_status();
}

std::unique_ptr<Iterator> Engine::new_iterator() const {
  return std::make_unique<detail::EngineIterator>(impl_->store);
}

Status Engine::scan_range(std::string_view begin, std::string_view end, ScanFn fn) const {
  // Runs of kScanRunEntries, each in one store critical section: fn sees keys and values in place.
  std::string from(begin);
  bool inclusive = true;
  while (true) {
    const Store::Visited visited =
        impl_->store.visit(from, inclusive, end, !end.empty(), kScanRunEntries, &from,
                           [&fn](std::string_view key, const Record& record) { return fn(key, record.value()); });
    if (visited != Store::Visited::kMore) return Status::ok_status();
    inclusive = false;
  }
}

Status Engine::scan_prefix_range(std::string_view prefix, ScanFn fn) const {
  const std::string end = prefix_successor(prefix);
  if (end.empty()) return scan_range(prefix, {}, fn);
  return scan_range(prefix, end, fn);
}

Snapshot Engine::snapshot() const {
  try {
    const std::optional<detail::Versioning::Held> held = impl_->versions.acquire();
    if (!held) return Snapshot();  // inside a scan's callback, with the mode off
    return Snapshot(&impl_->versions, held->version, held->time_ms);
  } catch (const std::bad_alloc&) {
    return Snapshot();  // empty: reads through it are refused
  }
}

Status Engine::check_snapshot(const ReadOptions& options) const {
  if (options.snapshot == nullptr) return Status::ok_status();
  if (!options.snapshot->valid()) return Status::invalid_argument("ReadOptions::snapshot is empty (released)");
  if (options.snapshot->owner_ != &impl_->versions) {
    return Status::invalid_argument("ReadOptions::snapshot belongs to another engine");
  }
  return Status::ok_status();
}

Status Engine::get(const ReadOptions& options, std::string_view key, std::string* value, Version* version) const {
  if (options.snapshot == nullptr) return get(key, value, version);
  if (value == nullptr) return Status::invalid_argument("get: value is null");
  Status s = check_snapshot(options);
  if (!s.ok()) return s;
  s = impl_->check_key(key);
  if (!s.ok()) return s;
  const bool found = impl_->at(*options.snapshot).get(key, [&](const Record& record) {
    value->assign(record.value());
    if (version != nullptr) *version = record.seq();
  });
  impl_->counters.add(found ? Impl::kHits : Impl::kMisses);
  return found ? Status::ok_status() : Status::not_found();
}

Status Engine::scan_range_at(const ReadOptions& options, std::string_view begin, std::string_view end,
                             ScanFn fn) const {
  if (options.snapshot == nullptr) return scan_range(begin, end, fn);
  Status s = check_snapshot(options);
  if (!s.ok()) return s;
  const detail::SnapshotReads at = impl_->at(*options.snapshot);
  detail::ScanBatch batch;
  std::string from(begin);
  bool inclusive = true;
  try {
    while (true) {
      at.collect(from, inclusive, end, !end.empty(), kScanRunEntries, batch);
      for (std::size_t i = 0; i < batch.size(); ++i) {
        if (!fn(batch.key(i), batch.record(i).value())) return Status::ok_status();
      }
      if (batch.exhausted) return Status::ok_status();
      from.assign(batch.resume_key());
      inclusive = false;
    }
  } catch (const std::bad_alloc&) {
    return Status::resource_exhausted("scan: out of memory reading at a snapshot");
  }
}

Status Engine::scan_prefix_range_at(const ReadOptions& options, std::string_view prefix, ScanFn fn) const {
  const std::string end = prefix_successor(prefix);
  if (end.empty()) return scan_range_at(options, prefix, {}, fn);
  return scan_range_at(options, prefix, end, fn);
}

Status Engine::new_iterator(const ReadOptions& options, std::unique_ptr<Iterator>* out) const {
  if (out == nullptr) return Status::invalid_argument("new_iterator: out is null");
  Status s = check_snapshot(options);
  if (!s.ok()) return s;
  if (options.snapshot == nullptr) {
    *out = new_iterator();
  } else {
    *out = std::make_unique<detail::EngineIterator>(impl_->store, impl_->at(*options.snapshot));
  }
  return Status::ok_status();
}

std::size_t Engine::size() const { return impl_->store.size(); }

Status Engine::clear() {
  // With the mode held on, every write that overlaps the clear holds its keys' stripes (V1), and the
  // clear holds them all: it is atomic against every other write, in memory too, where a write with the
  // mode off holds none and a sweep racing it would keep part of a batch.
  std::optional<detail::Versioning::ModeHold> hold;
  try {
    hold.emplace(impl_->versions);
  } catch (const std::bad_alloc&) {
    return Status::resource_exhausted("clear: out of memory");
  }
  if (!hold->holds()) return Status::busy(kInsideScan);
  const Impl::WriteScope scope(*impl_);
  return impl_->clear();
}

Status Engine::sync() {
  if (!impl_->data_dir) return Status::not_supported("sync: this engine is memory-only (Options::dir is empty)");
  return impl_->data_dir->sync();
}

Status Engine::checkpoint() {
  if (!impl_->data_dir) {
    return Status::not_supported("checkpoint: this engine is memory-only (Options::dir is empty)");
  }
  return impl_->data_dir->checkpoint();
}

Status Engine::backup(const std::string& dir) {
  if (!impl_->data_dir) {
    return Status::not_supported("backup: this engine is memory-only (Options::dir is empty)");
  }
  if (dir.empty()) return Status::invalid_argument("backup: the target directory is empty");
  return impl_->data_dir->backup(dir);
}

Stats Engine::stats() const {
  Stats s;
  s.keys = impl_->store.size();
  s.bytes = impl_->store.bytes();
  s.expired = impl_->store.expired_removals();
  s.puts = impl_->counters.sum(Impl::kPuts);
  s.hits = impl_->counters.sum(Impl::kHits);
  s.misses = impl_->counters.sum(Impl::kMisses);
  s.gets = s.hits + s.misses;
  s.erases = impl_->counters.sum(Impl::kErases);
  s.snapshots = impl_->versions.live_snapshots();
  s.versions_kept = impl_->versions.history().entries();
  s.commits = impl_->counters.sum(Impl::kCommits);
  s.conflicts = impl_->counters.sum(Impl::kConflicts);
  s.recovery = impl_->recovered;
  impl_->cache_tier.report(s);
  auto distribution = [](const detail::Histogram& histogram) {
    const detail::Histogram::Summary h = histogram.summary();
    return Stats::Distribution{h.count, h.sum, h.p50, h.p90, h.p99, h.p999, h.max};
  };
  s.latency.get = distribution(impl_->get_ns);
  s.latency.put = distribution(impl_->put_ns);
  s.latency.commit_wait = distribution(impl_->commit_wait_ns);
  if (impl_->data_dir) {
    if (const detail::WriteAheadLog::Timings* log = impl_->data_dir->log_timings()) {
      s.latency.fdatasync = distribution(log->fdatasync_ns);
      s.latency.group_records = distribution(log->group_records);
    }
  }
  return s;
}

}  // namespace mantis
