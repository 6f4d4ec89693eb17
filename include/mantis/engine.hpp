// mantis::Engine: the facade over the concurrent ordered store, its read-through cache tier and, with
// Options::dir, its write-ahead log and snapshots. Include this header for everything Engine-related.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <mantis/export.h>
#include <mantis/detail/function_ref.hpp>
#include <mantis/iterator.hpp>
#include <mantis/options.hpp>
#include <mantis/snapshot.hpp>
#include <mantis/stats.hpp>
#include <mantis/status.hpp>
#include <mantis/transaction.hpp>
#include <mantis/value_view.hpp>
#include <mantis/write_batch.hpp>

namespace mantis {

namespace detail {
class Clock;
class Env;
struct EngineTesting;
}  // namespace detail

// An Engine is safe for concurrent use by any number of threads without external locking. No call
// takes a global lock; reads never block. Not copyable or movable (hold it by unique_ptr).
//
// Keys and values are arbitrary bytes (embedded NULs, invalid UTF-8 and the empty key are valid).
// Point operations (put, get, contains, erase, expire, persist) are linearizable, cache tier on or
// off: once put/erase/write returns OK, every later read in any thread sees it or something newer,
// and once a read has returned a value, no read that starts later returns an older one.
// An expired key is invisible to every read from the millisecond it expires (wall clock).
class MANTIS_EXPORT Engine {
 public:
  using ScanFn = detail::FunctionRef<bool(std::string_view key, std::string_view value)>;

  // Opens an engine. On success *out holds it; on failure *out is untouched.
  // Invalid options give InvalidArgument naming the field.
  static Status open(const Options& options, std::unique_ptr<Engine>* out);

  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;
  // Stops the background threads; a durable engine then makes every acknowledged write durable
  // (fdatasync of the log; with Durability::kNone, a last snapshot) and releases its directory.
  // REQUIRES: no live Iterator of this engine, and no call into it still running. ValueViews may
  // outlive the engine.
  ~Engine();

  // Inserts or replaces key -> value. Thread-safe.
  Status put(std::string_view key, std::string_view value, const WriteOptions& options = {});
  // Copies the value into *value. NotFound if the key is absent or expired. Thread-safe.
  Status get(std::string_view key, std::string* value) const;
  // Pins the value without copying (see ValueView). NotFound if absent or expired. Thread-safe.
  Status get(std::string_view key, ValueView* value) const;
  // True if the key is present and unexpired. Thread-safe.
  bool contains(std::string_view key) const;
  // Like get(), and *version (if not null) receives the version of the value read. Thread-safe.
  Status get(std::string_view key, std::string* value, Version* version) const;
  // Removes key. OK when the key is absent. Thread-safe.
  Status erase(std::string_view key, const WriteOptions& options = {});

  // Conditional writes. Each is atomic with respect to every other write of its key, in memory and in
  // durable engines (where it is one logged put or erase, or nothing when its condition fails). A
  // condition that does not hold gives ConditionFailed and changes nothing. An expired key is absent.
  //
  // Writes key -> value only if the key is absent.
  Status put_if_absent(std::string_view key, std::string_view value, const WriteOptions& options = {});
  // Writes key -> value only if the key is present.
  Status put_if_present(std::string_view key, std::string_view value, const WriteOptions& options = {});
  // Compare-and-set: writes key -> value only if the key's version is `expected` (0: only if absent).
  Status put_if_version(std::string_view key, Version expected, std::string_view value,
                        const WriteOptions& options = {});
  // Removes the key only if its version is `expected`.
  Status erase_if_version(std::string_view key, Version expected, const WriteOptions& options = {});
  // Removes the key; *removed tells whether it was present (nothing is logged when it was not).
  Status erase(std::string_view key, bool* removed, const WriteOptions& options = {});
  // Writes key -> value and returns the value it replaced in *old (std::nullopt when the key was absent).
  Status get_and_put(std::string_view key, std::string_view value, std::optional<std::string>* old,
                     const WriteOptions& options = {});
  // Adds `delta` to the key's value read as a signed 64-bit decimal integer (as Redis's INCRBY: an
  // optional '-' then digits, no spaces, no leading zeros, no '+'), an absent key counting as 0, and
  // stores the result as decimal text in *result (if not null). The key keeps its TTL; options.ttl
  // applies when it was absent. InvalidArgument when the value is not such an integer or the sum
  // overflows; nothing is written then.
  Status increment(std::string_view key, std::int64_t delta, std::int64_t* result, const WriteOptions& options = {});
  // Validates every operation, then applies them in order. An invalid operation fails the whole
  // batch before anything is applied. Concurrent readers may observe a batch partly applied.
  Status write(const WriteBatch& batch, const WriteOptions& options = {});

