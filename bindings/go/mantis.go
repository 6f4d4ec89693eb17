// Package mantis is the Go binding of mantis, an embeddable concurrent ordered key-value store with
// per-key TTLs, zero-copy reads and a cache tier. It calls the mantis C API (libmantis_c) through cgo;
// build it with PKG_CONFIG_PATH pointing at an installed mantis (lib/pkgconfig/mantis_c.pc).
//
// A DB and a Cache are safe for concurrent use by any number of goroutines. Close is idempotent;
// every later call returns an error wrapping ErrClosed, never a crash. Closing a DB invalidates its
// open iterators (they report ErrClosed). Keys and values are arbitrary bytes; empty keys and values
// are valid. Every value returned by Get, MultiGet or an Iterator is a copy owned by Go; View hands
// out a zero-copy slice, Scan and ScanPrefix slices of a buffer they reuse (a large entry zero-copy),
// all valid only inside their callback.
package mantis

/*
#cgo pkg-config: mantis_c
#include "shim.h"
*/
import "C"

import (
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"
)

// Sentinel errors, one per mantis status code. Every error returned by this package wraps one of
// them (test with errors.Is) and carries the library's message.
var (
	ErrNotFound          = errors.New("mantis: not found")
	ErrInvalidArgument   = errors.New("mantis: invalid argument")
	ErrIO                = errors.New("mantis: I/O error")
	ErrCorruption        = errors.New("mantis: corruption")
	ErrBusy              = errors.New("mantis: busy")
	ErrResourceExhausted = errors.New("mantis: resource exhausted")
	ErrNotSupported      = errors.New("mantis: not supported")
	ErrClosed            = errors.New("mantis: closed")
	ErrConditionFailed   = errors.New("mantis: condition failed") // a conditional write's condition did not hold: nothing was written
	ErrConflict          = errors.New("mantis: conflict")         // a transaction's commit found a key it read written since its snapshot: nothing was written
)

// sentinel maps the C API's error code to its sentinel error.
func sentinel(code C.mantis_code_t) error {
	switch code {
	case C.MANTIS_NOT_FOUND:
		return ErrNotFound
	case C.MANTIS_INVALID_ARGUMENT:
		return ErrInvalidArgument
	case C.MANTIS_CORRUPTION:
		return ErrCorruption
	case C.MANTIS_BUSY:
		return ErrBusy
	case C.MANTIS_RESOURCE_EXHAUSTED:
		return ErrResourceExhausted
	case C.MANTIS_NOT_SUPPORTED:
		return ErrNotSupported
	case C.MANTIS_CLOSED:
		return ErrClosed
	case C.MANTIS_CONDITION_FAILED:
		return ErrConditionFailed
	case C.MANTIS_CONFLICT:
		return ErrConflict
	default:
		return ErrIO
	}
}

// Error is a failure reported by mantis. Op is the method that failed ("Put", "Cache.Get"), Code one
// of the sentinel errors, Message the library's explanation ("the database is closed"). Error()
// reads "mantis: Put: the database is closed".
type Error struct {
	Op      string
	Code    error
	Message string
}

func (e *Error) Error() string { return "mantis: " + e.Op + ": " + e.Message }

// Unwrap returns the sentinel error, so that errors.Is(err, ErrClosed) works.
func (e *Error) Unwrap() error { return e.Code }

// newError is an error detected by the binding itself.
func newError(op string, code error, message string) error {
	return &Error{Op: op, Code: code, Message: message}
}

// takeError converts and frees a message from the C API; nil when there is none. The C API writes
// "<Code>: <C function>: <text>" (or "<Code>: <text>"); the code becomes Error.Code and the C
// function's name gives way to op, the Go method's name.
func takeError(op string, msg *C.char) error {
	if msg == nil {
		return nil
	}
	code := sentinel(C.mantis_error_code(msg))
	text := C.GoString(msg)
	C.mantis_free(unsafe.Pointer(msg))
	return newError(op, code, stripPrefix(stripPrefix(text, ""), "mantis_"))
}

