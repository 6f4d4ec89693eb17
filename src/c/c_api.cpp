// The C API (include/mantis/mantis.h): thin wrappers over the public C++ API. Every entry point
// checks its arguments, runs the C++ call inside a try block and reports a Status through one
// save_error() helper, so no exception crosses into C. One file on purpose: every entry point is a
// few lines over the same helpers (run, check_bytes, the Gate), in the order of mantis.h.
//
// Close without a lock on the read path: each handle has a Gate, one atomic word holding a "closed"
// bit and the number of calls in flight. A call enters with one fetch_add (and backs out if the bit
// is set); close sets the bit and waits until the calls already in flight have left. All of this is
// one atomic word, so every enter is ordered either before the close (close waits for it) or after
// it (it sees the bit and never touches the engine).
// Iterators, pinned values, snapshots and transactions are not gated calls: they hold a reference to
// the engine instead, and the engine is destroyed when it is closed and the last of them is gone
// (mantis::Engine requires that no Iterator, ValueView, Snapshot or Transaction outlives it). Calls
// through a snapshot or a transaction are gated calls on their database. An iterator at a snapshot
// also holds a reference to the snapshot, which the C++ iterator reads through. The handle itself has its own count, so that an
// iterator may be destroyed after mantis_destroy.
#include <mantis/mantis.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <memory>
#include <new>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>

#include <mantis/cache.hpp>
#include <mantis/engine.hpp>
#include <mantis/transaction.hpp>

namespace {

using mantis::Status;
using std::chrono::milliseconds;

// mantis_code_t mirrors Status::Code, value for value.
static_assert(MANTIS_OK == static_cast<int>(Status::Code::kOk) &&
              MANTIS_NOT_FOUND == static_cast<int>(Status::Code::kNotFound) &&
              MANTIS_INVALID_ARGUMENT == static_cast<int>(Status::Code::kInvalidArgument) &&
              MANTIS_IO_ERROR == static_cast<int>(Status::Code::kIOError) &&
              MANTIS_CORRUPTION == static_cast<int>(Status::Code::kCorruption) &&
              MANTIS_BUSY == static_cast<int>(Status::Code::kBusy) &&
              MANTIS_RESOURCE_EXHAUSTED == static_cast<int>(Status::Code::kResourceExhausted) &&
              MANTIS_NOT_SUPPORTED == static_cast<int>(Status::Code::kNotSupported) &&
              MANTIS_CLOSED == static_cast<int>(Status::Code::kClosed) &&
              MANTIS_CONDITION_FAILED == static_cast<int>(Status::Code::kConditionFailed) &&
              MANTIS_CONFLICT == static_cast<int>(Status::Code::kConflict));

// Stores `text` as the new *errptr (freeing the old one). Never throws. If the copy cannot be
// allocated, an earlier message is kept so that the caller still sees an error.
void save_error_text(char** errptr, std::string_view text) noexcept {
  if (errptr == nullptr) return;
  char* copy = static_cast<char*>(std::malloc(text.size() + 1));
  if (copy == nullptr) return;
  std::memcpy(copy, text.data(), text.size());
  copy[text.size()] = '\0';
  std::free(*errptr);
  *errptr = copy;
}

// The one way errors reach C: "<Code>: <message>".
void save_error(char** errptr, const Status& status) noexcept {
  if (status.ok() || errptr == nullptr) return;
  try {
    save_error_text(errptr, status.to_string());
  } catch (...) {
    save_error_text(errptr, "ResourceExhausted: out of memory");
  }
}

// An error detected by the C layer itself, formatted without allocating anything but the result.
void fail(char** errptr, const char* code, const char* what, const char* detail) noexcept {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer, "%s: %s: %s", code, what, detail);
  save_error_text(errptr, buffer);
}

void fail_current_exception(char** errptr, const char* what) noexcept {
  try {
    throw;
  } catch (const std::bad_alloc&) {
    fail(errptr, "ResourceExhausted", what, "out of memory");
  } catch (const std::exception& e) {
    fail(errptr, "IOError", what, e.what());
  } catch (...) {
    fail(errptr, "IOError", what, "unknown exception");
  }
}

// InvalidArgument unless (data, size) is a valid byte range.
Status check_bytes(const char* what, const char* name, const char* data, std::size_t size) {
  if (data != nullptr || size == 0) return Status();
  return Status::invalid_argument(std::string(what) + ": " + name + " is NULL with length " + std::to_string(size));
}

Status null_argument(const char* what, const char* name) {
  return Status::invalid_argument(std::string(what) + ": " + name + " is NULL");
}

std::string_view bytes(const char* data, std::size_t size) noexcept {
  return data == nullptr ? std::string_view() : std::string_view(data, size);
}

// A non-NULL pointer for C even for empty data.
const char* c_data(std::string_view data) noexcept { return data.empty() ? "" : data.data(); }

// A malloc'd copy (never NULL on success, even for empty data); throws std::bad_alloc.
char* malloc_copy(std::string_view data) {
  char* copy = static_cast<char*>(std::malloc(data.empty() ? 1 : data.size()));
  if (copy == nullptr) throw std::bad_alloc();
  if (!data.empty()) std::memcpy(copy, data.data(), data.size());
  return copy;
}

char* malloc_string(const std::string& text) {
  char* copy = static_cast<char*>(std::malloc(text.size() + 1));
  if (copy == nullptr) throw std::bad_alloc();
  std::memcpy(copy, text.c_str(), text.size() + 1);
  return copy;
}

class Gate {
 public:
  // Registers a call; false (and nothing registered) once closed.
  bool enter() noexcept {
    // acquire: a call that got in must see the fully opened handle.
    if ((state_.fetch_add(kCall, std::memory_order_acquire) & kClosed) != 0) {
      leave();
      return false;
    }
    return true;
  }
  // release: the call's effects happen before close() sees the count drop.
  void leave() noexcept { state_.fetch_sub(kCall, std::memory_order_release); }
  bool closed() const noexcept { return (state_.load(std::memory_order_acquire) & kClosed) != 0; }
  // Sets the closed bit and waits for the calls in flight. False if it was closed already.
  bool close() noexcept {
    if ((state_.fetch_or(kClosed, std::memory_order_acq_rel) & kClosed) != 0) return false;
    // acquire: pairs with leave(), so everything the calls did happens before what close does next.
    while (state_.load(std::memory_order_acquire) >= kCall) std::this_thread::yield();
    return true;
  }

 private:
  static constexpr std::uint64_t kClosed = 1;
  static constexpr std::uint64_t kCall = 2;
  std::atomic<std::uint64_t> state_{0};
};

// The scans running on this thread, so that mantis_close from inside a scan callback can refuse
// instead of waiting for itself.
struct ScanFrame {
  const void* handle;
  const ScanFrame* outer;
};
thread_local const ScanFrame* t_scans = nullptr;

bool scanning(const void* handle) noexcept {
  for (const ScanFrame* frame = t_scans; frame != nullptr; frame = frame->outer) {
    if (frame->handle == handle) return true;
  }
  return false;
}

class ScanScope {
 public:
  explicit ScanScope(const void* handle) noexcept : frame_{handle, t_scans} { t_scans = &frame_; }
  ScanScope(const ScanScope&) = delete;
  ScanScope& operator=(const ScanScope&) = delete;
  ~ScanScope() { t_scans = frame_.outer; }

