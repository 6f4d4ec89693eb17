// A tour of the mantis Go binding: open a memory-only DB, write with and without a TTL, read by
// copy, zero-copy and in one batch, iterate, scan a prefix, move money in a transaction, read a
// snapshot, and use the standalone cache.
package main

import (
	"errors"
	"fmt"
	"log"
	"strconv"
	"time"

	"mantis.dev/mantis"
)

func main() {
	db, err := mantis.Open("", &mantis.Options{CacheCapacity: 16 << 20}) // "" = memory only
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	must(db.Put([]byte("user:1"), []byte("ada")))
	must(db.Put([]byte("user:2"), []byte("grace")))
	must(db.PutTTL([]byte("session:42"), []byte("token"), 30*time.Second))

	v, err := db.Get([]byte("user:1")) // a Go-owned copy
	must(err)
	fmt.Printf("user:1 = %s\n", v)
	if _, err := db.Get([]byte("user:9")); errors.Is(err, mantis.ErrNotFound) {
		fmt.Println("user:9 is not there")
	}
	must(db.View([]byte("user:2"), func(v []byte) error { // zero-copy, valid inside the callback only
		fmt.Printf("user:2 has %d bytes\n", len(v))
		return nil
	}))
	left, hasTTL, err := db.TTL([]byte("session:42"))
	must(err)
	fmt.Printf("session:42 expires: %v (in about %v)\n", hasTTL, left.Round(time.Second))

	b := mantis.NewBatch()
	b.Put([]byte("user:3"), []byte("linus"))
	b.Delete([]byte("session:42"))
	must(db.Write(b))

	vals, err := db.MultiGet([][]byte{[]byte("user:1"), []byte("nobody"), []byte("user:3")})
	must(err)
	fmt.Printf("MultiGet: %q %v %q\n", vals[0], vals[1] == nil, vals[2])

	it, err := db.NewIterator()
	must(err)
	for it.SeekToFirst(); it.Valid(); it.Next() {
		fmt.Printf("  %s = %s\n", it.Key(), it.Value())
	}
	must(it.Err())
	it.Close()

	n := 0
	must(db.ScanPrefix([]byte("user:"), func(k, v []byte) bool { n++; return true }))
	fmt.Printf("%d users\n", n)
	n = 0
	must(db.Scan([]byte("user:2"), nil, func(k, v []byte) bool { n++; return true })) // [user:2, end)
	fmt.Printf("%d keys from user:2 on\n", n)

	// A transfer in a transaction: Update retries it when a concurrent write conflicts.
	must(db.Put([]byte("acct:alice"), []byte("100")))
	must(db.Put([]byte("acct:bob"), []byte("20")))
	must(db.Update(func(txn *mantis.Txn) error {
		a, err := txn.Get([]byte("acct:alice"))
		if err != nil {
			return err
		}
		b, err := txn.Get([]byte("acct:bob"))
		if err != nil {
			return err
		}
		na, _ := strconv.Atoi(string(a))
		nb, _ := strconv.Atoi(string(b))
		if err := txn.Put([]byte("acct:alice"), []byte(strconv.Itoa(na-30))); err != nil {
			return err
		}
		return txn.Put([]byte("acct:bob"), []byte(strconv.Itoa(nb+30)))
	}))
	// A snapshot: later writes do not show through it.
	must(db.ViewSnapshot(func(s *mantis.Snapshot) error {
		must(db.Put([]byte("acct:bob"), []byte("0")))
		total := 0
		err := s.ScanPrefix([]byte("acct:"), func(k, v []byte) bool {
			n, _ := strconv.Atoi(string(v))
			total += n
			return true
		})
		fmt.Printf("total at snapshot %d: %d\n", s.Version(), total)
		return err
	}))

	stats, err := db.Stats()
	must(err)
	fmt.Printf("stats: %d keys, %d puts\n", stats.Keys, stats.Puts)

	cache, err := mantis.NewCache(mantis.CacheOptions{Capacity: 1 << 20})
	must(err)
	defer cache.Close()
	must(cache.PutTTL([]byte("page:/"), []byte("<html>"), time.Minute))
	page, err := cache.Get([]byte("page:/"))
	must(err)
	fmt.Printf("cached page: %s\n", page)

	must(db.Close())
	if err := db.Put([]byte("k"), []byte("v")); errors.Is(err, mantis.ErrClosed) {
		fmt.Println("after Close:", err)
	}
}

func must(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
