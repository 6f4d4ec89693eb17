package main

/*
#cgo pkg-config: mantis_c
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <mantis/mantis.h>

static void pb_empty(void) {}

static int64_t pb_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

// A Get as the binding's shim does it (mantis_go_get): pin the value, copy it out, unpin it.
// Returns the value's size, or -1 if the key is absent or on error.
static long pb_get_one(mantis_t* db, const char* key, size_t keylen, char* buf, size_t cap) {
  char* err = NULL;
  mantis_value_t* v = mantis_get_pinned(db, key, keylen, &err);
  if (err != NULL) {
    mantis_free(err);
    return -1;
  }
  if (v == NULL) return -1;
  size_t n = mantis_value_size(v);
  if (n <= cap) memcpy(buf, mantis_value_data(v), n);
  mantis_value_destroy(v);
  return (long)n;
}

static int pb_put_one(mantis_t* db, const char* key, size_t keylen, const char* val, size_t vallen) {
  char* err = NULL;
  mantis_put(db, NULL, key, keylen, val, vallen, &err);
  if (err != NULL) {
    mantis_free(err);
    return -1;
  }
  return 0;
}

static int pb_visit(void* ctx, const char* key, size_t keylen, const char* value, size_t vallen) {
  (void)key;
  (void)keylen;
  int64_t* count = (int64_t*)ctx;
  if (vallen > 0 && value[0] != 0) ++*count;  // touches the value, as the Go callbacks do
  return 1;
}

// A prefix scan visiting every entry; returns the number of entries, -1 on error.
static int64_t pb_scan_one(mantis_t* db, const char* prefix, size_t prefixlen) {
  char* err = NULL;
  int64_t count = 0;
  mantis_scan_prefix(db, prefix, prefixlen, pb_visit, &count, &err);
  if (err != NULL) {
    mantis_free(err);
    return -1;
  }
  return count;
}

// The same operations in a loop in C, timed in C: no cgo call per operation. keys holds 16-byte
// keys back to back; idx[i] picks the key of operation i. Each returns nanoseconds and counts
// operations that failed or returned something unexpected in *bad.
static int64_t pb_get_loop(mantis_t* db, const char* keys, const uint32_t* idx, size_t n, char* buf, size_t cap,
                           int64_t* bad) {
  int64_t start = pb_now();
  for (size_t i = 0; i < n; ++i) {
    if (pb_get_one(db, keys + (size_t)idx[i] * 16, 16, buf, cap) != 100) ++*bad;
  }
  return pb_now() - start;
}

static int64_t pb_put_loop(mantis_t* db, const char* keys, const uint32_t* idx, size_t n, const char* val,
                           size_t vallen, int64_t* bad) {
  int64_t start = pb_now();
  for (size_t i = 0; i < n; ++i) {
    if (pb_put_one(db, keys + (size_t)idx[i] * 16, 16, val, vallen) != 0) ++*bad;
  }
  return pb_now() - start;
}

static int64_t pb_scan_loop(mantis_t* db, const char* keys, const uint32_t* idx, size_t n, size_t prefixlen,
                            int64_t want, int64_t* bad) {
  int64_t start = pb_now();
  for (size_t i = 0; i < n; ++i) {
    if (pb_scan_one(db, keys + (size_t)idx[i] * 16, prefixlen) != want) ++*bad;
  }
  return pb_now() - start;
}
*/
import "C"

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unsafe"

	"mantis.dev/mantis"
)

// handleOf returns the C handle of a DB: the first and only field of mantis.DB. Only this benchmark
// reaches inside the binding, to run the C API on the very engine the binding uses; measureOverhead
// checks the handle against the binding before using it.
func handleOf(db *mantis.DB) *C.mantis_t { return *(**C.mantis_t)(unsafe.Pointer(db)) }

// overheadCase is one operation measured four ways: an empty cgo call, the C API in a C loop, one
// cgo call per operation into the same C code (no binding), and the binding's method.
type overheadCase struct {
	name    string
	idx     []uint32 // operation i uses key idx[i]
	c       func(idx []uint32, bad *C.int64_t) C.int64_t
	rawCgo  func(key []byte) bool
	binding func(key []byte) bool
}

const overheadRounds = 7

