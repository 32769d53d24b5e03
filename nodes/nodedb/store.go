package nodedb

import "github.com/syncsim/syncsim/nodes/model"

// shapeStore is the Lite's copy of one shape's documents: the model of
// NodeDB Lite's CRDT document store, reduced to what the harness's wire
// carries.
//
// NodeDB merges CRDT updates: a change merges whatever order it arrives
// in, a change seen twice merges once, and two changes to one document are
// settled by an order on the changes themselves, never by arrival. The
// harness's ShapeDelta carries no CRDT metadata (its delta is the
// document's new value), and the one order it does carry is the LSN:
// Origin's commit order, which Origin's own state follows. So each
// document is a last-writer-wins register stamped with the LSN of the
// change that set it (a delete leaves a tombstone with its LSN), and a
// delta wins only over a lower stamp. Merging is commutative and
// idempotent: reordered or duplicated deltas end in the state that
// applying them in LSN order gives, which is Origin's state once every
// change has arrived. That is why the Lite does not claim in-order-apply.
//
// A snapshot replaces the documents (decision 2 in doc.go): a document
// without a write of its own since counts as written at the snapshot's
// LSN (floor), so a document the snapshot lacks counts as deleted there
// and an older update cannot bring it back.
type shapeStore struct {
	docs   *model.Collection // the documents: values, digest (docs/digest.md)
	stamps map[string]uint64 // LSN of each document's last write since the snapshot (tombstones too)
	floor  uint64            // the stamp of a document not in stamps: the snapshot's LSN
	high   uint64            // the highest LSN applied or loaded, ever (the probe's LSN)
}

func newShapeStore(coll string) *shapeStore {
	return &shapeStore{docs: model.NewCollection(coll), stamps: map[string]uint64{}}
}

// apply merges Origin's change at lsn (value nil: a delete) and reports
// whether it won its document's register. The store keeps value: a
// decoded message's bin field is a copy of the frame's bytes already.
func (s *shapeStore) apply(doc string, value []byte, lsn uint64) bool {
	stamp, ok := s.stamps[doc]
	if !ok {
		stamp = s.floor
	}
	if lsn <= stamp {
		return false // older than the document's last write, or the same change again
	}
	s.stamps[doc] = lsn
	s.docs.Put(doc, value)
	s.high = max(s.high, lsn)
	return true
}

// load replaces the documents with a snapshot taken at lsn.
func (s *shapeStore) load(docs *model.Collection, lsn uint64) {
	s.docs, s.floor = docs, lsn
	clear(s.stamps)
	s.high = max(s.high, lsn)
}
