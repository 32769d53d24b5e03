package sim

import (
	"fmt"
	"math/rand/v2"
	"unsafe"

	"github.com/syncsim/syncsim/wire"
)

// NodeSpec places one node in a world.
type NodeSpec struct {
	Name string
	Node Node
}

// Config is everything a run depends on besides the nodes' own settings.
type Config struct {
	Seed  uint64
	Nodes []NodeSpec
	// Link returns the latency model for from→to; nil means 5 ms ± 5 ms.
	Link        func(from, to NodeID) Link
	Interceptor Interceptor // nil means PassThrough
	Codec       *wire.Codec // nil means wire.Default
	DialTimeout Time        // a refused dial fails after this (default 1 s)
	Deadline    Time        // the run stops at this simulated time
	// SampleEvery is the interval of the OnSample hook (default 100 ms).
	SampleEvery Time
	// OnSample runs at every sample tick; returning true ends the run.
	OnSample func(w *World) (stop bool)
	// Workload, if set, is asked at start and after each write when the
	// next write at each node happens; see Workload.
	Workload Workload
	Trace    TraceSink // optional; nil keeps only the hash and the tail
	// Progress, if set, is told the simulated time every ProgressEvents
	// events (for a progress display: it sees the clock and nothing else,
	// so it cannot change the run).
	Progress func(now Time)
	// Abort, if set, is asked at the same points whether to end the run at
	// once (a user's interrupt). An aborted run's Result says so: it ran
	// only in part, so no verdict on it holds. Abort decides only where a
	// run ends, never what happens in it.
	Abort func() bool
	// Monitor, if set, sees every step, observation and sent frame: the
	// hook the property checkers use. It must not change the world except
	// through Stop.
	Monitor Monitor
}

// Monitor watches a run from outside the nodes: it sees each input before
// the node does and each effect as the kernel applies it, after the step
// has returned. It never runs on a node's stack, and must not change the
// world except through Stop.
type Monitor interface {
	// Step is called before node is stepped with in; altered says the
	// frame (for InFrame) was changed in transit by a fault, which the
	// node itself cannot know. To read the frame, decode it with
	// World.Peek: the node then reuses that decode.
	Step(now Time, node NodeID, in *Input, altered bool)
	// Event is called for every event node emitted. ev is valid only
	// during the call.
	Event(now Time, node NodeID, ev Event)
	// Sent is called for every frame a node sends, before interception.
	// It must neither modify nor retain p.Bytes.
	Sent(now Time, p *Packet)
	// AfterStep is called once every effect of node's step is applied.
	AfterStep(now Time, node NodeID)
}

// Workload decides the local writes. Next returns the delay until the next
// write at node (ok=false: no more writes there); Make builds that write
// in w, which is zero (in place: a Write returned by value is stored and
// reloaded on its way in, and the reload waits for the stores). It must
// draw randomness only from its own stream.
type Workload interface {
	Next(now Time, node NodeID) (after Time, ok bool)
	Make(now Time, node NodeID, w *Write)
}

// Counters are the run's totals.
type Counters struct {
	FramesSent, FramesDelivered, FramesDropped, FramesCorrupted, FramesDuplicated uint64
	DecodeErrors                                                                  uint64
	ResyncRequested, ResyncAnswered, ResyncServed                                 uint64
	ThrottleOn, ThrottleOff                                                       uint64
	Reconnects, Crashes, Writes, Events                                           uint64
	// QueueOverflows counts the deltas Lites dropped from a full incoming
	// queue (QueueOverflow events): data lost to no fault, which resync
	// then repairs.
	QueueOverflows uint64 `json:",omitempty"`
}

// World is one run in progress. It is not safe for concurrent use; a sweep
// runs many worlds, one per goroutine.
type World struct {
	cfg      Config
	now      Time
	seq      uint64
	q        eventQueue
	codec    *wire.Codec
	icpt     Interceptor
	netRand  *rand.Rand
	nodes    []nodeState
	conns    []*conn // indexed by ConnID-1
	calls    []func(*World)
	free     []uint64 // reusable slots of calls
	fx       *Effects // the step in progress records here; one step runs at a time
	dels     []Delivery
	in       Input
	trace    tracer
	counters Counters
	// sentDeltas counts ShapeDelta frames per (from, to) link: a row per
	// sender, made at its first ShapeDelta (only Origin sends them, so the
	// table is one row, not nodes², which at 4,096 Lites were 134 MB).
	sentDeltas [][]uint64
	// lostBytes counts the bytes of frames a fault dropped or altered, by
	// message type (what the protocol then has to repair).
	lostBytes [256]uint64
	stopped   bool
	aborted   bool // by Config.Abort
	failure   *NodeFailure
	pkt       Packet
	// CRC32Cs of shared frames sent lately, so the trace takes a frame's
	// once, not per receiver (see sharedCRC).
	crcs   [1 << crcSlotBits]crcSlot
	series seriesSet
	rings  spareRings // flow rings given back, for the next burst
}

