package mantis

// #include "shim.h"
import "C"

import (
	"runtime"
	"strings"
	"unsafe"
)

// KeyVersion identifies one stored value of a key (mantis::Version in C++; named apart from Version(),
// the library's version string). Unique in the engine: compare versions for equality only. 0 stands
// for "absent" where a method takes an expected version.
type KeyVersion uint64

// GetVersion returns a copy of the value and its version. A missing or expired key returns an error
// wrapping ErrNotFound.
func (db *DB) GetVersion(key []byte) ([]byte, KeyVersion, error) {
	var size C.size_t
	var version C.uint64_t
	var msg *C.char
	value := C.mantis_get_version(db.h, cbytes(key), C.size_t(len(key)), &size, &version, &msg)
	runtime.KeepAlive(db)
	if err := takeError("GetVersion", msg); err != nil {
		return nil, 0, err
	}
	if value == nil {
		return nil, 0, notFound("GetVersion")
	}
	out := C.GoBytes(unsafe.Pointer(value), C.int(size))
	C.mantis_free(unsafe.Pointer(value))
	return out, KeyVersion(version), nil
}

// The conditional writes below decide and write in one atomic step against every other writer of the
// key (in a durable engine, one logged put or delete). The bool reports whether they wrote; a
// condition that did not hold is false with a nil error, never an error.

// PutIfAbsent writes key -> value only if the key is absent (or expired).
func (db *DB) PutIfAbsent(key, value []byte) (bool, error) {
	var msg *C.char
	wrote := C.mantis_put_if_absent(db.h, nil, cbytes(key), C.size_t(len(key)), cbytes(value), C.size_t(len(value)), &msg)
	runtime.KeepAlive(db)
	return wrote != 0, takeError("PutIfAbsent", msg)
}

// PutIfPresent writes key -> value only if the key is present.
func (db *DB) PutIfPresent(key, value []byte) (bool, error) {
	var msg *C.char
	wrote := C.mantis_put_if_present(db.h, nil, cbytes(key), C.size_t(len(key)), cbytes(value), C.size_t(len(value)), &msg)
	runtime.KeepAlive(db)
	return wrote != 0, takeError("PutIfPresent", msg)
}

// CompareAndSwap writes key -> value only if the key's version is still old (0: only if absent), as
// read by GetVersion.
func (db *DB) CompareAndSwap(key []byte, old KeyVersion, value []byte) (bool, error) {
	var msg *C.char
	wrote := C.mantis_put_if_version(db.h, nil, cbytes(key), C.size_t(len(key)), C.uint64_t(old), cbytes(value),
		C.size_t(len(value)), &msg)
	runtime.KeepAlive(db)
	return wrote != 0, takeError("CompareAndSwap", msg)
}

// CompareAndDelete deletes the key only if its version is still old.
func (db *DB) CompareAndDelete(key []byte, old KeyVersion) (bool, error) {
	var msg *C.char
	deleted := C.mantis_erase_if_version(db.h, nil, cbytes(key), C.size_t(len(key)), C.uint64_t(old), &msg)
	runtime.KeepAlive(db)
	return deleted != 0, takeError("CompareAndDelete", msg)
}

// DeleteIfPresent deletes the key and reports whether it was present.
func (db *DB) DeleteIfPresent(key []byte) (bool, error) {
	var msg *C.char
	deleted := C.mantis_erase_if_present(db.h, nil, cbytes(key), C.size_t(len(key)), &msg)
	runtime.KeepAlive(db)
	return deleted != 0, takeError("DeleteIfPresent", msg)
}

// Swap writes key -> value and returns the value it replaced; loaded is false when the key was absent.
func (db *DB) Swap(key, value []byte) (previous []byte, loaded bool, err error) {
	var size C.size_t
	var msg *C.char
	old := C.mantis_get_and_put(db.h, nil, cbytes(key), C.size_t(len(key)), cbytes(value), C.size_t(len(value)), &size,
		&msg)
	runtime.KeepAlive(db)
	if err := takeError("Swap", msg); err != nil {
		return nil, false, err
	}
	if old == nil {
		return nil, false, nil
	}
	previous = C.GoBytes(unsafe.Pointer(old), C.int(size))
	C.mantis_free(unsafe.Pointer(old))
	return previous, true, nil
}

// Increment adds delta to the key's value read as a signed 64-bit decimal integer (the text Redis's
// INCRBY stores; an absent key counts as 0; the key keeps its TTL) and returns the sum. A value that
// is not such an integer, or a sum that overflows, returns ErrInvalidArgument and writes nothing.
func (db *DB) Increment(key []byte, delta int64) (int64, error) {
	var msg *C.char
	sum := C.mantis_increment(db.h, nil, cbytes(key), C.size_t(len(key)), C.int64_t(delta), &msg)
	runtime.KeepAlive(db)
	if err := takeError("Increment", msg); err != nil {
		return 0, err
	}
	return int64(sum), nil
}

// Backup writes a consistent copy of a live durable engine into dir (which must not exist or be
// empty) while reads and writes go on: the state at one instant of the call. The copy opens with Open.
// A memory-only engine or DurabilityNone returns ErrNotSupported.
func (db *DB) Backup(dir string) error {
	if dir == "" || strings.IndexByte(dir, 0) >= 0 {
		return newError("Backup", ErrInvalidArgument, "dir is empty or contains a NUL byte")
	}
	cdir := C.CString(dir)
	defer C.free(unsafe.Pointer(cdir))
	var msg *C.char
	C.mantis_backup(db.h, cdir, &msg)
	runtime.KeepAlive(db)
	return takeError("Backup", msg)
}
