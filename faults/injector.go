package faults

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// Event is one fault that fired: the unit of a recorded schedule. A
// schedule replayed with Replay reproduces the run's faults exactly, and a
// subset of it still applies sensibly, which is what shrinking needs.
type Event struct {
	At   sim.Time
	Kind Kind
	Node sim.NodeID   // node faults: the node; frame faults: the sender
	Peer sim.NodeID   // frame faults: the receiver
	Type wire.MsgType // frame faults: the frame's type as sent
	Nth  int          // frame faults: which of the frames of Type sent on the link at At
	Arg  sim.Time     // what was drawn: bit index, delay, new type/length, downtime, duration, writes
	// Factor is the SlowConsumer drain fraction.
	Factor float64
}

func (e Event) String() string {
	if e.Kind.IsFrame() {
		return fmt.Sprintf("%v %s %s %d->%d #%d arg=%d", e.At, e.Kind, e.Type, e.Node, e.Peer, e.Nth, e.Arg)
	}
	return fmt.Sprintf("%v %s node %d arg=%v", e.At, e.Kind, e.Node, e.Arg)
}

// The node interfaces some faults need. Nodes implement them without
// importing this package; a node that does not is left alone.
type (
	// DrainRater is a node whose consumption rate can be slowed.
	DrainRater interface {
		DrainRate() float64
		SetDrainRate(float64)
	}
	// DurableCorruptor is a node whose durable state can be damaged.
	DurableCorruptor interface {
		CorruptDurable(rng interface{ IntN(int) int })
	}
	// ClockSkewer is a node whose device clock can be offset.
	ClockSkewer interface{ SetClockSkew(sim.Time) }
)

// Injector applies a plan (or replays a schedule) to one run. It is the
// run's sim.Interceptor; Attach schedules its node faults.
type Injector struct {
	plan   Plan
	seed   uint64
	rngs   []*rand.Rand // one stream per spec
	w      *sim.World
	events []Event
	cuts   []cut
	nth    map[nthKey]nthState
	slow   map[sim.NodeID]*slowState
	// history keeps recent frames per link for ReplayOld.
	history map[[2]sim.NodeID]*ring
	// held engages (DelayEngage) waiting for their release, per link
	held map[[2]sim.NodeID][]byte
	// replay mode
	replay      bool
	pending     map[nthKey][]Event // by link and type, sorted by (At, Nth)
	scriptNodes []Event
}

type cut struct {
	node   sim.NodeID
	until  sim.Time
	oneWay bool
}

// nthKey counts frames per link and type: an event names "the Nth frame of
// this type sent on this link at this instant".
type nthKey struct {
	from, to sim.NodeID
	typ      wire.MsgType
}

type nthState struct {
	at sim.Time
	n  int
}

// ring holds the last few frames sent on a link.
type ring struct {
	frames [16][]byte
	n      int
}

func (r *ring) add(b []byte) {
	r.frames[r.n%len(r.frames)] = append(r.frames[r.n%len(r.frames)][:0], b...)
	r.n++
}

// oldest returns the oldest frame kept (nil when empty).
func (r *ring) oldest() []byte {
	if r.n == 0 {
		return nil
	}
	if r.n < len(r.frames) {
		return r.frames[0]
	}
	return r.frames[r.n%len(r.frames)]
}

type slowState struct {
	base   float64
	active int
}

// New returns an injector for plan, drawing from streams of seed.
func New(plan Plan, seed uint64) *Injector {
	in := &Injector{plan: plan, seed: seed, nth: map[nthKey]nthState{}, slow: map[sim.NodeID]*slowState{},
		history: map[[2]sim.NodeID]*ring{}, held: map[[2]sim.NodeID][]byte{}}
	for i, s := range plan.Specs {
		in.rngs = append(in.rngs, sim.Stream(seed, fmt.Sprintf("faults/%d/%s", i, s.Kind)))
	}
	return in
}

