// C helpers for the Go binding: each turns what would be several cgo calls into one.
#ifndef MANTIS_GO_SHIM_H_
#define MANTIS_GO_SHIM_H_

#include <stdint.h>
#include <stdlib.h>

#include <mantis/mantis.h>

// Results come back by value and errors as the return value, so that Go passes no pointer to a Go
// variable: such a variable escapes to the heap (an allocation per call) and, when it holds a
// pointer, costs a cgo pointer check as well. For the same reason the hot calls take the library's
// handles as integers (mantis_go_handle): cgo checks every pointer to an incomplete C type that Go
// passes, boxing it into an interface first (an 8-byte allocation per call).
typedef uintptr_t mantis_go_handle;

// The outputs of mantis_go_get.
typedef struct {
  int found;              // 0: absent, or an error (err)
  size_t vallen;          // the value's size when found
  mantis_value_t* big;    // the value, pinned, when it did not fit (finish with mantis_go_value_take)
  char* err;              // as mantis_get_pinned's *errptr
} mantis_go_get_result;

// Looks key up and copies the value into buf when it fits (cap bytes); otherwise pins it (big).
mantis_go_get_result mantis_go_get(mantis_go_handle db, const char* key, size_t keylen, char* buf, size_t cap);
mantis_go_get_result mantis_go_cache_get(mantis_go_handle cache, const char* key, size_t keylen, char* buf,
                                         size_t cap);
// Copies a pinned value into buf (room for mantis_value_size bytes) and destroys it.
void mantis_go_value_take(mantis_value_t* value, char* buf);

// The outputs of mantis_go_get_pinned: the pinned value (NULL: absent or error), its bytes, the error.
typedef struct {
  mantis_value_t* value;
  const char* data;
  size_t vallen;
  char* err;
} mantis_go_pinned_result;
mantis_go_pinned_result mantis_go_get_pinned(mantis_go_handle db, const char* key, size_t keylen);

// mantis_put, mantis_put_ttl and mantis_erase (default write options), returning the error (NULL on
// success); mantis_go_contains returns mantis_contains' answer and error together.
char* mantis_go_put(mantis_go_handle db, const char* key, size_t keylen, const char* val, size_t vallen);
char* mantis_go_put_ttl(mantis_go_handle db, const char* key, size_t keylen, const char* val, size_t vallen, int64_t ttl_ms);
char* mantis_go_erase(mantis_go_handle db, const char* key, size_t keylen);
typedef struct {
  int value;  // mantis_contains' result
  char* err;
} mantis_go_bool_result;
mantis_go_bool_result mantis_go_contains(mantis_go_handle db, const char* key, size_t keylen);

// mantis_close, except that a close from inside a batched scan's callback on this thread (see
// mantis_go_scan) is refused with "Busy: ..." as mantis_close refuses one from inside its own scans.
char* mantis_go_close(mantis_go_handle db);

// mantis_multi_get over keys stored back to back in keybuf (keylens[i] bytes each).
void mantis_go_multi_get(mantis_t* db, const char* keybuf, const size_t* keylens, size_t n, char** values,
                         size_t* vallens, char** errptr);
// Frees values[0..n) (NULL entries are skipped).
void mantis_go_free_all(char** values, size_t n);

// Applies a batch encoded by the Go Batch type: per operation one kind byte (0 put, 1 erase), then
// ttl_ms, key length and value length as 8-byte little-endian integers, then the key and value bytes.
// Returns the error (NULL on success).
char* mantis_go_write(mantis_go_handle db, const char* rep, size_t replen);

// Moves an iterator (op 0: seek_to_first, 1: seek to key, 2: next) and loads its position. Returns
// mantis_iter_valid; *key/*value point at the current entry when valid.
int mantis_go_iter_move(mantis_iterator_t* iter, int op, const char* target, size_t targetlen, const char** key,
                        size_t* keylen, const char** value, size_t* vallen);

// Scans with the Go callback registered under `handle` (a runtime/cgo.Handle), in batches: entries are
// copied into a 16 KiB buffer on the C stack and handed to Go a buffer at a time (mantisGoScanBatch;
// per entry: key length and value length as 8-byte little-endian integers, the key, the value,
// padding to 8 bytes), instead of one C-to-Go callback per entry. An entry larger than the buffer
// goes alone, zero-copy, through mantisGoScan. The last batch is handed over after the library's scan
// has returned, still inside this call; mantis_go_close refuses to close `db` from inside any batch.
// Returns the error (NULL on success).
char* mantis_go_scan(mantis_go_handle db, const char* begin, size_t beginlen, const char* end, size_t endlen,
                     uintptr_t handle);
char* mantis_go_scan_prefix(mantis_go_handle db, const char* prefix, size_t prefixlen, uintptr_t handle);
// The same at a snapshot.
char* mantis_go_scan_at(mantis_go_handle db, mantis_go_handle snapshot, const char* begin, size_t beginlen,
                        const char* end, size_t endlen, uintptr_t handle);
char* mantis_go_scan_prefix_at(mantis_go_handle db, mantis_go_handle snapshot, const char* prefix,
                               size_t prefixlen, uintptr_t handle);
// A transaction's scan calls Go once per entry (mantisGoScan): the range it reads joins the commit
// check, so it must stop exactly where fn stops.
void mantis_go_txn_scan(mantis_txn_t* txn, const char* begin, size_t beginlen, const char* end, size_t endlen,
                        uintptr_t handle, char** errptr);

#endif  // MANTIS_GO_SHIM_H_