func measureOverhead(db *mantis.DB, t *keyTable) error {
	h := handleOf(db)
	size, err := db.Size()
	if err != nil {
		return err
	}
	if n := int64(C.mantis_size(h, nil)); n != size {
		return fmt.Errorf("the C handle taken from mantis.DB reports %d keys, the binding %d: mantis.DB's layout changed", n, size)
	}
	n := len(t.keys)
	ops := 200000
	if *flagQuick {
		ops = 2000
	}
	seq := func(count, span, step int, seed uint64) []uint32 {
		r := &rng{s: seed}
		idx := make([]uint32, count)
		for i := range idx {
			idx[i] = uint32(r.intn(span/step) * step)
		}
		return idx
	}
	hot := 1024
	if hot > n {
		hot = n
	}
	keys := (*C.char)(unsafe.Pointer(&t.bytes[0]))
	buf := make([]byte, 256)
	value := fillValue(make([]byte, valueSize), t.keys[0])
	cases := []overheadCase{
		{
			name: fmt.Sprintf("Get, %d hot keys", hot), idx: seq(ops, hot, 1, 11),
			c: func(idx []uint32, bad *C.int64_t) C.int64_t {
				return C.pb_get_loop(h, keys, (*C.uint32_t)(&idx[0]), C.size_t(len(idx)), (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf)), bad)
			},
			rawCgo: func(k []byte) bool {
				return C.pb_get_one(h, (*C.char)(unsafe.Pointer(&k[0])), C.size_t(len(k)), (*C.char)(unsafe.Pointer(&buf[0])), C.size_t(len(buf))) == valueSize
			},
			binding: func(k []byte) bool { v, err := db.Get(k); return err == nil && len(v) == valueSize },
		},
		{
			name: fmt.Sprintf("Get, all %d keys", n), idx: seq(ops, n, 1, 12),
		},
		{
			name: fmt.Sprintf("Put, %d hot keys", hot), idx: seq(ops, hot, 1, 13),
			c: func(idx []uint32, bad *C.int64_t) C.int64_t {
				return C.pb_put_loop(h, keys, (*C.uint32_t)(&idx[0]), C.size_t(len(idx)), (*C.char)(unsafe.Pointer(&value[0])), C.size_t(len(value)), bad)
			},
			rawCgo: func(k []byte) bool {
				return C.pb_put_one(h, (*C.char)(unsafe.Pointer(&k[0])), C.size_t(len(k)), (*C.char)(unsafe.Pointer(&value[0])), C.size_t(len(value))) == 0
			},
			binding: func(k []byte) bool { return db.Put(k, value) == nil },
		},
		{
			name: fmt.Sprintf("ScanPrefix, %d keys", scanKeys), idx: seq(ops/20, n, scanKeys, 14),
			c: func(idx []uint32, bad *C.int64_t) C.int64_t {
				return C.pb_scan_loop(h, keys, (*C.uint32_t)(&idx[0]), C.size_t(len(idx)), prefixLen, scanKeys, bad)
			},
			rawCgo: func(k []byte) bool {
				return C.pb_scan_one(h, (*C.char)(unsafe.Pointer(&k[0])), prefixLen) == scanKeys
			},
			binding: func(k []byte) bool {
				count := 0
				err := db.ScanPrefix(k[:prefixLen], func(_, v []byte) bool {
					if len(v) > 0 && v[0] != 0 {
						count++
					}
					return true
				})
				return err == nil && count == scanKeys
			},
		},
	}
	cases[1].c, cases[1].rawCgo, cases[1].binding = cases[0].c, cases[0].rawCgo, cases[0].binding

	samples := map[string]map[string][]float64{}
	for round := 0; round < overheadRounds; round++ {
		for _, oc := range cases {
			if samples[oc.name] == nil {
				samples[oc.name] = map[string][]float64{}
			}
			m := samples[oc.name]
			ops := float64(len(oc.idx))
			start := time.Now()
			for range oc.idx {
				C.pb_empty()
			}
			m["empty cgo call"] = append(m["empty cgo call"], float64(time.Since(start).Nanoseconds())/ops)
			var bad C.int64_t
			ns := oc.c(oc.idx, &bad)
			if bad != 0 {
				return fmt.Errorf("%s: %d operations failed in the C loop", oc.name, bad)
			}
			m["C API from C"] = append(m["C API from C"], float64(ns)/ops)
			for _, variant := range []struct {
				name string
				fn   func([]byte) bool
			}{{"raw cgo call", oc.rawCgo}, {"binding", oc.binding}} {
				failed := 0
				start = time.Now()
				for _, i := range oc.idx {
					// The key comes from the same table the C loop reads (no slice header in between).
					off := int(i) * keySize
					if !variant.fn(t.bytes[off : off+keySize : off+keySize]) {
						failed++
					}
				}
				if failed != 0 {
					return fmt.Errorf("%s: %d operations failed through the %s", oc.name, failed, variant.name)
				}
				m[variant.name] = append(m[variant.name], float64(time.Since(start).Nanoseconds())/ops)
			}
		}
	}
	for _, oc := range cases {
		for variant, vs := range samples[oc.name] {
			sort.Float64s(vs)
			emit(result{Kind: "overhead", Store: "mantis", Phase: oc.name, Text: variant, NsPerOp: median(vs)})
		}
	}
	return nil
}

