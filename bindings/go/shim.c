#include "shim.h"

#include <string.h>

#include "_cgo_export.h"

static mantis_go_get_result copy_or_pin(mantis_value_t* value, char* err, char* buf, size_t cap) {
  mantis_go_get_result out = {0, 0, NULL, err};
  if (value == NULL) return out;
  out.found = 1;
  out.vallen = mantis_value_size(value);
  if (out.vallen > cap) {
    out.big = value;
    return out;
  }
  if (out.vallen > 0) memcpy(buf, mantis_value_data(value), out.vallen);
  mantis_value_destroy(value);
  return out;
}

mantis_go_get_result mantis_go_get(mantis_go_handle dbh, const char* key, size_t keylen, char* buf, size_t cap) {
  mantis_t* db = (mantis_t*)dbh;
  char* err = NULL;
  mantis_value_t* value = mantis_get_pinned(db, key, keylen, &err);
  return copy_or_pin(value, err, buf, cap);
}

mantis_go_get_result mantis_go_cache_get(mantis_go_handle cacheh, const char* key, size_t keylen, char* buf,
                                         size_t cap) {
  mantis_cache_t* cache = (mantis_cache_t*)cacheh;
  char* err = NULL;
  mantis_value_t* value = mantis_cache_get_pinned(cache, key, keylen, &err);
  return copy_or_pin(value, err, buf, cap);
}

void mantis_go_value_take(mantis_value_t* value, char* buf) {
  size_t size = mantis_value_size(value);
  if (size > 0) memcpy(buf, mantis_value_data(value), size);
  mantis_value_destroy(value);
}

mantis_go_pinned_result mantis_go_get_pinned(mantis_go_handle dbh, const char* key, size_t keylen) {
  mantis_t* db = (mantis_t*)dbh;
  mantis_go_pinned_result out = {NULL, NULL, 0, NULL};
  out.value = mantis_get_pinned(db, key, keylen, &out.err);
  out.data = mantis_value_data(out.value);
  out.vallen = mantis_value_size(out.value);
  return out;
}

char* mantis_go_put(mantis_go_handle dbh, const char* key, size_t keylen, const char* val, size_t vallen) {
  mantis_t* db = (mantis_t*)dbh;
  char* err = NULL;
  mantis_put(db, NULL, key, keylen, val, vallen, &err);
  return err;
}

char* mantis_go_put_ttl(mantis_go_handle dbh, const char* key, size_t keylen, const char* val, size_t vallen, int64_t ttl_ms) {
  mantis_t* db = (mantis_t*)dbh;
  char* err = NULL;
  mantis_put_ttl(db, key, keylen, val, vallen, ttl_ms, &err);
  return err;
}

char* mantis_go_erase(mantis_go_handle dbh, const char* key, size_t keylen) {
  mantis_t* db = (mantis_t*)dbh;
  char* err = NULL;
  mantis_erase(db, NULL, key, keylen, &err);
  return err;
}

mantis_go_bool_result mantis_go_contains(mantis_go_handle dbh, const char* key, size_t keylen) {
  mantis_t* db = (mantis_t*)dbh;
  mantis_go_bool_result out = {0, NULL};
  out.value = mantis_contains(db, key, keylen, &out.err);
  return out;
}

void mantis_go_multi_get(mantis_t* db, const char* keybuf, const size_t* keylens, size_t n, char** values,
                         size_t* vallens, char** errptr) {
  if (n == 0) return;
  const char** keys = malloc(n * sizeof *keys);
  if (keys == NULL) {
    // Let the library report the problem in its own words: NULL keys with n > 0.
    mantis_multi_get(db, n, NULL, keylens, values, vallens, errptr);
    return;
  }
  size_t offset = 0;
  for (size_t i = 0; i < n; ++i) {
    keys[i] = keybuf == NULL ? NULL : keybuf + offset;
    offset += keylens[i];
  }
  mantis_multi_get(db, n, keys, keylens, values, vallens, errptr);
  free(keys);
}

