// Package check holds syncsim's property checkers. A Checker watches a run
// through the kernel's Monitor hook and checks the safety properties at
// every event, stopping the run at the first violation; Final checks what
// can only be judged at the end. Convergence (liveness) is judged by the
// topology that knows both sides (topology.Divergence) and reported here as
// a Violation of the "convergence" property.
//
// The checker trusts nothing a node says about itself that it can check
// from the outside: it decodes the frames it sees delivered to find bad
// checksums and to learn when a Lite asked to be throttled, and it counts
// the ShapeDelta frames Origin sends to judge the throttle. (An Origin that
// ignores Throttle says nothing about it; the frames still tell.)
package check

import (
	"fmt"
	"strings"

	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// The properties, by the names violations carry.
const (
	AckedNotLost     = "acked-not-lost"       // a mutation acked to a Lite is applied at Origin
	AppliedOnce      = "applied-at-most-once" // each mutation is applied at Origin at most once
	NoBadChecksum    = "no-bad-checksum"      // Origin never applies a push that failed its checksum
	InOrderApply     = "in-order-apply"       // a Lite applies LSNs one by one, re-based only by snapshots
	ThrottleRate     = "throttle-rate"        // while throttled, Origin pushes within rate + burst
	QueueCapacity    = "queue-capacity"       // a Lite's queue never exceeds its hard capacity
	Convergence      = "convergence"          // after heal, within the budget, everyone converges
	NoDecodeOfEncode = "encodable"            // a node never builds a message it cannot encode
)

// Violation is a broken promise, with what is needed to understand it.
type Violation struct {
	Property string
	At       sim.Time
	Node     sim.NodeID
	NodeName string
	Message  string // a plain sentence: "lite2 applied LSN 41 of c0 after 43"
	Tail     []sim.TraceEvent
}

func (v *Violation) String() string {
	return fmt.Sprintf("%s violated at %v on %s: %s", v.Property, v.At, v.NodeName, v.Message)
}

// Report renders the violation with the last n trace events.
func (v *Violation) Report(n int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "property: %s\ntime:     %v\nnode:     %s\nwhat:     %s\n", v.Property, v.At, v.NodeName, v.Message)
	tail := v.Tail
	if len(tail) > n {
		tail = tail[len(tail)-n:]
	}
	fmt.Fprintf(&b, "last %d trace events:\n", len(tail))
	for i := range tail {
		b.WriteString("  " + tail[i].String() + "\n")
	}
	return b.String()
}

// QueueProber is a node whose incoming queue can be inspected.
type QueueProber interface {
	QueueDepth() (depth, capacity int)
}

// Config tunes the checker.
type Config struct {
	Origin sim.NodeID
	// PeerOf maps a Lite node to the peer id it pushes with (nil: the
	// node id).
	PeerOf func(sim.NodeID) uint64
	// ThrottleBurst is the burst Origin may send above the rate once a
	// throttle engages (its token bucket's depth); Slack is the stated
	// tolerance on top (default 1 frame).
	ThrottleBurst, Slack float64
	// DefaultRate is the rate a Throttle suggesting 0 stands for (50/s);
	// ThrottleLease is how long a throttle lasts without being repeated
	// (5 s): Origin may end it by its lease no sooner.
	DefaultRate   float64
	ThrottleLease sim.Time
}

type mutKey struct{ peer, mid uint64 }

// peerCommits is the set of a peer's applied mutation ids, kept compact: all
// ids up to hw, plus the few above it (Origin applies in order, so the set
// above hw stays small and memory stays flat however long a run is).
type peerCommits struct {
	hw    uint64
	above map[uint64]bool
}

func (p *peerCommits) has(mid uint64) bool { return mid <= p.hw || p.above[mid] }

func (p *peerCommits) add(mid uint64) {
	if mid != p.hw+1 {
		if p.above == nil {
			p.above = map[uint64]bool{}
		}
		p.above[mid] = true
		return
	}
	p.hw++
	for p.above[p.hw+1] {
		delete(p.above, p.hw+1)
		p.hw++
	}
}

// shapeLast is a Lite's last applied LSN of one collection (a slice per
// node: a Lite has few collections, and this runs for every delta).
type shapeLast struct {
	coll string
	last uint64
}

type throttleState struct {
	on     bool
	rate   float64
	tokens float64
	at     sim.Time
	asked  sim.Time // when the last Throttle{true} arrived
}

func (t *throttleState) refill(now sim.Time, burst float64) {
	t.tokens = min(t.tokens+t.rate*(now-t.at).Seconds(), burst)
	t.at = now
}

// Checker checks the safety properties as a sim.Monitor.
type Checker struct {
	cfg   Config
	w     *sim.World
	first *Violation

	committed map[uint64]*peerCommits // by peer
	applied   [][]shapeLast           // by Lite node: last LSN per collection
	// acks received through frames a fault altered: the Lite cannot tell
	// them from real ones, so they are excused now and must hold at Final.
	alteredAcks []mutKey
	throttle    map[sim.ConnID]*throttleState // a throttle belongs to one session

	// the step in progress
	stepNode    sim.NodeID
	stepBadCRC  bool
	stepAltered bool
	stepPush    mutKey
	dec         *wire.Scratch // aliasing decoder for the frames stepped at Origin
	probers     []QueueProber // by node; nil for a node without a queue
}

