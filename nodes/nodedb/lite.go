package nodedb

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/syncsim/syncsim/nodes/model"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// NodeDB Lite's sync client constants (PROTOCOL.md, "Behaviour seen in
// NodeDB's implementation (2026)").
const (
	// pushInterval is the delta push loop's tick.
	pushInterval = 100 * sim.Millisecond
	// maxInFlight is how many unacked mutations one tick pushes at most.
	maxInFlight = 64
	// The reconnect backoff: min(initialBackoff·2^attempt, maxBackoff).
	initialBackoff = sim.Second
	maxBackoff     = 60 * sim.Second

	// What the handshake says about the client. The token is not empty,
	// so a NodeDB Origin validates it as a JWT (the Origin model accepts
	// any); wire version 1 is the seed's.
	liteToken         = "nodedb-lite"
	liteClientVersion = "nodedb-lite-2026.4"
	liteEpoch         = 1
	liteWireVersion   = 1
)

// LiteConfig tunes the Lite model. Zero fields take NodeDB's values.
type LiteConfig struct {
	MaxInFlight int // pushes per tick (64)
}

// WithDefaults returns c with its zero fields set to NodeDB's values.
func (c LiteConfig) WithDefaults() LiteConfig {
	if c.MaxInFlight == 0 {
		c.MaxInFlight = maxInFlight
	}
	return c
}

// Timer tags: the sync client's generation (bumped when a connection ends
// or the Lite crashes) above tagKindBits, the timer's kind below, so that
// the timers of a dead connection do nothing.
const (
	tagKindBits = 8
	tagPush     = 1 // the push loop's tick
	tagConnect  = 2 // the reconnect backoff has run out
)

// connPhase is where the sync client's connection stands.
type connPhase uint8

const (
	disconnected connPhase = iota // waiting for the backoff (or not started)
	connecting                    // dial sent
	handshaking                   // Handshake sent, no HandshakeAck yet
	syncing                       // handshake accepted: the push loop runs
)

// pendingDelta is a local mutation not yet acked or rejected (durable: the
// outbound queue is part of the local database).
type pendingDelta struct {
	mutationID uint64
	collection string
	documentID string
	delta      []byte // model.EncodeDelta's payload
}

// liteShape is one shape subscription: a collection's documents.
type liteShape struct {
	id    string // "shape:" + collection
	coll  string
	store *shapeStore // durable
	// snapshotLoaded (durable): a snapshot of the shape arrived once. From
	// then on the Lite no longer sends ShapeSubscribe for it; the
	// handshake's subscribed_shapes carries it, and Origin resumes its
	// deltas from its head, with no snapshot: what was committed while
	// the Lite was away is not replayed.
	snapshotLoaded bool
}

// Lite is the model of NodeDB's April 2026 Lite sync client.
type Lite struct {
	cfg    LiteConfig
	origin sim.NodeID
	peerID uint64
	liteID string
	shapes []*liteShape

	// durable
	pending        []pendingDelta // oldest first
	nextMutationID uint64

	// volatile: the sync client's session state
	gen     uint64
	phase   connPhase
	conn    sim.ConnID
	attempt int // reconnect attempts since the last accepted handshake
	// lastSeenLSN is the sequence tracker: per shape id, the last LSN seen
	// on this connection (a shape has none until its first delta or
	// snapshot).
	lastSeenLSN map[string]uint64
	// resyncRequested is the resync gate, one per connection: set at a
	// gap, cleared only by a snapshot of any shape or a reconnect.
	resyncRequested bool
	// pendingResync is the request the receive path stored at a gap, for
	// the push loop's next tick to take and send (hasResync: one is
	// stored).
	pendingResync wire.ResyncRequest
	hasResync     bool

	now    sim.Time
	skew   sim.Time       // device clock offset (faults.ClockSkewer)
	push   wire.DeltaPush // scratch: Send encodes at once
	device int64          // push.DeviceValidTimeMs points here
}

// NewLite returns a Lite that dials env.Origin, pushes as env.PeerID and
// subscribes to one shape per collection of env.Collections.
func NewLite(env sim.Env, cfg LiteConfig) *Lite {
	l := &Lite{cfg: cfg.WithDefaults(), origin: env.Origin, peerID: env.PeerID,
		liteID: strconv.FormatUint(env.PeerID, 10), nextMutationID: 1, lastSeenLSN: map[string]uint64{}}
	for _, c := range env.Collections {
		l.shapes = append(l.shapes, &liteShape{id: model.ShapeID(c), coll: c, store: newShapeStore(c)})
	}
	return l
}