// stripPrefix removes a leading "<word>: " from text when the word starts with `start` and holds no
// space (a code name, or a C function name with start "mantis_").
func stripPrefix(text, start string) string {
	i := strings.Index(text, ": ")
	if i <= 0 || !strings.HasPrefix(text, start) || strings.ContainsRune(text[:i], ' ') {
		return text
	}
	return text[i+2:]
}

// cbytes returns a C pointer to b's bytes without copying (nil for an empty slice, which the C API
// accepts with length 0). The caller keeps b alive for the duration of the C call.
func cbytes(b []byte) *C.char {
	if len(b) == 0 {
		return nil
	}
	return (*C.char)(unsafe.Pointer(&b[0]))
}

// milliseconds rounds a positive duration up to whole milliseconds, so that a TTL of 1µs does not
// become 0 (no expiry). Negative durations stay negative and are refused by the library.
func milliseconds(d time.Duration) C.int64_t {
	if d > 0 {
		return C.int64_t((d + time.Millisecond - 1) / time.Millisecond)
	}
	return C.int64_t(d / time.Millisecond)
}

// Durability says how writes reach stable storage (only with a directory).
type Durability int

// Durability modes. The zero value is DurabilityAsync, the library's default.
const (
	DurabilityAsync    Durability = iota // every write reaches the OS before it returns
	DurabilityNone                       // no write-ahead log: data persists only through snapshots
	DurabilitySync                       // every write is also fdatasync'ed (group commit)
	DurabilityPeriodic                   // fdatasync every Options.SyncInterval
)

// Admission is the cache admission policy.
type Admission int

// Admission policies. The zero value, AdmissionDefault, is the library's default: AdmissionAdaptive.
const (
	AdmissionDefault  Admission = iota // the library's default (AdmissionAdaptive)
	AdmissionAlways                    // plain approximate LRU
	AdmissionTinyLFU                   // a frequency sketch decides whether a newcomer may displace the victim
	AdmissionAdaptive                  // W-TinyLFU: an admission window sized by ghost hits, then a frequency-guarded segmented LRU
)

// setAdmission passes a policy other than AdmissionDefault to set (the C API's numbering is the Go
// constants' minus one; an unknown value stays unknown, so the C API refuses it).
func setAdmission(a Admission, set func(C.int)) {
	if a != AdmissionDefault {
		set(C.int(a - 1))
	}
}

// NoCache disables the cache tier (Options.CacheCapacity); NoReaper turns the background TTL sweep
// off (Options.ReaperInterval), leaving lazy expiry only.
const (
	NoCache  = -1
	NoReaper = time.Duration(-1)
)

// Options configure Open. The zero value of every field means the library's default.
type Options struct {
	ErrorIfMissing bool          // fail if the directory does not exist (default: create it)
	ErrorIfExists  bool          // fail if the directory already holds a database
	Durability     Durability    // default DurabilityAsync
	SyncInterval   time.Duration // DurabilityPeriodic only; default 1s
	CacheCapacity  int64         // bytes of cache tier; default 0 (off); NoCache also disables it
	CacheAdmission Admission     // default AdmissionDefault (AdmissionAdaptive)
	ReaperInterval time.Duration // background TTL sweep; default 100ms; NoReaper = lazy only
	MaxKeySize     int64         // default 64 KiB
	MaxValueSize   int64         // default 64 MiB
}

var durabilities = map[Durability]C.int{
	DurabilityNone: C.MANTIS_DURABILITY_NONE, DurabilityAsync: C.MANTIS_DURABILITY_ASYNC,
	DurabilitySync: C.MANTIS_DURABILITY_SYNC, DurabilityPeriodic: C.MANTIS_DURABILITY_PERIODIC,
}

func sizeOption(op, name string, v int64) (C.size_t, error) {
	if v < 0 {
		return 0, newError(op, ErrInvalidArgument, name+" must not be negative")
	}
	return C.size_t(v), nil
}