 private:
  ScanFrame frame_;
};

}  // namespace

struct mantis_options_t {
  mantis::Options options;
  bool dir_out_of_memory = false;  // set_dir could not copy the path
};

struct mantis_writeoptions_t {
  mantis::WriteOptions options;
};

struct mantis_writebatch_t {
  mantis::WriteBatch batch;
  // The first operation refused by a setter (a static message), reported by mantis_write.
  const char* error_code = nullptr;
  const char* error = nullptr;
};

struct mantis_t {
  Gate gate;
  std::unique_ptr<mantis::Engine> engine;
  // 1 while open + 1 per live iterator or pinned value; the engine is destroyed at 0.
  std::atomic<std::uint32_t> engine_refs{1};
  // 1 until mantis_destroy + 1 per live iterator or pinned value; the handle is freed at 0.
  std::atomic<std::uint32_t> handle_refs{1};

  static constexpr const char* kNullText = "db is NULL";
  static constexpr const char* kClosedText = "the database is closed";
  mantis::Engine& target() noexcept { return *engine; }

  // Called by a gated call that creates an iterator or a pinned value.
  void acquire() noexcept {
    // relaxed: the caller is inside a gated call, so both counts are already above zero.
    engine_refs.fetch_add(1, std::memory_order_relaxed);
    handle_refs.fetch_add(1, std::memory_order_relaxed);
  }
  void release_engine() noexcept {
    // acq_rel: whoever drops the last reference sees every other user's accesses to the engine.
    if (engine_refs.fetch_sub(1, std::memory_order_acq_rel) == 1) engine.reset();
  }
  // May free *this.
  void release_handle() noexcept {
    if (handle_refs.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
  }
};

struct mantis_snapshot_t {
  mantis_t* db;
  mantis::Snapshot snapshot;
  // 1 until mantis_snapshot_destroy + 1 per live iterator at it; released at 0.
  std::atomic<std::uint32_t> refs{1};

  mantis::ReadOptions read_options() const noexcept { return mantis::ReadOptions{.snapshot = &snapshot}; }
  // May free *this.
  void release() noexcept {
    // acq_rel: whoever drops the last reference sees every read through the snapshot.
    if (refs.fetch_sub(1, std::memory_order_acq_rel) != 1) return;
    mantis_t* owner = db;
    snapshot.reset();  // before the engine can go
    delete this;
    owner->release_engine();
    owner->release_handle();
  }
};

struct mantis_txn_t {
  mantis_t* db;
  std::unique_ptr<mantis::Transaction> txn;
  bool finished = false;  // committed or rolled back: only mantis_txn_destroy remains
};

struct mantis_iterator_t {
  mantis_t* db;
  std::unique_ptr<mantis::Iterator> iter;
  mantis_snapshot_t* snapshot = nullptr;  // the snapshot it reads at, or null for the latest state
  const char* error = nullptr;  // a static message: a bad argument or an exception from a move
  const char* error_code = nullptr;

  bool usable() const noexcept { return error == nullptr && !db->gate.closed(); }
};

struct mantis_value_t {
  mantis::ValueView view;
  mantis_t* db = nullptr;  // null for cache values, which need no engine
};

struct mantis_cache_options_t {
  mantis::CacheOptions options;
  int admission = MANTIS_ADMISSION_ADAPTIVE;  // mantis::CacheOptions' default
};

struct mantis_cache_t {
  Gate gate;
  std::unique_ptr<mantis::Cache> cache;

