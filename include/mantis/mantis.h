/* mantis C API: a C99 interface to mantis::Engine and mantis::Cache, for C programs and for
 * language bindings (the Go binding in bindings/go is built on it). Link with libmantis_c
 * (CMake: mantis::c; pkg-config: mantis_c).
 *
 * Conventions
 * - Every object is a distinct opaque handle type, created by a *_create or mantis_open call and
 *   released by its own *_destroy (or mantis_destroy). Strings and values returned by the library
 *   are malloc'd and released with mantis_free.
 * - Keys and values are (const char*, size_t) pairs of arbitrary bytes: embedded NULs and the empty
 *   key are valid. A NULL pointer is accepted only with length 0.
 * - Fallible calls take `char** errptr` last. It may be NULL (errors are then not reported). On
 *   success *errptr is left untouched. On failure the library frees any message already in *errptr
 *   and stores a new malloc'd one, "<Code>: <message>" where <Code> is one of NotFound,
 *   InvalidArgument, IOError, Corruption, Busy, ResourceExhausted, NotSupported, Closed,
 *   ConditionFailed or Conflict, e.g. "Closed: mantis_put: the database is closed"; mantis_error_code(*errptr)
 *   gives that code as a mantis_code_t. Free it with mantis_free.
 * - A missing key is not an error: mantis_get returns NULL with *vallen = 0 and leaves *errptr
 *   alone; mantis_expire and mantis_persist return 0.
 * - Booleans are uint8_t (0 or 1). Durations are int64_t milliseconds.
 * - NULL handles, NULL buffers with a nonzero length and NULL out-parameters are reported as
 *   InvalidArgument through errptr; calls without errptr return a documented neutral value. A bad
 *   argument never changes anything. No C++ exception escapes (std::bad_alloc becomes
 *   ResourceExhausted).
 *
 * Thread safety: a mantis_t and a mantis_cache_t are safe for concurrent use by any number of
 * threads. The C layer adds no lock: a call registers itself with one atomic increment (so that
 * close can wait for it), then runs the C++ call, whose locking is that of mantis::Engine and
 * mantis::Cache (reads take none). Options, write options, write batches, iterators, values and
 * transactions are not thread-safe: use each from one thread at a time. A snapshot may be read
 * through by any number of threads at once.
 *
 * Lifetime of a database (mantis_t)
 * - mantis_close(db) closes the engine: new calls on db (and on its iterators) fail with "Closed",
 *   calls already running finish first (close waits for them). It is idempotent and may race with
 *   other calls. The handle stays valid until mantis_destroy(db), which closes if needed and frees
 *   it; after mantis_destroy nothing may use db. REQUIRES of mantis_destroy: no call on db is running
 *   or will start.
 * - Iterators, pinned values, snapshots and transactions keep the engine's memory alive: the engine
 *   is freed when it is closed and the last of them is destroyed. After close, calls through a
 *   snapshot or a transaction fail with Closed (destroying them is always fine). After close an iterator is not
 *   valid() and mantis_iter_get_error reports Closed; a pinned value stays readable until
 *   mantis_value_destroy. Iterators and values may be destroyed before or after mantis_destroy.
 * - mantis_close(db) called from inside a callback of a scan of the same db fails with Busy (it
 *   would otherwise wait for that scan forever).
 * A standalone cache (mantis_cache_t) follows the same rules with mantis_cache_close and
 * mantis_cache_destroy; its pinned values stay valid even after mantis_cache_destroy.
 */
#ifndef MANTIS_MANTIS_H_
#define MANTIS_MANTIS_H_

#include <stddef.h>
#include <stdint.h>

