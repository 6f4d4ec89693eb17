// C helpers for the Go binding: each turns what would be several cgo calls into one.
#ifndef MANTIS_GO_SHIM_H_
#define MANTIS_GO_SHIM_H_

#include <stdint.h>
#include <stdlib.h>

#include <mantis/mantis.h>

// The outputs of mantis_go_get, in one struct so that Go passes (and allocates) one pointer.
typedef struct {
  size_t vallen;
  mantis_value_t* big;
  char* err;
} mantis_go_get_result;

// Looks key up and copies the value into buf when it fits (cap bytes). Returns 0 when the key is
// absent or on error (out->err), else 1 with out->vallen set; when the value is larger than cap,
// out->big holds it pinned instead (finish with mantis_go_value_take).
int mantis_go_get(mantis_t* db, const char* key, size_t keylen, char* buf, size_t cap, mantis_go_get_result* out);
int mantis_go_cache_get(mantis_cache_t* cache, const char* key, size_t keylen, char* buf, size_t cap,
                        mantis_go_get_result* out);
// Copies a pinned value into buf (room for mantis_value_size bytes) and destroys it.
void mantis_go_value_take(mantis_value_t* value, char* buf);

// Pins a value and returns its bytes in *data and *vallen (NULL result: absent or error).
mantis_value_t* mantis_go_get_pinned(mantis_t* db, const char* key, size_t keylen, const char** data, size_t* vallen,
                                     char** errptr);

// mantis_multi_get over keys stored back to back in keybuf (keylens[i] bytes each).
void mantis_go_multi_get(mantis_t* db, const char* keybuf, const size_t* keylens, size_t n, char** values,
                         size_t* vallens, char** errptr);
// Frees values[0..n) (NULL entries are skipped).
void mantis_go_free_all(char** values, size_t n);

// Applies a batch encoded by the Go Batch type: per operation one kind byte (0 put, 1 erase), then
// ttl_ms, key length and value length as 8-byte little-endian integers, then the key and value bytes.
void mantis_go_write(mantis_t* db, const char* rep, size_t replen, char** errptr);

// Moves an iterator (op 0: seek_to_first, 1: seek to key, 2: next) and loads its position. Returns
// mantis_iter_valid; *key/*value point at the current entry when valid.
int mantis_go_iter_move(mantis_iterator_t* iter, int op, const char* target, size_t targetlen, const char** key,
                        size_t* keylen, const char** value, size_t* vallen);

// Scans with the Go callback registered under `handle` (a runtime/cgo.Handle).
void mantis_go_scan(mantis_t* db, const char* begin, size_t beginlen, const char* end, size_t endlen, uintptr_t handle,
                    char** errptr);
void mantis_go_scan_prefix(mantis_t* db, const char* prefix, size_t prefixlen, uintptr_t handle, char** errptr);
// The same at a snapshot, and in a transaction.
void mantis_go_scan_at(mantis_t* db, const mantis_snapshot_t* snapshot, const char* begin, size_t beginlen,
                       const char* end, size_t endlen, uintptr_t handle, char** errptr);
void mantis_go_scan_prefix_at(mantis_t* db, const mantis_snapshot_t* snapshot, const char* prefix, size_t prefixlen,
                              uintptr_t handle, char** errptr);
void mantis_go_txn_scan(mantis_txn_t* txn, const char* begin, size_t beginlen, const char* end, size_t endlen,
                        uintptr_t handle, char** errptr);

#endif  // MANTIS_GO_SHIM_H_
