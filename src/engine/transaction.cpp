// Transaction: reads at its snapshot plus its own buffered writes; commit() is one locked write of the
// engine (Engine::Impl::locked_write) that first checks nothing it read changed since the snapshot.
//
// Why the commit check is enough for serializability (docs/DESIGN.md, rule 5). The commit holds the
// stripes of every key it read or writes (exclusive) and will take its sequence numbers first..; the
// snapshot is alive while it checks, so every write since it was taken recorded the state it ended in
// the history (Versioning, V3), and nothing it needs was dropped (V5, the floor is at most the snapshot).
// - A point read of key k saw k's state at the snapshot S. Every write of k numbered after S has been
//   applied (it held k's stripe before us): it left a record numbered after S in the store, or none
//   (an erase), and an entry with until > S in the history; none can come until we release the
//   stripe, and our numbers are taken after the check. So the check needs no number of its own, and
//   runs before the commit claims (V2): a new snapshot never waits for it. It reads the store
//   (written_since): a record numbered up to S is the state we read, a newer one a conflict; only an
//   absent key asks the history. No write after S: k's state at first - 1 is what we read.
// - A scanned range cannot be locked; instead the commit, once it has its numbers, waits until every
//   write numbered below first has been applied (wait_applied_below), then looks for entries with
//   until in (S, first) on any key of the range: an insert into the range is a write of a key that was
//   absent, so phantoms count.
// So the transaction read exactly the state just before its own number, and its writes take effect
// at that number: the commit order is the version order.
#include <mantis/transaction.hpp>

#include <cstddef>
#include <limits>
#include <memory_resource>
#include <optional>
#include <string>

#include "engine/engine_impl.hpp"
#include "engine/engine_tuning.hpp"

namespace mantis {

struct Transaction::Impl {
  // The buffers below allocate from `arena`: a transaction's keys and values come from a block inline
  // here, then from blocks that grow geometrically, and are all freed at once with the transaction. So
  // a small transaction makes no heap allocation of its own; memory grows with the operations it
  // buffers (an overwritten pending value stays until the end), and goes with the transaction.
  struct Pending {
    std::pmr::string value;
    std::chrono::milliseconds ttl;
  };
  struct Range {
    std::pmr::string begin;
    std::pmr::string end;  // exclusive when bounded
    bool bounded;
  };

  Impl(Engine::Impl& e, Snapshot s) : engine(e), snapshot(std::move(s)) {}

  Status check_open(std::string_view call) const {
    if (!snapshot.valid()) return Status::invalid_argument(std::string(call) + ": the transaction is finished");
    return Status::ok_status();
  }
  // Ends the transaction: releases the snapshot and what it buffered.
  void finish() noexcept {
    snapshot.reset();
    writes.clear();
    reads.clear();
    ranges.clear();
  }

