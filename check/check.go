// Package check holds syncsim's property checkers. A Checker watches a run
// through the kernel's Monitor hook and checks the safety properties at
// every event, stopping the run at the first violation; Final checks what
// can only be judged at the end. Convergence (liveness) is judged by the
// topology, which probes both sides, and reported here as a Violation of
// the "convergence" property.
//
// The checker trusts nothing a node says about itself that the frames show:
// it decodes the frames delivered to learn what Origin acked, which pushes
// failed their checksum and when a Lite asked to be throttled, and it
// counts the ShapeDelta frames Origin sends to judge the throttle (an
// Origin that ignores Throttle says nothing about it; the frames still
// tell). A node's events are used only for facts no frame carries:
// Origin's commits and a Lite's applies. Properties says, per property,
// what it rests on and which role it concerns.
package check

import (
	"fmt"
	"strings"

	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// The properties, by the names violations carry.
const (
	AckedNotLost  = "acked-not-lost"       // a mutation acked to a Lite is applied at Origin
	AppliedOnce   = "applied-at-most-once" // each mutation is applied at Origin at most once
	NoBadChecksum = "no-bad-checksum"      // Origin never applies a push that failed its checksum
	InOrderApply  = "in-order-apply"       // a Lite applies LSNs one by one, re-based only by snapshots
	ThrottleRate  = "throttle-rate"        // while throttled, Origin pushes within rate + burst
	QueueCapacity = "queue-capacity"       // a Lite's queue never exceeds its capacity
	Convergence   = "convergence"          // after heal, within the budget, everyone converges
)

// NodeError is the verdict of a run in which a node broke the node
// contract itself (an external process exited, hung or wrote what the
// contract does not allow): not a property of the protocol, and checked
// whatever an implementation claims.
const NodeError = "node-error"

// Property describes one property: the role whose implementation must
// claim it for it to be checked (0: every role), and what it rests on.
type Property struct {
	Name     string
	Concerns sim.Role
	What     string
	RestsOn  string
}

var properties = []Property{
	{AckedNotLost, sim.RoleOrigin, "a mutation acked to a Lite has been applied at Origin",
		"DeltaAck frames delivered to Lites; Origin's committed events (an ack that arrived through a frame corrupted in transit is judged at the end of the run)"},
	{AppliedOnce, sim.RoleOrigin, "no (peer, mutation id) is applied twice", "Origin's committed events"},
	{NoBadChecksum, sim.RoleOrigin, "Origin never applies a DeltaPush whose CRC32C failed",
		"DeltaPush frames delivered to Origin, decoded by the checker; Origin's committed events"},
	{InOrderApply, sim.RoleLite, "a Lite applies LSNs one by one; only a snapshot re-bases",
		"the Lite's applied, snapshot-loaded and corrupted-state events"},
	{ThrottleRate, sim.RoleOrigin, "from a Throttle{true} frame's arrival until a Throttle{false} arrives, or the lease runs out, Origin's pushes on that connection fit a token bucket at the suggested rate",
		"Throttle frames delivered to Origin and ShapeDelta frames it sends; the Origin's claimed terms (default rate, burst, lease)"},
	{QueueCapacity, sim.RoleLite, "a Lite's incoming queue never exceeds its capacity",
		"the Lite's probe answers (every sample and at the end) against its claimed capacity"},
	{Convergence, 0, "after heal, within the budget: every Lite holds Origin's state, nothing pending",
		"every node's probe answer: LSN and digest per collection, pending work"},
}

// Properties lists every property, in report order.
func Properties() []Property { return append([]Property(nil), properties...) }

// Names lists the property names, in report order.
func Names() []string {
	out := make([]string, len(properties))
	for i, p := range properties {
		out[i] = p.Name
	}
	return out
}

// Lookup finds a property by name.
func Lookup(name string) (Property, bool) {
	for _, p := range properties {
		if p.Name == name {
			return p, true
		}
	}
	return Property{}, false
}

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

// Config says what to check and against which terms.
type Config struct {
	Origin sim.NodeID
	// PeerOf maps a Lite node to the peer id it pushes with (nil: the
	// node id).
	PeerOf func(sim.NodeID) uint64
	// Check names the properties to check (nil: all of them).
	Check []string
	// Throttle is the pacing Origin claims; throttle-rate is checked only
	// when it is set. Slack is the stated tolerance on top of the burst
	// (default 1 frame).
	Throttle *sim.ThrottleTerms
	Slack    float64
	// QueueCap is a Lite's claimed queue capacity; queue-capacity is
	// checked only when it is positive.
	QueueCap int
	// Name names a node in violations when no world is attached (nil:
	// "node N").
	Name func(sim.NodeID) string
	// Report, if set, takes every violation and the checker goes on (a
	// live run does not stop at its first); a throttle's bucket then
	// starts full again, so that one episode is one violation.
	Report func(Violation)
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
	on    map[string]bool
	w     *sim.World
	first *Violation

	committed map[uint64]*peerCommits // by peer
	// pushed is the highest mutation id delivered to Origin, by peer: an
	// ack corrupted into a higher id is noise the Lite never takes.
	pushed   map[uint64]uint64
	rejected map[mutKey]bool // rejections delivered (they are final)
	applied  [][]shapeLast   // by Lite node: last LSN per collection
	// acks received through frames a fault altered: the Lite cannot tell
	// them from real ones, so they are excused now and must hold at Final.
	alteredAcks []mutKey
	throttle    []throttleState // by connection id (a throttle belongs to one session); read for every delta Origin sends, so by value: one cold line fewer per delta at 1,024 Lites

	// the step in progress
	stepBadCRC bool
	stepPush   mutKey
	dec        *wire.Scratch // aliasing decoder, for a checker used without a world
}

// New returns a checker; Attach it to the world it monitors.
func New(cfg Config) *Checker {
	if cfg.PeerOf == nil {
		cfg.PeerOf = func(n sim.NodeID) uint64 { return uint64(n) }
	}
	if cfg.Slack == 0 {
		cfg.Slack = 1
	}
	on := map[string]bool{}
	names := cfg.Check
	if names == nil {
		names = Names()
	}
	for _, n := range names {
		on[n] = true
	}
	if cfg.Throttle == nil {
		on[ThrottleRate] = false
	}
	if cfg.QueueCap <= 0 {
		on[QueueCapacity] = false
	}
	dec := wire.Default.NewScratch()
	dec.Alias = true // it keeps nothing of a frame
	return &Checker{cfg: cfg, on: on, committed: map[uint64]*peerCommits{}, pushed: map[uint64]uint64{},
		rejected: map[mutKey]bool{}, dec: dec}
}

// Attach binds the checker to w (for node names, the trace tail and Stop).
func (c *Checker) Attach(w *sim.World) { c.w = w }

// Checks reports whether property is checked in this run.
func (c *Checker) Checks(property string) bool { return c.on[property] }

// Violation is the first violation seen, or nil.
func (c *Checker) Violation() *Violation { return c.first }

func (c *Checker) fail(now sim.Time, node sim.NodeID, prop, format string, args ...any) {
	if c.first != nil || !c.on[prop] {
		return
	}
	v := &Violation{Property: prop, At: now, Node: node, Message: fmt.Sprintf(format, args...)}
	if c.cfg.Report != nil {
		v.NodeName = c.name(node)
		c.cfg.Report(*v)
		return
	}
	if c.w != nil {
		v.NodeName = c.w.NodeName(node)
		v.Tail = c.w.Tail()
		c.w.Stop()
	} else {
		v.NodeName = c.name(node)
	}
	c.first = v
}

func (c *Checker) name(n sim.NodeID) string {
	if c.w != nil {
		return c.w.NodeName(n)
	}
	if c.cfg.Name != nil {
		return c.cfg.Name(n)
	}
	return fmt.Sprintf("node %d", n)
}

// Step implements sim.Monitor: it reads the frame the node is about to
// handle.
func (c *Checker) Step(now sim.Time, node sim.NodeID, in *sim.Input, altered bool) {
	c.stepBadCRC = false
	if in.Kind != sim.InFrame || len(in.Frame) == 0 {
		return
	}
	t := wire.MsgType(in.Frame[0])
	if node != c.cfg.Origin {
		if t == wire.TypeDeltaAck || t == wire.TypeDeltaReject {
			if m, err := c.decode(node, in.Frame); err == nil {
				c.lite(now, node, m, altered)
			}
		}
		return
	}
	switch t {
	case wire.TypeDeltaPush:
		if m, err := c.decode(node, in.Frame); err == nil {
			push := m.(*wire.DeltaPush)
			c.stepBadCRC = !push.ChecksumOK()
			c.stepPush = mutKey{push.PeerID, push.MutationID}
			if !altered && push.MutationID > c.pushed[push.PeerID] {
				c.pushed[push.PeerID] = push.MutationID
			}
		}
	case wire.TypeThrottle:
		if m, err := c.decode(node, in.Frame); err == nil {
			c.throttleAsked(now, in.Conn, m.(*wire.Throttle))
		}
	}
}

// lite follows an ack or a rejection delivered to Lite node: Origin's word
// that the mutation is applied, or finally refused.
func (c *Checker) lite(now sim.Time, node sim.NodeID, m wire.Message, altered bool) {
	peer := c.cfg.PeerOf(node)
	switch m := m.(type) {
	case *wire.DeltaAck:
		k := mutKey{peer, m.MutationID}
		switch {
		case c.isCommitted(k):
		case altered:
			if m.MutationID <= c.pushed[peer] {
				c.alteredAcks = append(c.alteredAcks, k)
			}
		default:
			c.fail(now, node, AckedNotLost, "%s's mutation %d was acked but origin never applied it", c.name(node), k.mid)
		}
	case *wire.DeltaReject:
		if altered {
			return
		}
		k := mutKey{peer, m.MutationID}
		c.rejected[k] = true // nothing was promised, and it corrects a false ack
		for i, a := range c.alteredAcks {
			if a == k {
				c.alteredAcks = append(c.alteredAcks[:i], c.alteredAcks[i+1:]...)
				break
			}
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
	terms := c.cfg.Throttle
	if terms == nil {
		return
	}
	if int(conn) >= len(c.throttle) {
		c.throttle = append(c.throttle, make([]throttleState, int(conn)+1-len(c.throttle))...)
	}
	t := &c.throttle[conn] // the zero state: never asked
	if !m.Throttle {
		t.on = false
		return
	}
	rate := float64(m.SuggestedRate)
	if rate == 0 {
		rate = terms.DefaultRate
	}
	if c.engaged(now, t) {
		t.refill(now, terms.Burst) // earned at the old rate
	} else {
		t.tokens = terms.Burst
	}
	t.on, t.rate, t.at, t.asked = true, rate, now, now
}

// engaged reports whether a throttle still binds Origin: asked for and not
// released, and its lease not yet run out since the last request.
func (c *Checker) engaged(now sim.Time, t *throttleState) bool {
	if t.on && c.cfg.Throttle.Lease > 0 && now-t.asked >= c.cfg.Throttle.Lease {
		t.on = false
	}
	return t.on
}

// Event implements sim.Monitor: every property that an event can break is
// checked here, at once.
func (c *Checker) Event(now sim.Time, node sim.NodeID, ev sim.Event) {
	if e, ok := ev.(*sim.Applied); ok { // the most frequent event, by one comparison
		c.applied1(now, node, e)
		return
	}
	switch e := ev.(type) {
	case *sim.Committed:
		if e.Peer == 0 { // a local write at Origin
			return
		}
		k := mutKey{e.Peer, e.Mutation}
		if c.isCommitted(k) {
			c.fail(now, node, AppliedOnce, "origin applied mutation %d of peer %d a second time (LSN %d of %s)", k.mid, k.peer, e.LSN, e.Collection)
		}
		c.peer(k.peer).add(k.mid)
		if c.stepBadCRC && c.stepPush == k {
			c.fail(now, node, NoBadChecksum, "origin applied mutation %d of peer %d although its delta failed the CRC32C check", k.mid, k.peer)
		}
	case *sim.SnapshotLoaded:
		*c.last(node, e.Collection) = e.LSN
	case *sim.CorruptedState:
		if int(node) < len(c.applied) { // the Lite wiped itself: every shape starts over
			for i := range c.applied[node] {
				c.applied[node][i].last = 0
			}
		}
	}
}

// applied1 checks one applied delta: the next LSN of its collection.
func (c *Checker) applied1(now sim.Time, node sim.NodeID, e *sim.Applied) {
	l := c.last(node, e.Collection)
	if last := *l; e.LSN != last+1 {
		what := "after"
		switch {
		case e.LSN == last+2:
			what = fmt.Sprintf("skipping %d after", last+1)
		case e.LSN > last+2:
			what = fmt.Sprintf("skipping %d..%d after", last+1, e.LSN-1)
		}
		c.fail(now, node, InOrderApply, "%s applied LSN %d of %s %s %d", c.name(node), e.LSN, e.Collection, what, last)
	}
	*l = e.LSN
}

// Sent implements sim.Monitor: Origin's pushes to a throttled peer are
// charged against a token bucket at the suggested rate.
func (c *Checker) Sent(now sim.Time, p *sim.Packet) {
	if p.From != c.cfg.Origin || p.Type != wire.TypeShapeDelta {
		return
	}
	if int(p.Conn) >= len(c.throttle) {
		return
	}
	t := &c.throttle[p.Conn]
	if !c.engaged(now, t) {
		return
	}
	burst := c.cfg.Throttle.Burst
	t.refill(now, burst)
	t.tokens--
	if t.tokens < -c.cfg.Slack {
		c.fail(now, c.cfg.Origin, ThrottleRate, "origin pushed to %s on connection %d faster than the %.0f deltas/s it was asked for (burst %.0f, slack %.0f)",
			c.name(p.To), p.Conn, t.rate, burst, c.cfg.Slack)
		if c.cfg.Report != nil {
			t.tokens = burst
		}
	}
}

// AfterStep implements sim.Monitor.
func (c *Checker) AfterStep(sim.Time, sim.NodeID) {}

// Probed checks a Lite's probe answer: its queue within its capacity.
func (c *Checker) Probed(now sim.Time, node sim.NodeID, p *sim.Probe) {
	if c.cfg.QueueCap > 0 && p.QueueDepth > c.cfg.QueueCap {
		c.fail(now, node, QueueCapacity, "%s holds %d queued deltas, over its capacity of %d", c.name(node), p.QueueDepth, c.cfg.QueueCap)
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
// Lite took from an altered frame must by now be true (or the mutation
// finally rejected).
func (c *Checker) Final(now sim.Time) {
	for _, k := range c.alteredAcks {
		if !c.isCommitted(k) && !c.rejected[k] {
			c.fail(now, c.cfg.Origin, AckedNotLost, "peer %d's mutation %d was acked (through a frame corrupted in transit) and origin never applied it", k.peer, k.mid)
			return
		}
	}
}

// Liveness records a convergence failure as a violation.
func (c *Checker) Liveness(now sim.Time, node sim.NodeID, why string) {
	c.fail(now, node, Convergence, "%s", why)
}