#include <mantis/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Opaque handles. */
typedef struct mantis_t mantis_t;
typedef struct mantis_options_t mantis_options_t;
typedef struct mantis_writeoptions_t mantis_writeoptions_t;
typedef struct mantis_writebatch_t mantis_writebatch_t;
typedef struct mantis_iterator_t mantis_iterator_t;
typedef struct mantis_value_t mantis_value_t;
typedef struct mantis_cache_t mantis_cache_t;
typedef struct mantis_cache_options_t mantis_cache_options_t;
typedef struct mantis_cache_stats_t mantis_cache_stats_t;
typedef struct mantis_snapshot_t mantis_snapshot_t;
typedef struct mantis_txn_t mantis_txn_t;

/* Called once per key by mantis_scan, mantis_scan_prefix, their *_at forms and mantis_txn_scan, in
 * key order. The pointers are valid only during the call. Return nonzero to continue, 0 to stop. The
 * callback may call into the same database (but not mantis_close or mantis_destroy on it, nor into the
 * transaction being scanned). */
typedef int (*mantis_scan_fn)(void* ctx, const char* key, size_t keylen, const char* value, size_t vallen);

/* Durability modes (mantis_options_set_durability); only meaningful with a directory. */
enum {
  MANTIS_DURABILITY_NONE = 0,
  MANTIS_DURABILITY_ASYNC = 1,
  MANTIS_DURABILITY_SYNC = 2,
  MANTIS_DURABILITY_PERIODIC = 3
};
/* Cache admission policies (mantis_options_set_cache_admission, mantis_cache_options_set_admission). */
enum { MANTIS_ADMISSION_ALWAYS = 0, MANTIS_ADMISSION_TINYLFU = 1, MANTIS_ADMISSION_ADAPTIVE = 2 };

/* The library version, "MAJOR.MINOR.PATCH". Static storage: never free it. */
MANTIS_EXPORT const char* mantis_version(void);
/* Frees a string or value returned by the library. NULL is a no-op. */
MANTIS_EXPORT void mantis_free(void* ptr);

/* What an error is, as a code: the same codes, in the same order, as mantis::Status::Code. */
typedef enum {
  MANTIS_OK = 0,
  MANTIS_NOT_FOUND = 1,
  MANTIS_INVALID_ARGUMENT = 2,
  MANTIS_IO_ERROR = 3,
  MANTIS_CORRUPTION = 4,
  MANTIS_BUSY = 5,
  MANTIS_RESOURCE_EXHAUSTED = 6,
  MANTIS_NOT_SUPPORTED = 7,
  MANTIS_CLOSED = 8,
  MANTIS_CONDITION_FAILED = 9, /* a conditional write's condition did not hold: nothing was written */
  MANTIS_CONFLICT = 10 /* a transaction's commit found a key it read written since its snapshot: nothing
                          was written; run the transaction again */
} mantis_code_t;
/* The code of a message the library stored in *errptr (it always begins "<Code>: "); MANTIS_OK for
 * NULL, MANTIS_IO_ERROR for text the library did not write. Branch on this, never on the text. */
MANTIS_EXPORT mantis_code_t mantis_error_code(const char* err);

/* ---- Options: every field of mantis::Options; defaults as documented there. Setters on a NULL
 * options are no-ops. Values are checked by mantis_open, which names the bad field. ---- */
MANTIS_EXPORT mantis_options_t* mantis_options_create(void);
MANTIS_EXPORT void mantis_options_destroy(mantis_options_t* options);
/* NUL-terminated path; NULL or "" = memory only (default). Otherwise the engine is durable in that
 * directory (write-ahead log and snapshots; a second open of it is Busy while the first is open). */
