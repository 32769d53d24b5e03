package live

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/syncsim/syncsim/check"
	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/topology"
	"github.com/syncsim/syncsim/wire"
)

// ProxyConfig is a fault-injecting proxy between real Lites and a real
// Origin.
type ProxyConfig struct {
	// Listen is where Lites connect (default 127.0.0.1:9091); Upstream
	// the Origin's ws:// URL.
	Listen, Upstream string
	MaxConns         int // default DefaultMaxConns
	// Lites is the scenario's number of Lites: fault targets name them
	// (lite:N, lites). A Lite whose handshake's lite_id is a number k in
	// 1..Lites is Lite k, so that reference Lites get the same node ids
	// in every run; any other Lite is numbered after them as it appears.
	Lites int
	// Plan is the fault plan, drawn from Seed's streams; Script, when not
	// nil, replaces it with a recorded schedule.
	Plan   faults.Plan
	Script []faults.Event
	Seed   uint64
	Checks check.WireConfig
	// Trace, if set, gets every frame as a JSON line, decoded, with
	// handshake tokens redacted.
	Trace io.Writer
	Log   *log.Logger
	// Scenario and Definition name the scenario in the result; Budget is
	// its time to converge after heal (Plan.Heal).
	Scenario   string
	Definition json.RawMessage
	Budget     sim.Time
}

// noHandshake names every connection whose first frame is not a
// Handshake: one node, never one of the scenario's Lites.
const noHandshake = "(no handshake)"

// OriginNode is the Origin's node id in a proxy's faults and checks (as in
// the simulator).
const OriginNode sim.NodeID = 0

// Proxy pairs every connection a Lite opens with one to the upstream
// Origin and passes frames between them through a fault injector and the
// frame-level checkers. The injector and the checkers are the
// simulator's own, driven by the wall clock: one mutex serialises them,
// as the simulator's single thread does.
type Proxy struct {
	cfg   ProxyConfig
	clock Clock
	srv   *server
	ctx   context.Context
	wg    sync.WaitGroup

	mu       sync.Mutex
	inj      *faults.Injector
	chk      *check.Wire
	pairs    map[sim.ConnID]*pair
	next     sim.ConnID
	liteIDs  map[string]sim.NodeID
	names    map[sim.NodeID]string
	nextLite sim.NodeID
	dels     []sim.Delivery
	counters sim.Counters
	failures []string // the proxy's own failures (upstream refused, upstream died)
	samples  *sampler
	witness  *topology.Witness    // the frames a report's story and sequence diagram draw
	frozen   []topology.WireFrame // the witness's recent frames when the first violation was found
	trace    *json.Encoder
	traceErr error
	Stats    Stats
	Faults   atomic.Int64
	// the result, once Finish has judged the end
	result *results.Run
	events []faults.Event
}

// pair is one Lite connection and its upstream twin.
type pair struct {
	id       sim.ConnID
	lite     sim.NodeID // 0 until the Lite's first frame names it
	liteID   string
	down, up *websocket.Conn // to the Lite, to the Origin
	toOrigin *lane
	toLite   *lane
	ctx      context.Context
	cancel   context.CancelFunc
	closed   bool
}