// apply copies the non-zero fields into C options; bad values are reported here or by mantis_open.
func (o *Options) apply(c *C.mantis_options_t) error {
	C.mantis_options_set_create_if_missing(c, boolByte(!o.ErrorIfMissing))
	C.mantis_options_set_error_if_exists(c, boolByte(o.ErrorIfExists))
	durability, ok := durabilities[o.Durability]
	if !ok {
		durability = C.int(-1) // refused by mantis_open, which names the field
	}
	C.mantis_options_set_durability(c, durability)
	if o.SyncInterval != 0 {
		C.mantis_options_set_sync_interval(c, milliseconds(o.SyncInterval))
	}
	switch {
	case o.CacheCapacity == NoCache:
		C.mantis_options_set_cache_capacity(c, 0)
	case o.CacheCapacity != 0:
		v, err := sizeOption("Open", "Options.CacheCapacity", o.CacheCapacity)
		if err != nil {
			return err
		}
		C.mantis_options_set_cache_capacity(c, v)
	}
	setAdmission(o.CacheAdmission, func(v C.int) { C.mantis_options_set_cache_admission(c, v) })
	switch {
	case o.ReaperInterval == NoReaper:
		C.mantis_options_set_reaper_interval(c, 0)
	case o.ReaperInterval != 0:
		C.mantis_options_set_reaper_interval(c, milliseconds(o.ReaperInterval))
	}
	if o.MaxKeySize != 0 {
		v, err := sizeOption("Open", "Options.MaxKeySize", o.MaxKeySize)
		if err != nil {
			return err
		}
		C.mantis_options_set_max_key_size(c, v)
	}
	if o.MaxValueSize != 0 {
		v, err := sizeOption("Open", "Options.MaxValueSize", o.MaxValueSize)
		if err != nil {
			return err
		}
		C.mantis_options_set_max_value_size(c, v)
	}
	return nil
}

func boolByte(b bool) C.uint8_t {
	if b {
		return 1
	}
	return 0
}

// handleOf passes a C handle as the integer the shim's hot calls take (mantis_go_handle in shim.h),
// which cgo neither checks nor boxes.
func handleOf(h unsafe.Pointer) C.mantis_go_handle { return C.mantis_go_handle(uintptr(h)) }

// ch is db's handle for the shim's hot calls.
func (db *DB) ch() C.mantis_go_handle { return handleOf(unsafe.Pointer(db.h)) }

// DB is an open mantis engine. Safe for concurrent use by any number of goroutines.
type DB struct {
	h *C.mantis_t // immutable; freed by the finalizer once nothing references the DB
}

// Open opens an engine. dir "" means memory only (no files at all); otherwise the engine is durable
// in dir (write-ahead log and snapshots, Options.Durability), and a second Open of the same dir is
// ErrBusy while the first is open. opts nil means the defaults.
func Open(dir string, opts *Options) (*DB, error) {
	copts := C.mantis_options_create()
	if copts == nil {
		return nil, newError("Open", ErrResourceExhausted, "out of memory")
	}
	defer C.mantis_options_destroy(copts)
	if dir != "" {
		if strings.IndexByte(dir, 0) >= 0 {
			return nil, newError("Open", ErrInvalidArgument, "dir contains a NUL byte")
		}
		cdir := C.CString(dir)
		C.mantis_options_set_dir(copts, cdir)
		C.free(unsafe.Pointer(cdir))
	}
	if opts != nil {
		if err := opts.apply(copts); err != nil {
			return nil, err
		}
	}
	var msg *C.char
	h := C.mantis_open(copts, &msg)
	if err := takeError("Open", msg); err != nil {
		return nil, err
	}
	db := &DB{h: h}
	// The handle is freed once the DB is unreachable: Close only closes, so that calls racing with
	// Close (or made after it) find a valid handle and report ErrClosed.
	runtime.SetFinalizer(db, func(db *DB) { C.mantis_destroy(db.h) })
	return db, nil
}

// Close closes the engine: later calls return ErrClosed, open iterators become invalid. Calls
// already running finish first. Idempotent. Calling it from inside a Scan callback returns ErrBusy.
func (db *DB) Close() error {
	msg := C.mantis_go_close(db.ch())
	runtime.KeepAlive(db)
	return takeError("Close", msg)
}

// Put inserts or replaces key -> value.
func (db *DB) Put(key, value []byte) error {
	msg := C.mantis_go_put(db.ch(), cbytes(key), C.size_t(len(key)), cbytes(value), C.size_t(len(value)))
	runtime.KeepAlive(db)
	return takeError("Put", msg)
}

