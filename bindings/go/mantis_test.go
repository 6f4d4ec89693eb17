package mantis

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func openTest(t testing.TB, opts *Options) *DB {
	t.Helper()
	db, err := Open("", opts)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func mustOK(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("got error %v, want %v", err, target)
	}
}

func TestVersion(t *testing.T) {
	if v := Version(); len(strings.Split(v, ".")) != 3 {
		t.Fatalf("Version() = %q", v)
	}
}

func TestOpenOptions(t *testing.T) {
	db := openTest(t, &Options{
		Durability: DurabilitySync, SyncInterval: 500 * time.Millisecond, CacheCapacity: NoCache,
		CacheAdmission: AdmissionTinyLFU, ReaperInterval: NoReaper, MaxKeySize: 4, MaxValueSize: 8,
	})
	mustOK(t, db.Put([]byte("1234"), []byte("12345678")))
	wantErr(t, db.Put([]byte("12345"), []byte("v")), ErrInvalidArgument)
	wantErr(t, db.Put([]byte("k"), []byte("123456789")), ErrInvalidArgument)

	for name, opts := range map[string]*Options{
		"durability":     {Durability: Durability(42)},
		"sync interval":  {SyncInterval: -time.Second},
		"reaper":         {ReaperInterval: -5 * time.Second},
		"cache capacity": {CacheCapacity: -7},
		"max key size":   {MaxKeySize: -1},
		"max value size": {MaxValueSize: 1 << 40},
		"admission":      {CacheAdmission: Admission(9)},
	} {
		if _, err := Open("", opts); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("%s: Open returned %v, want ErrInvalidArgument", name, err)
		}
	}
	_, err := Open("bad\x00dir", nil)
	wantErr(t, err, ErrInvalidArgument)
}