type nodeState struct {
	spec   NodeSpec
	failer Failer // the node, when it can fail (nil for most)
	up     bool
	gen    uint32 // incarnation; bumps on crash so stale timers die
	conns  []ConnID
}

// New builds a world. It panics only on a programming error in cfg (no
// nodes), never on anything a run does.
func New(cfg Config) *World {
	if len(cfg.Nodes) == 0 {
		panic("sim.New: no nodes")
	}
	if cfg.Codec == nil {
		cfg.Codec = wire.Default
	}
	if cfg.Interceptor == nil {
		cfg.Interceptor = PassThrough{}
	}
	if cfg.DialTimeout == 0 {
		cfg.DialTimeout = Second
	}
	if cfg.SampleEvery == 0 {
		cfg.SampleEvery = 100 * Millisecond
	}
	w := &World{cfg: cfg, codec: cfg.Codec, icpt: cfg.Interceptor, netRand: Stream(cfg.Seed, "network"), fx: NewEffects(cfg.Codec)}
	w.nodes = make([]nodeState, len(cfg.Nodes))
	for i, s := range cfg.Nodes {
		w.nodes[i] = nodeState{spec: s, up: true}
		w.nodes[i].failer, _ = s.Node.(Failer)
	}
	w.sentDeltas = make([][]uint64, len(cfg.Nodes))
	w.trace.init(cfg.Trace)
	return w
}

// Now is the current simulated time.
func (w *World) Now() Time { return w.now }

// Seed is the run's root seed.
func (w *World) Seed() uint64 { return w.cfg.Seed }

// NumNodes is the number of nodes.
func (w *World) NumNodes() int { return len(w.nodes) }

// Node returns node id's state machine, for the hooks that act on a node
// between its steps (faults that slow or skew it).
func (w *World) Node(id NodeID) Node { return w.nodes[id].spec.Node }

// Probe asks node id for its state (see Probe), filling p; it returns
// false, leaving p reset, when the node is down. It must not be called
// during a step: it is for hooks and samplers, between events.
func (w *World) Probe(id NodeID, p *Probe) bool {
	p.Reset()
	if !w.nodes[id].up {
		return false
	}
	w.nodes[id].spec.Node.Probe(p)
	w.checkFailure(id, "probe")
	return true
}

// NodeFailure is a node that broke down (see Failer): which, when, doing
// what, and why.
type NodeFailure struct {
	Node  NodeID
	Name  string
	At    Time
	Doing string // the input it was stepped with ("frame", "timer", ...) or "probe"
	Err   error
}

func (f *NodeFailure) Error() string {
	return fmt.Sprintf("%s failed at %v (%s): %v", f.Name, f.At, f.Doing, f.Err)
}

// Failure is the first node failure of the run, or nil.
func (w *World) Failure() *NodeFailure { return w.failure }

// checkFailure ends the run if node id, one that can fail, has.
func (w *World) checkFailure(id NodeID, doing string) {
	f := w.nodes[id].failer
	if f == nil || w.failure != nil {
		return
	}
	if err := f.Failure(); err != nil {
		w.failure = &NodeFailure{Node: id, Name: w.nodes[id].spec.Name, At: w.now, Doing: doing, Err: err}
		w.stopped = true
	}
}

// NodeName returns node id's name.
func (w *World) NodeName(id NodeID) string { return w.nodes[id].spec.Name }

// Up reports whether node id is running (not crashed).
func (w *World) Up(id NodeID) bool { return w.nodes[id].up }

// Counters returns the totals so far.
func (w *World) Counters() Counters { return w.counters }

// LostBytes is the number of bytes of frames of type t that faults dropped
// or altered so far.
func (w *World) LostBytes(t wire.MsgType) uint64 { return w.lostBytes[t] }

