package mantis

// #include "shim.h"
import "C"

import (
	"runtime"
	"unsafe"
)

// Iterator walks a DB's live keys in byte order (memcmp). It is not safe for concurrent use; use it
// from one goroutine at a time. Close it when done (a finalizer is only a safety net). After the DB
// is closed, Valid reports false and Err returns ErrClosed.
type Iterator struct {
	db    *DB
	it    *C.mantis_iterator_t // nil once closed
	valid bool
	key   []byte
	value []byte
}

// NewIterator returns an unpositioned iterator: call SeekToFirst or Seek. It fails with ErrClosed on
// a closed DB and with ErrResourceExhausted when out of memory.
func (db *DB) NewIterator() (*Iterator, error) {
	var msg *C.char
	h := C.mantis_iter_create(db.h, &msg)
	runtime.KeepAlive(db)
	if err := takeError("NewIterator", msg); err != nil {
		return nil, err
	}
	it := &Iterator{db: db, it: h}
	runtime.SetFinalizer(it, (*Iterator).Close)
	return it, nil
}

func (it *Iterator) move(op C.int, target []byte) {
	it.valid, it.key, it.value = false, nil, nil
	if it.it == nil {
		return
	}
	var k, v *C.char
	var klen, vlen C.size_t
	valid := C.mantis_go_iter_move(it.it, op, cbytes(target), C.size_t(len(target)), &k, &klen, &v, &vlen)
	runtime.KeepAlive(target)
	if valid != 0 {
		it.valid = true
		it.key = C.GoBytes(unsafe.Pointer(k), C.int(klen))
		it.value = C.GoBytes(unsafe.Pointer(v), C.int(vlen))
	}
}

// SeekToFirst positions the iterator at the first live key.
func (it *Iterator) SeekToFirst() { it.move(0, nil) }

// Seek positions the iterator at the first live key >= target.
func (it *Iterator) Seek(target []byte) { it.move(1, target) }

// Next moves to the next live key. A no-op when not Valid.
func (it *Iterator) Next() {
	if it.valid {
		it.move(2, nil)
	}
}

// Valid reports whether the iterator is positioned at a key.
func (it *Iterator) Valid() bool { return it.valid }

// Key returns the current key (a Go-owned copy; nil when not Valid).
func (it *Iterator) Key() []byte { return it.key }

// Value returns the current value (a Go-owned copy; nil when not Valid).
func (it *Iterator) Value() []byte { return it.value }

// Err returns the iterator's error: ErrClosed after Close or after the DB was closed.
func (it *Iterator) Err() error {
	if it.it == nil {
		return newError("Iterator", ErrClosed, "the iterator is closed")
	}
	var msg *C.char
	C.mantis_iter_get_error(it.it, &msg)
	return takeError("Iterator", msg)
}

// Close releases the iterator. Idempotent; always returns nil.
func (it *Iterator) Close() error {
	if it.it != nil {
		C.mantis_iter_destroy(it.it)
		it.it = nil
		runtime.SetFinalizer(it, nil)
	}
	it.valid, it.key, it.value = false, nil, nil
	return nil
}
