package live

import (
	"context"
	"fmt"
	"io"
	"log"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/syncsim/syncsim/sim"
)

// host runs nodes that meet the node contract (sim.Node) on the wall clock
// and real WebSockets: the simulator's kernel, with time.AfterFunc for its
// event queue and sockets for its links. One goroutine, the loop, steps
// every node and applies their effects, so a node is never stepped
// concurrently, exactly as in the simulator; readers, timers and dials
// only post work to it.
type host struct {
	clock  Clock
	log    *log.Logger
	ctx    context.Context
	cancel context.CancelFunc // stops every reader, writer, dial and timer of the host
	inbox  chan func()
	fx     *sim.Effects
	nodes  []*hosted
	conns  map[sim.ConnID]*wsConn
	next   sim.ConnID
	// dial connects a node's dial effect (nil: the node may not dial).
	dial     func(ctx context.Context) (*websocket.Conn, error)
	workload sim.Workload
	writeFor sim.Time
	// onEvent sees every event a node emits (on the loop).
	onEvent func(now sim.Time, node sim.NodeID, ev sim.Event)
	stats   *Stats
	failure error // a node broke the contract (sim.Failer)
	stopped bool  // shutdown began: nothing is stepped any more
	// downs are connections a step's effects took down; stepping their
	// nodes waits until the step's effects are all applied (a nested
	// step would reuse the effects being read).
	downs []*wsConn
	wg    sync.WaitGroup
}

// hosted is one node of a host.
type hosted struct {
	id   sim.NodeID
	name string
	node sim.Node
}

// wsConn is one connection of a hosted node.
type wsConn struct {
	id     sim.ConnID
	node   *hosted
	peer   sim.NodeID
	ws     *websocket.Conn
	out    chan []byte
	ctx    context.Context // done once the connection is being torn down
	cancel context.CancelFunc
	closed bool // closed by the node: no InConnDown follows
	down   bool // InConnDown delivered (or the node closed it)
}

func newHost(parent context.Context, lg *log.Logger, stats *Stats) *host {
	ctx, cancel := context.WithCancel(parent)
	return &host{clock: NewClock(), log: lg, ctx: ctx, cancel: cancel, inbox: make(chan func(), 1024), fx: sim.NewEffects(nil),
		conns: map[sim.ConnID]*wsConn{}, stats: stats}
}

// post hands f to the loop; it gives up when the host is stopping.
func (h *host) post(f func()) bool {
	select {
	case h.inbox <- f:
		return true
	case <-h.ctx.Done():
		return false
	}
}

// run steps the nodes until ctx is done or stop returns true (checked
// every tick, on the loop).
func (h *host) run(tick time.Duration, stop func(now sim.Time) bool) {
	for _, n := range h.nodes {
		h.step(n, &sim.Input{Kind: sim.InStart})
		h.nextWrite(n)
	}
	t := time.NewTicker(tick)
	defer t.Stop()
	for h.failure == nil {
		select {
		case <-h.ctx.Done():
			return
		case f := <-h.inbox:
			f()
		case <-t.C:
			if stop != nil && stop(h.clock.Now()) {
				return
			}
		}
	}
}

// shutdown closes every connection and waits for the readers, writers
// and dials. Work posted and not yet run is run with nothing stepped, so
// that a connection it would have attached is closed.
func (h *host) shutdown() {
	h.stopped = true
	for id, c := range h.conns {
		h.drop(c, websocket.StatusGoingAway, "shutting down")
		delete(h.conns, id)
		h.stats.Open.Add(-1)
	}
	h.cancel()
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	for {
		select {
		case f := <-h.inbox:
			f()
			continue
		case <-done:
		}
		break
	}
	for len(h.inbox) > 0 {
		(<-h.inbox)()
	}
	for _, n := range h.nodes {
		if c, ok := n.node.(io.Closer); ok {
			c.Close() // a node that is a process, or holds files
		}
	}
}

func (h *host) step(n *hosted, in *sim.Input) {
	if h.stopped {
		return
	}
	now := h.clock.Now()
	h.fx.Reset()
	n.node.Step(now, in, h.fx)
	for _, e := range h.fx.List() {
		h.apply(now, n, &e)
	}
	if f, ok := n.node.(sim.Failer); ok && h.failure == nil {
		if err := f.Failure(); err != nil {
			h.failure = fmt.Errorf("%s: %w", n.name, err)
		}
	}
	for len(h.downs) > 0 {
		c := h.downs[0]
		h.downs = h.downs[1:]
		h.down(c)
	}
}

func (h *host) apply(now sim.Time, n *hosted, e *sim.Effect) {
	switch e.Kind {
	case sim.EffectSend:
		c := h.conns[e.Conn]
		if c == nil || c.node != n || c.down {
			return // a write to a reset socket
		}
		select {
		case c.out <- append([]byte(nil), e.Frame...):
			h.stats.FramesSent.Add(1)
		default:
			h.log.Printf("%s: connection %d: %d frames wait to be written; the peer is too slow, disconnecting it", n.name, c.id, sendQueueFrames)
			h.stats.Dropped.Add(1)
			h.drop(c, websocket.StatusTryAgainLater, "send queue full")
			h.downs = append(h.downs, c)
		}
	case sim.EffectTimer:
		tag := e.Tag
		time.AfterFunc(time.Duration(e.After), func() {
			h.post(func() { h.step(n, &sim.Input{Kind: sim.InTimer, Timer: tag}) })
		})
	case sim.EffectDial:
		h.startDial(n, e.Peer)
	case sim.EffectClose:
		if c := h.conns[e.Conn]; c != nil && c.node == n {
			c.closed, c.down = true, true
			h.drop(c, websocket.StatusNormalClosure, "closed by "+n.name)
		}
	case sim.EffectEvent:
		h.stats.event(e.Event)
		if h.onEvent != nil {
			h.onEvent(now, n.id, e.Event)
		}
	}
}