// Replay returns an injector that applies exactly the recorded events
// (heal is the plan's heal time; nothing outlasts it).
func Replay(events []Event, heal sim.Time) *Injector {
	in := &Injector{plan: Plan{Heal: heal}, replay: true, nth: map[nthKey]nthState{},
		slow: map[sim.NodeID]*slowState{}, pending: map[nthKey][]Event{}, history: map[[2]sim.NodeID]*ring{},
		held: map[[2]sim.NodeID][]byte{}}
	for _, e := range events {
		if e.Kind.IsFrame() {
			k := nthKey{e.Node, e.Peer, e.Type}
			in.pending[k] = append(in.pending[k], e)
		}
	}
	for k := range in.pending {
		slices.SortStableFunc(in.pending[k], func(a, b Event) int {
			if a.At != b.At {
				return int(a.At - b.At)
			}
			return a.Nth - b.Nth
		})
	}
	in.events = nil
	in.scriptNodes = events
	return in
}

// Events returns the faults that fired so far, in firing order.
func (in *Injector) Events() []Event { return in.events }

// Attach binds the injector to w and schedules its node faults.
func (in *Injector) Attach(w *sim.World) {
	in.w = w
	if in.replay {
		for _, e := range in.scriptNodes {
			if !e.Kind.IsFrame() {
				e := e
				w.At(e.At, func(*sim.World) { in.fire(e) })
			}
		}
		return
	}
	for i, s := range in.plan.Specs {
		if s.Kind.IsFrame() {
			continue
		}
		rng, cands := in.rngs[i], s.Target.nodes(w.NumNodes())
		end := s.end(in.plan.Heal)
		for t := s.Start; ; {
			t += sim.Time(rng.ExpFloat64() / s.Rate * float64(sim.Second))
			if t >= end {
				break
			}
			e := Event{At: t, Kind: s.Kind, Node: cands[rng.IntN(len(cands))], Arg: s.Arg, Factor: s.Factor}
			if e.Kind == CorruptDurable && e.Node == 0 && len(cands) > 1 {
				e.Node = cands[1+rng.IntN(len(cands)-1)] // Origin has no corruptible store: pick a Lite
			}
			w.At(t, func(*sim.World) { in.fire(e) })
		}
	}
}

func (in *Injector) record(e Event) {
	in.events = append(in.events, e)
	if in.w != nil {
		in.w.RecordFault(e.Node, e.Peer, 0, string(e.Kind), uint64(e.Arg), uint64(e.Type))
	}
}

// fire applies a node fault. Anything it starts ends by heal at the latest.
func (in *Injector) fire(e Event) {
	w, heal := in.w, in.plan.Heal
	until := min(w.Now()+e.Arg, heal)
	in.record(e)
	switch e.Kind {
	case Partition, PartitionOneWay:
		in.cuts = append(in.cuts, cut{node: e.Node, until: until, oneWay: e.Kind == PartitionOneWay})
	case Reset:
		for _, c := range slices.Clone(w.Conns(e.Node)) {
			w.ResetConn(c)
		}
	case Crash, CorruptDurable:
		if !w.Up(e.Node) {
			return
		}
		w.Crash(e.Node)
		if e.Kind == CorruptDurable {
			if d, ok := w.Node(e.Node).(DurableCorruptor); ok {
				d.CorruptDurable(sim.Stream(uint64(e.At), fmt.Sprintf("faults/corrupt/%d", e.Node)))
			}
		}
		w.At(until, func(w *sim.World) { w.Restart(e.Node) })
	case SlowConsumer:
		d, ok := w.Node(e.Node).(DrainRater)
		if !ok {
			return
		}
		st := in.slow[e.Node]
		if st == nil {
			st = &slowState{base: d.DrainRate()}
			in.slow[e.Node] = st
		}
		st.active++
		d.SetDrainRate(st.base * e.Factor)
		w.At(until, func(*sim.World) {
			if st.active--; st.active == 0 {
				d.SetDrainRate(st.base)
			}
		})
	case Burst:
		w.Burst(e.Node, int(e.Arg))
	case ClockSkew:
		if c, ok := w.Node(e.Node).(ClockSkewer); ok {
			c.SetClockSkew(e.Arg)
			w.At(min(w.Now()+5*sim.Second, heal), func(*sim.World) { c.SetClockSkew(0) })
		}
	}
}

// cutOff reports whether a partition stops from→to now.
func (in *Injector) cutOff(now sim.Time, from, to sim.NodeID) bool {
	for _, c := range in.cuts {
		if now < c.until && (c.node == from || !c.oneWay && c.node == to) {
			return true
		}
	}
	return false
}

