package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/bmatsuo/lmdb-go/lmdb"
	badger "github.com/dgraph-io/badger/v2"
	"github.com/syndtr/goleveldb/leveldb"
	leveldbopt "github.com/syndtr/goleveldb/leveldb/opt"
	leveldbutil "github.com/syndtr/goleveldb/leveldb/util"
	bolt "go.etcd.io/bbolt"

	"mantis.dev/mantis"
)

// store is one key-value store under test. open returns it empty; newWorker gives each goroutine
// its own handle for per-goroutine state (a reused batch, an LMDB read transaction).
type store interface {
	close() error
	newWorker() (worker, error)
	settings() string // exactly how the store is opened, for the report
}

// worker runs one goroutine's operations. get returns a copy of the value owned by the caller
// (nil, nil for a missing key). put and the puts of batchPut overwrite or insert. scanPrefix visits
// every key with the prefix in order, calling visit with zero-copy views valid during the call.
type worker interface {
	get(key []byte) ([]byte, error)
	put(key, value []byte) error
	batchPut(keys, values [][]byte) error // one atomic batch / transaction; values[i] goes to keys[i]
	scanPrefix(prefix []byte, visit func(key, value []byte)) error
	done() // releases the worker's own state
}

var storeNames = []string{"mantis", "lmdb", "bbolt", "badger", "leveldb"}

func openStore(name, dir string) (store, error) {
	switch name {
	case "mantis":
		return openMantis()
	case "lmdb":
		return openLMDB(dir)
	case "bbolt":
		return openBolt(dir)
	case "badger":
		return openBadger(dir)
	case "leveldb":
		return openLevelDB(dir)
	}
	return nil, fmt.Errorf("unknown store %q (known: %v)", name, storeNames)
}

// ---- mantis: the Go binding, memory only ----

type mantisStore struct{ db *mantis.DB }

func openMantis() (*mantisStore, error) {
	db, err := mantis.Open("", nil)
	return &mantisStore{db: db}, err
}

func (s *mantisStore) settings() string {
	return "mantis.Open(\"\", nil): memory only (no files), default options (no cache tier)"
}
func (s *mantisStore) close() error { return s.db.Close() }
func (s *mantisStore) newWorker() (worker, error) {
	return &mantisWorker{db: s.db, b: mantis.NewBatch()}, nil
}

type mantisWorker struct {
	db *mantis.DB
	b  *mantis.Batch
}

func (w *mantisWorker) get(key []byte) ([]byte, error) {
	v, err := w.db.Get(key)
	if errors.Is(err, mantis.ErrNotFound) {
		return nil, nil
	}
	return v, err
}
func (w *mantisWorker) put(key, value []byte) error { return w.db.Put(key, value) }
func (w *mantisWorker) batchPut(keys, values [][]byte) error {
	w.b.Reset()
	for i, k := range keys {
		w.b.Put(k, values[i])
	}
	return w.db.Write(w.b)
}
func (w *mantisWorker) scanPrefix(prefix []byte, visit func(key, value []byte)) error {
	return w.db.ScanPrefix(prefix, func(k, v []byte) bool { visit(k, v); return true })
}
func (w *mantisWorker) done() {}

// ---- lmdb-go: LMDB through cgo ----

type lmdbStore struct {
	env *lmdb.Env
	dbi lmdb.DBI
}

const lmdbFlags = lmdb.NoSync | lmdb.WriteMap | lmdb.NoMetaSync

func openLMDB(dir string) (*lmdbStore, error) {
	env, err := lmdb.NewEnv()
	if err != nil {
		return nil, err
	}
	s := &lmdbStore{env: env}
	if err := env.SetMapSize(8 << 30); err != nil {
		return nil, err
	}
	if err := env.SetMaxReaders(256); err != nil {
		return nil, err
	}
	if err := env.Open(dir, lmdbFlags, 0o600); err != nil {
		return nil, err
	}
	err = env.Update(func(txn *lmdb.Txn) (err error) {
		s.dbi, err = txn.OpenRoot(0)
		return err
	})
	return s, err
}

