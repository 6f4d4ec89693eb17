#include <mantis/engine.hpp>

#include <algorithm>
#include <atomic>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "durability/data_dir.hpp"
#include "durability/log_record.hpp"
#include "engine/applier.hpp"
#include "engine/cache_tier.hpp"
#include "engine/engine_iterator.hpp"
#include "engine/engine_tuning.hpp"
#include "engine/key_locks.hpp"
#include "store/reaper.hpp"
#include "store/record.hpp"
#include "store/store.hpp"
#include "util/clock.hpp"
#include "util/decimal.hpp"
#include "util/retire_list.hpp"
#include "util/striped_counters.hpp"

namespace mantis {
namespace {

using detail::CacheTier;
using detail::kScanRunEntries;
using detail::LogOp;
using detail::LogOpType;
using detail::Record;
using detail::Store;

std::string describe_size(std::string_view what, std::size_t size, std::string_view limit_name, std::size_t limit) {
  return std::string(what) + " of " + std::to_string(size) + " bytes exceeds " + std::string(limit_name) + " (" +
         std::to_string(limit) + ")";
}

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

// A log record's operation (log_record.hpp).
LogOp log_op(LogOpType type, std::string_view key = {}, std::string_view record = {}) {
  LogOp op;
  op.type = type;
  op.key = key;
  op.record = record;
  return op;
}

// The smallest key greater than every key that starts with `prefix`, or "" when there is none.
std::string prefix_successor(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (!end.empty()) end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

}  // namespace

// The engine's parts: the store, the cache tier in front of it, the data directory (log and snapshots)
// behind it when durable, and the reaper. Writes are logged, then go to the store, then through the
// tier; point reads go to the tier, then to the store.
struct Engine::Impl {
  // Point reads are not counted apart: each adds one hit or one miss, so gets = hits + misses.
  enum Counter : std::size_t { kPuts, kHits, kMisses, kErases };

  Impl(const Options& opts, const detail::Clock& clk) : options(opts), clock(clk), store(clk), cache_tier(opts, clk) {}

  // Recovers options.dir into the store (when set), then starts the reaper.
  Status start(detail::Env* env) {
    if (!options.dir.empty()) {
      detail::DataDir::Recovered recovered;
      Status s = detail::DataDir::open(options, env, applier, &recovered, &data_dir);
      if (!s.ok()) return s;
      seq.store(applier.max_seq() + 1, std::memory_order_relaxed);
    }
    if (options.reaper_interval.count() > 0) reaper.emplace(store, options.reaper_interval);
    return Status::ok_status();
  }

  // The log record of a write, encoded into the calling thread's buffer with a placeholder LSN; nullptr
  // for a memory-only engine. Valid until the thread's next call.
  std::string* encode(const LogOp& op) const {
    if (!data_dir) return nullptr;
    std::string& payload = log_buffer();
    detail::append_log_record(&payload, 0, op);
    return &payload;
  }
  // A put's log payload: the record's flatbuffer encoding (made only for a durable engine).
  std::string* encode_put(std::string_view key, const Record& record) const {
    if (!data_dir) return nullptr;
    thread_local std::string encoding;
    return encode(log_op(LogOpType::kPut, key, record.encoded(&reused(encoding))));
  }
  std::string* encode_batch(std::span<const LogOp> ops) const {
    if (!data_dir) return nullptr;
    std::string& payload = log_buffer();
    detail::append_log_batch(&payload, 0, ops);
    return &payload;
  }
  static std::string& log_buffer() {
    thread_local std::string buffer;
    return reused(buffer);
  }
  // Empties a thread's buffer, kept for its capacity unless a large write grew it past 1 MiB.
  static std::string& reused(std::string& buffer) {
    buffer.clear();
    if (buffer.capacity() > (std::size_t{1} << 20)) buffer.shrink_to_fit();
    return buffer;
  }

  // Logs `payload` (from encode(); nullptr in memory) and runs apply(), which returns a non-OK Status
  // only when it could not apply the write (the log then refuses every later write: see WriteAheadLog).
  template <class Apply>
  Status logged(std::string* payload, bool sync, Apply&& apply) {
    if (!data_dir) return apply();
    return data_dir->write(payload, sync, [&apply](std::uint64_t) { return apply(); });
  }

  Status check_key(std::string_view key) const {
    if (key.size() > options.max_key_size) {
      return Status::invalid_argument(describe_size("key", key.size(), "Options::max_key_size", options.max_key_size));
    }
    return Status::ok_status();
  }
  Status check_put(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) const {
    Status s = check_key(key);
    if (!s.ok()) return s;
    if (value.size() > options.max_value_size) {
      return Status::invalid_argument(
          describe_size("value", value.size(), "Options::max_value_size", options.max_value_size));
    }
    return check_ttl(ttl);
  }
  static Status check_ttl(std::chrono::milliseconds ttl) {
    if (ttl.count() < 0) return Status::invalid_argument("ttl must be >= 0 ms, got " + std::to_string(ttl.count()));
    if (ttl > WriteOptions::kMaxTtl) {
      return Status::invalid_argument("ttl of " + std::to_string(ttl.count()) + " ms exceeds the maximum of " +
                                      std::to_string(WriteOptions::kMaxTtl.count()) + " ms");
    }
    return Status::ok_status();
  }

