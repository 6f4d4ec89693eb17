package mantis

import (
	"encoding/binary"
	"time"
)

// Batch collects puts and deletes in Go memory; DB.Write applies them in order with one cgo call.
// A Batch is not safe for concurrent use; it may be reused after Reset. The zero value is empty
// and ready to use.
type Batch struct {
	rep   []byte
	count int
}

// NewBatch returns an empty batch.
func NewBatch() *Batch { return &Batch{} }

const (
	opPut    = 0
	opDelete = 1
)

// append records one operation in the layout mantis_go_write decodes (see shim.h).
func (b *Batch) append(kind byte, ttl time.Duration, key, value []byte) {
	var header [25]byte
	header[0] = kind
	binary.LittleEndian.PutUint64(header[1:], uint64(int64(milliseconds(ttl))))
	binary.LittleEndian.PutUint64(header[9:], uint64(len(key)))
	binary.LittleEndian.PutUint64(header[17:], uint64(len(value)))
	b.rep = append(b.rep, header[:]...)
	b.rep = append(b.rep, key...)
	b.rep = append(b.rep, value...)
	b.count++
}

// Put records a put of key -> value (both are copied).
func (b *Batch) Put(key, value []byte) { b.append(opPut, 0, key, value) }

// PutTTL records a put that expires after ttl (rounded up to whole milliseconds; 0 = never).
func (b *Batch) PutTTL(key, value []byte, ttl time.Duration) { b.append(opPut, ttl, key, value) }

// Delete records the removal of key.
func (b *Batch) Delete(key []byte) { b.append(opDelete, 0, key, nil) }

// Len returns the number of recorded operations.
func (b *Batch) Len() int { return b.count }

// Reset empties the batch, keeping its memory.
func (b *Batch) Reset() {
	b.rep = b.rep[:0]
	b.count = 0
}