func (s *lmdbStore) settings() string {
	return "lmdb-go (bundled LMDB): MDB_NOSYNC|MDB_WRITEMAP|MDB_NOMETASYNC (and lmdb-go's MDB_NOTLS), 8 GiB map; " +
		"get: the goroutine's read-only txn, Renew + Get + Reset per operation, RawRead then a copy; " +
		"put: env.Update per put; batch: one env.Update; scan: a cursor (SetRange, Next) in a renewed read txn"
}
func (s *lmdbStore) close() error { return s.env.Close() }

func (s *lmdbStore) newWorker() (worker, error) {
	txn, err := s.env.BeginTxn(nil, lmdb.Readonly)
	if err != nil {
		return nil, err
	}
	txn.RawRead = true
	txn.Reset()
	return &lmdbWorker{s: s, rtxn: txn}, nil
}

type lmdbWorker struct {
	s    *lmdbStore
	rtxn *lmdb.Txn // reset between operations
}

func (w *lmdbWorker) get(key []byte) ([]byte, error) {
	if err := w.rtxn.Renew(); err != nil {
		return nil, err
	}
	defer w.rtxn.Reset()
	v, err := w.rtxn.Get(w.s.dbi, key)
	if lmdb.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), v...), nil
}

func (w *lmdbWorker) put(key, value []byte) error {
	return w.s.env.Update(func(txn *lmdb.Txn) error { return txn.Put(w.s.dbi, key, value, 0) })
}

func (w *lmdbWorker) batchPut(keys, values [][]byte) error {
	return w.s.env.Update(func(txn *lmdb.Txn) error {
		for i, k := range keys {
			if err := txn.Put(w.s.dbi, k, values[i], 0); err != nil {
				return err
			}
		}
		return nil
	})
}

func (w *lmdbWorker) scanPrefix(prefix []byte, visit func(key, value []byte)) error {
	if err := w.rtxn.Renew(); err != nil {
		return err
	}
	defer w.rtxn.Reset()
	cur, err := w.rtxn.OpenCursor(w.s.dbi)
	if err != nil {
		return err
	}
	defer cur.Close()
	k, v, err := cur.Get(prefix, nil, lmdb.SetRange)
	for err == nil && bytes.HasPrefix(k, prefix) {
		visit(k, v)
		k, v, err = cur.Get(nil, nil, lmdb.Next)
	}
	if lmdb.IsNotFound(err) {
		return nil
	}
	return err
}

func (w *lmdbWorker) done() { w.rtxn.Abort() }

// ---- bbolt ----

type boltStore struct{ db *bolt.DB }

var boltBucket = []byte("kv")

func openBolt(dir string) (*boltStore, error) {
	db, err := bolt.Open(filepath.Join(dir, "bolt.db"), 0o600, &bolt.Options{
		NoSync: true, NoGrowSync: true, NoFreelistSync: true, FreelistType: bolt.FreelistMapType,
		InitialMmapSize: 1 << 30,
	})
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		_, err := tx.CreateBucketIfNotExists(boltBucket)
		return err
	})
	return &boltStore{db: db}, err
}

func (s *boltStore) settings() string {
	return "bbolt: NoSync, NoGrowSync, NoFreelistSync, FreelistMapType, 1 GiB initial mmap; one bucket; " +
		"get: db.View + Bucket.Get + a copy; put: db.Update per put; batch: one db.Update; scan: db.View + Cursor (Seek, Next)"
}
func (s *boltStore) close() error               { return s.db.Close() }
func (s *boltStore) newWorker() (worker, error) { return s, nil }

func (s *boltStore) get(key []byte) (out []byte, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(boltBucket).Get(key); v != nil {
			out = append([]byte(nil), v...)
		}
		return nil
	})
	return out, err
}

func (s *boltStore) put(key, value []byte) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(boltBucket).Put(key, value) })
}

func (s *boltStore) batchPut(keys, values [][]byte) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(boltBucket)
		for i, k := range keys {
			if err := b.Put(k, values[i]); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *boltStore) scanPrefix(prefix []byte, visit func(key, value []byte)) error {
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(boltBucket).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			visit(k, v)
		}
		return nil
	})
}

func (s *boltStore) done() {}

// ---- badger v2 ----

