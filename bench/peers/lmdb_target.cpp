// The `lmdb` peer: LMDB 0.9 (liblmdb-dev), one unnamed database in an environment of its own.
//
// Writers: one write transaction per put (begin, mdb_put, commit). LMDB lets one write transaction
// exist at a time: mdb_txn_begin blocks on the environment's writer mutex, so writers serialize there,
// as LMDB is meant to be used. compare_and_set and increment read and write inside that one write
// transaction, which makes them atomic for free (supports_conditional).
// Readers: each thread keeps one read-only transaction and one cursor for its whole life, reset after
// every operation and renewed before the next (mdb_txn_reset/mdb_txn_renew keep the reader slot and
// cost no allocation). A reset transaction pins no snapshot, so writers can reuse freed pages.
// MDB_NOTLS ties the reader slot to the transaction, not to the thread, so a thread may hold its reset
// read transaction while it runs a write transaction, and the destructor may abort the transactions
// of threads that never detached. Reader slots: StoreSetup::max_threads (plus headroom), so 40-thread
// phases never hit MDB_READERS_FULL.
// snapshot_get is get: a renewed read transaction is a snapshot, taken and released per read.
#include <lmdb.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>
#include <system_error>
#include <vector>

#include "embedded_stores.hpp"

namespace mantis::bench {
namespace {

MDB_val as_val(std::string_view bytes) { return MDB_val{bytes.size(), const_cast<char*>(bytes.data())}; }
std::string_view as_view(const MDB_val& val) { return {static_cast<const char*>(val.mv_data), val.mv_size}; }

class LmdbTarget final : public KvTarget {
 public:
  explicit LmdbTarget(const StoreSetup& setup) : dir_(setup.dir) {
    try {
      open(setup);
    } catch (...) {
      if (env_ != nullptr) mdb_env_close(env_);
      std::error_code ignored;
      std::filesystem::remove_all(dir_, ignored);
      throw;
    }
  }
  ~LmdbTarget() override {
    for (Reader* reader : readers_) close_reader(reader);
    readers_.clear();
    if (env_ != nullptr) mdb_env_close(env_);
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  LmdbTarget(const LmdbTarget&) = delete;
  LmdbTarget& operator=(const LmdbTarget&) = delete;

  void attach_thread() override { static_cast<void>(reader()); }
  void detach_thread() override {
    if (t_owner != id_ || t_reader == nullptr) return;
    {
      std::lock_guard lock(readers_mutex_);
      std::erase(readers_, t_reader);
    }
    close_reader(t_reader);
    t_reader = nullptr;
    t_owner = 0;
  }

  bool put(std::string_view key, std::string_view value) override {
    return write([&](MDB_txn* txn) { return put_in(txn, key, value); });
  }
  Lookup get(std::string_view key, std::string* value) override {
    MDB_txn* txn = begin_read();
    if (txn == nullptr) return Lookup::kError;
    MDB_val k = as_val(key);
    MDB_val v{};
    const int rc = mdb_get(txn, dbi_, &k, &v);
    if (rc == MDB_SUCCESS) value->assign(as_view(v));  // the page is valid only until the reset
    mdb_txn_reset(txn);
    if (rc == MDB_SUCCESS) return Lookup::kFound;
    return rc == MDB_NOTFOUND ? Lookup::kMissing : Lookup::kError;
  }
  std::size_t scan(std::string_view start, std::size_t limit) override {
    MDB_txn* txn = begin_read();
    if (txn == nullptr) return 0;
    Reader* self = t_reader;
    const int rc = self->cursor == nullptr ? mdb_cursor_open(txn, dbi_, &self->cursor)
                                           : mdb_cursor_renew(txn, self->cursor);
    std::size_t visited = 0;
    if (rc == MDB_SUCCESS) {
      MDB_val k = as_val(start);
      MDB_val v{};
      for (int step = mdb_cursor_get(self->cursor, &k, &v, MDB_SET_RANGE); step == MDB_SUCCESS && visited < limit;
           step = mdb_cursor_get(self->cursor, &k, &v, MDB_NEXT)) {
        ++visited;
      }
    }
    mdb_txn_reset(txn);
    return visited;
  }
  bool supports_scan() const override { return true; }
  Lookup snapshot_get(std::string_view key, std::string* value) override { return get(key, value); }
  bool supports_snapshots() const override { return true; }
  bool atomic_overwrite() const override { return true; }

  // Read and write in one write transaction: no other writer can come between them.
  bool compare_and_set(std::string_view key, std::string_view value, std::string* scratch) override {
    return write([&](MDB_txn* txn) {
      MDB_val k = as_val(key);
      MDB_val v{};
      const int rc = mdb_get(txn, dbi_, &k, &v);
      if (rc == MDB_SUCCESS) {
        scratch->assign(as_view(v));
      } else if (rc != MDB_NOTFOUND) {
        return false;
      }
      return put_in(txn, key, value);
    });
  }
  bool increment(std::string_view key, std::int64_t delta) override {
    return write([&](MDB_txn* txn) {
      MDB_val k = as_val(key);
      MDB_val v{};
      std::int64_t current = 0;
      const int rc = mdb_get(txn, dbi_, &k, &v);
      if (rc == MDB_SUCCESS) {
        const std::string_view text = as_view(v);
        const auto parsed = std::from_chars(text.data(), text.data() + text.size(), current);
        if (parsed.ec != std::errc() || parsed.ptr != text.data() + text.size()) return false;
      } else if (rc != MDB_NOTFOUND) {
        return false;
      }
      if (__builtin_add_overflow(current, delta, &current)) return false;
      char digits[24];
      const auto end = std::to_chars(digits, digits + sizeof digits, current).ptr;
      return put_in(txn, key, std::string_view(digits, static_cast<std::size_t>(end - digits)));
    });
  }
  bool supports_conditional() const override { return true; }

 private:
  // The environment and its database; throws on an error (the constructor cleans up).
  void open(const StoreSetup& setup) {
    std::filesystem::create_directories(dir_);
    unsigned flags = MDB_NOTLS;
    if (!setup.durability || *setup.durability == Durability::kNone) {
      flags |= MDB_NOSYNC | MDB_WRITEMAP | MDB_NOMETASYNC;
    } else if (*setup.durability != Durability::kSync) {
      flags |= MDB_NOSYNC | MDB_WRITEMAP;
    }
    // The map: 8x the data (B-tree pages are 1/2 to 2/3 full after random inserts, and copy-on-write
    // needs free pages beside the live ones), at least 1 GiB. Address space only; the file is sparse.
    const std::size_t map_bytes = std::max<std::size_t>(std::size_t{1} << 30, setup.data_bytes * 8);
    check(mdb_env_create(&env_), "mdb_env_create");
    check(mdb_env_set_mapsize(env_, map_bytes), "mdb_env_set_mapsize");
    check(mdb_env_set_maxreaders(env_, static_cast<unsigned>(setup.max_threads) + 16), "mdb_env_set_maxreaders");
    check(mdb_env_open(env_, dir_.c_str(), flags, 0600), "mdb_env_open");
    MDB_txn* txn = nullptr;
    check(mdb_txn_begin(env_, nullptr, 0, &txn), "mdb_txn_begin");
    check(mdb_dbi_open(txn, nullptr, 0, &dbi_), "mdb_dbi_open");
    check(mdb_txn_commit(txn), "mdb_txn_commit");
  }

  // A thread's read transaction (reset between operations) and its cursor for scans.
  struct Reader {
    MDB_txn* txn = nullptr;
    MDB_cursor* cursor = nullptr;
  };

  static void check(int rc, const char* what) {
    if (rc != MDB_SUCCESS) throw std::runtime_error(std::string("LMDB ") + what + ": " + mdb_strerror(rc));
  }
  static void close_reader(Reader* reader) {
    if (reader->cursor != nullptr) mdb_cursor_close(reader->cursor);  // read-only cursors outlive their txn
    if (reader->txn != nullptr) mdb_txn_abort(reader->txn);
    delete reader;
  }

  // The calling thread's reader, registered on first use (attach_thread() normally does that). Its
  // transaction is reset at once: an idle reader must not pin a snapshot while the thread writes.
  Reader* reader() {
    if (t_owner == id_ && t_reader != nullptr) return t_reader;
    auto* fresh = new Reader;
    if (mdb_txn_begin(env_, nullptr, MDB_RDONLY, &fresh->txn) != MDB_SUCCESS) {
      delete fresh;
      return nullptr;
    }
    mdb_txn_reset(fresh->txn);
    {
      std::lock_guard lock(readers_mutex_);
      readers_.push_back(fresh);
    }
    t_reader = fresh;
    t_owner = id_;
    return fresh;
  }
  // The thread's read transaction, renewed (a current snapshot); nullptr on an error.
  MDB_txn* begin_read() {
    Reader* self = reader();
    if (self == nullptr || mdb_txn_renew(self->txn) != MDB_SUCCESS) return nullptr;
    return self->txn;
  }

  bool put_in(MDB_txn* txn, std::string_view key, std::string_view value) {
    MDB_val k = as_val(key);
    MDB_val v = as_val(value);
    return mdb_put(txn, dbi_, &k, &v, 0) == MDB_SUCCESS;
  }
  // Runs body(txn) in a write transaction: commits if it returns true, aborts otherwise.
  template <class Body>
  bool write(Body&& body) {
    MDB_txn* txn = nullptr;
    if (mdb_txn_begin(env_, nullptr, 0, &txn) != MDB_SUCCESS) return false;
    if (!body(txn)) {
      mdb_txn_abort(txn);
      return false;
    }
    return mdb_txn_commit(txn) == MDB_SUCCESS;
  }

  // One target is in use per thread at a time (phases run one after another); t_owner (a target id,
  // never reused, unlike an address) tells a thread's reader for this target from one left behind.
  static thread_local Reader* t_reader;
  static thread_local std::uint64_t t_owner;
  static inline std::atomic<std::uint64_t> next_id_{1};

  const std::uint64_t id_ = next_id_.fetch_add(1, std::memory_order_relaxed);
  const std::filesystem::path dir_;
  MDB_env* env_ = nullptr;
  MDB_dbi dbi_ = 0;
  std::mutex readers_mutex_;
  std::vector<Reader*> readers_;  // every thread's reader, closed by the destructor if still open
};

thread_local LmdbTarget::Reader* LmdbTarget::t_reader = nullptr;
thread_local std::uint64_t LmdbTarget::t_owner = 0;

}  // namespace

std::unique_ptr<KvTarget> make_lmdb_target(const StoreSetup& setup) { return std::make_unique<LmdbTarget>(setup); }

}  // namespace mantis::bench
