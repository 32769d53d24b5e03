// Package lite is the reference Lite client: a pure state machine that
// implements the NodeDB sync protocol so that it converges under any fault
// that eventually heals. Where NodeDB's 2026 Lite is known to be weak (a
// single-shot resync gate, a tracker that rewinds on reorder, no throttle),
// this node does the sound thing: per-shape resync with retry and backoff,
// in-order apply with a reorder buffer, and a throttle with hysteresis.
package lite

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"unsafe"

	"github.com/syncsim/syncsim/nodes/model"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// Config tunes a Lite. Zero fields take the defaults in parentheses.
type Config struct {
	Origin      sim.NodeID
	PeerID      uint64   // also the lite_id on the wire (decimal)
	Collections []string // one shape per collection
	QueueCap    int      // incoming ShapeDelta queue capacity (1024)
	HighWater   int      // throttle on at this depth (3/4 of QueueCap)
	LowWater    int      // throttle off at this depth (1/4 of QueueCap)
	DrainRate   float64  // deltas applied per second (5000)
	Tick        sim.Time // drain/push/housekeeping tick (10 ms)
	MaxInFlight int      // unacked DeltaPush frames outstanding (64)
	AckTimeout  sim.Time // re-send an unacked push after this (1 s)
	ResyncBase  sim.Time // first resync retry delay, doubling (250 ms)
	ResyncMax   sim.Time // cap on the resync retry delay (4 s)
	BackoffBase sim.Time // first reconnect delay, doubling (100 ms)
	BackoffMax  sim.Time // cap on the reconnect delay (5 s)
	PingEvery   sim.Time // keepalive (1 s)
	DeadAfter   sim.Time // a connection silent this long is dead (4 s)
	Reannounce  sim.Time // re-send Throttle{true} while still over the low mark (2 s)
	ReorderCap  int      // out-of-order deltas held per shape (4096)
	// Bugs switches on planted bugs (package bugs names them); the zero
	// value is the reference behaviour.
	Bugs Bugs
}

// Bugs are the planted bugs a Lite can be built with, so that the harness
// can show its checkers catch them. Several are NodeDB's 2026 behaviour
// (../shared/PROTOCOL.md).
type Bugs struct {
	// RewindOnReorder applies a delta at or below the last applied LSN,
	// moving the tracker backwards (NodeDB 2026).
	RewindOnReorder bool
	// ApplyPastGap applies a delta beyond a gap at once, jumping the
	// tracker over the missing LSNs (NodeDB 2026).
	ApplyPastGap bool
	// SingleShotGate keeps one resync gate per connection, not per shape:
	// after one request nothing more is asked, and nothing is retried,
	// until a snapshot for any shape arrives or the connection resets
	// (NodeDB 2026).
	SingleShotGate bool
	// SnapshotClearsGap lets a snapshot for one shape wipe every other
	// shape's pending resync and the deltas it held above its gap, which
	// the Lite then takes as received, as NodeDB's tracker does once it
	// has moved past them (NodeDB 2026).
	SnapshotClearsGap bool
	// NoPushRetry sends each push once per Lite lifetime: not again after
	// the ack timeout, nor after a reconnect or restart.
	NoPushRetry bool
}

// WithDefaults returns c with its zero fields set to the defaults, as New
// applies them.
func (c Config) WithDefaults() Config {
	c.defaults()
	return c
}

func (c *Config) defaults() {
	def := func(p *sim.Time, v sim.Time) {
		if *p == 0 {
			*p = v
		}
	}
	if c.QueueCap == 0 {
		c.QueueCap = 1024
	}
	if c.HighWater == 0 {
		c.HighWater = c.QueueCap * 3 / 4
	}
	if c.LowWater == 0 {
		c.LowWater = c.QueueCap / 4
	}
	if c.DrainRate == 0 {
		c.DrainRate = 5000
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = 64
	}
	if c.ReorderCap == 0 {
		c.ReorderCap = 4096
	}
	def(&c.Tick, 10*sim.Millisecond)
	def(&c.AckTimeout, sim.Second)
	def(&c.ResyncBase, 250*sim.Millisecond)
	def(&c.ResyncMax, 4*sim.Second)
	def(&c.BackoffBase, 100*sim.Millisecond)
	def(&c.BackoffMax, 5*sim.Second)
	def(&c.PingEvery, sim.Second)
	def(&c.DeadAfter, 4*sim.Second)
	def(&c.Reannounce, 2*sim.Second)
}

// mutation is a local write not yet acked (durable).
type mutation struct {
	id     uint64
	coll   string
	doc    string
	delta  []byte
	sentAt sim.Time // volatile in spirit; reset on restart
	sent   bool
}

