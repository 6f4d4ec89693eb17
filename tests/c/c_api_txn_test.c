/* Snapshots and transactions through the C API: reads at a snapshot (get, scans, iterators) see
 * exactly its state; transactions read their snapshot plus their own writes, commit atomically, fail
 * with MANTIS_CONFLICT when a key they read changed, and refuse every bad input without changing
 * anything. */
/* mkdtemp (POSIX.1-2008) for the durable test. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"

static mantis_t* open_memory(void) {
  char* err = NULL;
  mantis_t* db = mantis_open(NULL, &err);
  CHECK_OK(err);
  CHECK(db != NULL);
  return db;
}

static void put(mantis_t* db, const char* key, const char* value) {
  char* err = NULL;
  mantis_put(db, NULL, key, strlen(key), value, strlen(value), &err);
  CHECK_OK(err);
}

/* True if a get at `snap` (or of the latest state when snap is NULL) finds exactly `value` (NULL:
 * absent). */
static int value_is(mantis_t* db, const mantis_snapshot_t* snap, const char* key, const char* value) {
  char* err = NULL;
  size_t len = 99;
  uint64_t version = 99;
  char* got = snap != NULL ? mantis_get_at(db, snap, key, strlen(key), &len, &version, &err)
                           : mantis_get_version(db, key, strlen(key), &len, &version, &err);
  int same = err == NULL && (value == NULL ? got == NULL && len == 0 && version == 0
                                           : got != NULL && len == strlen(value) && memcmp(got, value, len) == 0 &&
                                                 version != 0);
  if (err != NULL) fprintf(stderr, "  value_is(%s): %s\n", key, err);
  mantis_free(got);
  mantis_free(err);
  return same;
}

/* True if the transaction reads exactly `value` (NULL: absent) for key. */
static int txn_value_is(mantis_txn_t* txn, const char* key, const char* value) {
  char* err = NULL;
  size_t len = 99;
  char* got = mantis_txn_get(txn, key, strlen(key), &len, &err);
  int same = err == NULL && (value == NULL ? got == NULL && len == 0
                                           : got != NULL && len == strlen(value) && memcmp(got, value, len) == 0);
  if (err != NULL) fprintf(stderr, "  txn_value_is(%s): %s\n", key, err);
  mantis_free(got);
  mantis_free(err);
  return same;
}

/* Concatenates the keys (and values, "k=v,") a scan visits. */
typedef struct {
  char text[256];
  int limit; /* stop after this many keys (0: never) */
  int seen;
  mantis_txn_t* txn; /* when set, the callback also tries a call into this transaction */
  char* inner_error;
} Collect;

static int collect(void* ctx, const char* key, size_t keylen, const char* value, size_t vallen) {
  Collect* c = (Collect*)ctx;
  size_t used = strlen(c->text);
  if (used + keylen + vallen + 3 < sizeof c->text) {
    memcpy(c->text + used, key, keylen);
    c->text[used + keylen] = '=';
    memcpy(c->text + used + keylen + 1, value, vallen);
    memcpy(c->text + used + keylen + 1 + vallen, ",", 2);
  }
  if (c->txn != NULL) mantis_txn_put(c->txn, NULL, "x", 1, "y", 1, &c->inner_error);
  ++c->seen;
  return c->limit == 0 || c->seen < c->limit;
}

