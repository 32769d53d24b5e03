package sim

import (
	"fmt"
	"math/rand/v2"

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
	// Monitor, if set, sees every step, observation and sent frame: the
	// hook the property checkers use. It must not change the world except
	// through Stop.
	Monitor Monitor
}

// Monitor watches a run from outside the nodes.
type Monitor interface {
	// Step is called before node is stepped with in; altered says the
	// frame (for InFrame) was changed in transit by a fault, which the
	// node itself cannot know. To read the frame, decode it with
	// World.Peek: the node then reuses that decode.
	Step(now Time, node NodeID, in *Input, altered bool)
	// Observe is called for every observation, as it is made.
	Observe(now Time, ob *Observation)
	// Sent is called for every frame a node sends, before interception.
	// It must neither modify nor retain p.Bytes.
	Sent(now Time, p *Packet)
	// AfterStep is called after node was stepped.
	AfterStep(now Time, node NodeID)
}

// Workload decides the local writes. Next returns the delay until the next
// write at node (ok=false: no more writes there); Make builds that write.
// It must draw randomness only from its own stream.
type Workload interface {
	Next(now Time, node NodeID) (after Time, ok bool)
	Make(now Time, node NodeID) Write
}

// Counters are the run's totals.
type Counters struct {
	FramesSent, FramesDelivered, FramesDropped, FramesCorrupted, FramesDuplicated uint64
	DecodeErrors                                                                  uint64
	ResyncRequested, ResyncAnswered, ResyncServed                                 uint64
	ThrottleOn, ThrottleOff                                                       uint64
	Reconnects, Crashes, Writes, Events                                           uint64
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
	outs     []Outbox
	dels     []Delivery
	in       Input
	trace    tracer
	counters Counters
	// sentDeltas counts ShapeDelta frames per (from, to) link.
	sentDeltas []uint64
	// lostBytes counts the bytes of frames a fault dropped or altered, by
	// message type (what the protocol then has to repair).
	lostBytes [256]uint64
	stopped   bool
	encBuf    []byte
	pkt       Packet
	ob        Observation
	bufs      [][]byte // recycled frame buffers: a delivered frame's bytes are dead after its step
	series    seriesSet
}

type nodeState struct {
	spec  NodeSpec
	up    bool
	gen   uint32 // incarnation; bumps on crash so stale timers die
	conns []ConnID
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
	w := &World{cfg: cfg, codec: cfg.Codec, icpt: cfg.Interceptor, netRand: Stream(cfg.Seed, "network")}
	w.nodes = make([]nodeState, len(cfg.Nodes))
	w.outs = make([]Outbox, len(cfg.Nodes))
	for i, s := range cfg.Nodes {
		w.nodes[i] = nodeState{spec: s, up: true}
		w.outs[i] = Outbox{w: w, node: NodeID(i)}
	}
	w.sentDeltas = make([]uint64, len(cfg.Nodes)*len(cfg.Nodes))
	w.trace.init(cfg.Trace)
	return w
}

// Now is the current simulated time.
func (w *World) Now() Time { return w.now }

// Seed is the run's root seed.
func (w *World) Seed() uint64 { return w.cfg.Seed }

// NumNodes is the number of nodes.
func (w *World) NumNodes() int { return len(w.nodes) }

// Node returns node id's state machine (for inspection by hooks and checks).
func (w *World) Node(id NodeID) Node { return w.nodes[id].spec.Node }

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
	return w.sentDeltas[int(from)*len(w.nodes)+int(to)]
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

func (w *World) send(from NodeID, c ConnID, m wire.Message) {
	b, err := w.codec.AppendFrame(w.encBuf[:0], m)
	if err != nil {
		// A reference node built an unencodable message: a bug worth a
		// loud, replayable report rather than a silent drop.
		w.observe(Observation{Kind: ObsDecodeError, Node: from, S: "encode: " + err.Error()})
		return
	}
	w.encBuf = b
	w.sendRaw(from, c, b)
}

func (w *World) sendRaw(from NodeID, id ConnID, frame []byte) {
	c := w.conn(id)
	if c == nil || !c.up || len(frame) == 0 {
		return
	}
	to := c.ends[1-c.end(from)]
	w.counters.FramesSent++
	t := wire.MsgType(frame[0])
	if t == wire.TypeShapeDelta {
		w.sentDeltas[int(from)*len(w.nodes)+int(to)]++
	}
	p := &w.pkt // reused: a local would escape through the interface call
	*p = Packet{Conn: id, From: from, To: to, Type: t, Bytes: frame}
	if w.cfg.Monitor != nil {
		w.cfg.Monitor.Sent(w.now, p)
	}
	w.dels = w.icpt.Intercept(w.now, p, w.dels[:0])
	p.Bytes = nil
	if len(w.dels) == 0 {
		w.lostBytes[t] += uint64(len(frame))
		w.counters.FramesDropped++
		w.trace.event(w.now, trDrop, from, to, id, t, len(frame))
		return
	}
	if len(w.dels) > 1 {
		w.counters.FramesDuplicated += uint64(len(w.dels) - 1)
	}
	recv := c.end(to)
	base := w.latency(from, to)
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
		// The frame must outlive this step: copy it once per delivery.
		buf := append(w.getBuf(), d.Bytes...)
		w.push(event{at: at, kind: evDeliver, node: to, peer: from, conn: id, buf: buf, altered: d.Altered})
		w.trace.event(w.now, trSend, from, to, id, t, len(buf))
	}
}

