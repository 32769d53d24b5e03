package sim

import "github.com/syncsim/syncsim/wire"

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
	return append(out, Delivery{Bytes: p.Bytes})
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
}

func (c *conn) end(n NodeID) int {
	if c.ends[0] == n {
		return 0
	}
	return 1
}