func TestDurable(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(dir, &Options{Durability: DurabilitySync})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Put([]byte("durable"), []byte("yes")); err != nil {
		t.Fatal(err)
	}
	if err := db.Checkpoint(); err != nil {
		t.Fatal(err)
	}
	if err := db.Put([]byte("after"), []byte("checkpoint")); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, nil); !errors.Is(err, ErrBusy) {
		t.Fatalf("second Open of a held dir returned %v, want ErrBusy", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for key, want := range map[string]string{"durable": "yes", "after": "checkpoint"} {
		got, err := db.Get([]byte(key))
		if err != nil || string(got) != want {
			t.Errorf("Get(%q) after reopen = %q, %v; want %q", key, got, err, want)
		}
	}
	// The open loaded one entry from the snapshot and replayed one log record after it.
	s, err := db.Stats()
	if err != nil {
		t.Fatal(err)
	}
	if s.Recovery.SnapshotEntries != 1 || s.Recovery.LogRecords != 1 {
		t.Errorf("Stats().Recovery = %+v; want 1 snapshot entry and 1 log record", s.Recovery)
	}
}

func TestPutGetDelete(t *testing.T) {
	db := openTest(t, nil)
	_, err := db.Get([]byte("missing"))
	wantErr(t, err, ErrNotFound)

	mustOK(t, db.Put([]byte("k"), []byte("v1")))
	mustOK(t, db.Put([]byte("k"), []byte("v2")))
	v, err := db.Get([]byte("k"))
	mustOK(t, err)
	if string(v) != "v2" {
		t.Fatalf("Get = %q", v)
	}
	v[0] = 'X' // a Go-owned copy: changing it changes nothing stored
	v, _ = db.Get([]byte("k"))
	if string(v) != "v2" {
		t.Fatalf("Get after modifying a copy = %q", v)
	}

	// Empty key and empty value; binary data; a value larger than Get's first buffer.
	mustOK(t, db.Put(nil, []byte{}))
	v, err = db.Get([]byte{})
	mustOK(t, err)
	if v == nil || len(v) != 0 {
		t.Fatalf("empty value: %v", v)
	}
	bin := []byte{0, 1, 0, 255}
	mustOK(t, db.Put(bin, bin))
	v, _ = db.Get(bin)
	if !bytes.Equal(v, bin) {
		t.Fatalf("binary value: %v", v)
	}
	big := bytes.Repeat([]byte("x"), 100000)
	mustOK(t, db.Put([]byte("big"), big))
	v, _ = db.Get([]byte("big"))
	if !bytes.Equal(v, big) {
		t.Fatalf("big value: %d bytes", len(v))
	}

	ok, err := db.Has([]byte("k"))
	mustOK(t, err)
	if !ok {
		t.Fatal("Has(k) = false")
	}
	mustOK(t, db.Delete([]byte("k")))
	mustOK(t, db.Delete([]byte("k"))) // absent: fine
	ok, _ = db.Has([]byte("k"))
	if ok {
		t.Fatal("Has after Delete = true")
	}
	n, err := db.Size()
	mustOK(t, err)
	if n != 3 {
		t.Fatalf("Size = %d, want 3", n)
	}
	mustOK(t, db.Clear())
	n, _ = db.Size()
	if n != 0 {
		t.Fatalf("Size after Clear = %d", n)
	}
}

func TestView(t *testing.T) {
	db := openTest(t, nil)
	mustOK(t, db.Put([]byte("k"), []byte("value")))
	var seen string
	mustOK(t, db.View([]byte("k"), func(v []byte) error {
		mustOK(t, db.Put([]byte("k"), []byte("other"))) // the view stays pinned
		seen = string(v)
		return nil
	}))
	if seen != "value" {
		t.Fatalf("View saw %q", seen)
	}
	mine := errors.New("mine")
	if err := db.View([]byte("k"), func([]byte) error { return mine }); err != mine {
		t.Fatalf("View returned %v, want fn's error", err)
	}
	wantErr(t, db.View([]byte("nope"), func([]byte) error { t.Fatal("fn called for a missing key"); return nil }), ErrNotFound)
	mustOK(t, db.Put([]byte("e"), nil))
	mustOK(t, db.View([]byte("e"), func(v []byte) error {
		if len(v) != 0 {
			t.Fatalf("empty value view has %d bytes", len(v))
		}
		return nil
	}))
}

func TestTTL(t *testing.T) {
	db := openTest(t, nil)
	mustOK(t, db.PutTTL([]byte("t"), []byte("v"), time.Minute))
	d, ok, err := db.TTL([]byte("t"))
	mustOK(t, err)
	if !ok || d <= 50*time.Second || d > time.Minute {
		t.Fatalf("TTL = %v, %v", d, ok)
	}
	mustOK(t, db.Persist([]byte("t")))
	_, ok, err = db.TTL([]byte("t"))
	mustOK(t, err)
	if ok {
		t.Fatal("TTL after Persist has a TTL")
	}
	mustOK(t, db.Expire([]byte("t"), time.Hour))
	_, ok, _ = db.TTL([]byte("t"))
	if !ok {
		t.Fatal("Expire did not set a TTL")
	}
	_, _, err = db.TTL([]byte("absent"))
	wantErr(t, err, ErrNotFound)
	wantErr(t, db.Expire([]byte("absent"), time.Second), ErrNotFound)
	wantErr(t, db.Persist([]byte("absent")), ErrNotFound)
	wantErr(t, db.Expire([]byte("t"), -time.Second), ErrInvalidArgument)
	wantErr(t, db.PutTTL([]byte("n"), []byte("v"), -time.Second), ErrInvalidArgument)

	// A sub-millisecond TTL is rounded up, not turned into "no expiry".
	mustOK(t, db.PutTTL([]byte("short"), []byte("v"), time.Microsecond))
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err := db.Get([]byte("short")); errors.Is(err, ErrNotFound) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a 1µs TTL never expired")
		}
		time.Sleep(time.Millisecond)
	}
	mustOK(t, db.Expire([]byte("t"), 0))
	wantErr(t, func() error { _, err := db.Get([]byte("t")); return err }(), ErrNotFound)
}

