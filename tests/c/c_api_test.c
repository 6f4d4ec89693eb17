/* Every function of the C API (include/mantis/mantis.h) and its error paths, in plain C. */
/* mkdtemp (POSIX.1-2008) for the durable engine test. */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"

/* Collects the keys a scan visits, up to `limit` (then stops the scan). */
typedef struct {
  int seen;
  int limit;
  char keys[16][16];
  mantis_t* db;      /* when set, the callback also tries mantis_close on it */
  char* close_error; /* what that mantis_close reported */
} ScanState;

static int collect(void* ctx, const char* key, size_t keylen, const char* value, size_t vallen) {
  ScanState* state = (ScanState*)ctx;
  (void)value;
  (void)vallen;
  if (state->seen < 16 && keylen < 16) {
    memcpy(state->keys[state->seen], key, keylen);
    state->keys[state->seen][keylen] = '\0';
  }
  ++state->seen;
  if (state->db != NULL) mantis_close(state->db, &state->close_error);
  return state->seen < state->limit;
}

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

/* True if db holds key with exactly `value`. */
static int has_value(mantis_t* db, const char* key, const char* value) {
  char* err = NULL;
  size_t len = 99;
  char* got = mantis_get(db, key, strlen(key), &len, &err);
  int same = err == NULL && got != NULL && len == strlen(value) && memcmp(got, value, len) == 0;
  mantis_free(got);
  mantis_free(err);
  return same;
}

static void test_version_and_free(void) {
  CHECK(strcmp(mantis_version(), MANTIS_TEST_VERSION) == 0);
  mantis_free(NULL);
}

/* Errors carry their code: mantis_error_code reads it from any message the library wrote. */
static void test_error_codes(void) {
  char* err = NULL;
  CHECK(mantis_error_code(NULL) == MANTIS_OK);
  mantis_options_t* options = mantis_options_create();
  mantis_options_set_max_key_size(options, 0);
  CHECK(mantis_open(options, &err) == NULL);
  CHECK(mantis_error_code(err) == MANTIS_INVALID_ARGUMENT);
  mantis_free(err);
  err = NULL;
  mantis_options_destroy(options);

  mantis_t* db = open_memory();
  mantis_close(db, &err);
  CHECK_OK(err);
  mantis_put(db, NULL, "k", 1, "v", 1, &err);
  CHECK(mantis_error_code(err) == MANTIS_CLOSED);
  mantis_free(err);
  mantis_destroy(db);

  CHECK(mantis_error_code("NotFound: x") == MANTIS_NOT_FOUND);
  CHECK(mantis_error_code("Corruption: wal/000001.log offset 0: bad checksum") == MANTIS_CORRUPTION);
  CHECK(mantis_error_code("Busy: locked") == MANTIS_BUSY);
  CHECK(mantis_error_code("ResourceExhausted: out of memory") == MANTIS_RESOURCE_EXHAUSTED);
  CHECK(mantis_error_code("NotSupported: sync") == MANTIS_NOT_SUPPORTED);
  CHECK(mantis_error_code("IOError: disk") == MANTIS_IO_ERROR);
  CHECK(mantis_error_code("Closed: mantis_put: the database is closed") == MANTIS_CLOSED);
  CHECK(mantis_error_code("ConditionFailed: key 'k' is present") == MANTIS_CONDITION_FAILED);
  CHECK(mantis_error_code("Conflict: commit: a key the transaction read was written") == MANTIS_CONFLICT);
  CHECK(mantis_error_code("Closed") == MANTIS_IO_ERROR); /* not a message the library writes */
  CHECK(mantis_error_code("something else") == MANTIS_IO_ERROR);
}