MANTIS_EXPORT void mantis_options_set_dir(mantis_options_t* options, const char* dir);
MANTIS_EXPORT void mantis_options_set_create_if_missing(mantis_options_t* options, uint8_t v); /* default 1 */
MANTIS_EXPORT void mantis_options_set_error_if_exists(mantis_options_t* options, uint8_t v);   /* default 0 */
MANTIS_EXPORT void mantis_options_set_durability(mantis_options_t* options, int v);            /* default ASYNC */
MANTIS_EXPORT void mantis_options_set_sync_interval(mantis_options_t* options, int64_t ms);    /* default 1000 */
MANTIS_EXPORT void mantis_options_set_cache_capacity(mantis_options_t* options, size_t bytes); /* default 0 = off */
MANTIS_EXPORT void mantis_options_set_cache_admission(mantis_options_t* options, int v);       /* default ADAPTIVE */
MANTIS_EXPORT void mantis_options_set_reaper_interval(mantis_options_t* options, int64_t ms);  /* 100; 0 = lazy */
MANTIS_EXPORT void mantis_options_set_max_key_size(mantis_options_t* options, size_t bytes);   /* default 64 KiB */
MANTIS_EXPORT void mantis_options_set_max_value_size(mantis_options_t* options, size_t bytes); /* default 64 MiB */

/* ---- Write options (NULL where a write takes them = defaults: no TTL, no sync). ---- */
MANTIS_EXPORT mantis_writeoptions_t* mantis_writeoptions_create(void);
MANTIS_EXPORT void mantis_writeoptions_destroy(mantis_writeoptions_t* options);
MANTIS_EXPORT void mantis_writeoptions_set_ttl(mantis_writeoptions_t* options, int64_t ms); /* 0 = none; < 0 invalid */
MANTIS_EXPORT void mantis_writeoptions_set_sync(mantis_writeoptions_t* options, uint8_t v);
/* Default 0. 1: a put that replaces a live value keeps that value's expiry (the TTL then applies only
 * to an absent key), as Redis's SET KEEPTTL. mantis_write refuses it (InvalidArgument). */
MANTIS_EXPORT void mantis_writeoptions_set_keep_ttl(mantis_writeoptions_t* options, uint8_t v);

/* ---- Database ---- */
/* Opens an engine (options NULL = defaults). Returns NULL and sets *errptr on failure. */
MANTIS_EXPORT mantis_t* mantis_open(const mantis_options_t* options, char** errptr);
/* Closes the engine (see "Lifetime" above). Idempotent; NULL is InvalidArgument. */
MANTIS_EXPORT void mantis_close(mantis_t* db, char** errptr);
/* Closes if needed and frees the handle. NULL is a no-op. */
MANTIS_EXPORT void mantis_destroy(mantis_t* db);

MANTIS_EXPORT void mantis_put(mantis_t* db, const mantis_writeoptions_t* options, const char* key, size_t keylen,
                              const char* val, size_t vallen, char** errptr);
/* mantis_put with a time to live in milliseconds (0 = no expiry). */
MANTIS_EXPORT void mantis_put_ttl(mantis_t* db, const char* key, size_t keylen, const char* val, size_t vallen,
                                  int64_t ttl_ms, char** errptr);
/* A malloc'd copy of the value (free with mantis_free; an empty value is a non-NULL pointer with
 * *vallen = 0). Absent or expired key: NULL, *vallen = 0, *errptr untouched. vallen must not be NULL. */
MANTIS_EXPORT char* mantis_get(mantis_t* db, const char* key, size_t keylen, size_t* vallen, char** errptr);
/* A pinned, zero-copy value (release with mantis_value_destroy). Absent key: NULL, *errptr untouched. */
MANTIS_EXPORT mantis_value_t* mantis_get_pinned(mantis_t* db, const char* key, size_t keylen, char** errptr);
/* Looks up n keys in one call. values[i] gets a malloc'd copy (free each with mantis_free) or NULL
 * when keys[i] is absent; vallens[i] its length (0 for a missing key). On error every values[i] is
 * NULL. n = 0 is a no-op. */
MANTIS_EXPORT void mantis_multi_get(mantis_t* db, size_t n, const char* const* keys, const size_t* keylens,
                                    char** values, size_t* vallens, char** errptr);