func TestBatch(t *testing.T) {
	db := openTest(t, nil)
	mustOK(t, db.Put([]byte("gone"), []byte("x")))
	b := NewBatch()
	b.Put([]byte("a"), []byte("1"))
	b.PutTTL([]byte("b"), []byte("2"), time.Hour)
	b.Delete([]byte("gone"))
	b.Put(nil, nil)
	if b.Len() != 4 {
		t.Fatalf("Len = %d", b.Len())
	}
	mustOK(t, db.Write(b))
	for k, want := range map[string]string{"a": "1", "b": "2", "": ""} {
		v, err := db.Get([]byte(k))
		mustOK(t, err)
		if string(v) != want {
			t.Fatalf("%q = %q", k, v)
		}
	}
	if ok, _ := db.Has([]byte("gone")); ok {
		t.Fatal("batch delete not applied")
	}
	_, ok, _ := db.TTL([]byte("b"))
	if !ok {
		t.Fatal("batch TTL not applied")
	}
	// An invalid operation fails the whole batch.
	b.Reset()
	if b.Len() != 0 {
		t.Fatal("Reset left operations")
	}
	b.Put([]byte("c"), []byte("3"))
	b.PutTTL([]byte("d"), []byte("4"), -time.Second)
	wantErr(t, db.Write(b), ErrInvalidArgument)
	if ok, _ := db.Has([]byte("c")); ok {
		t.Fatal("a failed batch was partly applied")
	}
	wantErr(t, db.Write(nil), ErrInvalidArgument)
	var zero Batch
	mustOK(t, db.Write(&zero)) // the zero value is an empty batch
}

func TestMultiGet(t *testing.T) {
	db := openTest(t, nil)
	mustOK(t, db.Put([]byte("a"), []byte("1")))
	mustOK(t, db.Put([]byte("c"), bytes.Repeat([]byte("c"), 1000)))
	mustOK(t, db.Put(nil, nil))
	vals, err := db.MultiGet([][]byte{[]byte("a"), []byte("b"), []byte("c"), {}})
	mustOK(t, err)
	if len(vals) != 4 || string(vals[0]) != "1" || vals[1] != nil || len(vals[2]) != 1000 || vals[3] == nil || len(vals[3]) != 0 {
		t.Fatalf("MultiGet = %q", vals)
	}
	vals, err = db.MultiGet(nil)
	mustOK(t, err)
	if len(vals) != 0 {
		t.Fatalf("MultiGet(nil) = %v", vals)
	}
	big := make([]byte, 1<<17) // over MaxKeySize
	_, err = db.MultiGet([][]byte{[]byte("a"), big})
	wantErr(t, err, ErrInvalidArgument)
}

func TestIterator(t *testing.T) {
	db := openTest(t, nil)
	for _, k := range []string{"b", "a", "c", "d"} {
		mustOK(t, db.Put([]byte(k), []byte(strings.ToUpper(k))))
	}
	it, err := db.NewIterator()
	mustOK(t, err)
	defer it.Close()
	if it.Valid() || it.Key() != nil || it.Value() != nil {
		t.Fatal("a new iterator is positioned")
	}
	it.Next() // no-op when not valid
	var keys []string
	for it.SeekToFirst(); it.Valid(); it.Next() {
		if string(it.Value()) != strings.ToUpper(string(it.Key())) {
			t.Fatalf("%s = %s", it.Key(), it.Value())
		}
		keys = append(keys, string(it.Key()))
	}
	mustOK(t, it.Err())
	if strings.Join(keys, "") != "abcd" {
		t.Fatalf("iterated %v", keys)
	}
	it.Seek([]byte("bb"))
	if !it.Valid() || string(it.Key()) != "c" {
		t.Fatalf("Seek(bb) at %q", it.Key())
	}
	it.Seek([]byte("z"))
	if it.Valid() {
		t.Fatal("Seek past the end is valid")
	}
	mustOK(t, it.Close())
	mustOK(t, it.Close()) // idempotent
	it.SeekToFirst()
	if it.Valid() {
		t.Fatal("a closed iterator is valid")
	}
	wantErr(t, it.Err(), ErrClosed)
}

