package check

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// The properties frames alone show: what a vantage point that sees the
// traffic and nothing else (live mode's proxy) can check. Throttle-rate is
// one of them too.
const (
	ResyncAnswered = "resync-answered" // every ResyncRequest Origin receives is answered on its connection
	DeltaOrder     = "delta-order"     // Origin sends each shape's ShapeDeltas in LSN order, going back only to repair
	PushOutcome    = "push-outcome"    // every DeltaPush Origin receives is acked or rejected
	OneOutcome     = "one-outcome"     // no mutation is both acked and rejected
)

var wireProperties = []Property{
	{ThrottleRate, sim.RoleOrigin, whatOf(ThrottleRate), "Throttle frames delivered to Origin and ShapeDelta frames it sends; the Origin's claimed terms"},
	{ResyncAnswered, sim.RoleOrigin, "every ResyncRequest delivered to Origin is answered on its connection, by a ShapeSnapshot of the collection or a ShapeDelta at or before the LSN it asks from, unless the connection closes first",
		"ResyncRequest frames delivered to Origin; ShapeSnapshot and ShapeDelta frames it sends (judged at the end of the run)"},
	{DeltaOrder, sim.RoleOrigin, "on each connection, Origin sends a collection's ShapeDeltas in LSN order: one after another (unless LSNs are shared by every collection), re-based by a ShapeSnapshot, going back only to an LSN a ResyncRequest asked from, and in order from there",
		"ShapeDelta, ShapeSnapshot and ResyncRequest frames as Origin sent and received them"},
	{PushOutcome, sim.RoleOrigin, "every DeltaPush delivered to Origin intact is acked or rejected by the end of the run (on any connection of the same peer)",
		"DeltaPush frames delivered to Origin unaltered; DeltaAck and DeltaReject frames Origin sends (judged at the end of the run)"},
	{OneOutcome, sim.RoleOrigin, "no (peer, mutation) is both acked and rejected by Origin",
		"DeltaAck and DeltaReject frames Origin sends, by the peer of their connection"},
}

func whatOf(name string) string {
	p, _ := Lookup(name)
	return p.What
}

// WireProperties lists the properties Wire checks.
func WireProperties() []Property { return append([]Property(nil), wireProperties...) }

// Limits of what Wire remembers, so that a long live run stays in bounded
// memory: past them it stops tracking new items and says so (Unchecked).
const (
	maxTrackedPushes   = 1 << 20
	maxTrackedRequests = 64 // per connection and collection
	maxViolations      = 100
	// explainFor is how long a request, once answered, still explains a
	// re-send from where it asked.
	explainFor = 60 * sim.Second
)

// WireConfig says what Wire checks against.
type WireConfig struct {
	Origin sim.NodeID
	// Throttle is the pacing Origin claims; throttle-rate is checked only
	// when it is set. Slack is its tolerance on top of the burst (live
	// mode sets it for real networks' jitter).
	Throttle *sim.ThrottleTerms
	Slack    float64
	// SharedLSN: Origin's LSNs are positions in one log of every
	// collection, so a collection's LSNs may jump.
	SharedLSN bool
	Name      func(sim.NodeID) string
	// AnswerWithin is how long Origin has to answer a ResyncRequest (on a
	// connection that stays open) and, after heal, a DeltaPush (default
	// 5 s).
	AnswerWithin sim.Time
}

// Wire checks the properties that frames alone show: Sent sees a frame as
// its sender sent it, Delivered as it reached the other end, after faults.
// It keeps every violation (up to a limit), not only the first: a live run
// goes on after one.
type Wire struct {
	cfg      WireConfig
	throttle *Checker
	conns    map[sim.ConnID]*wireConn
	// pending are pushes delivered to Origin intact and not yet answered,
	// with the connection they came on; outcome what Origin answered, by
	// (peer, mutation).
	pending map[mutKey]pendingPush
	outcome map[mutKey]bool // true: acked; false: rejected
	// Violations found, in order; Count may exceed len(Violations).
	Violations []Violation
	Count      int
	// what stopped being tracked at a limit
	pushOverflow, outcomeOverflow bool
	dec                           *wire.Scratch
}

type pendingPush struct {
	at   sim.Time
	conn sim.ConnID
}

type wireConn struct {
	id    sim.ConnID
	peer  uint64 // the DeltaPush peer_id seen on it
	lite  sim.NodeID
	state map[string]*wireShape // by shape id: LSNs run per shape
	shape map[string]string     // shape id → collection, from ShapeSubscribe and ShapeDelta
	// asks are the ResyncRequests delivered, by collection; all those
	// with an empty collection, which ask for every one.
	asks map[string][]resyncAsk
	all  []resyncAsk
	// subscribed are shapes whose ShapeSubscribe reached Origin and whose
	// snapshot has not come yet: that snapshot answers the subscribe, not
	// a resync (a Lite that re-subscribes when its requests go unanswered
	// would otherwise make an Origin that ignores them look right).
	subscribed map[string]bool
}