  // expires_at for a TTL counted from now (0 = none). Validated TTLs cannot overflow.
  std::uint64_t expires_at(std::chrono::milliseconds ttl) const {
    return ttl.count() == 0 ? 0 : clock.now_ms() + static_cast<std::uint64_t>(ttl.count());
  }
  std::uint64_t next_seq() { return seq.fetch_add(1, std::memory_order_relaxed); }

  Record* make_record(std::string_view value, std::chrono::milliseconds ttl) {
    return Record::create(value, expires_at(ttl), next_seq());
  }

  // Publishes `record` (taking over the caller's reference) as the key's value (Applier), and counts it.
  Status put(std::string_view key, Record* record) {
    detail::Mutation mutation;
    mutation.key = key;
    mutation.record = record;
    Status s = applier.apply(mutation);
    if (s.ok()) counters.add(kPuts);
    return s;
  }

  void erase(std::string_view key) {
    detail::Mutation mutation;
    mutation.type = LogOpType::kErase;
    mutation.key = key;
    static_cast<void>(applier.apply(mutation));  // an erase allocates nothing: it cannot fail
    counters.add(kErases);
  }

  // The stripe a plain logged write of `key` holds from before it is logged until it is applied, so
  // that no conditional write decides in between (key_locks.hpp); none in memory.
  std::optional<detail::KeyLocks::Shared> plain_write_lock(std::string_view key) {
    if (!data_dir) return std::nullopt;
    return std::optional<detail::KeyLocks::Shared>(std::in_place, key_locks, key);
  }

  // What a conditional put decided to store.
  struct Draft {
    std::string_view value;
    std::uint64_t expires_at_ms = 0;
  };
  // put_if for a given value: writes `value` (its expiry from `write`, keep_ttl included) if
  // admit(live record or nullptr) holds. The key and value are checked first.
  template <class Admit>
  Status put_value_if(std::string_view key, std::string_view value, const WriteOptions& write, Admit&& admit,
                      bool* wrote) {
    Status s = check_put(key, value, write.ttl);
    if (!s.ok()) return s;
    return put_if(
        key, write.sync,
        [&](const Record* live, Draft* draft) {
          if (!admit(live)) return false;
          *draft = {value, expiry_for(live, write)};
          return true;
        },
        wrote);
  }

  // A conditional put of `key`: decide(live, &draft) gets the key's live record (nullptr when absent or
  // expired) and returns whether to write draft. In memory that is one CAS on the key's node
  // (Store::put_if, via the Applier), decide running again if another write wins the race; in a
  // durable engine, under the key's exclusive stripe, decide reads the store, and what it decided is
  // logged as a plain put and applied (key_locks.hpp). *wrote tells whether it wrote.
  template <class Decide>
  Status put_if(std::string_view key, bool sync, Decide&& decide, bool* wrote) {
    Status failure;
    Record* made = nullptr;  // the last record made and not published
    auto make = [&](const Record* live) -> Record* {
      if (made != nullptr) Record::unref(std::exchange(made, nullptr));  // lost a race: decide again
      Draft draft;
      if (!decide(live, &draft)) return nullptr;
      made = Record::create(draft.value, draft.expires_at_ms, next_seq());
      if (made == nullptr) failure = Status::resource_exhausted("out of memory encoding value");
      return made;
    };
    *wrote = false;
    if (!data_dir) {
      const detail::FunctionRef<Record*(const Record*)> make_ref(make);
      detail::Mutation mutation;
      mutation.key = key;
      mutation.make = &make_ref;
      Status s = applier.apply(mutation, wrote);
      if (*wrote) {
        counters.add(kPuts);  // the store owns `made` now
      } else if (made != nullptr) {
        Record::unref(made);
      }
      return s.ok() ? failure : s;
    }
    const detail::KeyLocks::Exclusive lock(key_locks, key);
    if (!store.read(key, [&](Record& live) { make(&live); })) make(nullptr);
    if (made == nullptr) return failure;
    Record* record = made;
    bool handed_over = false;  // put() owns the record once called
    Status s = logged(encode_put(key, *record), sync, [&] {
      handed_over = true;
      return put(key, record);
    });
    if (!handed_over) Record::unref(record);
    *wrote = s.ok();
    return s;
  }
  // A conditional erase: removes the key only if it is live and admit(record) holds; *erased tells
  // whether it did. Atomic as put_if() is (Store::erase_if in memory; the exclusive stripe, a check and
  // a logged erase in a durable engine, nothing logged when it does not erase).
  template <class Admit>
  Status erase_if(std::string_view key, bool sync, Admit&& admit, bool* erased) {
    *erased = false;
    if (!data_dir) {
      const detail::FunctionRef<bool(const Record&)> admit_ref(admit);
      detail::Mutation mutation;
      mutation.type = LogOpType::kErase;
      mutation.key = key;
      mutation.admit = &admit_ref;
      Status s = applier.apply(mutation, erased);
      if (*erased) counters.add(kErases);
      return s;
    }
    const detail::KeyLocks::Exclusive lock(key_locks, key);
    bool admitted = false;
    store.read(key, [&](Record& live) { admitted = admit(static_cast<const Record&>(live)); });
    if (!admitted) return Status::ok_status();
    Status s = logged(encode(log_op(LogOpType::kErase, key)), sync, [&] {
      erase(key);
      return Status::ok_status();
    });
    *erased = s.ok();
    return s;
  }
  // A new value's expiry: the live record's when keep_ttl says so, else options.ttl from now.
  std::uint64_t expiry_for(const Record* live, const WriteOptions& write) const {
    return live != nullptr && write.keep_ttl ? live->expires_at_ms() : expires_at(write.ttl);
  }