func TestScan(t *testing.T) {
	db := openTest(t, nil)
	for _, k := range []string{"user:2", "user:1", "user:3", "apple", "zebra"} {
		mustOK(t, db.Put([]byte(k), []byte("v"+k)))
	}
	var got []string
	mustOK(t, db.ScanPrefix([]byte("user:"), func(k, v []byte) bool {
		if string(v) != "v"+string(k) {
			t.Errorf("%s = %s", k, v)
		}
		got = append(got, string(k)) // string() copies: k is only valid during the call
		return true
	}))
	if strings.Join(got, ",") != "user:1,user:2,user:3" {
		t.Fatalf("ScanPrefix = %v", got)
	}
	got = nil
	mustOK(t, db.ScanPrefix(nil, func(k, v []byte) bool { got = append(got, string(k)); return len(got) < 2 }))
	if strings.Join(got, ",") != "apple,user:1" {
		t.Fatalf("ScanPrefix stopped at %v", got)
	}
	got = nil
	mustOK(t, db.Scan([]byte("user:2"), []byte("zebra"), func(k, v []byte) bool { got = append(got, string(k)); return true }))
	if strings.Join(got, ",") != "user:2,user:3" {
		t.Fatalf("Scan = %v", got)
	}
	// The callback may use the DB, but Close from inside it is refused.
	mustOK(t, db.ScanPrefix([]byte("apple"), func(k, v []byte) bool {
		if _, err := db.Get([]byte("zebra")); err != nil {
			t.Errorf("Get inside Scan: %v", err)
		}
		wantErr(t, db.Close(), ErrBusy)
		return true
	}))
	mustOK(t, db.Put([]byte("still"), []byte("open")))
	// A panic in the callback reaches the caller after the scan has finished cleanly.
	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Fatalf("recovered %v", r)
			}
		}()
		_ = db.ScanPrefix(nil, func(k, v []byte) bool { panic("boom") })
	}()
	mustOK(t, db.Close()) // proves the panicking scan left no call in flight
	wantErr(t, db.ScanPrefix(nil, nil), ErrInvalidArgument)
	wantErr(t, db.Scan(nil, nil, nil), ErrInvalidArgument)
}

// Scans hand entries to Go in batches copied into a 16 KiB buffer; an entry larger than the buffer
// goes alone, zero-copy. Every entry arrives once, in order, intact, whichever way it travels; fn can
// stop in the middle of a batch; Close is refused from any batch, the last one included; a panic in
// a later batch reaches the caller.
func TestScanBatches(t *testing.T) {
	db := openTest(t, nil)
	value := func(i int) []byte {
		size := 100 + i%7*300 // 100..1900 bytes: about 15 entries per batch
		if i%97 == 13 {
			size = 40000 // larger than the buffer
		}
		return bytes.Repeat([]byte{byte('a' + i%26)}, size)
	}
	const n = 1000
	for i := 0; i < n; i++ {
		mustOK(t, db.Put([]byte(fmt.Sprintf("k%05d", i)), value(i)))
	}
	i := 0
	mustOK(t, db.ScanPrefix([]byte("k"), func(k, v []byte) bool {
		if string(k) != fmt.Sprintf("k%05d", i) || !bytes.Equal(v, value(i)) || cap(k) != len(k) || cap(v) != len(v) {
			t.Fatalf("entry %d: key %q, %d value bytes (cap %d, key cap %d)", i, k, len(v), cap(v), cap(k))
		}
		i++
		return true
	}))
	if i != n {
		t.Fatalf("ScanPrefix visited %d entries, want %d", i, n)
	}
	for _, stop := range []int{1, 7, 13, 14, 500, n - 1} { // mid-batch, at the large entry, near the end
		i = 0
		mustOK(t, db.Scan([]byte("k"), nil, func(k, v []byte) bool { i++; return i < stop }))
		if i != stop {
			t.Fatalf("stopping at %d: fn ran %d times", stop, i)
		}
	}
	for _, at := range []int{0, 300, n - 1} { // the first batch, a middle one, the last one
		i = 0
		mustOK(t, db.ScanPrefix(nil, func(k, v []byte) bool {
			if i == at {
				wantErr(t, db.Close(), ErrBusy)
			}
			i++
			return true
		}))
	}
	func() {
		defer func() {
			if r := recover(); r != "late" {
				t.Fatalf("recovered %v", r)
			}
		}()
		i = 0
		_ = db.ScanPrefix(nil, func(k, v []byte) bool {
			if i++; i == 400 {
				panic("late")
			}
			return true
		})
	}()
	mustOK(t, db.Close())
}