// shape is per-subscription state. state and last are durable; the rest is
// volatile and reset by resetVolatile.
type shape struct {
	idx   int32 // index in Lite.shapes (what a queued delta names)
	coll  string
	id    string // model.ShapeID(coll), computed once: looked up per delta
	state *model.Collection
	last  uint64 // LSN of the last applied delta (or snapshot)

	live    bool                 // Origin has shown it serves this shape on this connection
	reorder map[uint64]heldDelta // received ahead of order, by LSN
	resync  *resync
	check   struct {
		lsn, digest uint64
		armed       bool
	}
	// wipedMax is the highest LSN Bugs.SnapshotClearsGap wiped from this
	// shape's reorder buffer: like NodeDB's tracker, which had moved to it,
	// the bugged Lite believes it received them. Always 0 without the bug.
	wipedMax uint64
}

// heldDelta is what the Lite keeps of a ShapeDelta (by value: the decoded
// message is reused for the next frame). It is 48 bytes with two pointers:
// at 1,024 Lites the full incoming queues hold a million of them, which
// the collector scans and the drain reads from memory (64 bytes and three
// pointers each cost one cache miss per delta drained).
type heldDelta struct {
	lsn   uint64
	doc   string
	value string // the frame's delta bytes (a copy, or a view of a shared frame: never modified); ignored for a delete
	del   bool
	shape int32 // in the queue: the index of the shape it was looked up for on arrival
}

// bytes is value as the collection takes it: an empty update stays an
// update (a nil value would be a delete).
func (d *heldDelta) bytes() []byte {
	if len(d.value) == 0 {
		return []byte{}
	}
	return unsafe.Slice(unsafe.StringData(d.value), len(d.value))
}

// queued is a delta waiting in the incoming queue.
type queued struct{ d heldDelta }

// resync is an outstanding ResyncRequest this Lite sent.
type resync struct {
	msg      wire.ResyncRequest
	target   uint64 // a SequenceGap request is answered once last reaches this; others only by a snapshot
	attempts uint64
	nextAt   sim.Time
	delay    sim.Time
}

// Lite is the reference client node.
type Lite struct {
	// What every delivered frame reads or writes comes first, in two cache
	// lines with the config's queue marks: at 1,024 Lites a Lite's state
	// has left the caches by the time its next frame comes, and these
	// fields were spread over five lines.
	now       sim.Time
	lastHeard sim.Time
	conn      sim.ConnID
	queue     deltaQueue
	id0       string // shapes[0].id, so that a delta for it is matched without reading the shape
	throttled bool
	ready     bool // HandshakeAck received
	cfg       Config
	shapes    []*shape
	byColl    map[string]int
	// durable
	unacked []mutation
	nextMID uint64
	seal    uint64 // durableSum at the last crash
	sealed  bool
	// coldResync: durable state was found corrupted; ask for a full
	// re-sync as soon as the handshake completes.
	coldResync bool
	// recent keeps acked mutations, in ack order, until Origin's applied
	// mark passes them: an ack corrupted in transit can retire a mutation
	// Origin never applied, and Origin's SequenceGap request for it must
	// still be answerable however many acks follow. (A ring of the last
	// 1024 acks lost one while a backlog of 2,500 mutations drained after
	// an Origin restart: swarm seed 11896.)
	recent   []mutation
	maxAcked uint64 // highest mutation id acked; an ack above Origin's applied mark was false
	// prevMark is Origin's applied mark as of an earlier clock, received
	// at prevMarkAt (Origin keeps the mark durably, so it holds across
	// reconnects).
	prevMark   uint64
	prevMarkAt sim.Time
	// volatile
	gen        uint64
	dialing    bool
	since      sim.Time // when the connection opened or the last subscribe went out
	attempt    int
	budget     float64
	throttleAt sim.Time
	lastPing   sim.Time
	rng        interface{ Int64N(int64) int64 }
	push       wire.DeltaPush // scratch: Send encodes at once
	device     int64          // push's DeviceValidTimeMs (a field: a local would escape)
	skew       sim.Time       // device clock offset (clock-skew faults)
	skewWarned uint64         // acks that carried a clock-skew warning
	gate       bool           // Bugs.SingleShotGate: a resync was asked on this connection
	rate       float64        // deltas applied per second now: DrainRate, or less while slowed
}

// New returns a Lite. rng is the node's own random stream (for reconnect
// jitter); the kernel hands it over so the node never touches a global one.
func New(cfg Config, rng interface{ Int64N(int64) int64 }) *Lite {
	cfg.defaults()
	l := &Lite{cfg: cfg, byColl: map[string]int{}, nextMID: 1, rng: rng, rate: cfg.DrainRate}
	for i, c := range cfg.Collections {
		l.byColl[c] = i
		l.shapes = append(l.shapes, &shape{idx: int32(i), coll: c, id: model.ShapeID(c), state: model.NewCollection(c)})
	}
	if len(l.shapes) > 0 {
		l.id0 = l.shapes[0].id
	}
	l.resetVolatile()
	return l
}