// NewProxy listens and prepares the injector and the checkers; Serve runs
// the proxy.
func NewProxy(ctx context.Context, cfg ProxyConfig) (*Proxy, error) {
	cfg.Log = quiet(cfg.Log)
	if err := LiveFaults(cfg.Plan, cfg.Script); err != nil {
		return nil, err
	}
	p := &Proxy{cfg: cfg, ctx: ctx, pairs: map[sim.ConnID]*pair{}, liteIDs: map[string]sim.NodeID{},
		names: map[sim.NodeID]string{OriginNode: "origin"}, nextLite: sim.NodeID(cfg.Lites)}
	roles := faults.Roles{Origin: OriginNode}
	for i := 1; i <= cfg.Lites; i++ {
		roles.Lites = append(roles.Lites, sim.NodeID(i))
	}
	if cfg.Script != nil {
		p.inj = faults.Replay(cfg.Script, cfg.Plan.Heal, roles)
	} else {
		p.inj = faults.New(cfg.Plan, cfg.Seed, roles)
	}
	checks := cfg.Checks
	checks.Origin = OriginNode
	checks.Name = p.name
	p.chk = check.NewWire(checks)
	p.samples = newSampler(seriesNames)
	p.witness = topology.NewWitness()
	if cfg.Trace != nil {
		p.trace = json.NewEncoder(cfg.Trace)
	}
	var err error
	if p.srv, err = listen("proxy", cfg.Listen, "127.0.0.1:9091", cfg.MaxConns, cfg.Log, &p.Stats); err != nil {
		return nil, err
	}
	p.srv.session = p.session
	return p, nil
}

// Applies reports whether a proxy can apply faults of kind k: it can
// drop, delay, alter and forge frames and reset and cut connections, not
// crash, slow or burst a real process.
func Applies(k faults.Kind) bool {
	return k.IsFrame() || k == faults.Reset || k == faults.Partition || k == faults.PartitionOneWay
}

// LivePlan is plan without the specs a proxy cannot apply, and their
// kinds (for a swarm plan, whose mix the seed picks).
func LivePlan(plan faults.Plan) (faults.Plan, []faults.Kind) {
	out := faults.Plan{Heal: plan.Heal}
	var left []faults.Kind
	for _, s := range plan.Specs {
		if Applies(s.Kind) {
			out.Specs = append(out.Specs, s)
		} else {
			left = append(left, s.Kind)
		}
	}
	return out, left
}

// LiveFaults refuses the fault kinds a proxy cannot apply (see Applies).
func LiveFaults(plan faults.Plan, script []faults.Event) error {
	ok := Applies
	for i, s := range plan.Specs {
		if !ok(s.Kind) && script == nil {
			return fmt.Errorf("fault %d (%s): a proxy cannot apply it to real endpoints; live mode applies frame faults and reset, partition, partition-oneway", i+1, s.Kind)
		}
	}
	for i, e := range script {
		if !ok(e.Kind) {
			return fmt.Errorf("script event %d (%s at %v): a proxy cannot apply it to real endpoints", i+1, e.Kind, e.At)
		}
	}
	return nil
}

// Addr is the address the proxy listens on.
func (p *Proxy) Addr() string { return p.srv.Addr() }

// Serve runs the proxy until ctx is done, then closes every connection.
func (p *Proxy) Serve() error {
	p.clock = NewClock()
	p.mu.Lock()
	p.inj.AttachHost(proxyHost{p})
	p.mu.Unlock()
	stop := p.srv.start()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for done := false; !done; {
		select {
		case <-p.ctx.Done():
			done = true
		case <-tick.C:
			p.mu.Lock()
			now := p.clock.Now()
			p.chk.Tick(now)
			p.freeze()
			p.samples.sample(now)
			p.mu.Unlock()
		}
	}
	err := stop()
	p.mu.Lock()
	for _, pr := range p.pairs {
		p.closePair(pr, websocket.StatusGoingAway, "proxy stopping")
	}
	p.mu.Unlock()
	p.wg.Wait()
	return err
}

func (p *Proxy) name(n sim.NodeID) string {
	if s, ok := p.names[n]; ok {
		return s
	}
	return fmt.Sprintf("lite%d", n)
}

func (p *Proxy) fail(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.cfg.Log.Print("proxy: " + msg)
	if len(p.failures) < 100 {
		p.failures = append(p.failures, fmt.Sprintf("%.3f s: %s", p.clock.Now().Seconds(), msg))
	}
}