// Crash implements sim.Node: the session is lost; the documents, the
// pending mutations and the mutation counter survive.
func (l *Lite) Crash() {
	l.resetSession()
	l.attempt = 0
}

// resetSession is NodeDB's reset on reconnect: the sequence trackers, the
// gate and a request not yet sent are cleared, and a new generation makes
// the old connection's timers stale.
func (l *Lite) resetSession() {
	l.gen++
	l.phase, l.conn = disconnected, 0
	clear(l.lastSeenLSN)
	l.resyncRequested, l.hasResync = false, false
}

func (l *Lite) setTimer(fx *sim.Effects, after sim.Time, kind uint64) {
	fx.SetTimer(after, l.gen<<tagKindBits|kind)
}

// Step implements sim.Node.
func (l *Lite) Step(now sim.Time, in *sim.Input, fx *sim.Effects) {
	l.now = now
	switch in.Kind {
	case sim.InStart, sim.InRestart:
		l.connect(fx)
	case sim.InConnUp:
		if l.phase == connecting && in.Conn != 0 {
			l.conn, l.phase = in.Conn, handshaking
			fx.Send(l.conn, l.handshake())
		}
	case sim.InConnDown:
		if (l.conn != 0 && in.Conn == l.conn) || (l.phase == connecting && in.Conn == 0) {
			l.connectionLost(fx)
		}
	case sim.InFrame:
		if l.conn != 0 && in.Conn == l.conn {
			l.receive(in.Frame, fx)
		}
	case sim.InTimer:
		if in.Timer>>tagKindBits != l.gen {
			return // a timer of a connection that is gone
		}
		switch in.Timer & (1<<tagKindBits - 1) {
		case tagPush:
			l.pushTick(fx)
		case tagConnect:
			l.connect(fx)
		}
	case sim.InWrite:
		l.localWrite(in.Write)
	}
}

// connect dials Origin.
func (l *Lite) connect(fx *sim.Effects) {
	if l.phase != disconnected {
		return
	}
	l.phase = connecting
	fx.Dial(l.origin)
}

// backoffDuration is the wait before reconnect attempt n (from 0):
// min(1 s·2^n, 60 s), no jitter.
func (l *Lite) backoffDuration(attempt int) sim.Time {
	if attempt >= 16 { // 2^16 s is far past the cap (and a larger shift would overflow)
		return maxBackoff
	}
	return min(initialBackoff<<attempt, maxBackoff)
}

// connectionLost ends the session (a failed dial, a closed connection or a
// refused handshake) and schedules the next attempt.
func (l *Lite) connectionLost(fx *sim.Effects) {
	wait := l.backoffDuration(l.attempt)
	l.attempt++
	l.resetSession()
	l.setTimer(fx, wait, tagConnect)
	fx.Emit(&sim.Reconnecting{Attempt: uint64(l.attempt)})
}

// handshake names the Lite's shapes but carries no per-shape LSN (its
// vector clock is empty): Origin cannot resume a stream from it.
func (l *Lite) handshake() *wire.Handshake {
	shapes := make([]string, len(l.shapes))
	for i, s := range l.shapes {
		shapes[i] = s.id
	}
	return &wire.Handshake{JWTToken: liteToken, VectorClock: map[string]map[string]uint64{}, SubscribedShapes: shapes,
		ClientVersion: liteClientVersion, LiteID: l.liteID, Epoch: liteEpoch, WireVersion: liteWireVersion}
}

// localWrite queues a mutation for the push loop. The synced copy is not
// touched: it holds what Origin sends (decision 8 in doc.go). A write to a
// collection the Lite does not sync is ignored.
func (l *Lite) localWrite(w sim.Write) {
	if l.shapeOfCollection(w.Collection) == nil {
		return
	}
	l.pending = append(l.pending, pendingDelta{mutationID: l.nextMutationID, collection: w.Collection,
		documentID: w.DocID, delta: model.EncodeDelta(w.Value)})
	l.nextMutationID++
}

