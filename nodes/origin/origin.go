// Package origin is the reference Origin server: a pure state machine that
// implements the NodeDB sync protocol the way it is meant to work (see
// ../shared/PROTOCOL.md): LSN per committed mutation, contiguous per
// collection so gap detection is sound; dedup by (peer, mutation id) with
// in-order apply; resync answered by re-send from a retained log or by
// snapshot; throttle honoured with a lease; anti-entropy clocks.
//
// Every session reads the collection logs through its own cursor, so
// fan-out, catch-up after reconnect, resync answers and throttled pacing are
// one mechanism: advance the cursor when allowed.
package origin

import (
	"fmt"
	"slices"
	"strconv"

	"github.com/syncsim/syncsim/nodes/model"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// Config tunes the Origin. Zero fields take the defaults in parentheses.
type Config struct {
	Collections   []string
	RetainLog     int      // log entries kept per collection for re-send (1024)
	DefaultRate   float64  // push rate when a Throttle suggests 0, deltas/s (50)
	ThrottleBurst float64  // token bucket depth while throttled (8)
	ThrottleLease sim.Time // a throttle not re-announced expires after this (5 s)
	SyncEvery     sim.Time // VectorClockSync interval per session (500 ms)
	IdleTimeout   sim.Time // close a session silent this long (10 s)
	Tick          sim.Time // pacing and housekeeping tick (20 ms)
	// Bugs switches on planted bugs (package bugs names them); the zero
	// value is the reference behaviour.
	Bugs Bugs
}

// Bugs are the planted bugs an Origin can be built with, so that the
// harness can show its checkers catch them. Several are NodeDB's 2026
// behaviour (../shared/PROTOCOL.md).
type Bugs struct {
	// NoDedup applies a re-sent mutation again.
	NoDedup bool
	// SkipCRCCheck applies a push whose CRC32C does not match its delta.
	SkipCRCCheck bool
	// IgnoreThrottle only logs Throttle (NodeDB 2026).
	IgnoreThrottle bool
	// NoLease keeps a throttle until it is released, however long: a lost
	// release stalls the peer (the message has no lease in NodeDB 2026).
	NoLease bool
	// DedupBeforeApply moves the dedup mark to the highest mutation id
	// seen before applying, so a push overtaken by a later one is acked
	// later without ever being applied (NodeDB 2026).
	DedupBeforeApply bool
	// NoReplay starts a reconnecting Lite's stream at the head: what was
	// committed while it was away is not re-sent (NodeDB 2026).
	NoReplay bool
	// NoAntiEntropy never sends VectorClockSync.
	NoAntiEntropy bool
	// NoSnapshotFallback resumes a stream that fell behind the retained
	// log at the log's oldest entry instead of sending a snapshot.
	NoSnapshotFallback bool
	// IgnoreResync only logs ResyncRequest.
	IgnoreResync bool
}

// WithDefaults returns c with its zero fields set to the defaults, as New
// applies them.
func (c Config) WithDefaults() Config {
	c.defaults()
	return c
}

func (c *Config) defaults() {
	if c.RetainLog == 0 {
		c.RetainLog = 1024
	}
	if c.DefaultRate == 0 {
		c.DefaultRate = 50
	}
	if c.ThrottleBurst == 0 {
		c.ThrottleBurst = 8
	}
	if c.ThrottleLease == 0 {
		c.ThrottleLease = 5 * sim.Second
	}
	if c.SyncEvery == 0 {
		c.SyncEvery = 500 * sim.Millisecond
	}
	if c.IdleTimeout == 0 {
		c.IdleTimeout = 10 * sim.Second
	}
	if c.Tick == 0 {
		c.Tick = 20 * sim.Millisecond
	}
}

// entry is one committed change in a collection's log.
type entry struct {
	lsn    uint64
	doc    string
	value  []byte // nil: delete
	digest uint64 // collection digest after this entry
	// frame is the entry's ShapeDelta frame, encoded on its first send and
	// sent as is, shared (sim.Effects.SendShared), to every subscriber
	// (empty: not yet encoded). Deliveries still under way hold it, so it
	// is never written again: the entry that next takes this ring slot
	// encodes into a buffer of its own.
	frame []byte
}

// coll is a collection's durable state: documents, head LSN and the
// retained tail of its log (a ring of the last RetainLog entries).
type coll struct {
	shape  string // shape id, computed once
	digest string // the clock's digest key (model.DigestKey), computed once
	state  *model.Collection
	head   uint64
	log    []entry   // ring; entry for lsn L at (L-1) % cap
	frames frameSlab // where the log's frames are encoded
}

func (c *coll) first() uint64 { // oldest LSN still in the log
	if c.head < uint64(len(c.log)) {
		return 1
	}
	return c.head - uint64(len(c.log)) + 1
}

func (c *coll) at(lsn uint64) *entry {
	n := uint64(len(c.log))
	if n&(n-1) == 0 { // the usual sizes: a mask, not a division (tens of cycles)
		return &c.log[(lsn-1)&(n-1)]
	}
	return &c.log[(lsn-1)%n]
}

// digestAt returns the collection digest right after lsn if known.
func (c *coll) digestAt(lsn uint64) (uint64, bool) {
	switch {
	case lsn == c.head:
		return c.state.Digest(), true
	case lsn == 0 && c.head == 0:
		return 0, true
	case lsn >= c.first() && lsn < c.head:
		return c.at(lsn).digest, true
	}
	return 0, false
}

// peer is per-Lite dedup state (durable): the highest mutation id applied
// or rejected, and the reasons of recent rejections, so that a re-sent
// copy of a rejected mutation is rejected again rather than acked.
type peer struct {
	applied  uint64
	lastLSN  uint64
	rejected map[uint64]string // bounded by rejectMemory, oldest dropped
	rejOrder []uint64
	// doubted is the mutation whose copies named an unknown collection
	// (doubtedColl); asked for again doubts times, the last at doubtedAt.
	doubted     uint64
	doubtedColl string
	doubtedAt   sim.Time
	doubts      int
}

// An unknown collection is believed only after doubtAsks requests for the
// mutation, each at least doubtSpacing after the one before, were all
// answered with the same name: copies arriving sooner may be a duplicate,
// a delayed or replayed copy of the same corrupted frame.
const (
	doubtAsks    = 3
	doubtSpacing = 500 * sim.Millisecond
)

// rejectMemory bounds the rejections remembered per peer.
const rejectMemory = 1024

func (p *peer) reject(mid uint64, why string) {
	if p.rejected == nil {
		p.rejected = map[uint64]string{}
	}
	if len(p.rejOrder) == rejectMemory {
		delete(p.rejected, p.rejOrder[0])
		p.rejOrder = p.rejOrder[1:]
	}
	p.rejected[mid] = why
	p.rejOrder = append(p.rejOrder, mid)
	p.applied = max(p.applied, mid) // a rejection is final: later mutations may apply
}

// session is one connection's volatile state.
type session struct {
	// What a commit's fan-out reads comes first, in the record's first
	// lines: a commit visits every session.
	conn      sim.ConnID
	node      sim.NodeID
	ready     bool // handshake done
	throttled bool
	// per is the session's state of each collection, by collection index,
	// one record each (five slices were five cache lines per session).
	per        []sessColl
	perInline  [2]sessColl // per's room for the first collections
	peerID     uint64
	known      map[string]uint64 // LSN per collection from the handshake
	rate       float64
	tokens     float64
	leaseUntil sim.Time
	refillAt   sim.Time // when tokens were last refilled
	lastHeard  sim.Time
	nextSync   sim.Time
	lastGapAsk uint64 // expected mutation id of the last SequenceGap sent
	lastGapAt  sim.Time
}

// sessColl is a session's state of one collection.
type sessColl struct {
	subscribed bool
	snapshot   bool   // a snapshot is owed
	cursor     uint64 // next LSN to send
	sentMax    uint64 // highest LSN sent on this session
	repair     []span // ranges to re-send ahead of the cursor
}

// span is an inclusive range of LSNs.
type span struct{ from, to uint64 }

// Origin is the reference server node.
type Origin struct {
	cfg   Config
	index map[string]int // collection name → index (lookup only)
	// durable
	colls []*coll
	peers map[uint64]*peer
	// volatile
	sessions []*session              // in accept order: fan-out iterates this, never a map
	byConn   map[sim.ConnID]*session // the same sessions, looked up by conn (never iterated)
	delta    wire.ShapeDelta         // scratch messages: Send encodes at once, so one each suffices
	ack      wire.DeltaAck
	skewMs   int64 // ack's ClockSkewWarningMs, when set
	ticking  bool
	gen      uint64
	now      sim.Time
}

// frameSlab hands out room for log entries' frames from large blocks: an
// entry's frame is shared with the deliveries in flight, so it cannot be
// reused, and an allocation per entry was 9% more allocations in a busy
// 3-Lite run. One slab per collection: its entries are written and evicted
// in order, so a block lives only until the entries (and the deliveries)
// in it are gone.
type frameSlab struct {
	block []byte // len: bytes taken
}

// frameSlabBytes is the size of a block; a frame larger than a quarter of
// it gets an allocation of its own.
const frameSlabBytes = 16 << 10

// room returns an empty slice with capacity n that no earlier frame
// overlaps: the block's free space from its first free byte.
func (f *frameSlab) room(n int) []byte {
	if n > frameSlabBytes/4 {
		return make([]byte, 0, n)
	}
	if cap(f.block)-len(f.block) < n {
		f.block = make([]byte, 0, frameSlabBytes)
	}
	at := len(f.block)
	return f.block[at : at : at+n]
}

// used takes frame b out of the block when it was encoded into the room
// (it starts at the block's first free byte); an encoding that outgrew its
// room, or a frame of its own, moved elsewhere and takes nothing.
func (f *frameSlab) used(b []byte) {
	if at := len(f.block); len(b) > 0 && at < cap(f.block) && &b[0] == &f.block[:at+1][at] {
		f.block = f.block[:at+len(b)]
	}
}

// New returns an Origin serving cfg.Collections.
func New(cfg Config) *Origin {
	cfg.defaults()
	o := &Origin{cfg: cfg, index: map[string]int{}, peers: map[uint64]*peer{}, byConn: map[sim.ConnID]*session{}}
	for i, name := range cfg.Collections {
		o.index[name] = i
		o.colls = append(o.colls, &coll{shape: model.ShapeID(name), digest: model.DigestKey(name), state: model.NewCollection(name), log: make([]entry, cfg.RetainLog)})
	}
	return o
}

// Crash drops sessions (volatile); collections, logs and dedup marks stay.
func (o *Origin) Crash() {
	o.sessions = nil
	clear(o.byConn)
	o.ticking = false
	o.gen++
}

// Head returns the latest LSN of collection name.
func (o *Origin) Head(name string) uint64 {
	if i, ok := o.index[name]; ok {
		return o.colls[i].head
	}
	return 0
}

// Digest returns the state digest of collection name.
func (o *Origin) Digest(name string) uint64 {
	if i, ok := o.index[name]; ok {
		return o.colls[i].state.Digest()
	}
	return 0
}

// Collection exposes a collection's state for checkers.
func (o *Origin) Collection(name string) *model.Collection {
	if i, ok := o.index[name]; ok {
		return o.colls[i].state
	}
	return nil
}

// Probe implements sim.Node: per collection its head LSN and digest, and
// per session its pacing and backlog.
func (o *Origin) Probe(p *sim.Probe) {
	for _, c := range o.colls {
		p.Collections = append(p.Collections, sim.CollectionState{Name: c.state.Name, LSN: c.head, Digest: c.state.Digest()})
	}
	if len(p.Conns) == 0 {
		for _, s := range o.sessions {
			o.probeSession(p, s)
		}
		return
	}
	for _, c := range p.Conns {
		if s := o.session(c); s != nil {
			o.probeSession(p, s)
		}
	}
}

// probeSession lists session s in p.
func (o *Origin) probeSession(p *sim.Probe, s *session) {
	st := sim.SessionState{Conn: s.conn, Peer: s.node, Throttled: s.throttled, Backlog: o.backlog(s)}
	if s.throttled {
		st.Rate = s.rate
	}
	p.Sessions = append(p.Sessions, st)
}

// backlog is the number of log entries Origin still owes session s.
func (o *Origin) backlog(s *session) uint64 {
	var n uint64
	for i, c := range o.colls {
		sc := &s.per[i]
		if sc.subscribed && sc.cursor > 0 && sc.cursor <= c.head {
			n += c.head - sc.cursor + 1
		}
	}
	return n
}

// Applied returns the highest mutation id applied for peerID.
func (o *Origin) Applied(peerID uint64) uint64 {
	if p := o.peers[peerID]; p != nil {
		return p.applied
	}
	return 0
}

const tagTick = 1

// Step implements sim.Node.
func (o *Origin) Step(now sim.Time, in *sim.Input, fx *sim.Effects) {
	o.now = now
	switch in.Kind {
	case sim.InStart, sim.InRestart:
		o.startTick(fx)
	case sim.InConnUp:
		s := &session{conn: in.Conn, node: in.Peer, lastHeard: now}
		if len(o.colls) <= len(s.perInline) {
			s.per = s.perInline[:len(o.colls)]
		} else {
			s.per = make([]sessColl, len(o.colls))
		}
		o.sessions = append(o.sessions, s)
		o.byConn[s.conn] = s
	case sim.InConnDown:
		o.dropSession(in.Conn)
	case sim.InFrame:
		if s := o.session(in.Conn); s != nil {
			s.lastHeard = now
			o.frame(s, in.Frame, fx)
		}
	case sim.InTimer:
		if in.Timer>>8 == o.gen && in.Timer&0xff == tagTick {
			o.tick(fx)
		}
	case sim.InWrite:
		if i, ok := o.index[in.Write.Collection]; ok {
			o.commit(i, in.Write.DocID, in.Write.Value, 0, 0, fx)
		}
	}
}

func (o *Origin) startTick(fx *sim.Effects) {
	if !o.ticking {
		o.ticking = true
		fx.SetTimer(o.cfg.Tick, o.gen<<8|tagTick)
	}
}

// session is the session on conn c, or nil. A map, not a scan of the
// sessions: at 1,024 sessions the scan read a cold line per session for
// every frame a Lite sent.
func (o *Origin) session(c sim.ConnID) *session { return o.byConn[c] }

func (o *Origin) dropSession(c sim.ConnID) {
	if i := slices.IndexFunc(o.sessions, func(s *session) bool { return s.conn == c }); i >= 0 {
		o.removeSession(i)
	}
}

// removeSession forgets o.sessions[i], from the list and the map.
func (o *Origin) removeSession(i int) {
	delete(o.byConn, o.sessions[i].conn)
	o.sessions = slices.Delete(o.sessions, i, i+1)
}

func (o *Origin) frame(s *session, b []byte, fx *sim.Effects) {
	m, err := fx.Decode(b) // valid until the next frame: keep copies only
	if err != nil {
		// An undecodable frame is lost; the Lite's retries and resyncs
		// repair whatever it carried.
		fx.Emit(&sim.DecodeError{Error: err.Error()})
		return
	}
	switch m := m.(type) {
	case *wire.Handshake:
		o.handshake(s, m, fx)
	case *wire.ShapeSubscribe:
		o.subscribe(s, m, fx)
	case *wire.DeltaPush:
		o.push(s, m, fx)
	case *wire.ResyncRequest:
		if !o.cfg.Bugs.IgnoreResync {
			o.resync(s, m, fx)
		}
	case *wire.Throttle:
		if !o.cfg.Bugs.IgnoreThrottle {
			o.throttle(s, m, fx)
		}
	case *wire.PingPong:
		if !m.IsPong {
			fx.Send(s.conn, &wire.PingPong{TimestampMs: m.TimestampMs, IsPong: true})
		}
	}
}

func (o *Origin) handshake(s *session, m *wire.Handshake, fx *sim.Effects) {
	s.ready = true
	s.peerID, _ = strconv.ParseUint(m.LiteID, 10, 64)
	s.known = map[string]uint64{}
	for c, v := range m.VectorClock {
		s.known[c] = v["lsn"]
	}
	clock := make(map[string]uint64, len(o.colls))
	for _, c := range o.colls {
		clock[c.state.Name] = c.head
	}
	fx.Send(s.conn, &wire.HandshakeAck{Success: true, SessionID: fmt.Sprintf("s%d", s.conn),
		ServerClock: clock, ServerWireVersion: 1})
}

// subscribe starts the shape's stream where the Lite left off: from the
// LSN its handshake carried when the log still reaches back, else with a
// snapshot. (NodeDB 2026 does neither: it replays nothing on reconnect.)
func (o *Origin) subscribe(s *session, m *wire.ShapeSubscribe, fx *sim.Effects) {
	i, ok := o.index[m.Shape.ShapeType.Collection]
	if !s.ready || !ok {
		return
	}
	c := o.colls[i]
	sc := &s.per[i]
	if sc.subscribed {
		return // a repeated subscribe: the stream is already running
	}
	sc.subscribed = true
	known := s.known[c.state.Name]
	from := o.skipBehindLog(c, known+1)
	switch {
	case known > 0 && o.cfg.Bugs.NoReplay:
		sc.cursor = c.head + 1
	case known > 0 && known <= c.head && from >= c.first():
		sc.cursor = from
	default:
		sc.snapshot = true
		if known > 0 && known+1 < c.first() {
			fx.Emit(&sim.SnapshotFallback{Collection: c.state.Name, From: known + 1, Oldest: c.first()})
		}
	}
	o.pump(s, fx)
}

func (o *Origin) push(s *session, m *wire.DeltaPush, fx *sim.Effects) {
	reject := func(why string) {
		fx.Send(s.conn, &wire.DeltaReject{MutationID: m.MutationID, Reason: why})
	}
	switch {
	case !s.ready:
		// Our Lites push only after the HandshakeAck, so this frame is a
		// replay or the handshake was lost. NodeDB rejects it, but a
		// rejection is final for the Lite while this Origin, never having
		// heard of the mutation, would wait for it before applying the
		// next ones (swarm of rapid, seed 137688737). Drop the session
		// instead: the Lite reconnects, handshakes and re-sends.
		fx.Emit(&sim.DecodeError{Error: fmt.Sprintf("DeltaPush %d of peer %d before the handshake", m.MutationID, m.PeerID)})
		fx.Close(s.conn)
		o.dropSession(s.conn)
		return
	case !m.ChecksumOK() && !o.cfg.Bugs.SkipCRCCheck:
		// Checked before emptiness: a delta emptied in transit keeps the
		// checksum of what it was, and must be re-sent, not rejected.
		fx.Emit(&sim.ChecksumFailed{Collection: m.Collection, Mutation: m.MutationID})
		o.askResend(s, wire.ResyncReason{Kind: wire.ChecksumMismatch, MutationID: m.MutationID}, m.MutationID, m.Collection, fx)
		return
	}
	if m.PeerID != s.peerID {
		// Not this session's peer: this frame or the handshake was
		// corrupted. Acting on it would ack or apply for someone else, so
		// drop the session; the Lite reconnects and handshakes again.
		fx.Emit(&sim.DecodeError{Error: fmt.Sprintf("DeltaPush for peer %d on the session of peer %d", m.PeerID, s.peerID)})
		fx.Close(s.conn)
		o.dropSession(s.conn)
		return
	}
	p := o.peers[m.PeerID]
	if p == nil {
		p = &peer{}
		o.peers[m.PeerID] = p
	}
	bugs := &o.cfg.Bugs
	switch {
	case m.MutationID == 0:
		// Lites number mutations from 1, so id 0 is a corrupted id (the
		// checksum covers only the delta). Deduping it would ack a
		// mutation never written, and the real one stays unapplied
		// (rapid seed 16358676788932805329). Ask for what is missing, as
		// for a gap.
		fx.Emit(&sim.DecodeError{Error: fmt.Sprintf("DeltaPush of peer %d names mutation 0", m.PeerID)})
		o.askGap(s, p, 0, fx)
		return
	case m.MutationID <= p.applied:
		if why, ok := p.rejected[m.MutationID]; ok {
			reject(why)
			return
		}
		if bugs.NoDedup {
			break
		}
		fx.Emit(&sim.Deduped{Peer: m.PeerID, Mutation: m.MutationID})
		o.ack = wire.DeltaAck{MutationID: m.MutationID, LSN: p.lastLSN}
		fx.Send(s.conn, &o.ack)
		return
	case bugs.DedupBeforeApply:
		p.applied = m.MutationID // marked before the apply below is known to happen
	case m.MutationID > p.applied+1:
		// Apply strictly in order so "applied once" and "in the order
		// written" both hold; ask the Lite for the missing ones, at most
		// once per gap per 500 ms (a window of 64 in flight would
		// otherwise ask 63 times).
		o.askGap(s, p, m.MutationID, fx)
		return
	}
	if len(m.Delta) == 0 {
		p.reject(m.MutationID, "empty delta") // final, like every rejection
		reject(p.rejected[m.MutationID])
		return
	}
	i, ok := o.index[m.Collection]
	if !ok {
		// The checksum covers the delta, not the collection: a name
		// corrupted in transit looks like an unknown collection, and a
		// final rejection of that copy would lose the write (swarm seed
		// 27051). Ask for the mutation again until the name is believed.
		switch o.doubt(p, m) {
		case askAgain:
			o.askResend(s, wire.ResyncReason{Kind: wire.ChecksumMismatch, MutationID: m.MutationID}, m.MutationID, "", fx)
		case believed:
			p.reject(m.MutationID, "unknown collection "+m.Collection)
			reject(p.rejected[m.MutationID])
		}
		return
	}
	value, err := model.DecodeDelta(m.Delta)
	if err != nil {
		p.reject(m.MutationID, err.Error())
		reject(p.rejected[m.MutationID])
		return
	}
	lsn := o.commit(i, m.DocumentID, value, m.PeerID, m.MutationID, fx)
	p.applied, p.lastLSN = max(p.applied, m.MutationID), lsn
	o.ack = wire.DeltaAck{MutationID: m.MutationID, LSN: lsn, ClockSkewWarningMs: o.skew(m)}
	fx.Send(s.conn, &o.ack)
}

// askGap asks the Lite to re-send from the first mutation not applied yet,
// having received the push numbered got instead.
func (o *Origin) askGap(s *session, p *peer, got uint64, fx *sim.Effects) {
	if s.lastGapAsk != p.applied+1 || o.now-s.lastGapAt >= 500*sim.Millisecond {
		s.lastGapAsk, s.lastGapAt = p.applied+1, o.now
		o.askResend(s, wire.ResyncReason{Kind: wire.SequenceGap, Expected: p.applied + 1, Received: got}, p.applied+1, "", fx)
	}
}

// doubtVerdict is what Origin does with a push naming an unknown collection.
type doubtVerdict int

const (
	askAgain doubtVerdict = iota // ask the Lite for the mutation again
	tooSoon                      // drop it: too soon after the last request to count
	believed                     // reject it: the Lite really wrote that name
)

// doubt judges push m, whose collection Origin does not have. The name is
// believed when the same one came back in answer to doubtAsks requests
// spaced doubtSpacing apart. A copy sooner than that after a request (a
// duplicate, or a delayed or replayed copy of the same corrupted frame)
// does not count and draws no request; if the request was lost, the Lite's
// own retry or Origin's next gap request brings the mutation again.
func (o *Origin) doubt(p *peer, m *wire.DeltaPush) doubtVerdict {
	switch {
	case p.doubted != m.MutationID || p.doubtedColl != m.Collection:
		p.doubted, p.doubtedColl, p.doubtedAt, p.doubts = m.MutationID, m.Collection, o.now, 1
		return askAgain
	case o.now-p.doubtedAt < doubtSpacing:
		return tooSoon
	case p.doubts < doubtAsks:
		p.doubtedAt, p.doubts = o.now, p.doubts+1
		return askAgain
	}
	return believed
}

// skewWarnAfter is how far a device clock may be off before Origin warns.
const skewWarnAfter = 5 * sim.Second

// skew returns the clock-skew warning for a push whose device time is more
// than skewWarnAfter from Origin's clock, or nil.
func (o *Origin) skew(m *wire.DeltaPush) *int64 {
	if m.DeviceValidTimeMs == nil {
		return nil
	}
	d := *m.DeviceValidTimeMs - int64(o.now/sim.Millisecond)
	if d < -int64(skewWarnAfter/sim.Millisecond) || d > int64(skewWarnAfter/sim.Millisecond) {
		o.skewMs = d // the ack's Option points here: sent at once, never kept
		return &o.skewMs
	}
	return nil
}

func (o *Origin) askResend(s *session, r wire.ResyncReason, from uint64, coll string, fx *sim.Effects) {
	fx.Send(s.conn, &wire.ResyncRequest{Reason: r, FromMutationID: from, Collection: coll})
	fx.Emit(&sim.ResendAsked{Reason: r.Kind.String(), From: from})
}

// commit applies a change, assigns the collection's next LSN, logs it and
// fans it out by pumping every subscribed session.
func (o *Origin) commit(i int, doc string, value []byte, peerID, mid uint64, fx *sim.Effects) uint64 {
	c := o.colls[i]
	c.head++
	c.state.Put(doc, value)
	// The log shares value with the state: neither ever modifies it.
	e := c.at(c.head)
	// Filled in place, not a literal copied in (see sim's eventQueue.add).
	e.lsn, e.doc, e.value, e.digest, e.frame = c.head, doc, value, c.state.Digest(), nil
	fx.Emit(&sim.Committed{Collection: c.state.Name, LSN: c.head, Peer: peerID, Mutation: mid})
	for _, s := range o.sessions {
		if s.per[i].subscribed {
			o.pump(s, fx)
		}
	}
	return c.head
}

// resync answers a ResyncRequest by moving the cursor back to from, or by a
// snapshot when from is 0 or the log no longer reaches back.
func (o *Origin) resync(s *session, m *wire.ResyncRequest, fx *sim.Effects) {
	for i, c := range o.colls {
		sc := &s.per[i]
		if !sc.subscribed || (m.Collection != "" && m.Collection != c.state.Name) {
			continue
		}
		from := o.skipBehindLog(c, m.FromMutationID)
		if from == 0 || from < c.first() || from > c.head+1 {
			sc.snapshot = true
			if from > 0 && from < c.first() {
				fx.Emit(&sim.SnapshotFallback{Collection: c.state.Name, From: from, Oldest: c.first()})
			}
			fx.Emit(&sim.ResyncServed{Collection: c.state.Name, From: from})
		} else if r := m.Reason; r.Kind == wire.SequenceGap && r.Received >= from && sc.cursor > from {
			// The request names the gap: re-send just [from, received] (a
			// gap found by a delta holds that delta; one found by the
			// clock does not, so received itself is included); what
			// follows was delivered.
			to := min(r.Received, sc.cursor-1)
			sc.repair = append(sc.repair, span{from, to})
			fx.Emit(&sim.ResyncServed{Collection: c.state.Name, From: from, Frames: to - from + 1})
		} else {
			if from < sc.cursor {
				sc.cursor = from
			}
			fx.Emit(&sim.ResyncServed{Collection: c.state.Name, From: from, Frames: c.head - from + 1})
		}
	}
	o.pump(s, fx)
}

func (o *Origin) throttle(s *session, m *wire.Throttle, fx *sim.Effects) {
	if !m.Throttle {
		if s.throttled {
			s.throttled = false
			fx.Emit(&sim.ThrottleOff{Conn: s.conn, Peer: s.node})
			o.pump(s, fx)
		}
		return
	}
	rate := float64(m.SuggestedRate)
	if rate == 0 {
		rate = o.cfg.DefaultRate
	}
	if !s.throttled || s.rate != rate {
		if !s.throttled {
			s.tokens, s.refillAt = o.cfg.ThrottleBurst, o.now
		}
		fx.Emit(&sim.ThrottleOn{Conn: s.conn, Peer: s.node, Rate: uint64(rate)})
	}
	if s.throttled {
		o.refill(s) // tokens earned so far were earned at the old rate
	}
	s.throttled, s.rate = true, rate
	s.leaseUntil = o.now + o.cfg.ThrottleLease
}

// pump sends what the session is owed: snapshots first, then log entries
// from each cursor, as far as the throttle allows.
func (o *Origin) pump(s *session, fx *sim.Effects) {
	if !s.ready {
		return
	}
	for i, c := range o.colls {
		sc := &s.per[i]
		if !sc.subscribed {
			continue
		}
		sc.cursor = o.skipBehindLog(c, sc.cursor)
		if sc.cursor > 0 && sc.cursor < c.first() {
			sc.snapshot = true // fell behind the retained log
			fx.Emit(&sim.SnapshotFallback{Collection: c.state.Name, From: sc.cursor, Oldest: c.first()})
		}
		if sc.snapshot {
			sc.snapshot = false
			sc.repair = sc.repair[:0]
			fx.Send(s.conn, &wire.ShapeSnapshot{ShapeID: c.shape, Data: c.state.Snapshot(),
				SnapshotLSN: c.head, DocCount: uint64(c.state.Len())})
			sc.cursor = c.head + 1
		}
		if s.throttled {
			o.refill(s)
		}
		if !o.sendRepairs(s, sc, c, fx) {
			return // out of tokens
		}
		for sc.cursor <= c.head {
			if s.throttled {
				if s.tokens < 1 {
					return
				}
				s.tokens--
			}
			o.sendEntry(s, sc, c, c.at(sc.cursor), fx)
			sc.cursor++
		}
	}
}

// skipBehindLog is Bugs.NoSnapshotFallback, in one place: an LSN the
// retained log no longer reaches back to becomes the log's oldest, so the
// fallback to a snapshot never happens. Without the bug it returns lsn.
func (o *Origin) skipBehindLog(c *coll, lsn uint64) uint64 {
	if o.cfg.Bugs.NoSnapshotFallback && lsn > 0 && lsn < c.first() {
		return c.first()
	}
	return lsn
}

// sendRepairs re-sends the session's pending repair ranges of collection i
// (falling back to a snapshot for any part the log no longer holds). It
// returns false when the throttle ran out of tokens.
func (o *Origin) sendRepairs(s *session, sc *sessColl, c *coll, fx *sim.Effects) bool {
	for len(sc.repair) > 0 {
		r := &sc.repair[0]
		r.from = o.skipBehindLog(c, r.from)
		if r.from < c.first() {
			sc.repair = sc.repair[:0]
			sc.snapshot = true
			fx.Emit(&sim.SnapshotFallback{Collection: c.state.Name, From: r.from, Oldest: c.first()})
			o.pump(s, fx)
			return false
		}
		for ; r.from <= r.to && r.from <= c.head; r.from++ {
			if s.throttled {
				if s.tokens < 1 {
					return false
				}
				s.tokens--
			}
			o.sendEntry(s, sc, c, c.at(r.from), fx)
		}
		sc.repair = sc.repair[1:]
	}
	return true
}

// refill credits a throttled session's bucket for the time since the last
// refill, at the moment tokens are about to be spent: crediting only at
// ticks would let tokens earned while the bucket was full be spent later.
func (o *Origin) refill(s *session) {
	s.tokens = min(s.tokens+s.rate*(o.now-s.refillAt).Seconds(), o.cfg.ThrottleBurst)
	s.refillAt = o.now
}

// sendEntry sends one log entry to the session as a ShapeDelta.
func (o *Origin) sendEntry(s *session, sc *sessColl, c *coll, e *entry, fx *sim.Effects) {
	if e.lsn <= sc.sentMax {
		// Announced just before the frame, so observers can charge its
		// bytes to resync.
		fx.Emit(&sim.Resending{Collection: c.state.Name, LSN: e.lsn})
	}
	sc.sentMax = max(sc.sentMax, e.lsn)
	if len(e.frame) == 0 {
		op := wire.OpUpdate
		if e.value == nil {
			op = wire.OpDelete
		}
		o.delta = wire.ShapeDelta{ShapeID: c.shape, Collection: c.state.Name,
			DocumentID: e.doc, Operation: op, Delta: e.value, LSN: e.lsn}
		// Room for the whole frame, not append's doublings: the header, the
		// array and the field headers take less than 64 bytes.
		buf := c.frames.room(64 + len(c.shape) + len(c.state.Name) + len(e.doc) + len(e.value))
		f, err := fx.Codec().AppendFrame(buf, &o.delta)
		if err != nil {
			fx.Send(s.conn, &o.delta) // the kernel reports the encode error
			return
		}
		c.frames.used(f)
		e.frame = f[:len(f):len(f)] // an append to it can never reach the next frame
	}
	fx.SendShared(s.conn, e.frame)
}

func (o *Origin) tick(fx *sim.Effects) {
	fx.SetTimer(o.cfg.Tick, o.gen<<8|tagTick)
	for i := 0; i < len(o.sessions); i++ {
		s := o.sessions[i]
		if o.now-s.lastHeard >= o.cfg.IdleTimeout {
			fx.Close(s.conn)
			o.removeSession(i)
			i--
			continue
		}
		if s.throttled && !o.cfg.Bugs.NoLease {
			if o.now >= s.leaseUntil {
				s.throttled = false
				fx.Emit(&sim.ThrottleOff{Conn: s.conn, Peer: s.node, ByLease: true})
			}
		}
		o.pump(s, fx)
		if s.ready && o.now >= s.nextSync && !o.cfg.Bugs.NoAntiEntropy {
			s.nextSync = o.now + o.cfg.SyncEvery
			o.sync(s, fx)
		}
	}
}

// sync sends the anti-entropy clock: per subscribed collection, the last
// LSN sent to this session and the digest after it.
func (o *Origin) sync(s *session, fx *sim.Effects) {
	clocks := map[string]uint64{}
	for i, c := range o.colls {
		sc := &s.per[i]
		if !sc.subscribed || sc.snapshot || sc.cursor == 0 {
			continue
		}
		sent := sc.cursor - 1
		clocks[c.state.Name] = sent
		if d, ok := c.digestAt(sent); ok {
			clocks[c.digest] = d
		}
	}
	if p := o.peers[s.peerID]; p != nil {
		// Upstream anti-entropy: the peer's applied mark lets a Lite
		// find an ack it took from a corrupted frame (see lite).
		clocks[model.AppliedKey] = p.applied
	}
	if len(clocks) > 0 {
		fx.Send(s.conn, &wire.VectorClockSync{Clocks: clocks, SenderID: 0})
	}
}