// session pairs an accepted Lite connection with one to the upstream
// and passes frames until either side ends.
func (p *Proxy) session(down *websocket.Conn, remote string) {
	dctx, dcancel := context.WithTimeout(p.ctx, 5*time.Second)
	up, resp, err := websocket.Dial(dctx, p.cfg.Upstream, &websocket.DialOptions{CompressionMode: websocket.CompressionDisabled})
	dcancel()
	if resp != nil && resp.Body != nil {
		resp.Body.Close()
	}
	if err != nil && p.ctx.Err() != nil {
		down.Close(websocket.StatusGoingAway, "proxy stopping")
		return
	}
	if err != nil {
		p.mu.Lock()
		p.fail("upstream %s refused the connection for %s: %v", p.cfg.Upstream, remote, err)
		p.mu.Unlock()
		p.Stats.DialFailures.Add(1)
		down.Close(websocket.StatusTryAgainLater, "upstream unavailable")
		return
	}
	up.SetReadLimit(MaxFrameBytes)
	ctx, cancel := context.WithCancel(p.ctx)
	p.mu.Lock()
	p.next++
	pr := &pair{id: p.next, down: down, up: up, ctx: ctx, cancel: cancel}
	pr.toOrigin, pr.toLite = newLane(), newLane()
	p.pairs[pr.id] = pr
	p.mu.Unlock()
	p.Stats.Connections.Add(1)
	p.Stats.Open.Add(1)
	p.cfg.Log.Printf("proxy: connection %d from %s paired with %s", pr.id, remote, p.cfg.Upstream)
	p.wg.Add(4)
	go p.read(pr, true)
	go p.read(pr, false)
	go p.deliver(pr, pr.toOrigin, up, true)
	go p.deliver(pr, pr.toLite, down, false)
	<-ctx.Done()
	p.mu.Lock()
	p.closePair(pr, websocket.StatusGoingAway, "connection closed")
	p.mu.Unlock()
}

// closePair ends a pair: both sockets closed, its checks forgotten.
// Called with p.mu held.
func (p *Proxy) closePair(pr *pair, code websocket.StatusCode, why string) {
	if pr.closed {
		return
	}
	pr.closed = true
	pr.cancel()
	delete(p.pairs, pr.id)
	p.chk.Closed(pr.id)
	p.Stats.Open.Add(-1)
	if code == 0 { // a reset: no close handshake
		pr.down.CloseNow()
		pr.up.CloseNow()
		return
	}
	p.wg.Add(2)
	for _, ws := range []*websocket.Conn{pr.down, pr.up} {
		go func() {
			defer p.wg.Done()
			ws.Close(code, why)
		}()
	}
}

// read passes the frames one side of pr sends through the faults.
func (p *Proxy) read(pr *pair, fromLite bool) {
	defer p.wg.Done()
	ws, side := pr.up, "origin"
	if fromLite {
		ws, side = pr.down, "lite"
	}
	var buf []byte
	for {
		b, bad, err := readFrame(pr.ctx, ws, buf)
		if err != nil {
			p.mu.Lock()
			switch {
			case pr.closed || pr.ctx.Err() != nil:
			case !fromLite && websocket.CloseStatus(err) == websocket.StatusNormalClosure:
				// Origin ended the session itself: its protocol's business.
				p.cfg.Log.Printf("proxy: connection %d: the origin closed it", pr.id)
			case !fromLite && (errors.Is(err, errTooLarge) || errors.Is(err, errMidFrame)):
				p.Stats.Malformed.Add(1)
				p.cfg.Log.Printf("proxy: connection %d: the origin sent %v; closing the pair", pr.id, err)
			case !fromLite:
				p.fail("upstream closed connection %d mid-run: %v", pr.id, err)
			case !peerGone(err):
				p.Stats.Malformed.Add(1)
				p.cfg.Log.Printf("proxy: connection %d: the %s sent %v; closing the pair", pr.id, side, err)
			}
			code := websocket.StatusGoingAway
			if !peerGone(err) {
				code = closeStatus(err)
			}
			p.closePair(pr, code, "peer closed")
			p.mu.Unlock()
			return
		}
		buf = keepBuf(b)
		if bad != nil {
			p.Stats.Malformed.Add(1)
			p.cfg.Log.Printf("proxy: connection %d: the %s sent %s", pr.id, side, bad.Why)
			if bad.Text || len(b) == 0 {
				continue // nothing to forward
			}
		}
		p.Stats.FramesReceived.Add(1)
		p.mu.Lock()
		p.pass(pr, fromLite, b, bad != nil)
		p.mu.Unlock()
	}
}

