package sim

import (
	"math/bits"

	"github.com/syncsim/syncsim/wire"
)

// Packet is one frame on its way across a connection, as an Interceptor
// sees it. Bytes are the real wire encoding; they may be the sender's own
// buffer, so an Interceptor never modifies them (it alters a copy).
type Packet struct {
	Conn     ConnID
	From, To NodeID
	Type     wire.MsgType // the frame's first byte as sent
	Bytes    []byte
}

// Delivery is one arrival an Interceptor asks for. Zero deliveries drop the
// frame; two or more duplicate it.
type Delivery struct {
	Delay     Time   // extra latency on top of the link's
	Bytes     []byte // what arrives (may differ from what was sent)
	Unordered bool   // may overtake earlier frames (a reorder)
	Altered   bool   // bytes were changed (counted as corrupted)
}

// Interceptor sees every frame before delivery and every dial. It is the one
// place faults touch the network; the default lets everything through.
type Interceptor interface {
	// Intercept appends the deliveries for p to out and returns it. It
	// must neither modify nor retain p.Bytes (the sender may re-send the
	// same buffer): a fault alters or keeps a copy.
	Intercept(now Time, p *Packet, out []Delivery) []Delivery
	// AllowDial reports whether a connection from→to can open now.
	AllowDial(now Time, from, to NodeID) bool
}

// PassThrough is the no-fault Interceptor.
type PassThrough struct{}

// Intercept delivers p unchanged.
func (PassThrough) Intercept(_ Time, p *Packet, out []Delivery) []Delivery {
	out = append(out, Delivery{}) // filled in place (see eventQueue.add)
	out[len(out)-1].Bytes = p.Bytes
	return out
}

// AllowDial always allows.
func (PassThrough) AllowDial(Time, NodeID, NodeID) bool { return true }

// Link is the latency model of one direction between two nodes.
type Link struct {
	Base   Time // fixed one-way latency
	Jitter Time // uniform extra latency in [0, Jitter)
}

// conn is one bidirectional connection; FIFO per direction as TCP gives.
type conn struct {
	id     ConnID
	ends   [2]NodeID // ends[0] dialled ends[1]
	up     bool
	opened bool    // the dialler has seen InConnUp
	lastAt [2]Time // latest scheduled arrival per direction (index = receiving end)
	// flow holds each direction's frames in flight in arrival order (index
	// = receiving end); only the first of each is in the event queue.
	flow [2]flow
}

// arrival is a frame in flight in order on one direction of a connection:
// its place in the run's total order (at, seq) and its bytes.
type arrival struct {
	at      Time
	seq     uint64
	buf     []byte
	altered bool
	shared  bool   // buf is a shared frame (Effects.SendShared): not recycled
	crc     uint32 // shared: buf's CRC32C for the trace, taken once at send
}

// flow is a FIFO ring of arrivals. The frames of one direction arrive in
// the order they were sent (at never decreases, seq always grows), so the
// event queue needs only the first of them: its size is then the number of
// connections and timers, not of the frames in flight, which grow with
// the square of the Lites in a fan-out. The order of events is the same
// (at, seq) order as with every frame in the queue.
type flow struct {
	ring []arrival // len is a power of two, or 0
	head int       // index of the first arrival
	n    int       // arrivals held
}

// add appends an arrival and returns it for the caller to fill in place
// (see eventQueue.add), every field: a slot of a ring from spare may hold
// a stale arrival. A full ring grows into one twice its size from spare.
func (f *flow) add(spare *spareRings) *arrival {
	if f.n == len(f.ring) {
		f.resize(max(8, 2*len(f.ring)), spare)
	}
	a := &f.ring[(f.head+f.n)&(len(f.ring)-1)]
	f.n++
	return a
}

// resize moves the arrivals into a ring of n (a power of two, at least
// f.n) from spare, and gives the old ring to spare.
func (f *flow) resize(n int, spare *spareRings) {
	r := spare.get(n)
	for i := 0; i < f.n; i++ {
		r[i] = f.ring[(f.head+i)&(len(f.ring)-1)]
	}
	spare.put(f.ring)
	f.ring, f.head = r, 0
}

// first is the arrival at the head; the flow must not be empty.
func (f *flow) first() *arrival { return &f.ring[f.head] }

// take removes and returns the head arrival; the flow must not be empty.
func (f *flow) take() arrival {
	a := f.ring[f.head]
	f.ring[f.head] = arrival{} // the buffer belongs to the caller now
	f.head = (f.head + 1) & (len(f.ring) - 1)
	f.n--
	return a
}

func (c *conn) end(n NodeID) int {
	if c.ends[0] == n {
		return 0
	}
	return 1
}

// spareRings keeps emptied flow rings for reuse, a few of each size: a
// burst on one connection (a backlog sent at once) then borrows memory
// another burst gave back, where each flow kept its own peak before.
type spareRings struct {
	bySize [32][][]arrival // by log2 of the length
}

// spareRingsPerSize bounds the rings kept of each size.
const spareRingsPerSize = 8

func (s *spareRings) get(n int) []arrival {
	k := bits.Len(uint(n)) - 1 // n is a power of two
	if m := len(s.bySize[k]); m > 0 {
		r := s.bySize[k][m-1]
		s.bySize[k] = s.bySize[k][:m-1]
		return r
	}
	return make([]arrival, n)
}

// put keeps r, whose arrivals were all moved or taken, for reuse. Its
// slots are not cleared: a slot is written before it is read, and what a
// stale one points to is a pool buffer (clearing cost a write barrier per
// slot while the collector runs).
func (s *spareRings) put(r []arrival) {
	if len(r) == 0 {
		return
	}
	k := bits.Len(uint(len(r))) - 1
	if len(s.bySize[k]) < spareRingsPerSize {
		s.bySize[k] = append(s.bySize[k], r)
	}
}