void mantis_go_free_all(char** values, size_t n) {
  for (size_t i = 0; i < n; ++i) mantis_free(values[i]);
}

static uint64_t read_u64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

char* mantis_go_write(mantis_go_handle dbh, const char* rep, size_t replen) {
  mantis_t* db = (mantis_t*)dbh;
  char* err = NULL;
  mantis_writebatch_t* batch = mantis_writebatch_create();
  if (batch == NULL) {
    mantis_write(db, NULL, NULL, &err);  // reports the missing batch
    return err;
  }
  const unsigned char* p = (const unsigned char*)rep;
  const unsigned char* end = p + replen;
  while (p + 25 <= end) {
    const int kind = p[0];
    const int64_t ttl = (int64_t)read_u64(p + 1);
    const size_t keylen = (size_t)read_u64(p + 9);
    const size_t vallen = (size_t)read_u64(p + 17);
    p += 25;
    const char* key = (const char*)p;
    const char* val = (const char*)p + keylen;
    p += keylen + vallen;
    if (kind == 0) {
      mantis_writebatch_put_ttl(batch, keylen == 0 ? NULL : key, keylen, vallen == 0 ? NULL : val, vallen, ttl);
    } else {
      mantis_writebatch_erase(batch, keylen == 0 ? NULL : key, keylen);
    }
  }
  mantis_write(db, NULL, batch, &err);
  mantis_writebatch_destroy(batch);
  return err;
}

int mantis_go_iter_move(mantis_iterator_t* iter, int op, const char* target, size_t targetlen, const char** key,
                        size_t* keylen, const char** value, size_t* vallen) {
  switch (op) {
    case 0:
      mantis_iter_seek_to_first(iter);
      break;
    case 1:
      mantis_iter_seek(iter, target, targetlen);
      break;
    default:
      mantis_iter_next(iter);
      break;
  }
  *key = NULL;
  *value = NULL;
  *keylen = 0;
  *vallen = 0;
  if (!mantis_iter_valid(iter)) return 0;  // also false once the database is closed
  *key = mantis_iter_key(iter, keylen);
  *value = mantis_iter_value(iter, vallen);
  return *key != NULL;
}

static int scan_trampoline(void* ctx, const char* key, size_t keylen, const char* value, size_t vallen) {
  return mantisGoScan((uintptr_t)ctx, (char*)key, keylen, (char*)value, vallen);
}

// The batched scans running on this thread (innermost first), so that mantis_go_close can refuse to
// close their database from inside a batch, including the last one, handed to Go after the library's
// scan (and its own check) has returned.
typedef struct go_scan_frame {
  const mantis_t* db;
  const struct go_scan_frame* outer;
} go_scan_frame;
static _Thread_local const go_scan_frame* go_scans = NULL;

enum { kScanBuffer = 16384 };

typedef struct {
  uintptr_t handle;
  size_t used;
  int stopped;  // fn returned false or panicked: hand Go nothing more
  go_scan_frame frame;
  char buf[kScanBuffer];
} go_scan_batch;

static void put_u64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = (char)(v >> (8 * i));
}

static int flush_batch(go_scan_batch* b) {
  if (b->used == 0 || b->stopped) return !b->stopped;
  const int more = mantisGoScanBatch(b->handle, b->buf, b->used);
  b->used = 0;
  if (!more) b->stopped = 1;
  return more;
}

static int batch_trampoline(void* ctx, const char* key, size_t keylen, const char* value, size_t vallen) {
  go_scan_batch* b = (go_scan_batch*)ctx;
  const size_t need = (16 + keylen + vallen + 7) & ~(size_t)7;
  if (need > kScanBuffer - b->used) {
    if (!flush_batch(b)) return 0;
    if (need > kScanBuffer) {  // alone and zero-copy
      if (!mantisGoScan(b->handle, (char*)key, keylen, (char*)value, vallen)) b->stopped = 1;
      return !b->stopped;
    }
  }
  char* p = b->buf + b->used;
  put_u64(p, keylen);
  put_u64(p + 8, vallen);
  if (keylen > 0) memcpy(p + 16, key, keylen);
  if (vallen > 0) memcpy(p + 16 + keylen, value, vallen);
  b->used += need;
  return 1;
}

