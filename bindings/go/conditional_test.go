package mantis

import (
	"errors"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

func wantWrote(t *testing.T, what string, wrote bool, err error, want bool) {
	t.Helper()
	if err != nil || wrote != want {
		t.Fatalf("%s = %v, %v; want %v, nil", what, wrote, err, want)
	}
}

func TestConditionalWrites(t *testing.T) {
	db := openTest(t, nil)
	k := []byte("k")
	if _, _, err := db.GetVersion(k); !errors.Is(err, ErrNotFound) {
		t.Fatalf("GetVersion of a missing key: %v, want ErrNotFound", err)
	}
	wrote, err := db.PutIfPresent(k, []byte("x"))
	wantWrote(t, "PutIfPresent on a missing key", wrote, err, false)
	wrote, err = db.PutIfAbsent(k, []byte("one"))
	wantWrote(t, "PutIfAbsent on a missing key", wrote, err, true)
	wrote, err = db.PutIfAbsent(k, []byte("two"))
	wantWrote(t, "PutIfAbsent on a present key", wrote, err, false)
	v, version, err := db.GetVersion(k)
	if err != nil || string(v) != "one" || version == 0 {
		t.Fatalf("GetVersion = %q, %d, %v", v, version, err)
	}
	wrote, err = db.CompareAndSwap(k, version+1, []byte("bad"))
	wantWrote(t, "CompareAndSwap with a wrong version", wrote, err, false)
	wrote, err = db.CompareAndSwap(k, 0, []byte("bad"))
	wantWrote(t, "CompareAndSwap expecting absent", wrote, err, false)
	wrote, err = db.CompareAndSwap(k, version, []byte("three"))
	wantWrote(t, "CompareAndSwap with the version read", wrote, err, true)
	wrote, err = db.CompareAndSwap(k, version, []byte("stale"))
	wantWrote(t, "CompareAndSwap with a version that moved on", wrote, err, false)
	prev, loaded, err := db.Swap(k, []byte("four"))
	if err != nil || !loaded || string(prev) != "three" {
		t.Fatalf("Swap = %q, %v, %v; want three", prev, loaded, err)
	}
	prev, loaded, err = db.Swap([]byte("new"), []byte("v"))
	if err != nil || loaded || prev != nil {
		t.Fatalf("Swap of a missing key = %q, %v, %v", prev, loaded, err)
	}
	_, version, err = db.GetVersion(k)
	mustOK(t, err)
	wrote, err = db.CompareAndDelete(k, version+1)
	wantWrote(t, "CompareAndDelete with a wrong version", wrote, err, false)
	wrote, err = db.CompareAndDelete(k, version)
	wantWrote(t, "CompareAndDelete", wrote, err, true)
	wrote, err = db.DeleteIfPresent([]byte("new"))
	wantWrote(t, "DeleteIfPresent on a present key", wrote, err, true)
	wrote, err = db.DeleteIfPresent([]byte("new"))
	wantWrote(t, "DeleteIfPresent on a missing key", wrote, err, false)

	if n, err := db.Increment([]byte("n"), 5); err != nil || n != 5 {
		t.Fatalf("Increment = %d, %v", n, err)
	}
	if n, err := db.Increment([]byte("n"), -7); err != nil || n != -2 {
		t.Fatalf("Increment = %d, %v", n, err)
	}
	mustOK(t, db.Put([]byte("text"), []byte("abc")))
	_, err = db.Increment([]byte("text"), 1)
	wantErr(t, err, ErrInvalidArgument)
	mustOK(t, db.Put([]byte("max"), []byte("9223372036854775807")))
	_, err = db.Increment([]byte("max"), 1)
	wantErr(t, err, ErrInvalidArgument)
	if got, _ := db.Get([]byte("max")); string(got) != "9223372036854775807" {
		t.Fatalf("a failed Increment changed the value to %q", got)
	}

	db.Close()
	_, err = db.PutIfAbsent(k, []byte("v"))
	wantErr(t, err, ErrClosed)
	_, err = db.Increment(k, 1)
	wantErr(t, err, ErrClosed)
}

// Counters updated from many goroutines by Increment and by CompareAndSwap loops lose nothing.
func TestConditionalCounters(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		db, err := Open(dir, nil)
		mustOK(t, err)
		const goroutines, each = 8, 300
		var wg sync.WaitGroup
		for g := 0; g < goroutines; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					if _, err := db.Increment([]byte("incr"), 1); err != nil {
						t.Error(err)
						return
					}
					for {
						v, version, err := db.GetVersion([]byte("cas"))
						n := 0
						if errors.Is(err, ErrNotFound) {
							version = 0
						} else if err != nil {
							t.Error(err)
							return
						} else if n, err = strconv.Atoi(string(v)); err != nil {
							t.Error(err)
							return
						}
						wrote, err := db.CompareAndSwap([]byte("cas"), version, []byte(strconv.Itoa(n+1)))
						if err != nil {
							t.Error(err)
							return
						}
						if wrote {
							break
						}
					}
				}
			}()
		}
		wg.Wait()
		for _, key := range []string{"incr", "cas"} {
			if got, err := db.Get([]byte(key)); err != nil || string(got) != strconv.Itoa(goroutines*each) {
				t.Errorf("dir %q: %s = %q, %v; want %d", dir, key, got, err, goroutines*each)
			}
		}
		mustOK(t, db.Close())
	}
}

func TestBackup(t *testing.T) {
	dir := t.TempDir()
	db, err := Open(filepath.Join(dir, "db"), nil)
	mustOK(t, err)
	defer db.Close()
	mustOK(t, db.Put([]byte("k"), []byte("v")))
	mustOK(t, db.Backup(filepath.Join(dir, "copy")))
	wantErr(t, db.Backup(filepath.Join(dir, "copy")), ErrInvalidArgument) // not empty any more
	wantErr(t, db.Backup(""), ErrInvalidArgument)
	mustOK(t, db.Put([]byte("later"), []byte("x")))
	copyDB, err := Open(filepath.Join(dir, "copy"), nil)
	mustOK(t, err)
	defer copyDB.Close()
	if got, err := copyDB.Get([]byte("k")); err != nil || string(got) != "v" {
		t.Fatalf("the copy's k = %q, %v", got, err)
	}
	if ok, _ := copyDB.Has([]byte("later")); ok {
		t.Fatal("a write after the backup reached the copy")
	}
	memory := openTest(t, nil)
	wantErr(t, memory.Backup(filepath.Join(dir, "never")), ErrNotSupported)
}