type wireShape struct {
	frontier uint64 // highest LSN Origin sent (0: not known yet)
	repair   uint64 // next LSN of a repair in progress (0: none)
}

type resyncAsk struct {
	from     uint64
	at       sim.Time
	owed     bool // an answer is due (false: the request was altered in transit, and only explains re-sends)
	answered bool
	reported bool
}

// NewWire returns a checker of the frame-level properties.
func NewWire(cfg WireConfig) *Wire {
	if cfg.Slack == 0 {
		cfg.Slack = 1
	}
	if cfg.AnswerWithin == 0 {
		cfg.AnswerWithin = 5 * sim.Second
	}
	dec := wire.Default.NewScratch()
	dec.Alias = true
	c := &Wire{cfg: cfg, conns: map[sim.ConnID]*wireConn{}, pending: map[mutKey]pendingPush{}, outcome: map[mutKey]bool{}, dec: dec}
	c.throttle = New(Config{Origin: cfg.Origin, Check: []string{ThrottleRate}, Throttle: cfg.Throttle, Slack: cfg.Slack, Name: cfg.Name,
		Report: c.add})
	return c
}

// Checks reports whether property is checked.
func (c *Wire) Checks(property string) bool {
	if property == ThrottleRate {
		return c.throttle.Checks(ThrottleRate)
	}
	for _, p := range wireProperties {
		if p.Name == property {
			return true
		}
	}
	return false
}

// Slack is the throttle-rate tolerance in frames.
func (c *Wire) Slack() float64 { return c.cfg.Slack }

// AnswerWithin is the time Origin has to answer.
func (c *Wire) AnswerWithin() sim.Time { return c.cfg.AnswerWithin }

// Unchecked says what Wire stopped tracking at its limits ("" if nothing).
func (c *Wire) Unchecked() string {
	var out []string
	if c.pushOverflow {
		out = append(out, fmt.Sprintf("push-outcome: more than %d pushes awaited an answer at once; later ones were not tracked", maxTrackedPushes))
	}
	if c.outcomeOverflow {
		out = append(out, fmt.Sprintf("one-outcome: past %d mutations answered, later ones were not tracked", maxTrackedPushes))
	}
	return strings.Join(out, "; ")
}

func (c *Wire) name(n sim.NodeID) string {
	if c.cfg.Name != nil {
		return c.cfg.Name(n)
	}
	return fmt.Sprintf("node %d", n)
}

func (c *Wire) fail(now sim.Time, node sim.NodeID, prop, format string, args ...any) {
	c.add(Violation{Property: prop, At: now, Node: node, NodeName: c.name(node), Message: fmt.Sprintf(format, args...)})
}

// add counts v and keeps it, up to the limit.
func (c *Wire) add(v Violation) {
	c.Count++
	if len(c.Violations) < maxViolations {
		c.Violations = append(c.Violations, v)
	}
}

func (c *Wire) conn(id sim.ConnID, lite sim.NodeID) *wireConn {
	k := c.conns[id]
	if k == nil {
		k = &wireConn{id: id, lite: lite, state: map[string]*wireShape{}, shape: map[string]string{}, asks: map[string][]resyncAsk{},
			subscribed: map[string]bool{}}
		c.conns[id] = k
	}
	return k
}

func (k *wireConn) shapeState(id string) *wireShape {
	s := k.state[id]
	if s == nil {
		s = &wireShape{}
		k.state[id] = s
	}
	return s
}

// Closed forgets a connection: what was asked on it is moot (the Lite
// starts over on its next connection), and a push delivered on it whose
// answer did not come may have lost it with the connection: the Lite
// re-sends it on its next one, which tracks it again.
func (c *Wire) Closed(conn sim.ConnID) {
	delete(c.conns, conn)
	if int(conn) < len(c.throttle.throttle) {
		c.throttle.throttle[conn] = throttleState{}
	}
	for k, p := range c.pending {
		if p.conn == conn {
			delete(c.pending, k)
		}
	}
}