// DeltasSent is the number of ShapeDelta frames sent from→to so far.
func (w *World) DeltasSent(from, to NodeID) uint64 {
	if row := w.sentDeltas[from]; row != nil {
		return row[to]
	}
	return 0
}

// Hash is the trace hash so far.
func (w *World) Hash() uint64 { return w.trace.hash }

// Stop ends the run after the current event.
func (w *World) Stop() { w.stopped = true }

func (w *World) push(e event) {
	w.seq++
	e.seq = w.seq
	w.q.push(e)
}

// add is push for a hot path: the event at at, in the order after every
// event pushed so far, returned for the caller to fill in place.
func (w *World) add(at Time) *event {
	w.seq++
	return w.q.add(at, w.seq)
}

// pushFlow puts the first frame of connection id's flow towards its end
// recv in the order, at its place (at, seq) from when it was sent.
func (w *World) pushFlow(at Time, seq uint64, id ConnID, recv int) {
	e := w.q.add(at, seq)
	e.kind, e.conn, e.tag = evFlow, id, uint64(recv)
}

// At runs fn at simulated time t (at once if t is past). Faults and hooks
// use it; fn may call any World method.
func (w *World) At(t Time, fn func(*World)) {
	if t < w.now {
		t = w.now
	}
	var slot uint64
	if n := len(w.free); n > 0 {
		slot, w.free = w.free[n-1], w.free[:n-1]
		w.calls[slot] = fn
	} else {
		w.calls = append(w.calls, fn)
		slot = uint64(len(w.calls) - 1)
	}
	w.push(event{at: t, kind: evCall, tag: slot})
}

// Crash stops node id: its volatile state is dropped, its connections
// close (peers see InConnDown) and its pending timers die.
func (w *World) Crash(id NodeID) {
	ns := &w.nodes[id]
	if !ns.up {
		return
	}
	ns.up = false
	ns.gen++
	w.counters.Crashes++
	w.trace.event(w.now, trCrash, id, 0, 0, 0, 0)
	for _, c := range append([]ConnID(nil), ns.conns...) {
		w.closeConn(c, id)
	}
	ns.spec.Node.Crash()
	w.checkFailure(id, "crash")
}

// Restart brings a crashed node back with InRestart.
func (w *World) Restart(id NodeID) {
	ns := &w.nodes[id]
	if ns.up {
		return
	}
	ns.up = true
	w.trace.event(w.now, trRestart, id, 0, 0, 0, 0)
	w.push(event{at: w.now, kind: evInput, in: InRestart, node: id, gen: ns.gen})
}

// ResetConn kills connection c as a TCP reset would: both ends see
// InConnDown; frames in flight are lost.
func (w *World) ResetConn(c ConnID) { w.closeConn(c, -1) }

// Conns returns the open connections touching node id, in open order.
func (w *World) Conns(id NodeID) []ConnID { return w.nodes[id].conns }

func (w *World) link(from, to NodeID) Link {
	if w.cfg.Link != nil {
		return w.cfg.Link(from, to)
	}
	return Link{Base: 5 * Millisecond, Jitter: 5 * Millisecond}
}

func (w *World) latency(from, to NodeID) Time {
	l := w.link(from, to)
	d := l.Base
	if l.Jitter > 0 {
		d += Time(w.netRand.Int64N(int64(l.Jitter)))
	}
	return d
}

