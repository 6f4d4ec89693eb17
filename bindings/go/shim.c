#include "shim.h"

#include <string.h>

#include "_cgo_export.h"

static int copy_or_pin(mantis_value_t* value, char* buf, size_t cap, mantis_go_get_result* out) {
  out->big = NULL;
  out->vallen = 0;
  if (value == NULL) return 0;
  out->vallen = mantis_value_size(value);
  if (out->vallen > cap) {
    out->big = value;
    return 1;
  }
  if (out->vallen > 0) memcpy(buf, mantis_value_data(value), out->vallen);
  mantis_value_destroy(value);
  return 1;
}

int mantis_go_get(mantis_t* db, const char* key, size_t keylen, char* buf, size_t cap, mantis_go_get_result* out) {
  out->err = NULL;
  return copy_or_pin(mantis_get_pinned(db, key, keylen, &out->err), buf, cap, out);
}

int mantis_go_cache_get(mantis_cache_t* cache, const char* key, size_t keylen, char* buf, size_t cap,
                        mantis_go_get_result* out) {
  out->err = NULL;
  return copy_or_pin(mantis_cache_get_pinned(cache, key, keylen, &out->err), buf, cap, out);
}

void mantis_go_value_take(mantis_value_t* value, char* buf) {
  size_t size = mantis_value_size(value);
  if (size > 0) memcpy(buf, mantis_value_data(value), size);
  mantis_value_destroy(value);
}

mantis_value_t* mantis_go_get_pinned(mantis_t* db, const char* key, size_t keylen, const char** data, size_t* vallen,
                                     char** errptr) {
  mantis_value_t* value = mantis_get_pinned(db, key, keylen, errptr);
  *data = mantis_value_data(value);
  *vallen = mantis_value_size(value);
  return value;
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

void mantis_go_write(mantis_t* db, const char* rep, size_t replen, char** errptr) {
  mantis_writebatch_t* batch = mantis_writebatch_create();
  if (batch == NULL) {
    mantis_write(db, NULL, NULL, errptr);  // reports the missing batch
    return;
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
  mantis_write(db, NULL, batch, errptr);
  mantis_writebatch_destroy(batch);
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

void mantis_go_scan(mantis_t* db, const char* begin, size_t beginlen, const char* end, size_t endlen, uintptr_t handle,
                    char** errptr) {
  mantis_scan(db, begin, beginlen, end, endlen, scan_trampoline, (void*)handle, errptr);
}

void mantis_go_scan_prefix(mantis_t* db, const char* prefix, size_t prefixlen, uintptr_t handle, char** errptr) {
  mantis_scan_prefix(db, prefix, prefixlen, scan_trampoline, (void*)handle, errptr);
}

void mantis_go_scan_at(mantis_t* db, const mantis_snapshot_t* snapshot, const char* begin, size_t beginlen,
                       const char* end, size_t endlen, uintptr_t handle, char** errptr) {
  mantis_scan_at(db, snapshot, begin, beginlen, end, endlen, scan_trampoline, (void*)handle, errptr);
}

void mantis_go_scan_prefix_at(mantis_t* db, const mantis_snapshot_t* snapshot, const char* prefix, size_t prefixlen,
                              uintptr_t handle, char** errptr) {
  mantis_scan_prefix_at(db, snapshot, prefix, prefixlen, scan_trampoline, (void*)handle, errptr);
}

void mantis_go_txn_scan(mantis_txn_t* txn, const char* begin, size_t beginlen, const char* end, size_t endlen,
                        uintptr_t handle, char** errptr) {
  mantis_txn_scan(txn, begin, beginlen, end, endlen, scan_trampoline, (void*)handle, errptr);
}