/* 1 if the key is present and unexpired; 0 if not, or on error. */
MANTIS_EXPORT uint8_t mantis_contains(mantis_t* db, const char* key, size_t keylen, char** errptr);
/* Removes key; absent keys are fine. */
MANTIS_EXPORT void mantis_erase(mantis_t* db, const mantis_writeoptions_t* options, const char* key, size_t keylen,
                                char** errptr);
/* ---- Versions and conditional writes. Every stored value has a version (unique per engine; compare
 * versions for equality only). Each conditional write decides and writes in one atomic step against
 * every other writer of the key (in a durable engine it is one logged put or erase). A condition that
 * does not hold is not an error: the call returns 0, writes nothing and leaves *errptr untouched. An
 * expired key is absent. ---- */
/* As mantis_get, and *version (if not NULL) receives the value's version (0 when absent). */
MANTIS_EXPORT char* mantis_get_version(mantis_t* db, const char* key, size_t keylen, size_t* vallen, uint64_t* version,
                                       char** errptr);
/* Write only if the key is absent / present. 1 if written, 0 if not or on error. */
MANTIS_EXPORT uint8_t mantis_put_if_absent(mantis_t* db, const mantis_writeoptions_t* options, const char* key,
                                           size_t keylen, const char* val, size_t vallen, char** errptr);
MANTIS_EXPORT uint8_t mantis_put_if_present(mantis_t* db, const mantis_writeoptions_t* options, const char* key,
                                            size_t keylen, const char* val, size_t vallen, char** errptr);
/* Compare-and-set: writes only if the key's version is `expected` (0: only if absent). 1 if written. */
MANTIS_EXPORT uint8_t mantis_put_if_version(mantis_t* db, const mantis_writeoptions_t* options, const char* key,
                                            size_t keylen, uint64_t expected, const char* val, size_t vallen,
                                            char** errptr);
/* Removes the key only if its version is `expected`. 1 if removed. */
MANTIS_EXPORT uint8_t mantis_erase_if_version(mantis_t* db, const mantis_writeoptions_t* options, const char* key,
                                              size_t keylen, uint64_t expected, char** errptr);
/* Removes the key and tells whether it was present: 1 if removed, 0 if absent or on error. */
MANTIS_EXPORT uint8_t mantis_erase_if_present(mantis_t* db, const mantis_writeoptions_t* options, const char* key,
                                              size_t keylen, char** errptr);
/* Writes key -> val and returns the value it replaced as a malloc'd copy (free with mantis_free), or
 * NULL with *oldlen = 0 when the key was absent or on error. oldlen must not be NULL. */
MANTIS_EXPORT char* mantis_get_and_put(mantis_t* db, const mantis_writeoptions_t* options, const char* key,
                                       size_t keylen, const char* val, size_t vallen, size_t* oldlen, char** errptr);
/* Adds delta to the key's value read as a signed 64-bit decimal integer (Redis INCRBY's text; an absent
 * key counts as 0; the key keeps its TTL) and returns the sum. A value that is not such an integer or a
 * sum that overflows is InvalidArgument and writes nothing; 0 is returned on error. */
MANTIS_EXPORT int64_t mantis_increment(mantis_t* db, const mantis_writeoptions_t* options, const char* key,
                                       size_t keylen, int64_t delta, char** errptr);

/* Applies a batch: every operation is checked first; a bad one fails the whole batch. */
MANTIS_EXPORT void mantis_write(mantis_t* db, const mantis_writeoptions_t* options, const mantis_writebatch_t* batch,
                                char** errptr);

/* Sets the key's time to live to ttl_ms from now (0 expires it at once; < 0 is InvalidArgument).
 * Returns 1 if the key was present, 0 if it was absent (not an error) or on error. */
