package mantis

import (
	"errors"
	"fmt"
	"math/rand"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func mustPut(t *testing.T, db *DB, k, v string) {
	t.Helper()
	mustOK(t, db.Put([]byte(k), []byte(v)))
}

func wantValue(t *testing.T, what string, got []byte, err error, want string) {
	t.Helper()
	if err != nil || string(got) != want {
		t.Fatalf("%s = %q, %v; want %q", what, got, err, want)
	}
}

// scanned concatenates "k=v," for every pair a scan visits.
func scanned(t *testing.T, scan func(fn func(k, v []byte) bool) error) string {
	t.Helper()
	out := ""
	mustOK(t, scan(func(k, v []byte) bool {
		out += string(k) + "=" + string(v) + ","
		return true
	}))
	return out
}

func TestSnapshotIsolation(t *testing.T) {
	db := openTest(t, nil)
	mustPut(t, db, "a", "1")
	mustPut(t, db, "b", "2")
	snap, err := db.Snapshot()
	mustOK(t, err)
	defer snap.Close()
	if snap.Version() == 0 {
		t.Fatal("Version() = 0")
	}
	mustPut(t, db, "a", "10")
	mustOK(t, db.Delete([]byte("b")))
	mustPut(t, db, "c", "3")
	b := NewBatch()
	b.Put([]byte("d"), []byte("4"))
	b.Delete([]byte("a"))
	mustOK(t, db.Write(b))

	v, err := snap.Get([]byte("a"))
	wantValue(t, "snap.Get(a)", v, err, "1")
	v, version, err := snap.GetVersion([]byte("b"))
	wantValue(t, "snap.GetVersion(b)", v, err, "2")
	if version == 0 || version > snap.Version() {
		t.Fatalf("version %d of b at snapshot %d", version, snap.Version())
	}
	if _, err := snap.Get([]byte("c")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("snap.Get(c): %v, want ErrNotFound", err)
	}
	if got := scanned(t, func(fn func(k, v []byte) bool) error { return snap.Scan(nil, nil, fn) }); got != "a=1,b=2," {
		t.Fatalf("snap.Scan = %q", got)
	}
	if got := scanned(t, func(fn func(k, v []byte) bool) error { return snap.ScanPrefix([]byte("b"), fn) }); got != "b=2," {
		t.Fatalf("snap.ScanPrefix = %q", got)
	}
	if got := scanned(t, func(fn func(k, v []byte) bool) error { return db.Scan(nil, nil, fn) }); got != "c=3,d=4," {
		t.Fatalf("db.Scan = %q", got)
	}
	it, err := snap.NewIterator()
	mustOK(t, err)
	defer it.Close()
	mustOK(t, snap.Close()) // the iterator keeps the snapshot
	mustOK(t, snap.Close()) // idempotent
	got := ""
	for it.SeekToFirst(); it.Valid(); it.Next() {
		got += string(it.Key()) + string(it.Value())
	}
	mustOK(t, it.Err())
	if got != "a1b2" {
		t.Fatalf("iterator at the snapshot saw %q", got)
	}
	if _, err := snap.Get([]byte("a")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Get on a closed snapshot: %v, want ErrClosed", err)
	}
	if err := snap.Scan(nil, nil, func(k, v []byte) bool { return true }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Scan on a closed snapshot: %v", err)
	}
	if _, err := snap.NewIterator(); !errors.Is(err, ErrClosed) {
		t.Fatalf("NewIterator on a closed snapshot: %v", err)
	}
	if snap.Version() != 0 {
		t.Fatal("Version() of a closed snapshot")
	}

	// ViewSnapshot closes it; fn's error comes back.
	sentinelErr := errors.New("stop")
	var seen *Snapshot
	err = db.ViewSnapshot(func(s *Snapshot) error {
		seen = s
		v, err := s.Get([]byte("d"))
		wantValue(t, "ViewSnapshot Get(d)", v, err, "4")
		return sentinelErr
	})
	if err != sentinelErr {
		t.Fatalf("ViewSnapshot returned %v", err)
	}
	if _, err := seen.Get([]byte("d")); !errors.Is(err, ErrClosed) {
		t.Fatalf("snapshot after ViewSnapshot: %v", err)
	}

	// After the DB closes, reads at a snapshot are ErrClosed.
	s2, err := db.Snapshot()
	mustOK(t, err)
	mustOK(t, db.Close())
	if _, err := s2.Get([]byte("d")); !errors.Is(err, ErrClosed) {
		t.Fatalf("snapshot Get after DB.Close: %v", err)
	}
	mustOK(t, s2.Close())
	if _, err := db.Snapshot(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Snapshot on a closed DB: %v", err)
	}
	if err := snap.Scan(nil, nil, nil); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Scan(nil fn): %v", err)
	}
}