// PutTTL inserts or replaces key -> value, expiring after ttl (rounded up to whole milliseconds;
// 0 = never).
func (db *DB) PutTTL(key, value []byte, ttl time.Duration) error {
	msg := C.mantis_go_put_ttl(db.ch(), cbytes(key), C.size_t(len(key)), cbytes(value), C.size_t(len(value)), milliseconds(ttl))
	runtime.KeepAlive(db)
	return takeError("PutTTL", msg)
}

// smallValue is the size of the scratch buffer Get offers the C side: values that fit come back in
// one cgo call.
const smallValue = 256

// getScratch holds Get's scratch buffers. The C side copies a value into one, and Get returns a copy
// of exactly the value's size: one allocation of the value's size per call, instead of a fresh
// smallValue-byte buffer that the value would keep alive (2.6x the garbage for a 100-byte value).
var getScratch = sync.Pool{New: func() interface{} { return new([smallValue]byte) }}

// Get returns a copy of the value. A missing or expired key returns an error wrapping ErrNotFound.
func (db *DB) Get(key []byte) ([]byte, error) {
	scratch := getScratch.Get().(*[smallValue]byte)
	r := C.mantis_go_get(db.ch(), cbytes(key), C.size_t(len(key)), (*C.char)(unsafe.Pointer(scratch)), smallValue)
	runtime.KeepAlive(db)
	v, err := finishGet(&r, scratch, "Get")
	getScratch.Put(scratch)
	return v, err
}

// finishGet turns mantis_go_get's result into Get's: a copy of the value out of scratch, or out of
// the pinned value when it did not fit.
func finishGet(r *C.mantis_go_get_result, scratch *[smallValue]byte, op string) ([]byte, error) {
	if err := takeError(op, r.err); err != nil {
		return nil, err
	}
	if r.found == 0 {
		return nil, notFound(op)
	}
	size := int(r.vallen)
	if r.big != nil {
		buf := make([]byte, size)
		C.mantis_go_value_take(r.big, cbytes(buf))
		return buf, nil
	}
	// Appending to nil allocates without zeroing what the copy overwrites (make would zero it
	// first); an empty value is a non-nil empty slice, as before.
	return append([]byte{}, scratch[:size]...), nil
}

func notFound(op string) error { return newError(op, ErrNotFound, "key not found") }

// View calls fn with the value's bytes without copying them. v is valid only until fn returns and
// must not be modified. A missing key returns ErrNotFound without calling fn; fn's error is returned.
func (db *DB) View(key []byte, fn func(v []byte) error) error {
	r := C.mantis_go_get_pinned(db.ch(), cbytes(key), C.size_t(len(key)))
	runtime.KeepAlive(db)
	if err := takeError("View", r.err); err != nil {
		return err
	}
	if r.value == nil {
		return notFound("View")
	}
	defer C.mantis_value_destroy(r.value)
	return fn(unsafe.Slice((*byte)(unsafe.Pointer(r.data)), int(r.vallen)))
}

// Has reports whether key is present and unexpired.
func (db *DB) Has(key []byte) (bool, error) {
	r := C.mantis_go_contains(db.ch(), cbytes(key), C.size_t(len(key)))
	runtime.KeepAlive(db)
	if err := takeError("Has", r.err); err != nil {
		return false, err
	}
	return r.value != 0, nil
}

// Delete removes key; a missing key is not an error.
func (db *DB) Delete(key []byte) error {
	msg := C.mantis_go_erase(db.ch(), cbytes(key), C.size_t(len(key)))
	runtime.KeepAlive(db)
	return takeError("Delete", msg)
}