func (l *Lite) resetVolatile() {
	l.gen++
	l.conn, l.dialing, l.ready = 0, false, false
	l.queue = deltaQueue{}
	l.throttled = false
	l.gate = false
	for _, s := range l.shapes {
		s.live, s.wipedMax = false, 0
		if s.reorder == nil {
			s.reorder = map[uint64]heldDelta{}
		}
		clear(s.reorder)
		s.resync = nil
		s.check.armed = false
	}
	if l.cfg.Bugs.NoPushRetry {
		return
	}
	for i := range l.unacked {
		l.unacked[i].sent = false
	}
}

// Crash drops volatile state and seals the durable state with a checksum,
// as a store with checksummed pages would; InRestart verifies it.
func (l *Lite) Crash() {
	l.resetVolatile()
	l.sealed, l.seal = true, l.durableSum()
}

// durableSum is a checksum over the durable state: per shape its LSN and
// contents digest, and the mutation counter.
func (l *Lite) durableSum() uint64 {
	h := uint64(0x243f6a8885a308d3) ^ l.nextMID
	for _, s := range l.shapes {
		h = (h ^ s.last) * 0x9e3779b97f4a7c15
		h = (h ^ s.state.Digest()) * 0x9e3779b97f4a7c15
	}
	return h
}

// CorruptDurable damages the durable state of a crashed Lite the way a torn
// write would: it changes one stored document behind the checksum's back,
// where seed says. The fault injector calls it between Crash and Restart.
func (l *Lite) CorruptDurable(seed [2]uint64) {
	rng := rand.New(rand.NewPCG(seed[0], seed[1]))
	s := l.shapes[rng.IntN(len(l.shapes))]
	s.state.Put(fmt.Sprintf("torn-%d", rng.IntN(1<<20)), []byte{0xde, 0xad})
}

// coldStart runs at InRestart: if the durable state fails its checksum the
// Lite wipes it and, once connected, asks for everything again with
// ResyncRequest{CorruptedState, from 0}.
func (l *Lite) coldStart(fx *sim.Effects) {
	if !l.sealed {
		return
	}
	l.sealed = false
	if l.durableSum() == l.seal {
		return
	}
	fx.Emit(&sim.CorruptedState{})
	for _, s := range l.shapes {
		s.state, s.last, s.wipedMax = model.NewCollection(s.coll), 0, 0
	}
	l.coldResync = true
}

// Timer tags: generation in the high bits so timers of a dead incarnation
// or connection attempt are ignored.
const (
	tagTick = iota + 1
	tagReconnect
)

func (l *Lite) timer(fx *sim.Effects, d sim.Time, kind uint64) { fx.SetTimer(d, l.gen<<8|kind) }

// Step implements sim.Node.
func (l *Lite) Step(now sim.Time, in *sim.Input, fx *sim.Effects) {
	l.now = now
	switch in.Kind {
	case sim.InStart, sim.InRestart:
		l.coldStart(fx)
		l.timer(fx, l.cfg.Tick, tagTick)
		l.dial(fx)
	case sim.InConnUp:
		if in.Conn == 0 || !l.dialing {
			return
		}
		l.dialing, l.conn, l.attempt, l.lastHeard, l.since = false, in.Conn, 0, now, now
		fx.Send(l.conn, l.handshake())
	case sim.InConnDown:
		if in.Conn == l.conn || (l.dialing && in.Conn == 0) {
			l.lost(fx)
		}
	case sim.InFrame:
		if in.Conn == l.conn {
			l.lastHeard = now
			l.frame(in.Frame, fx)
		}
	case sim.InTimer:
		if in.Timer>>8 != l.gen {
			return
		}
		switch in.Timer & 0xff {
		case tagTick:
			l.tick(fx)
		case tagReconnect:
			l.dial(fx)
		}
	case sim.InWrite:
		l.write(in.Write, fx)
	}
}

func (l *Lite) dial(fx *sim.Effects) {
	if l.conn != 0 || l.dialing {
		return
	}
	l.dialing = true
	fx.Dial(l.cfg.Origin)
}

// lost handles a dead connection: reset what the connection carried and
// reconnect after min(base·2^attempt, max) plus jitter.
func (l *Lite) lost(fx *sim.Effects) {
	l.resetVolatile()
	l.attempt++
	d := l.cfg.BackoffBase << min(l.attempt-1, 20)
	d = min(d, l.cfg.BackoffMax)
	d += sim.Time(l.rng.Int64N(int64(d)/2 + 1))
	l.timer(fx, l.cfg.Tick, tagTick)
	l.timer(fx, d, tagReconnect)
	fx.Emit(&sim.Reconnecting{Attempt: uint64(l.attempt)})
}

func (l *Lite) handshake() *wire.Handshake {
	vc := make(map[string]map[string]uint64, len(l.shapes))
	ids := make([]string, len(l.shapes))
	for i, s := range l.shapes {
		vc[s.coll] = map[string]uint64{"lsn": s.last}
		ids[i] = s.id
	}
	return &wire.Handshake{JWTToken: "sim", VectorClock: vc, SubscribedShapes: ids, ClientVersion: "syncsim-ref",
		LiteID: strconv.FormatUint(l.cfg.PeerID, 10), Epoch: 1, WireVersion: 1}
}

