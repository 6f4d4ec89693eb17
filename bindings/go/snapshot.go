package mantis

// #include "shim.h"
import "C"

import (
	"runtime"
	"sync"
	"unsafe"
)

// Snapshot is a consistent, point-in-time view of a DB (DB.Snapshot): every read through it sees
// exactly the writes acknowledged before it was taken and none after, across all keys, for as long as
// it lives; a key with a TTL is expired at the snapshot if it was expired when the snapshot was taken,
// and a Batch or a transaction's commit is seen whole or not at all. Safe for concurrent use by any
// number of goroutines. While any snapshot (or transaction) is alive, writes keep the values they
// replace for it: Close it promptly (a finalizer is only a safety net).
type Snapshot struct {
	db *DB
	mu sync.RWMutex         // reads hold it shared, Close exclusively
	h  *C.mantis_snapshot_t // nil once closed
}

// Snapshot takes a snapshot of the DB now. It fails with ErrClosed on a closed DB.
func (db *DB) Snapshot() (*Snapshot, error) {
	var msg *C.char
	h := C.mantis_snapshot_create(db.h, &msg)
	runtime.KeepAlive(db)
	if err := takeError("Snapshot", msg); err != nil {
		return nil, err
	}
	s := &Snapshot{db: db, h: h}
	runtime.SetFinalizer(s, (*Snapshot).Close)
	return s, nil
}

// ViewSnapshot calls fn with a snapshot of the DB taken now and closes it when fn returns; it returns
// fn's error. (View is the zero-copy read of one key.)
func (db *DB) ViewSnapshot(fn func(s *Snapshot) error) error {
	s, err := db.Snapshot()
	if err != nil {
		return err
	}
	defer s.Close()
	return fn(s)
}

// Version returns the snapshot's version: every write with a KeyVersion <= it is visible through
// it. 0 once closed.
func (s *Snapshot) Version() KeyVersion {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return KeyVersion(C.mantis_snapshot_version(s.h))
}

// Close releases the snapshot; later reads through it return ErrClosed. Iterators created from it
// keep working until they are closed. Idempotent; always returns nil. It must not be called from
// inside a Scan callback of the same snapshot.
func (s *Snapshot) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.h != nil {
		C.mantis_snapshot_destroy(s.h)
		s.h = nil
		runtime.SetFinalizer(s, nil)
	}
	return nil
}

// read runs a C read at the snapshot with the lock held shared; ErrClosed once closed.
func (s *Snapshot) read(op string, fn func(h *C.mantis_snapshot_t) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.h == nil {
		return newError(op, ErrClosed, "the snapshot is closed")
	}
	err := fn(s.h)
	runtime.KeepAlive(s.db)
	return err
}

// Get returns a copy of the key's value at the snapshot. A key absent (or expired) at the snapshot
// returns an error wrapping ErrNotFound.
func (s *Snapshot) Get(key []byte) ([]byte, error) {
	v, _, err := s.getVersion("Snapshot.Get", key)
	return v, err
}

// GetVersion is Get that also returns the version of the value read.
func (s *Snapshot) GetVersion(key []byte) ([]byte, KeyVersion, error) {
	return s.getVersion("Snapshot.GetVersion", key)
}

func (s *Snapshot) getVersion(op string, key []byte) (out []byte, version KeyVersion, err error) {
	err = s.read(op, func(h *C.mantis_snapshot_t) error {
		var size C.size_t
		var cversion C.uint64_t
		var msg *C.char
		value := C.mantis_get_at(s.db.h, h, cbytes(key), C.size_t(len(key)), &size, &cversion, &msg)
		runtime.KeepAlive(key)
		if err := takeError(op, msg); err != nil {
			return err
		}
		if value == nil {
			return notFound(op)
		}
		out = C.GoBytes(unsafe.Pointer(value), C.int(size))
		C.mantis_free(unsafe.Pointer(value))
		version = KeyVersion(cversion)
		return nil
	})
	return out, version, err
}

// Scan is DB.Scan at the snapshot: fn sees each key of [begin, end) (empty end: to the last key) as
// it was at the snapshot, in byte order, until it returns false. key and value are valid only during
// the call.
func (s *Snapshot) Scan(begin, end []byte, fn func(key, value []byte) bool) error {
	if fn == nil {
		return newError("Snapshot.Scan", ErrInvalidArgument, "fn is nil")
	}
	return s.read("Snapshot.Scan", func(h *C.mantis_snapshot_t) error {
		state, handle := newScan(fn)
		defer endScan(handle)
		msg := C.mantis_go_scan_at(s.db.ch(), handleOf(unsafe.Pointer(h)), cbytes(begin), C.size_t(len(begin)), cbytes(end), C.size_t(len(end)),
			handle)
		runtime.KeepAlive(begin)
		runtime.KeepAlive(end)
		return finishScan("Snapshot.Scan", state, msg)
	})
}

// ScanPrefix is Scan over the keys that start with prefix.
func (s *Snapshot) ScanPrefix(prefix []byte, fn func(key, value []byte) bool) error {
	if fn == nil {
		return newError("Snapshot.ScanPrefix", ErrInvalidArgument, "fn is nil")
	}
	return s.read("Snapshot.ScanPrefix", func(h *C.mantis_snapshot_t) error {
		state, handle := newScan(fn)
		defer endScan(handle)
		msg := C.mantis_go_scan_prefix_at(s.db.ch(), handleOf(unsafe.Pointer(h)), cbytes(prefix), C.size_t(len(prefix)), handle)
		runtime.KeepAlive(prefix)
		return finishScan("Snapshot.ScanPrefix", state, msg)
	})
}

// NewIterator returns an unpositioned iterator over exactly the snapshot's keys. It keeps working
// after the snapshot is closed, until it is closed itself (or the DB is).
func (s *Snapshot) NewIterator() (*Iterator, error) {
	var it *Iterator
	err := s.read("Snapshot.NewIterator", func(h *C.mantis_snapshot_t) error {
		var msg *C.char
		ch := C.mantis_iter_create_at(s.db.h, h, &msg)
		if err := takeError("Snapshot.NewIterator", msg); err != nil {
			return err
		}
		it = &Iterator{db: s.db, it: ch}
		runtime.SetFinalizer(it, (*Iterator).Close)
		return nil
	})
	return it, err
}
