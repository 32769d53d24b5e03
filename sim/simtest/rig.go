// Package simtest drives one node under test outside a full topology, for
// the unit tests of the reference nodes.
//
// A Rig builds a real world with two nodes, so that the node's effects are
// applied by the kernel (timers fire, dials open connections after a round
// trip): node 0 is a probe around the node under test, node 1 (Peer) a
// silent stand-in for its peer. The kernel runs as a coroutine (iter.Pull)
// that the test resumes to let simulated time pass; while it is paused the
// world is quiescent and the test steps the node with sim.Input values
// (World.Inject). What the node does is recorded where the kernel reports
// it: frames by the Monitor (then dropped by the Interceptor, so nothing
// reaches either node unless the test delivers it), dials by the
// Interceptor, timers when they fire (the probe records, then forwards them
// to the node), events by the Monitor.
//
// The transcript tests (RunTranscripts) need no kernel: they step the node
// with a bare sim.Effects and print what it recorded.
package simtest

import (
	"iter"
	"testing"

	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// Peer is the stand-in peer's node id; the node under test is node 0.
const Peer sim.NodeID = 1

// Frame is a frame the node under test sent, decoded.
type Frame struct {
	At   sim.Time
	Conn sim.ConnID
	M    wire.Message
}

// Ev is an event the node under test emitted (a copy).
type Ev struct {
	At    sim.Time
	Event sim.Event
}

// Event is a connection event the kernel gave a node.
type Event struct {
	At   sim.Time
	Conn sim.ConnID
}

// Rig runs one node under test; see the package comment.
type Rig struct {
	W         *sim.World
	Node      sim.Node
	AllowDial bool // whether the node's dials succeed

	Sent               []Frame
	Events             []Ev
	Dials              []sim.Time
	Fired              []sim.Time // timers fired at the node
	Ups, Downs         []Event    // InConnUp, InConnDown from the kernel
	PeerUps, PeerDowns []Event    // what the stand-in peer saw

	t       *testing.T
	yield   func(struct{}) bool
	next    func() (struct{}, bool)
	started bool
	peerDo  func(fx *sim.Effects)
}

type probe struct {
	r    *Rig
	peer bool
}

func (p *probe) Crash() {
	if !p.peer {
		p.r.Node.Crash()
	}
}

func (p *probe) Probe(pr *sim.Probe) {
	if !p.peer {
		p.r.Node.Probe(pr)
	}
}

// peerStep is the timer tag with which the rig steps the stand-in peer to
// make it act (Rig.PeerDo).
const peerStep = ^uint64(0)

func (p *probe) Step(now sim.Time, in *sim.Input, fx *sim.Effects) {
	r := p.r
	if p.peer {
		switch in.Kind {
		case sim.InStart: // node 1 starts after node 0
			r.W.At(now, r.pause(3))
		case sim.InTimer:
			if in.Timer == peerStep && r.peerDo != nil {
				r.peerDo(fx)
			}
		case sim.InConnUp:
			r.PeerUps = append(r.PeerUps, Event{now, in.Conn})
		case sim.InConnDown:
			r.PeerDowns = append(r.PeerDowns, Event{now, in.Conn})
		}
		return
	}
	switch in.Kind {
	case sim.InStart:
		if !r.started {
			return // the kernel's start: the test starts the node itself
		}
	case sim.InTimer:
		r.Fired = append(r.Fired, now)
	case sim.InConnUp:
		r.Ups = append(r.Ups, Event{now, in.Conn})
	case sim.InConnDown:
		r.Downs = append(r.Downs, Event{now, in.Conn})
	}
	r.Node.Step(now, in, fx)
}

// hooks is the Rig's kernel Monitor and Interceptor.
type hooks struct{ r *Rig }

func (hooks) Step(sim.Time, sim.NodeID, *sim.Input, bool) {}
func (hooks) AfterStep(sim.Time, sim.NodeID)              {}
func (h hooks) Event(now sim.Time, node sim.NodeID, ev sim.Event) {
	if node == 0 {
		h.r.Events = append(h.r.Events, Ev{now, sim.CloneEvent(ev)})
	}
}
func (h hooks) Sent(now sim.Time, p *sim.Packet) {
	if p.From != 0 {
		return
	}
	m, err := wire.Default.Decode(p.Bytes)
	if err != nil {
		h.r.t.Errorf("node sent a frame that does not decode: %v", err)
		return
	}
	h.r.Sent = append(h.r.Sent, Frame{now, p.Conn, m})
}
func (hooks) Intercept(_ sim.Time, _ *sim.Packet, out []sim.Delivery) []sim.Delivery { return out }
func (h hooks) AllowDial(now sim.Time, from, to sim.NodeID) bool {
	r := h.r
	if from != 0 {
		return true
	}
	if to != Peer {
		r.t.Errorf("node dialled node %d, want %d", to, Peer)
	}
	r.Dials = append(r.Dials, now)
	return r.AllowDial
}

// New starts a rig around node; dialTimeout is the kernel's (0: its
// default).
func New(t *testing.T, node sim.Node, dialTimeout sim.Time) *Rig {
	t.Helper()
	r := &Rig{t: t, Node: node, AllowDial: true}
	r.W = sim.New(sim.Config{
		Seed:        1,
		Nodes:       []sim.NodeSpec{{Name: "sut", Node: &probe{r: r}}, {Name: "peer", Node: &probe{r: r, peer: true}}},
		Link:        func(sim.NodeID, sim.NodeID) sim.Link { return sim.Link{Base: sim.Millisecond} },
		Interceptor: hooks{r},
		Monitor:     hooks{r},
		DialTimeout: dialTimeout,
	})
	next, stop := iter.Pull(func(yield func(struct{}) bool) {
		r.yield = yield
		r.W.Run()
	})
	r.next = next
	t.Cleanup(stop)
	if _, ok := r.next(); !ok {
		t.Fatal("rig: the kernel did not start")
	}
	r.started = true
	return r
}

// pause yields to the test once every event already due at this instant
// has run (re-queueing itself a few times puts it behind them).
func (r *Rig) pause(n int) func(*sim.World) {
	return func(w *sim.World) {
		if n > 0 {
			w.At(w.Now(), r.pause(n-1))
			return
		}
		if !r.yield(struct{}{}) {
			w.Stop()
		}
	}
}

// Now is the simulated time.
func (r *Rig) Now() sim.Time { return r.W.Now() }

// Advance lets d of simulated time pass, running every event up to and
// including now+d.
func (r *Rig) Advance(d sim.Time) {
	r.t.Helper()
	r.W.At(r.Now()+d, r.pause(3))
	if _, ok := r.next(); !ok {
		r.t.Fatal("rig: the kernel stopped")
	}
}

// Input steps the node with in, now; the kernel applies its effects.
func (r *Rig) Input(in sim.Input) { r.W.Inject(0, in) }

// PeerDo has the stand-in peer act now: do records its effects (e.g.
// fx.Dial(0) to open a connection to the node under test).
func (r *Rig) PeerDo(do func(fx *sim.Effects)) {
	r.peerDo = do
	r.W.Inject(Peer, sim.Input{Kind: sim.InTimer, Timer: peerStep})
	r.peerDo = nil
}

// Deliver steps the node with m's frame on conn, then scribbles over the
// frame as the kernel recycles frame buffers: a node that kept a slice of
// it would see garbage.
func (r *Rig) Deliver(conn sim.ConnID, m wire.Message) {
	r.t.Helper()
	b, err := wire.Default.Encode(m)
	if err != nil {
		r.t.Fatalf("encode %T: %v", m, err)
	}
	r.Input(sim.Input{Kind: sim.InFrame, Conn: conn, Peer: Peer, Frame: b})
	for i := range b {
		b[i] = 0xA5
	}
}

// Mark is a position in Sent, for FramesOf and TimesOf.
func (r *Rig) Mark() int { return len(r.Sent) }

// EventsOf returns the node's events of type T, in order.
func EventsOf[T sim.Event](r *Rig) []T {
	var out []T
	for _, e := range r.Events {
		if x, ok := e.Event.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

// FramesOf returns the frames of type T the node sent since mark.
func FramesOf[T wire.Message](r *Rig, mark int) []T {
	var out []T
	for _, s := range r.Sent[mark:] {
		if m, ok := s.M.(T); ok {
			out = append(out, m)
		}
	}
	return out
}

// TimesOf returns when the frames of type T were sent since mark.
func TimesOf[T wire.Message](r *Rig, mark int) []sim.Time {
	var out []sim.Time
	for _, s := range r.Sent[mark:] {
		if _, ok := s.M.(T); ok {
			out = append(out, s.At)
		}
	}
	return out
}

// Vals dereferences frames for printing.
func Vals[T any](ps []*T) []T {
	out := make([]T, len(ps))
	for i, p := range ps {
		out[i] = *p
	}
	return out
}