func (l *Lite) write(w sim.Write, fx *sim.Effects) {
	if _, ok := l.byColl[w.Collection]; !ok {
		return
	}
	l.unacked = append(l.unacked, mutation{}) // then in place (see sim's eventQueue.add)
	m := &l.unacked[len(l.unacked)-1]
	m.id, m.coll, m.doc, m.delta = l.nextMID, w.Collection, w.DocID, model.EncodeDelta(w.Value)
	l.nextMID++
	l.pushDue(fx)
}

// pushDue sends unacked mutations that were never sent on this connection
// or whose ack is overdue, oldest first, within the in-flight window.
func (l *Lite) pushDue(fx *sim.Effects) {
	if !l.ready {
		return
	}
	for i := range l.unacked {
		if i >= l.cfg.MaxInFlight {
			break
		}
		m := &l.unacked[i]
		if m.sent && (l.now-m.sentAt < l.cfg.AckTimeout || l.cfg.Bugs.NoPushRetry) {
			continue
		}
		l.sendPush(m, fx)
	}
}

func (l *Lite) sendPush(m *mutation, fx *sim.Effects) {
	m.sent, m.sentAt = true, l.now
	l.device = int64((l.now + l.skew) / sim.Millisecond) // the device's own idea of the time
	p := &l.push
	*p = wire.DeltaPush{} // then in place (see sim's eventQueue.add)
	p.Collection, p.DocumentID, p.Delta, p.PeerID, p.MutationID = m.coll, m.doc, m.delta, l.cfg.PeerID, m.id
	p.DeviceValidTimeMs = &l.device
	l.push.Seal()
	fx.Send(l.conn, &l.push)
}

func (l *Lite) frame(b []byte, fx *sim.Effects) {
	m, err := fx.Decode(b) // valid until the next frame: keep copies only
	if err != nil {
		fx.Emit(&sim.DecodeError{Error: err.Error()})
		return
	}
	switch m := m.(type) {
	case *wire.HandshakeAck:
		if !m.Success {
			return
		}
		if !l.ready {
			l.ready = true
			l.subscribe(fx)
			if l.coldResync {
				l.coldResync = false
				for _, s := range l.shapes {
					l.askResync(s, wire.ResyncReason{Kind: wire.CorruptedState}, 0, 0, fx)
				}
			}
			l.pushDue(fx)
		}
	case *wire.ShapeSnapshot:
		l.snapshot(m, fx)
	case *wire.ShapeDelta:
		l.enqueue(m, fx)
	case *wire.DeltaAck:
		if m.ClockSkewWarningMs != nil {
			l.skewWarned++
		}
		l.acked(m.MutationID, m.LSN, false, fx)
	case *wire.DeltaReject:
		l.acked(m.MutationID, 0, true, fx)
	case *wire.ResyncRequest:
		// Origin lost or refused some of our pushes: re-send from there.
		l.resend(m.FromMutationID, fx)
	case *wire.VectorClockSync:
		l.antiEntropy(m, fx)
	case *wire.PingPong:
		if !m.IsPong {
			fx.Send(l.conn, &wire.PingPong{TimestampMs: m.TimestampMs, IsPong: true})
		}
	}
}

// subscribe (re-)sends ShapeSubscribe for every shape Origin has not yet
// shown it serves on this connection.
func (l *Lite) subscribe(fx *sim.Effects) {
	l.since = l.now
	for _, s := range l.shapes {
		if !s.live {
			fx.Send(l.conn, &wire.ShapeSubscribe{Shape: wire.ShapeDefinition{ShapeID: s.id,
				TenantID: 1, ShapeType: wire.ShapeType{Collection: s.coll}}})
		}
	}
}

// recentMax bounds recent when no clock prunes it (an Origin without
// anti-entropy): past it the oldest quarter is forgotten.
const recentMax = 1 << 16

// markSpacing is how far apart two clocks must arrive for their applied
// marks to count as two readings (Origin sends one per 500 ms).
const markSpacing = 200 * sim.Millisecond