func TestStatsSyncCheckpoint(t *testing.T) {
	db := openTest(t, nil)
	mustOK(t, db.Put([]byte("a"), []byte("1")))
	_, _ = db.Get([]byte("a"))
	s, err := db.Stats()
	mustOK(t, err)
	if s.Keys != 1 || s.Puts != 1 || s.Hits != 1 || s.Cache.Capacity != 0 { // the tier is off by default
		t.Fatalf("Stats = %+v", s)
	}
	if !strings.HasPrefix(s.JSON(), "{") || !strings.Contains(s.Prometheus(), "mantis_puts_total 1") {
		t.Fatalf("Stats text: %s\n%s", s.JSON(), s.Prometheus())
	}
	// Latency: one read and one put in 64 are timed, so after 6400 of each about 100 samples.
	for i := 0; i < 6400; i++ {
		mustOK(t, db.Put([]byte("a"), []byte("1")))
		_, _ = db.Get([]byte("a"))
	}
	s, err = db.Stats()
	mustOK(t, err)
	for _, d := range []Distribution{s.Latency.Get, s.Latency.Put} {
		if d.Count < 40 || d.Count > 200 || d.P50 <= 0 || d.P50 > d.P99 || d.P99 > d.Max || d.Sum < d.Max {
			t.Fatalf("latency %+v", d)
		}
	}
	if s.Latency.GroupRecords.Count != 0 || !strings.Contains(s.Prometheus(), "# TYPE mantis_get_latency_seconds summary") {
		t.Fatalf("a memory-only engine's log figures %+v, or no summary in\n%s", s.Latency.GroupRecords, s.Prometheus())
	}
	// A memory-only engine has nothing to sync or checkpoint.
	wantErr(t, db.Sync(), ErrNotSupported)
	wantErr(t, db.Checkpoint(), ErrNotSupported)
}

func TestErrorsCarryMessages(t *testing.T) {
	db := openTest(t, &Options{MaxKeySize: 2})
	err := db.Put([]byte("long"), nil)
	var e *Error
	if !errors.As(err, &e) || e.Code != ErrInvalidArgument || !strings.Contains(e.Message, "max_key_size") {
		t.Fatalf("error %#v", err)
	}
	if e.Op != "Put" || !strings.HasPrefix(err.Error(), "mantis: Put: ") {
		t.Fatalf("error %q names %q, not the method Put", err, e.Op)
	}
}

// Error texts name the Go method, never a C function, and do not repeat the code's name.
func TestErrorText(t *testing.T) {
	db, err := Open("", nil)
	mustOK(t, err)
	mustOK(t, db.Close())
	if err := db.Put([]byte("k"), []byte("v")); err == nil || err.Error() != "mantis: Put: the database is closed" {
		t.Fatalf("Put after Close: %v", err)
	}
	_, err = db.Get([]byte("k"))
	var e *Error
	if !errors.As(err, &e) || e.Op != "Get" || e.Code != ErrClosed || e.Message != "the database is closed" {
		t.Fatalf("Get after Close: %#v", err)
	}
	db = openTest(t, nil)
	_, err = db.Get([]byte("absent"))
	if err == nil || err.Error() != "mantis: Get: key not found" {
		t.Fatalf("Get of an absent key: %v", err)
	}
	c, err := NewCache(CacheOptions{})
	mustOK(t, err)
	mustOK(t, c.Close())
	for _, err := range []error{c.Put(nil, nil), db.PutTTL([]byte("k"), nil, -time.Second), db.Write(nil)} {
		if text := err.Error(); strings.Contains(text, "mantis_") || strings.Contains(text, "InvalidArgument") ||
			strings.Contains(text, "Closed:") {
			t.Errorf("error text %q names a C function or repeats the code", text)
		}
	}
	if err := c.Put(nil, nil); err.Error() != "mantis: Cache.Put: the cache is closed" {
		t.Fatalf("Cache.Put after Close: %v", err)
	}
}