// pushTick is one tick of the delta push loop: it re-arms itself, sends
// the stored resync request (once: it is taken), then every unacked
// mutation, oldest first, at most MaxInFlight of them.
func (l *Lite) pushTick(fx *sim.Effects) {
	l.setTimer(fx, pushInterval, tagPush)
	if l.hasResync {
		l.hasResync = false
		r := &l.pendingResync
		fx.Send(l.conn, r)
		fx.Emit(&sim.ResyncSent{Collection: r.Collection, From: r.FromMutationID, Attempt: 1})
	}
	for i := range l.pending[:min(len(l.pending), l.cfg.MaxInFlight)] {
		p := &l.pending[i]
		l.device = int64((l.now + l.skew) / sim.Millisecond)
		l.push = wire.DeltaPush{Collection: p.collection, DocumentID: p.documentID, Delta: p.delta,
			PeerID: l.peerID, MutationID: p.mutationID, DeviceValidTimeMs: &l.device}
		l.push.Seal() // checksum = CRC32C(delta)
		fx.Send(l.conn, &l.push)
	}
}

// receive is the receive loop's body for one frame from Origin.
func (l *Lite) receive(b []byte, fx *sim.Effects) {
	m, err := fx.Decode(b) // valid until the next Decode: copy what is kept
	if err != nil {
		fx.Emit(&sim.DecodeError{Error: err.Error()})
		return
	}
	switch m := m.(type) {
	case *wire.HandshakeAck:
		l.handleHandshakeAck(m, fx)
	case *wire.ShapeSnapshot:
		l.handleShapeSnapshot(m, fx)
	case *wire.ShapeDelta:
		l.handleShapeDelta(m, fx)
	case *wire.DeltaAck:
		l.retire(m.MutationID, false, fx)
	case *wire.DeltaReject:
		l.retire(m.MutationID, true, fx)
	case *wire.PingPong:
		if !m.IsPong {
			fx.Send(l.conn, &wire.PingPong{TimestampMs: m.TimestampMs, IsPong: true})
		}
	case *wire.ResyncRequest:
		// Origin asks for a re-send: logged, nothing else (the push loop
		// re-sends what is unacked anyway).
	default:
		// VectorClockSync and the rest: not acted on.
	}
}

// handleHandshakeAck starts the session: a ShapeSubscribe for each shape
// whose snapshot has not loaded yet (the others are resumed by the
// handshake alone), then the push loop, whose first tick runs at once (a tokio interval's
// first tick is immediate), pushing whatever is unacked. A refused
// handshake ends the connection: it is not a good one, so the backoff
// keeps growing.
func (l *Lite) handleHandshakeAck(m *wire.HandshakeAck, fx *sim.Effects) {
	if l.phase != handshaking {
		return // a second ack on the same connection
	}
	if !m.Success {
		fx.Close(l.conn)
		l.connectionLost(fx)
		return
	}
	l.phase, l.attempt = syncing, 0
	for _, s := range l.shapes {
		if s.snapshotLoaded {
			continue
		}
		fx.Send(l.conn, &wire.ShapeSubscribe{Shape: wire.ShapeDefinition{ShapeID: s.id, TenantID: 1,
			ShapeType: wire.ShapeType{Collection: s.coll}}})
	}
	l.pushTick(fx)
}

// handleShapeSnapshot loads the snapshot, re-bases the shape's tracker at
// its LSN and, whatever shape it is for, clears the resync gate and any
// request not yet sent. A snapshot whose data does not decode changes
// nothing.
func (l *Lite) handleShapeSnapshot(m *wire.ShapeSnapshot, fx *sim.Effects) {
	s := l.shape(m.ShapeID)
	var docs *model.Collection
	if s != nil {
		var err error
		if docs, err = model.LoadSnapshot(s.coll, m.Data, m.DocCount); err != nil {
			fx.Emit(&sim.DecodeError{Error: err.Error()})
			return
		}
	}
	l.lastSeenLSN[m.ShapeID] = m.SnapshotLSN
	l.resyncRequested, l.hasResync = false, false
	if s == nil {
		return
	}
	s.store.load(docs, m.SnapshotLSN)
	s.snapshotLoaded = true
	fx.Emit(&sim.SnapshotLoaded{Collection: s.coll, LSN: m.SnapshotLSN})
}