func TestTxnReadYourWritesAndCommit(t *testing.T) {
	db := openTest(t, nil)
	mustPut(t, db, "a", "1")
	mustPut(t, db, "b", "2")
	txn, err := db.Begin()
	mustOK(t, err)
	defer txn.Rollback()
	if txn.SnapshotVersion() == 0 {
		t.Fatal("SnapshotVersion() = 0")
	}
	mustOK(t, txn.Put([]byte("a"), []byte("one")))
	mustOK(t, txn.Delete([]byte("b")))
	mustOK(t, txn.PutTTL([]byte("t"), []byte("x"), time.Minute))
	mustOK(t, txn.Put(nil, []byte("empty key")))
	v, err := txn.Get([]byte("a"))
	wantValue(t, "txn.Get(a)", v, err, "one")
	if _, err := txn.Get([]byte("b")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("txn.Get of its own delete: %v", err)
	}
	if got := scanned(t, func(fn func(k, v []byte) bool) error { return txn.Scan(nil, nil, fn) }); got != "=empty key,a=one,t=x," {
		t.Fatalf("txn.Scan = %q", got)
	}
	v, err = db.Get([]byte("a"))
	wantValue(t, "db.Get(a) before commit", v, err, "1")
	mustOK(t, txn.Commit())
	v, err = db.Get([]byte("a"))
	wantValue(t, "db.Get(a) after commit", v, err, "one")
	if _, err := db.Get([]byte("b")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("b after commit: %v", err)
	}
	left, ok, err := db.TTL([]byte("t"))
	if err != nil || !ok || left <= 0 || left > time.Minute {
		t.Fatalf("TTL(t) = %v, %v, %v", left, ok, err)
	}
	// Finished: calls are refused, Rollback is a no-op.
	for name, err := range map[string]error{
		"Put":        txn.Put([]byte("a"), nil),
		"Delete":     txn.Delete([]byte("a")),
		"Commit":     txn.Commit(),
		"CommitSync": txn.CommitSync(),
		"Scan":       txn.Scan(nil, nil, func(k, v []byte) bool { return true }),
	} {
		if !errors.Is(err, ErrInvalidArgument) {
			t.Fatalf("%s on a finished txn: %v", name, err)
		}
	}
	if _, err := txn.Get([]byte("a")); !errors.Is(err, ErrInvalidArgument) {
		t.Fatalf("Get on a finished txn: %v", err)
	}
	mustOK(t, txn.Rollback())

	// Rollback writes nothing; a scan callback calling into its own transaction gets ErrBusy.
	txn, err = db.Begin()
	mustOK(t, err)
	mustOK(t, txn.Put([]byte("z"), []byte("zz")))
	var inner error
	mustOK(t, txn.Scan(nil, nil, func(k, v []byte) bool {
		inner = txn.Put([]byte("y"), nil)
		return false
	}))
	if !errors.Is(inner, ErrBusy) {
		t.Fatalf("txn call from its scan callback: %v, want ErrBusy", inner)
	}
	mustOK(t, txn.Rollback())
	if _, err := db.Get([]byte("z")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("z after Rollback: %v", err)
	}
}