type badgerStore struct{ db *badger.DB }

func openBadger(dir string) (*badgerStore, error) {
	db, err := badger.Open(badger.DefaultOptions(dir).WithSyncWrites(false).WithLogger(nil))
	return &badgerStore{db: db}, err
}

func (s *badgerStore) settings() string {
	return "badger v2: DefaultOptions with SyncWrites=false (value log written, never fsynced per write), logger off, " +
		"otherwise defaults (values < 1 KiB inline in the LSM tree, no block cache, no compression); " +
		"get: db.View + Txn.Get + Item.ValueCopy; put: db.Update per put; batch: WriteBatch (Set..., Flush); " +
		"scan: db.View + Iterator{Prefix, PrefetchValues false} + Item.Value"
}
func (s *badgerStore) close() error               { return s.db.Close() }
func (s *badgerStore) newWorker() (worker, error) { return s, nil }

func (s *badgerStore) get(key []byte) (out []byte, err error) {
	err = s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(key)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		out, err = item.ValueCopy(nil)
		return err
	})
	return out, err
}

func (s *badgerStore) put(key, value []byte) error {
	return s.db.Update(func(txn *badger.Txn) error { return txn.Set(key, value) })
}

func (s *badgerStore) batchPut(keys, values [][]byte) error {
	wb := s.db.NewWriteBatch()
	defer wb.Cancel()
	for i, k := range keys {
		if err := wb.Set(k, values[i]); err != nil {
			return err
		}
	}
	return wb.Flush()
}

func (s *badgerStore) done() {}

func (s *badgerStore) scanPrefix(prefix []byte, visit func(key, value []byte)) error {
	return s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: false})
		defer it.Close()
		for it.Seek(prefix); it.ValidForPrefix(prefix); it.Next() {
			item := it.Item()
			if err := item.Value(func(v []byte) error { visit(item.Key(), v); return nil }); err != nil {
				return err
			}
		}
		return nil
	})
}

// ---- goleveldb ----

type levelStore struct {
	db *leveldb.DB
	wo *leveldbopt.WriteOptions
}

func openLevelDB(dir string) (*levelStore, error) {
	db, err := leveldb.OpenFile(dir, &leveldbopt.Options{NoSync: true})
	return &levelStore{db: db, wo: &leveldbopt.WriteOptions{Sync: false}}, err
}

func (s *levelStore) settings() string {
	return "goleveldb: Options{NoSync: true} (no fsync at all), WriteOptions{Sync: false}, otherwise defaults " +
		"(4 MiB write buffer, 8 MiB block cache, snappy); get: DB.Get; put: DB.Put; batch: leveldb.Batch + DB.Write; " +
		"scan: DB.NewIterator(util.BytesPrefix)"
}
func (s *levelStore) close() error { return s.db.Close() }
func (s *levelStore) newWorker() (worker, error) {
	return &levelWorker{s: s, b: new(leveldb.Batch)}, nil
}

type levelWorker struct {
	s *levelStore
	b *leveldb.Batch
}

func (w *levelWorker) get(key []byte) ([]byte, error) {
	v, err := w.s.db.Get(key, nil)
	if errors.Is(err, leveldb.ErrNotFound) {
		return nil, nil
	}
	return v, err
}
func (w *levelWorker) put(key, value []byte) error { return w.s.db.Put(key, value, w.s.wo) }
func (w *levelWorker) batchPut(keys, values [][]byte) error {
	w.b.Reset()
	for i, k := range keys {
		w.b.Put(k, values[i])
	}
	return w.s.db.Write(w.b, w.s.wo)
}
func (w *levelWorker) scanPrefix(prefix []byte, visit func(key, value []byte)) error {
	it := w.s.db.NewIterator(leveldbutil.BytesPrefix(prefix), nil)
	for it.Next() {
		visit(it.Key(), it.Value())
	}
	it.Release()
	return it.Error()
}
func (w *levelWorker) done() {}

// removeAll is os.RemoveAll that reports nothing for a directory that is already gone.
func removeAll(dir string) error {
	if err := os.RemoveAll(dir); err != nil && !os.IsNotExist(err) {
		return err
	}
	return nil
}