MANTIS_EXPORT uint8_t mantis_expire(mantis_t* db, const char* key, size_t keylen, int64_t ttl_ms, char** errptr);
/* Removes the key's time to live. Returns 1 if the key was present, 0 if absent or on error. */
MANTIS_EXPORT uint8_t mantis_persist(mantis_t* db, const char* key, size_t keylen, char** errptr);
/* Returns 1 if the key has a TTL (*remaining_ms = milliseconds left, >= 1), 0 if it has none
 * (*remaining_ms = 0), -1 if the key is absent (*errptr untouched) or on error. */
MANTIS_EXPORT int mantis_ttl(mantis_t* db, const char* key, size_t keylen, int64_t* remaining_ms, char** errptr);

/* Calls fn for each live key in [begin, end) in order until it returns 0; an empty end = to the
 * last key. */
MANTIS_EXPORT void mantis_scan(mantis_t* db, const char* begin, size_t beginlen, const char* end, size_t endlen,
                               mantis_scan_fn fn, void* ctx, char** errptr);
/* Calls fn for each live key starting with prefix, in order, until it returns 0. */
MANTIS_EXPORT void mantis_scan_prefix(mantis_t* db, const char* prefix, size_t prefixlen, mantis_scan_fn fn, void* ctx,
                                      char** errptr);

/* Approximate number of keys (0 on error). */
MANTIS_EXPORT uint64_t mantis_size(mantis_t* db, char** errptr);
/* Removes every key. */
MANTIS_EXPORT void mantis_clear(mantis_t* db, char** errptr);
/* Durable engines only; a memory-only engine reports NotSupported. */
MANTIS_EXPORT void mantis_sync(mantis_t* db, char** errptr);
MANTIS_EXPORT void mantis_checkpoint(mantis_t* db, char** errptr);
/* Writes a consistent copy of a live durable engine into dir (NUL-terminated; must not exist or be
 * empty) while writes go on: the state at one instant of the call; it opens with mantis_open. Memory-only
 * engines and MANTIS_DURABILITY_NONE report NotSupported. */
MANTIS_EXPORT void mantis_backup(mantis_t* db, const char* dir, char** errptr);
/* The engine's counters as one JSON object / as Prometheus text (malloc'd, NUL-terminated; free
 * with mantis_free). NULL on error. */
MANTIS_EXPORT char* mantis_stats_json(mantis_t* db, char** errptr);
MANTIS_EXPORT char* mantis_stats_prometheus(mantis_t* db, char** errptr);

/* ---- Snapshots: a consistent, point-in-time view of a database. Reads at a snapshot see exactly the
 * writes acknowledged before mantis_snapshot_create and none after, across all keys, for as long as
 * it lives (a key with a TTL is expired at the snapshot if it was expired when the snapshot was
 * taken); a batch or a transaction's commit is seen whole or not at all. While any snapshot (or
 * transaction) is alive, writes keep the values they replace for it, so release snapshots promptly.
 * A snapshot may be read through by any number of threads at once; iterators created at it keep it
 * alive until they are destroyed. ---- */
/* A snapshot of the database now (release with mantis_snapshot_destroy). NULL on error (Closed,
 * ResourceExhausted). */
MANTIS_EXPORT mantis_snapshot_t* mantis_snapshot_create(mantis_t* db, char** errptr);
/* Every write with a version <= this one is visible at the snapshot (0 for NULL). */
MANTIS_EXPORT uint64_t mantis_snapshot_version(const mantis_snapshot_t* snapshot);
/* Releases the snapshot (its iterators keep it until they go). NULL is a no-op. REQUIRES: no call
 * reading at it is running or will start. */
MANTIS_EXPORT void mantis_snapshot_destroy(mantis_snapshot_t* snapshot);

/* Reads at a snapshot: as mantis_get_version, mantis_scan, mantis_scan_prefix and mantis_iter_create,
 * at `snapshot`, which must come from the same db (NULL, or a snapshot of another database, is
 * InvalidArgument). An absent key is not an error: NULL, *vallen = 0, *version = 0. */