// sendFrame sends the frame a step produced on connection id. The frame is
// a pool buffer that the kernel now owns: it becomes the first delivery's
// bytes, or goes back to the pool. A shared frame (Effects.SendShared) is
// no pool's: every delivery of its bytes unchanged takes it as it is, and
// nothing recycles it.
func (w *World) sendFrame(from NodeID, id ConnID, frame []byte, shared bool) {
	c := w.conn(id)
	if c == nil || !c.up {
		w.putBuf(frame, shared)
		return
	}
	to := c.ends[1-c.end(from)]
	w.counters.FramesSent++
	t := wire.MsgType(frame[0])
	if t == wire.TypeShapeDelta {
		row := w.sentDeltas[from]
		if row == nil {
			row = make([]uint64, len(w.nodes))
			w.sentDeltas[from] = row
		}
		row[to]++
	}
	// Field by field, not a literal copied in: see eventQueue.add.
	p := &w.pkt // reused: a local would escape through the interface call
	p.Conn, p.From, p.To, p.Type, p.Bytes = id, from, to, t, frame
	if w.cfg.Monitor != nil {
		w.cfg.Monitor.Sent(w.now, p)
	}
	w.dels = w.icpt.Intercept(w.now, p, w.dels[:0])
	p.Bytes = nil
	if len(w.dels) == 0 {
		w.lostBytes[t] += uint64(len(frame))
		w.counters.FramesDropped++
		w.trace.event(w.now, trDrop, from, to, id, t, len(frame))
		w.putBuf(frame, shared)
		return
	}
	if len(w.dels) > 1 {
		w.counters.FramesDuplicated += uint64(len(w.dels) - 1)
	}
	recv := c.end(to)
	base := w.latency(from, to)
	var owned []byte // a pool frame, handed to the first delivery of its unchanged bytes
	if !shared {
		owned = frame
	}
	for i := range w.dels {
		d := &w.dels[i]
		at := w.now + base + d.Delay
		if !d.Unordered && at < c.lastAt[recv] {
			at = c.lastAt[recv] // FIFO: never overtake an earlier frame
		}
		if !d.Unordered {
			c.lastAt[recv] = at
		}
		if d.Altered {
			w.counters.FramesCorrupted++
			if i == 0 {
				w.lostBytes[t] += uint64(len(frame))
			}
		}
		// The frame must outlive this step: a delivery of the sent bytes
		// takes the buffer itself (the first one; every one, when shared),
		// any other a copy.
		var buf []byte
		bufShared := false
		var crc uint32 // a shared frame's, for the trace
		switch {
		case shared && sameBytes(d.Bytes, frame):
			buf, bufShared, crc = frame, true, w.sharedCRC(frame)
		case owned != nil && sameBytes(d.Bytes, owned):
			buf, owned = owned, nil
		default:
			buf = append(w.getBuf(), d.Bytes...)
		}
		if d.Unordered {
			w.push(event{at: at, kind: evDeliver, node: to, peer: from, conn: id, tag: uint64(crc), buf: buf, altered: d.Altered, shared: bufShared})
		} else {
			w.seq++
			f := &c.flow[recv]
			a := f.add(&w.rings)
			a.at, a.seq, a.buf, a.altered, a.shared, a.crc = at, w.seq, buf, d.Altered, bufShared, crc
			if f.n == 1 {
				w.pushFlow(at, w.seq, id, recv)
			}
		}
		w.trace.event(w.now, trSend, from, to, id, t, len(buf))
	}
	if owned != nil {
		w.putBuf(owned, false)
	}
}

// crcSlotBits sizes the shared frames' CRC cache (256 slots). Origin sends
// one entry to every session in a row, but a throttled or repairing
// session is sent older entries in between, so one slot missed for most
// deliveries of a large fan-out; 1,024 slots would miss less but fill
// 32 KB of the first-level cache.
const crcSlotBits = 8

// crcSlot is one slot of the cache: a shared frame and its CRC32C.
// Holding b keeps its memory from being reused while the slot names it,
// so a hit by identity is a hit by content.
type crcSlot struct {
	b   []byte
	crc uint32
}

// sharedCRC returns the CRC32C of shared frame b, which never changes. The
// slot is chosen by b's address: that decides only hit or miss, never the
// value returned, so the run does not depend on where b was allocated.
func (w *World) sharedCRC(b []byte) uint32 {
	if !tracing {
		return 0
	}
	a := uint64(uintptr(unsafe.Pointer(unsafe.SliceData(b))))
	sl := &w.crcs[(a*0x9E3779B97F4A7C15)>>(64-crcSlotBits)] // Fibonacci hashing
	if !sameBytes(b, sl.b) {
		sl.b, sl.crc = b, wire.Checksum(b)
	}
	return sl.crc
}

// sameBytes reports whether a and b are the same slice of memory.
func sameBytes(a, b []byte) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

func (w *World) getBuf() []byte { return w.fx.pool.get() }

// putBuf recycles b unless it is a shared frame, which others may hold.
func (w *World) putBuf(b []byte, shared bool) {
	if !shared {
		w.fx.pool.put(b)
	}
}

func (w *World) conn(id ConnID) *conn {
	if id == 0 || int(id) > len(w.conns) {
		return nil
	}
	return w.conns[id-1]
}