// Sent sees a frame as its sender sent it on p.Conn, before any fault.
func (c *Wire) Sent(now sim.Time, p *sim.Packet) {
	if len(p.Bytes) == 0 {
		return
	}
	if p.From != c.cfg.Origin {
		if p.Type == wire.TypeShapeSubscribe {
			if m, err := c.dec.Decode(p.Bytes); err == nil {
				s := m.(*wire.ShapeSubscribe).Shape
				c.conn(p.Conn, p.From).shape[s.ShapeID] = s.ShapeType.Collection
			}
		}
		return
	}
	c.throttle.Sent(now, p)
	switch p.Type {
	case wire.TypeShapeDelta, wire.TypeShapeSnapshot, wire.TypeDeltaAck, wire.TypeDeltaReject:
	default:
		return
	}
	m, err := c.dec.Decode(p.Bytes)
	if err != nil {
		return
	}
	k := c.conn(p.Conn, p.To)
	switch m := m.(type) {
	case *wire.ShapeDelta:
		k.shape[m.ShapeID] = m.Collection
		c.delta(now, p, k, m)
	case *wire.ShapeSnapshot:
		s := k.shapeState(m.ShapeID)
		s.frontier, s.repair = m.SnapshotLSN, 0
		if k.subscribed[m.ShapeID] {
			delete(k.subscribed, m.ShapeID) // the subscribe's answer
			return
		}
		if coll, known := k.shape[m.ShapeID]; known {
			answerAll(k.asks[coll])
		} else {
			for _, list := range k.asks { // which collection it is cannot be told
				answerAll(list)
			}
		}
		answerAll(k.all)
	case *wire.DeltaAck:
		c.answer(now, p, k, m.MutationID, true)
	case *wire.DeltaReject:
		c.answer(now, p, k, m.MutationID, false)
	}
}

func answerAll(asks []resyncAsk) {
	for i := range asks {
		asks[i].answered = true
	}
}

// delta follows one ShapeDelta Origin sent.
func (c *Wire) delta(now sim.Time, p *sim.Packet, k *wireConn, m *wire.ShapeDelta) {
	s, lsn := k.shapeState(m.ShapeID), m.LSN
	if s.frontier == 0 {
		// A stream that starts with deltas (the Lite told Origin where it
		// was) answers its subscribe without a snapshot.
		delete(k.subscribed, m.ShapeID)
	}
	asked := false
	for _, list := range [][]resyncAsk{k.asks[m.Collection], k.all} {
		for i := range list {
			if lsn <= list[i].from {
				list[i].answered = true
			}
			if list[i].from <= lsn {
				asked = true
			}
		}
	}
	switch {
	case s.frontier == 0 || lsn == s.frontier+1:
		s.frontier = lsn // the first on a connection starts where the Lite was
		if s.repair == lsn {
			s.repair = 0 // the repair has caught up with what was new
		}
	case lsn > s.frontier+1:
		if !c.cfg.SharedLSN {
			c.fail(now, c.cfg.Origin, DeltaOrder, "origin sent LSN %d of %s (shape %s) to %s on connection %d after %d, skipping %s",
				lsn, m.Collection, m.ShapeID, c.name(p.To), p.Conn, s.frontier, span(s.frontier+1, lsn-1))
		}
		s.frontier = lsn
	case s.repair != 0 && lsn == s.repair:
		s.repair++
	case asked:
		s.repair = lsn + 1 // a repair starts
	default:
		c.fail(now, c.cfg.Origin, DeltaOrder, "origin sent LSN %d of %s (shape %s) to %s on connection %d again (it had sent up to %d), and no ResyncRequest asked for it",
			lsn, m.Collection, m.ShapeID, c.name(p.To), p.Conn, s.frontier)
		s.repair = lsn + 1 // one violation per run of re-sends, not one per LSN
	}
}

func span(a, b uint64) string {
	if a == b {
		return fmt.Sprint(a)
	}
	return fmt.Sprintf("%d..%d", a, b)
}

// answer follows Origin's ack (or rejection) of a mutation on p.Conn.
func (c *Wire) answer(now sim.Time, p *sim.Packet, k *wireConn, mid uint64, acked bool) {
	if k.peer == 0 {
		return // no push seen on this connection: whose mutation this is is unknown
	}
	key := mutKey{k.peer, mid}
	delete(c.pending, key)
	prev, seen := c.outcome[key]
	switch {
	case !seen:
		if len(c.outcome) < maxTrackedPushes {
			c.outcome[key] = acked
		} else {
			c.outcomeOverflow = true
		}
	case prev != acked:
		first, then := "rejected", "acked"
		if prev {
			first, then = "acked", "rejected"
		}
		c.fail(now, c.cfg.Origin, OneOutcome, "origin %s mutation %d of peer %d, then %s it (to %s on connection %d)", first, mid, k.peer, then, c.name(p.To), p.Conn)
	}
}