// pass runs one frame through the checkers and the injector and queues
// its deliveries. Called with p.mu held.
func (p *Proxy) pass(pr *pair, fromLite bool, b []byte, malformed bool) {
	if pr.closed {
		return // closed while this frame waited for the lock
	}
	now := p.clock.Now()
	if fromLite && pr.lite == 0 {
		p.identify(pr, b)
		if !p.inj.AllowDial(now, pr.lite, OriginNode) {
			p.Stats.Refused.Add(1)
			p.cfg.Log.Printf("proxy: connection %d: %s is partitioned; refusing it", pr.id, p.name(pr.lite))
			p.closePair(pr, websocket.StatusTryAgainLater, "partitioned")
			return
		}
	}
	from, to, ln := OriginNode, pr.lite, pr.toLite
	if fromLite {
		from, to, ln = pr.lite, OriginNode, pr.toOrigin
	}
	pkt := sim.Packet{Conn: pr.id, From: from, To: to, Type: wire.MsgType(b[0]), Bytes: b}
	p.counters.FramesSent++
	p.count(fromLite, b)
	if !malformed {
		p.chk.Sent(now, &pkt)
		p.samples.sent(now, &pkt)
	}
	p.witness.Sent(now, &pkt)
	p.freeze()
	p.dels = p.inj.Intercept(now, &pkt, p.dels[:0])
	switch len(p.dels) {
	case 0:
		p.counters.FramesDropped++
	case 1:
	default:
		p.counters.FramesDuplicated += uint64(len(p.dels) - 1)
	}
	p.traceFrame(now, pr, from, to, b, len(p.dels))
	for _, d := range p.dels {
		if d.Altered {
			p.counters.FramesCorrupted++
		}
		if !ln.push(now, d, b) {
			p.Stats.Dropped.Add(1)
			p.cfg.Log.Printf("proxy: connection %d: %d frames wait for %s, which does not read them; closing the pair", pr.id, sendQueueFrames, p.name(to))
			p.closePair(pr, websocket.StatusTryAgainLater, "peer too slow")
			return
		}
	}
}

// freeze keeps the frames that led to the first violation: a live run
// goes on after it, and the report's story is of that moment. Called with
// p.mu held.
func (p *Proxy) freeze() {
	if p.frozen == nil && p.chk.Count > 0 {
		p.frozen, _ = p.witness.Frames()
	}
}

// count keeps the counters of the frames that say what the protocol did:
// throttles asked for and released, resyncs requested.
func (p *Proxy) count(fromLite bool, b []byte) {
	if !fromLite {
		return
	}
	switch wire.MsgType(b[0]) {
	case wire.TypeResyncRequest:
		p.counters.ResyncRequested++
	case wire.TypeThrottle:
		if m, err := wire.Default.Decode(b); err == nil {
			if m.(*wire.Throttle).Throttle {
				p.counters.ThrottleOn++
			} else {
				p.counters.ThrottleOff++
			}
		}
	}
}

// identify names the Lite of pr from its first frame.
func (p *Proxy) identify(pr *pair, b []byte) {
	id := ""
	if len(b) > 0 && wire.MsgType(b[0]) == wire.TypeHandshake {
		if m, err := wire.Default.Decode(b); err == nil {
			id = m.(*wire.Handshake).LiteID
		}
	}
	if id == "" {
		// No handshake first: nothing names it. Every such connection is
		// one node, so that garbage peers cannot grow the proxy's state.
		id = noHandshake
	}
	n, ok := p.liteIDs[id]
	if !ok {
		n = p.freeSlot(id)
		p.liteIDs[id] = n
		p.names[n] = fmt.Sprintf("lite%d", n)
		p.cfg.Log.Printf("proxy: lite_id %q is %s", id, p.names[n])
		if int(n) > p.cfg.Lites {
			p.cfg.Log.Printf("proxy: %s is past the scenario's %d Lites: faults aimed at lite:N and lites do not reach it", p.names[n], p.cfg.Lites)
		}
	}
	pr.lite, pr.liteID = n, id
}