// acked retires exactly mutation id. Acks are not taken as cumulative: a
// corrupted ack id would otherwise retire mutations never applied.
func (l *Lite) acked(id, lsn uint64, rejected bool, fx *sim.Effects) {
	if i := l.unackedFrom(id); i < len(l.unacked) && l.unacked[i].id == id {
		u := l.unacked[i]
		if rejected {
			fx.Emit(&sim.Rejected{Mutation: u.id})
		} else {
			fx.Emit(&sim.Acked{Mutation: u.id, LSN: lsn})
			l.maxAcked = max(l.maxAcked, u.id)
		}
		if n := len(l.unacked); n > 2*l.cfg.MaxInFlight && i < n/2 {
			// Close the gap from the front: acks are for the oldest
			// mutations (the in-flight window), and the list grows to
			// thousands while a partition lasts, all of which the usual
			// removal moved down at every ack. (A short list keeps the
			// usual removal: dropping the head gives up the array's
			// first slot, and the next append would reallocate.)
			copy(l.unacked[1:i+1], l.unacked[:i])
			l.unacked[0] = mutation{}
			l.unacked = l.unacked[1:]
		} else {
			l.unacked = append(l.unacked[:i], l.unacked[i+1:]...)
		}
		if rejected {
			return // final: never re-sent, whatever Origin asks later
		}
		if len(l.recent) >= recentMax {
			l.recent = slices.Delete(l.recent, 0, recentMax/4)
		}
		l.recent = append(l.recent, u)
		return
	}
	if rejected {
		// A rejection for a mutation we took as acked: that ack came from
		// a corrupted frame. Believe the rejection.
		for i := range l.recent {
			if l.recent[i].id == id {
				fx.Emit(&sim.Rejected{Mutation: id})
				l.recent = slices.Delete(l.recent, i, i+1) // never re-sent
				return
			}
		}
	}
}

// resend answers Origin's ResyncRequest: every mutation from id on, from the
// acked ones kept in recent and the unacked list, in id order (Origin applies in
// order and would drop an early arrival), at most MaxInFlight of them.
func (l *Lite) resend(from uint64, fx *sim.Effects) {
	tail := l.unacked[l.unackedFrom(from):] // in id order already
	var due []*mutation
	for k := range l.recent {
		if u := &l.recent[k]; u.id >= from {
			due = append(due, u)
		}
	}
	if len(due) == 0 {
		for i := range tail[:min(len(tail), l.cfg.MaxInFlight)] {
			l.sendPush(&tail[i], fx)
		}
		return
	}
	for i := range tail {
		due = append(due, &tail[i])
	}
	slices.SortFunc(due, func(a, b *mutation) int { return cmp.Compare(a.id, b.id) })
	for _, u := range due[:min(len(due), l.cfg.MaxInFlight)] {
		l.sendPush(u, fx)
	}
}

// unackedFrom is the index of the first unacked mutation whose id is at
// least id. The list is in ascending id order: mutations are appended as
// they are numbered and only ever removed, so a search replaces the scans
// that cost thousands of steps per ack while a partition lasts.
func (l *Lite) unackedFrom(id uint64) int {
	return sort.Search(len(l.unacked), func(i int) bool { return l.unacked[i].id >= id })
}

func (l *Lite) snapshot(m *wire.ShapeSnapshot, fx *sim.Effects) {
	s := l.shapeByID(m.ShapeID)
	if s == nil {
		return
	}
	c, err := model.LoadSnapshot(s.coll, m.Data, m.DocCount)
	if err != nil {
		fx.Emit(&sim.DecodeError{Error: err.Error()})
		l.askResync(s, wire.ResyncReason{Kind: wire.CorruptedState}, 0, 0, fx)
		return
	}
	// An older snapshot (overtaken by later deltas) re-bases us
	// backwards: the deltas applied above it are gone with the old state,
	// and the clock's gap check asks for them again.
	if m.SnapshotLSN < s.last {
		s.wipedMax = 0
	}
	s.state, s.last = c, m.SnapshotLSN
	for lsn := range s.reorder {
		if lsn <= s.last {
			delete(s.reorder, lsn)
		}
	}
	fx.Emit(&sim.SnapshotLoaded{Collection: s.coll, LSN: s.last})
	l.gate = false
	if l.cfg.Bugs.SnapshotClearsGap {
		for _, o := range l.shapes {
			if o != s {
				o.resync = nil
				for lsn := range o.reorder { // the maximum does not depend on map order
					o.wipedMax = max(o.wipedMax, lsn)
				}
				clear(o.reorder)
			}
		}
	}
	if s.resync != nil {
		s.resync = nil
		fx.Emit(&sim.ResyncAnswered{Collection: s.coll, LSN: s.last})
	}
	l.applyReady(s, fx)
}

func (l *Lite) shapeByID(id string) *shape {
	if i := l.shapeIndex(id); i >= 0 {
		return l.shapes[i]
	}
	return nil
}

// shapeIndex is the index in shapes of the shape with id, or -1. The first
// shape's id is matched from the Lite's own first cache line.
func (l *Lite) shapeIndex(id string) int32 {
	// Keep the decoder's copy of the id (interned, so mostly the same from
	// frame to frame): the next comparison is then usually of two equal
	// pointers, not of this Lite's cold bytes.
	if len(l.shapes) > 0 && id == l.id0 {
		if unsafe.StringData(id) != unsafe.StringData(l.id0) {
			l.id0 = id
		}
		return 0
	}
	for i, s := range l.shapes {
		if s.id == id {
			s.id = id
			return int32(i)
		}
	}
	return -1
}

