package mantis

// #include "shim.h"
import "C"

import (
	"runtime"
	"runtime/cgo"
	"unsafe"
)

// scanState is what a scan's cgo.Handle refers to.
type scanState struct {
	fn    func(key, value []byte) bool
	panic interface{} // a panic in fn, re-raised once the C call has returned
}

//export mantisGoScan
func mantisGoScan(h C.uintptr_t, k *C.char, klen C.size_t, v *C.char, vlen C.size_t) (more C.int) {
	state := cgo.Handle(h).Value().(*scanState)
	// A panic must not unwind through the C++ frames of the scan: stop it here and re-raise later.
	defer func() {
		if r := recover(); r != nil {
			state.panic = r
			more = 0
		}
	}()
	key := unsafe.Slice((*byte)(unsafe.Pointer(k)), int(klen))
	value := unsafe.Slice((*byte)(unsafe.Pointer(v)), int(vlen))
	if state.fn(key, value) {
		return 1
	}
	return 0
}

// Scan calls fn for each live key in [begin, end), in byte order, until fn returns false; an empty
// end means "to the last key" (as Engine::scan). key and value are zero-copy views valid only during
// the call (copy them to keep them); fn must not modify them. fn may call other DB methods, but Close
// returns ErrBusy from inside it.
func (db *DB) Scan(begin, end []byte, fn func(key, value []byte) bool) error {
	if fn == nil {
		return newError("Scan", ErrInvalidArgument, "fn is nil")
	}
	state := &scanState{fn: fn}
	h := cgo.NewHandle(state)
	defer h.Delete()
	var msg *C.char
	C.mantis_go_scan(db.h, cbytes(begin), C.size_t(len(begin)), cbytes(end), C.size_t(len(end)), C.uintptr_t(h), &msg)
	runtime.KeepAlive(db)
	runtime.KeepAlive(begin)
	runtime.KeepAlive(end)
	return finishScan("Scan", state, msg)
}

// ScanPrefix is Scan over the keys that start with prefix (as Engine::scan_prefix).
func (db *DB) ScanPrefix(prefix []byte, fn func(key, value []byte) bool) error {
	if fn == nil {
		return newError("ScanPrefix", ErrInvalidArgument, "fn is nil")
	}
	state := &scanState{fn: fn}
	h := cgo.NewHandle(state)
	defer h.Delete()
	var msg *C.char
	C.mantis_go_scan_prefix(db.h, cbytes(prefix), C.size_t(len(prefix)), C.uintptr_t(h), &msg)
	runtime.KeepAlive(db)
	runtime.KeepAlive(prefix)
	return finishScan("ScanPrefix", state, msg)
}

func finishScan(op string, state *scanState, msg *C.char) error {
	err := takeError(op, msg)
	if state.panic != nil {
		panic(state.panic)
	}
	return err
}