static void test_snapshot_isolation(void) {
  mantis_t* db = open_memory();
  char* err = NULL;
  put(db, "a", "1");
  put(db, "b", "2");
  mantis_snapshot_t* snap = mantis_snapshot_create(db, &err);
  CHECK_OK(err);
  CHECK(snap != NULL);
  CHECK(mantis_snapshot_version(snap) > 0);
  CHECK(mantis_snapshot_version(NULL) == 0);

  /* Churn after the snapshot: overwrite, erase, insert, a batch. */
  put(db, "a", "10");
  mantis_erase(db, NULL, "b", 1, &err);
  CHECK_OK(err);
  put(db, "c", "3");
  mantis_writebatch_t* batch = mantis_writebatch_create();
  mantis_writebatch_put(batch, "d", 1, "4", 1);
  mantis_writebatch_erase(batch, "a", 1);
  mantis_write(db, NULL, batch, &err);
  CHECK_OK(err);
  mantis_writebatch_destroy(batch);

  CHECK(value_is(db, snap, "a", "1"));
  CHECK(value_is(db, snap, "b", "2"));
  CHECK(value_is(db, snap, "c", NULL));
  CHECK(value_is(db, snap, "d", NULL));
  CHECK(value_is(db, NULL, "a", NULL));
  CHECK(value_is(db, NULL, "c", "3"));

  /* The version read at the snapshot is the one the key had then. */
  mantis_snapshot_t* later = mantis_snapshot_create(db, &err);
  CHECK_OK(err);
  CHECK(mantis_snapshot_version(later) > mantis_snapshot_version(snap));
  size_t len = 0;
  uint64_t v_then = 0, v_now = 0;
  mantis_free(mantis_get_at(db, snap, "b", 1, &len, &v_then, &err));
  CHECK_OK(err);
  CHECK(v_then != 0 && v_then <= mantis_snapshot_version(snap));
  mantis_free(mantis_get_at(db, later, "c", 1, &len, &v_now, &err));
  CHECK_OK(err);
  CHECK(v_now > mantis_snapshot_version(snap) && v_now <= mantis_snapshot_version(later));

  /* Scans and a prefix scan at the snapshot. */
  Collect c = {{0}, 0, 0, NULL, NULL};
  mantis_scan_at(db, snap, "", 0, "", 0, collect, &c, &err);
  CHECK_OK(err);
  CHECK(strcmp(c.text, "a=1,b=2,") == 0);
  Collect ranged = {{0}, 0, 0, NULL, NULL};
  mantis_scan_at(db, later, "b", 1, "d", 1, collect, &ranged, &err);
  CHECK_OK(err);
  CHECK(strcmp(ranged.text, "c=3,") == 0);
  Collect prefixed = {{0}, 0, 0, NULL, NULL};
  mantis_scan_prefix_at(db, snap, "b", 1, collect, &prefixed, &err);
  CHECK_OK(err);
  CHECK(strcmp(prefixed.text, "b=2,") == 0);
  Collect stopped = {{0}, 1, 0, NULL, NULL};
  mantis_scan_at(db, later, NULL, 0, NULL, 0, collect, &stopped, &err);
  CHECK_OK(err);
  CHECK(strcmp(stopped.text, "c=3,") == 0);

  /* An iterator at the snapshot outlives the snapshot handle: it keeps the snapshot alive. */
  mantis_iterator_t* it = mantis_iter_create_at(db, snap, &err);
  CHECK_OK(err);
  mantis_snapshot_destroy(snap);
  put(db, "b", "20");
  char seen[64] = {0};
  for (mantis_iter_seek_to_first(it); mantis_iter_valid(it); mantis_iter_next(it)) {
    size_t klen = 0, vlen = 0;
    const char* k = mantis_iter_key(it, &klen);
    const char* v = mantis_iter_value(it, &vlen);
    strncat(seen, k, klen);
    strncat(seen, v, vlen);
  }
  CHECK(strcmp(seen, "a1b2") == 0);
  mantis_iter_get_error(it, &err);
  CHECK_OK(err);
  mantis_iter_seek(it, "b", 1);
  CHECK(mantis_iter_valid(it));
  mantis_iter_destroy(it);

  mantis_snapshot_destroy(later);
  mantis_snapshot_destroy(NULL);
  mantis_destroy(db);
}