// enqueue puts a delta on the bounded incoming queue; a full queue drops
// it (the gap it leaves is repaired by resync) and the throttle engages
// above the high-water mark.
func (l *Lite) enqueue(m *wire.ShapeDelta, fx *sim.Effects) {
	i := l.shapeIndex(m.ShapeID)
	if i < 0 {
		return
	}
	if l.queueLen() >= l.cfg.QueueCap {
		fx.Emit(&sim.QueueOverflow{Collection: l.shapes[i].coll, LSN: m.LSN})
		return
	}
	// Filled in place, not a literal copied in (see sim's eventQueue.add).
	q := l.queue.add(l.cfg.QueueCap)
	q.d.shape = i
	// A nil delta was applied as a delete, as the slice held before was.
	q.d.lsn, q.d.doc, q.d.del = m.LSN, m.DocumentID, m.Operation == wire.OpDelete || m.Delta == nil
	q.d.value = unsafe.String(unsafe.SliceData(m.Delta), len(m.Delta)) // the decoder's copy or a shared frame's view: immutable
	if !l.throttled && l.queueLen() >= l.cfg.HighWater {
		l.setThrottle(true, fx)
	}
}

func (l *Lite) queueLen() int { return l.queue.n }

// deltaQueue is the incoming FIFO: a ring that grows by doubling up to the
// queue's capacity and no further. (A slice consumed from its head and
// compacted now and then reached twice the capacity: at 1,024 Lites with
// full queues that was half the heap.)
type deltaQueue struct {
	ring []queued
	head int // index of the oldest delta
	n    int // deltas held
}

// add appends a zero delta and returns it for the caller to fill; the
// caller keeps n below capLen.
func (d *deltaQueue) add(capLen int) *queued {
	if d.n == len(d.ring) {
		grown := make([]queued, min(max(16, 2*len(d.ring)), max(capLen, d.n+1)))
		for i := 0; i < d.n; i++ {
			grown[i] = *d.at(i)
		}
		d.ring, d.head = grown, 0
	}
	q := d.at(d.n) // zeroed by pop
	d.n++
	return q
}

// at is the i-th oldest delta held (i < len(ring)); a wrap, not a modulo.
func (d *deltaQueue) at(i int) *queued {
	if i += d.head; i >= len(d.ring) {
		i -= len(d.ring)
	}
	return &d.ring[i]
}

// pop removes and returns the oldest delta; the queue must not be empty.
func (d *deltaQueue) pop() queued {
	q := d.ring[d.head]
	d.ring[d.head] = queued{} // release its bytes to the GC
	if d.head++; d.head == len(d.ring) {
		d.head = 0
	}
	d.n--
	return q
}

func (l *Lite) setThrottle(on bool, fx *sim.Effects) {
	l.throttled, l.throttleAt = on, l.now
	rate := uint64(0)
	if on {
		rate = uint64(l.rate)
	}
	fx.Send(l.conn, &wire.Throttle{Throttle: on, QueueDepth: uint64(l.queueLen()), SuggestedRate: rate})
}

// drain applies up to rate·Tick queued deltas.
func (l *Lite) drain(fx *sim.Effects) {
	l.budget = min(l.budget+l.rate*l.cfg.Tick.Seconds(), float64(l.cfg.QueueCap))
	for l.budget >= 1 && l.queueLen() > 0 {
		q := l.queue.pop()
		l.budget--
		l.process(l.shapes[q.d.shape], &q.d, fx)
	}
	if l.queueLen() == 0 {
		l.budget = min(l.budget, 1) // an idle consumer does not bank a burst
	}
}

// process applies a delta in LSN order: old ones are ignored (never a
// rewind), early ones wait in the reorder buffer and open a resync.
func (l *Lite) process(s *shape, d *heldDelta, fx *sim.Effects) {
	switch {
	case d.lsn <= s.last:
		if l.cfg.Bugs.RewindOnReorder {
			l.apply(s, d, fx)
		}
		return
	case d.lsn > s.last+1:
		if l.cfg.Bugs.ApplyPastGap {
			if s.resync == nil {
				l.askResync(s, wire.ResyncReason{Kind: wire.SequenceGap, Expected: s.last + 1, Received: d.lsn}, s.last+1, d.lsn-1, fx)
			}
			l.apply(s, d, fx)
			return
		}
		if len(s.reorder) < l.cfg.ReorderCap {
			s.reorder[d.lsn] = *d
		}
		if s.resync == nil {
			l.askResync(s, wire.ResyncReason{Kind: wire.SequenceGap, Expected: s.last + 1, Received: d.lsn}, s.last+1, d.lsn-1, fx)
		}
		return
	}
	l.apply(s, d, fx)
	l.applyReady(s, fx)
}

func (l *Lite) apply(s *shape, d *heldDelta, fx *sim.Effects) {
	if d.del {
		s.state.Put(d.doc, nil)
	} else {
		s.state.Put(d.doc, d.bytes())
	}
	s.last = d.lsn
	fx.Emit(&sim.Applied{Collection: s.coll, LSN: d.lsn})
}