  Engine::Impl& engine;
  Snapshot snapshot;  // empty once finished
  std::byte inline_block[1024];
  std::pmr::monotonic_buffer_resource arena{inline_block, sizeof(inline_block)};
  std::pmr::map<std::pmr::string, std::optional<Pending>, std::less<>> writes{&arena};  // nullopt: erase
  std::pmr::set<std::pmr::string, std::less<>> reads{&arena};  // keys read from the snapshot
  std::pmr::vector<Range> ranges{&arena};                      // ranges scanned
};

namespace {

// Whether a write numbered after `since` has been applied to `key`. REQUIRES: the key's stripe held
// exclusive, the mode on since before `since` was taken: every write of the key numbered so far has
// been applied (Versioning, V1), and each left a record numbered after `since` or no record (an
// erase: the store removes no expired record while the mode is on, V4). So a record numbered up to
// `since` is still the state the snapshot saw, and a newer one a write since; only an absent key needs
// the history (it may have been written and erased since).
bool written_since(const detail::Store& store, const detail::History& history, std::string_view key,
                   std::uint64_t since) {
  std::optional<bool> newer;  // empty: absent
  store.read_any(key, [&](const detail::Record& record) { newer = record.seq() > since; });
  if (newer) return *newer;
  return history.written_between(key, since, std::numeric_limits<std::uint64_t>::max());
}

}  // namespace

Transaction::Transaction(std::unique_ptr<Impl> impl) noexcept : impl_(std::move(impl)) {}

Transaction::~Transaction() { rollback(); }

Status Transaction::get(std::string_view key, std::string* value) {
  Status s = impl_->check_open("get");
  if (!s.ok()) return s;
  if (value == nullptr) return Status::invalid_argument("get: value is null");
  s = impl_->engine.check_key(key);
  if (!s.ok()) return s;
  if (const auto own = impl_->writes.find(key); own != impl_->writes.end()) {
    if (!own->second) return Status::not_found();
    value->assign(own->second->value);
    return Status::ok_status();
  }
  try {
    if (impl_->reads.find(key) == impl_->reads.end()) impl_->reads.emplace(key);
  } catch (const std::bad_alloc&) {
    return Status::resource_exhausted("get: out of memory recording the read");
  }
  const bool found = impl_->engine.at(impl_->snapshot).get(key, [value](const detail::Record& record) {
    value->assign(record.value());
  });
  return found ? Status::ok_status() : Status::not_found();
}

Status Transaction::put(std::string_view key, std::string_view value, const WriteOptions& options) {
  Status s = impl_->check_open("put");
  if (!s.ok()) return s;
  if (options.keep_ttl) return Status::invalid_argument("put: WriteOptions::keep_ttl does not apply in a transaction");
  if (options.sync) return Status::invalid_argument("put: pass WriteOptions::sync to commit()");
  s = impl_->engine.check_put(key, value, options.ttl);
  if (!s.ok()) return s;
  try {
    std::pmr::polymorphic_allocator<char> alloc(&impl_->arena);
    impl_->writes.insert_or_assign(std::pmr::string(key, alloc), Impl::Pending{std::pmr::string(value, alloc), options.ttl});
  } catch (const std::bad_alloc&) {
    return Status::resource_exhausted("put: out of memory buffering the write");
  }
  return Status::ok_status();
}

Status Transaction::erase(std::string_view key) {
  Status s = impl_->check_open("erase");
  if (!s.ok()) return s;
  s = impl_->engine.check_key(key);
  if (!s.ok()) return s;
  try {
    impl_->writes.insert_or_assign(std::pmr::string(key, &impl_->arena), std::nullopt);
  } catch (const std::bad_alloc&) {
    return Status::resource_exhausted("erase: out of memory buffering the write");
  }
  return Status::ok_status();
}

Status Transaction::scan_range(std::string_view begin, std::string_view end, ScanFn fn) {
  Status s = impl_->check_open("scan");
  if (!s.ok()) return s;
  const bool bounded = !end.empty();
  const detail::SnapshotReads at = impl_->engine.at(impl_->snapshot);
  auto own = impl_->writes.lower_bound(begin);
  auto in_range = [&](std::string_view key) { return !bounded || key < end; };
  std::string last;  // the last key handed to fn
  bool stopped = false;
  // Hands `key` to fn as the transaction sees it; false once fn stops.
  auto visit = [&](std::string_view key, std::string_view value) {
    last.assign(key);
    stopped = !fn(key, value);
    return !stopped;
  };
  // Own puts before `key` (all remaining when key is null), skipping own erases.
  auto own_before = [&](const std::string_view* key) {
    for (; own != impl_->writes.end() && in_range(own->first) && (key == nullptr || own->first < *key); ++own) {
      if (own->second && !visit(own->first, own->second->value)) return false;
    }
    return true;
  };
  try {
    detail::ScanBatch batch;
    std::string from(begin);
    bool inclusive = true;
    while (!stopped) {
      at.collect(from, inclusive, end, bounded, detail::kScanRunEntries, batch);
      for (std::size_t i = 0; i < batch.size() && !stopped; ++i) {
        const std::string_view key = batch.key(i);
        if (!own_before(&key)) break;
        if (own != impl_->writes.end() && own->first == key) {  // our own write shadows the snapshot's
          if (own->second) visit(key, own->second->value);
          ++own;
        } else {
          visit(key, batch.record(i).value());
        }
      }
      if (stopped || batch.exhausted) break;
      from.assign(batch.resume_key());
      inclusive = false;
    }
    if (!stopped) own_before(nullptr);
    // The commit check covers what fn saw: up to where it stopped, else the whole range.
    std::pmr::polymorphic_allocator<char> alloc(&impl_->arena);
    if (stopped) {
      last.push_back('\0');
      impl_->ranges.push_back({std::pmr::string(begin, alloc), std::pmr::string(last, alloc), true});
    } else {
      impl_->ranges.push_back({std::pmr::string(begin, alloc), std::pmr::string(end, alloc), bounded});
    }
  } catch (const std::bad_alloc&) {
    return Status::resource_exhausted("scan: out of memory");
  }
  return Status::ok_status();
}

Status Transaction::commit(const WriteOptions& options) {
  Status s = impl_->check_open("commit");
  if (!s.ok()) return s;
  if (options.keep_ttl) return Status::invalid_argument("commit: WriteOptions::keep_ttl does not apply");
  Impl& txn = *impl_;
  struct Finish {  // the transaction is finished whatever the outcome
    Impl& txn;
    ~Finish() { txn.finish(); }
  } finish{txn};
  if (txn.writes.empty()) return Status::ok_status();  // read-only: it saw its snapshot
  Engine::Impl& engine = txn.engine;
  const std::uint64_t since = txn.snapshot.version();
  try {
    std::vector<std::size_t> stripes;
    stripes.reserve(txn.reads.size() + txn.writes.size());
    for (const std::pmr::string& key : txn.reads) stripes.push_back(detail::KeyLocks::stripe_of(key));
    for (const auto& [key, pending] : txn.writes) stripes.push_back(detail::KeyLocks::stripe_of(key));
    Engine::Impl::Plan ops;
    ops.reserve(txn.writes.size());
    for (const auto& [key, pending] : txn.writes) {
      if (pending) {
        ops.push_back({detail::LogOpType::kPut, key, pending->value, engine.expires_at(pending->ttl)});
      } else {
        ops.push_back({detail::LogOpType::kErase, key, {}, 0});
      }
    }
    const Engine::Impl::WriteScope scope(engine);  // versioned: our snapshot is alive
    const detail::History& history = engine.versions.history();
    // Checked: nothing reads at the snapshot any more, so it goes now, before the write records the
    // states it ends (V3). Were it the only live snapshot, no one needs them: they are not kept (V6),
    // and a lone writer of transactions keeps no history at all.
    auto checked = [&txn] {
      txn.snapshot.reset();
      return Status::ok_status();
    };
    const Status committed = engine.locked_write_planned(
        std::move(stripes), ops, /*versioned=*/true, options.sync,
        [&] {  // point reads: before the numbers are taken, so no snapshot waits for this check
          for (const std::pmr::string& key : txn.reads) {
            if (written_since(engine.store, history, key, since)) {
              return Status::conflict("commit: a key the transaction read was written after its snapshot");
            }
          }
          return txn.ranges.empty() ? checked() : Status::ok_status();
        },
        [&](std::uint64_t first) {  // scanned ranges: they need the commit's number
          if (txn.ranges.empty()) return Status::ok_status();
          engine.versions.wait_applied_below(first);
          for (const Impl::Range& range : txn.ranges) {
            if (history.range_written_between(range.begin, range.end, range.bounded, since, first)) {
              return Status::conflict("commit: a range the transaction scanned was written after its snapshot");
            }
          }
          return checked();
        });
    if (committed.ok()) engine.counters.add(Engine::Impl::kCommits);
    if (committed.is_conflict()) engine.counters.add(Engine::Impl::kConflicts);
    return committed;
  } catch (const std::bad_alloc&) {
    return Status::resource_exhausted("commit: out of memory");
  }
}

void Transaction::rollback() noexcept {
  if (impl_) impl_->finish();
}

Version Transaction::snapshot_version() const noexcept { return impl_->snapshot.version(); }

std::unique_ptr<Transaction> Engine::begin() {
  try {
    Snapshot snapshot = this->snapshot();
    if (!snapshot.valid()) return nullptr;
    return std::unique_ptr<Transaction>(
        new Transaction(std::make_unique<Transaction::Impl>(*impl_, std::move(snapshot))));
  } catch (const std::bad_alloc&) {
    return nullptr;
  }
}

}  // namespace mantis