  // expire (expires_at_ms > 0) or persist (0): logs the key's new expiry, then gives the key's live
  // record that expiry (Applier). NotFound when the key is absent or expired at that moment.
  Status rewrite_expiry(std::string_view key, LogOpType op, std::uint64_t expires_at_ms) {
    detail::Mutation mutation;
    mutation.type = op;
    mutation.key = key;
    mutation.expires_at_ms = expires_at_ms;
    mutation.seq = next_seq();
    LogOp log_entry = log_op(op, key);
    log_entry.expires_at_ms = expires_at_ms;
    log_entry.seq = mutation.seq;
    const auto lock = plain_write_lock(key);
    bool found = false;
    Status s = logged(encode(log_entry), /*sync=*/false, [&] { return applier.apply(mutation, &found); });
    if (!s.ok()) return s;
    return found ? Status::ok_status() : Status::not_found();
  }

  // A point read: `consume_entry(CacheEntry&)` on a cache hit, else `consume_record(Record&)` on the
  // store's record, which then fills the tier (inside the store's critical section, see CacheTier::fill).
  template <class ConsumeEntry, class ConsumeRecord>
  bool read(std::string_view key, ConsumeEntry&& consume_entry, ConsumeRecord&& consume_record) const {
    const CacheTier::Probe probe = cache_tier.probe(key, consume_entry);
    if (probe == CacheTier::Probe::kHit) {
      counters.add(kHits);
      return true;
    }
    detail::RetireList retired;  // destroyed after the store's critical section has ended
    const bool found = store.read_checked(key, [&](Record& record, const auto& is_current) {
      consume_record(record);
      if (probe == CacheTier::Probe::kMiss) cache_tier.fill(key, record, is_current, retired);
    });
    counters.add(found ? kHits : kMisses);
    return found;
  }

  const Options options;
  const detail::Clock& clock;
  Store store;
  std::atomic<std::uint64_t> seq{1};
  mutable detail::StripedCounters<4> counters;
  mutable CacheTier cache_tier;
  detail::Applier applier{store, cache_tier};  // every write, live or replayed; the data dir's host
  detail::KeyLocks key_locks;                  // a durable engine's conditional writes (key_locks.hpp)
  std::unique_ptr<detail::DataDir> data_dir;   // null in memory; closes before the store is destroyed
  std::optional<detail::Reaper> reaper;        // last: stops first
};

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
  std::optional<detail::KeyLocks::SharedSet> locks;  // a durable engine's stripes of the batch's keys
  if (impl_->data_dir) {
    std::vector<std::size_t> stripes;
    stripes.reserve(batch.count());
    for (const Op& op : batch.ops()) stripes.push_back(detail::KeyLocks::stripe_of(op.key));
    locks.emplace(impl_->key_locks, std::move(stripes));
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

std::size_t Engine::size() const { return impl_->store.size(); }

Status Engine::clear() {
  detail::Mutation mutation;
  mutation.type = LogOpType::kClear;
  std::optional<detail::KeyLocks::SharedAll> locks;  // a durable engine's every stripe (key_locks.hpp)
  if (impl_->data_dir) locks.emplace(impl_->key_locks);
  return impl_->logged(impl_->encode(log_op(LogOpType::kClear)), /*sync=*/false,
                       [&] { return impl_->applier.apply(mutation); });
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
  impl_->cache_tier.report(s);
  return s;
}

}  // namespace mantis