// freeSlot is the node a new lite_id becomes: k when the id is the free
// number k in 1..Lites (reference Lites keep their numbers in every run),
// else the lowest free one there (a real Lite's id is rarely a small
// number, and faults target 1..Lites), and past them only when all are
// taken.
func (p *Proxy) freeSlot(id string) sim.NodeID {
	if k, err := strconv.Atoi(id); err == nil && k >= 1 && k <= p.cfg.Lites && p.names[sim.NodeID(k)] == "" {
		return sim.NodeID(k)
	}
	for k := 1; k <= p.cfg.Lites && id != noHandshake; k++ {
		if p.names[sim.NodeID(k)] == "" {
			return sim.NodeID(k)
		}
	}
	p.nextLite++
	return p.nextLite
}

// deliver writes a lane's frames to ws as they fall due.
func (p *Proxy) deliver(pr *pair, ln *lane, ws *websocket.Conn, toOrigin bool) {
	defer p.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		p.mu.Lock()
		if pr.closed {
			p.mu.Unlock()
			return
		}
		d, wait, ok := ln.next(p.clock)
		if ok {
			// Judged as delivered before the write: once the bytes are on
			// the socket the peer may answer, and its answer must not be
			// seen before what it answers.
			now := p.clock.Now()
			from, to := OriginNode, pr.lite
			if toOrigin {
				from, to = pr.lite, OriginNode
			}
			p.chk.Delivered(now, pr.id, from, to, d.bytes, d.altered)
			p.samples.delivered(now, pr, toOrigin, d.bytes, d.altered)
			p.witness.Step(now, to, &sim.Input{Kind: sim.InFrame, Conn: pr.id, Peer: from, Frame: d.bytes}, d.altered)
			p.freeze()
		}
		p.mu.Unlock()
		if !ok {
			timer.Reset(wait)
			select {
			case <-pr.ctx.Done():
				return
			case <-ln.wake:
			case <-timer.C:
			}
			continue
		}
		wctx, cancel := context.WithTimeout(pr.ctx, writeTimeout)
		err := ws.Write(wctx, websocket.MessageBinary, d.bytes)
		cancel()
		p.mu.Lock()
		if err != nil {
			if !pr.closed && pr.ctx.Err() == nil && toOrigin {
				p.fail("upstream write on connection %d failed: %v", pr.id, err)
			}
			p.closePair(pr, websocket.StatusGoingAway, "write failed")
			p.mu.Unlock()
			return
		}
		p.Stats.FramesSent.Add(1)
		p.counters.FramesDelivered++
		p.mu.Unlock()
	}
}

// traceFrame writes one frame to the trace, its token redacted.
func (p *Proxy) traceFrame(now sim.Time, pr *pair, from, to sim.NodeID, b []byte, deliveries int) {
	if p.trace == nil || p.traceErr != nil {
		return
	}
	line := struct {
		T          float64      `json:"t_s"`
		Conn       sim.ConnID   `json:"conn"`
		From       string       `json:"from"`
		To         string       `json:"to"`
		Type       string       `json:"type"`
		Bytes      int          `json:"bytes"`
		Deliveries int          `json:"deliveries"`
		Msg        wire.Message `json:"msg,omitempty"`
		Error      string       `json:"error,omitempty"`
	}{T: now.Seconds(), Conn: pr.id, From: p.name(from), To: p.name(to), Type: wire.MsgType(b[0]).String(), Bytes: len(b), Deliveries: deliveries}
	if m, err := wire.Default.Decode(b); err == nil {
		if h, ok := m.(*wire.Handshake); ok && h.JWTToken != "" {
			h.JWTToken = "[redacted]" // never written anywhere
		}
		line.Msg = m
	} else {
		line.Error = err.Error()
	}
	p.traceErr = p.trace.Encode(line)
}