MANTIS_EXPORT char* mantis_get_at(mantis_t* db, const mantis_snapshot_t* snapshot, const char* key, size_t keylen,
                                  size_t* vallen, uint64_t* version, char** errptr);
MANTIS_EXPORT void mantis_scan_at(mantis_t* db, const mantis_snapshot_t* snapshot, const char* begin, size_t beginlen,
                                  const char* end, size_t endlen, mantis_scan_fn fn, void* ctx, char** errptr);
MANTIS_EXPORT void mantis_scan_prefix_at(mantis_t* db, const mantis_snapshot_t* snapshot, const char* prefix,
                                         size_t prefixlen, mantis_scan_fn fn, void* ctx, char** errptr);
/* An iterator over exactly the snapshot's keys; it keeps the snapshot alive until mantis_iter_destroy. */
MANTIS_EXPORT mantis_iterator_t* mantis_iter_create_at(mantis_t* db, const mantis_snapshot_t* snapshot,
                                                       char** errptr);

/* ---- Optimistic transactions (mantis::Transaction). Reads see the database at the transaction's
 * snapshot (taken by mantis_txn_begin) plus its own writes; writes are buffered until commit. Commit
 * fails with Conflict (mantis_error_code gives MANTIS_CONFLICT), writing nothing, if any key the
 * transaction read (a get, found or not, or any key of a range it scanned, including keys inserted
 * into that range since) was written after its snapshot; otherwise every write applies atomically at
 * one new version (one log record in a durable engine). Isolation is serializable. A read-only
 * transaction always commits.
 * After mantis_txn_commit (whatever its result) or mantis_txn_rollback the transaction is finished:
 * every further call but mantis_txn_destroy gives InvalidArgument and changes nothing. Not
 * thread-safe: use a transaction from one thread at a time. ---- */
/* Begins a transaction at a new snapshot (release with mantis_txn_destroy). NULL on error. */
MANTIS_EXPORT mantis_txn_t* mantis_txn_begin(mantis_t* db, char** errptr);
/* Rolls back an unfinished transaction and frees it. NULL is a no-op. */
MANTIS_EXPORT void mantis_txn_destroy(mantis_txn_t* txn);
/* The value at the snapshot or the transaction's own write, as a malloc'd copy (as mantis_get). An
 * absent key (or one this transaction erased) is not an error: NULL, *vallen = 0. The read joins the
 * commit check. vallen must not be NULL. */
MANTIS_EXPORT char* mantis_txn_get(mantis_txn_t* txn, const char* key, size_t keylen, size_t* vallen, char** errptr);
/* Buffers key -> val. Of the write options (NULL = defaults) only the TTL applies, counted from the
 * commit; sync or keep_ttl here is InvalidArgument (pass sync to mantis_txn_commit). */
MANTIS_EXPORT void mantis_txn_put(mantis_txn_t* txn, const mantis_writeoptions_t* options, const char* key,
                                  size_t keylen, const char* val, size_t vallen, char** errptr);
/* Buffers the removal of key. */
MANTIS_EXPORT void mantis_txn_erase(mantis_txn_t* txn, const char* key, size_t keylen, char** errptr);
/* As mantis_scan, over the keys as the transaction sees them; the range up to where fn stopped joins
 * the commit check. fn must not call into this transaction (such calls fail with Busy). */
MANTIS_EXPORT void mantis_txn_scan(mantis_txn_t* txn, const char* begin, size_t beginlen, const char* end,
                                   size_t endlen, mantis_scan_fn fn, void* ctx, char** errptr);
/* Applies the buffered writes unless a read changed since the snapshot (then Conflict: nothing was
 * written; begin a new transaction and run it again). Durable per the engine's mode; of the write
 * options (NULL = defaults) only sync applies. The transaction is finished afterwards, whatever the
 * result, except when the call was refused before it reached the engine (NULL, finished, Closed). */