func TestTxnConflict(t *testing.T) {
	db := openTest(t, nil)
	mustPut(t, db, "x", "1")
	txn, err := db.Begin()
	mustOK(t, err)
	v, err := txn.Get([]byte("x"))
	wantValue(t, "txn.Get(x)", v, err, "1")
	mustPut(t, db, "x", "2") // written after the snapshot
	v, err = txn.Get([]byte("x"))
	wantValue(t, "txn.Get(x) after a concurrent write", v, err, "1")
	mustOK(t, txn.Put([]byte("y"), []byte("from txn")))
	err = txn.Commit()
	if !errors.Is(err, ErrConflict) {
		t.Fatalf("Commit: %v, want ErrConflict", err)
	}
	var merr *Error
	if !errors.As(err, &merr) || merr.Op != "Txn.Commit" {
		t.Fatalf("Commit error %#v: want an *Error with Op Txn.Commit", err)
	}
	if _, err := db.Get([]byte("y")); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a conflicting commit wrote: %v", err)
	}

	// A scanned range conflicts with an insert into it (a phantom).
	txn, err = db.Begin()
	mustOK(t, err)
	mustOK(t, txn.Scan([]byte("p"), []byte("q"), func(k, v []byte) bool { return true }))
	mustPut(t, db, "p1", "phantom")
	mustOK(t, txn.Put([]byte("w"), []byte("1")))
	if err := txn.Commit(); !errors.Is(err, ErrConflict) {
		t.Fatalf("Commit after a phantom: %v, want ErrConflict", err)
	}

	// Update retries a conflicting transaction: the first attempt is made to conflict.
	attempts := 0
	err = db.Update(func(txn *Txn) error {
		attempts++
		v, err := txn.Get([]byte("x"))
		if err != nil {
			return err
		}
		if attempts == 1 {
			mustPut(t, db, "x", "3")
		}
		n, _ := strconv.Atoi(string(v))
		return txn.Put([]byte("x"), []byte(strconv.Itoa(n*10)))
	})
	mustOK(t, err)
	if attempts != 2 {
		t.Fatalf("Update ran fn %d times, want 2", attempts)
	}
	v, err = db.Get([]byte("x"))
	wantValue(t, "x after Update", v, err, "30")

	// An Update that always conflicts gives up after UpdateAttempts runs with ErrConflict.
	attempts = 0
	err = db.Update(func(txn *Txn) error {
		attempts++
		if _, err := txn.Get([]byte("x")); err != nil {
			return err
		}
		mustPut(t, db, "x", strconv.Itoa(attempts))
		return txn.Put([]byte("never"), nil)
	})
	if !errors.Is(err, ErrConflict) || attempts != UpdateAttempts {
		t.Fatalf("Update under permanent conflict: %v after %d runs", err, attempts)
	}
	// fn's own error is returned as is, without retries, and nothing is written.
	stop := errors.New("stop")
	attempts = 0
	err = db.Update(func(txn *Txn) error {
		attempts++
		mustOK(t, txn.Put([]byte("never"), nil))
		return stop
	})
	if err != stop || attempts != 1 {
		t.Fatalf("Update with fn error: %v after %d runs", err, attempts)
	}
	if ok, _ := db.Has([]byte("never")); ok {
		t.Fatal("a failed Update wrote")
	}

	// Begin, and calls on a live transaction, after Close.
	txn, err = db.Begin()
	mustOK(t, err)
	mustOK(t, db.Close())
	if err := txn.Put([]byte("k"), nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("Put after DB.Close: %v", err)
	}
	if err := txn.Commit(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Commit after DB.Close: %v", err)
	}
	if _, err := db.Begin(); !errors.Is(err, ErrClosed) {
		t.Fatalf("Begin on a closed DB: %v", err)
	}
	if err := db.Update(func(*Txn) error { return nil }); !errors.Is(err, ErrClosed) {
		t.Fatalf("Update on a closed DB: %v", err)
	}
}

// The bank: goroutines move money between accounts with Update while others sum every account at
// snapshots (by Get, ScanPrefix and an iterator). The total never changes and no balance goes below 0.
func TestTxnBank(t *testing.T) {
	for _, durable := range []bool{false, true} {
		t.Run(fmt.Sprintf("durable=%v", durable), func(t *testing.T) {
			dir := ""
			if durable {
				dir = filepath.Join(t.TempDir(), "db")
			}
			db, err := Open(dir, nil)
			mustOK(t, err)
			defer db.Close()
			bank(t, db)
			if durable {
				mustOK(t, db.Close())
				db, err = Open(dir, nil)
				mustOK(t, err)
				defer db.Close()
				if total := sumAccounts(t, db); total != bankAccounts*bankInitial {
					t.Fatalf("total after reopen = %d", total)
				}
			}
		})
	}
}

