package faults

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"

	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// Event is one fault that fired: the unit of a recorded schedule, and the
// one form of a fault event everywhere (scenario scripts, result files).
// A schedule replayed with Replay reproduces the run's faults exactly, and
// a subset of it still applies sensibly, which is what shrinking needs.
type Event struct {
	At   sim.Time     `json:"at_ns"`
	Kind Kind         `json:"kind"`
	Node sim.NodeID   `json:"node"`           // node faults: the node; frame faults: the sender
	Peer sim.NodeID   `json:"peer,omitempty"` // frame faults: the receiver
	Type wire.MsgType `json:"type,omitempty"` // frame faults: the frame's type as sent
	Nth  int          `json:"nth,omitempty"`  // frame faults: which of the frames of Type sent on the link at At
	// For is a duration that was drawn or given: a delay, a lag, a
	// downtime, a partition, a slow-down, a clock's offset.
	For sim.Time `json:"for_ns,omitempty"`
	// N is a number that was drawn or given: a bit index, a type byte, a
	// length, the bytes a truncation keeps, a forged word, a rewind's
	// LSNs, a burst's writes.
	N int64 `json:"n,omitempty"`
	// Factor is the SlowConsumer drain fraction.
	Factor float64 `json:"factor,omitempty"`
}

// UnmarshalJSON reads an event, also in the form written before For and N
// were told apart (one "arg" whose meaning the kind decides), so that
// saved schedules keep replaying.
func (e *Event) UnmarshalJSON(b []byte) error {
	type plain Event
	var v struct {
		plain
		Arg *int64 `json:"arg"`
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	*e = Event(v.plain)
	if v.Arg != nil {
		if e.For != 0 || e.N != 0 {
			return fmt.Errorf("fault event: give arg (the old form) or for_ns/n, not both")
		}
		if e.Kind.Counts() {
			e.N = *v.Arg
		} else {
			e.For = sim.Time(*v.Arg)
		}
	}
	return nil
}

// arg is the event's argument as the trace records it.
func (e Event) arg() uint64 {
	if e.Kind.Counts() {
		return uint64(e.N)
	}
	return uint64(e.For)
}

func (e Event) String() string {
	arg := ""
	switch {
	case e.Kind.Counts():
		arg = fmt.Sprintf(" n=%d", e.N)
	case e.For != 0:
		arg = " for " + e.For.String()
	}
	if e.Kind == SlowConsumer {
		arg += fmt.Sprintf(" factor=%g", e.Factor)
	}
	if e.Kind.IsFrame() {
		return fmt.Sprintf("%v %s %s %d->%d #%d%s", e.At, e.Kind, e.Type, e.Node, e.Peer, e.Nth, arg)
	}
	return fmt.Sprintf("%v %s node %d%s", e.At, e.Kind, e.Node, arg)
}

// The node interfaces some faults need. Nodes implement them without
// importing this package; a node that does not is left alone.
type (
	// Slower is a node whose consumption can be slowed to factor of its
	// normal rate (factor 1: normal again).
	Slower interface{ SlowDown(factor float64) }
	// DurableCorruptor is a node whose durable state can be damaged while
	// it is down, as a torn write would; seed keys the damage.
	DurableCorruptor interface {
		CorruptDurable(seed [2]uint64)
	}
	// ClockSkewer is a node whose device clock can be offset.
	ClockSkewer interface{ SetClockSkew(sim.Time) }
)

// Injector applies a plan (or replays a schedule) to one run. It is the
// run's sim.Interceptor; Attach schedules its node faults.
type Injector struct {
	plan   Plan
	roles  Roles
	seed   uint64
	rngs   []*rand.Rand // one stream per spec
	w      Host
	events []Event
	cuts   []cut
	slow   map[sim.NodeID]*slowState
	// links is what the injector keeps per link (from, to): one map
	// lookup per frame, where a count, a history and a held engage were
	// three.
	links map[[2]sim.NodeID]*linkState
	// liteLinks holds the links between Origin and each Lite without a
	// map lookup: [2k] is Origin→Lite k, [2k+1] Lite k→Origin; liteOf maps
	// a node id to k+1 (0: not a Lite).
	liteLinks []*linkState
	liteOf    []int32
	// frameSpecs are the plan's frame faults with their window, type and
	// target worked out once, rather than per spec per frame (a kind's
	// name was compared against every frame kind).
	frameSpecs []frameSpec
	// keepHistory: a ReplayOld fault can fire, so each link keeps its
	// recent frames (a copy of every frame, only when it can be used).
	keepHistory bool
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

// linkState is the injector's state of one link (from, to).
type linkState struct {
	nth     [nthSlots]nthState // by nthIndex of the frame's type
	other   map[wire.MsgType]nthState
	history ring   // recent frames, for ReplayOld (kept only when one can fire)
	held    []byte // an engage (DelayEngage) waiting for its release
	// specs are the frame specs that can ever fire on this link (target
	// matches, never is false), in plan order; found at its first frame.
	specs      []linkSpec
	specsFound bool
}

// linkSpec is what the per-frame loop reads of a frame spec, in one
// place, copied into each link it can hit: its window, its type, its
// probability and its stream's generator (the one under rngs[i]: the
// per-frame draw takes it without the Rand around it). Reading them from
// the plan's Spec and per-spec slices was four slices and a bounds check
// each, per spec per frame.
type linkSpec struct {
	start, end sim.Time
	src        *rand.PCG
	prob       float64
	i          int32 // the spec's index in the plan
	typ        wire.MsgType
}

// nthSlots bounds the types counted in linkState.nth, the protocol's types
// in order; any other (an external node may send any type byte) is counted
// in linkState.other.
const nthSlots = 32

// nthIndex maps a type byte to its slot in linkState.nth plus one (0: none).
var nthIndex = func() (t [256]uint8) {
	n := 0
	for b := range 256 {
		if wire.MsgType(b).Known() && n < nthSlots {
			n++
			t[b] = uint8(n)
		}
	}
	return t
}()

// next counts one more frame at now and returns its place among those of
// the same instant (0 for the first).
func (ns *nthState) next(now sim.Time) int {
	if ns.at == now {
		ns.n++
	} else {
		*ns = nthState{at: now}
	}
	return ns.n
}

// count returns the frame's place among the frames of its type sent on
// this link at this instant (0 for the first).
func (l *linkState) count(now sim.Time, t wire.MsgType) int {
	if i := nthIndex[t]; i > 0 {
		return l.nth[i-1].next(now)
	}
	if l.other == nil {
		l.other = map[wire.MsgType]nthState{}
	}
	ns := l.other[t]
	n := ns.next(now)
	l.other[t] = ns
	return n
}

// frameSpec is a frame fault of the plan with what decides whether it can
// hit a frame worked out once: what the per-frame loop reads (its window,
// the one type it hits, 0: any), and which links it can hit.
type frameSpec struct {
	hot    linkSpec
	never  bool // its type filter and the one type its kind acts on differ
	target Target
}

func newFrameSpec(i int, s Spec, heal sim.Time, src *rand.PCG) frameSpec {
	fs := frameSpec{hot: linkSpec{start: s.Start, end: s.end(heal), src: src, prob: s.Probability, i: int32(i), typ: s.Type}, target: s.Target}
	if t := actsOn(s.Kind); t != 0 {
		fs.never = fs.hot.typ != 0 && fs.hot.typ != t
		fs.hot.typ = t
	}
	return fs
}

// indexLites builds liteOf and liteLinks for the run's roles.
func (in *Injector) indexLites() {
	top := in.roles.Origin
	for _, l := range in.roles.Lites {
		top = max(top, l)
	}
	if top < 0 {
		return
	}
	in.liteOf = make([]int32, top+1)
	for k, l := range in.roles.Lites {
		if l >= 0 && l != in.roles.Origin {
			in.liteOf[l] = int32(k + 1)
		}
	}
	in.liteLinks = make([]*linkState, 2*len(in.roles.Lites))
}

// lite is node n's Lite index plus one, or 0 when n is not a Lite.
func (in *Injector) lite(n sim.NodeID) int {
	if n >= 0 && int(n) < len(in.liteOf) {
		return int(in.liteOf[n])
	}
	return 0
}

func (in *Injector) link(from, to sim.NodeID) *linkState {
	slot := -1
	if k := in.lite(to); k > 0 && from == in.roles.Origin {
		slot = 2 * (k - 1)
	} else if k := in.lite(from); k > 0 && to == in.roles.Origin {
		slot = 2*(k-1) + 1
	}
	if slot >= 0 {
		l := in.liteLinks[slot]
		if l == nil {
			l = &linkState{}
			in.liteLinks[slot] = l
		}
		return l
	}
	k := [2]sim.NodeID{from, to}
	l := in.links[k]
	if l == nil {
		l = &linkState{}
		in.links[k] = l
	}
	return l
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

type slowState struct{ active int }

// New returns an injector for plan, drawing from streams of seed, in a run
// whose nodes play roles r.
func New(plan Plan, seed uint64, r Roles) *Injector {
	in := &Injector{plan: plan, roles: r, seed: seed, slow: map[sim.NodeID]*slowState{}, links: map[[2]sim.NodeID]*linkState{}}
	for i, s := range plan.Specs {
		src := sim.Source(seed, fmt.Sprintf("faults/%d/%s", i, s.Kind)) // = sim.Stream's
		in.rngs = append(in.rngs, rand.New(src))
		if s.Kind.IsFrame() {
			in.frameSpecs = append(in.frameSpecs, newFrameSpec(i, s, plan.Heal, src))
		}
		in.keepHistory = in.keepHistory || s.Kind == ReplayOld
	}
	in.indexLites()
	return in
}

// Replay returns an injector that applies exactly the recorded events
// (heal is the plan's heal time; nothing outlasts it).
func Replay(events []Event, heal sim.Time, r Roles) *Injector {
	in := &Injector{plan: Plan{Heal: heal}, roles: r, replay: true,
		slow: map[sim.NodeID]*slowState{}, pending: map[nthKey][]Event{}, links: map[[2]sim.NodeID]*linkState{}}
	in.indexLites()
	for _, e := range events {
		in.keepHistory = in.keepHistory || e.Kind == ReplayOld
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

// Host is what an injector's node faults act on: the simulator's World
// (Attach), or live mode's proxy, which can reset and cut connections but
// neither crash nor slow a real process (its Node returns nil and Up
// false, and those faults are then recorded and do nothing).
type Host interface {
	Now() sim.Time
	// After runs f at time t (at once if t has passed), on the goroutine
	// that calls Intercept.
	After(t sim.Time, f func())
	Node(n sim.NodeID) sim.Node
	Up(n sim.NodeID) bool
	Crash(n sim.NodeID)
	Restart(n sim.NodeID)
	Burst(n sim.NodeID, writes int)
	Conns(n sim.NodeID) []sim.ConnID
	ResetConn(c sim.ConnID)
	RecordFault(node, peer sim.NodeID, conn sim.ConnID, kind string, a, b uint64)
}

// worldHost is a World as a Host.
type worldHost struct{ *sim.World }

func (h worldHost) After(t sim.Time, f func()) { h.At(t, func(*sim.World) { f() }) }

// Attach binds the injector to w and schedules its node faults.
func (in *Injector) Attach(w *sim.World) { in.AttachHost(worldHost{w}) }

// AttachHost binds the injector to h and schedules its node faults.
func (in *Injector) AttachHost(w Host) {
	in.w = w
	if in.replay {
		for _, e := range in.scriptNodes {
			if !e.Kind.IsFrame() {
				e := e
				w.After(e.At, func() { in.fire(e) })
			}
		}
		return
	}
	for i, s := range in.plan.Specs {
		if s.Kind.IsFrame() {
			continue
		}
		rng, cands := in.rngs[i], s.Target.nodes(in.roles)
		end := s.end(in.plan.Heal)
		for t := s.Start; ; {
			t += sim.Time(rng.ExpFloat64() / s.PerSecond * float64(sim.Second))
			if t >= end {
				break
			}
			e := Event{At: t, Kind: s.Kind, Node: cands[rng.IntN(len(cands))], For: s.For, N: int64(s.N), Factor: s.Factor}
			if e.Kind == CorruptDurable && e.Node == in.roles.Origin && len(cands) > 1 {
				// Origin has no corruptible store: pick a Lite (Origin
				// comes first among the candidates).
				e.Node = cands[1+rng.IntN(len(cands)-1)]
			}
			w.After(t, func() { in.fire(e) })
		}
	}
}

func (in *Injector) record(e Event) {
	in.events = append(in.events, e)
	if in.w != nil {
		in.w.RecordFault(e.Node, e.Peer, 0, string(e.Kind), e.arg(), uint64(e.Type))
	}
}

// fire applies a node fault. Anything it starts ends by heal at the latest.
func (in *Injector) fire(e Event) {
	w, heal := in.w, in.plan.Heal
	until := min(w.Now()+e.For, heal)
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
				d.CorruptDurable(sim.StreamSeed(uint64(e.At), fmt.Sprintf("faults/corrupt/%d", e.Node)))
			}
		}
		w.After(until, func() { w.Restart(e.Node) })
	case SlowConsumer:
		d, ok := w.Node(e.Node).(Slower)
		if !ok {
			return
		}
		st := in.slow[e.Node]
		if st == nil {
			st = &slowState{}
			in.slow[e.Node] = st
		}
		st.active++
		d.SlowDown(e.Factor)
		w.After(until, func() {
			if st.active--; st.active == 0 {
				d.SlowDown(1)
			}
		})
	case Burst:
		w.Burst(e.Node, int(e.N))
	case ClockSkew:
		if c, ok := w.Node(e.Node).(ClockSkewer); ok {
			c.SetClockSkew(e.For)
			w.After(min(w.Now()+5*sim.Second, heal), func() { c.SetClockSkew(0) })
		}
	}
}

// cutOff reports whether a partition stops from→to now.
func (in *Injector) cutOff(now sim.Time, from, to sim.NodeID) bool {
	// Time only moves on, so an ended cut never matters again: dropping
	// it keeps this per-frame scan to the partitions in force.
	in.cuts = slices.DeleteFunc(in.cuts, func(c cut) bool { return now >= c.until })
	for _, c := range in.cuts {
		if c.node == from || !c.oneWay && c.node == to {
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
	l := in.link(p.From, p.To)
	out = in.intercept(now, p, l, out)
	if in.keepHistory {
		l.history.add(p.Bytes) // after this frame's faults: a replay is of an older frame
	}
	return out
}

func (in *Injector) intercept(now sim.Time, p *sim.Packet, l *linkState, out []sim.Delivery) []sim.Delivery {
	nth := l.count(now, p.Type)
	out = append(out, sim.Delivery{}) // filled in place (see sim's eventQueue.add)
	out[len(out)-1].Bytes = p.Bytes
	if held := l.held; held != nil && p.Type == wire.TypeThrottle {
		if m, ok := decode(p.Bytes).(*wire.Throttle); ok && !m.Throttle {
			// The release goes out: the engage held back arrives after it.
			l.held = nil
			out = append(out, sim.Delivery{Bytes: held, Delay: sim.Millisecond, Altered: true})
		}
	}
	if now >= in.plan.Heal {
		return out
	}
	if in.cutOff(now, p.From, p.To) {
		return out[:0]
	}
	base := Event{At: now, Node: p.From, Peer: p.To, Type: p.Type, Nth: nth}
	if in.replay {
		// Apply, in recorded order, every pending event due for this frame:
		// live runs may have stacked several faults on one frame.
		// An event whose frame no longer exists at its instant (a shrunk
		// schedule changed the run) applies to the next frame of its type.
		nk := nthKey{p.From, p.To, p.Type}
		q := in.pending[nk]
		for len(q) > 0 && len(out) > 0 {
			e := q[0]
			if e.At > now || e.At == now && e.Nth > nth {
				break
			}
			q = q[1:]
			e.At, e.Nth = now, nth
			out = in.apply(e, p, l, out)
		}
		in.pending[nk] = q
		return out
	}
	if !l.specsFound {
		// A link's ends, and so which targets it matches, never change.
		for f := range in.frameSpecs {
			if fs := &in.frameSpecs[f]; !fs.never && fs.target.matchesFrame(in.roles, p.From, p.To) {
				l.specs = append(l.specs, fs.hot)
			}
		}
		l.specsFound = true
	}
	for k := range l.specs {
		ls := &l.specs[k]
		if now < ls.start || now >= ls.end || ls.typ != 0 && ls.typ != p.Type {
			continue
		}
		if unitFloat(ls.src) >= ls.prob {
			continue
		}
		s := &in.plan.Specs[ls.i]
		e := base
		e.Kind = s.Kind
		if d := in.draw(in.rngs[ls.i], *s, p); s.Kind.Counts() {
			e.N = d
		} else {
			e.For = sim.Time(d)
		}
		if out = in.apply(e, p, l, out); len(out) == 0 {
			return out
		}
	}
	return out
}

// draw picks the random parameter of a frame fault: a duration in
// nanoseconds for the kinds that delay, a number for the others.
func (in *Injector) draw(rng *rand.Rand, s Spec, p *sim.Packet) int64 {
	n := len(p.Bytes)
	if n == 0 {
		return 0 // nothing to flip or cut (the simulator never sends an empty frame)
	}
	switch s.Kind {
	case Duplicate:
		return int64(cmp0(s.For, 3*sim.Millisecond))
	case Delay:
		return int64(cmp0(s.For, 200*sim.Millisecond))
	case Reorder:
		return rng.Int64N(int64(cmp0(s.For, 50*sim.Millisecond)))
	case BitFlip:
		if n > wire.HeaderLen {
			return int64(wire.HeaderLen*8 + rng.IntN((n-wire.HeaderLen)*8))
		}
		return int64(rng.IntN(n * 8))
	case BadType:
		for {
			if b := wire.MsgType(rng.IntN(256)); !b.Known() {
				return int64(b)
			}
		}
	case BadLength:
		return int64(rng.Uint32N(uint32(2*n + 16)))
	case Truncate:
		return int64(rng.IntN(max(n-1, 1)))
	case ForgeDelta:
		return int64(rng.Uint32())
	case RewindLSN:
		if s.N != 0 {
			return int64(s.N)
		}
		return 5
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
func (in *Injector) apply(e Event, p *sim.Packet, l *linkState, out []sim.Delivery) []sim.Delivery {
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
		d.Delay += e.For
		return append(out, d)
	case Delay:
		for i := range out {
			out[i].Delay += e.For
		}
	case Reorder:
		for i := range out {
			out[i].Delay += e.For
			out[i].Unordered = true
		}
	case BitFlip:
		mutate(func(b []byte) []byte {
			if bit := int(e.N); bit >= 0 && bit/8 < len(b) {
				b[bit/8] ^= 1 << (bit % 8)
			}
			return b
		})
	case BadType:
		mutate(func(b []byte) []byte {
			if len(b) > 0 { // an earlier fault on this frame may have truncated it to nothing
				b[0] = byte(e.N)
			}
			return b
		})
	case BadLength:
		mutate(func(b []byte) []byte {
			if len(b) >= wire.HeaderLen {
				binary.LittleEndian.PutUint32(b[1:], uint32(e.N))
			}
			return b
		})
	case Truncate:
		mutate(func(b []byte) []byte { return b[:max(0, min(int(e.N), len(b)))] })
	case ReplayOld:
		if old := l.history.oldest(); old != nil {
			out = append(out, sim.Delivery{Bytes: append([]byte(nil), old...), Delay: sim.Millisecond, Altered: true})
		}
	case DelayEngage:
		if m, ok := decode(p.Bytes).(*wire.Throttle); ok && m.Throttle && l.held == nil {
			// Hold the engage until the next release on this link has been
			// sent, then deliver it after the release (see Intercept).
			l.held = append([]byte(nil), p.Bytes...)
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
		m.Delta[1+int(uint64(e.N)%uint64(len(m.Delta)-1))] ^= 0x5a // past the op byte: a different value
		if m.Checksum != 0 {
			m.Seal() // the buggy sender checksums what it sends
		}
	case *wire.ShapeDelta:
		switch {
		case e.Kind == ForgeDelta && len(m.Delta) > 0:
			m.Delta = append([]byte(nil), m.Delta...)
			m.Delta[int(uint64(e.N)%uint64(len(m.Delta)))] ^= 0x5a
		case e.Kind == RewindLSN && m.LSN > 1:
			m.LSN -= min(uint64(e.N), m.LSN-1)
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

// unitFloat is the Float64 of a rand.Rand built on src, drawn from src
// itself: the same value (TestUnitFloatIsRandFloat64) without the Rand's
// interface call, once per frame and spec.
func unitFloat(src *rand.PCG) float64 { return float64(src.Uint64()<<11>>11) / (1 << 53) }