// New returns a checker; Attach it to the world it monitors.
func New(cfg Config) *Checker {
	if cfg.PeerOf == nil {
		cfg.PeerOf = func(n sim.NodeID) uint64 { return uint64(n) }
	}
	if cfg.ThrottleBurst == 0 {
		cfg.ThrottleBurst = 8
	}
	if cfg.Slack == 0 {
		cfg.Slack = 1
	}
	if cfg.DefaultRate == 0 {
		cfg.DefaultRate = 50
	}
	if cfg.ThrottleLease == 0 {
		cfg.ThrottleLease = 5 * sim.Second
	}
	dec := wire.Default.NewScratch()
	dec.Alias = true // it keeps nothing of a frame
	return &Checker{cfg: cfg, committed: map[uint64]*peerCommits{},
		throttle: map[sim.ConnID]*throttleState{}, dec: dec}
}

// Attach binds the checker to w (for node names, the trace tail and Stop).
func (c *Checker) Attach(w *sim.World) {
	c.w = w
	// Which nodes have a queue is fixed for the run: ask once, not per step.
	c.probers = make([]QueueProber, w.NumNodes())
	for i := range c.probers {
		c.probers[i], _ = w.Node(sim.NodeID(i)).(QueueProber)
	}
}

// Violation is the first violation seen, or nil.
func (c *Checker) Violation() *Violation { return c.first }

func (c *Checker) fail(now sim.Time, node sim.NodeID, prop, format string, args ...any) {
	if c.first != nil {
		return
	}
	v := &Violation{Property: prop, At: now, Node: node, Message: fmt.Sprintf(format, args...)}
	if c.w != nil {
		v.NodeName = c.w.NodeName(node)
		v.Tail = c.w.Tail()
		c.w.Stop()
	} else {
		v.NodeName = fmt.Sprintf("node %d", node)
	}
	c.first = v
}

func (c *Checker) name(n sim.NodeID) string {
	if c.w != nil {
		return c.w.NodeName(n)
	}
	return fmt.Sprintf("node %d", n)
}

// Step implements sim.Monitor: it notes what the node is about to handle.
func (c *Checker) Step(now sim.Time, node sim.NodeID, in *sim.Input, altered bool) {
	c.stepNode, c.stepBadCRC, c.stepAltered = node, false, false
	if in.Kind != sim.InFrame {
		return
	}
	c.stepAltered = altered
	if node != c.cfg.Origin || len(in.Frame) == 0 {
		return
	}
	switch wire.MsgType(in.Frame[0]) {
	case wire.TypeDeltaPush:
		if m, err := c.decode(node, in.Frame); err == nil {
			push := m.(*wire.DeltaPush)
			c.stepBadCRC = !push.ChecksumOK()
			c.stepPush = mutKey{push.PeerID, push.MutationID}
		}
	case wire.TypeThrottle:
		if m, err := c.decode(node, in.Frame); err == nil {
			c.throttleAsked(now, in.Conn, m.(*wire.Throttle))
		}
	}
}

// decode decodes the frame node is about to be stepped with: through the
// world when attached, so the node does not decode it a second time.
func (c *Checker) decode(node sim.NodeID, frame []byte) (wire.Message, error) {
	if c.w != nil {
		return c.w.Peek(node, frame)
	}
	return c.dec.Decode(frame)
}

// throttleAsked follows a Throttle frame delivered to Origin on conn: from
// here on Origin owes that session the suggested rate, or is free of it.
func (c *Checker) throttleAsked(now sim.Time, conn sim.ConnID, m *wire.Throttle) {
	t := c.throttle[conn]
	if t == nil {
		t = &throttleState{}
		c.throttle[conn] = t
	}
	if !m.Throttle {
		t.on = false
		return
	}
	rate := float64(m.SuggestedRate)
	if rate == 0 {
		rate = c.cfg.DefaultRate
	}
	if t.on {
		t.refill(now, c.cfg.ThrottleBurst) // earned at the old rate
	} else {
		t.tokens = c.cfg.ThrottleBurst
	}
	t.on, t.rate, t.at, t.asked = true, rate, now, now
}