// proxyHost is the proxy as the injector's host: connections can be reset
// and cut; real processes cannot be crashed or slowed.
type proxyHost struct{ p *Proxy }

func (h proxyHost) Now() sim.Time { return h.p.clock.Now() }

func (h proxyHost) After(t sim.Time, f func()) {
	time.AfterFunc(h.p.clock.Until(t), func() {
		h.p.mu.Lock()
		defer h.p.mu.Unlock()
		if h.p.ctx.Err() == nil {
			f()
		}
	})
}

func (proxyHost) Node(sim.NodeID) sim.Node { return nil }
func (proxyHost) Up(sim.NodeID) bool       { return false }
func (proxyHost) Crash(sim.NodeID)         {}
func (proxyHost) Restart(sim.NodeID)       {}
func (proxyHost) Burst(sim.NodeID, int)    {}

func (h proxyHost) Conns(n sim.NodeID) []sim.ConnID {
	var out []sim.ConnID
	for id, pr := range h.p.pairs {
		if n == OriginNode || pr.lite == n {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out
}

func (h proxyHost) ResetConn(c sim.ConnID) {
	if pr := h.p.pairs[c]; pr != nil {
		h.p.cfg.Log.Printf("proxy: connection %d reset (fault)", c)
		h.p.closePair(pr, 0, "")
	}
}

func (h proxyHost) RecordFault(node, peer sim.NodeID, conn sim.ConnID, kind string, a, b uint64) {
	h.p.Faults.Add(1)
}

// lane is one direction of a pair: the deliveries the injector asked for,
// written in due order. An ordered delivery is never due before one queued
// ahead of it (TCP keeps order); an unordered one may overtake.
type lane struct {
	q       deliveryHeap
	seq     uint64
	lastDue sim.Time
	wake    chan struct{}
}

type scheduled struct {
	due     sim.Time
	seq     uint64
	bytes   []byte
	altered bool
}

func newLane() *lane { return &lane{wake: make(chan struct{}, 1)} }

// push queues d; it refuses when sendQueueFrames wait already.
func (l *lane) push(now sim.Time, d sim.Delivery, sent []byte) bool {
	if len(l.q) >= sendQueueFrames {
		return false
	}
	due := now + d.Delay
	if !d.Unordered {
		due = max(due, l.lastDue)
		l.lastDue = due
	}
	b := d.Bytes
	if len(b) > 0 && len(sent) > 0 && &b[0] == &sent[0] {
		b = append([]byte(nil), b...) // the reader's buffer is reused for the next frame
	}
	l.seq++
	heap.Push(&l.q, scheduled{due: due, seq: l.seq, bytes: b, altered: d.Altered})
	select {
	case l.wake <- struct{}{}:
	default:
	}
	return true
}

// next pops the first delivery due by now, or says how long to wait.
func (l *lane) next(c Clock) (scheduled, time.Duration, bool) {
	if len(l.q) == 0 {
		return scheduled{}, time.Hour, false
	}
	now := c.Now()
	if l.q[0].due > now {
		return scheduled{}, time.Duration(l.q[0].due - now), false
	}
	return heap.Pop(&l.q).(scheduled), 0, true
}

type deliveryHeap []scheduled

func (h deliveryHeap) Len() int { return len(h) }
func (h deliveryHeap) Less(i, j int) bool {
	return h[i].due < h[j].due || h[i].due == h[j].due && h[i].seq < h[j].seq
}
func (h deliveryHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *deliveryHeap) Push(x any)   { *h = append(*h, x.(scheduled)) }
func (h *deliveryHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