// MultiGet looks up every key in one cgo call. The result has one entry per key: a Go-owned copy
// of the value, or nil for a missing key (an empty value is a non-nil empty slice).
func (db *DB) MultiGet(keys [][]byte) ([][]byte, error) {
	n := len(keys)
	if n == 0 {
		return [][]byte{}, nil
	}
	total := 0
	for _, k := range keys {
		total += len(k)
	}
	keybuf := make([]byte, 0, total)
	keylens := make([]C.size_t, n)
	for i, k := range keys {
		keybuf = append(keybuf, k...)
		keylens[i] = C.size_t(len(k))
	}
	values := make([]*C.char, n)
	vallens := make([]C.size_t, n)
	var msg *C.char
	C.mantis_go_multi_get(db.h, cbytes(keybuf), &keylens[0], C.size_t(n), &values[0], &vallens[0], &msg)
	runtime.KeepAlive(db)
	if err := takeError("MultiGet", msg); err != nil {
		return nil, err
	}
	out := make([][]byte, n)
	for i, v := range values {
		if v != nil {
			out[i] = C.GoBytes(unsafe.Pointer(v), C.int(vallens[i]))
		}
	}
	C.mantis_go_free_all(&values[0], C.size_t(n))
	return out, nil
}

// Write applies a batch in one cgo call. Every operation is checked first: an invalid one fails
// the whole batch and nothing is applied.
func (db *DB) Write(b *Batch) error {
	if b == nil {
		return newError("Write", ErrInvalidArgument, "batch is nil")
	}
	msg := C.mantis_go_write(db.ch(), cbytes(b.rep), C.size_t(len(b.rep)))
	runtime.KeepAlive(db)
	return takeError("Write", msg)
}

// Expire sets key's time to live to ttl from now (0 expires it at once). ErrNotFound if absent.
func (db *DB) Expire(key []byte, ttl time.Duration) error {
	var msg *C.char
	found := C.mantis_expire(db.h, cbytes(key), C.size_t(len(key)), milliseconds(ttl), &msg)
	runtime.KeepAlive(db)
	if err := takeError("Expire", msg); err != nil {
		return err
	}
	if found == 0 {
		return notFound("Expire")
	}
	return nil
}

// Persist removes key's time to live. ErrNotFound if absent.
func (db *DB) Persist(key []byte) error {
	var msg *C.char
	found := C.mantis_persist(db.h, cbytes(key), C.size_t(len(key)), &msg)
	runtime.KeepAlive(db)
	if err := takeError("Persist", msg); err != nil {
		return err
	}
	if found == 0 {
		return notFound("Persist")
	}
	return nil
}

// TTL returns the time key has left; ok is false when the key has no TTL. ErrNotFound if absent.
func (db *DB) TTL(key []byte) (remaining time.Duration, ok bool, err error) {
	var ms C.int64_t
	var msg *C.char
	r := C.mantis_ttl(db.h, cbytes(key), C.size_t(len(key)), &ms, &msg)
	runtime.KeepAlive(db)
	if err := takeError("TTL", msg); err != nil {
		return 0, false, err
	}
	switch r {
	case 1:
		return time.Duration(ms) * time.Millisecond, true, nil
	case 0:
		return 0, false, nil
	}
	return 0, false, notFound("TTL")
}

// Size returns the approximate number of keys.
func (db *DB) Size() (int64, error) {
	var msg *C.char
	n := C.mantis_size(db.h, &msg)
	runtime.KeepAlive(db)
	if err := takeError("Size", msg); err != nil {
		return 0, err
	}
	return int64(n), nil
}

// Clear removes every key.
func (db *DB) Clear() error {
	var msg *C.char
	C.mantis_clear(db.h, &msg)
	runtime.KeepAlive(db)
	return takeError("Clear", msg)
}

// Sync makes everything written so far durable. A memory-only engine returns ErrNotSupported.
func (db *DB) Sync() error {
	var msg *C.char
	C.mantis_sync(db.h, &msg)
	runtime.KeepAlive(db)
	return takeError("Sync", msg)
}

// Checkpoint writes a snapshot now. A memory-only engine returns ErrNotSupported.
func (db *DB) Checkpoint() error {
	var msg *C.char
	C.mantis_checkpoint(db.h, &msg)
	runtime.KeepAlive(db)
	return takeError("Checkpoint", msg)
}