// Observe implements sim.Monitor: every property that an observation can
// break is checked here, at once.
func (c *Checker) Observe(now sim.Time, ob *sim.Observation) {
	switch ob.Kind {
	case sim.ObsCommit:
		if ob.B == 0 { // a local write at Origin
			return
		}
		k := mutKey{ob.B, ob.C}
		if c.isCommitted(k) {
			c.fail(now, ob.Node, AppliedOnce, "origin applied mutation %d of peer %d a second time (LSN %d of %s)", k.mid, k.peer, ob.A, ob.S)
		}
		c.peer(k.peer).add(k.mid)
		if c.stepBadCRC && c.stepPush == k {
			c.fail(now, ob.Node, NoBadChecksum, "origin applied mutation %d of peer %d although its delta failed the CRC32C check", k.mid, k.peer)
		}
	case sim.ObsAcked:
		k := mutKey{c.cfg.PeerOf(ob.Node), ob.C}
		if ob.B != 0 { // a rejection: nothing was promised, and it corrects a false ack
			for i, a := range c.alteredAcks {
				if a == k {
					c.alteredAcks = append(c.alteredAcks[:i], c.alteredAcks[i+1:]...)
					break
				}
			}
			return
		}
		if !c.isCommitted(k) {
			if c.stepAltered {
				c.alteredAcks = append(c.alteredAcks, k)
				return
			}
			c.fail(now, ob.Node, AckedNotLost, "%s's mutation %d was acked but origin never applied it", c.name(ob.Node), k.mid)
		}
	case sim.ObsApply:
		l := c.last(ob.Node, ob.S)
		if last := *l; ob.A != last+1 {
			what := "after"
			switch {
			case ob.A == last+2:
				what = fmt.Sprintf("skipping %d after", last+1)
			case ob.A > last+2:
				what = fmt.Sprintf("skipping %d..%d after", last+1, ob.A-1)
			}
			c.fail(now, ob.Node, InOrderApply, "%s applied LSN %d of %s %s %d", c.name(ob.Node), ob.A, ob.S, what, last)
		}
		*l = ob.A
	case sim.ObsSnapshot:
		*c.last(ob.Node, ob.S) = ob.A
	case sim.ObsCorruptedState:
		if int(ob.Node) < len(c.applied) { // the Lite wiped itself: every shape starts over
			for i := range c.applied[ob.Node] {
				c.applied[ob.Node][i].last = 0
			}
		}
	case sim.ObsThrottleOff:
		// Origin may end a throttle by its lease, once the lease has
		// run since the last request; a release frame is seen in Step.
		if t := c.throttle[sim.ConnID(ob.B)]; t != nil && ob.C == 1 && now-t.asked >= c.cfg.ThrottleLease {
			t.on = false
		}
	}
}

// Sent implements sim.Monitor: Origin's pushes to a throttled peer are
// charged against a token bucket at the suggested rate.
func (c *Checker) Sent(now sim.Time, p *sim.Packet) {
	if p.From != c.cfg.Origin || p.Type != wire.TypeShapeDelta {
		return
	}
	t := c.throttle[p.Conn]
	if t == nil || !t.on {
		return
	}
	t.refill(now, c.cfg.ThrottleBurst)
	t.tokens--
	if t.tokens < -c.cfg.Slack {
		c.fail(now, c.cfg.Origin, ThrottleRate, "origin pushed to %s faster than the %.0f deltas/s it was asked for (burst %.0f, slack %.0f)",
			c.name(p.To), t.rate, c.cfg.ThrottleBurst, c.cfg.Slack)
	}
}

// AfterStep implements sim.Monitor: it checks what must hold after every
// step (the queue capacity of a Lite).
func (c *Checker) AfterStep(now sim.Time, node sim.NodeID) {
	if int(node) >= len(c.probers) {
		return
	}
	if q := c.probers[node]; q != nil {
		if d, capacity := q.QueueDepth(); d > capacity {
			c.fail(now, node, QueueCapacity, "%s holds %d queued deltas, over its capacity of %d", c.name(node), d, capacity)
		}
	}
}

func (c *Checker) peer(id uint64) *peerCommits {
	p := c.committed[id]
	if p == nil {
		p = &peerCommits{}
		c.committed[id] = p
	}
	return p
}

func (c *Checker) isCommitted(k mutKey) bool {
	p := c.committed[k.peer]
	return p != nil && p.has(k.mid)
}

// last returns where node's last applied LSN of coll is kept.
func (c *Checker) last(node sim.NodeID, coll string) *uint64 {
	for int(node) >= len(c.applied) {
		c.applied = append(c.applied, nil)
	}
	shapes := c.applied[node]
	for i := range shapes {
		if shapes[i].coll == coll {
			return &shapes[i].last
		}
	}
	c.applied[node] = append(shapes, shapeLast{coll: coll})
	return &c.applied[node][len(shapes)].last
}

// Final checks what can only be judged at the end of a run: every ack a
// Lite took from an altered frame must by now be true.
func (c *Checker) Final(now sim.Time) {
	for _, k := range c.alteredAcks {
		if !c.isCommitted(k) {
			c.fail(now, c.cfg.Origin, AckedNotLost, "peer %d's mutation %d was acked (through a frame corrupted in transit) and origin never applied it", k.peer, k.mid)
			return
		}
	}
}

// Liveness records a convergence failure as a violation.
func (c *Checker) Liveness(now sim.Time, node sim.NodeID, why string) {
	c.fail(now, node, Convergence, "%s", why)
}