func (w *World) getBuf() []byte {
	if n := len(w.bufs); n > 0 {
		b := w.bufs[n-1]
		w.bufs = w.bufs[:n-1]
		return b[:0]
	}
	return make([]byte, 0, 128)
}

func (w *World) putBuf(b []byte) {
	if cap(b) <= 64<<10 && len(w.bufs) < 4096 {
		w.bufs = append(w.bufs, b)
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
	w.push(event{at: w.now + d, kind: evTimer, node: n, gen: w.nodes[n].gen, tag: tag})
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
	w.conns[id-1] = &conn{id: id} // drop the old record; the id stays dead
}

func (w *World) observe(ob Observation) {
	switch ob.Kind {
	case ObsResyncSent:
		w.counters.ResyncRequested++
	case ObsResyncAnswered:
		w.counters.ResyncAnswered++
	case ObsResyncServed:
		w.counters.ResyncServed++
	case ObsThrottleOn:
		w.counters.ThrottleOn++
	case ObsThrottleOff:
		w.counters.ThrottleOff++
	case ObsReconnect:
		w.counters.Reconnects++
	case ObsDecodeError:
		w.counters.DecodeErrors++
	}
	// Through a World field, not &ob: a local's address passed to an
	// interface method escapes, and this runs for every observation.
	w.ob = ob
	w.trace.observation(w.now, &w.ob)
	if w.cfg.Monitor != nil {
		w.cfg.Monitor.Observe(w.now, &w.ob)
	}
}

func (w *World) step(id NodeID, in *Input) { w.stepAltered(id, in, false) }

// Peek decodes the frame node is about to be stepped with, for a Monitor's
// Step, with the run's codec and the node's own decoder: the node's Decode
// of the same frame then gets this message without decoding it again. The
// message is valid until the step ends, and must not be modified.
func (w *World) Peek(node NodeID, frame []byte) (wire.Message, error) {
	o := &w.outs[node]
	m, err := o.Decode(frame)
	if len(frame) > 0 {
		o.peeked, o.peekedMsg, o.peekedErr = frame, m, err
	}
	return m, err
}

func (w *World) stepAltered(id NodeID, in *Input, altered bool) {
	ns := &w.nodes[id]
	w.trace.input(w.now, id, in)
	if w.cfg.Monitor != nil {
		w.cfg.Monitor.Step(w.now, id, in, altered)
	}
	ns.spec.Node.Step(w.now, in, &w.outs[id])
	if w.cfg.Monitor != nil {
		w.cfg.Monitor.AfterStep(w.now, id)
	}
	// A peek is for this step's frame only, whichever hook made it: the
	// frame's buffer is recycled after the step.
	if o := &w.outs[id]; o.peeked != nil {
		o.unpeek()
	}
}

// Run executes events until the deadline, OnSample asks to stop, or nothing
// is left to do, and returns the result.
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
		ev := w.q.pop()
		if w.cfg.Deadline > 0 && ev.at > w.cfg.Deadline {
			w.now = w.cfg.Deadline
			break
		}
		w.now = ev.at
		w.counters.Events++
		w.dispatch(&ev)
	}
	w.trace.flush()
	return Result{Seed: w.cfg.Seed, Hash: w.trace.hash, End: w.now, Counters: w.counters, Series: w.series.list}
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
		w.push(event{at: w.now + after, kind: evWrite, node: id})
	}
}

func (w *World) dispatch(ev *event) {
	if ev.kind == evCall {
		fn := w.calls[ev.tag]
		w.calls[ev.tag] = nil
		w.free = append(w.free, ev.tag)
		fn(w)
		return
	}
	ns := &w.nodes[ev.node]
	in := &w.in
	*in = Input{Conn: ev.conn, Peer: ev.peer}
	switch ev.kind {
	case evWrite:
		// The workload keeps its pace whether or not the node is up;
		// a write at a crashed node is simply not made.
		if ns.up {
			in.Kind, in.Write = InWrite, w.cfg.Workload.Make(w.now, ev.node)
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
	case evDeliver:
		c := w.conn(ev.conn)
		if c == nil || !c.up || !ns.up {
			w.counters.FramesDropped++
			w.trace.event(w.now, trLost, ev.peer, ev.node, ev.conn, frameType(ev.buf), len(ev.buf))
			w.putBuf(ev.buf)
			return
		}
		w.counters.FramesDelivered++
		in.Kind, in.Frame = InFrame, ev.buf
		w.stepAltered(ev.node, in, ev.altered)
		w.putBuf(ev.buf)
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
}
