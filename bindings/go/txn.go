package mantis

// #include "shim.h"
import "C"

import (
	"errors"
	"math/rand"
	"runtime"
	"time"
	"unsafe"
)

// Txn is an optimistic transaction (DB.Begin, DB.Update). Reads see the DB at the transaction's
// snapshot, taken by Begin, plus the transaction's own writes; writes are buffered until Commit.
// Commit returns an error wrapping ErrConflict, writing nothing, if any key the transaction read (a
// Get, found or not, or any key of a range it scanned, including keys inserted into that range
// since) was written after its snapshot; otherwise every write applies atomically at one new version
// (one log record in a durable engine). Isolation is serializable; a read-only transaction always
// commits.
//
// After Commit or Rollback the transaction is finished: other methods return ErrInvalidArgument and
// Rollback does nothing, so `defer txn.Rollback()` is the usual pattern. A Txn is not safe for
// concurrent use: use it from one goroutine.
type Txn struct {
	db *DB
	h  *C.mantis_txn_t // nil once finished
}

// Begin starts a transaction at a snapshot of the DB now. Finish it with Commit or Rollback.
func (db *DB) Begin() (*Txn, error) {
	var msg *C.char
	h := C.mantis_txn_begin(db.h, &msg)
	runtime.KeepAlive(db)
	if err := takeError("Begin", msg); err != nil {
		return nil, err
	}
	t := &Txn{db: db, h: h}
	runtime.SetFinalizer(t, (*Txn).Rollback)
	return t, nil
}

func (t *Txn) finished(op string) error {
	return newError(op, ErrInvalidArgument, "the transaction is finished (committed or rolled back)")
}

// SnapshotVersion returns the version of the transaction's snapshot (0 once finished).
func (t *Txn) SnapshotVersion() KeyVersion {
	if t.h == nil {
		return 0
	}
	return KeyVersion(C.mantis_txn_snapshot_version(t.h, nil))
}

// Get returns a copy of the key's value at the snapshot, or the transaction's own write of it. A key
// that is absent, expired at the snapshot or deleted by this transaction returns an error wrapping
// ErrNotFound. The read joins the commit check either way.
func (t *Txn) Get(key []byte) ([]byte, error) {
	if t.h == nil {
		return nil, t.finished("Txn.Get")
	}
	var size C.size_t
	var msg *C.char
	value := C.mantis_txn_get(t.h, cbytes(key), C.size_t(len(key)), &size, &msg)
	runtime.KeepAlive(t.db)
	if err := takeError("Txn.Get", msg); err != nil {
		return nil, err
	}
	if value == nil {
		return nil, notFound("Txn.Get")
	}
	out := C.GoBytes(unsafe.Pointer(value), C.int(size))
	C.mantis_free(unsafe.Pointer(value))
	return out, nil
}

// Put buffers key -> value.
func (t *Txn) Put(key, value []byte) error { return t.put("Txn.Put", key, value, 0) }

// PutTTL buffers key -> value expiring ttl after the commit (rounded up to whole milliseconds;
// 0 = never).
func (t *Txn) PutTTL(key, value []byte, ttl time.Duration) error {
	return t.put("Txn.PutTTL", key, value, ttl)
}

func (t *Txn) put(op string, key, value []byte, ttl time.Duration) error {
	if t.h == nil {
		return t.finished(op)
	}
	var options *C.mantis_writeoptions_t
	if ttl != 0 {
		options = C.mantis_writeoptions_create()
		if options == nil {
			return newError(op, ErrResourceExhausted, "out of memory")
		}
		defer C.mantis_writeoptions_destroy(options)
		C.mantis_writeoptions_set_ttl(options, milliseconds(ttl))
	}
	var msg *C.char
	C.mantis_txn_put(t.h, options, cbytes(key), C.size_t(len(key)), cbytes(value), C.size_t(len(value)), &msg)
	runtime.KeepAlive(t.db)
	return takeError(op, msg)
}