// applyReady applies buffered deltas that are now in order, then settles
// the shape's resync and digest check.
func (l *Lite) applyReady(s *shape, fx *sim.Effects) {
	for len(s.reorder) > 0 { // mostly empty: no lookup, no copy of a zero delta
		d, ok := s.reorder[s.last+1]
		if !ok {
			break
		}
		delete(s.reorder, s.last+1)
		l.apply(s, &d, fx)
	}
	if r := s.resync; r != nil && r.msg.Reason.Kind == wire.SequenceGap && s.last >= r.target {
		s.resync = nil
		fx.Emit(&sim.ResyncAnswered{Collection: s.coll, LSN: s.last})
	}
	if s.resync == nil && len(s.reorder) > 0 {
		// Deltas wait above a gap that no open request covers (it opened
		// while an earlier resync was pending): ask for it now.
		lowest := uint64(0)
		for lsn := range s.reorder { // the minimum does not depend on map order
			if lowest == 0 || lsn < lowest {
				lowest = lsn
			}
		}
		l.askResync(s, wire.ResyncReason{Kind: wire.SequenceGap, Expected: s.last + 1, Received: lowest}, s.last+1, lowest-1, fx)
	}
	if s.check.armed && s.last == s.check.lsn {
		s.check.armed = false
		if s.state.Digest() != s.check.digest {
			// Contents differ at the same LSN: no re-send can fix that,
			// only a snapshot (replacing any narrower resync in flight).
			fx.Emit(&sim.DigestMismatch{Collection: s.coll, LSN: s.last})
			l.askResync(s, wire.ResyncReason{Kind: wire.CorruptedState}, 0, 0, fx)
		}
	}
}

// askResync sends a ResyncRequest for one shape and keeps it until
// answered, retrying with backoff (NodeDB's single-shot gate never retries).
func (l *Lite) askResync(s *shape, reason wire.ResyncReason, from, target uint64, fx *sim.Effects) {
	if l.cfg.Bugs.SingleShotGate {
		if l.gate {
			return
		}
		l.gate = true
	}
	s.resync = &resync{msg: wire.ResyncRequest{Reason: reason, FromMutationID: from, Collection: s.coll},
		target: target, delay: l.cfg.ResyncBase}
	l.sendResync(s, fx)
}

func (l *Lite) sendResync(s *shape, fx *sim.Effects) {
	r := s.resync
	if r.attempts > 0 && r.msg.Reason.Kind == wire.SequenceGap && s.last+1 > r.msg.FromMutationID {
		// Ask again for what is still missing only: re-asking from the
		// original point re-sends what was applied since, and a burst
		// bigger than the queue then overflows at the same place every
		// time (a livelock the lost-release scenario found).
		r.msg.FromMutationID, r.msg.Reason.Expected = s.last+1, s.last+1
	}
	r.attempts++
	r.nextAt = l.now + r.delay
	r.delay = min(2*r.delay, l.cfg.ResyncMax)
	if r.attempts%4 == 0 {
		// Still unanswered: perhaps Origin lost our subscription (a
		// subscribe corrupted in transit). Repeating it is harmless.
		s.live = false
		l.subscribe(fx)
	}
	fx.Send(l.conn, &r.msg)
	fx.Emit(&sim.ResyncSent{Collection: s.coll, From: r.msg.FromMutationID, Attempt: r.attempts})
}

// antiEntropy compares Origin's clock (the last LSN it sent us, and the
// digest after it) with what arrived: frames on a connection are FIFO, so
// anything at or below that LSN that has not arrived was lost.
func (l *Lite) antiEntropy(m *wire.VectorClockSync, fx *sim.Effects) {
	if mark, ok := m.Clocks[model.AppliedKey]; ok {
		l.appliedMark(mark, fx)
	}
	for _, s := range l.shapes {
		sent, ok := m.Clocks[s.coll]
		if !ok {
			continue
		}
		s.live = true
		// Origin never sent above `sent` before this frame on a FIFO
		// connection, so anything held above it is an LSN corrupted in
		// transit. (One still queued is dropped from the reorder buffer
		// at the next clock.)
		for lsn := range s.reorder {
			if lsn > sent {
				delete(s.reorder, lsn)
			}
		}
		if r := s.resync; r != nil && r.target > sent {
			r.target = sent
		}
		if s.last > sent && s.resync == nil {
			// Our tracker is past anything Origin sent (a corrupted
			// snapshot LSN): our state cannot be trusted.
			l.askResync(s, wire.ResyncReason{Kind: wire.CorruptedState}, 0, 0, fx)
			continue
		}
		if d, ok := m.Clocks[model.DigestKey(s.coll)]; ok && sent >= s.last {
			s.check.lsn, s.check.digest, s.check.armed = sent, d, true
		}
		s.wipedMax = min(s.wipedMax, max(s.last, sent))
		if s.resync == nil && l.highestHeld(s, sent) < sent {
			l.askResync(s, wire.ResyncReason{Kind: wire.SequenceGap, Expected: s.last + 1, Received: sent}, s.last+1, sent, fx)
		}
		l.applyReady(s, fx)
	}
}

