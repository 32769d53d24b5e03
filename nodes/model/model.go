// Package model is the document model the reference nodes share: a
// collection of documents with last-writer-wins by LSN, an order-independent
// digest that two nodes can compare, the snapshot encoding carried in
// ShapeSnapshot.data, and the delta payload encoding.
package model

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
)

// ShapeID is the shape a Lite subscribes to for collection c (one shape per
// collection in the reference topology).
func ShapeID(c string) string { return "shape:" + c }

// DigestKey is the VectorClockSync entry under which the reference Origin
// sends a collection's state digest next to its LSN: anti-entropy that lets
// a Lite detect divergence the protocol's own fields cannot (a ShapeDelta
// has no checksum).
func DigestKey(c string) string { return "#digest:" + c }

// AppliedKey is the VectorClockSync entry under which the reference Origin
// sends the receiving peer's applied mark: the highest mutation id it has
// applied (or rejected) for that peer.
const AppliedKey = "#applied"

// Collection holds documents and a running digest. Lookups use the map;
// nothing iterates it except Snapshot, which sorts.
type Collection struct {
	Name   string
	docs   map[string]*doc // a pointer: a replacement is one lookup
	digest uint64
}

// doc is a document's value with its hash, kept so that replacing or
// deleting it does not hash the old value again.
type doc struct {
	value []byte
	hash  uint64
}

// NewCollection returns an empty collection.
func NewCollection(name string) *Collection {
	return &Collection{Name: name, docs: map[string]*doc{}}
}

// docHash mixes a document's id and value into 64 bits (FNV-1a then a
// final avalanche), stable across processes.
func docHash(id string, v []byte) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i < len(id); i++ {
		h = (h ^ uint64(id[i])) * 0x100000001b3
	}
	h = (h ^ 0xff) * 0x100000001b3
	for _, c := range v {
		h = (h ^ uint64(c)) * 0x100000001b3
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	return h
}

// Put sets a document (value nil or empty deletes it). The collection keeps
// value itself, not a copy: nobody may modify it afterwards (the nodes pass
// decoded slices, which nothing writes: copies of a frame's bytes, or views
// of a shared frame, which nothing writes or recycles either).
func (c *Collection) Put(id string, value []byte) {
	d := c.docs[id]
	if d != nil {
		c.digest -= d.hash
	}
	if len(value) == 0 {
		if d != nil {
			delete(c.docs, id)
		}
		return
	}
	h := docHash(id, value)
	if d == nil {
		c.docs[id] = &doc{value, h}
	} else {
		d.value, d.hash = value, h
	}
	c.digest += h
}

// Get returns a document's value.
func (c *Collection) Get(id string) ([]byte, bool) {
	if d := c.docs[id]; d != nil {
		return d.value, true
	}
	return nil, false
}

// Len is the number of documents.
func (c *Collection) Len() int { return len(c.docs) }

// Digest is the sum of per-document hashes: equal for equal contents
// whatever order they were written in.
func (c *Collection) Digest() uint64 { return c.digest }

// Snapshot encodes the documents sorted by id: uvarint(len id) id
// uvarint(len value) value, repeated.
func (c *Collection) Snapshot() []byte {
	ids := make([]string, 0, len(c.docs))
	for id := range c.docs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var b []byte
	for _, id := range ids {
		b = binary.AppendUvarint(b, uint64(len(id)))
		b = append(b, id...)
		v := c.docs[id].value
		b = binary.AppendUvarint(b, uint64(len(v)))
		b = append(b, v...)
	}
	return b
}

// LoadSnapshot decodes a snapshot into a new collection and checks it holds
// want documents.
func LoadSnapshot(name string, data []byte, want uint64) (*Collection, error) {
	c := NewCollection(name)
	for off := 0; off < len(data); {
		id, n, err := field(data[off:])
		if err != nil {
			return nil, fmt.Errorf("snapshot of %s: document id at byte %d: %w", name, off, err)
		}
		off += n
		v, n, err := field(data[off:])
		if err != nil || len(v) == 0 {
			return nil, fmt.Errorf("snapshot of %s: value of %q at byte %d: bad or empty", name, id, off)
		}
		off += n
		c.Put(string(id), v)
	}
	if uint64(c.Len()) != want {
		return nil, fmt.Errorf("snapshot of %s: holds %d documents, header says %d", name, c.Len(), want)
	}
	return c, nil
}

func field(b []byte) ([]byte, int, error) {
	l, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, 0, errors.New("bad length")
	}
	if l > uint64(len(b)-n) {
		return nil, 0, errors.New("length past the end")
	}
	return b[n : n+int(l)], n + int(l), nil
}

// Delta payloads of DeltaPush: one op byte, then the value for an upsert.
const (
	OpUpsert byte = 1
	OpDelete byte = 2
)

// EncodeDelta builds a DeltaPush payload (never empty: Origin rejects an
// empty delta).
func EncodeDelta(value []byte) []byte {
	if len(value) == 0 {
		return []byte{OpDelete}
	}
	return append([]byte{OpUpsert}, value...)
}

// DecodeDelta returns the value a DeltaPush payload sets (nil deletes).
func DecodeDelta(d []byte) ([]byte, error) {
	switch {
	case len(d) == 1 && d[0] == OpDelete:
		return nil, nil
	case len(d) > 1 && d[0] == OpUpsert:
		return d[1:], nil
	}
	return nil, fmt.Errorf("malformed delta payload (%d bytes)", len(d))
}