// Delivered sees a frame reach node to on conn, after faults; altered
// says a fault changed it in transit.
func (c *Wire) Delivered(now sim.Time, conn sim.ConnID, from, to sim.NodeID, frame []byte, altered bool) {
	if to != c.cfg.Origin || len(frame) == 0 {
		return
	}
	t := wire.MsgType(frame[0])
	if t == wire.TypeThrottle {
		c.throttle.Step(now, to, &sim.Input{Kind: sim.InFrame, Conn: conn, Peer: from, Frame: frame}, altered)
		return
	}
	if t != wire.TypeDeltaPush && t != wire.TypeResyncRequest && t != wire.TypeShapeSubscribe || altered && t != wire.TypeResyncRequest {
		return
	}
	m, err := c.dec.Decode(frame)
	if err != nil {
		return
	}
	k := c.conn(conn, from)
	switch m := m.(type) {
	case *wire.DeltaPush:
		if !m.ChecksumOK() {
			return
		}
		if k.peer == 0 {
			k.peer = m.PeerID
		}
		key := mutKey{m.PeerID, m.MutationID}
		if _, done := c.outcome[key]; done {
			return
		}
		if p, ok := c.pending[key]; !ok || p.conn != conn {
			if !ok && len(c.pending) >= maxTrackedPushes {
				c.pushOverflow = true
				return
			}
			c.pending[key] = pendingPush{at: now, conn: conn}
		}
	case *wire.ShapeSubscribe:
		k.subscribed[m.Shape.ShapeID] = true
	case *wire.ResyncRequest:
		// A request a fault altered still reaches Origin, which may answer
		// it: it explains re-sends, but owes no answer.
		ask := resyncAsk{from: m.FromMutationID, at: now, owed: !altered}
		if m.Collection == "" {
			k.all = appendAsk(k.all, ask)
		} else {
			k.asks[m.Collection] = appendAsk(k.asks[m.Collection], ask)
		}
	}
}

// appendAsk adds a request, forgetting the oldest past the limit.
func appendAsk(list []resyncAsk, a resyncAsk) []resyncAsk {
	if len(list) >= maxTrackedRequests {
		list = append(list[:0], list[1:]...)
	}
	return append(list, a)
}

// Tick judges the requests whose time to be answered ran out by now.
func (c *Wire) Tick(now sim.Time) {
	for _, k := range sortedConns(c.conns) {
		c.overdue(now, k, &k.all)
		for _, name := range sortedKeys(k.asks) {
			list := k.asks[name]
			c.overdue(now, k, &list)
			k.asks[name] = list
		}
	}
}

func (c *Wire) overdue(now sim.Time, k *wireConn, list *[]resyncAsk) {
	kept := (*list)[:0]
	for _, a := range *list {
		if a.owed && !a.answered && !a.reported && now-a.at >= c.cfg.AnswerWithin {
			a.reported = true
			c.fail(now, c.cfg.Origin, ResyncAnswered, "%s's ResyncRequest from %d (delivered at %v on connection %d) was not answered within %v",
				c.name(k.lite), a.from, a.at, k.id, c.cfg.AnswerWithin)
		}
		if now-a.at < explainFor {
			// A request is kept a while, answered or not: it explains the
			// re-sends that follow, which a throttle may pace for long.
			kept = append(kept, a)
		}
	}
	*list = kept
}

// Final judges what only the end of a run shows: every overdue request,
// and every push still unanswered AnswerWithin after it was delivered or
// after heal, whichever is later. It returns false, judging nothing about
// pushes, when the run ended too soon after heal for that.
func (c *Wire) Final(now, heal sim.Time) bool {
	c.Tick(now)
	if now < heal+c.cfg.AnswerWithin {
		return false
	}
	for _, key := range sortedMuts(c.pending) {
		if at := c.pending[key].at; now-max(at, heal) >= c.cfg.AnswerWithin {
			c.fail(now, c.cfg.Origin, PushOutcome, "peer %d's mutation %d was delivered to origin at %v and never acked nor rejected", key.peer, key.mid, at)
		}
	}
	return true
}

func sortedConns(m map[sim.ConnID]*wireConn) []*wireConn {
	out := slices.Collect(maps.Values(m))
	slices.SortFunc(out, func(a, b *wireConn) int { return cmp.Compare(a.id, b.id) })
	return out
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

func sortedMuts(m map[mutKey]pendingPush) []mutKey {
	out := slices.Collect(maps.Keys(m))
	slices.SortFunc(out, func(a, b mutKey) int { return cmp.Or(cmp.Compare(a.peer, b.peer), cmp.Compare(a.mid, b.mid)) })
	return out
}