// nextWrite schedules node n's next workload write.
func (h *host) nextWrite(n *hosted) {
	if h.workload == nil {
		return
	}
	now := h.clock.Now()
	after, ok := h.workload.Next(now, n.id)
	if !ok || now+after >= h.writeFor {
		return
	}
	time.AfterFunc(time.Duration(after), func() {
		h.post(func() {
			in := &sim.Input{Kind: sim.InWrite}
			h.workload.Make(h.clock.Now(), n.id, &in.Write)
			h.stats.Writes.Add(1)
			h.step(n, in)
			h.nextWrite(n)
		})
	})
}

func (h *host) startDial(n *hosted, peer sim.NodeID) {
	if h.dial == nil {
		return
	}
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		ctx, cancel := context.WithTimeout(h.ctx, 5*time.Second)
		ws, err := h.dial(ctx)
		cancel()
		if err != nil {
			if h.ctx.Err() == nil {
				h.log.Printf("%s: dial: %v", n.name, err)
				h.stats.DialFailures.Add(1)
			}
			h.post(func() { h.step(n, &sim.Input{Kind: sim.InConnDown, Peer: peer}) })
			return
		}
		ws.SetReadLimit(MaxFrameBytes) // an accepted one has it from the server
		if !h.post(func() { h.attach(n, peer, ws, true) }) {
			ws.Close(websocket.StatusGoingAway, "shutting down")
		}
	}()
}

// attach makes ws a connection of node n and starts its reader and
// writer. It runs on the loop.
func (h *host) attach(n *hosted, peer sim.NodeID, ws *websocket.Conn, dialled bool) *wsConn {
	if h.stopped {
		ws.CloseNow()
		return nil
	}
	h.next++
	ctx, cancel := context.WithCancel(h.ctx)
	c := &wsConn{id: h.next, node: n, peer: peer, ws: ws, out: make(chan []byte, sendQueueFrames), ctx: ctx, cancel: cancel}
	h.conns[c.id] = c
	h.stats.Connections.Add(1)
	h.stats.Open.Add(1)
	h.wg.Add(2)
	go h.writer(ctx, c)
	go h.reader(ctx, c)
	in := &sim.Input{Kind: sim.InConnUp, Conn: c.id, Peer: peer}
	if !dialled {
		in.Peer = sim.NodeID(c.id) // an accepted peer is known by its connection
		c.peer = in.Peer
	}
	h.step(n, in)
	return c
}

func (h *host) writer(ctx context.Context, c *wsConn) {
	defer h.wg.Done()
	for {
		select {
		case <-ctx.Done():
			return
		case f := <-c.out:
			wctx, cancel := context.WithTimeout(ctx, writeTimeout)
			err := c.ws.Write(wctx, websocket.MessageBinary, f)
			cancel()
			if err != nil {
				if !peerGone(err) && ctx.Err() == nil {
					h.log.Printf("%s: connection %d: write: %v", c.node.name, c.id, err)
				}
				c.cancel()
				return
			}
		}
	}
}

func (h *host) reader(ctx context.Context, c *wsConn) {
	defer h.wg.Done()
	var buf []byte
	for {
		b, bad, err := readFrame(ctx, c.ws, buf)
		if err != nil {
			if !peerGone(err) && ctx.Err() == nil {
				h.log.Printf("%s: connection %d: %v", c.node.name, c.id, err)
				h.stats.Malformed.Add(1)
				c.ws.Close(closeStatus(err), "bad frame")
			}
			c.cancel()
			h.post(func() { h.down(c) })
			return
		}
		if bad != nil {
			h.stats.Malformed.Add(1)
			h.log.Printf("%s: connection %d: %s", c.node.name, c.id, bad.Why)
			if bad.Text {
				continue
			}
		}
		frame := append([]byte(nil), b...) // the node's step may outlive buf's next read
		buf = keepBuf(b)
		if !h.post(func() {
			if !c.down {
				h.stats.FramesReceived.Add(1)
				h.step(c.node, &sim.Input{Kind: sim.InFrame, Conn: c.id, Peer: c.peer, Frame: frame})
			}
		}) {
			return
		}
	}
}

// down tells the node its connection is gone (once), on the loop.
func (h *host) down(c *wsConn) {
	if _, ok := h.conns[c.id]; !ok {
		return
	}
	delete(h.conns, c.id)
	h.stats.Open.Add(-1)
	c.cancel()
	if !c.down {
		c.down = true
		h.step(c.node, &sim.Input{Kind: sim.InConnDown, Conn: c.id, Peer: c.peer})
	}
}

// drop closes c's socket; its reader then reports it down.
func (h *host) drop(c *wsConn, code websocket.StatusCode, why string) {
	c.cancel()
	h.wg.Add(1)
	go func() {
		defer h.wg.Done()
		c.ws.Close(code, why)
	}()
}

// probe asks node n where it is (on the loop).
func (h *host) probe(n *hosted, p *sim.Probe) {
	p.Reset()
	n.node.Probe(p)
}