// AllowDial implements sim.Interceptor: partitions refuse dials.
func (in *Injector) AllowDial(now sim.Time, from, to sim.NodeID) bool {
	return !in.cutOff(now, from, to) && !in.cutOff(now, to, from)
}

// Intercept implements sim.Interceptor.
func (in *Injector) Intercept(now sim.Time, p *sim.Packet, out []sim.Delivery) []sim.Delivery {
	nk := nthKey{p.From, p.To, p.Type}
	ns := in.nth[nk]
	if ns.at == now {
		ns.n++
	} else {
		ns = nthState{at: now}
	}
	in.nth[nk] = ns
	out = append(out, sim.Delivery{Bytes: p.Bytes})
	link := [2]sim.NodeID{p.From, p.To}
	h := in.history[link]
	if h == nil {
		h = &ring{}
		in.history[link] = h
	}
	defer h.add(p.Bytes) // after this frame's faults: a replay is of an older frame
	if held := in.held[link]; held != nil && p.Type == wire.TypeThrottle {
		if m, ok := decode(p.Bytes).(*wire.Throttle); ok && !m.Throttle {
			// The release goes out: the engage held back arrives after it.
			delete(in.held, link)
			out = append(out, sim.Delivery{Bytes: held, Delay: sim.Millisecond, Altered: true})
		}
	}
	if now >= in.plan.Heal {
		return out
	}
	if in.cutOff(now, p.From, p.To) {
		return out[:0]
	}
	base := Event{At: now, Node: p.From, Peer: p.To, Type: p.Type, Nth: ns.n}
	if in.replay {
		// Apply, in recorded order, every pending event due for this frame:
		// live runs may have stacked several faults on one frame.
		// An event whose frame no longer exists at its instant (a shrunk
		// schedule changed the run) applies to the next frame of its type.
		q := in.pending[nk]
		for len(q) > 0 && len(out) > 0 {
			e := q[0]
			if e.At > now || e.At == now && e.Nth > ns.n {
				break
			}
			q = q[1:]
			e.At, e.Nth = now, ns.n
			out = in.apply(e, p, out)
		}
		in.pending[nk] = q
		return out
	}
	for i, s := range in.plan.Specs {
		if !s.Kind.IsFrame() || now < s.Start || now >= s.end(in.plan.Heal) || !s.Target.matchesFrame(p.From, p.To) ||
			s.Type != 0 && s.Type != p.Type {
			continue
		}
		if t := actsOn(s.Kind); t != 0 && t != p.Type {
			continue
		}
		rng := in.rngs[i]
		if rng.Float64() >= s.Rate {
			continue
		}
		e := base
		e.Kind, e.Arg = s.Kind, in.draw(rng, s, p)
		if out = in.apply(e, p, out); len(out) == 0 {
			return out
		}
	}
	return out
}

// draw picks the random parameter of a frame fault.
func (in *Injector) draw(rng *rand.Rand, s Spec, p *sim.Packet) sim.Time {
	n := len(p.Bytes)
	switch s.Kind {
	case Duplicate:
		return cmp0(s.Arg, 3*sim.Millisecond)
	case Delay:
		return cmp0(s.Arg, 200*sim.Millisecond)
	case Reorder:
		return sim.Time(rng.Int64N(int64(cmp0(s.Arg, 50*sim.Millisecond))))
	case BitFlip:
		if n > wire.HeaderLen {
			return sim.Time(wire.HeaderLen*8 + rng.IntN((n-wire.HeaderLen)*8))
		}
		return sim.Time(rng.IntN(n * 8))
	case BadType:
		for {
			if b := wire.MsgType(rng.IntN(256)); !b.Known() {
				return sim.Time(b)
			}
		}
	case BadLength:
		return sim.Time(rng.Uint32N(uint32(2*n + 16)))
	case Truncate:
		return sim.Time(rng.IntN(max(n-1, 1)))
	case ForgeDelta:
		return sim.Time(rng.Uint32())
	case RewindLSN:
		return cmp0(s.Arg, 5)

	}
	return 0
}

// actsOn is the message type a protocol-aware fault rewrites (0: any frame).
func actsOn(k Kind) wire.MsgType {
	switch k {
	case StaleClock:
		return wire.TypeHandshake
	case RewindLSN:
		return wire.TypeShapeDelta
	case DelayEngage:
		return wire.TypeThrottle
	case ResyncAncient:
		return wire.TypeResyncRequest
	}
	return 0
}

