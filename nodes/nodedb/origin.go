package nodedb

import (
	"fmt"
	"strconv"

	"github.com/syncsim/syncsim/nodes/model"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// NodeDB Origin's sync listener and session constants (PROTOCOL.md,
// "Verified in NodeDB's April 2026 code").
const (
	// The push rate limiter: a token bucket per session.
	pushRatePerSec = 100 // tokens per second
	pushBurst      = 200 // bucket depth; a new session starts full
	// maxQueuePerSession bounds each session's outbound delta channel.
	maxQueuePerSession = 10_000
	// maxSessions is what the listener accepts at once.
	maxSessions = 1024
	// idleTimeout: a session is closed when a frame finds it idle longer.
	idleTimeout = 300 * sim.Second
	// skewTolerance: DeltaAck carries clock_skew_warning_ms only past it.
	skewTolerance = 24 * 60 * sim.Minute

	// The wire versions the Origin accepts; 0 is a legacy client's and is
	// read as legacyWireVersion.
	minWireVersion    = 1
	maxWireVersion    = 4
	legacyWireVersion = minWireVersion
	// serverWireVersion is what HandshakeAck reports.
	serverWireVersion = 1

	// The identities a handshake establishes (signatures are not modelled:
	// every non-empty token counts as a valid JWT for the ReadWrite role).
	trustIdentity = "sync-client" // empty jwt_token: trust mode
	jwtIdentity   = "jwt-user"
	roleReadWrite = "ReadWrite"
)

// The compensation hints a DeltaReject carries (CompensationHint's unit
// variants).
const (
	hintPermissionDenied   = "PermissionDenied"
	hintIntegrityViolation = "IntegrityViolation"
)

// OriginConfig tunes the Origin model. Zero fields take NodeDB's defaults,
// in parentheses.
type OriginConfig struct {
	PushRate           float64  // push rate limit per session, per second (100)
	PushBurst          float64  // the limiter's bucket depth (200)
	MaxQueuePerSession int      // outbound delta channel per session (10,000)
	MaxSessions        int      // sessions accepted at once (1,024)
	IdleTimeout        sim.Time // a frame finding its session idle this long closes it (300 s)
	// DrainOnReceive drains a session's delta channel only after the
	// session has handled a frame from its Lite: one reading of NodeDB's
	// listener loop (decision 15 in doc.go; PROTOCOL.md does not state
	// it). Off (the default) the channel is drained at once: the simulated
	// network has no backpressure, so the channel then never fills.
	DrainOnReceive bool
}

// WithDefaults returns c with its zero fields set to NodeDB's defaults.
func (c OriginConfig) WithDefaults() OriginConfig {
	if c.PushRate == 0 {
		c.PushRate = pushRatePerSec
	}
	if c.PushBurst == 0 {
		c.PushBurst = pushBurst
	}
	if c.MaxQueuePerSession == 0 {
		c.MaxQueuePerSession = maxQueuePerSession
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = maxSessions
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = idleTimeout
	}
	return c
}

// originCollection is one collection's durable state.
type originCollection struct {
	name    string
	shapeID string
	docs    *model.Collection
	lastLSN uint64 // WAL LSN of its last commit (0: none)
}

// syncSession is one connection's state (volatile).
type syncSession struct {
	conn      sim.ConnID
	node      sim.NodeID
	sessionID string

	authenticated bool
	identity      string
	role          string
	// clientClock is the handshake's vector clock, stored as NodeDB stores
	// it and, like lastSeenLSN, never read again.
	clientClock map[string]map[string]uint64
	// lastSeenLSN is the largest LSN in the client's vector clock. NodeDB
	// computes it at the handshake and no code reads it again: nothing is
	// replayed after a reconnect. Kept, unused, for that reason.
	lastSeenLSN uint64
	// devicePeerID is the peer_id of the session's first DeltaPush (device
	// metadata NodeDB records; the dedup map is keyed by each push's own
	// peer_id, so nothing here reads it).
	devicePeerID uint64

	subscribed []bool // by collection index

	// The push rate limiter.
	tokens     float64
	lastRefill sim.Time

	// The outbound delta channel: encoded ShapeDelta frames not yet sent
	// (empty unless DrainOnReceive), and the deltas dropped because it was
	// full.
	queue   [][]byte
	dropped uint64

	lastActivity sim.Time
}

// Origin is the model of NodeDB's April 2026 Origin sync listener.
type Origin struct {
	cfg   OriginConfig
	colls []*originCollection
	index map[string]int

	// durable
	walLSN           uint64            // one WAL LSN shared by every collection
	lastSeenMutation map[uint64]uint64 // peer_id → highest mutation id admitted
	epochs           map[string]uint64 // lite_id → last epoch seen

	// volatile
	sessions []*syncSession // in accept order
	accepted uint64         // connections accepted (names sessions)
	now      sim.Time
	ack      wire.DeltaAck   // scratch: Send encodes at once
	skewMs   int64           // ack.ClockSkewWarningMs points here
	delta    wire.ShapeDelta // scratch for fan-out
	frame    []byte          // its encoding, reused when drained at once
}

// NewOrigin returns an Origin serving env.Collections.
func NewOrigin(env sim.Env, cfg OriginConfig) *Origin {
	o := &Origin{cfg: cfg.WithDefaults(), index: map[string]int{}, lastSeenMutation: map[uint64]uint64{}, epochs: map[string]uint64{}}
	for i, c := range env.Collections {
		o.index[c] = i
		o.colls = append(o.colls, &originCollection{name: c, shapeID: model.ShapeID(c), docs: model.NewCollection(c)})
	}
	return o
}

// Crash drops the sessions; documents, the WAL LSN, the dedup marks and the
// epochs survive.
func (o *Origin) Crash() {
	o.sessions = nil
	o.accepted = 0
}

// Step implements sim.Node.
func (o *Origin) Step(now sim.Time, in *sim.Input, fx *sim.Effects) {
	o.now = now
	switch in.Kind {
	case sim.InConnUp:
		o.accept(in, fx)
	case sim.InConnDown:
		o.closeSession(in.Conn)
	case sim.InFrame:
		if s := o.session(in.Conn); s != nil {
			o.handleFrame(s, in.Frame, fx)
		}
	case sim.InWrite:
		if i, ok := o.index[in.Write.Collection]; ok {
			o.commit(i, in.Write.DocID, in.Write.Value, 0, 0, fx)
		}
	}
	// InStart, InRestart: nothing to arm (the Origin keeps no timers).
}

// accept opens a session for a new connection, within the listener's limit.
func (o *Origin) accept(in *sim.Input, fx *sim.Effects) {
	if len(o.sessions) >= o.cfg.MaxSessions {
		fx.Close(in.Conn)
		return
	}
	o.accepted++
	o.sessions = append(o.sessions, &syncSession{conn: in.Conn, node: in.Peer,
		sessionID: fmt.Sprintf("sync-node%d-%d", in.Peer, o.accepted), subscribed: make([]bool, len(o.colls)),
		tokens: o.cfg.PushBurst, lastRefill: o.now, lastActivity: o.now})
}

func (o *Origin) session(c sim.ConnID) *syncSession {
	for _, s := range o.sessions {
		if s.conn == c {
			return s
		}
	}
	return nil
}

func (o *Origin) closeSession(c sim.ConnID) {
	for i, s := range o.sessions {
		if s.conn == c {
			o.sessions = append(o.sessions[:i], o.sessions[i+1:]...)
			return
		}
	}
}

// handleFrame is the listener's loop body for one binary message: the
// frame is handled, then (DrainOnReceive) the delta channel drained, then
// the idle timeout checked.
func (o *Origin) handleFrame(s *syncSession, b []byte, fx *sim.Effects) {
	o.processFrame(s, b, fx)
	if o.cfg.DrainOnReceive {
		o.drain(s, fx)
	}
	if o.now-s.lastActivity > o.cfg.IdleTimeout {
		fx.Close(s.conn)
		o.closeSession(s.conn)
	}
}

func (o *Origin) processFrame(s *syncSession, b []byte, fx *sim.Effects) {
	m, err := fx.Decode(b) // valid until the next Decode: copy what is kept
	if err != nil {
		fx.Emit(&sim.DecodeError{Error: err.Error()})
		return
	}
	switch m := m.(type) {
	case *wire.Handshake:
		o.handleHandshake(s, m, fx)
	case *wire.ShapeSubscribe:
		o.handleShapeSubscribe(s, m, fx)
	case *wire.DeltaPush:
		o.handleDeltaPush(s, m, fx)
	case *wire.PingPong:
		if !m.IsPong {
			s.lastActivity = o.now
			fx.Send(s.conn, &wire.PingPong{TimestampMs: m.TimestampMs, IsPong: true})
		}
	case *wire.ResyncRequest:
		// "client requested re-sync": logged at warn level, nothing else.
	case *wire.Throttle:
		// "client throttle signal received": logged at info level, nothing else.
	case *wire.VectorClockSync:
		// Ignored: this Origin never sends VectorClockSync.
	}
}

// handleHandshake checks the wire version, authenticates (an empty token
// in trust mode, any other as a valid JWT), stores the client's clock,
// runs fork detection and acks.
func (o *Origin) handleHandshake(s *syncSession, m *wire.Handshake, fx *sim.Effects) {
	s.lastActivity = o.now
	version := m.WireVersion
	if version == 0 {
		version = legacyWireVersion
	}
	if version < minWireVersion || version > maxWireVersion {
		why := "incompatible wire version: " + strconv.FormatUint(uint64(version), 10)
		fx.Send(s.conn, &wire.HandshakeAck{Success: false, SessionID: s.sessionID, ServerClock: o.serverClock(),
			Error: &why, ServerWireVersion: serverWireVersion})
		return
	}
	if m.JWTToken == "" {
		s.identity = trustIdentity // trust mode: no configuration guards this branch
	} else {
		s.identity = jwtIdentity // signatures are not modelled: the JWT is taken as valid
	}
	s.role, s.authenticated = roleReadWrite, true
	s.clientClock = m.VectorClock // a fresh map from this Decode, the session may keep it
	s.lastSeenLSN = 0
	for _, perShape := range m.VectorClock {
		for _, lsn := range perShape {
			s.lastSeenLSN = max(s.lastSeenLSN, lsn)
		}
	}
	// The shapes the Lite names are resumed on this session, from the
	// head: deltas flow from the next commit on, with no snapshot and no
	// replay (the clock carries no per-shape LSN, and last_seen_lsn is
	// never read). A shape id is matched to the collection whose shape
	// id it is.
	for _, id := range m.SubscribedShapes {
		for i, c := range o.colls {
			if c.shapeID == id {
				s.subscribed[i] = true
			}
		}
	}
	fx.Send(s.conn, &wire.HandshakeAck{Success: true, SessionID: s.sessionID, ServerClock: o.serverClock(),
		ForkDetected: o.checkForkDetection(m), ServerWireVersion: serverWireVersion})
}

// checkForkDetection compares the handshake's epoch with the last one seen
// for its lite_id: a lower one is a fork (a device restored from a backup).
// A forked epoch does not replace the one recorded. Handshakes without a
// lite_id or with epoch 0 are not checked.
func (o *Origin) checkForkDetection(m *wire.Handshake) bool {
	if m.LiteID == "" || m.Epoch == 0 {
		return false
	}
	if last, ok := o.epochs[m.LiteID]; ok && m.Epoch < last {
		return true
	}
	o.epochs[m.LiteID] = m.Epoch
	return false
}

// serverClock is each collection's last commit's WAL LSN.
func (o *Origin) serverClock() map[string]uint64 {
	clock := make(map[string]uint64, len(o.colls))
	for _, c := range o.colls {
		clock[c.name] = c.lastLSN
	}
	return clock
}

// handleShapeSubscribe answers with a snapshot of the collection built at
// the current WAL LSN, and subscribes the session to its deltas. Every
// subscribe is answered (a repeated one again, with a fresh snapshot); a
// shape naming no collection the Origin serves gets an empty snapshot and
// no subscription.
func (o *Origin) handleShapeSubscribe(s *syncSession, m *wire.ShapeSubscribe, fx *sim.Effects) {
	snap := &wire.ShapeSnapshot{ShapeID: m.Shape.ShapeID, SnapshotLSN: o.walLSN}
	if i, ok := o.index[m.Shape.ShapeType.Collection]; ok {
		c := o.colls[i]
		snap.Data, snap.DocCount = c.docs.Snapshot(), uint64(c.docs.Len())
		s.subscribed[i] = true
	}
	fx.Send(s.conn, snap)
}

// handleDeltaPush runs NodeDB's checks in their order: authentication,
// empty delta, checksum, the session's device peer id, replay dedup, the
// rate limiter; then the dedup mark moves, the collection and payload are
// validated, and the push is acked (lsn 0) before its write commits.
func (o *Origin) handleDeltaPush(s *syncSession, m *wire.DeltaPush, fx *sim.Effects) {
	s.lastActivity = o.now
	if !s.authenticated {
		o.reject(s, m.MutationID, "not authenticated", hintPermissionDenied, fx)
		return
	}
	if len(m.Delta) == 0 {
		o.reject(s, m.MutationID, "empty delta", "", fx)
		return
	}
	if m.Checksum != 0 {
		if computed := wire.Checksum(m.Delta); computed != m.Checksum {
			fx.Emit(&sim.ChecksumFailed{Collection: m.Collection, Mutation: m.MutationID})
			o.reject(s, m.MutationID, fmt.Sprintf("CRC32C mismatch: expected 0x%08x, computed 0x%08x", m.Checksum, computed),
				hintIntegrityViolation, fx)
			return
		}
	}
	if s.devicePeerID == 0 {
		s.devicePeerID = m.PeerID
	}
	if last, ok := o.lastSeenMutation[m.PeerID]; ok && m.MutationID <= last {
		// Replay dedup: acked, not applied. A push overtaken by a later
		// one lands here too and is never applied (weakness W8).
		fx.Emit(&sim.Deduped{Peer: m.PeerID, Mutation: m.MutationID})
		o.ack = wire.DeltaAck{MutationID: m.MutationID}
		fx.Send(s.conn, &o.ack)
		return
	}
	// (NodeDB rejects here a session with no identity; in this model an
	// authenticated session always has one.)
	if !o.tryAcquire(s) {
		return // rate limited: silently dropped (NodeDB writes it to its dead-letter queue)
	}
	// (Row-level security would drop silently here; no policies are modelled.)
	o.lastSeenMutation[m.PeerID] = max(o.lastSeenMutation[m.PeerID], m.MutationID)
	// The write's own validation comes after the dedup mark moved, as
	// NodeDB's constraint check runs after the session handler has acked:
	// a re-sent copy of a mutation rejected here is acked as a duplicate.
	i, ok := o.index[m.Collection]
	if !ok {
		o.reject(s, m.MutationID, "unknown collection: "+m.Collection, "", fx)
		return
	}
	value, err := model.DecodeDelta(m.Delta)
	if err != nil {
		o.reject(s, m.MutationID, err.Error(), "", fx)
		return
	}
	o.ack = wire.DeltaAck{MutationID: m.MutationID, ClockSkewWarningMs: o.clockSkewWarning(m)}
	fx.Send(s.conn, &o.ack)
	o.commit(i, m.DocumentID, value, m.PeerID, m.MutationID, fx)
}

// reject sends a DeltaReject with reason and, if hint is not empty, that
// compensation hint.
func (o *Origin) reject(s *syncSession, mutationID uint64, reason, hint string, fx *sim.Effects) {
	r := &wire.DeltaReject{MutationID: mutationID, Reason: reason}
	if hint != "" {
		r.Compensation = wire.UnitVariant(fx.Codec().Profile(), hint)
	}
	fx.Send(s.conn, r)
}

// tryAcquire takes one token from the session's bucket, refilled for the
// time since the last refill.
func (o *Origin) tryAcquire(s *syncSession) bool {
	if elapsed := o.now - s.lastRefill; elapsed > 0 {
		s.tokens = min(s.tokens+elapsed.Seconds()*o.cfg.PushRate, o.cfg.PushBurst)
		s.lastRefill = o.now
	}
	if s.tokens < 1 {
		return false
	}
	s.tokens--
	return true
}

// clockSkewWarning is Origin's time minus the device's, in ms, when it is
// more than skewTolerance either way; nil otherwise or without a device
// time.
func (o *Origin) clockSkewWarning(m *wire.DeltaPush) *int64 {
	if m.DeviceValidTimeMs == nil {
		return nil
	}
	skew := int64(o.now/sim.Millisecond) - *m.DeviceValidTimeMs
	if tol := int64(skewTolerance / sim.Millisecond); skew > tol || skew < -tol {
		o.skewMs = skew // sent at once, never kept
		return &o.skewMs
	}
	return nil
}

// commit writes a change at the next WAL LSN and fans it out.
func (o *Origin) commit(i int, doc string, value []byte, peerID, mutationID uint64, fx *sim.Effects) {
	c := o.colls[i]
	o.walLSN++
	c.lastLSN = o.walLSN
	c.docs.Put(doc, value)
	fx.Emit(&sim.Committed{Collection: c.name, LSN: o.walLSN, Peer: peerID, Mutation: mutationID})
	o.fanOut(i, doc, value, fx)
}

// fanOut offers the change, as one encoded ShapeDelta, to the channel of
// every authenticated session subscribed to the collection (the writer's
// own included).
func (o *Origin) fanOut(i int, doc string, value []byte, fx *sim.Effects) {
	var frame []byte
	c := o.colls[i]
	for _, s := range o.sessions {
		if !s.authenticated || !s.subscribed[i] {
			continue
		}
		if frame == nil {
			op := wire.OpUpdate
			if value == nil {
				op = wire.OpDelete
			}
			o.delta = wire.ShapeDelta{ShapeID: c.shapeID, Collection: c.name, DocumentID: doc, Operation: op,
				Delta: value, LSN: c.lastLSN}
			// A frame drained at once is copied out by SendRaw: the
			// buffer is reused; one that waits in a channel is its own.
			buf := o.frame[:0]
			if o.cfg.DrainOnReceive {
				buf = nil
			}
			f, err := fx.Codec().AppendFrame(buf, &o.delta)
			if err != nil {
				fx.Send(s.conn, &o.delta) // reports the encode error
				return
			}
			if !o.cfg.DrainOnReceive {
				o.frame = f
			}
			frame = f // shared by every session's channel, never modified
		}
		o.trySend(s, frame, fx)
	}
}

// trySend is the channel's non-blocking send: when full, the delta being
// sent is dropped and counted. Unless DrainOnReceive, the channel is
// drained at once.
func (o *Origin) trySend(s *syncSession, frame []byte, fx *sim.Effects) {
	if len(s.queue) >= o.cfg.MaxQueuePerSession {
		s.dropped++
		return
	}
	s.queue = append(s.queue, frame)
	if !o.cfg.DrainOnReceive {
		o.drain(s, fx)
	}
}

// drain sends every delta waiting in the session's channel.
func (o *Origin) drain(s *syncSession, fx *sim.Effects) {
	for i, f := range s.queue {
		fx.SendRaw(s.conn, f)
		s.queue[i] = nil
	}
	s.queue = s.queue[:0]
}

// Probe implements sim.Node: per collection the WAL LSN of its last commit
// and its digest; per session its backlog (the deltas in its channel).
func (o *Origin) Probe(p *sim.Probe) {
	for _, c := range o.colls {
		p.Collections = append(p.Collections, sim.CollectionState{Name: c.name, LSN: c.lastLSN, Digest: c.docs.Digest()})
	}
	for _, s := range o.sessions {
		p.Sessions = append(p.Sessions, sim.SessionState{Conn: s.conn, Peer: s.node, Backlog: uint64(len(s.queue))})
	}
}

// WAL returns the WAL LSN of the last commit.
func (o *Origin) WAL() uint64 { return o.walLSN }

// LastSeen returns the dedup mark of peer: the highest mutation id admitted.
func (o *Origin) LastSeen(peer uint64) uint64 { return o.lastSeenMutation[peer] }

// Collection returns collection c's documents (nil if not served).
func (o *Origin) Collection(c string) *model.Collection {
	if i, ok := o.index[c]; ok {
		return o.colls[i].docs
	}
	return nil
}

// Dropped returns the deltas dropped because the channel of the session on
// conn was full (0 for no such session).
func (o *Origin) Dropped(conn sim.ConnID) uint64 {
	if s := o.session(conn); s != nil {
		return s.dropped
	}
	return 0
}