func (w *World) setTimer(n NodeID, d Time, tag uint64) {
	if d < 0 {
		d = 0
	}
	e := w.add(w.now + d)
	e.kind, e.node, e.gen, e.tag = evTimer, n, w.nodes[n].gen, tag
}

func (w *World) dial(from, to NodeID) {
	if int(to) < 0 || int(to) >= len(w.nodes) || !w.nodes[to].up || !w.icpt.AllowDial(w.now, from, to) {
		w.push(event{at: w.now + w.cfg.DialTimeout, kind: evDialFail, node: from, peer: to, gen: w.nodes[from].gen})
		return
	}
	c := &conn{id: ConnID(len(w.conns) + 1), ends: [2]NodeID{from, to}, up: true}
	w.conns = append(w.conns, c)
	w.nodes[from].conns = append(w.nodes[from].conns, c.id)
	w.nodes[to].conns = append(w.nodes[to].conns, c.id)
	// A TCP + WebSocket handshake: the acceptor learns after one trip,
	// the dialler after the round trip, so its first frame follows the
	// acceptor's conn-up.
	there := w.latency(from, to)
	back := w.latency(to, from)
	c.lastAt = [2]Time{w.now + there + back, w.now + there + back}
	w.push(event{at: w.now + there, kind: evConnUp, node: to, peer: from, conn: c.id, gen: w.nodes[to].gen})
	w.push(event{at: w.now + there + back, kind: evConnUp, node: from, peer: to, conn: c.id, gen: w.nodes[from].gen})
}

// closeConn closes c. by is the end that closed it (it gets no InConnDown),
// or -1 for a reset that both ends see.
func (w *World) closeConn(id ConnID, by NodeID) {
	c := w.conn(id)
	if c == nil || !c.up {
		return
	}
	c.up = false
	w.trace.event(w.now, trClose, c.ends[0], c.ends[1], id, 0, int(by))
	for _, n := range c.ends {
		ns := &w.nodes[n]
		for i, x := range ns.conns {
			if x == id {
				ns.conns = append(ns.conns[:i], ns.conns[i+1:]...)
				break
			}
		}
		if n != by && ns.up {
			cid := id
			if n == c.ends[0] && !c.opened {
				cid = 0 // the dialler never saw this connection: its dial failed
			}
			w.push(event{at: w.now, kind: evConnDown, node: n, peer: c.ends[1-c.end(n)], conn: cid, gen: ns.gen})
		}
	}
	// Drop the old record (the id stays dead) but keep the frames in
	// flight: they arrive, and are lost, at their times.
	w.conns[id-1] = &conn{id: id, ends: c.ends, flow: c.flow}
}

// event applies an event effect: the run's counters, the trace, the
// monitor.
func (w *World) event(node NodeID, ev Event, wd *eventWords) {
	switch wd.kind {
	case evwResyncSent: // a Lite's ResyncSent and Origin's ResendAsked
		w.counters.ResyncRequested++
	case evwResyncAnswered:
		w.counters.ResyncAnswered++
	case evwResyncServed:
		w.counters.ResyncServed++
	case evwThrottleOn:
		w.counters.ThrottleOn++
	case evwThrottleOff:
		w.counters.ThrottleOff++
	case evwReconnect:
		w.counters.Reconnects++
	case evwDecodeError:
		w.counters.DecodeErrors++
	case evwQueueOverflow:
		w.counters.QueueOverflows++
	}
	w.trace.observation(w.now, node, wd)
	if w.cfg.Monitor != nil {
		w.cfg.Monitor.Event(w.now, node, ev)
	}
}

func (w *World) step(id NodeID, in *Input) { w.stepInput(id, in, false, false, 0) }

// Inject steps node id with in at once, as if the kernel had delivered it,
// and applies its effects. It is for test rigs that drive a node by hand
// from a kernel callback; a run's own inputs come from its events.
func (w *World) Inject(id NodeID, in Input) {
	w.in = in
	w.step(id, &w.in)
}

// Peek decodes the frame node is about to be stepped with, for a Monitor's
// Step, with the run's codec and the node's own decoder: the node's Decode
// of the same frame then gets this message without decoding it again. The
// message is valid until the step ends, and must not be modified.
func (w *World) Peek(node NodeID, frame []byte) (wire.Message, error) {
	fx := w.fx
	m, err := fx.Decode(frame)
	if len(frame) > 0 {
		fx.peeked, fx.peekedMsg, fx.peekedErr = frame, m, err
	}
	return m, err
}

