package sim

import "math/bits"

// evKind is what an event does when it fires.
type evKind uint8

const (
	evInput    evKind = iota + 1 // step a node with a stored input kind (start, restart)
	evDeliver                    // frame bytes arrive at node on conn; tag = a shared frame's CRC32C
	evTimer                      // node timer; tag = node's tag, gen = incarnation
	evConnUp                     // connection opens at node
	evConnDown                   // connection closes at node
	evDialFail                   // dial from node failed
	evWrite                      // workload write at node
	evCall                       // kernel callback (faults, samples); tag indexes calls
	evFlow                       // the first frame of a connection's flow arrives; tag = receiving end
)

// event is one scheduled happening. Events live in a slab; the heap
// orders small keys that point into it, so sifting moves 24 bytes, not a
// whole event.
type event struct {
	at      Time
	seq     uint64
	kind    evKind
	in      InputKind
	altered bool // evDeliver: a fault changed the bytes
	shared  bool // evDeliver: buf is a shared frame, not recycled
	gen     uint32
	node    NodeID
	peer    NodeID
	conn    ConnID
	tag     uint64
	buf     []byte
}

// evKey is an event's place in the heap: its order and its slab slot.
type evKey struct {
	at   Time
	seq  uint64
	slot uint32
}

func (a *evKey) before(b *evKey) bool {
	return a.at < b.at || a.at == b.at && a.seq < b.seq
}

// less is before as 0 or 1 without a branch: (at, seq) compared as one
// 128-bit number by subtract-with-borrow (at's sign bit flipped so that
// signed order becomes unsigned). Which child of a heap node is smaller
// is a coin toss the branch predictor loses half the time.
func (a *evKey) less(b *evKey) int {
	_, borrow := bits.Sub64(a.seq, b.seq, 0)
	_, borrow = bits.Sub64(uint64(a.at)^1<<63, uint64(b.at)^1<<63, borrow)
	return int(borrow)
}

// eventQueue is a binary min-heap on (at, seq), which is a total order:
// seq is unique. Hand-written rather than container/heap so that pushes do
// not box events into interfaces.
type eventQueue struct {
	keys []evKey
	slab []event
	free []uint32 // slab slots of popped events
}

func (q *eventQueue) len() int { return len(q.keys) }

func (q *eventQueue) push(e event) { *q.add(e.at, e.seq) = e }

// add puts an event at (at, seq) in the order and returns it, zero but
// for at and seq, for the caller to fill in place before the next add
// (which may move the slab). Hot paths fill fields one by one: an event
// built whole and copied in is read back with wider moves than it was
// written with, a copy that must wait for every store before it to drain.
func (q *eventQueue) add(at Time, seq uint64) *event {
	var slot uint32
	if n := len(q.free); n > 0 {
		slot, q.free = q.free[n-1], q.free[:n-1] // zeroed by release
	} else {
		slot = uint32(len(q.slab))
		q.slab = append(q.slab, event{})
	}
	e := &q.slab[slot]
	e.at, e.seq = at, seq
	k := evKey{at: at, seq: seq, slot: slot}
	// Sift up with a hole: parents move down until k's place is found.
	i := len(q.keys)
	q.keys = append(q.keys, k)
	for i > 0 {
		p := (i - 1) / 2
		if !k.before(&q.keys[p]) {
			break
		}
		q.keys[i] = q.keys[p]
		i = p
	}
	q.keys[i] = k
	return e
}

// release frees slot, whose event has been handled.
func (q *eventQueue) release(slot uint32) {
	q.slab[slot] = event{} // release the frame buffer to the GC
	q.free = append(q.free, slot)
}

// popSlot removes the earliest event from the order and returns its slab
// slot, which stays taken until release: the kernel handles the event in
// place instead of copying it out (pushes meanwhile take other slots; if
// one grows the slab, the event's old copy is still intact).
func (q *eventQueue) popSlot() uint32 {
	top := q.keys[0].slot
	n := len(q.keys) - 1
	last := q.keys[n]
	q.keys = q.keys[:n]
	if n > 0 {
		// Bottom-up: walk the hole down to a leaf along the smaller
		// children (one comparison per level), then sift last up from
		// there. last came from the bottom, so it rarely climbs far; this
		// halves the comparisons of the textbook sift-down.
		k := q.keys
		i := 0
		for {
			c := 2*i + 1
			if c >= n {
				break
			}
			if c+1 < n {
				c += k[c+1].less(&k[c])
			}
			k[i] = k[c]
			i = c
		}
		for i > 0 {
			p := (i - 1) / 2
			if !last.before(&k[p]) {
				break
			}
			k[i] = k[p]
			i = p
		}
		k[i] = last
	}
	return top
}