// handleShapeDelta checks the delta for a sequence gap, then applies it
// whatever the check said.
func (l *Lite) handleShapeDelta(m *wire.ShapeDelta, fx *sim.Effects) {
	s := l.shape(m.ShapeID)
	if s == nil {
		return // not a shape of ours
	}
	l.checkSequenceGap(s, m.LSN)
	value := []byte(m.Delta)
	if m.Operation == wire.OpDelete {
		value = nil
	}
	if s.store.apply(m.DocumentID, value, m.LSN) {
		fx.Emit(&sim.Applied{Collection: s.coll, LSN: m.LSN})
	}
}

// checkSequenceGap is the gap detector. While the gate is set it does
// nothing at all, the tracker included. A shape without a tracker on this
// connection starts tracking. An LSN more than one above the tracker is a
// gap: the request SequenceGap{last+1, lsn} from last+1 (an LSN, despite
// the field's name) is stored for the push loop and the gate shut. The
// tracker then takes the LSN, whatever it is: forwards over a gap, and
// backwards, unflagged, on a late or duplicate delta.
func (l *Lite) checkSequenceGap(s *liteShape, lsn uint64) {
	if l.resyncRequested {
		return
	}
	if last, ok := l.lastSeenLSN[s.id]; ok && lsn > last+1 {
		l.resyncRequested, l.hasResync = true, true
		l.pendingResync = wire.ResyncRequest{
			Reason:         wire.ResyncReason{Kind: wire.SequenceGap, Expected: last + 1, Received: lsn},
			FromMutationID: last + 1, Collection: s.coll}
	}
	l.lastSeenLSN[s.id] = lsn
}

// retire takes an acked or rejected mutation off the pending list; an id
// not pending changes nothing.
func (l *Lite) retire(mutationID uint64, rejected bool, fx *sim.Effects) {
	for i := range l.pending {
		if l.pending[i].mutationID != mutationID {
			continue
		}
		l.pending = append(l.pending[:i], l.pending[i+1:]...)
		if rejected {
			fx.Emit(&sim.Rejected{Mutation: mutationID})
		} else {
			fx.Emit(&sim.Acked{Mutation: mutationID}) // NodeDB's ack carries lsn 0
		}
		return
	}
}

func (l *Lite) shape(id string) *liteShape {
	for _, s := range l.shapes {
		if s.id == id {
			return s
		}
	}
	return nil
}

func (l *Lite) shapeOfCollection(c string) *liteShape {
	for _, s := range l.shapes {
		if s.coll == c {
			return s
		}
	}
	return nil
}

// Probe implements sim.Node: per shape the highest LSN applied or loaded
// (decision 3 in doc.go) and the digest of its documents; connected once
// a handshake was accepted on the live connection; unacked, the pending
// mutations; resyncing 1 while the gate is set (a gap was seen and no
// snapshot has answered it on this connection).
func (l *Lite) Probe(p *sim.Probe) {
	for _, s := range l.shapes {
		p.Collections = append(p.Collections, sim.CollectionState{Name: s.coll, LSN: s.store.high, Digest: s.store.docs.Digest()})
	}
	p.Connected = l.phase == syncing
	p.Unacked = len(l.pending)
	if l.resyncRequested {
		p.Resyncing = 1
	}
}

// Tracker returns the sequence tracker of collection c's shape on this
// connection, and whether it has one.
func (l *Lite) Tracker(c string) (uint64, bool) {
	lsn, ok := l.lastSeenLSN[model.ShapeID(c)]
	return lsn, ok
}

// SetClockSkew offsets the device clock that device_valid_time_ms reads
// (faults.ClockSkewer).
func (l *Lite) SetClockSkew(d sim.Time) { l.skew = d }

// CorruptDurable damages the stored documents as a torn write would
// (faults.DurableCorruptor): a stray document appears in one shape. The
// Lite never verifies its store, so the damage is never noticed.
func (l *Lite) CorruptDurable(seed [2]uint64) {
	if len(l.shapes) == 0 {
		return
	}
	rng := rand.New(rand.NewPCG(seed[0], seed[1]))
	s := l.shapes[rng.IntN(len(l.shapes))].store
	s.docs.Put(fmt.Sprintf("torn-%d", rng.IntN(1<<20)), []byte{0xde, 0xad})
}