const (
	bankAccounts  = 6
	bankInitial   = 100
	bankTellers   = 4
	bankTransfers = 200
)

func accountKey(i int) []byte { return []byte(fmt.Sprintf("acct/%02d", i)) }

func sumAccounts(t *testing.T, db *DB) int {
	total := 0
	mustOK(t, db.ScanPrefix([]byte("acct/"), func(k, v []byte) bool {
		n, _ := strconv.Atoi(string(v))
		total += n
		return true
	}))
	return total
}

func bank(t *testing.T, db *DB) {
	for i := 0; i < bankAccounts; i++ {
		mustOK(t, db.Put(accountKey(i), []byte(strconv.Itoa(bankInitial))))
	}
	const total = bankAccounts * bankInitial
	var done atomic.Bool
	var conflicts, audits atomic.Int64
	errs := make(chan error, 64)
	var auditors sync.WaitGroup
	for a := 0; a < 2; a++ {
		auditors.Add(1)
		go func() {
			defer auditors.Done()
			for !done.Load() {
				err := db.ViewSnapshot(func(s *Snapshot) error {
					byGet, byScan, byIter := 0, 0, 0
					for i := 0; i < bankAccounts; i++ {
						v, err := s.Get(accountKey(i))
						if err != nil {
							return err
						}
						n, _ := strconv.Atoi(string(v))
						if n < 0 {
							return fmt.Errorf("account %d is negative: %d", i, n)
						}
						byGet += n
					}
					if err := s.ScanPrefix([]byte("acct/"), func(k, v []byte) bool {
						n, _ := strconv.Atoi(string(v))
						byScan += n
						return true
					}); err != nil {
						return err
					}
					it, err := s.NewIterator()
					if err != nil {
						return err
					}
					defer it.Close()
					for it.SeekToFirst(); it.Valid(); it.Next() {
						n, _ := strconv.Atoi(string(it.Value()))
						byIter += n
					}
					if byGet != total || byScan != total || byIter != total {
						return fmt.Errorf("totals at snapshot %d: %d / %d / %d, want %d", s.Version(), byGet, byScan, byIter, total)
					}
					audits.Add(1)
					return nil
				})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	var tellers sync.WaitGroup
	for g := 0; g < bankTellers; g++ {
		tellers.Add(1)
		go func(seed int64) {
			defer tellers.Done()
			rng := rand.New(rand.NewSource(seed))
			for i := 0; i < bankTransfers; i++ {
				from := rng.Intn(bankAccounts)
				to := (from + 1 + rng.Intn(bankAccounts-1)) % bankAccounts
				amount := 1 + rng.Intn(30)
				runs := 0
				err := db.Update(func(txn *Txn) error {
					runs++
					a, err := txn.Get(accountKey(from))
					if err != nil {
						return err
					}
					b, err := txn.Get(accountKey(to))
					if err != nil {
						return err
					}
					runtime.Gosched() // widen the window between read and commit: conflicts must happen
					na, _ := strconv.Atoi(string(a))
					nb, _ := strconv.Atoi(string(b))
					if na < amount {
						return nil // insufficient funds: commit nothing
					}
					if err := txn.Put(accountKey(from), []byte(strconv.Itoa(na-amount))); err != nil {
						return err
					}
					return txn.Put(accountKey(to), []byte(strconv.Itoa(nb+amount)))
				})
				conflicts.Add(int64(runs - 1))
				if err != nil && !errors.Is(err, ErrConflict) { // a transfer that gave up wrote nothing
					errs <- err
					return
				}
			}
		}(int64(g + 1))
	}
	tellers.Wait()
	done.Store(true)
	auditors.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if got := sumAccounts(t, db); got != total {
		t.Fatalf("final total = %d, want %d", got, total)
	}
	if audits.Load() == 0 {
		t.Fatal("no audit ran")
	}
	t.Logf("%d transfers, %d conflicts retried, %d audits", bankTellers*bankTransfers, conflicts.Load(), audits.Load())
}