var overheadVariants = []string{"empty cgo call", "C API from C", "raw cgo call", "binding"}

func reportOverhead(rs []result) {
	type key struct{ phase, variant string }
	by := map[key][]float64{}
	var phases []string
	for _, r := range rs {
		k := key{r.Phase, r.Text}
		if !contains(phases, r.Phase) {
			phases = append(phases, r.Phase)
		}
		by[k] = append(by[k], r.NsPerOp)
	}
	cellOf := func(vs []float64) string {
		sort.Float64s(vs)
		if len(vs) == 1 {
			return fmt.Sprintf("%.0f", vs[0])
		}
		return fmt.Sprintf("%.0f (%.0f-%.0f)", median(vs), vs[0], vs[len(vs)-1])
	}
	fmt.Printf("\nThe binding's overhead, ns per operation (each run: median of %d rounds; table: median of the runs, low-high).\n"+
		"overhead = binding - C API from C (what a Go caller pays beyond the library's own work);\n"+
		"cgo = raw cgo call - C API from C (the crossing with these arguments); the target is overhead <= 2x the empty cgo call.\n\n",
		overheadRounds)
	fmt.Printf("| operation | %s | overhead | overhead / empty call | cgo | binding's Go side (binding - raw cgo) |\n|---|%s---|---|---|---|\n",
		strings.Join(overheadVariants, " | "), strings.Repeat("---|", len(overheadVariants)))
	for _, p := range phases {
		line := "| " + p + " |"
		for _, v := range overheadVariants {
			line += " " + cellOf(by[key{p, v}]) + " |"
		}
		// Per run: overhead and its ratio to that run's empty call.
		var over, ratio, cgo, goSide []float64
		for i := range by[key{p, "binding"}] {
			if i >= len(by[key{p, "C API from C"}]) || i >= len(by[key{p, "empty cgo call"}]) || i >= len(by[key{p, "raw cgo call"}]) {
				break
			}
			b, c, e, raw := rsAt(rs, p, i)
			over = append(over, b-c)
			ratio = append(ratio, (b-c)/e)
			cgo = append(cgo, raw-c)
			goSide = append(goSide, b-raw)
		}
		sort.Float64s(ratio)
		verdict := "MET"
		if median(ratio) > 2 {
			verdict = "MISSED"
		}
		line += fmt.Sprintf(" %s | %.2fx (%.2f-%.2f) %s | %s | %s |", cellOf(over), median(ratio), ratio[0], ratio[len(ratio)-1],
			verdict, cellOf(cgo), cellOf(goSide))
		fmt.Println(line)
	}
}

// rsAt returns run i's binding, C, empty-call and raw-cgo figures for phase p (runs in order).
func rsAt(rs []result, p string, i int) (binding, c, empty, raw float64) {
	get := func(variant string) float64 {
		j := 0
		for _, r := range rs {
			if r.Phase == p && r.Text == variant {
				if j == i {
					return r.NsPerOp
				}
				j++
			}
		}
		return 0
	}
	return get("binding"), get("C API from C"), get("empty cgo call"), get("raw cgo call")
}