// stepInput steps node id with in. A frame a fault changed is altered; a
// shared one (Effects.SendShared) comes with its CRC32C, taken at send, and
// decodes as views.
func (w *World) stepInput(id NodeID, in *Input, altered, shared bool, sharedCRC uint32) {
	ns := &w.nodes[id]
	w.trace.input(w.now, id, in, sharedCRC, shared)
	if shared {
		w.fx.sharedIn = in.Frame
	}
	if w.cfg.Monitor != nil {
		w.cfg.Monitor.Step(w.now, id, in, altered)
	}
	fx := w.fx
	ns.spec.Node.Step(w.now, in, fx)
	w.apply(id, fx)
	if w.cfg.Monitor != nil {
		w.cfg.Monitor.AfterStep(w.now, id)
	}
	if ns.failer != nil {
		w.checkFailure(id, in.Kind.String())
	}
	// A peek is for this step's frame only, whichever hook made it: the
	// frame's buffer is recycled after the step.
	fx.reuse()
}

// apply carries out a step's effects, in the order the node recorded them.
func (w *World) apply(id NodeID, fx *Effects) {
	for i := range fx.list {
		e := &fx.list[i]
		switch e.Kind {
		case EffectSend:
			f := e.Frame
			e.Frame = nil // the kernel owns it now
			w.sendFrame(id, e.Conn, f, e.shared)
		case EffectTimer:
			w.setTimer(id, e.After, e.Tag)
		case EffectDial:
			w.dial(id, e.Peer)
		case EffectClose:
			w.closeConn(e.Conn, id)
		case EffectEvent:
			w.event(id, e.Event, &fx.ev.words[e.words])
		}
	}
}

// ProgressEvents is how often Config.Progress is called: a few hundred
// times a second at the kernel's speed.
const ProgressEvents = 1 << 14

// Run executes events until the deadline, OnSample asks to stop, Abort ends
// the run, or nothing is left to do, and returns the result.
func (w *World) Run() Result {
	for i := range w.nodes {
		w.push(event{at: 0, kind: evInput, in: InStart, node: NodeID(i)})
		if w.cfg.Workload != nil {
			w.scheduleWrite(NodeID(i))
		}
	}
	if w.cfg.OnSample != nil {
		w.At(0, w.sample)
	}
	for w.q.len() > 0 && !w.stopped {
		slot := w.q.popSlot()
		ev := &w.q.slab[slot]
		if w.cfg.Deadline > 0 && ev.at > w.cfg.Deadline {
			w.q.release(slot)
			w.now = w.cfg.Deadline
			break
		}
		w.now = ev.at
		w.counters.Events++
		progress := w.counters.Events%ProgressEvents == 0
		if progress && w.cfg.Progress != nil {
			w.cfg.Progress(w.now)
		}
		w.dispatch(ev)
		w.q.release(slot)
		if progress && w.cfg.Abort != nil && w.cfg.Abort() {
			w.aborted = true
			break
		}
	}
	w.trace.flush()
	return Result{Seed: w.cfg.Seed, Hash: w.trace.hash, End: w.now, Counters: w.counters, Series: w.series.list, Aborted: w.aborted}
}

func (w *World) sample(*World) {
	if w.cfg.OnSample(w) {
		w.stopped = true
		return
	}
	w.At(w.now+w.cfg.SampleEvery, w.sample)
}

// Burst makes node id write n extra times now, on top of the workload (a
// write burst fault). Needs a Workload.
func (w *World) Burst(id NodeID, n int) {
	if w.cfg.Workload == nil {
		return
	}
	for i := 0; i < n; i++ {
		w.push(event{at: w.now, kind: evWrite, node: id, tag: burstWrite})
	}
}

// burstWrite marks a write event that does not schedule the next one.
const burstWrite = 1

func (w *World) scheduleWrite(id NodeID) {
	if after, ok := w.cfg.Workload.Next(w.now, id); ok {
		e := w.add(w.now + after)
		e.kind, e.node = evWrite, id
	}
}

