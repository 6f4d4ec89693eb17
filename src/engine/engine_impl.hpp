// Engine::Impl: the engine's parts and the write paths every public call goes through. Shared by the
// facade (engine.cpp) and transactions (transaction.cpp); nothing else includes it.
#pragma once

#include <mantis/engine.hpp>
#include <mantis/transaction.hpp>

#include <algorithm>
#include <atomic>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "durability/data_dir.hpp"
#include "durability/log_record.hpp"
#include "engine/applier.hpp"
#include "engine/cache_tier.hpp"
#include "mvcc/key_locks.hpp"
#include "mvcc/snapshot_reads.hpp"
#include "mvcc/versioning.hpp"
#include "store/reaper.hpp"
#include "store/record.hpp"
#include "store/store.hpp"
#include "util/clock.hpp"
#include "util/histogram.hpp"
#include "util/rcu.hpp"
#include "util/retire_list.hpp"
#include "util/striped_counters.hpp"

namespace mantis {
namespace engine_internal {

using detail::CacheTier;
using detail::LogOp;
using detail::LogOpType;
using detail::Record;
using detail::Store;

inline std::string describe_size(std::string_view what, std::size_t size, std::string_view limit_name,
                                 std::size_t limit) {
  return std::string(what) + " of " + std::to_string(size) + " bytes exceeds " + std::string(limit_name) + " (" +
         std::to_string(limit) + ")";
}

// A log record's operation (log_record.hpp).
inline LogOp log_op(LogOpType type, std::string_view key = {}, std::string_view record = {}) {
  LogOp op;
  op.type = type;
  op.key = key;
  op.record = record;
  return op;
}

}  // namespace engine_internal

// The engine's parts: the store, the cache tier in front of it, the data directory (log and snapshots)
// behind it when durable, and the reaper. Writes are logged, then go to the store, then through the
// tier; point reads go to the tier, then to the store.
struct Engine::Impl {
  using CacheTier = detail::CacheTier;
  using LogOp = detail::LogOp;
  using LogOpType = detail::LogOpType;
  using Record = detail::Record;
  using Store = detail::Store;

  // Point reads are not counted apart: each adds one hit or one miss, so gets = hits + misses.
  enum Counter : std::size_t { kPuts, kHits, kMisses, kErases, kCommits, kConflicts };

  Impl(const Options& opts, const detail::Clock& clk) : options(opts), clock(clk), store(clk), cache_tier(opts, clk) {
    store.set_deciding_writers(&key_locks);  // locked writes decide under their stripes (store.hpp E1)
  }

  // Recovers options.dir into the store (when set), then starts the reaper.
  Status start(detail::Env* env) {
    if (!options.dir.empty()) {
      Status s = detail::DataDir::open(options, env, applier, &recovered, &data_dir);
      if (!s.ok()) return s;
      versions.start_at(applier.max_seq() + 1);
    }
    if (options.reaper_interval.count() > 0) {
      reaper.emplace(store, options.reaper_interval, [this] { versions.maybe_turn_off(); });
    }
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
    return encode(engine_internal::log_op(LogOpType::kPut, key, record.encoded(&reused(encoding))));
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
    const detail::LatencySampler timed(commit_wait_ns);
    return data_dir->write(payload, sync, [&apply](std::uint64_t) { return apply(); });
  }