// Stats is an approximate snapshot of the engine's counters.
type Stats struct {
	Keys    uint64 `json:"keys"`
	Bytes   uint64 `json:"bytes"`
	Puts    uint64 `json:"puts"`
	Gets    uint64 `json:"gets"`
	Hits    uint64 `json:"hits"`
	Misses  uint64 `json:"misses"`
	Erases  uint64 `json:"erases"`
	Expired uint64 `json:"expired"`
	Cache   struct {
		Capacity  uint64  `json:"capacity"`
		Charge    uint64  `json:"charge"`
		Entries   uint64  `json:"entries"`
		Hits      uint64  `json:"hits"`
		Misses    uint64  `json:"misses"`
		Inserts   uint64  `json:"inserts"`
		Evictions uint64  `json:"evictions"`
		HitRatio  float64 `json:"hit_ratio"`
	} `json:"cache"`
	// Recovery: what opening the engine recovered (zero in a memory-only engine): the entries loaded
	// from the snapshot and the log records replayed after it, and how long each took.
	Recovery struct {
		SnapshotEntries uint64  `json:"snapshot_entries"`
		SnapshotSeconds float64 `json:"snapshot_seconds"`
		LogRecords      uint64  `json:"log_records"`
		LogSeconds      float64 `json:"log_seconds"`
	} `json:"recovery"`
	// Latency: sampled distributions (one operation in 64 per thread; the log's figures count every
	// group). Zero where nothing was measured (the log's in a memory-only engine).
	Latency struct {
		Get          Distribution // point reads, in seconds
		Put          Distribution // puts, whole, in seconds
		CommitWait   Distribution // a durable write's time in the log (append, fdatasync if any, apply), in seconds
		Fdatasync    Distribution // each fdatasync that made writes durable, in seconds
		GroupRecords Distribution // records per log group: per group commit (Sync), per fdatasync (Async, Periodic); a count, not seconds
	} `json:"-"`

	json       string
	prometheus string
}

// Distribution is what the engine measured of one quantity: how many samples, their sum, quantiles
// (within about 6% of the true value) and the maximum.
type Distribution struct {
	Count                         uint64
	Sum, P50, P90, P99, P999, Max float64
}

// distribution reads one distribution from the JSON "latency" object: name_p50_seconds, ...,
// name_count (unit "_seconds", or "" for a count).
func distribution(latency map[string]float64, name, unit string) Distribution {
	at := func(field string) float64 { return latency[name+"_"+field+unit] }
	return Distribution{
		Count: uint64(latency[name+"_count"]),
		Sum:   at("sum"), P50: at("p50"), P90: at("p90"), P99: at("p99"), P999: at("p999"), Max: at("max"),
	}
}

// JSON returns the snapshot as the library's JSON object.
func (s *Stats) JSON() string { return s.json }

// Prometheus returns the counters in the Prometheus text exposition format (prefix mantis_). It is
// taken right after the JSON snapshot, so counters may differ slightly.
func (s *Stats) Prometheus() string { return s.prometheus }

// Stats returns a snapshot of the engine's counters.
func (db *DB) Stats() (*Stats, error) {
	var msg *C.char
	cjson := C.mantis_stats_json(db.h, &msg)
	if err := takeError("Stats", msg); err != nil {
		runtime.KeepAlive(db)
		return nil, err
	}
	s := &Stats{json: C.GoString(cjson)}
	C.mantis_free(unsafe.Pointer(cjson))
	cprom := C.mantis_stats_prometheus(db.h, &msg)
	runtime.KeepAlive(db)
	if err := takeError("Stats", msg); err != nil {
		return nil, err
	}
	s.prometheus = C.GoString(cprom)
	C.mantis_free(unsafe.Pointer(cprom))
	var latency struct {
		Latency map[string]float64 `json:"latency"`
	}
	if err := json.Unmarshal([]byte(s.json), s); err != nil {
		return nil, newError("Stats", ErrCorruption, err.Error())
	}
	if err := json.Unmarshal([]byte(s.json), &latency); err != nil {
		return nil, newError("Stats", ErrCorruption, err.Error())
	}
	s.Latency.Get = distribution(latency.Latency, "get", "_seconds")
	s.Latency.Put = distribution(latency.Latency, "put", "_seconds")
	s.Latency.CommitWait = distribution(latency.Latency, "commit_wait", "_seconds")
	s.Latency.Fdatasync = distribution(latency.Latency, "fdatasync", "_seconds")
	s.Latency.GroupRecords = distribution(latency.Latency, "group_records", "")
	return s, nil
}

// Version returns the version of the mantis library in use.
func Version() string { return C.GoString(C.mantis_version()) }