func (w *World) dispatch(ev *event) {
	if ev.kind == evFlow {
		w.arrive(ev.conn, int(ev.tag))
		return
	}
	if ev.kind == evCall {
		fn := w.calls[ev.tag]
		w.calls[ev.tag] = nil
		w.free = append(w.free, ev.tag)
		fn(w)
		return
	}
	ns := &w.nodes[ev.node]
	in := &w.in
	*in = Input{} // then field by field (see eventQueue.add)
	in.Conn, in.Peer = ev.conn, ev.peer
	switch ev.kind {
	case evWrite:
		// The workload keeps its pace whether or not the node is up;
		// a write at a crashed node is simply not made.
		if ns.up {
			in.Kind = InWrite
			w.cfg.Workload.Make(w.now, ev.node, &in.Write)
			w.counters.Writes++
			w.step(ev.node, in)
		}
		if ev.tag != burstWrite {
			w.scheduleWrite(ev.node)
		}
		return
	case evInput:
		if ev.gen != ns.gen || !ns.up {
			return
		}
		in.Kind = ev.in
	case evTimer:
		if ev.gen != ns.gen || !ns.up {
			return
		}
		in.Kind, in.Timer = InTimer, ev.tag
	case evDeliver: // an unordered frame (a reorder fault); the rest come through their flows
		w.deliver(w.conn(ev.conn), ev.node, ev.peer, ev.conn, ev.buf, ev.altered, ev.shared, uint32(ev.tag))
		return
	case evConnUp:
		c := w.conn(ev.conn)
		if c == nil || !c.up || ev.gen != ns.gen || !ns.up {
			return
		}
		if ev.node == c.ends[0] {
			c.opened = true
		}
		in.Kind = InConnUp
	case evConnDown:
		if ev.gen != ns.gen || !ns.up {
			return
		}
		in.Kind = InConnDown
	case evDialFail:
		if ev.gen != ns.gen || !ns.up {
			return
		}
		in.Kind = InConnDown
	default:
		panic(fmt.Sprintf("sim: unknown event kind %d", ev.kind))
	}
	w.step(ev.node, in)
}

// arrive delivers the first frame of the flow of connection id towards
// its end recv, and puts the next one, if any, in the queue with the place
// in the order it was given when sent.
func (w *World) arrive(id ConnID, recv int) {
	c := w.conns[id-1]
	f := &c.flow[recv]
	a := f.take()
	if f.n > 0 {
		if len(f.ring) > flowKeep && f.n < len(f.ring)/8 {
			f.resize(len(f.ring)/4, &w.rings) // a burst has drained
		}
		next := f.first()
		w.pushFlow(next.at, next.seq, id, recv)
	} else if !c.up || len(f.ring) > flowKeep {
		// A dead connection's last frame (nothing more comes), or the end
		// of a burst (a backlog sent at once): the ring goes back to the
		// spares rather than stay at its peak for the rest of the run.
		w.rings.put(f.ring)
		f.ring, f.head = nil, 0
	}
	w.deliver(c, c.ends[recv], c.ends[1-recv], id, a.buf, a.altered, a.shared, a.crc)
}

// flowKeep is the largest flow ring (in frames) that an emptied flow keeps
// for the next frame: the steady traffic of a connection, not a burst.
const flowKeep = 256

// deliver steps node with frame, which came from peer on connection id
// (c: its record, nil when unknown), or loses it when the connection or
// the node is down. The frame goes back to the pool after. sharedCRC is
// the frame's CRC32C when shared.
func (w *World) deliver(c *conn, node, peer NodeID, id ConnID, frame []byte, altered, shared bool, sharedCRC uint32) {
	if c == nil || !c.up || !w.nodes[node].up {
		w.counters.FramesDropped++
		w.trace.event(w.now, trLost, peer, node, id, frameType(frame), len(frame))
		w.putBuf(frame, shared)
		return
	}
	w.counters.FramesDelivered++
	in := &w.in
	*in = Input{} // then field by field (see eventQueue.add)
	in.Kind, in.Conn, in.Peer, in.Frame = InFrame, id, peer, frame
	w.stepInput(node, in, altered, shared, sharedCRC)
	w.putBuf(frame, shared)
}

func frameType(b []byte) wire.MsgType {
	if len(b) == 0 {
		return 0
	}
	return wire.MsgType(b[0])
}

// Result is what a run produced.
type Result struct {
	Seed     uint64
	Hash     uint64
	End      Time
	Counters Counters
	Series   []*Series
	// Aborted is set when Config.Abort ended the run: End is where it was
	// cut off, and nothing after it ran.
	Aborted bool
}
