// mantis::Transaction: an optimistic transaction over an Engine (Engine::begin()).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include <mantis/detail/function_ref.hpp>
#include <mantis/export.h>
#include <mantis/options.hpp>
#include <mantis/snapshot.hpp>
#include <mantis/status.hpp>

namespace mantis {

// Reads see the engine at the transaction's snapshot (taken by Engine::begin()) plus the transaction's
// own writes; writes are buffered until commit(). commit() fails with Conflict, writing nothing, if a
// key the transaction read (a get, found or not, or any key in a range it scanned, including keys
// inserted into that range since) was written by anyone after its snapshot; otherwise every write
// applies atomically at one new version: readers of the latest state, and snapshots, see all of it or
// none, and a durable engine logs it as one record (recovery replays all of it or none).
//
// Isolation: serializable. Committed transactions, and the engine's other writes, take effect in the
// order of their versions, and each committed transaction read exactly the state at its commit
// version (minus its own writes): the commit check covers every point read and every scanned range
// (phantoms included). A transaction that only reads always commits: it saw its snapshot.
// Commits over disjoint keys run in parallel; a commit holds the stripes of the keys it read and
// writes while it checks and applies (and, in a durable engine, while its record is logged).
//
// After commit() or rollback() (whatever their result) the transaction is finished: every further
// call gives InvalidArgument. Destroying an unfinished transaction rolls it back.
// Not thread-safe: use from one thread at a time. REQUIRES: destroyed before its engine.
class MANTIS_EXPORT Transaction {
 public:
  using ScanFn = detail::FunctionRef<bool(std::string_view key, std::string_view value)>;

  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  // The key's value at the snapshot, or the transaction's own write of it. NotFound if absent, erased
  // by this transaction, or expired at the snapshot.
  Status get(std::string_view key, std::string* value);
  // Buffers key -> value (options.ttl counts from the commit). keep_ttl and sync do not apply here
  // (InvalidArgument); pass sync to commit().
  Status put(std::string_view key, std::string_view value, const WriteOptions& options = {});
  // Buffers the removal of key.
  Status erase(std::string_view key);
  // Calls fn(key, value) in key order for each key in [begin, end) (empty end: to the last key) as the
  // transaction sees it, until fn returns false. The range up to where fn stopped joins the commit
  // check. fn must not call into this transaction.
  template <class Fn>
  Status scan(std::string_view begin, std::string_view end, Fn&& fn) {
    return scan_range(begin, end, ScanFn(fn));
  }
  // Applies the buffered writes if nothing the transaction read changed since its snapshot (Conflict
  // otherwise), durable per the engine's mode and options.sync. Only options.sync applies.
  Status commit(const WriteOptions& options = {});
  // Drops the buffered writes and releases the snapshot.
  void rollback() noexcept;

  // The snapshot's version. REQUIRES: not finished.
  Version snapshot_version() const noexcept;

 private:
  friend class Engine;
  struct Impl;
  explicit Transaction(std::unique_ptr<Impl> impl) noexcept;
  Status scan_range(std::string_view begin, std::string_view end, ScanFn fn);

  std::unique_ptr<Impl> impl_;
};

}  // namespace mantis
