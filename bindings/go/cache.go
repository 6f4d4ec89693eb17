package mantis

// #include "shim.h"
import "C"

import (
	"runtime"
	"time"
	"unsafe"
)

// CacheOptions configure NewCache. The zero value of every field means the library's default.
type CacheOptions struct {
	Capacity  int64     // bytes of charge (key + value + a fixed per-entry overhead); default 64 MiB
	Admission Admission // default AdmissionDefault (AdmissionAdaptive)
	ShardBits int       // 0 = automatic (about 4 shards per CPU); n > 0: 2^n shards (at most 2^16); OneShard: 1
}

// OneShard as CacheOptions.ShardBits gives the cache a single shard.
const OneShard = -1

// Cache is a standalone, byte-bounded, sharded cache with per-entry TTLs (mantis::Cache). Safe for
// concurrent use by any number of goroutines. A miss is never an error other than ErrNotFound.
type Cache struct {
	h *C.mantis_cache_t // immutable; freed by the finalizer once nothing references the Cache
}

// NewCache creates a cache. It returns an error for invalid options (a negative capacity, an
// unknown admission policy).
func NewCache(opts CacheOptions) (*Cache, error) {
	copts := C.mantis_cache_options_create()
	if copts == nil {
		return nil, newError("NewCache", ErrResourceExhausted, "out of memory")
	}
	defer C.mantis_cache_options_destroy(copts)
	if opts.Capacity != 0 {
		v, err := sizeOption("NewCache", "CacheOptions.Capacity", opts.Capacity)
		if err != nil {
			return nil, err
		}
		C.mantis_cache_options_set_capacity(copts, v)
	}
	setAdmission(opts.Admission, func(v C.int) { C.mantis_cache_options_set_admission(copts, v) })
	switch {
	case opts.ShardBits == OneShard:
		C.mantis_cache_options_set_shard_bits(copts, 0)
	case opts.ShardBits > 0:
		C.mantis_cache_options_set_shard_bits(copts, C.int(opts.ShardBits))
	case opts.ShardBits < 0:
		return nil, newError("NewCache", ErrInvalidArgument, "CacheOptions.ShardBits must be >= 0 or OneShard")
	}
	var msg *C.char
	h := C.mantis_cache_create(copts, &msg)
	if err := takeError("NewCache", msg); err != nil {
		return nil, err
	}
	c := &Cache{h: h}
	runtime.SetFinalizer(c, func(c *Cache) { C.mantis_cache_destroy(c.h) })
	return c, nil
}

// Close releases the cache's memory; later calls return ErrClosed. Idempotent.
func (c *Cache) Close() error {
	var msg *C.char
	C.mantis_cache_close(c.h, &msg)
	runtime.KeepAlive(c)
	return takeError("Cache.Close", msg)
}

// Put inserts or replaces key -> value, evicting least recently used entries of its shard to fit.
func (c *Cache) Put(key, value []byte) error { return c.put("Cache.Put", key, value, 0) }

// PutTTL is Put with a time to live (rounded up to whole milliseconds; 0 = never).
func (c *Cache) PutTTL(key, value []byte, ttl time.Duration) error {
	return c.put("Cache.PutTTL", key, value, ttl)
}

func (c *Cache) put(op string, key, value []byte, ttl time.Duration) error {
	var msg *C.char
	C.mantis_cache_put(c.h, cbytes(key), C.size_t(len(key)), cbytes(value), C.size_t(len(value)), milliseconds(ttl), &msg)
	runtime.KeepAlive(c)
	return takeError(op, msg)
}

// Get returns a copy of the value; ErrNotFound on a miss.
func (c *Cache) Get(key []byte) ([]byte, error) {
	scratch := getScratch.Get().(*[smallValue]byte)
	r := C.mantis_go_cache_get(handleOf(unsafe.Pointer(c.h)), cbytes(key), C.size_t(len(key)), (*C.char)(unsafe.Pointer(scratch)), smallValue)
	runtime.KeepAlive(c)
	v, err := finishGet(&r, scratch, "Cache.Get")
	getScratch.Put(scratch)
	return v, err
}

// Delete removes key and reports whether it was present.
func (c *Cache) Delete(key []byte) (bool, error) {
	var msg *C.char
	found := C.mantis_cache_erase(c.h, cbytes(key), C.size_t(len(key)), &msg)
	runtime.KeepAlive(c)
	if err := takeError("Cache.Delete", msg); err != nil {
		return false, err
	}
	return found != 0, nil
}

// DeletePrefix removes every key starting with prefix and returns how many were removed.
func (c *Cache) DeletePrefix(prefix []byte) (int, error) {
	var msg *C.char
	n := C.mantis_cache_erase_prefix(c.h, cbytes(prefix), C.size_t(len(prefix)), &msg)
	runtime.KeepAlive(c)
	if err := takeError("Cache.DeletePrefix", msg); err != nil {
		return 0, err
	}
	return int(n), nil
}

// Clear removes every entry.
func (c *Cache) Clear() error {
	var msg *C.char
	C.mantis_cache_clear(c.h, &msg)
	runtime.KeepAlive(c)
	return takeError("Cache.Clear", msg)
}

// Len returns the number of entries held (expired ones included until removed).
func (c *Cache) Len() (int, error) {
	var msg *C.char
	n := C.mantis_cache_entries(c.h, &msg)
	runtime.KeepAlive(c)
	return int(n), takeError("Cache.Len", msg)
}

// Charge returns the bytes charged by the entries held.
func (c *Cache) Charge() (int64, error) {
	var msg *C.char
	n := C.mantis_cache_charge(c.h, &msg)
	runtime.KeepAlive(c)
	return int64(n), takeError("Cache.Charge", msg)
}

// Capacity returns the configured capacity in bytes.
func (c *Cache) Capacity() (int64, error) {
	var msg *C.char
	n := C.mantis_cache_capacity(c.h, &msg)
	runtime.KeepAlive(c)
	return int64(n), takeError("Cache.Capacity", msg)
}

// CacheStats is a snapshot of a cache's counters.
type CacheStats struct {
	Hits, Misses, Inserts, Evictions, Expired uint64
	HitRatio                                  float64
}

// Stats returns a snapshot of the cache's counters.
func (c *Cache) Stats() (CacheStats, error) {
	var msg *C.char
	s := C.mantis_cache_stats_create(c.h, &msg)
	runtime.KeepAlive(c)
	if err := takeError("Cache.Stats", msg); err != nil {
		return CacheStats{}, err
	}
	defer C.mantis_cache_stats_destroy(s)
	return CacheStats{
		Hits:      uint64(C.mantis_cache_stats_hits(s)),
		Misses:    uint64(C.mantis_cache_stats_misses(s)),
		Inserts:   uint64(C.mantis_cache_stats_inserts(s)),
		Evictions: uint64(C.mantis_cache_stats_evictions(s)),
		Expired:   uint64(C.mantis_cache_stats_expired(s)),
		HitRatio:  float64(C.mantis_cache_stats_hit_ratio(s)),
	}, nil
}