MANTIS_EXPORT void mantis_txn_commit(mantis_txn_t* txn, const mantis_writeoptions_t* options, char** errptr);
/* Drops the buffered writes and releases the snapshot; the transaction is finished. */
MANTIS_EXPORT void mantis_txn_rollback(mantis_txn_t* txn, char** errptr);
/* The version of the transaction's snapshot; 0 with InvalidArgument for NULL or a finished one. */
MANTIS_EXPORT uint64_t mantis_txn_snapshot_version(const mantis_txn_t* txn, char** errptr);

/* ---- Write batches: operations are recorded, then applied by mantis_write. A bad argument (NULL
 * key with a nonzero length, negative TTL) is not recorded; it is remembered and makes mantis_write
 * fail with InvalidArgument until mantis_writebatch_clear. NULL batches are no-ops. ---- */
MANTIS_EXPORT mantis_writebatch_t* mantis_writebatch_create(void);
MANTIS_EXPORT void mantis_writebatch_destroy(mantis_writebatch_t* batch);
MANTIS_EXPORT void mantis_writebatch_put(mantis_writebatch_t* batch, const char* key, size_t keylen, const char* val,
                                         size_t vallen);
MANTIS_EXPORT void mantis_writebatch_put_ttl(mantis_writebatch_t* batch, const char* key, size_t keylen,
                                             const char* val, size_t vallen, int64_t ttl_ms);
MANTIS_EXPORT void mantis_writebatch_erase(mantis_writebatch_t* batch, const char* key, size_t keylen);
MANTIS_EXPORT void mantis_writebatch_clear(mantis_writebatch_t* batch);
/* Recorded operations (0 for NULL). */
MANTIS_EXPORT size_t mantis_writebatch_count(const mantis_writebatch_t* batch);

/* ---- Iterators: ordered by memcmp of the key bytes; created unpositioned. A NULL, closed or
 * unpositioned iterator is not valid; seek/next on it are no-ops (next on an invalid iterator too).
 * key/value return NULL with *len = 0 when not positioned on a key; once valid() returned 1 they
 * keep working even if another thread closes the database meanwhile. Their bytes stay valid until
 * the next seek/next/destroy. ---- */
MANTIS_EXPORT mantis_iterator_t* mantis_iter_create(mantis_t* db, char** errptr);
MANTIS_EXPORT void mantis_iter_destroy(mantis_iterator_t* iter);
MANTIS_EXPORT void mantis_iter_seek_to_first(mantis_iterator_t* iter);
MANTIS_EXPORT void mantis_iter_seek(mantis_iterator_t* iter, const char* key, size_t keylen);
MANTIS_EXPORT uint8_t mantis_iter_valid(const mantis_iterator_t* iter);
MANTIS_EXPORT void mantis_iter_next(mantis_iterator_t* iter);
MANTIS_EXPORT const char* mantis_iter_key(const mantis_iterator_t* iter, size_t* keylen);
MANTIS_EXPORT const char* mantis_iter_value(const mantis_iterator_t* iter, size_t* vallen);
/* Reports the iterator's error (Closed after mantis_close, InvalidArgument for NULL or a NULL seek
 * key with a nonzero length); *errptr is untouched when there is none. */
MANTIS_EXPORT void mantis_iter_get_error(const mantis_iterator_t* iter, char** errptr);

/* ---- Pinned values (from mantis_get_pinned or mantis_cache_get_pinned): the bytes stay valid
 * until mantis_value_destroy, even if the key is overwritten, erased or evicted. ---- */
MANTIS_EXPORT const char* mantis_value_data(const mantis_value_t* value); /* NULL for NULL */
MANTIS_EXPORT size_t mantis_value_size(const mantis_value_t* value);      /* 0 for NULL */
MANTIS_EXPORT void mantis_value_destroy(mantis_value_t* value);

/* ---- Standalone cache (mantis::Cache): byte-bounded, sharded, per-entry TTL. A miss is never an
 * error. ---- */