static void test_snapshot_bad_inputs(void) {
  mantis_t* db = open_memory();
  mantis_t* other = open_memory();
  char* err = NULL;
  size_t len = 7;
  uint64_t version = 7;
  put(db, "k", "v");
  CHECK(mantis_snapshot_create(NULL, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: mantis_snapshot_create: db is NULL");
  mantis_snapshot_t* snap = mantis_snapshot_create(db, &err);
  CHECK_OK(err);
  mantis_snapshot_t* foreign = mantis_snapshot_create(other, &err);
  CHECK_OK(err);

  CHECK(mantis_get_at(db, NULL, "k", 1, &len, &version, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: mantis_get_at: snapshot is NULL");
  CHECK(len == 0 && version == 0);
  CHECK(mantis_get_at(db, foreign, "k", 1, &len, &version, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: mantis_get_at: the snapshot belongs to another database");
  CHECK(mantis_get_at(NULL, snap, "k", 1, &len, &version, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: mantis_get_at: db is NULL");
  CHECK(mantis_get_at(db, snap, "k", 1, NULL, &version, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: mantis_get_at: vallen is NULL");
  CHECK(mantis_get_at(db, snap, NULL, 1, &len, NULL, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument");
  /* version may be NULL. */
  char* got = mantis_get_at(db, snap, "k", 1, &len, NULL, &err);
  CHECK_OK(err);
  CHECK(got != NULL && len == 1);
  mantis_free(got);

  Collect c = {{0}, 0, 0, NULL, NULL};
  mantis_scan_at(db, foreign, "", 0, "", 0, collect, &c, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_scan_at: the snapshot belongs to another database");
  mantis_scan_at(db, NULL, "", 0, "", 0, collect, &c, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_scan_at: snapshot is NULL");
  mantis_scan_at(db, snap, "", 0, "", 0, NULL, &c, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_scan_at: fn is NULL");
  mantis_scan_at(db, snap, NULL, 2, "", 0, collect, &c, &err);
  CHECK_ERR(err, "InvalidArgument");
  mantis_scan_prefix_at(db, foreign, "", 0, collect, &c, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_scan_prefix_at: the snapshot belongs to another database");
  mantis_scan_prefix_at(db, snap, NULL, 1, collect, &c, &err);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(c.seen == 0);
  CHECK(mantis_iter_create_at(db, foreign, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: mantis_iter_create_at: the snapshot belongs to another database");
  CHECK(mantis_iter_create_at(db, NULL, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: mantis_iter_create_at: snapshot is NULL");
  /* errptr NULL: still refused, nothing crashes. */
  CHECK(mantis_get_at(db, foreign, "k", 1, &len, &version, NULL) == NULL);

  /* After close: reads at a snapshot are Closed; destroying the snapshot afterwards is fine. */
  mantis_iterator_t* it = mantis_iter_create_at(db, snap, &err);
  CHECK_OK(err);
  mantis_close(db, &err);
  CHECK_OK(err);
  CHECK(mantis_get_at(db, snap, "k", 1, &len, &version, &err) == NULL);
  CHECK_ERR(err, "Closed");
  CHECK(mantis_snapshot_create(db, &err) == NULL);
  CHECK_ERR(err, "Closed");
  CHECK(mantis_iter_create_at(db, snap, &err) == NULL);
  CHECK_ERR(err, "Closed");
  mantis_iter_seek_to_first(it);
  CHECK(!mantis_iter_valid(it));
  mantis_iter_get_error(it, &err);
  CHECK_ERR(err, "Closed");
  mantis_destroy(db);  /* the snapshot and the iterator still hold the engine */
  mantis_snapshot_destroy(snap);
  mantis_iter_destroy(it);  /* last reference: the engine goes now */
  mantis_snapshot_destroy(foreign);
  mantis_destroy(other);
}

static void test_txn_read_your_writes(void) {
  mantis_t* db = open_memory();
  char* err = NULL;
  put(db, "a", "1");
  put(db, "b", "2");
  mantis_txn_t* txn = mantis_txn_begin(db, &err);
  CHECK_OK(err);
  CHECK(txn != NULL);
  CHECK(mantis_txn_snapshot_version(txn, &err) > 0);
  CHECK_OK(err);
  CHECK(txn_value_is(txn, "a", "1"));
  mantis_txn_put(txn, NULL, "a", 1, "one", 3, &err);
  CHECK_OK(err);
  mantis_txn_erase(txn, "b", 1, &err);
  CHECK_OK(err);
  mantis_txn_put(txn, NULL, "c", 1, "", 0, &err); /* an empty value */
  CHECK_OK(err);
  mantis_txn_put(txn, NULL, "", 0, "empty key", 9, &err);
  CHECK_OK(err);
  CHECK(txn_value_is(txn, "a", "one"));
  CHECK(txn_value_is(txn, "b", NULL));
  CHECK(txn_value_is(txn, "c", ""));
  Collect c = {{0}, 0, 0, NULL, NULL};
  mantis_txn_scan(txn, "", 0, "", 0, collect, &c, &err);
  CHECK_OK(err);
  CHECK(strcmp(c.text, "=empty key,a=one,c=,") == 0);
  /* Nothing is visible outside before the commit. */
  CHECK(value_is(db, NULL, "a", "1"));
  CHECK(value_is(db, NULL, "b", "2"));
  CHECK(value_is(db, NULL, "c", NULL));
  mantis_writeoptions_t* sync = mantis_writeoptions_create();
  mantis_writeoptions_set_sync(sync, 1);
  mantis_txn_commit(txn, NULL, &err);
  CHECK_OK(err);
  CHECK(value_is(db, NULL, "a", "one"));
  CHECK(value_is(db, NULL, "b", NULL));
  CHECK(value_is(db, NULL, "c", ""));
  CHECK(value_is(db, NULL, "", "empty key"));
  mantis_txn_destroy(txn);

  /* TTL through write options; a rolled-back transaction writes nothing. */
  mantis_txn_t* ttl_txn = mantis_txn_begin(db, &err);
  CHECK_OK(err);
  mantis_writeoptions_t* ttl = mantis_writeoptions_create();
  mantis_writeoptions_set_ttl(ttl, 60000);
  mantis_txn_put(ttl_txn, ttl, "t", 1, "x", 1, &err);
  CHECK_OK(err);
  mantis_txn_commit(ttl_txn, NULL, &err);
  CHECK_OK(err);
  int64_t remaining = 0;
  CHECK(mantis_ttl(db, "t", 1, &remaining, &err) == 1);
  CHECK_OK(err);
  CHECK(remaining > 0 && remaining <= 60000);
  mantis_txn_destroy(ttl_txn);

  mantis_txn_t* dropped = mantis_txn_begin(db, &err);
  CHECK_OK(err);
  mantis_txn_put(dropped, NULL, "z", 1, "zz", 2, &err);
  CHECK_OK(err);
  mantis_txn_rollback(dropped, &err);
  CHECK_OK(err);
  CHECK(value_is(db, NULL, "z", NULL));
  mantis_txn_destroy(dropped);

  /* Destroying an unfinished transaction rolls it back. */
  mantis_txn_t* abandoned = mantis_txn_begin(db, &err);
  CHECK_OK(err);
  mantis_txn_put(abandoned, NULL, "z", 1, "zz", 2, &err);
  CHECK_OK(err);
  mantis_txn_destroy(abandoned);
  CHECK(value_is(db, NULL, "z", NULL));

  /* Commit with sync on a memory-only engine is fine (nothing to sync). */
  mantis_txn_t* synced = mantis_txn_begin(db, &err);
  CHECK_OK(err);
  mantis_txn_put(synced, NULL, "s", 1, "1", 1, &err);
  CHECK_OK(err);
  mantis_txn_commit(synced, sync, &err);
  CHECK_OK(err);
  CHECK(value_is(db, NULL, "s", "1"));
  mantis_txn_destroy(synced);
  mantis_writeoptions_destroy(sync);
  mantis_writeoptions_destroy(ttl);
  mantis_destroy(db);
}

static void test_txn_isolation_and_conflict(void) {
  mantis_t* db = open_memory();
  char* err = NULL;
  put(db, "x", "1");
  put(db, "y", "1");

  /* The transaction reads its snapshot, not later writes. */
  mantis_txn_t* reader = mantis_txn_begin(db, &err);
  CHECK_OK(err);
  put(db, "x", "2");
  CHECK(txn_value_is(reader, "x", "1"));
  /* It read x, which changed: its commit fails with Conflict and writes nothing. */
  mantis_txn_put(reader, NULL, "y", 1, "from-reader", 11, &err);
  CHECK_OK(err);
  mantis_txn_commit(reader, NULL, &err);
  CHECK(err != NULL && mantis_error_code(err) == MANTIS_CONFLICT);
  CHECK_ERR(err, "Conflict:");
  CHECK(value_is(db, NULL, "y", "1"));
  /* Finished: every further call is refused. */
  mantis_txn_put(reader, NULL, "y", 1, "again", 5, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_txn_put: the transaction is finished");
  mantis_txn_commit(reader, NULL, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_txn_commit: the transaction is finished");
  mantis_txn_rollback(reader, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_txn_rollback: the transaction is finished");
  size_t len = 5;
  CHECK(mantis_txn_get(reader, "x", 1, &len, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: mantis_txn_get: the transaction is finished");
  CHECK(len == 0);
  CHECK(mantis_txn_snapshot_version(reader, &err) == 0);
  CHECK_ERR(err, "InvalidArgument: mantis_txn_snapshot_version: the transaction is finished");
  mantis_txn_destroy(reader);
  CHECK(value_is(db, NULL, "y", "1"));

  /* A read of an absent key conflicts with its insertion. */
  mantis_txn_t* absent = mantis_txn_begin(db, &err);
  CHECK_OK(err);
  CHECK(txn_value_is(absent, "new", NULL));
  put(db, "new", "v");
  mantis_txn_put(absent, NULL, "other", 5, "v", 1, &err);
  CHECK_OK(err);
  mantis_txn_commit(absent, NULL, &err);
  CHECK(mantis_error_code(err) == MANTIS_CONFLICT);
  mantis_free(err);
  err = NULL;
  CHECK(value_is(db, NULL, "other", NULL));
  mantis_txn_destroy(absent);

  /* A scanned range conflicts with an insert into it (a phantom), not with a write outside it. */
  mantis_txn_t* scanner = mantis_txn_begin(db, &err);
  CHECK_OK(err);
  Collect c = {{0}, 0, 0, NULL, NULL};
  mantis_txn_scan(scanner, "p", 1, "q", 1, collect, &c, &err);
  CHECK_OK(err);
  CHECK(c.seen == 0);
  put(db, "zz", "outside");
  mantis_txn_put(scanner, NULL, "w", 1, "1", 1, &err);
  CHECK_OK(err);
  mantis_txn_commit(scanner, NULL, &err);
  CHECK_OK(err);
  mantis_txn_destroy(scanner);
  mantis_txn_t* phantom = mantis_txn_begin(db, &err);
  CHECK_OK(err);
  mantis_txn_scan(phantom, "p", 1, "q", 1, collect, &c, &err);
  CHECK_OK(err);
  put(db, "p1", "phantom");
  mantis_txn_put(phantom, NULL, "w", 1, "2", 1, &err);
  CHECK_OK(err);
  mantis_txn_commit(phantom, NULL, &err);
  CHECK(mantis_error_code(err) == MANTIS_CONFLICT);
  mantis_free(err);
  err = NULL;
  CHECK(value_is(db, NULL, "w", "1"));
  mantis_txn_destroy(phantom);

  /* Blind writes (nothing read) never conflict; two over disjoint keys both commit. */
  mantis_txn_t* t1 = mantis_txn_begin(db, &err);
  mantis_txn_t* t2 = mantis_txn_begin(db, &err);
  CHECK_OK(err);
  mantis_txn_put(t1, NULL, "x", 1, "t1", 2, &err);
  mantis_txn_put(t2, NULL, "x", 1, "t2", 2, &err);
  CHECK_OK(err);
  mantis_txn_commit(t1, NULL, &err);
  CHECK_OK(err);
  mantis_txn_commit(t2, NULL, &err);
  CHECK_OK(err);
  CHECK(value_is(db, NULL, "x", "t2"));
  mantis_txn_destroy(t1);
  mantis_txn_destroy(t2);

  /* A read-only transaction always commits. */
  mantis_txn_t* ro = mantis_txn_begin(db, &err);
  CHECK(txn_value_is(ro, "x", "t2"));
  put(db, "x", "changed");
  mantis_txn_commit(ro, NULL, &err);
  CHECK_OK(err);
  mantis_txn_destroy(ro);
  mantis_destroy(db);
}

static void test_txn_bad_inputs(void) {
  mantis_t* db = open_memory();
  char* err = NULL;
  size_t len = 3;
  put(db, "k", "v");
  CHECK(mantis_txn_begin(NULL, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: mantis_txn_begin: db is NULL");
  CHECK(mantis_txn_get(NULL, "k", 1, &len, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: mantis_txn_get: txn is NULL");
  mantis_txn_put(NULL, NULL, "k", 1, "v", 1, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_txn_put: txn is NULL");
  mantis_txn_erase(NULL, "k", 1, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_txn_erase: txn is NULL");
  mantis_txn_scan(NULL, "", 0, "", 0, collect, NULL, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_txn_scan: txn is NULL");
  mantis_txn_commit(NULL, NULL, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_txn_commit: txn is NULL");
  mantis_txn_rollback(NULL, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_txn_rollback: txn is NULL");
  CHECK(mantis_txn_snapshot_version(NULL, &err) == 0);
  CHECK_ERR(err, "InvalidArgument: mantis_txn_snapshot_version: txn is NULL");
  mantis_txn_destroy(NULL);
  mantis_txn_commit(NULL, NULL, NULL); /* errptr NULL: refused silently */

  mantis_txn_t* txn = mantis_txn_begin(db, &err);
  CHECK_OK(err);
  CHECK(mantis_txn_get(txn, NULL, 1, &len, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: mantis_txn_get: key is NULL");
  CHECK(mantis_txn_get(txn, "k", 1, NULL, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: mantis_txn_get: vallen is NULL");
  mantis_txn_put(txn, NULL, NULL, 1, "v", 1, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_txn_put: key is NULL");
  mantis_txn_put(txn, NULL, "k", 1, NULL, 1, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_txn_put: value is NULL");
  mantis_writeoptions_t* wo = mantis_writeoptions_create();
  mantis_writeoptions_set_sync(wo, 1);
  mantis_txn_put(txn, wo, "k", 1, "w", 1, &err); /* sync belongs to the commit */
  CHECK_ERR(err, "InvalidArgument");
  mantis_writeoptions_destroy(wo);
  wo = mantis_writeoptions_create();
  mantis_writeoptions_set_ttl(wo, -1);
  mantis_txn_put(txn, wo, "k", 1, "w", 1, &err);
  CHECK_ERR(err, "InvalidArgument");
  mantis_writeoptions_destroy(wo);
  mantis_txn_erase(txn, NULL, 1, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_txn_erase: key is NULL");
  mantis_txn_scan(txn, "", 0, "", 0, NULL, NULL, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_txn_scan: fn is NULL");
  mantis_txn_scan(txn, NULL, 1, "", 0, collect, NULL, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_txn_scan: begin is NULL");
  /* A scan callback calling into its own transaction is refused (Busy), not undefined. */
  Collect c = {{0}, 0, 0, txn, NULL};
  mantis_txn_scan(txn, "", 0, "", 0, collect, &c, &err);
  CHECK_OK(err);
  CHECK(c.seen == 1);
  CHECK_ERR(c.inner_error, "Busy: mantis_txn_put: called from inside a scan callback of this transaction");
  /* None of that changed anything: the transaction still commits cleanly and writes nothing. */
  CHECK(txn_value_is(txn, "k", "v"));
  CHECK(txn_value_is(txn, "x", NULL));
  mantis_txn_commit(txn, NULL, &err);
  CHECK_OK(err);
  CHECK(value_is(db, NULL, "k", "v"));
  mantis_txn_destroy(txn);

  /* After close: calls are Closed and the transaction is not finished by them; destroy is fine. */
  mantis_txn_t* open_txn = mantis_txn_begin(db, &err);
  CHECK_OK(err);
  mantis_txn_put(open_txn, NULL, "k", 1, "late", 4, &err);
  CHECK_OK(err);
  mantis_close(db, &err);
  CHECK_OK(err);
  CHECK(mantis_txn_begin(db, &err) == NULL);
  CHECK_ERR(err, "Closed");
  mantis_txn_commit(open_txn, NULL, &err);
  CHECK_ERR(err, "Closed: mantis_txn_commit");
  CHECK(mantis_txn_snapshot_version(open_txn, &err) > 0);
  CHECK_OK(err);
  mantis_destroy(db);
  mantis_txn_destroy(open_txn); /* last reference: the engine goes now */
}

/* A durable engine: a committed transaction survives a reopen whole. */
static void test_txn_durable(void) {
  char dir[] = "/tmp/mantis_c_txn_XXXXXX";
  if (mkdtemp(dir) == NULL) {
    CHECK(0);
    return;
  }
  char* err = NULL;
  mantis_options_t* options = mantis_options_create();
  mantis_options_set_dir(options, dir);
  mantis_t* db = mantis_open(options, &err);
  CHECK_OK(err);
  mantis_txn_t* txn = mantis_txn_begin(db, &err);
  CHECK_OK(err);
  mantis_txn_put(txn, NULL, "acct/a", 6, "60", 2, &err);
  mantis_txn_put(txn, NULL, "acct/b", 6, "40", 2, &err);
  CHECK_OK(err);
  mantis_writeoptions_t* sync = mantis_writeoptions_create();
  mantis_writeoptions_set_sync(sync, 1);
  mantis_txn_commit(txn, sync, &err);
  CHECK_OK(err);
  mantis_writeoptions_destroy(sync);
  mantis_txn_destroy(txn);
  mantis_destroy(db);
  db = mantis_open(options, &err);
  CHECK_OK(err);
  CHECK(value_is(db, NULL, "acct/a", "60"));
  CHECK(value_is(db, NULL, "acct/b", "40"));
  mantis_destroy(db);
  mantis_options_destroy(options);
  char command[128];
  snprintf(command, sizeof command, "rm -rf '%s'", dir);
  CHECK(system(command) == 0);
}

int main(void) {
  test_snapshot_isolation();
  test_snapshot_bad_inputs();
  test_txn_read_your_writes();
  test_txn_isolation_and_conflict();
  test_txn_bad_inputs();
  test_txn_durable();
  return finish();
}