// Delete buffers the removal of key (a missing key is fine).
func (t *Txn) Delete(key []byte) error {
	if t.h == nil {
		return t.finished("Txn.Delete")
	}
	var msg *C.char
	C.mantis_txn_erase(t.h, cbytes(key), C.size_t(len(key)), &msg)
	runtime.KeepAlive(t.db)
	return takeError("Txn.Delete", msg)
}

// Scan calls fn for each key in [begin, end) (empty end: to the last key) as the transaction sees it
// (its snapshot plus its own writes), in byte order, until fn returns false. The range up to where fn
// stopped joins the commit check. key and value are valid only during the call; fn must not call the
// transaction's methods (they return ErrBusy).
func (t *Txn) Scan(begin, end []byte, fn func(key, value []byte) bool) error {
	if t.h == nil {
		return t.finished("Txn.Scan")
	}
	if fn == nil {
		return newError("Txn.Scan", ErrInvalidArgument, "fn is nil")
	}
	state, h := newScan(fn)
	defer endScan(h)
	var msg *C.char
	C.mantis_go_txn_scan(t.h, cbytes(begin), C.size_t(len(begin)), cbytes(end), C.size_t(len(end)), h, &msg)
	runtime.KeepAlive(t.db)
	runtime.KeepAlive(begin)
	runtime.KeepAlive(end)
	return finishScan("Txn.Scan", state, msg)
}

// Commit applies the buffered writes unless a key the transaction read changed since its snapshot
// (then the error wraps ErrConflict and nothing was written: run the transaction again). Durable per
// the DB's Durability. The transaction is finished afterwards, whatever the result.
func (t *Txn) Commit() error { return t.commit("Txn.Commit", false) }

// CommitSync is Commit that also fdatasyncs a durable DB's log before returning.
func (t *Txn) CommitSync() error { return t.commit("Txn.CommitSync", true) }

func (t *Txn) commit(op string, sync bool) error {
	if t.h == nil {
		return t.finished(op)
	}
	var options *C.mantis_writeoptions_t
	if sync {
		options = C.mantis_writeoptions_create()
		if options == nil {
			return newError(op, ErrResourceExhausted, "out of memory")
		}
		defer C.mantis_writeoptions_destroy(options)
		C.mantis_writeoptions_set_sync(options, 1)
	}
	var msg *C.char
	C.mantis_txn_commit(t.h, options, &msg)
	t.release()
	return takeError(op, msg)
}

// Rollback drops the buffered writes and releases the snapshot. A no-op on a finished transaction;
// always returns nil.
func (t *Txn) Rollback() error {
	if t.h != nil {
		t.release()
	}
	return nil
}

// release frees the C transaction (rolling back one that did not commit).
func (t *Txn) release() {
	C.mantis_txn_destroy(t.h)
	t.h = nil
	runtime.SetFinalizer(t, nil)
	runtime.KeepAlive(t.db)
}

// UpdateAttempts is how many times Update runs its function before it gives up on conflicts.
const UpdateAttempts = 32

// Update runs fn in a transaction and commits it. When the commit conflicts, it waits a moment
// (a jittered backoff up to about a millisecond) and runs fn again in a new transaction, up to
// UpdateAttempts times in all; then it returns the error wrapping ErrConflict. fn's own error rolls the
// transaction back and is returned as is (an error wrapping ErrConflict from fn is retried too). fn may
// therefore run several times: it should have no effect outside the transaction.
func (db *DB) Update(fn func(txn *Txn) error) error {
	for attempt := 1; ; attempt++ {
		err := db.updateOnce(fn)
		if !errors.Is(err, ErrConflict) || attempt >= UpdateAttempts {
			return err
		}
		shift := attempt
		if shift > 8 {
			shift = 8
		}
		time.Sleep(time.Duration(rand.Int63n(int64(5*time.Microsecond) << shift)))
	}
}

func (db *DB) updateOnce(fn func(txn *Txn) error) error {
	txn, err := db.Begin()
	if err != nil {
		return err
	}
	defer txn.Rollback() // also when fn panics
	if err := fn(txn); err != nil {
		return err
	}
	return txn.Commit()
}