static void test_options(void) {
  char* err = NULL;
  mantis_options_t* options = mantis_options_create();
  CHECK(options != NULL);
  mantis_options_set_dir(options, NULL);
  mantis_options_set_create_if_missing(options, 1);
  mantis_options_set_error_if_exists(options, 0);
  mantis_options_set_durability(options, MANTIS_DURABILITY_SYNC);
  mantis_options_set_sync_interval(options, 500);
  mantis_options_set_cache_capacity(options, 1 << 20);
  mantis_options_set_cache_admission(options, MANTIS_ADMISSION_TINYLFU);
  mantis_options_set_reaper_interval(options, 0);
  mantis_options_set_max_key_size(options, 8);
  mantis_options_set_max_value_size(options, 16);
  mantis_t* db = mantis_open(options, &err);
  CHECK_OK(err);
  CHECK(db != NULL);
  /* The limits are in force. */
  mantis_put(db, NULL, "123456789", 9, "v", 1, &err);
  CHECK_ERR(err, "InvalidArgument:");
  mantis_put(db, NULL, "k", 1, "0123456789abcdefg", 17, &err);
  CHECK_ERR(err, "InvalidArgument:");
  CHECK(mantis_size(db, &err) == 0);
  CHECK_OK(err);
  put(db, "12345678", "0123456789abcdef");
  CHECK(has_value(db, "12345678", "0123456789abcdef"));
  mantis_destroy(db);

  /* Each bad field is named by mantis_open, which then returns NULL. */
  mantis_options_set_max_key_size(options, 0);
  CHECK(mantis_open(options, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: Options::max_key_size");
  mantis_options_set_max_key_size(options, 8);
  mantis_options_set_sync_interval(options, 0);
  CHECK(mantis_open(options, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: Options::sync_interval");
  mantis_options_set_sync_interval(options, 1000);
  mantis_options_set_reaper_interval(options, -1);
  CHECK(mantis_open(options, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: Options::reaper_interval");
  mantis_options_set_reaper_interval(options, 100);
  mantis_options_set_durability(options, 7);
  CHECK(mantis_open(options, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: Options::durability");
  mantis_options_set_durability(options, MANTIS_DURABILITY_NONE);
  mantis_options_set_cache_admission(options, -2);
  CHECK(mantis_open(options, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: Options::cache_admission");
  mantis_options_set_cache_admission(options, MANTIS_ADMISSION_ALWAYS);
  mantis_options_set_max_value_size(options, (size_t)1 << 40);
  CHECK(mantis_open(options, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: Options::max_value_size");
  mantis_options_set_max_value_size(options, 16);
  /* A directory that does not exist, with create_if_missing off, is refused and not created. */
  mantis_options_set_dir(options, "/tmp/mantis-c-api-test-no-such-dir/db");
  mantis_options_set_error_if_exists(options, 1);
  mantis_options_set_create_if_missing(options, 0);
  CHECK(mantis_open(options, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: Options::dir");
  /* "" is memory only again, and a later error replaces (and frees) an earlier message. */
  mantis_options_set_dir(options, "");
  err = (char*)malloc(8);
  strcpy(err, "stale");
  db = mantis_open(options, &err);
  CHECK(db != NULL);
  CHECK(err != NULL && strcmp(err, "stale") == 0); /* untouched on success */
  mantis_free(err);
  err = NULL;
  mantis_destroy(db);

  /* NULL options: setters are no-ops, create/destroy accept it. */
  mantis_options_set_dir(NULL, "x");
  mantis_options_set_create_if_missing(NULL, 1);
  mantis_options_set_error_if_exists(NULL, 1);
  mantis_options_set_durability(NULL, 1);
  mantis_options_set_sync_interval(NULL, 1);
  mantis_options_set_cache_capacity(NULL, 1);
  mantis_options_set_cache_admission(NULL, 1);
  mantis_options_set_reaper_interval(NULL, 1);
  mantis_options_set_max_key_size(NULL, 1);
  mantis_options_set_max_value_size(NULL, 1);
  mantis_options_destroy(NULL);
  mantis_options_destroy(options);
}

static void test_put_get_erase(void) {
  char* err = NULL;
  mantis_t* db = open_memory();
  size_t len = 99;

  /* Missing key: NULL, length 0, no error. */
  CHECK(mantis_get(db, "nope", 4, &len, &err) == NULL);
  CHECK(len == 0);
  CHECK_OK(err);

  /* Binary keys and values with NULs, the empty key and the empty value. */
  mantis_put(db, NULL, "a\0b", 3, "x\0y\0", 4, &err);
  CHECK_OK(err);
  char* value = mantis_get(db, "a\0b", 3, &len, &err);
  CHECK_OK(err);
  CHECK(value != NULL && len == 4 && memcmp(value, "x\0y\0", 4) == 0);
  mantis_free(value);
  mantis_put(db, NULL, NULL, 0, NULL, 0, &err);
  CHECK_OK(err);
  value = mantis_get(db, NULL, 0, &len, &err);
  CHECK_OK(err);
  CHECK(value != NULL && len == 0); /* found, empty */
  mantis_free(value);
  CHECK(mantis_contains(db, "", 0, &err) == 1);
  CHECK_OK(err);
  CHECK(mantis_contains(db, "zz", 2, &err) == 0);
  CHECK_OK(err);

  /* Overwrite, then erase (twice: absent is fine). */
  put(db, "k", "v1");
  put(db, "k", "v2");
  CHECK(has_value(db, "k", "v2"));
  mantis_writeoptions_t* wo = mantis_writeoptions_create();
  mantis_writeoptions_set_sync(wo, 0);
  mantis_erase(db, wo, "k", 1, &err);
  CHECK_OK(err);
  mantis_erase(db, NULL, "k", 1, &err);
  CHECK_OK(err);
  CHECK(mantis_contains(db, "k", 1, &err) == 0);
  CHECK_OK(err);

  /* Bad arguments: an error, nothing changes. */
  mantis_put(db, NULL, NULL, 3, "v", 1, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_put: key is NULL");
  mantis_put(db, NULL, "k", 1, NULL, 1, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_put: value is NULL");
  CHECK(mantis_contains(db, "k", 1, &err) == 0);
  CHECK_OK(err);
  CHECK(mantis_get(db, NULL, 2, &len, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_get(db, "k", 1, NULL, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: mantis_get: vallen is NULL");
  CHECK(mantis_contains(db, NULL, 1, &err) == 0);
  CHECK_ERR(err, "InvalidArgument");
  mantis_erase(db, NULL, NULL, 1, &err);
  CHECK_ERR(err, "InvalidArgument");
  mantis_writeoptions_set_ttl(wo, -5);
  mantis_put(db, wo, "k", 1, "v", 1, &err);
  CHECK_ERR(err, "InvalidArgument: ttl");
  CHECK(mantis_contains(db, "k", 1, &err) == 0);
  CHECK_OK(err);
  /* errptr may be NULL: the error is dropped, nothing happens. */
  mantis_put(db, NULL, NULL, 3, "v", 1, NULL);
  CHECK(mantis_size(db, NULL) == 2);

  /* Pinned values survive an overwrite and an erase. */
  put(db, "pin", "first");
  mantis_value_t* pinned = mantis_get_pinned(db, "pin", 3, &err);
  CHECK_OK(err);
  put(db, "pin", "second");
  mantis_erase(db, NULL, "pin", 3, &err);
  CHECK_OK(err);
  CHECK(pinned != NULL && mantis_value_size(pinned) == 5 && memcmp(mantis_value_data(pinned), "first", 5) == 0);
  mantis_value_destroy(pinned);
  CHECK(mantis_get_pinned(db, "pin", 3, &err) == NULL);
  CHECK_OK(err);
  CHECK(mantis_get_pinned(db, NULL, 1, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument");
  pinned = mantis_get_pinned(db, "", 0, &err); /* the empty value */
  CHECK_OK(err);
  CHECK(pinned != NULL && mantis_value_size(pinned) == 0 && mantis_value_data(pinned) != NULL);
  mantis_value_destroy(pinned);
  CHECK(mantis_value_data(NULL) == NULL);
  CHECK(mantis_value_size(NULL) == 0);
  mantis_value_destroy(NULL);

  /* Write options with a TTL. */
  mantis_writeoptions_set_ttl(wo, 60000);
  mantis_put(db, wo, "t", 1, "v", 1, &err);
  CHECK_OK(err);
  int64_t remaining = 0;
  CHECK(mantis_ttl(db, "t", 1, &remaining, &err) == 1);
  CHECK_OK(err);
  CHECK(remaining > 50000 && remaining <= 60000);
  mantis_writeoptions_set_ttl(NULL, 1);
  mantis_writeoptions_set_sync(NULL, 1);
  mantis_writeoptions_destroy(NULL);
  mantis_writeoptions_destroy(wo);
  mantis_destroy(db);
}

static void test_multi_get(void) {
  char* err = NULL;
  mantis_t* db = open_memory();
  put(db, "a", "1");
  put(db, "c", "333");
  mantis_put(db, NULL, "", 0, "", 0, &err);
  CHECK_OK(err);
  const char* keys[4] = {"a", "b", "c", NULL};
  size_t keylens[4] = {1, 1, 1, 0};
  char* values[4];
  size_t vallens[4];
  mantis_multi_get(db, 4, keys, keylens, values, vallens, &err);
  CHECK_OK(err);
  CHECK(values[0] != NULL && vallens[0] == 1 && memcmp(values[0], "1", 1) == 0);
  CHECK(values[1] == NULL && vallens[1] == 0);
  CHECK(values[2] != NULL && vallens[2] == 3 && memcmp(values[2], "333", 3) == 0);
  CHECK(values[3] != NULL && vallens[3] == 0);
  for (int i = 0; i < 4; ++i) mantis_free(values[i]);

  /* n = 0 is a no-op even with NULL arrays. */
  mantis_multi_get(db, 0, NULL, NULL, NULL, NULL, &err);
  CHECK_OK(err);
  mantis_multi_get(db, 4, NULL, keylens, values, vallens, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_multi_get: keys is NULL");
  mantis_multi_get(db, 4, keys, NULL, values, vallens, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_multi_get: keylens is NULL");
  mantis_multi_get(db, 4, keys, keylens, NULL, vallens, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_multi_get: values is NULL");
  mantis_multi_get(db, 4, keys, keylens, values, NULL, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_multi_get: vallens is NULL");
  keylens[3] = 2; /* keys[3] is NULL */
  mantis_multi_get(db, 4, keys, keylens, values, vallens, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_multi_get: keys[3] is NULL");
  CHECK(values[0] == NULL && values[2] == NULL); /* all NULL on error */
  mantis_multi_get(NULL, 1, keys, keylens, values, vallens, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_multi_get: db is NULL");
  mantis_destroy(db);
}

static void test_batches(void) {
  char* err = NULL;
  mantis_t* db = open_memory();
  put(db, "gone", "x");
  mantis_writebatch_t* batch = mantis_writebatch_create();
  CHECK(mantis_writebatch_count(batch) == 0);
  mantis_writebatch_put(batch, "b1", 2, "v1", 2);
  mantis_writebatch_put_ttl(batch, "b2", 2, "v2", 2, 60000);
  mantis_writebatch_erase(batch, "gone", 4);
  mantis_writebatch_put(batch, NULL, 0, NULL, 0);
  CHECK(mantis_writebatch_count(batch) == 4);
  mantis_write(db, NULL, batch, &err);
  CHECK_OK(err);
  CHECK(has_value(db, "b1", "v1"));
  CHECK(has_value(db, "b2", "v2"));
  CHECK(mantis_contains(db, "gone", 4, &err) == 0);
  CHECK_OK(err);
  int64_t remaining = 0;
  CHECK(mantis_ttl(db, "b2", 2, &remaining, &err) == 1);
  CHECK_OK(err);

  /* A refused operation is remembered: the whole batch fails, nothing is applied. */
  mantis_writebatch_clear(batch);
  CHECK(mantis_writebatch_count(batch) == 0);
  mantis_writebatch_put(batch, "c1", 2, "v", 1);
  mantis_writebatch_put(batch, NULL, 4, "v", 1);
  mantis_writebatch_put(batch, "c2", 2, NULL, 1);
  mantis_writebatch_erase(batch, NULL, 1);
  CHECK(mantis_writebatch_count(batch) == 1);
  mantis_write(db, NULL, batch, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_write: the batch holds a refused operation: put: key is NULL");
  CHECK(mantis_contains(db, "c1", 2, &err) == 0);
  CHECK_OK(err);
  /* An invalid TTL fails the whole batch in the engine. */
  mantis_writebatch_clear(batch);
  mantis_writebatch_put(batch, "c1", 2, "v", 1);
  mantis_writebatch_put_ttl(batch, "c2", 2, "v", 1, -1);
  mantis_write(db, NULL, batch, &err);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_contains(db, "c1", 2, &err) == 0);
  CHECK_OK(err);
  mantis_write(db, NULL, NULL, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_write: batch is NULL");
  mantis_write(NULL, NULL, batch, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_write: db is NULL");

  /* NULL batches are no-ops. */
  mantis_writebatch_put(NULL, "k", 1, "v", 1);
  mantis_writebatch_put_ttl(NULL, "k", 1, "v", 1, 1);
  mantis_writebatch_erase(NULL, "k", 1);
  mantis_writebatch_clear(NULL);
  CHECK(mantis_writebatch_count(NULL) == 0);
  mantis_writebatch_destroy(NULL);
  mantis_writebatch_destroy(batch);
  mantis_destroy(db);
}

static void test_ttl(void) {
  char* err = NULL;
  mantis_t* db = open_memory();
  int64_t remaining = 7;
  put(db, "k", "v");
  CHECK(mantis_ttl(db, "k", 1, &remaining, &err) == 0); /* no TTL */
  CHECK_OK(err);
  CHECK(remaining == 0);
  CHECK(mantis_ttl(db, "absent", 6, &remaining, &err) == -1); /* absent: not an error */
  CHECK_OK(err);
  CHECK(mantis_expire(db, "k", 1, 30000, &err) == 1);
  CHECK_OK(err);
  CHECK(mantis_ttl(db, "k", 1, &remaining, &err) == 1);
  CHECK_OK(err);
  CHECK(remaining > 20000 && remaining <= 30000);
  CHECK(mantis_persist(db, "k", 1, &err) == 1);
  CHECK_OK(err);
  CHECK(mantis_ttl(db, "k", 1, &remaining, &err) == 0);
  CHECK_OK(err);
  CHECK(mantis_expire(db, "absent", 6, 1000, &err) == 0);
  CHECK_OK(err);
  CHECK(mantis_persist(db, "absent", 6, &err) == 0);
  CHECK_OK(err);
  CHECK(mantis_expire(db, "k", 1, -1, &err) == 0);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_ttl(db, "k", 1, &remaining, &err) == 0); /* unchanged */
  CHECK_OK(err);
  CHECK(mantis_expire(db, NULL, 1, 10, &err) == 0);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_persist(db, NULL, 1, &err) == 0);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_ttl(db, "k", 1, NULL, &err) == -1);
  CHECK_ERR(err, "InvalidArgument: mantis_ttl: remaining_ms is NULL");
  CHECK(mantis_ttl(db, NULL, 1, &remaining, &err) == -1);
  CHECK_ERR(err, "InvalidArgument");
  /* ttl 0 expires at once; so does an elapsed put_ttl. */
  CHECK(mantis_expire(db, "k", 1, 0, &err) == 1);
  CHECK_OK(err);
  CHECK(mantis_contains(db, "k", 1, &err) == 0);
  CHECK_OK(err);
  mantis_put_ttl(db, "short", 5, "v", 1, 1, &err);
  CHECK_OK(err);
  mantis_put_ttl(db, "long", 4, "v", 1, 3600000, &err);
  CHECK_OK(err);
  mantis_put_ttl(db, "bad", 3, "v", 1, -1, &err);
  CHECK_ERR(err, "InvalidArgument");
  mantis_put_ttl(db, NULL, 3, "v", 1, 1, &err);
  CHECK_ERR(err, "InvalidArgument");
  mantis_put_ttl(db, "k", 1, NULL, 1, 1, &err);
  CHECK_ERR(err, "InvalidArgument");
  size_t len = 0;
  char* value = NULL;
  for (int spin = 0; spin < 1000000 && mantis_contains(db, "short", 5, NULL); ++spin) {
  }
  value = mantis_get(db, "short", 5, &len, &err);
  CHECK(value == NULL);
  CHECK_OK(err);
  CHECK(has_value(db, "long", "v"));
  mantis_destroy(db);
}

/* Versions and conditional writes: a failed condition returns 0 and is not an error. */
static void test_conditional_writes(void) {
  char* err = NULL;
  mantis_t* db = open_memory();
  size_t len = 0;
  uint64_t version = 7;
  char* value = mantis_get_version(db, "k", 1, &len, &version, &err);
  CHECK(value == NULL && len == 0 && version == 0); /* absent */
  CHECK_OK(err);
  CHECK(mantis_put_if_present(db, NULL, "k", 1, "x", 1, &err) == 0);
  CHECK_OK(err);
  CHECK(mantis_put_if_absent(db, NULL, "k", 1, "one", 3, &err) == 1);
  CHECK_OK(err);
  CHECK(mantis_put_if_absent(db, NULL, "k", 1, "two", 3, &err) == 0);
  CHECK_OK(err);
  CHECK(has_value(db, "k", "one"));
  value = mantis_get_version(db, "k", 1, &len, &version, &err);
  CHECK_OK(err);
  CHECK(value != NULL && len == 3 && memcmp(value, "one", 3) == 0 && version != 0);
  mantis_free(value);
  CHECK(mantis_put_if_version(db, NULL, "k", 1, version + 1, "bad", 3, &err) == 0);
  CHECK_OK(err);
  CHECK(mantis_put_if_version(db, NULL, "k", 1, 0, "bad", 3, &err) == 0); /* 0: only if absent */
  CHECK_OK(err);
  CHECK(mantis_put_if_version(db, NULL, "k", 1, version, "three", 5, &err) == 1);
  CHECK_OK(err);
  CHECK(mantis_put_if_version(db, NULL, "k", 1, version, "stale", 5, &err) == 0); /* the version moved on */
  CHECK_OK(err);
  CHECK(mantis_put_if_present(db, NULL, "k", 1, "four", 4, &err) == 1);
  CHECK_OK(err);
  value = mantis_get_and_put(db, NULL, "k", 1, "five", 4, &len, &err);
  CHECK_OK(err);
  CHECK(value != NULL && len == 4 && memcmp(value, "four", 4) == 0);
  mantis_free(value);
  value = mantis_get_and_put(db, NULL, "new", 3, "v", 1, &len, &err);
  CHECK(value == NULL && len == 0);
  CHECK_OK(err);
  CHECK(mantis_get_and_put(db, NULL, "k", 1, "v", 1, NULL, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument");
  value = mantis_get_version(db, "k", 1, &len, &version, &err);
  CHECK_OK(err);
  mantis_free(value);
  CHECK(mantis_erase_if_version(db, NULL, "k", 1, version + 1, &err) == 0);
  CHECK_OK(err);
  CHECK(mantis_erase_if_version(db, NULL, "k", 1, version, &err) == 1);
  CHECK_OK(err);
  CHECK(mantis_contains(db, "k", 1, &err) == 0);
  CHECK(mantis_erase_if_present(db, NULL, "new", 3, &err) == 1);
  CHECK_OK(err);
  CHECK(mantis_erase_if_present(db, NULL, "new", 3, &err) == 0);
  CHECK_OK(err);
  /* increment: decimal text, errors change nothing. */
  CHECK(mantis_increment(db, NULL, "n", 1, 5, &err) == 5);
  CHECK_OK(err);
  CHECK(mantis_increment(db, NULL, "n", 1, -7, &err) == -2);
  CHECK_OK(err);
  CHECK(has_value(db, "n", "-2"));
  put(db, "text", "abc");
  CHECK(mantis_increment(db, NULL, "text", 4, 1, &err) == 0);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(has_value(db, "text", "abc"));
  put(db, "max", "9223372036854775807");
  CHECK(mantis_increment(db, NULL, "max", 3, 1, &err) == 0);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(has_value(db, "max", "9223372036854775807"));
  /* keep_ttl: an overwrite keeps the expiry. */
  mantis_writeoptions_t* keep = mantis_writeoptions_create();
  mantis_writeoptions_set_keep_ttl(keep, 1);
  mantis_put_ttl(db, "t", 1, "v", 1, 60000, &err);
  CHECK_OK(err);
  mantis_put(db, keep, "t", 1, "w", 1, &err);
  CHECK_OK(err);
  int64_t remaining = 0;
  CHECK(mantis_ttl(db, "t", 1, &remaining, &err) == 1);
  CHECK_OK(err);
  CHECK(remaining > 50000 && remaining <= 60000);
  CHECK(has_value(db, "t", "w"));
  mantis_writeoptions_destroy(keep);
  /* Bad arguments are errors and write nothing. */
  CHECK(mantis_put_if_absent(db, NULL, NULL, 1, "v", 1, &err) == 0);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_put_if_absent(db, NULL, "z", 1, NULL, 1, &err) == 0);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_contains(db, "z", 1, &err) == 0);
  CHECK(mantis_get_version(db, "k", 1, NULL, &version, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_put_if_absent(NULL, NULL, "k", 1, "v", 1, &err) == 0);
  CHECK_ERR(err, "InvalidArgument");
  mantis_close(db, &err);
  CHECK_OK(err);
  CHECK(mantis_increment(db, NULL, "n", 1, 1, &err) == 0);
  CHECK_ERR(err, "Closed");
  mantis_destroy(db);
}

static void test_scan(void) {
  char* err = NULL;
  mantis_t* db = open_memory();
  put(db, "user:2", "b");
  put(db, "user:1", "a");
  put(db, "user:3", "c");
  put(db, "zebra", "z");
  put(db, "apple", "x");

  ScanState state = {0, 100, {{0}}, NULL, NULL};
  mantis_scan_prefix(db, "user:", 5, collect, &state, &err);
  CHECK_OK(err);
  CHECK(state.seen == 3);
  CHECK(strcmp(state.keys[0], "user:1") == 0 && strcmp(state.keys[2], "user:3") == 0);

  memset(&state, 0, sizeof state);
  state.limit = 2; /* the callback stops after two keys */
  mantis_scan(db, NULL, 0, NULL, 0, collect, &state, &err);
  CHECK_OK(err);
  CHECK(state.seen == 2);
  CHECK(strcmp(state.keys[0], "apple") == 0);

  memset(&state, 0, sizeof state);
  state.limit = 100;
  mantis_scan(db, "user:2", 6, "zebra", 5, collect, &state, &err); /* [begin, end) */
  CHECK_OK(err);
  CHECK(state.seen == 2);
  CHECK(strcmp(state.keys[0], "user:2") == 0 && strcmp(state.keys[1], "user:3") == 0);

  /* mantis_close from inside a callback is refused with Busy, not a deadlock. */
  memset(&state, 0, sizeof state);
  state.limit = 1;
  state.db = db;
  mantis_scan_prefix(db, NULL, 0, collect, &state, &err);
  CHECK_OK(err);
  CHECK_ERR(state.close_error, "Busy: mantis_close");
  CHECK(mantis_size(db, &err) == 5); /* still open */
  CHECK_OK(err);

  mantis_scan(db, NULL, 0, NULL, 0, NULL, NULL, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_scan: fn is NULL");
  mantis_scan(db, NULL, 1, NULL, 0, collect, &state, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_scan: begin is NULL");
  mantis_scan(db, NULL, 0, NULL, 1, collect, &state, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_scan: end is NULL");
  mantis_scan_prefix(db, NULL, 0, NULL, NULL, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_scan_prefix: fn is NULL");
  mantis_scan_prefix(db, NULL, 3, collect, &state, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_scan_prefix: prefix is NULL");
  mantis_destroy(db);
}

static void test_iterators(void) {
  char* err = NULL;
  mantis_t* db = open_memory();
  put(db, "b", "2");
  put(db, "a", "1");
  put(db, "c", "3");
  mantis_iterator_t* it = mantis_iter_create(db, &err);
  CHECK_OK(err);
  CHECK(it != NULL);
  CHECK(mantis_iter_valid(it) == 0); /* not positioned yet */
  size_t len = 9;
  CHECK(mantis_iter_key(it, &len) == NULL && len == 0);
  mantis_iter_next(it); /* no-op when not valid */
  char collected[8] = {0};
  int n = 0;
  for (mantis_iter_seek_to_first(it); mantis_iter_valid(it); mantis_iter_next(it)) {
    size_t klen = 0;
    size_t vlen = 0;
    const char* key = mantis_iter_key(it, &klen);
    const char* value = mantis_iter_value(it, &vlen);
    CHECK(klen == 1 && vlen == 1 && value[0] == (char)('1' + (key[0] - 'a')));
    if (n < 7) collected[n++] = key[0];
  }
  CHECK(strcmp(collected, "abc") == 0);
  mantis_iter_get_error(it, &err);
  CHECK_OK(err);
  mantis_iter_seek(it, "b", 1);
  CHECK(mantis_iter_valid(it) == 1);
  CHECK(mantis_iter_key(it, NULL) != NULL && mantis_iter_key(it, &len)[0] == 'b');
  mantis_iter_seek(it, "bb", 2);
  CHECK(mantis_iter_key(it, &len)[0] == 'c');
  mantis_iter_seek(it, "d", 1);
  CHECK(mantis_iter_valid(it) == 0);
  CHECK(mantis_iter_value(it, &len) == NULL && len == 0);
  /* A NULL seek key with a length is an error that sticks. */
  mantis_iter_seek(it, NULL, 3);
  CHECK(mantis_iter_valid(it) == 0);
  mantis_iter_get_error(it, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_iter: mantis_iter_seek: key is NULL");
  mantis_iter_seek_to_first(it);
  CHECK(mantis_iter_valid(it) == 0);
  mantis_iter_destroy(it);

  /* NULL iterators. */
  CHECK(mantis_iter_create(NULL, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: mantis_iter_create: db is NULL");
  mantis_iter_seek_to_first(NULL);
  mantis_iter_seek(NULL, "a", 1);
  mantis_iter_next(NULL);
  CHECK(mantis_iter_valid(NULL) == 0);
  CHECK(mantis_iter_key(NULL, &len) == NULL && len == 0);
  CHECK(mantis_iter_value(NULL, &len) == NULL && len == 0);
  mantis_iter_get_error(NULL, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_iter_get_error: iterator is NULL");
  mantis_iter_destroy(NULL);
  mantis_destroy(db);
}

static void test_admin(void) {
  char* err = NULL;
  mantis_t* db = open_memory();
  put(db, "a", "1");
  put(db, "b", "2");
  CHECK(mantis_size(db, &err) == 2);
  CHECK_OK(err);
  char* json = mantis_stats_json(db, &err);
  CHECK_OK(err);
  CHECK(json != NULL && json[0] == '{' && strstr(json, "\"puts\":2") != NULL);
  mantis_free(json);
  char* prom = mantis_stats_prometheus(db, &err);
  CHECK_OK(err);
  CHECK(prom != NULL && strstr(prom, "mantis_puts_total 2") != NULL);
  mantis_free(prom);
  /* A memory-only engine has nothing to sync or checkpoint: NotSupported. */
  mantis_sync(db, &err);
  CHECK_ERR(err, "NotSupported");
  mantis_checkpoint(db, &err);
  CHECK_ERR(err, "NotSupported");
  mantis_backup(db, "/tmp/mantis-c-never-written", &err);
  CHECK_ERR(err, "NotSupported");
  mantis_clear(db, &err);
  CHECK_OK(err);
  CHECK(mantis_size(db, &err) == 0);
  CHECK_OK(err);
  CHECK(mantis_contains(db, "a", 1, &err) == 0);
  CHECK_OK(err);
  mantis_destroy(db);
}

/* Every call on a NULL handle is InvalidArgument (or a neutral no-op where documented). */
static void test_null_db(void) {
  char* err = NULL;
  size_t len = 5;
  int64_t remaining = 0;
  const char* key = "k";
  size_t keylen = 1;
  char* value = NULL;
  size_t vallen = 0;
  mantis_put(NULL, NULL, "k", 1, "v", 1, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_put: db is NULL");
  mantis_put_ttl(NULL, "k", 1, "v", 1, 1, &err);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_get(NULL, "k", 1, &len, &err) == NULL && len == 0);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_get_pinned(NULL, "k", 1, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument");
  mantis_multi_get(NULL, 1, &key, &keylen, &value, &vallen, &err);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_contains(NULL, "k", 1, &err) == 0);
  CHECK_ERR(err, "InvalidArgument");
  mantis_erase(NULL, NULL, "k", 1, &err);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_expire(NULL, "k", 1, 1, &err) == 0);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_persist(NULL, "k", 1, &err) == 0);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_ttl(NULL, "k", 1, &remaining, &err) == -1);
  CHECK_ERR(err, "InvalidArgument");
  mantis_scan(NULL, NULL, 0, NULL, 0, collect, NULL, &err);
  CHECK_ERR(err, "InvalidArgument");
  mantis_scan_prefix(NULL, NULL, 0, collect, NULL, &err);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_size(NULL, &err) == 0);
  CHECK_ERR(err, "InvalidArgument");
  mantis_clear(NULL, &err);
  CHECK_ERR(err, "InvalidArgument");
  mantis_sync(NULL, &err);
  CHECK_ERR(err, "InvalidArgument");
  mantis_checkpoint(NULL, &err);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_stats_json(NULL, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_stats_prometheus(NULL, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument");
  mantis_close(NULL, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_close: db is NULL");
  mantis_destroy(NULL);
}

/* After mantis_close every call is Closed; iterators go invalid; pinned values stay readable and
 * keep the engine alive; close is idempotent. */
static void test_close(void) {
  char* err = NULL;
  mantis_t* db = open_memory();
  put(db, "a", "1");
  put(db, "b", "2");
  mantis_iterator_t* it = mantis_iter_create(db, &err);
  CHECK_OK(err);
  mantis_iter_seek_to_first(it);
  CHECK(mantis_iter_valid(it) == 1);
  mantis_value_t* pinned = mantis_get_pinned(db, "a", 1, &err);
  CHECK_OK(err);
  mantis_iterator_t* late = mantis_iter_create(db, &err); /* destroyed after mantis_destroy */
  CHECK_OK(err);

  mantis_close(db, &err);
  CHECK_OK(err);
  mantis_close(db, &err); /* idempotent */
  CHECK_OK(err);

  size_t len = 3;
  int64_t remaining = 0;
  const char* key = "a";
  size_t keylen = 1;
  char* value = NULL;
  size_t vallen = 0;
  mantis_writebatch_t* batch = mantis_writebatch_create();
  mantis_put(db, NULL, "k", 1, "v", 1, &err);
  CHECK_ERR(err, "Closed: mantis_put: the database is closed");
  mantis_put_ttl(db, "k", 1, "v", 1, 1, &err);
  CHECK_ERR(err, "Closed");
  CHECK(mantis_get(db, "a", 1, &len, &err) == NULL && len == 0);
  CHECK_ERR(err, "Closed");
  CHECK(mantis_get_pinned(db, "a", 1, &err) == NULL);
  CHECK_ERR(err, "Closed");
  mantis_multi_get(db, 1, &key, &keylen, &value, &vallen, &err);
  CHECK_ERR(err, "Closed");
  CHECK(value == NULL);
  CHECK(mantis_contains(db, "a", 1, &err) == 0);
  CHECK_ERR(err, "Closed");
  mantis_erase(db, NULL, "a", 1, &err);
  CHECK_ERR(err, "Closed");
  mantis_write(db, NULL, batch, &err);
  CHECK_ERR(err, "Closed");
  CHECK(mantis_expire(db, "a", 1, 1, &err) == 0);
  CHECK_ERR(err, "Closed");
  CHECK(mantis_persist(db, "a", 1, &err) == 0);
  CHECK_ERR(err, "Closed");
  CHECK(mantis_ttl(db, "a", 1, &remaining, &err) == -1);
  CHECK_ERR(err, "Closed");
  mantis_scan(db, NULL, 0, NULL, 0, collect, NULL, &err);
  CHECK_ERR(err, "Closed");
  mantis_scan_prefix(db, NULL, 0, collect, NULL, &err);
  CHECK_ERR(err, "Closed");
  CHECK(mantis_size(db, &err) == 0);
  CHECK_ERR(err, "Closed");
  mantis_clear(db, &err);
  CHECK_ERR(err, "Closed");
  mantis_sync(db, &err);
  CHECK_ERR(err, "Closed");
  mantis_checkpoint(db, &err);
  CHECK_ERR(err, "Closed");
  CHECK(mantis_stats_json(db, &err) == NULL);
  CHECK_ERR(err, "Closed");
  CHECK(mantis_stats_prometheus(db, &err) == NULL);
  CHECK_ERR(err, "Closed");
  CHECK(mantis_iter_create(db, &err) == NULL);
  CHECK_ERR(err, "Closed");
  mantis_writebatch_destroy(batch);

  /* The open iterator is invalid and says Closed. */
  CHECK(mantis_iter_valid(it) == 0);
  CHECK(mantis_iter_key(it, &len) != NULL && len == 1); /* still positioned: key() stays usable */
  mantis_iter_seek_to_first(it);
  mantis_iter_next(it);
  CHECK(mantis_iter_valid(it) == 0);
  mantis_iter_get_error(it, &err);
  CHECK_ERR(err, "Closed: mantis_iter: the database is closed");
  mantis_iter_destroy(it);
  /* The pinned value is still readable. */
  CHECK(mantis_value_size(pinned) == 1 && mantis_value_data(pinned)[0] == '1');
  mantis_destroy(db);
  CHECK(mantis_value_data(pinned)[0] == '1'); /* even after the handle is gone */
  mantis_value_destroy(pinned);
  mantis_iter_destroy(late); /* frees the engine and the handle */
}

static void test_cache(void) {
  char* err = NULL;
  mantis_cache_options_t* options = mantis_cache_options_create();
  mantis_cache_options_set_capacity(options, 1 << 20);
  mantis_cache_options_set_shard_bits(options, 2);
  mantis_cache_options_set_admission(options, MANTIS_ADMISSION_TINYLFU);
  mantis_cache_t* cache = mantis_cache_create(options, &err);
  CHECK_OK(err);
  CHECK(cache != NULL);
  CHECK(mantis_cache_capacity(cache, &err) == (1 << 20));
  CHECK_OK(err);
  mantis_cache_destroy(cache);
  mantis_cache_options_set_admission(options, MANTIS_ADMISSION_ALWAYS);
  cache = mantis_cache_create(options, &err);
  CHECK_OK(err);

  size_t len = 7;
  CHECK(mantis_cache_get(cache, "a", 1, &len, &err) == NULL && len == 0); /* a miss is not an error */
  CHECK_OK(err);
  mantis_cache_put(cache, "user:1", 6, "ada", 3, 0, &err);
  CHECK_OK(err);
  mantis_cache_put(cache, "user:2", 6, "bob", 3, 60000, &err);
  CHECK_OK(err);
  mantis_cache_put(cache, "other", 5, "", 0, 0, &err);
  CHECK_OK(err);
  char* value = mantis_cache_get(cache, "user:1", 6, &len, &err);
  CHECK_OK(err);
  CHECK(value != NULL && len == 3 && memcmp(value, "ada", 3) == 0);
  mantis_free(value);
  value = mantis_cache_get(cache, "other", 5, &len, &err);
  CHECK_OK(err);
  CHECK(value != NULL && len == 0);
  mantis_free(value);
  mantis_value_t* pinned = mantis_cache_get_pinned(cache, "user:2", 6, &err);
  CHECK_OK(err);
  CHECK(pinned != NULL && mantis_value_size(pinned) == 3);
  CHECK(mantis_cache_get_pinned(cache, "none", 4, &err) == NULL);
  CHECK_OK(err);
  CHECK(mantis_cache_entries(cache, &err) == 3);
  CHECK_OK(err);
  CHECK(mantis_cache_charge(cache, &err) > 12);
  CHECK_OK(err);

  mantis_cache_stats_t* stats = mantis_cache_stats_create(cache, &err);
  CHECK_OK(err);
  CHECK(mantis_cache_stats_hits(stats) == 3);
  CHECK(mantis_cache_stats_misses(stats) == 2);
  CHECK(mantis_cache_stats_inserts(stats) == 3);
  CHECK(mantis_cache_stats_evictions(stats) == 0);
  CHECK(mantis_cache_stats_expired(stats) == 0);
  CHECK(mantis_cache_stats_hit_ratio(stats) > 0.59 && mantis_cache_stats_hit_ratio(stats) < 0.61);
  mantis_cache_stats_destroy(stats);
  CHECK(mantis_cache_stats_hits(NULL) == 0 && mantis_cache_stats_misses(NULL) == 0);
  CHECK(mantis_cache_stats_inserts(NULL) == 0 && mantis_cache_stats_evictions(NULL) == 0);
  CHECK(mantis_cache_stats_expired(NULL) == 0 && mantis_cache_stats_hit_ratio(NULL) == 0);
  mantis_cache_stats_destroy(NULL);

  CHECK(mantis_cache_erase_prefix(cache, "user:", 5, &err) == 2);
  CHECK_OK(err);
  CHECK(mantis_cache_erase(cache, "other", 5, &err) == 1);
  CHECK_OK(err);
  CHECK(mantis_cache_erase(cache, "other", 5, &err) == 0);
  CHECK_OK(err);
  mantis_cache_put(cache, "x", 1, "y", 1, 0, &err);
  CHECK_OK(err);
  mantis_cache_clear(cache, &err);
  CHECK_OK(err);
  CHECK(mantis_cache_entries(cache, &err) == 0);
  CHECK_OK(err);

  /* Bad arguments. */
  mantis_cache_put(cache, NULL, 1, "v", 1, 0, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_cache_put: key is NULL");
  mantis_cache_put(cache, "k", 1, NULL, 1, 0, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_cache_put: value is NULL");
  mantis_cache_put(cache, "k", 1, "v", 1, -1, &err);
  CHECK_ERR(err, "InvalidArgument");
  char* big = (char*)calloc(1, 1 << 20);
  mantis_cache_put(cache, "big", 3, big, 1 << 20, 0, &err); /* larger than a shard */
  CHECK_ERR(err, "InvalidArgument");
  free(big);
  CHECK(mantis_cache_entries(cache, &err) == 0);
  CHECK_OK(err);
  CHECK(mantis_cache_get(cache, NULL, 1, &len, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_cache_get(cache, "k", 1, NULL, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: mantis_cache_get: vallen is NULL");
  CHECK(mantis_cache_get_pinned(cache, NULL, 1, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_cache_erase(cache, NULL, 1, &err) == 0);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_cache_erase_prefix(cache, NULL, 1, &err) == 0);
  CHECK_ERR(err, "InvalidArgument");

  /* Closed: every call fails; the pinned value outlives even destroy. */
  mantis_cache_close(cache, &err);
  CHECK_OK(err);
  mantis_cache_close(cache, &err);
  CHECK_OK(err);
  mantis_cache_put(cache, "k", 1, "v", 1, 0, &err);
  CHECK_ERR(err, "Closed: mantis_cache_put: the cache is closed");
  CHECK(mantis_cache_get(cache, "k", 1, &len, &err) == NULL);
  CHECK_ERR(err, "Closed");
  CHECK(mantis_cache_get_pinned(cache, "k", 1, &err) == NULL);
  CHECK_ERR(err, "Closed");
  CHECK(mantis_cache_erase(cache, "k", 1, &err) == 0);
  CHECK_ERR(err, "Closed");
  CHECK(mantis_cache_erase_prefix(cache, "k", 1, &err) == 0);
  CHECK_ERR(err, "Closed");
  mantis_cache_clear(cache, &err);
  CHECK_ERR(err, "Closed");
  CHECK(mantis_cache_entries(cache, &err) == 0);
  CHECK_ERR(err, "Closed");
  CHECK(mantis_cache_charge(cache, &err) == 0);
  CHECK_ERR(err, "Closed");
  CHECK(mantis_cache_capacity(cache, &err) == 0);
  CHECK_ERR(err, "Closed");
  CHECK(mantis_cache_stats_create(cache, &err) == NULL);
  CHECK_ERR(err, "Closed");
  mantis_cache_destroy(cache);
  CHECK(memcmp(mantis_value_data(pinned), "bob", 3) == 0);
  mantis_value_destroy(pinned);

  /* NULL caches and bad options. */
  mantis_cache_put(NULL, "k", 1, "v", 1, 0, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_cache_put: cache is NULL");
  CHECK(mantis_cache_get(NULL, "k", 1, &len, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_cache_get_pinned(NULL, "k", 1, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_cache_erase(NULL, "k", 1, &err) == 0);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_cache_erase_prefix(NULL, "k", 1, &err) == 0);
  CHECK_ERR(err, "InvalidArgument");
  mantis_cache_clear(NULL, &err);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_cache_entries(NULL, &err) == 0);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_cache_charge(NULL, &err) == 0);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_cache_capacity(NULL, &err) == 0);
  CHECK_ERR(err, "InvalidArgument");
  CHECK(mantis_cache_stats_create(NULL, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument");
  mantis_cache_close(NULL, &err);
  CHECK_ERR(err, "InvalidArgument: mantis_cache_close: cache is NULL");
  mantis_cache_destroy(NULL);
  mantis_cache_options_set_admission(options, 9);
  CHECK(mantis_cache_create(options, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: mantis_cache_create: admission");
  mantis_cache_options_set_admission(options, MANTIS_ADMISSION_ALWAYS);
  mantis_cache_options_set_shard_bits(options, -2);
  CHECK(mantis_cache_create(options, &err) == NULL);
  CHECK_ERR(err, "InvalidArgument: mantis_cache_create: shard_bits");
  mantis_cache_options_set_capacity(NULL, 1);
  mantis_cache_options_set_admission(NULL, 1);
  mantis_cache_options_set_shard_bits(NULL, 1);
  mantis_cache_options_destroy(NULL);
  mantis_cache_options_destroy(options);
  cache = mantis_cache_create(NULL, &err); /* defaults */
  CHECK_OK(err);
  CHECK(mantis_cache_capacity(cache, &err) == (size_t)64 << 20);
  CHECK_OK(err);
  mantis_cache_destroy(cache); /* without an explicit close */
}

/* A durable engine: writes survive close and reopen; sync and checkpoint work; a second open of the
 * same directory is Busy. */
static void test_durable(void) {
  char dir[] = "/tmp/mantis-c-durable-XXXXXX";
  char* err = NULL;
  char command[128];
  CHECK(mkdtemp(dir) != NULL);
  mantis_options_t* options = mantis_options_create();
  mantis_options_set_dir(options, dir);
  mantis_options_set_durability(options, MANTIS_DURABILITY_SYNC);
  mantis_t* db = mantis_open(options, &err);
  CHECK_OK(err);
  CHECK(db != NULL);
  put(db, "durable", "yes");
  put(db, "", "empty key");
  mantis_sync(db, &err);
  CHECK_OK(err);
  mantis_checkpoint(db, &err);
  CHECK_OK(err);
  put(db, "after", "checkpoint");
  /* A backup while the engine is open opens on its own; a second one into the same place is refused. */
  char backup_dir[160];
  snprintf(backup_dir, sizeof backup_dir, "%s/backup", dir);
  mantis_backup(db, backup_dir, &err);
  CHECK_OK(err);
  mantis_backup(db, backup_dir, &err);
  CHECK_ERR(err, "InvalidArgument");
  mantis_backup(db, NULL, &err);
  CHECK_ERR(err, "InvalidArgument");
  mantis_options_t* backup_options = mantis_options_create();
  mantis_options_set_dir(backup_options, backup_dir);
  mantis_t* backup = mantis_open(backup_options, &err);
  CHECK_OK(err);
  CHECK(has_value(backup, "durable", "yes"));
  CHECK(has_value(backup, "after", "checkpoint"));
  mantis_destroy(backup);
  mantis_options_destroy(backup_options);
  CHECK(mantis_open(options, &err) == NULL);
  CHECK_ERR(err, "Busy:");
  mantis_close(db, &err);
  CHECK_OK(err);
  mantis_destroy(db);
  db = mantis_open(options, &err);
  CHECK_OK(err);
  CHECK(has_value(db, "durable", "yes"));
  CHECK(has_value(db, "", "empty key"));
  CHECK(has_value(db, "after", "checkpoint"));
  mantis_destroy(db);
  mantis_options_destroy(options);
  snprintf(command, sizeof command, "rm -rf '%s'", dir);
  CHECK(system(command) == 0);
}

int main(void) {
  test_version_and_free();
  test_error_codes();
  test_options();
  test_put_get_erase();
  test_multi_get();
  test_batches();
  test_ttl();
  test_conditional_writes();
  test_scan();
  test_iterators();
  test_admin();
  test_null_db();
  test_close();
  test_cache();
  test_durable();
  return finish();
}
