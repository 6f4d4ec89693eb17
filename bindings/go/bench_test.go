package mantis

import (
	"encoding/binary"
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