  Status check_key(std::string_view key) const {
    if (key.size() > options.max_key_size) {
      return Status::invalid_argument(engine_internal::describe_size("key", key.size(), "Options::max_key_size", options.max_key_size));
    }
    return Status::ok_status();
  }
  Status check_put(std::string_view key, std::string_view value, std::chrono::milliseconds ttl) const {
    Status s = check_key(key);
    if (!s.ok()) return s;
    if (value.size() > options.max_value_size) {
      return Status::invalid_argument(
          engine_internal::describe_size("value", value.size(), "Options::max_value_size", options.max_value_size));
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

  Record* make_record(std::string_view value, std::chrono::milliseconds ttl) {
    return Record::create(value, expires_at(ttl), versions.take());
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

  // The scope of one write call (Versioning, V4): an RCU critical section, begun before the write learns
  // whether it is versioned and ended after it is applied. When it was versioned, its end gives the mode
  // a chance to turn off (outside the section).
  class WriteScope {
   public:
    explicit WriteScope(Impl& impl) : versions_(impl.versions) {
      section_.emplace();
      versioned_ = versions_.versioned();
    }
    ~WriteScope() {
      section_.reset();
      if (versioned_) versions_.maybe_turn_off();
    }
    WriteScope(const WriteScope&) = delete;
    WriteScope& operator=(const WriteScope&) = delete;
    // Whether this write follows V1-V3 (a snapshot may be alive).
    bool versioned() const noexcept { return versioned_; }

   private:
    detail::Versioning& versions_;
    std::optional<detail::RcuReadLock> section_;
    bool versioned_ = false;
  };

  // The stripe a plain logged write of `key` holds from before it is logged until it is applied
  // (key_locks.hpp K5): shared, so that no conditional write decides in between, or exclusive when the
  // log applies writes on their writers' threads, so that the key's writes also apply in LSN order.
  // None in memory.
  using PlainWriteLock = std::variant<std::monostate, detail::KeyLocks::Shared, detail::KeyLocks::Exclusive>;
  PlainWriteLock plain_write_lock(std::string_view key) {
    if (!data_dir) return PlainWriteLock();
    if (data_dir->applies_in_lsn_order()) return PlainWriteLock(std::in_place_type<detail::KeyLocks::Shared>, key_locks, key);
    return PlainWriteLock(std::in_place_type<detail::KeyLocks::Exclusive>, key_locks, key);
  }
  // The same for a batch's keys.
  struct PlainWriteLocks {
    std::optional<detail::KeyLocks::SharedSet> shared;
    std::optional<detail::KeyLocks::ExclusiveSet> exclusive;
  };
  void plain_write_locks(std::vector<std::size_t> stripes, PlainWriteLocks* locks) {
    if (!data_dir) return;
    if (data_dir->applies_in_lsn_order()) {
      locks->shared.emplace(key_locks, std::move(stripes));
    } else {
      locks->exclusive.emplace(key_locks, std::move(stripes));
    }
  }

  // One operation a locked write decided on. Views stay valid until the write returns.
  struct Planned {
    LogOpType type = LogOpType::kPut;  // kPut or kErase
    std::string_view key;
    std::string_view value;           // kPut
    std::uint64_t expires_at_ms = 0;  // kPut
  };
  using Plan = std::vector<Planned>;

  // The records of a plan's puts (nullptr for its erases), made before the write takes its numbers
  // with sequence number 0, and stamped once it has: so no allocation or copy of a value happens while
  // a snapshot may be waiting for the write (V2). Unreferences whatever was not handed over.
  class PlanRecords {
   public:
    PlanRecords() = default;
    PlanRecords(const PlanRecords&) = delete;
    PlanRecords& operator=(const PlanRecords&) = delete;
    ~PlanRecords() { release(); }
    // Makes a record per put. Throws std::bad_alloc (nothing made then).
    void make(const Plan& ops) {
      records_.assign(ops.size(), nullptr);
      for (std::size_t i = 0; i < ops.size(); ++i) {
        if (ops[i].type != LogOpType::kPut) continue;
        records_[i] = Record::create(ops[i].value, ops[i].expires_at_ms, /*seq=*/0);
        if (records_[i] == nullptr) {
          release();
          throw std::bad_alloc();
        }
      }
    }
    // ops[i]'s record gets sequence number first + i. REQUIRES: no record handed over yet.
    void stamp(std::uint64_t first) noexcept {
      for (std::size_t i = 0; i < records_.size(); ++i) {
        if (records_[i] != nullptr) records_[i]->set_unpublished_seq(first + i);
      }
    }
    Record* operator[](std::size_t i) const noexcept { return records_[i]; }
    // Hands ops[i]'s record over (to the store), which then owns its reference.
    Record* hand_over(std::size_t i) noexcept { return std::exchange(records_[i], nullptr); }

   private:
    void release() noexcept {
      for (std::size_t i = 0; i < records_.size(); ++i) {
        if (records_[i] != nullptr) Record::unref(std::exchange(records_[i], nullptr));
      }
    }
    std::vector<Record*> records_;
  };

  // A write that decides under its keys' stripes (held exclusive, KeyLocks K1): every write while the
  // mode is on (Versioning V1-V3), a transaction's commit, and a durable engine's conditional writes.
  // plan(&ops) reads the store and appends the operations to apply (none: nothing is written; a non-OK
  // Status is returned as is). Then the write takes one sequence number per operation,
  // validate(first) may refuse it (its Status is returned, nothing written), each key's state before
  // the write goes to the history (versioned only), and the operations are logged as one record and
  // applied in order. REQUIRES: inside a WriteScope; `versioned` is its versioned().
  template <class PlanFn, class Validate>
  Status locked_write(std::vector<std::size_t> stripes, bool versioned, bool sync, PlanFn&& plan, Validate&& validate) {
    const detail::KeyLocks::ExclusiveSet locks(key_locks, std::move(stripes));
    Plan ops;
    PlanRecords records;
    try {
      Status s = plan(&ops);
      if (!s.ok() || ops.empty()) return s;
      records.make(ops);
    } catch (const std::bad_alloc&) {  // planning writes nothing
      return Status::resource_exhausted("out of memory planning a write");
    }
    return claimed_write(ops, records, versioned, sync, std::forward<Validate>(validate));
  }
  template <class PlanFn>
  Status locked_write(std::string_view key, bool versioned, bool sync, PlanFn&& plan) {
    return locked_write({detail::KeyLocks::stripe_of(key)}, versioned, sync, std::forward<PlanFn>(plan),
                        [](std::uint64_t) { return Status::ok_status(); });
  }
  // The same for a plan that reads nothing from the store (a transaction's or a batch's writes): its
  // records are made before the stripes are taken. Under them, check() may refuse the write before it
  // claims and takes its numbers (its Status is returned, nothing written); then as locked_write().
  // REQUIRES: ops is not empty.
  template <class Check, class Validate>
  Status locked_write_planned(std::vector<std::size_t> stripes, const Plan& ops, bool versioned, bool sync,
                              Check&& check, Validate&& validate) {
    PlanRecords records;
    try {
      records.make(ops);
    } catch (const std::bad_alloc&) {
      return Status::resource_exhausted("out of memory planning a write");
    }
    const detail::KeyLocks::ExclusiveSet locks(key_locks, std::move(stripes));
    Status s = check();
    if (!s.ok()) return s;
    return claimed_write(ops, records, versioned, sync, std::forward<Validate>(validate));
  }

  // locked_write()'s second half, under the stripes: the claim (V2), the numbers, validate(first),
  // then history, one log record and the apply. ops[i] gets sequence number first + i.
  template <class Validate>
  Status claimed_write(const Plan& ops, PlanRecords& records, bool versioned, bool sync, Validate&& validate) {
    std::optional<detail::Versioning::Claim> claim;
    if (versioned) claim.emplace(versions);  // V2: before the numbers are taken
    const std::uint64_t first = versions.take(ops.size());
    if (claim) claim->set(first);
    records.stamp(first);
    Status s = validate(first);
    if (!s.ok()) return s;
    std::vector<LogOp> log_ops;
    std::vector<std::string> encodings;  // the puts' flatbuffers, which log_ops point into
    try {
      if (versioned) record_history(ops, first);
      if (data_dir) {
        log_ops.reserve(ops.size());
        encodings.reserve(ops.size());  // never reallocated below: log_ops' views stay valid
        for (std::size_t i = 0; i < ops.size(); ++i) {
          LogOp op = engine_internal::log_op(ops[i].type, ops[i].key);
          if (ops[i].type == LogOpType::kPut) op.record = records[i]->encoded(&encodings.emplace_back());
          log_ops.push_back(op);
        }
      }
    } catch (const std::bad_alloc&) {
      return Status::resource_exhausted("out of memory preparing a write");
    }
    std::string* payload = nullptr;
    if (data_dir) payload = ops.size() == 1 ? encode(log_ops[0]) : encode_batch(log_ops);
    return logged(payload, sync, [&] {
      Status result;
      for (std::size_t i = 0; i < ops.size(); ++i) {
        Status applied;
        if (ops[i].type == LogOpType::kPut) {
          applied = put(ops[i].key, records.hand_over(i));
        } else {
          erase(ops[i].key);
        }
        if (!applied.ok() && result.ok()) result = applied;
      }
      return result;
    });
  }

  // V3: before a versioned write changes the store, each key it writes records the state it had (its
  // record, expired or not, or absent) with the number of the write's first operation on the key.
  // Nothing is recorded for a key whose only operations erase it while it is absent, nor for a state
  // that began after the newest live snapshot (V6: a record's seq is when its state began; an absent
  // state began when the key's previous entry ended, which History::add checks).
  void record_history(const Plan& ops, std::uint64_t first) {
    const std::uint64_t newest = versions.newest();  // read after the numbers were taken (V6)
    // Per key, at its first operation: whether any of its operations is more than an erase. A small
    // write compares its keys directly; a larger one counts them in a map.
    constexpr std::size_t kCompareDirectly = 16;
    std::unordered_map<std::string_view, bool> writes_of;
    if (ops.size() > kCompareDirectly) {
      for (const Planned& op : ops) writes_of[op.key] |= op.type != LogOpType::kErase;
    }
    for (std::size_t i = 0; i < ops.size(); ++i) {
      bool writes = false;
      if (ops.size() <= kCompareDirectly) {
        bool seen = false;
        for (std::size_t j = 0; j < i && !seen; ++j) seen = ops[j].key == ops[i].key;
        if (seen) continue;  // an earlier operation on the key recorded it
        for (std::size_t j = i; j < ops.size(); ++j) {
          if (ops[j].key == ops[i].key) writes |= ops[j].type != LogOpType::kErase;
        }
      } else {
        const auto it = writes_of.find(ops[i].key);
        if (it == writes_of.end()) continue;  // an earlier operation on the key recorded it
        writes = it->second;
        writes_of.erase(it);
      }
      const Record* current = nullptr;  // valid for the WriteScope's critical section (store.hpp I5)
      store.read_any(ops[i].key, [&current](const Record& record) { current = &record; });
      if (current == nullptr && !writes) continue;
      if (current != nullptr && current->seq() > newest) continue;
      versions.history().add(ops[i].key, current, first + i, newest);
    }
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
  // expired) and returns whether to write draft. In a memory-only engine with no snapshot alive that is
  // one CAS on the key's node (Store::put_if, via the Applier), decide running again if another write
  // wins the race; otherwise a locked_write(): under the key's exclusive stripe, decide reads the
  // store, and what it decided is logged as a plain put and applied. *wrote tells whether it wrote.
  template <class Decide>
  Status put_if(std::string_view key, bool sync, Decide&& decide, bool* wrote) {
    *wrote = false;
    const WriteScope scope(*this);
    if (data_dir || scope.versioned()) {
      bool planned = false;
      Status s = locked_write(key, scope.versioned(), sync, [&](Plan* ops) {
        Draft draft;
        if (!store.read(key, [&](Record& live) { planned = decide(static_cast<const Record*>(&live), &draft); })) {
          planned = decide(static_cast<const Record*>(nullptr), &draft);
        }
        if (planned) ops->push_back({LogOpType::kPut, key, draft.value, draft.expires_at_ms});
        return Status::ok_status();
      });
      *wrote = s.ok() && planned;
      return s;
    }
    Status failure;
    Record* made = nullptr;  // the last record made and not published
    auto make = [&](const Record* live) -> Record* {
      if (made != nullptr) Record::unref(std::exchange(made, nullptr));  // lost a race: decide again
      Draft draft;
      if (!decide(live, &draft)) return nullptr;
      made = Record::create(draft.value, draft.expires_at_ms, versions.take());
      if (made == nullptr) failure = Status::resource_exhausted("out of memory encoding value");
      return made;
    };
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
  // A conditional erase: removes the key only if it is live and admit(record) holds; *erased tells
  // whether it did. Atomic as put_if() is (Store::erase_if in memory with no snapshot alive; else a
  // locked_write(), nothing logged when it does not erase).
  template <class Admit>
  Status erase_if(std::string_view key, bool sync, Admit&& admit, bool* erased) {
    *erased = false;
    const WriteScope scope(*this);
    if (data_dir || scope.versioned()) {
      bool planned = false;
      Status s = locked_write(key, scope.versioned(), sync, [&](Plan* ops) {
        store.read(key, [&](Record& live) { planned = admit(static_cast<const Record&>(live)); });
        if (planned) ops->push_back({LogOpType::kErase, key, {}, 0});
        return Status::ok_status();
      });
      *erased = s.ok() && planned;
      return s;
    }
    const detail::FunctionRef<bool(const Record&)> admit_ref(admit);
    detail::Mutation mutation;
    mutation.type = LogOpType::kErase;
    mutation.key = key;
    mutation.admit = &admit_ref;
    Status s = applier.apply(mutation, erased);
    if (*erased) counters.add(kErases);
    return s;
  }
  // A new value's expiry: the live record's when keep_ttl says so, else options.ttl from now.
  std::uint64_t expiry_for(const Record* live, const WriteOptions& write) const {
    return live != nullptr && write.keep_ttl ? live->expires_at_ms() : expires_at(write.ttl);
  }

  // expire (expires_at_ms > 0) or persist (0): gives the key's live record that expiry. NotFound when
  // the key is absent or expired at that moment.
  //
  // A durable engine decides under the key's stripe and logs the outcome, a put of the rewritten
  // record, rather than the instruction: whether an expire or persist finds its key live depends on
  // the clock, and a replay deciding again later, after the old TTL ran out, would drop a key whose
  // persist was acknowledged. (Logs of earlier versions hold expire and persist records; replay still
  // applies them as it always did, docs/DURABILITY.md.) While versioning is on, every write decides
  // under its stripes anyway. A memory-only engine otherwise rewrites lock-free.
  Status rewrite_expiry(std::string_view key, LogOpType op, std::uint64_t expires_at_ms) {
    const WriteScope scope(*this);
    if (scope.versioned() || data_dir) return rewrite_expiry_locked(key, op, expires_at_ms, scope.versioned());
    return rewrite_expiry_lock_free(key, op, expires_at_ms);
  }
  Status rewrite_expiry_lock_free(std::string_view key, LogOpType op, std::uint64_t expires_at_ms) {
    detail::Mutation mutation;
    mutation.type = op;
    mutation.key = key;
    mutation.expires_at_ms = expires_at_ms;
    mutation.seq = versions.take();
    bool found = false;
    Status s = applier.apply(mutation, &found);
    if (!s.ok()) return s;
    return found ? Status::ok_status() : Status::not_found();
  }
  // Out of line: inlined into rewrite_expiry, it makes GCC 12 warn (falsely, -Wmaybe-uninitialized)
  // about the WriteScope's section.
  [[gnu::noinline]] Status rewrite_expiry_locked(std::string_view key, LogOpType op, std::uint64_t expires_at_ms, bool versioned) {
    std::string value;  // the live record's value, which the planned put views
    return locked_write(key, versioned, /*sync=*/false, [&](Plan* ops) {
      bool live = false;
      bool unchanged = false;  // persisting a key that has no TTL changes nothing
      store.read(key, [&](Record& record) {
        live = true;
        unchanged = op == LogOpType::kPersist && record.expires_at_ms() == 0;
        if (!unchanged) value.assign(record.value());
      });
      if (!live) return Status::not_found();
      if (!unchanged) ops->push_back({LogOpType::kPut, key, value, expires_at_ms});
      return Status::ok_status();
    });
  }

  // clear(), with the mode on (held by the caller, Versioning::ModeHold): under every stripe, each key's
  // record (expired ones too) goes to the history, ended by the clear's one sequence number (V3), then
  // the clear is logged and applied. REQUIRES: inside a WriteScope, which is versioned().
  Status clear() {
    const detail::KeyLocks::ExclusiveSet locks(key_locks, detail::KeyLocks::ExclusiveSet::all());
    detail::Versioning::Claim claim(versions);
    const std::uint64_t at = versions.take();
    claim.set(at);
    const std::uint64_t newest = versions.newest();
    try {
      std::string from;
      bool inclusive = true;
      while (store.visit(
                 from, inclusive, {}, /*bounded=*/false, Store::kSliceNodes, &from,
                 [&](std::string_view key, const Record& record) {
                   if (record.seq() <= newest) versions.history().add(key, &record, at, newest);
                   return true;
                 },
                 /*include_expired=*/true) == Store::Visited::kMore) {
        inclusive = false;
      }
    } catch (const std::bad_alloc&) {  // what was added describes the state before: harmless
      return Status::resource_exhausted("clear: out of memory keeping the snapshots' history");
    }
    detail::Mutation mutation;
    mutation.type = LogOpType::kClear;
    return logged(encode(engine_internal::log_op(LogOpType::kClear)), /*sync=*/false,
                  [&] { return applier.apply(mutation); });
  }

  // A reader at a snapshot. REQUIRES: `snapshot` was taken from this engine and is live.
  detail::SnapshotReads at(const Snapshot& snapshot) const noexcept {
    return detail::SnapshotReads(store, versions.history(), {snapshot.version_, snapshot.time_ms_});
  }

  // A point read: `consume_entry(CacheEntry&)` on a cache hit, else `consume_record(Record&)` on the
  // store's record, which then fills the tier (inside the store's critical section, see CacheTier::fill).
  template <class ConsumeEntry, class ConsumeRecord>
  bool read(std::string_view key, ConsumeEntry&& consume_entry, ConsumeRecord&& consume_record) const {
    const detail::LatencySampler timed(get_ns);
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
  mutable detail::StripedCounters<6> counters;
  // Latencies of sampled operations (util/histogram.hpp), in nanoseconds: point reads through the
  // tier (get, contains), Engine::put, and a durable write's wait for its log group (append, fdatasync
  // if any, apply).
  mutable detail::Histogram get_ns;
  detail::Histogram put_ns;
  detail::Histogram commit_wait_ns;
  mutable CacheTier cache_tier;
  detail::Applier applier{store, cache_tier};  // every write, live or replayed; the data dir's host
  detail::KeyLocks key_locks;                  // locked writes (locked_write(), key_locks.hpp)
  detail::Versioning versions{store, clock};  // sequence numbers, snapshots, history
  std::unique_ptr<detail::DataDir> data_dir;   // null in memory; closes before the store is destroyed
  Stats::Recovery recovered;                   // what start() recovered
  std::optional<detail::Reaper> reaper;        // last: stops first
};

}  // namespace mantis