MANTIS_EXPORT mantis_cache_options_t* mantis_cache_options_create(void);
MANTIS_EXPORT void mantis_cache_options_destroy(mantis_cache_options_t* options);
MANTIS_EXPORT void mantis_cache_options_set_capacity(mantis_cache_options_t* options, size_t bytes); /* 64 MiB */
MANTIS_EXPORT void mantis_cache_options_set_admission(mantis_cache_options_t* options, int v);       /* default ADAPTIVE */
MANTIS_EXPORT void mantis_cache_options_set_shard_bits(mantis_cache_options_t* options, int bits);   /* -1 = auto */

/* options NULL = defaults. Returns NULL and sets *errptr on failure (unknown admission policy). */
MANTIS_EXPORT mantis_cache_t* mantis_cache_create(const mantis_cache_options_t* options, char** errptr);
/* Later calls fail with Closed; running calls finish first. Idempotent. */
MANTIS_EXPORT void mantis_cache_close(mantis_cache_t* cache, char** errptr);
/* Closes if needed and frees the handle. NULL is a no-op. REQUIRES: no call on it running. */
MANTIS_EXPORT void mantis_cache_destroy(mantis_cache_t* cache);
/* ttl_ms 0 = no expiry. An entry larger than a shard is InvalidArgument. */
MANTIS_EXPORT void mantis_cache_put(mantis_cache_t* cache, const char* key, size_t keylen, const char* val,
                                    size_t vallen, int64_t ttl_ms, char** errptr);
/* As mantis_get: a malloc'd copy, or NULL with *vallen = 0 on a miss. */
MANTIS_EXPORT char* mantis_cache_get(mantis_cache_t* cache, const char* key, size_t keylen, size_t* vallen,
                                     char** errptr);
MANTIS_EXPORT mantis_value_t* mantis_cache_get_pinned(mantis_cache_t* cache, const char* key, size_t keylen,
                                                      char** errptr);
/* 1 if the key was present; 0 if not, or on error. */
MANTIS_EXPORT uint8_t mantis_cache_erase(mantis_cache_t* cache, const char* key, size_t keylen, char** errptr);
/* Removes every key starting with prefix; returns how many (0 on error). */
MANTIS_EXPORT size_t mantis_cache_erase_prefix(mantis_cache_t* cache, const char* prefix, size_t prefixlen,
                                               char** errptr);
MANTIS_EXPORT void mantis_cache_clear(mantis_cache_t* cache, char** errptr);
/* Gauges (0 on error). */
MANTIS_EXPORT size_t mantis_cache_entries(mantis_cache_t* cache, char** errptr);
MANTIS_EXPORT size_t mantis_cache_charge(mantis_cache_t* cache, char** errptr);
MANTIS_EXPORT size_t mantis_cache_capacity(mantis_cache_t* cache, char** errptr);
/* A snapshot of the counters (release with mantis_cache_stats_destroy); NULL on error. The getters
 * return 0 for NULL. */
MANTIS_EXPORT mantis_cache_stats_t* mantis_cache_stats_create(mantis_cache_t* cache, char** errptr);
MANTIS_EXPORT void mantis_cache_stats_destroy(mantis_cache_stats_t* stats);
MANTIS_EXPORT uint64_t mantis_cache_stats_hits(const mantis_cache_stats_t* stats);
MANTIS_EXPORT uint64_t mantis_cache_stats_misses(const mantis_cache_stats_t* stats);
MANTIS_EXPORT uint64_t mantis_cache_stats_inserts(const mantis_cache_stats_t* stats);
MANTIS_EXPORT uint64_t mantis_cache_stats_evictions(const mantis_cache_stats_t* stats);
MANTIS_EXPORT uint64_t mantis_cache_stats_expired(const mantis_cache_stats_t* stats);
MANTIS_EXPORT double mantis_cache_stats_hit_ratio(const mantis_cache_stats_t* stats);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* MANTIS_MANTIS_H_ */