func cmp0(v, def sim.Time) sim.Time {
	if v == 0 {
		return def
	}
	return v
}

// apply performs frame fault e on the deliveries of p.
func (in *Injector) apply(e Event, p *sim.Packet, out []sim.Delivery) []sim.Delivery {
	in.record(e)
	mutate := func(f func(b []byte) []byte) {
		for i := range out {
			b := f(append([]byte(nil), out[i].Bytes...))
			out[i].Bytes, out[i].Altered = b, true
		}
	}
	switch e.Kind {
	case Drop:
		return out[:0]
	case Duplicate:
		d := out[len(out)-1]
		d.Delay += e.Arg
		return append(out, d)
	case Delay:
		for i := range out {
			out[i].Delay += e.Arg
		}
	case Reorder:
		for i := range out {
			out[i].Delay += e.Arg
			out[i].Unordered = true
		}
	case BitFlip:
		mutate(func(b []byte) []byte {
			if bit := int(e.Arg); bit/8 < len(b) {
				b[bit/8] ^= 1 << (bit % 8)
			}
			return b
		})
	case BadType:
		mutate(func(b []byte) []byte {
			if len(b) > 0 { // an earlier fault on this frame may have truncated it to nothing
				b[0] = byte(e.Arg)
			}
			return b
		})
	case BadLength:
		mutate(func(b []byte) []byte {
			if len(b) >= wire.HeaderLen {
				binary.LittleEndian.PutUint32(b[1:], uint32(e.Arg))
			}
			return b
		})
	case Truncate:
		mutate(func(b []byte) []byte { return b[:min(int(e.Arg), len(b))] })
	case ReplayOld:
		if old := in.history[[2]sim.NodeID{p.From, p.To}].oldest(); old != nil {
			out = append(out, sim.Delivery{Bytes: append([]byte(nil), old...), Delay: sim.Millisecond, Altered: true})
		}
	case DelayEngage:
		link := [2]sim.NodeID{p.From, p.To}
		if m, ok := decode(p.Bytes).(*wire.Throttle); ok && m.Throttle && in.held[link] == nil {
			// Hold the engage until the next release on this link has been
			// sent, then deliver it after the release (see Intercept).
			in.held[link] = append([]byte(nil), p.Bytes...)
			return out[:0]
		}
	default:
		if b := rewrite(e, p.Bytes); b != nil {
			for i := range out {
				out[i].Bytes, out[i].Altered = b, true
			}
		}
	}
	return out
}

func decode(b []byte) wire.Message {
	m, err := wire.Default.Decode(b)
	if err != nil {
		return nil
	}
	return m
}

// rewrite applies a protocol-aware change to a frame and returns the new,
// valid frame (nil when the fault does not apply to this frame).
func rewrite(e Event, b []byte) []byte {
	m := decode(b)
	switch m := m.(type) {
	case *wire.DeltaPush:
		if e.Kind != ForgeDelta || len(m.Delta) < 2 {
			return nil
		}
		m.Delta = append([]byte(nil), m.Delta...)
		m.Delta[1+int(e.Arg)%(len(m.Delta)-1)] ^= 0x5a // past the op byte: a different value
		if m.Checksum != 0 {
			m.Seal() // the buggy sender checksums what it sends
		}
	case *wire.ShapeDelta:
		switch {
		case e.Kind == ForgeDelta && len(m.Delta) > 0:
			m.Delta = append([]byte(nil), m.Delta...)
			m.Delta[int(e.Arg)%len(m.Delta)] ^= 0x5a
		case e.Kind == RewindLSN && m.LSN > 1:
			m.LSN -= min(uint64(e.Arg), m.LSN-1)
		default:
			return nil
		}
	case *wire.Handshake:
		if e.Kind != StaleClock {
			return nil
		}
		for _, v := range m.VectorClock {
			for k, lsn := range v {
				v[k] = lsn / 2
			}
		}
	case *wire.ResyncRequest:
		if e.Kind != ResyncAncient || m.FromMutationID <= 1 {
			return nil
		}
		m.FromMutationID = 1
	default:
		return nil
	}
	out, err := wire.Default.Encode(m)
	if err != nil {
		return nil
	}
	return out
}