static void begin_batch(go_scan_batch* b, const mantis_t* db, uintptr_t handle) {
  b->handle = handle;
  b->used = 0;
  b->stopped = 0;
  b->frame.db = db;
  b->frame.outer = go_scans;
  go_scans = &b->frame;
}

// Hands Go the last batch (also after an error: what was read was read), then leaves the frame.
static char* end_batch(go_scan_batch* b, char* err) {
  flush_batch(b);
  go_scans = b->frame.outer;
  return err;
}

char* mantis_go_close(mantis_go_handle dbh) {
  mantis_t* db = (mantis_t*)dbh;
  for (const go_scan_frame* frame = go_scans; frame != NULL; frame = frame->outer) {
    if (frame->db == db && db != NULL) {
      static const char kBusy[] = "Busy: mantis_close: called from inside a scan callback of this database";
      char* err = malloc(sizeof kBusy);
      if (err != NULL) memcpy(err, kBusy, sizeof kBusy);
      return err;  // NULL only when out of memory: the close is refused all the same
    }
  }
  char* err = NULL;
  mantis_close(db, &err);
  return err;
}

char* mantis_go_scan(mantis_go_handle dbh, const char* begin, size_t beginlen, const char* end, size_t endlen,
                     uintptr_t handle) {
  mantis_t* db = (mantis_t*)dbh;
  go_scan_batch b;
  char* err = NULL;
  begin_batch(&b, db, handle);
  mantis_scan(db, begin, beginlen, end, endlen, batch_trampoline, &b, &err);
  return end_batch(&b, err);
}

char* mantis_go_scan_prefix(mantis_go_handle dbh, const char* prefix, size_t prefixlen, uintptr_t handle) {
  mantis_t* db = (mantis_t*)dbh;
  go_scan_batch b;
  char* err = NULL;
  begin_batch(&b, db, handle);
  mantis_scan_prefix(db, prefix, prefixlen, batch_trampoline, &b, &err);
  return end_batch(&b, err);
}

char* mantis_go_scan_at(mantis_go_handle dbh, mantis_go_handle snaph, const char* begin, size_t beginlen,
                        const char* end, size_t endlen, uintptr_t handle) {
  mantis_t* db = (mantis_t*)dbh;
  const mantis_snapshot_t* snapshot = (const mantis_snapshot_t*)snaph;
  go_scan_batch b;
  char* err = NULL;
  begin_batch(&b, db, handle);
  mantis_scan_at(db, snapshot, begin, beginlen, end, endlen, batch_trampoline, &b, &err);
  return end_batch(&b, err);
}

char* mantis_go_scan_prefix_at(mantis_go_handle dbh, mantis_go_handle snaph, const char* prefix,
                               size_t prefixlen, uintptr_t handle) {
  mantis_t* db = (mantis_t*)dbh;
  const mantis_snapshot_t* snapshot = (const mantis_snapshot_t*)snaph;
  go_scan_batch b;
  char* err = NULL;
  begin_batch(&b, db, handle);
  mantis_scan_prefix_at(db, snapshot, prefix, prefixlen, batch_trampoline, &b, &err);
  return end_batch(&b, err);
}

void mantis_go_txn_scan(mantis_txn_t* txn, const char* begin, size_t beginlen, const char* end, size_t endlen,
                        uintptr_t handle, char** errptr) {
  mantis_txn_scan(txn, begin, beginlen, end, endlen, scan_trampoline, (void*)handle, errptr);
}