// Every call after Close returns ErrClosed, for the DB, its iterators and the cache.
func TestAfterClose(t *testing.T) {
	db, err := Open("", nil)
	mustOK(t, err)
	mustOK(t, db.Put([]byte("a"), []byte("1")))
	it, err := db.NewIterator()
	mustOK(t, err)
	defer it.Close()
	it.SeekToFirst()
	if !it.Valid() {
		t.Fatal("iterator not valid before Close")
	}
	mustOK(t, db.Close())
	mustOK(t, db.Close()) // idempotent

	k := []byte("a")
	_, e1 := db.Get(k)
	_, e2 := db.Has(k)
	_, e3 := db.MultiGet([][]byte{k})
	_, _, e4 := db.TTL(k)
	_, e5 := db.Size()
	_, e6 := db.Stats()
	for i, err := range []error{
		db.Put(k, k), db.PutTTL(k, k, time.Second), e1, db.View(k, func([]byte) error { return nil }), e2,
		db.Delete(k), e3, db.Write(NewBatch()), db.Expire(k, time.Second), db.Persist(k), e4,
		db.ScanPrefix(nil, func(k, v []byte) bool { return true }), db.Scan(nil, nil, func(k, v []byte) bool { return true }),
		e5, db.Clear(), db.Sync(), db.Checkpoint(), e6,
	} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("call %d after Close: %v", i, err)
		}
	}
	// The open iterator is invalid and says ErrClosed; a new one too.
	it.Next()
	it.SeekToFirst()
	if it.Valid() {
		t.Fatal("iterator valid after the DB closed")
	}
	wantErr(t, it.Err(), ErrClosed)
	it2, err := db.NewIterator()
	if it2 != nil {
		t.Fatal("NewIterator on a closed DB returned an iterator")
	}
	wantErr(t, err, ErrClosed)
	if err.Error() != "mantis: NewIterator: the database is closed" { // the creation error itself is returned
		t.Fatalf("NewIterator on a closed DB: %v", err)
	}

	c, err := NewCache(CacheOptions{})
	mustOK(t, err)
	mustOK(t, c.Close())
	mustOK(t, c.Close())
	_, e1 = c.Get(k)
	_, e2 = c.Delete(k)
	_, e3 = c.DeletePrefix(k)
	_, e4 = c.Len()
	_, e5 = c.Charge()
	_, e6 = c.Capacity()
	_, e7 := c.Stats()
	for i, err := range []error{c.Put(k, k), c.PutTTL(k, k, time.Second), e1, e2, e3, c.Clear(), e4, e5, e6, e7} {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("cache call %d after Close: %v", i, err)
		}
	}
}

func TestCache(t *testing.T) {
	c, err := NewCache(CacheOptions{Capacity: 1 << 20, ShardBits: 2, Admission: AdmissionAlways})
	mustOK(t, err)
	defer c.Close()
	_, err = c.Get([]byte("a"))
	wantErr(t, err, ErrNotFound)
	mustOK(t, c.Put([]byte("user:1"), []byte("ada")))
	mustOK(t, c.PutTTL([]byte("user:2"), []byte("bob"), time.Minute))
	mustOK(t, c.Put(nil, nil))
	big := bytes.Repeat([]byte("b"), 1000)
	mustOK(t, c.Put([]byte("big"), big))
	v, err := c.Get([]byte("user:1"))
	mustOK(t, err)
	if string(v) != "ada" {
		t.Fatalf("Get = %q", v)
	}
	v, _ = c.Get([]byte("big"))
	if !bytes.Equal(v, big) {
		t.Fatal("big value differs")
	}
	v, err = c.Get(nil)
	mustOK(t, err)
	if v == nil || len(v) != 0 {
		t.Fatalf("empty value: %v", v)
	}
	n, _ := c.Len()
	charge, _ := c.Charge()
	capacity, _ := c.Capacity()
	if n != 4 || charge <= 0 || capacity != 1<<20 {
		t.Fatalf("Len %d Charge %d Capacity %d", n, charge, capacity)
	}
	removed, err := c.DeletePrefix([]byte("user:"))
	mustOK(t, err)
	if removed != 2 {
		t.Fatalf("DeletePrefix = %d", removed)
	}
	found, err := c.Delete([]byte("big"))
	mustOK(t, err)
	if !found {
		t.Fatal("Delete(big) = false")
	}
	found, _ = c.Delete([]byte("big"))
	if found {
		t.Fatal("second Delete(big) = true")
	}
	mustOK(t, c.Clear())
	s, err := c.Stats()
	mustOK(t, err)
	if s.Hits != 3 || s.Misses != 1 || s.Inserts != 4 {
		t.Fatalf("Stats = %+v", s)
	}
	wantErr(t, c.PutTTL([]byte("k"), []byte("v"), -time.Second), ErrInvalidArgument)
	wantErr(t, c.Put([]byte("huge"), make([]byte, 1<<20)), ErrInvalidArgument) // larger than a shard

	for _, opts := range []CacheOptions{{Capacity: -1}, {Admission: Admission(5)}, {ShardBits: -3}} {
		if _, err := NewCache(opts); !errors.Is(err, ErrInvalidArgument) {
			t.Errorf("NewCache(%+v) = %v", opts, err)
		}
	}
	one, err := NewCache(CacheOptions{ShardBits: OneShard, Admission: AdmissionTinyLFU})
	mustOK(t, err)
	mustOK(t, one.Close())
}