  static constexpr const char* kNullText = "cache is NULL";
  static constexpr const char* kClosedText = "the cache is closed";
  mantis::Cache& target() noexcept { return *cache; }
};

struct mantis_cache_stats_t {
  mantis::CacheStats stats;
};

namespace {

// Runs body(target) as one gated call on a handle: rejects NULL and closed handles, keeps close
// waiting while it runs, and reports the returned Status or any exception through errptr.
// Returns true on success.
template <class Handle, class Body>
bool run(Handle* handle, const char* what, char** errptr, Body&& body) noexcept {
  if (handle == nullptr) {
    fail(errptr, "InvalidArgument", what, Handle::kNullText);
    return false;
  }
  if (!handle->gate.enter()) {
    fail(errptr, "Closed", what, Handle::kClosedText);
    return false;
  }
  bool ok = false;
  try {
    const Status status = body(handle->target());
    ok = status.ok();
    save_error(errptr, status);
  } catch (...) {
    fail_current_exception(errptr, what);
  }
  handle->gate.leave();
  return ok;
}

mantis::WriteOptions write_options(const mantis_writeoptions_t* options) {
  return options == nullptr ? mantis::WriteOptions{} : options->options;
}

// Runs one conditional write for the C API: 1 when it wrote, 0 when its condition failed (not an
// error) or on error.
template <class Write>
uint8_t conditional(mantis_t* db, const char* what, const char* key, std::size_t keylen, char** errptr,
                    Write&& write) noexcept {
  bool wrote = false;
  run(db, what, errptr, [&](mantis::Engine& engine) -> Status {
    if (Status s = check_bytes(what, "key", key, keylen); !s.ok()) return s;
    Status s = write(engine, bytes(key, keylen));
    if (s.is_condition_failed()) return Status();
    wrote = s.ok();
    return s;
  });
  return wrote ? 1 : 0;
}

// conditional() for the puts: the value's bytes are checked too, and put(engine, key, value) writes.
template <class Put>
uint8_t conditional_put(mantis_t* db, const char* what, const char* key, std::size_t keylen, const char* val,
                        std::size_t vallen, char** errptr, Put&& put) noexcept {
  return conditional(db, what, key, keylen, errptr, [&](mantis::Engine& engine, std::string_view k) -> Status {
    if (Status s = check_bytes(what, "value", val, vallen); !s.ok()) return s;
    return put(engine, k, bytes(val, vallen));
  });
}

// InvalidArgument unless `snapshot` is a snapshot of db (the C++ engine checks this too, but cannot
// name the C function).
Status check_snapshot(const char* what, const mantis_t* db, const mantis_snapshot_t* snapshot) {
  if (snapshot == nullptr) return null_argument(what, "snapshot");
  if (snapshot->db != db) return Status::invalid_argument(std::string(what) + ": the snapshot belongs to another database");
  return Status();
}

// Runs body(transaction) as one gated call on the transaction's database, after refusing a NULL or
// finished transaction and a call from inside one of its own scan callbacks.
template <class Body>
bool run_txn(mantis_txn_t* txn, const char* what, char** errptr, Body&& body) noexcept {
  if (txn == nullptr) {
    fail(errptr, "InvalidArgument", what, "txn is NULL");
    return false;
  }
  if (txn->finished) {
    fail(errptr, "InvalidArgument", what, "the transaction is finished (committed or rolled back)");
    return false;
  }
  if (scanning(txn)) {
    fail(errptr, "Busy", what, "called from inside a scan callback of this transaction");
    return false;
  }
  return run(txn->db, what, errptr, [&](mantis::Engine&) -> Status { return body(*txn->txn); });
}

// Copies a pinned or stored value out for mantis_get and friends: NULL on NotFound.
template <class Source>
char* get_copy(Source* handle, const char* what, const char* key, std::size_t keylen, std::size_t* vallen,
               char** errptr) noexcept {
  if (vallen != nullptr) *vallen = 0;
  char* result = nullptr;
  run(handle, what, errptr, [&](auto& target) -> Status {
    if (vallen == nullptr) return null_argument(what, "vallen");
    if (Status s = check_bytes(what, "key", key, keylen); !s.ok()) return s;
    mantis::ValueView view;
    Status s = target.get(bytes(key, keylen), &view);
    if (s.is_not_found()) return Status();
    if (!s.ok()) return s;
    result = malloc_copy(view.data());
    *vallen = view.data().size();
    return Status();
  });
  return result;
}

// Pins a value for mantis_get_pinned and mantis_cache_get_pinned: NULL on NotFound.
template <class Source>
mantis_value_t* get_pinned(Source* handle, const char* what, const char* key, std::size_t keylen, mantis_t* owner,
                           char** errptr) noexcept {
  mantis_value_t* result = nullptr;
  run(handle, what, errptr, [&](auto& target) -> Status {
    if (Status s = check_bytes(what, "key", key, keylen); !s.ok()) return s;
    auto value = std::make_unique<mantis_value_t>();
    Status s = target.get(bytes(key, keylen), &value->view);
    if (s.is_not_found()) return Status();
    if (!s.ok()) return s;
    if (owner != nullptr) {
      owner->acquire();
      value->db = owner;
    }
    result = value.release();
    return Status();
  });
  return result;
}

void set_batch_error(mantis_writebatch_t* batch, const char* code, const char* error) noexcept {
  if (batch->error == nullptr) {
    batch->error_code = code;
    batch->error = error;
  }
}

void set_iter_error(mantis_iterator_t* iter, const char* code, const char* error) noexcept {
  if (iter->error == nullptr) {
    iter->error_code = code;
    iter->error = error;
  }
}

// Runs a move of an iterator (seek, next); an exception leaves it invalid with an error.
template <class Move>
void move_iter(mantis_iterator_t* iter, Move&& move) noexcept {
  if (iter == nullptr || !iter->usable()) return;
  try {
    move(*iter->iter);
  } catch (const std::bad_alloc&) {
    set_iter_error(iter, "ResourceExhausted", "mantis_iter: out of memory");
  } catch (...) {
    set_iter_error(iter, "IOError", "mantis_iter: unexpected exception");
  }
}

// key() and value() do not look at the closed bit: after valid() said yes they must stay usable even
// if another thread closes the database meanwhile (the iterator keeps the engine alive).
bool positioned(const mantis_iterator_t* iter) noexcept {
  return iter != nullptr && iter->error == nullptr && iter->iter->valid();
}

int scan_callback_result(mantis_scan_fn fn, void* ctx, std::string_view key, std::string_view value) {
  return fn(ctx, c_data(key), key.size(), c_data(value), value.size());
}

}  // namespace

extern "C" {

const char* mantis_version(void) { return MANTIS_VERSION_STRING; }

void mantis_free(void* ptr) { std::free(ptr); }

mantis_code_t mantis_error_code(const char* err) {
  if (err == nullptr) return MANTIS_OK;
  const std::string_view text(err);
  for (int code = MANTIS_NOT_FOUND; code <= MANTIS_CONFLICT; ++code) {
    const std::string_view name = Status::code_name(static_cast<Status::Code>(code));
    if (text.size() > name.size() && text.starts_with(name) && text[name.size()] == ':') {
      return static_cast<mantis_code_t>(code);
    }
  }
  return MANTIS_IO_ERROR;
}

// ---- Options ----

mantis_options_t* mantis_options_create(void) { return new (std::nothrow) mantis_options_t(); }
void mantis_options_destroy(mantis_options_t* options) { delete options; }

void mantis_options_set_dir(mantis_options_t* options, const char* dir) {
  if (options == nullptr) return;
  try {
    options->options.dir = dir == nullptr ? std::filesystem::path() : std::filesystem::path(dir);
    options->dir_out_of_memory = false;
  } catch (...) {
    options->dir_out_of_memory = true;
  }
}
void mantis_options_set_create_if_missing(mantis_options_t* options, uint8_t v) {
  if (options != nullptr) options->options.create_if_missing = v != 0;
}
void mantis_options_set_error_if_exists(mantis_options_t* options, uint8_t v) {
  if (options != nullptr) options->options.error_if_exists = v != 0;
}
void mantis_options_set_durability(mantis_options_t* options, int v) {
  // Out-of-range values are passed on: mantis::Engine::open rejects them, naming the field.
  if (options != nullptr) options->options.durability = static_cast<mantis::Durability>(v);
}
void mantis_options_set_sync_interval(mantis_options_t* options, int64_t ms) {
  if (options != nullptr) options->options.sync_interval = milliseconds(ms);
}
void mantis_options_set_cache_capacity(mantis_options_t* options, size_t bytes) {
  if (options != nullptr) options->options.cache_capacity = bytes;
}
// mantis_options_set_cache_admission passes the value through: the C and C++ enums must agree.
static_assert(static_cast<int>(mantis::Admission::kAlways) == MANTIS_ADMISSION_ALWAYS &&
              static_cast<int>(mantis::Admission::kTinyLfu) == MANTIS_ADMISSION_TINYLFU &&
              static_cast<int>(mantis::Admission::kAdaptive) == MANTIS_ADMISSION_ADAPTIVE);
void mantis_options_set_cache_admission(mantis_options_t* options, int v) {
  if (options != nullptr) options->options.cache_admission = static_cast<mantis::Admission>(v);
}
void mantis_options_set_reaper_interval(mantis_options_t* options, int64_t ms) {
  if (options != nullptr) options->options.reaper_interval = milliseconds(ms);
}
void mantis_options_set_max_key_size(mantis_options_t* options, size_t bytes) {
  if (options != nullptr) options->options.max_key_size = bytes;
}
void mantis_options_set_max_value_size(mantis_options_t* options, size_t bytes) {
  if (options != nullptr) options->options.max_value_size = bytes;
}

mantis_writeoptions_t* mantis_writeoptions_create(void) { return new (std::nothrow) mantis_writeoptions_t(); }
void mantis_writeoptions_destroy(mantis_writeoptions_t* options) { delete options; }
void mantis_writeoptions_set_ttl(mantis_writeoptions_t* options, int64_t ms) {
  // A negative TTL is passed on: the write that uses it fails with InvalidArgument.
  if (options != nullptr) options->options.ttl = milliseconds(ms);
}
void mantis_writeoptions_set_sync(mantis_writeoptions_t* options, uint8_t v) {
  if (options != nullptr) options->options.sync = v != 0;
}

void mantis_writeoptions_set_keep_ttl(mantis_writeoptions_t* options, uint8_t v) {
  if (options != nullptr) options->options.keep_ttl = v != 0;
}

// ---- Database ----

mantis_t* mantis_open(const mantis_options_t* options, char** errptr) {
  if (options != nullptr && options->dir_out_of_memory) {
    fail(errptr, "ResourceExhausted", "mantis_open", "out of memory copying the directory name");
    return nullptr;
  }
  try {
    auto db = std::make_unique<mantis_t>();
    const Status status = mantis::Engine::open(options == nullptr ? mantis::Options{} : options->options, &db->engine);
    if (!status.ok()) {
      save_error(errptr, status);
      return nullptr;
    }
    return db.release();
  } catch (...) {
    fail_current_exception(errptr, "mantis_open");
    return nullptr;
  }
}

void mantis_close(mantis_t* db, char** errptr) {
  if (db == nullptr) {
    fail(errptr, "InvalidArgument", "mantis_close", "db is NULL");
    return;
  }
  if (scanning(db)) {
    fail(errptr, "Busy", "mantis_close", "called from inside a scan callback of this database");
    return;
  }
  if (db->gate.close()) db->release_engine();
}

void mantis_destroy(mantis_t* db) {
  if (db == nullptr) return;
  if (db->gate.close()) db->release_engine();
  db->release_handle();
}

void mantis_put(mantis_t* db, const mantis_writeoptions_t* options, const char* key, size_t keylen, const char* val,
                size_t vallen, char** errptr) {
  run(db, "mantis_put", errptr, [&](mantis::Engine& engine) -> Status {
    if (Status s = check_bytes("mantis_put", "key", key, keylen); !s.ok()) return s;
    if (Status s = check_bytes("mantis_put", "value", val, vallen); !s.ok()) return s;
    return engine.put(bytes(key, keylen), bytes(val, vallen), write_options(options));
  });
}

void mantis_put_ttl(mantis_t* db, const char* key, size_t keylen, const char* val, size_t vallen, int64_t ttl_ms,
                    char** errptr) {
  run(db, "mantis_put_ttl", errptr, [&](mantis::Engine& engine) -> Status {
    if (Status s = check_bytes("mantis_put_ttl", "key", key, keylen); !s.ok()) return s;
    if (Status s = check_bytes("mantis_put_ttl", "value", val, vallen); !s.ok()) return s;
    return engine.put(bytes(key, keylen), bytes(val, vallen), mantis::WriteOptions{.ttl = milliseconds(ttl_ms)});
  });
}

char* mantis_get(mantis_t* db, const char* key, size_t keylen, size_t* vallen, char** errptr) {
  return get_copy(db, "mantis_get", key, keylen, vallen, errptr);
}

mantis_value_t* mantis_get_pinned(mantis_t* db, const char* key, size_t keylen, char** errptr) {
  return get_pinned(db, "mantis_get_pinned", key, keylen, db, errptr);
}

void mantis_multi_get(mantis_t* db, size_t n, const char* const* keys, const size_t* keylens, char** values,
                      size_t* vallens, char** errptr) {
  static constexpr const char* kWhat = "mantis_multi_get";
  if (n == 0) return;
  const bool outputs = values != nullptr && vallens != nullptr;
  if (outputs) {
    for (size_t i = 0; i < n; ++i) {
      values[i] = nullptr;
      vallens[i] = 0;
    }
  }
  const bool ok = run(db, kWhat, errptr, [&](mantis::Engine& engine) -> Status {
    if (keys == nullptr) return null_argument(kWhat, "keys");
    if (keylens == nullptr) return null_argument(kWhat, "keylens");
    if (values == nullptr) return null_argument(kWhat, "values");
    if (vallens == nullptr) return null_argument(kWhat, "vallens");
    for (size_t i = 0; i < n; ++i) {
      if (keys[i] == nullptr && keylens[i] != 0) {
        return Status::invalid_argument(std::string(kWhat) + ": keys[" + std::to_string(i) + "] is NULL with length " +
                                        std::to_string(keylens[i]));
      }
    }
    mantis::ValueView view;
    for (size_t i = 0; i < n; ++i) {
      Status s = engine.get(bytes(keys[i], keylens[i]), &view);
      if (s.is_not_found()) continue;
      if (!s.ok()) return s;
      values[i] = malloc_copy(view.data());
      vallens[i] = view.data().size();
    }
    return Status();
  });
  if (!ok && outputs) {
    for (size_t i = 0; i < n; ++i) {
      std::free(values[i]);
      values[i] = nullptr;
      vallens[i] = 0;
    }
  }
}

uint8_t mantis_contains(mantis_t* db, const char* key, size_t keylen, char** errptr) {
  bool found = false;
  run(db, "mantis_contains", errptr, [&](mantis::Engine& engine) -> Status {
    if (Status s = check_bytes("mantis_contains", "key", key, keylen); !s.ok()) return s;
    found = engine.contains(bytes(key, keylen));
    return Status();
  });
  return found ? 1 : 0;
}

void mantis_erase(mantis_t* db, const mantis_writeoptions_t* options, const char* key, size_t keylen, char** errptr) {
  run(db, "mantis_erase", errptr, [&](mantis::Engine& engine) -> Status {
    if (Status s = check_bytes("mantis_erase", "key", key, keylen); !s.ok()) return s;
    return engine.erase(bytes(key, keylen), write_options(options));
  });
}

void mantis_write(mantis_t* db, const mantis_writeoptions_t* options, const mantis_writebatch_t* batch, char** errptr) {
  run(db, "mantis_write", errptr, [&](mantis::Engine& engine) -> Status {
    if (batch == nullptr) return null_argument("mantis_write", "batch");
    if (batch->error != nullptr) {
      const std::string message = std::string("mantis_write: the batch holds a refused operation: ") + batch->error;
      return std::string_view(batch->error_code) == "ResourceExhausted" ? Status::resource_exhausted(message)
                                                                        : Status::invalid_argument(message);
    }
    return engine.write(batch->batch, write_options(options));
  });
}

char* mantis_get_version(mantis_t* db, const char* key, size_t keylen, size_t* vallen, uint64_t* version,
                         char** errptr) {
  static constexpr const char* kWhat = "mantis_get_version";
  if (vallen != nullptr) *vallen = 0;
  if (version != nullptr) *version = 0;
  char* result = nullptr;
  run(db, kWhat, errptr, [&](mantis::Engine& engine) -> Status {
    if (vallen == nullptr) return null_argument(kWhat, "vallen");
    if (Status s = check_bytes(kWhat, "key", key, keylen); !s.ok()) return s;
    std::string value;
    mantis::Version read_version = 0;
    Status s = engine.get(bytes(key, keylen), &value, &read_version);
    if (s.is_not_found()) return Status();
    if (!s.ok()) return s;
    result = malloc_copy(value);
    *vallen = value.size();
    if (version != nullptr) *version = read_version;
    return Status();
  });
  return result;
}

uint8_t mantis_put_if_absent(mantis_t* db, const mantis_writeoptions_t* options, const char* key, size_t keylen,
                             const char* val, size_t vallen, char** errptr) {
  return conditional_put(db, "mantis_put_if_absent", key, keylen, val, vallen, errptr,
                         [&](mantis::Engine& engine, std::string_view k, std::string_view v) {
                           return engine.put_if_absent(k, v, write_options(options));
                         });
}

uint8_t mantis_put_if_present(mantis_t* db, const mantis_writeoptions_t* options, const char* key, size_t keylen,
                              const char* val, size_t vallen, char** errptr) {
  return conditional_put(db, "mantis_put_if_present", key, keylen, val, vallen, errptr,
                         [&](mantis::Engine& engine, std::string_view k, std::string_view v) {
                           return engine.put_if_present(k, v, write_options(options));
                         });
}

uint8_t mantis_put_if_version(mantis_t* db, const mantis_writeoptions_t* options, const char* key, size_t keylen,
                              uint64_t expected, const char* val, size_t vallen, char** errptr) {
  return conditional_put(db, "mantis_put_if_version", key, keylen, val, vallen, errptr,
                         [&](mantis::Engine& engine, std::string_view k, std::string_view v) {
                           return engine.put_if_version(k, expected, v, write_options(options));
                         });
}

uint8_t mantis_erase_if_version(mantis_t* db, const mantis_writeoptions_t* options, const char* key, size_t keylen,
                                uint64_t expected, char** errptr) {
  return conditional(db, "mantis_erase_if_version", key, keylen, errptr,
                     [&](mantis::Engine& engine, std::string_view k) -> Status {
                       return engine.erase_if_version(k, expected, write_options(options));
                     });
}

uint8_t mantis_erase_if_present(mantis_t* db, const mantis_writeoptions_t* options, const char* key, size_t keylen,
                                char** errptr) {
  return conditional(db, "mantis_erase_if_present", key, keylen, errptr,
                     [&](mantis::Engine& engine, std::string_view k) -> Status {
                       bool removed = false;
                       Status s = engine.erase(k, &removed, write_options(options));
                       if (s.ok() && !removed) return Status::condition_failed("absent");
                       return s;
                     });
}

char* mantis_get_and_put(mantis_t* db, const mantis_writeoptions_t* options, const char* key, size_t keylen,
                         const char* val, size_t vallen, size_t* oldlen, char** errptr) {
  static constexpr const char* kWhat = "mantis_get_and_put";
  if (oldlen != nullptr) *oldlen = 0;
  char* result = nullptr;
  run(db, kWhat, errptr, [&](mantis::Engine& engine) -> Status {
    if (oldlen == nullptr) return null_argument(kWhat, "oldlen");
    if (Status s = check_bytes(kWhat, "key", key, keylen); !s.ok()) return s;
    if (Status s = check_bytes(kWhat, "value", val, vallen); !s.ok()) return s;
    std::optional<std::string> old;
    Status s = engine.get_and_put(bytes(key, keylen), bytes(val, vallen), &old, write_options(options));
    if (!s.ok() || !old) return s;
    result = malloc_copy(*old);
    *oldlen = old->size();
    return Status();
  });
  return result;
}

int64_t mantis_increment(mantis_t* db, const mantis_writeoptions_t* options, const char* key, size_t keylen,
                         int64_t delta, char** errptr) {
  static constexpr const char* kWhat = "mantis_increment";
  std::int64_t result = 0;
  run(db, kWhat, errptr, [&](mantis::Engine& engine) -> Status {
    if (Status s = check_bytes(kWhat, "key", key, keylen); !s.ok()) return s;
    std::int64_t sum = 0;
    Status s = engine.increment(bytes(key, keylen), delta, &sum, write_options(options));
    if (s.ok()) result = sum;
    return s;
  });
  return result;
}

uint8_t mantis_expire(mantis_t* db, const char* key, size_t keylen, int64_t ttl_ms, char** errptr) {
  bool found = false;
  run(db, "mantis_expire", errptr, [&](mantis::Engine& engine) -> Status {
    if (Status s = check_bytes("mantis_expire", "key", key, keylen); !s.ok()) return s;
    Status s = engine.expire(bytes(key, keylen), milliseconds(ttl_ms));
    if (s.is_not_found()) return Status();
    found = s.ok();
    return s;
  });
  return found ? 1 : 0;
}

uint8_t mantis_persist(mantis_t* db, const char* key, size_t keylen, char** errptr) {
  bool found = false;
  run(db, "mantis_persist", errptr, [&](mantis::Engine& engine) -> Status {
    if (Status s = check_bytes("mantis_persist", "key", key, keylen); !s.ok()) return s;
    Status s = engine.persist(bytes(key, keylen));
    if (s.is_not_found()) return Status();
    found = s.ok();
    return s;
  });
  return found ? 1 : 0;
}

int mantis_ttl(mantis_t* db, const char* key, size_t keylen, int64_t* remaining_ms, char** errptr) {
  int result = -1;
  if (remaining_ms != nullptr) *remaining_ms = 0;
  run(db, "mantis_ttl", errptr, [&](mantis::Engine& engine) -> Status {
    if (remaining_ms == nullptr) return null_argument("mantis_ttl", "remaining_ms");
    if (Status s = check_bytes("mantis_ttl", "key", key, keylen); !s.ok()) return s;
    std::optional<milliseconds> remaining;
    Status s = engine.ttl(bytes(key, keylen), &remaining);
    if (s.is_not_found()) return Status();
    if (!s.ok()) return s;
    result = remaining.has_value() ? 1 : 0;
    *remaining_ms = remaining.has_value() ? remaining->count() : 0;
    return Status();
  });
  return result;
}

void mantis_scan(mantis_t* db, const char* begin, size_t beginlen, const char* end, size_t endlen, mantis_scan_fn fn,
                 void* ctx, char** errptr) {
  run(db, "mantis_scan", errptr, [&](mantis::Engine& engine) -> Status {
    if (fn == nullptr) return null_argument("mantis_scan", "fn");
    if (Status s = check_bytes("mantis_scan", "begin", begin, beginlen); !s.ok()) return s;
    if (Status s = check_bytes("mantis_scan", "end", end, endlen); !s.ok()) return s;
    ScanScope scope(db);
    return engine.scan(bytes(begin, beginlen), bytes(end, endlen), [&](std::string_view k, std::string_view v) {
      return scan_callback_result(fn, ctx, k, v) != 0;
    });
  });
}

void mantis_scan_prefix(mantis_t* db, const char* prefix, size_t prefixlen, mantis_scan_fn fn, void* ctx,
                        char** errptr) {
  run(db, "mantis_scan_prefix", errptr, [&](mantis::Engine& engine) -> Status {
    if (fn == nullptr) return null_argument("mantis_scan_prefix", "fn");
    if (Status s = check_bytes("mantis_scan_prefix", "prefix", prefix, prefixlen); !s.ok()) return s;
    ScanScope scope(db);
    return engine.scan_prefix(bytes(prefix, prefixlen), [&](std::string_view k, std::string_view v) {
      return scan_callback_result(fn, ctx, k, v) != 0;
    });
  });
}

uint64_t mantis_size(mantis_t* db, char** errptr) {
  uint64_t size = 0;
  run(db, "mantis_size", errptr, [&](mantis::Engine& engine) -> Status {
    size = engine.size();
    return Status();
  });
  return size;
}

void mantis_clear(mantis_t* db, char** errptr) {
  run(db, "mantis_clear", errptr, [](mantis::Engine& engine) { return engine.clear(); });
}

void mantis_sync(mantis_t* db, char** errptr) {
  run(db, "mantis_sync", errptr, [](mantis::Engine& engine) { return engine.sync(); });
}

void mantis_checkpoint(mantis_t* db, char** errptr) {
  run(db, "mantis_checkpoint", errptr, [](mantis::Engine& engine) { return engine.checkpoint(); });
}

void mantis_backup(mantis_t* db, const char* dir, char** errptr) {
  run(db, "mantis_backup", errptr, [&](mantis::Engine& engine) -> Status {
    if (dir == nullptr) return null_argument("mantis_backup", "dir");
    return engine.backup(dir);
  });
}

char* mantis_stats_json(mantis_t* db, char** errptr) {
  char* text = nullptr;
  run(db, "mantis_stats_json", errptr, [&](mantis::Engine& engine) -> Status {
    text = malloc_string(engine.stats().to_json());
    return Status();
  });
  return text;
}

char* mantis_stats_prometheus(mantis_t* db, char** errptr) {
  char* text = nullptr;
  run(db, "mantis_stats_prometheus", errptr, [&](mantis::Engine& engine) -> Status {
    text = malloc_string(engine.stats().to_prometheus());
    return Status();
  });
  return text;
}

// ---- Snapshots ----

mantis_snapshot_t* mantis_snapshot_create(mantis_t* db, char** errptr) {
  mantis_snapshot_t* result = nullptr;
  run(db, "mantis_snapshot_create", errptr, [&](mantis::Engine& engine) -> Status {
    auto snapshot = std::make_unique<mantis_snapshot_t>();
    snapshot->db = db;
    snapshot->snapshot = engine.snapshot();
    if (!snapshot->snapshot.valid()) {
      return Status::resource_exhausted(
          "mantis_snapshot_create: out of memory, or called from a scan's callback while no snapshot was alive");
    }
    db->acquire();
    result = snapshot.release();
    return Status();
  });
  return result;
}

uint64_t mantis_snapshot_version(const mantis_snapshot_t* snapshot) {
  return snapshot == nullptr ? 0 : snapshot->snapshot.version();
}

void mantis_snapshot_destroy(mantis_snapshot_t* snapshot) {
  if (snapshot != nullptr) snapshot->release();
}

char* mantis_get_at(mantis_t* db, const mantis_snapshot_t* snapshot, const char* key, size_t keylen, size_t* vallen,
                    uint64_t* version, char** errptr) {
  static constexpr const char* kWhat = "mantis_get_at";
  if (vallen != nullptr) *vallen = 0;
  if (version != nullptr) *version = 0;
  char* result = nullptr;
  run(db, kWhat, errptr, [&](mantis::Engine& engine) -> Status {
    if (Status s = check_snapshot(kWhat, db, snapshot); !s.ok()) return s;
    if (vallen == nullptr) return null_argument(kWhat, "vallen");
    if (Status s = check_bytes(kWhat, "key", key, keylen); !s.ok()) return s;
    std::string value;
    mantis::Version read_version = 0;
    Status s = engine.get(snapshot->read_options(), bytes(key, keylen), &value, &read_version);
    if (s.is_not_found()) return Status();
    if (!s.ok()) return s;
    result = malloc_copy(value);
    *vallen = value.size();
    if (version != nullptr) *version = read_version;
    return Status();
  });
  return result;
}

void mantis_scan_at(mantis_t* db, const mantis_snapshot_t* snapshot, const char* begin, size_t beginlen,
                    const char* end, size_t endlen, mantis_scan_fn fn, void* ctx, char** errptr) {
  static constexpr const char* kWhat = "mantis_scan_at";
  run(db, kWhat, errptr, [&](mantis::Engine& engine) -> Status {
    if (Status s = check_snapshot(kWhat, db, snapshot); !s.ok()) return s;
    if (fn == nullptr) return null_argument(kWhat, "fn");
    if (Status s = check_bytes(kWhat, "begin", begin, beginlen); !s.ok()) return s;
    if (Status s = check_bytes(kWhat, "end", end, endlen); !s.ok()) return s;
    ScanScope scope(db);
    return engine.scan(snapshot->read_options(), bytes(begin, beginlen), bytes(end, endlen),
                       [&](std::string_view k, std::string_view v) { return scan_callback_result(fn, ctx, k, v) != 0; });
  });
}

void mantis_scan_prefix_at(mantis_t* db, const mantis_snapshot_t* snapshot, const char* prefix, size_t prefixlen,
                           mantis_scan_fn fn, void* ctx, char** errptr) {
  static constexpr const char* kWhat = "mantis_scan_prefix_at";
  run(db, kWhat, errptr, [&](mantis::Engine& engine) -> Status {
    if (Status s = check_snapshot(kWhat, db, snapshot); !s.ok()) return s;
    if (fn == nullptr) return null_argument(kWhat, "fn");
    if (Status s = check_bytes(kWhat, "prefix", prefix, prefixlen); !s.ok()) return s;
    ScanScope scope(db);
    return engine.scan_prefix(snapshot->read_options(), bytes(prefix, prefixlen),
                              [&](std::string_view k, std::string_view v) { return scan_callback_result(fn, ctx, k, v) != 0; });
  });
}

mantis_iterator_t* mantis_iter_create_at(mantis_t* db, const mantis_snapshot_t* snapshot, char** errptr) {
  static constexpr const char* kWhat = "mantis_iter_create_at";
  mantis_iterator_t* result = nullptr;
  run(db, kWhat, errptr, [&](mantis::Engine& engine) -> Status {
    if (Status s = check_snapshot(kWhat, db, snapshot); !s.ok()) return s;
    auto iter = std::make_unique<mantis_iterator_t>();
    iter->db = db;
    if (Status s = engine.new_iterator(snapshot->read_options(), &iter->iter); !s.ok()) return s;
    // The iterator shares the snapshot: const only towards the caller, who may still destroy it.
    iter->snapshot = const_cast<mantis_snapshot_t*>(snapshot);
    // relaxed: the caller holds a reference for the duration of this call.
    iter->snapshot->refs.fetch_add(1, std::memory_order_relaxed);
    db->acquire();
    result = iter.release();
    return Status();
  });
  return result;
}

// ---- Transactions ----

mantis_txn_t* mantis_txn_begin(mantis_t* db, char** errptr) {
  mantis_txn_t* result = nullptr;
  run(db, "mantis_txn_begin", errptr, [&](mantis::Engine& engine) -> Status {
    auto txn = std::make_unique<mantis_txn_t>();
    txn->db = db;
    txn->txn = engine.begin();
    if (txn->txn == nullptr) return Status::resource_exhausted("mantis_txn_begin: out of memory");
    db->acquire();
    result = txn.release();
    return Status();
  });
  return result;
}

void mantis_txn_destroy(mantis_txn_t* txn) {
  if (txn == nullptr) return;
  mantis_t* db = txn->db;
  txn->txn.reset();  // rolls back an unfinished transaction, before the engine can go
  delete txn;
  db->release_engine();
  db->release_handle();
}

char* mantis_txn_get(mantis_txn_t* txn, const char* key, size_t keylen, size_t* vallen, char** errptr) {
  static constexpr const char* kWhat = "mantis_txn_get";
  if (vallen != nullptr) *vallen = 0;
  char* result = nullptr;
  run_txn(txn, kWhat, errptr, [&](mantis::Transaction& t) -> Status {
    if (vallen == nullptr) return null_argument(kWhat, "vallen");
    if (Status s = check_bytes(kWhat, "key", key, keylen); !s.ok()) return s;
    std::string value;
    Status s = t.get(bytes(key, keylen), &value);
    if (s.is_not_found()) return Status();
    if (!s.ok()) return s;
    result = malloc_copy(value);
    *vallen = value.size();
    return Status();
  });
  return result;
}

void mantis_txn_put(mantis_txn_t* txn, const mantis_writeoptions_t* options, const char* key, size_t keylen,
                    const char* val, size_t vallen, char** errptr) {
  run_txn(txn, "mantis_txn_put", errptr, [&](mantis::Transaction& t) -> Status {
    if (Status s = check_bytes("mantis_txn_put", "key", key, keylen); !s.ok()) return s;
    if (Status s = check_bytes("mantis_txn_put", "value", val, vallen); !s.ok()) return s;
    return t.put(bytes(key, keylen), bytes(val, vallen), write_options(options));
  });
}

void mantis_txn_erase(mantis_txn_t* txn, const char* key, size_t keylen, char** errptr) {
  run_txn(txn, "mantis_txn_erase", errptr, [&](mantis::Transaction& t) -> Status {
    if (Status s = check_bytes("mantis_txn_erase", "key", key, keylen); !s.ok()) return s;
    return t.erase(bytes(key, keylen));
  });
}

void mantis_txn_scan(mantis_txn_t* txn, const char* begin, size_t beginlen, const char* end, size_t endlen,
                     mantis_scan_fn fn, void* ctx, char** errptr) {
  static constexpr const char* kWhat = "mantis_txn_scan";
  run_txn(txn, kWhat, errptr, [&](mantis::Transaction& t) -> Status {
    if (fn == nullptr) return null_argument(kWhat, "fn");
    if (Status s = check_bytes(kWhat, "begin", begin, beginlen); !s.ok()) return s;
    if (Status s = check_bytes(kWhat, "end", end, endlen); !s.ok()) return s;
    ScanScope db_scope(txn->db);  // mantis_close from fn would wait for this scan
    ScanScope txn_scope(txn);     // and fn must not call into the transaction
    return t.scan(bytes(begin, beginlen), bytes(end, endlen),
                  [&](std::string_view k, std::string_view v) { return scan_callback_result(fn, ctx, k, v) != 0; });
  });
}

void mantis_txn_commit(mantis_txn_t* txn, const mantis_writeoptions_t* options, char** errptr) {
  run_txn(txn, "mantis_txn_commit", errptr, [&](mantis::Transaction& t) -> Status {
    txn->finished = true;  // whatever the result (mantis::Transaction::commit)
    return t.commit(write_options(options));
  });
}

void mantis_txn_rollback(mantis_txn_t* txn, char** errptr) {
  run_txn(txn, "mantis_txn_rollback", errptr, [&](mantis::Transaction& t) -> Status {
    txn->finished = true;
    t.rollback();
    return Status();
  });
}

uint64_t mantis_txn_snapshot_version(const mantis_txn_t* txn, char** errptr) {
  if (txn == nullptr) {
    fail(errptr, "InvalidArgument", "mantis_txn_snapshot_version", "txn is NULL");
    return 0;
  }
  if (txn->finished) {
    fail(errptr, "InvalidArgument", "mantis_txn_snapshot_version", "the transaction is finished");
    return 0;
  }
  return txn->txn->snapshot_version();
}

// ---- Write batches ----

mantis_writebatch_t* mantis_writebatch_create(void) { return new (std::nothrow) mantis_writebatch_t(); }
void mantis_writebatch_destroy(mantis_writebatch_t* batch) { delete batch; }

void mantis_writebatch_put_ttl(mantis_writebatch_t* batch, const char* key, size_t keylen, const char* val,
                               size_t vallen, int64_t ttl_ms) {
  if (batch == nullptr) return;
  if (key == nullptr && keylen != 0) return set_batch_error(batch, "InvalidArgument", "put: key is NULL");
  if (val == nullptr && vallen != 0) return set_batch_error(batch, "InvalidArgument", "put: value is NULL");
  try {
    batch->batch.put(bytes(key, keylen), bytes(val, vallen), milliseconds(ttl_ms));
  } catch (...) {
    set_batch_error(batch, "ResourceExhausted", "put: out of memory");
  }
}

void mantis_writebatch_put(mantis_writebatch_t* batch, const char* key, size_t keylen, const char* val, size_t vallen) {
  mantis_writebatch_put_ttl(batch, key, keylen, val, vallen, 0);
}

void mantis_writebatch_erase(mantis_writebatch_t* batch, const char* key, size_t keylen) {
  if (batch == nullptr) return;
  if (key == nullptr && keylen != 0) return set_batch_error(batch, "InvalidArgument", "erase: key is NULL");
  try {
    batch->batch.erase(bytes(key, keylen));
  } catch (...) {
    set_batch_error(batch, "ResourceExhausted", "erase: out of memory");
  }
}

void mantis_writebatch_clear(mantis_writebatch_t* batch) {
  if (batch == nullptr) return;
  batch->batch.clear();
  batch->error = nullptr;
  batch->error_code = nullptr;
}

size_t mantis_writebatch_count(const mantis_writebatch_t* batch) { return batch == nullptr ? 0 : batch->batch.count(); }

// ---- Iterators ----

mantis_iterator_t* mantis_iter_create(mantis_t* db, char** errptr) {
  mantis_iterator_t* result = nullptr;
  run(db, "mantis_iter_create", errptr, [&](mantis::Engine& engine) -> Status {
    auto iter = std::make_unique<mantis_iterator_t>();
    iter->db = db;
    iter->iter = engine.new_iterator();
    db->acquire();
    result = iter.release();
    return Status();
  });
  return result;
}

void mantis_iter_destroy(mantis_iterator_t* iter) {
  if (iter == nullptr) return;
  mantis_t* db = iter->db;
  mantis_snapshot_t* snapshot = iter->snapshot;
  iter->iter.reset();  // before its snapshot and the engine can go
  delete iter;
  if (snapshot != nullptr) snapshot->release();
  db->release_engine();
  db->release_handle();
}

void mantis_iter_seek_to_first(mantis_iterator_t* iter) {
  move_iter(iter, [](mantis::Iterator& it) { it.seek_to_first(); });
}

void mantis_iter_seek(mantis_iterator_t* iter, const char* key, size_t keylen) {
  if (iter != nullptr && key == nullptr && keylen != 0) {
    return set_iter_error(iter, "InvalidArgument", "mantis_iter_seek: key is NULL with a nonzero length");
  }
  move_iter(iter, [&](mantis::Iterator& it) { it.seek(bytes(key, keylen)); });
}

uint8_t mantis_iter_valid(const mantis_iterator_t* iter) {
  return iter != nullptr && iter->usable() && iter->iter->valid() ? 1 : 0;
}

void mantis_iter_next(mantis_iterator_t* iter) {
  if (mantis_iter_valid(iter) == 0) return;
  move_iter(iter, [](mantis::Iterator& it) { it.next(); });
}

const char* mantis_iter_key(const mantis_iterator_t* iter, size_t* keylen) {
  const bool valid = positioned(iter);
  if (keylen != nullptr) *keylen = valid ? iter->iter->key().size() : 0;
  return valid ? c_data(iter->iter->key()) : nullptr;
}

const char* mantis_iter_value(const mantis_iterator_t* iter, size_t* vallen) {
  const bool valid = positioned(iter);
  if (vallen != nullptr) *vallen = valid ? iter->iter->value().size() : 0;
  return valid ? c_data(iter->iter->value()) : nullptr;
}

void mantis_iter_get_error(const mantis_iterator_t* iter, char** errptr) {
  if (iter == nullptr) return fail(errptr, "InvalidArgument", "mantis_iter_get_error", "iterator is NULL");
  if (iter->error != nullptr) return fail(errptr, iter->error_code, "mantis_iter", iter->error);
  if (iter->db->gate.closed()) return fail(errptr, "Closed", "mantis_iter", "the database is closed");
  try {
    save_error(errptr, iter->iter->status());
  } catch (...) {
    fail_current_exception(errptr, "mantis_iter_get_error");
  }
}

// ---- Pinned values ----

const char* mantis_value_data(const mantis_value_t* value) {
  return value == nullptr ? nullptr : c_data(value->view.data());
}

size_t mantis_value_size(const mantis_value_t* value) { return value == nullptr ? 0 : value->view.data().size(); }

void mantis_value_destroy(mantis_value_t* value) {
  if (value == nullptr) return;
  mantis_t* db = value->db;
  delete value;  // unpins before the engine can go
  if (db != nullptr) {
    db->release_engine();
    db->release_handle();
  }
}

// ---- Standalone cache ----

mantis_cache_options_t* mantis_cache_options_create(void) { return new (std::nothrow) mantis_cache_options_t(); }
void mantis_cache_options_destroy(mantis_cache_options_t* options) { delete options; }
void mantis_cache_options_set_capacity(mantis_cache_options_t* options, size_t bytes) {
  if (options != nullptr) options->options.capacity = bytes;
}
void mantis_cache_options_set_admission(mantis_cache_options_t* options, int v) {
  if (options != nullptr) options->admission = v;
}
void mantis_cache_options_set_shard_bits(mantis_cache_options_t* options, int bits) {
  if (options != nullptr) options->options.shard_bits = bits;
}

mantis_cache_t* mantis_cache_create(const mantis_cache_options_t* options, char** errptr) {
  mantis::CacheOptions cache_options;
  if (options != nullptr) {
    cache_options = options->options;
    switch (options->admission) {
      case MANTIS_ADMISSION_ALWAYS:
        cache_options.admission = mantis::Admission::kAlways;
        break;
      case MANTIS_ADMISSION_TINYLFU:
        cache_options.admission = mantis::Admission::kTinyLfu;
        break;
      case MANTIS_ADMISSION_ADAPTIVE:
        cache_options.admission = mantis::Admission::kAdaptive;
        break;
      default:
        fail(errptr, "InvalidArgument", "mantis_cache_create", "admission is not a MANTIS_ADMISSION_* value");
        return nullptr;
    }
    if (cache_options.shard_bits < -1) {
      fail(errptr, "InvalidArgument", "mantis_cache_create", "shard_bits must be -1 (automatic) or >= 0");
      return nullptr;
    }
  }
  try {
    auto cache = std::make_unique<mantis_cache_t>();
    if (const Status s = mantis::Cache::open(cache_options, &cache->cache); !s.ok()) {
      save_error(errptr, s);
      return nullptr;
    }
    return cache.release();
  } catch (...) {
    fail_current_exception(errptr, "mantis_cache_create");
    return nullptr;
  }
}

void mantis_cache_close(mantis_cache_t* cache, char** errptr) {
  if (cache == nullptr) return fail(errptr, "InvalidArgument", "mantis_cache_close", "cache is NULL");
  // Cache values need no cache, so the cache goes as soon as the calls in flight are done.
  if (cache->gate.close()) cache->cache.reset();
}

void mantis_cache_destroy(mantis_cache_t* cache) {
  if (cache == nullptr) return;
  if (cache->gate.close()) cache->cache.reset();
  delete cache;
}

void mantis_cache_put(mantis_cache_t* cache, const char* key, size_t keylen, const char* val, size_t vallen,
                      int64_t ttl_ms, char** errptr) {
  run(cache, "mantis_cache_put", errptr, [&](mantis::Cache& c) -> Status {
    if (Status s = check_bytes("mantis_cache_put", "key", key, keylen); !s.ok()) return s;
    if (Status s = check_bytes("mantis_cache_put", "value", val, vallen); !s.ok()) return s;
    return c.put(bytes(key, keylen), bytes(val, vallen), milliseconds(ttl_ms));
  });
}

char* mantis_cache_get(mantis_cache_t* cache, const char* key, size_t keylen, size_t* vallen, char** errptr) {
  return get_copy(cache, "mantis_cache_get", key, keylen, vallen, errptr);
}

mantis_value_t* mantis_cache_get_pinned(mantis_cache_t* cache, const char* key, size_t keylen, char** errptr) {
  return get_pinned(cache, "mantis_cache_get_pinned", key, keylen, nullptr, errptr);
}

uint8_t mantis_cache_erase(mantis_cache_t* cache, const char* key, size_t keylen, char** errptr) {
  bool found = false;
  run(cache, "mantis_cache_erase", errptr, [&](mantis::Cache& c) -> Status {
    if (Status s = check_bytes("mantis_cache_erase", "key", key, keylen); !s.ok()) return s;
    found = c.erase(bytes(key, keylen));
    return Status();
  });
  return found ? 1 : 0;
}

size_t mantis_cache_erase_prefix(mantis_cache_t* cache, const char* prefix, size_t prefixlen, char** errptr) {
  size_t erased = 0;
  run(cache, "mantis_cache_erase_prefix", errptr, [&](mantis::Cache& c) -> Status {
    if (Status s = check_bytes("mantis_cache_erase_prefix", "prefix", prefix, prefixlen); !s.ok()) return s;
    erased = c.erase_prefix(bytes(prefix, prefixlen));
    return Status();
  });
  return erased;
}

void mantis_cache_clear(mantis_cache_t* cache, char** errptr) {
  run(cache, "mantis_cache_clear", errptr, [](mantis::Cache& c) {
    c.clear();
    return Status();
  });
}

size_t mantis_cache_entries(mantis_cache_t* cache, char** errptr) {
  size_t n = 0;
  run(cache, "mantis_cache_entries", errptr, [&](mantis::Cache& c) {
    n = c.entries();
    return Status();
  });
  return n;
}

size_t mantis_cache_charge(mantis_cache_t* cache, char** errptr) {
  size_t n = 0;
  run(cache, "mantis_cache_charge", errptr, [&](mantis::Cache& c) {
    n = c.charge();
    return Status();
  });
  return n;
}

size_t mantis_cache_capacity(mantis_cache_t* cache, char** errptr) {
  size_t n = 0;
  run(cache, "mantis_cache_capacity", errptr, [&](mantis::Cache& c) {
    n = c.capacity();
    return Status();
  });
  return n;
}

mantis_cache_stats_t* mantis_cache_stats_create(mantis_cache_t* cache, char** errptr) {
  mantis_cache_stats_t* result = nullptr;
  run(cache, "mantis_cache_stats_create", errptr, [&](mantis::Cache& c) {
    result = new mantis_cache_stats_t{c.stats()};
    return Status();
  });
  return result;
}

void mantis_cache_stats_destroy(mantis_cache_stats_t* stats) { delete stats; }
uint64_t mantis_cache_stats_hits(const mantis_cache_stats_t* stats) { return stats ? stats->stats.hits : 0; }
uint64_t mantis_cache_stats_misses(const mantis_cache_stats_t* stats) { return stats ? stats->stats.misses : 0; }
uint64_t mantis_cache_stats_inserts(const mantis_cache_stats_t* stats) { return stats ? stats->stats.inserts : 0; }
uint64_t mantis_cache_stats_evictions(const mantis_cache_stats_t* stats) { return stats ? stats->stats.evictions : 0; }
uint64_t mantis_cache_stats_expired(const mantis_cache_stats_t* stats) { return stats ? stats->stats.expired : 0; }
double mantis_cache_stats_hit_ratio(const mantis_cache_stats_t* stats) { return stats ? stats->stats.hit_ratio : 0; }

}  // extern "C"
