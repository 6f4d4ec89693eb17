package mantis

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
)

// The benchmarks compare the binding with a Go map behind a sync.RWMutex, the usual in-process
// baseline, in the same run: 100,000 keys of 16 bytes, 100-byte values. Get and MultiGet read keys
// that exist; MultiGet fetches 64 keys per call (one cgo crossing).

const (
	benchKeys      = 100000
	benchValueSize = 100
	benchBatch     = 64
)

func benchKey(i int) []byte {
	k := make([]byte, 16)
	copy(k, "key:")
	binary.BigEndian.PutUint64(k[8:], uint64(i%benchKeys)*2654435761)
	return k
}

var benchValue = make([]byte, benchValueSize)

type lockedMap struct {
	mu sync.RWMutex
	m  map[string][]byte
}

func (l *lockedMap) put(k, v []byte) {
	c := append([]byte(nil), v...)
	l.mu.Lock()
	l.m[string(k)] = c
	l.mu.Unlock()
}

func (l *lockedMap) get(k []byte) []byte {
	l.mu.RLock()
	v, ok := l.m[string(k)]
	l.mu.RUnlock()
	if !ok {
		return nil
	}
	return append([]byte(nil), v...) // a copy, as DB.Get returns
}

func loadedDB(b *testing.B) *DB {
	db := openTest(b, nil)
	for i := 0; i < benchKeys; i++ {
		if err := db.Put(benchKey(i), benchValue); err != nil {
			b.Fatal(err)
		}
	}
	return db
}

func loadedMap() *lockedMap {
	l := &lockedMap{m: make(map[string][]byte, benchKeys)}
	for i := 0; i < benchKeys; i++ {
		l.put(benchKey(i), benchValue)
	}
	return l
}

func keys() [][]byte {
	ks := make([][]byte, benchKeys)
	for i := range ks {
		ks[i] = benchKey(i)
	}
	return ks
}

func BenchmarkPut(b *testing.B) {
	ks := keys()
	b.Run("mantis", func(b *testing.B) {
		db := openTest(b, nil)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if err := db.Put(ks[i%benchKeys], benchValue); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("map+RWMutex", func(b *testing.B) {
		l := &lockedMap{m: make(map[string][]byte)}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			l.put(ks[i%benchKeys], benchValue)
		}
	})
}

func BenchmarkGet(b *testing.B) {
	ks := keys()
	b.Run("mantis", func(b *testing.B) {
		db := loadedDB(b)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if _, err := db.Get(ks[i%benchKeys]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("map+RWMutex", func(b *testing.B) {
		l := loadedMap()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if l.get(ks[i%benchKeys]) == nil {
				b.Fatal("missing")
			}
		}
	})
}

// Parallel reads from all cores: where a shared lock costs the most.
func BenchmarkGetParallel(b *testing.B) {
	ks := keys()
	b.Run("mantis", func(b *testing.B) {
		db := loadedDB(b)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if _, err := db.Get(ks[i%benchKeys]); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("map+RWMutex", func(b *testing.B) {
		l := loadedMap()
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for i := 0; pb.Next(); i++ {
				if l.get(ks[i%benchKeys]) == nil {
					b.Error("missing")
					return
				}
			}
		})
	})
}

// Reported per key (64 keys per call), so the numbers compare with BenchmarkGet.
func BenchmarkMultiGet(b *testing.B) {
	ks := keys()
	b.Run("mantis", func(b *testing.B) {
		db := loadedDB(b)
		b.ResetTimer()
		for i := 0; i < b.N; i += benchBatch {
			start := i % (benchKeys - benchBatch)
			if _, err := db.MultiGet(ks[start : start+benchBatch]); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("map+RWMutex", func(b *testing.B) {
		l := loadedMap()
		out := make([][]byte, benchBatch)
		b.ResetTimer()
		for i := 0; i < b.N; i += benchBatch {
			start := i % (benchKeys - benchBatch)
			l.mu.RLock() // one lock per batch, as a fair batched baseline
			for j, k := range ks[start : start+benchBatch] {
				out[j] = append([]byte(nil), l.m[string(k)]...)
			}
			l.mu.RUnlock()
		}
	})
}

// A prefix scan of 100 keys (10,000 keys "scan:00000000" ... in groups of 100), reading every value:
// reported per scan. The map has no order, so its peer is a sorted slice under the RWMutex, searched
// for the prefix.
func BenchmarkScanPrefix(b *testing.B) {
	const groups = 100
	key := func(i int) []byte { return []byte(fmt.Sprintf("scan:%08d", i)) }
	b.Run("mantis", func(b *testing.B) {
		db := openTest(b, nil)
		for i := 0; i < groups*100; i++ {
			if err := db.Put(key(i), benchValue); err != nil {
				b.Fatal(err)
			}
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			prefix := key((i % groups) * 100)[:11]
			n := 0
			if err := db.ScanPrefix(prefix, func(k, v []byte) bool { n += len(v); return true }); err != nil || n != 100*benchValueSize {
				b.Fatal(err, n)
			}
		}
	})
	b.Run("sorted slice+RWMutex", func(b *testing.B) {
		var mu sync.RWMutex
		keys := make([]string, groups*100)
		values := make([][]byte, len(keys))
		for i := range keys {
			keys[i] = string(key(i))
			values[i] = append([]byte(nil), benchValue...)
		}
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			prefix := string(key((i % groups) * 100)[:11])
			n := 0
			mu.RLock()
			for j := sort.SearchStrings(keys, prefix); j < len(keys) && strings.HasPrefix(keys[j], prefix); j++ {
				n += len(values[j])
			}
			mu.RUnlock()
			if n != 100*benchValueSize {
				b.Fatal(n)
			}
		}
	})
}