// appliedMark acts on Origin's applied mark for our mutations, from its
// clock.
func (l *Lite) appliedMark(mark uint64, fx *sim.Effects) {
	if l.now-l.prevMarkAt >= markSpacing {
		// Forget acked mutations at or below the mark as it stood in this
		// clock and an earlier one: a clock corrupted in transit cannot
		// make us forget what Origin has not applied.
		if safe := min(mark, l.prevMark); safe > 0 {
			l.recent = slices.DeleteFunc(l.recent, func(u mutation) bool { return u.id <= safe })
		}
		l.prevMark, l.prevMarkAt = mark, l.now
	} else {
		// Too close to the last one to be another of Origin's clocks (a
		// duplicate, perhaps of a corrupted one): keep the lower.
		l.prevMark = min(l.prevMark, mark)
	}
	if l.maxAcked > mark {
		// We hold an ack above what Origin has applied for us: an ack id
		// corrupted in transit retired a mutation Origin never applied.
		// Re-send from the mark (Origin dedups what it already has), and
		// again at every clock until the mark passes our highest ack: one
		// re-send is capped at MaxInFlight and may not reach it (swarm
		// seed 954 lost a falsely acked mutation that way).
		l.resend(mark+1, fx)
	}
}

// highestHeld is the highest LSN of shape s, at most sent, that arrived and
// is applied, queued or waiting to be: below sent but not held means the
// tail up to sent was lost. It is worked out each time rather than kept as
// a running maximum, which a corrupted LSN above sent would poison (capped
// at sent, it claimed a tail that never arrived: swarm seed 8218).
func (l *Lite) highestHeld(s *shape, sent uint64) uint64 {
	h := max(s.last, s.wipedMax) // wipedMax is capped at max(last, sent) by the caller
	for lsn := range s.reorder { // the maximum does not depend on map order
		if lsn <= sent {
			h = max(h, lsn)
		}
	}
	for i := 0; i < l.queue.n; i++ {
		if q := l.queue.at(i); q.d.shape == s.idx && q.d.lsn <= sent {
			h = max(h, q.d.lsn)
		}
	}
	return h
}

func (l *Lite) tick(fx *sim.Effects) {
	l.timer(fx, l.cfg.Tick, tagTick)
	if l.conn == 0 {
		return
	}
	if l.now-l.lastHeard >= l.cfg.DeadAfter {
		fx.Close(l.conn)
		l.lost(fx)
		return
	}
	if l.now-l.since >= l.cfg.Reannounce {
		if !l.ready {
			// Handshake or its ack was lost: start over.
			fx.Close(l.conn)
			l.lost(fx)
			return
		}
		l.subscribe(fx)
	}
	l.drain(fx)
	if l.throttled {
		switch depth := l.queueLen(); {
		case depth <= l.cfg.LowWater:
			l.setThrottle(false, fx)
		case l.now-l.throttleAt >= l.cfg.Reannounce:
			l.setThrottle(true, fx) // keep the lease alive; repeat if lost
		}
	}
	for _, s := range l.shapes {
		if r := s.resync; r != nil && l.ready && l.now >= r.nextAt && !l.cfg.Bugs.SingleShotGate {
			l.sendResync(s, fx)
		}
	}
	l.pushDue(fx)
	if l.now-l.lastPing >= l.cfg.PingEvery {
		l.lastPing = l.now
		fx.Send(l.conn, &wire.PingPong{TimestampMs: uint64(l.now / sim.Millisecond)})
	}
}

// Probe implements sim.Node: per shape its LSN and digest, and what is
// still pending.
func (l *Lite) Probe(p *sim.Probe) {
	for _, s := range l.shapes {
		p.Collections = append(p.Collections, sim.CollectionState{Name: s.coll, LSN: s.last, Digest: s.state.Digest()})
		if s.resync != nil {
			p.Resyncing++
		}
	}
	p.Connected, p.Unacked, p.QueueDepth, p.Throttled = l.ready, len(l.unacked), l.queueLen(), l.throttled
}

// Collection returns the Lite's synced copy of collection c (nil if not
// subscribed), for checkers and tests.
func (l *Lite) Collection(c string) *model.Collection {
	if i, ok := l.byColl[c]; ok {
		return l.shapes[i].state
	}
	return nil
}

// SlowDown makes the Lite apply deltas at factor of its configured rate
// (slow-consumer faults; 1 restores it). The throttle it asks for follows.
func (l *Lite) SlowDown(factor float64) { l.rate = l.cfg.DrainRate * factor }

// SetClockSkew offsets the Lite's device clock (clock-skew faults): pushes
// then carry a device_valid_time_ms that far from the true time.
func (l *Lite) SetClockSkew(d sim.Time) { l.skew = d }

// SkewWarnings is the number of acks that carried a clock-skew warning.
func (l *Lite) SkewWarnings() uint64 { return l.skewWarned }
