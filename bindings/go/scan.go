package mantis

// #include "shim.h"
import "C"

import (
	"encoding/binary"
	"runtime"
	"sync"
	"unsafe"
)

// scanState is what a scan's handle refers to.
type scanState struct {
	fn    func(key, value []byte) bool
	panic interface{} // a panic in fn, re-raised once the C call has returned
}

// scans maps the integer a scan hands through C back to its state: a table of slots reused through
// a free list under a mutex. Three uncontended lock operations per scan, where a runtime/cgo.Handle
// costs a sync.Map store, load and delete (a fifth of a 100-key scan's time when its data is cached).
var scans struct {
	mu    sync.Mutex
	slots []*scanState
	free  []int
}

// newScan registers a scan of fn and returns its state and handle (slot + 1: 0 is never a handle).
// Release the handle with endScan.
func newScan(fn func(key, value []byte) bool) (*scanState, C.uintptr_t) {
	state := &scanState{fn: fn}
	scans.mu.Lock()
	var slot int
	if n := len(scans.free); n > 0 {
		slot = scans.free[n-1]
		scans.free = scans.free[:n-1]
	} else {
		slot = len(scans.slots)
		scans.slots = append(scans.slots, nil)
	}
	scans.slots[slot] = state
	scans.mu.Unlock()
	return state, C.uintptr_t(slot + 1)
}

func endScan(h C.uintptr_t) {
	scans.mu.Lock()
	scans.slots[h-1] = nil
	scans.free = append(scans.free, int(h-1))
	scans.mu.Unlock()
}

func scanOf(h C.uintptr_t) *scanState {
	scans.mu.Lock()
	state := scans.slots[h-1]
	scans.mu.Unlock()
	return state
}

//export mantisGoScan
func mantisGoScan(h C.uintptr_t, k *C.char, klen C.size_t, v *C.char, vlen C.size_t) (more C.int) {
	state := scanOf(h)
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

// mantisGoScanBatch calls fn for each entry of a batch copied by the shim (see mantis_go_scan in
// shim.h: per entry the key and value lengths, 8 bytes each, little-endian, then the key and the
// value, padded to 8 bytes). One C-to-Go call per batch instead of one per entry: that call costs
// about as much as reading a 100-byte entry and copying it.
//
//export mantisGoScanBatch
func mantisGoScanBatch(h C.uintptr_t, buf *C.char, n C.size_t) (more C.int) {
	state := scanOf(h)
	defer func() {
		if r := recover(); r != nil {
			state.panic = r
			more = 0
		}
	}()
	b := unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(n))
	for len(b) >= 16 {
		klen := int(binary.LittleEndian.Uint64(b))
		vlen := int(binary.LittleEndian.Uint64(b[8:]))
		end := 16 + klen + vlen
		// Full slice expressions: an append by fn cannot spill into the next entry.
		if !state.fn(b[16:16+klen:16+klen], b[16+klen:end:end]) {
			return 0
		}
		b = b[(end+7)&^7:]
	}
	return 1
}

// Scan calls fn for each live key in [begin, end), in byte order, until fn returns false; an empty
// end means "to the last key" (as Engine::scan). key and value are views valid only during the call
// (copy them to keep them); fn must not modify them. fn may call other DB methods, but Close
// returns ErrBusy from inside it.
func (db *DB) Scan(begin, end []byte, fn func(key, value []byte) bool) error {
	if fn == nil {
		return newError("Scan", ErrInvalidArgument, "fn is nil")
	}
	state, h := newScan(fn)
	defer endScan(h)
	msg := C.mantis_go_scan(db.ch(), cbytes(begin), C.size_t(len(begin)), cbytes(end), C.size_t(len(end)), h)
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
	state, h := newScan(fn)
	defer endScan(h)
	msg := C.mantis_go_scan_prefix(db.ch(), cbytes(prefix), C.size_t(len(prefix)), h)
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
