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

// event is one scheduled happening. Events live in a slab; the queue
// orders small keys that point into it, so moving a key moves 24 bytes,
// not a whole event.
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

// evKey is an event's place in the queue: its order and its slab slot.
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

// eventQueue orders events by (at, seq), a total order (seq is unique),
// as a radix heap: a key goes into the bucket of the highest bit in which
// its time differs from last, the time of the latest key taken out of the
// buckets, so a push is a bit count and an append. A pop empties the
// lowest non-empty bucket: its earliest time becomes last and its keys
// move to lower buckets, those at last itself into now. Each key moves
// down a few times in all; a binary heap of the 3,000 keys of a 1,024-Lite
// run sifted through twelve levels at every push and pop.
//
// now holds the keys at or before last as a small binary heap on (at,
// seq): events scheduled for the current time, and any scheduled in the
// past, which pop before everything in the buckets, as they did from a
// heap. Every key in a bucket is after last; keys in a lower bucket are
// before those in a higher one.
type eventQueue struct {
	now     []evKey
	buckets [64][]evKey // by the highest bit of (at ^ last)
	full    uint64      // bit b set: buckets[b] is not empty
	last    uint64      // ord(at) of the latest key taken out of the buckets
	n       int
	slab    []event
	free    []uint32 // slab slots of popped events
}

// ord maps a time to an unsigned number in the same order.
func ord(t Time) uint64 { return uint64(t) ^ 1<<63 }

func (q *eventQueue) len() int { return q.n }

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
	q.n++
	k := evKey{at: at, seq: seq, slot: slot}
	if u := ord(at); u > q.last {
		b := bits.Len64(u^q.last) - 1
		q.buckets[b] = append(q.buckets[b], k)
		q.full |= 1 << b
	} else {
		q.pushNow(k)
	}
	return e
}

// pushNow adds k to the heap now (sift up with a hole).
func (q *eventQueue) pushNow(k evKey) {
	i := len(q.now)
	q.now = append(q.now, k)
	for i > 0 {
		p := (i - 1) / 2
		if !k.before(&q.now[p]) {
			break
		}
		q.now[i] = q.now[p]
		i = p
	}
	q.now[i] = k
}

// release frees slot, whose event has been handled.
func (q *eventQueue) release(slot uint32) {
	q.slab[slot] = event{} // release the frame buffer to the GC
	q.free = append(q.free, slot)
}

// popSlot removes the earliest event from the order and returns its slab
// slot, which stays taken until release: the kernel handles the event in
// place instead of copying it out (pushes meanwhile take other slots; if
// one grows the slab, the event's old copy is still intact). The queue
// must not be empty.
func (q *eventQueue) popSlot() uint32 {
	if len(q.now) == 0 {
		q.refill()
	}
	q.n--
	k := q.now
	top := k[0].slot
	n := len(k) - 1
	if n == 0 { // the usual case: one event at the time
		q.now = k[:0]
		return top
	}
	last := k[n]
	q.now = k[:n]
	k = k[:n]
	// Bottom-up: walk the hole down to a leaf along the smaller children
	// (one comparison per level), then sift last up from there.
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
	return top
}

// refill empties the lowest non-empty bucket: its earliest time becomes
// last, its keys at that time go to now and the rest to lower buckets.
func (q *eventQueue) refill() {
	b := bits.TrailingZeros64(q.full)
	keys := q.buckets[b]
	m := ord(keys[0].at)
	for i := 1; i < len(keys); i++ {
		m = min(m, ord(keys[i].at))
	}
	q.last = m
	for _, k := range keys {
		if u := ord(k.at); u == m {
			q.pushNow(k)
		} else {
			c := bits.Len64(u^m) - 1
			q.buckets[c] = append(q.buckets[c], k)
			q.full |= 1 << c
		}
	}
	q.buckets[b] = keys[:0]
	q.full &^= 1 << b
}