  // Sets the key's time to live to `ttl` from now. NotFound if absent or expired; ttl < 0 is
  // InvalidArgument; ttl == 0 expires the key at once.
  Status expire(std::string_view key, std::chrono::milliseconds ttl);
  // Removes the key's time to live. NotFound if absent or expired.
  Status persist(std::string_view key);
  // *remaining: std::nullopt when the key has no TTL, else the time left (>= 1 ms).
  // NotFound if absent or expired.
  Status ttl(std::string_view key, std::optional<std::chrono::milliseconds>* remaining) const;

  // A new iterator, not yet positioned (call seek_to_first() or seek()). Ordered by memcmp of the
  // key bytes. REQUIRES: destroyed before the engine.
  std::unique_ptr<Iterator> new_iterator() const;
  // Calls fn(key, value) for each live key in [begin, end) in order until fn returns false.
  // An empty `end` means "to the last key". fn runs with no lock held and may call into the engine.
  template <class Fn>
  Status scan(std::string_view begin, std::string_view end, Fn&& fn) const {
    return scan_range(begin, end, ScanFn(fn));
  }
  // Calls fn(key, value) for each live key that starts with `prefix`, in order, until fn returns false.
  template <class Fn>
  Status scan_prefix(std::string_view prefix, Fn&& fn) const {
    return scan_prefix_range(prefix, ScanFn(fn));
  }

  // Snapshots and transactions (docs/DESIGN.md, rule 5). While a snapshot (or a transaction, which
  // holds one) is alive, writes keep the values they replace for it and serialize per key stripe; the
  // first snapshot after a quiet second waits about a millisecond (a grace period) to turn that on.
  //
  // A snapshot of the engine now: reads through it (ReadOptions::snapshot) see exactly the writes
  // acknowledged before this call and none after, however long it lives. Thread-safe. Empty (valid()
  // false) when memory is exhausted, or when called from a scan's callback while no snapshot or
  // transaction has been alive for a second (taking the first one waits for every scan to end).
  Snapshot snapshot() const;
  // get() at options.snapshot (or at the latest state without one). *version (if not null) receives
  // the version of the value read.
  Status get(const ReadOptions& options, std::string_view key, std::string* value, Version* version = nullptr) const;
  // scan() and scan_prefix() at options.snapshot.
  template <class Fn>
  Status scan(const ReadOptions& options, std::string_view begin, std::string_view end, Fn&& fn) const {
    return scan_range_at(options, begin, end, ScanFn(fn));
  }
  template <class Fn>
  Status scan_prefix(const ReadOptions& options, std::string_view prefix, Fn&& fn) const {
    return scan_prefix_range_at(options, prefix, ScanFn(fn));
  }
  // An iterator at options.snapshot: it sees exactly the snapshot's keys. *out is untouched on error.
  Status new_iterator(const ReadOptions& options, std::unique_ptr<Iterator>* out) const;
  // Begins an optimistic transaction at a new snapshot (see Transaction); nullptr when snapshot()
  // would be empty.
  std::unique_ptr<Transaction> begin();

  // Approximate number of keys in the store (expired keys count until they are removed).
  std::size_t size() const;
  // Removes every key, atomically against every concurrent write (each comes wholly before or after
  // it). Busy when called from a scan's callback while no snapshot or transaction has been alive for a
  // second (as snapshot()).
  Status clear();
  // Durable engines only: every write acknowledged before the call is durable (fdatasync'ed; with
  // Durability::kNone, in a snapshot) when it returns OK. NotSupported in memory.
  Status sync();
  // Durable engines only: writes a snapshot of the store now, while writes go on, and drops the log
  // it makes redundant. OK without writing when nothing changed since the last one. NotSupported in
  // memory.
  Status checkpoint();
  // Durable engines only: writes a consistent copy of the database into `dir` (which must not exist
  // or be empty) while reads and writes go on. The copy holds exactly the writes acknowledged up to one
  // instant between the call and its return, is fdatasync'ed, and opens as a data directory with
  // Engine::open. Also a checkpoint of this engine. NotSupported in memory and with Durability::kNone;
  // InvalidArgument for a non-empty `dir`. Thread-safe; one backup or checkpoint runs at a time.
  Status backup(const std::string& dir);
  Stats stats() const;

 private:
  friend struct detail::EngineTesting;
  friend class Transaction;
  struct Impl;
  explicit Engine(std::unique_ptr<Impl> impl);
  static Status open_with(const Options& options, const detail::Clock& clock, detail::Env* env,
                          std::unique_ptr<Engine>* out);

  Status scan_range(std::string_view begin, std::string_view end, ScanFn fn) const;
  Status scan_prefix_range(std::string_view prefix, ScanFn fn) const;
  Status scan_range_at(const ReadOptions& options, std::string_view begin, std::string_view end, ScanFn fn) const;
  Status scan_prefix_range_at(const ReadOptions& options, std::string_view prefix, ScanFn fn) const;
  Status check_snapshot(const ReadOptions& options) const;

  std::unique_ptr<Impl> impl_;
};

}  // namespace mantis