// Many goroutines share one DB and one Cache; a Close in the middle of it all only produces ErrClosed.
func TestConcurrent(t *testing.T) {
	db, err := Open("", nil)
	mustOK(t, err)
	c, err := NewCache(CacheOptions{Capacity: 1 << 20})
	mustOK(t, err)
	const workers = 16
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan error, workers)
	var done atomic.Int64 // iterations completed before Close stopped the workers
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			<-start
			for i := 0; ; i++ {
				k := []byte(fmt.Sprintf("w%d-%d", w, i%100))
				err := db.Put(k, k)
				if err == nil {
					var v []byte
					if v, err = db.Get(k); err == nil && !bytes.Equal(v, k) {
						err = fmt.Errorf("Get(%s) = %s", k, v)
					}
				}
				if err == nil && i%10 == 0 {
					_, err = db.MultiGet([][]byte{k, []byte("nope")})
				}
				if err == nil && i%25 == 0 {
					b := NewBatch()
					b.Put(k, k)
					b.Delete([]byte("x"))
					err = db.Write(b)
				}
				if err == nil && i%50 == 0 {
					var it *Iterator
					if it, err = db.NewIterator(); err == nil {
						for it.Seek([]byte(fmt.Sprintf("w%d-", w))); it.Valid(); it.Next() {
						}
						err = it.Err()
						it.Close()
					}
				}
				if err == nil {
					err = c.Put(k, k)
				}
				if err == nil {
					if _, err = c.Get(k); errors.Is(err, ErrNotFound) {
						err = nil // evicted: fine
					}
				}
				if err != nil {
					if !errors.Is(err, ErrClosed) {
						errs <- err
					}
					done.Add(int64(i))
					return
				}
			}
		}(w)
	}
	close(start)
	time.Sleep(300 * time.Millisecond)
	mustOK(t, db.Close())
	mustOK(t, c.Close())
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if done.Load() < workers {
		t.Fatalf("the workers completed only %d iterations before Close", done.Load())
	}
}

// rssPages reads the resident set size (in pages) from /proc/self/statm.
func rssPages(t *testing.T) int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		t.Skipf("no /proc/self/statm: %v", err)
	}
	fields := strings.Fields(string(data))
	n, err := strconv.ParseInt(fields[1], 10, 64)
	mustOK(t, err)
	return n
}

// Many opens, closes, iterators, views and caches: the resident set stays bounded.
func TestLeaks(t *testing.T) {
	cycle := func() {
		db, err := Open("", &Options{CacheCapacity: 1 << 20})
		mustOK(t, err)
		for i := 0; i < 100; i++ {
			k := []byte(strconv.Itoa(i))
			mustOK(t, db.Put(k, bytes.Repeat(k, 100)))
		}
		for i := 0; i < 10; i++ {
			it, err := db.NewIterator()
			mustOK(t, err)
			for it.SeekToFirst(); it.Valid(); it.Next() {
			}
			it.Close()
			mustOK(t, db.View([]byte("1"), func([]byte) error { return nil }))
		}
		leaked, err := db.NewIterator() // left for the finalizer
		mustOK(t, err)
		leaked.SeekToFirst()
		_, _ = db.MultiGet([][]byte{[]byte("1"), []byte("x")})
		mustOK(t, db.Close())
		c, err := NewCache(CacheOptions{Capacity: 1 << 20})
		mustOK(t, err)
		mustOK(t, c.Put([]byte("k"), make([]byte, 1000)))
		mustOK(t, c.Close())
	}
	settle := func() {
		runtime.GC()
		runtime.GC() // finalizers queued by the first GC have run by the second
		time.Sleep(10 * time.Millisecond)
	}
	for i := 0; i < 50; i++ { // warm up allocators and caches
		cycle()
	}
	settle()
	before := rssPages(t)
	for i := 0; i < 500; i++ {
		cycle()
	}
	settle()
	after := rssPages(t)
	pageKiB := int64(os.Getpagesize() / 1024)
	t.Logf("RSS %d KiB -> %d KiB after 500 open/close cycles", before*pageKiB, after*pageKiB)
	// Each cycle stores ~25 KiB and allocates far more in transient objects; a leak of even one
	// engine per cycle would exceed this bound many times over.
	if growth := (after - before) * pageKiB; growth > 32<<10 {
		t.Fatalf("RSS grew by %d KiB over 500 cycles", growth)
	}
}
