package nodedb

import (
	"testing"

	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

const ms = sim.Millisecond

// stepped is what one step of a node did, decoded: frames sent (with
// their connection), events, timers, dials and closes.
type stepped struct {
	sends  []wire.Message
	conns  []sim.ConnID
	events []sim.Event
	timers []sim.Effect
	dials  int
	closes []sim.ConnID
}

// driver steps one node directly, with no kernel, as the transcripts do.
type driver struct {
	t     *testing.T
	node  sim.Node
	fx    *sim.Effects
	codec *wire.Codec
	now   sim.Time
}

func newDriver(t *testing.T, n sim.Node) *driver {
	return &driver{t: t, node: n, fx: sim.NewEffects(nil), codec: wire.Default}
}

func (d *driver) step(in sim.Input) stepped {
	d.t.Helper()
	d.fx.Reset()
	d.node.Step(d.now, &in, d.fx)
	var out stepped
	for _, e := range d.fx.List() {
		switch e.Kind {
		case sim.EffectSend:
			m, err := d.codec.Decode(e.Frame)
			if err != nil {
				d.t.Fatalf("the node sent a frame that does not decode: %v", err)
			}
			out.sends, out.conns = append(out.sends, m), append(out.conns, e.Conn)
		case sim.EffectEvent:
			out.events = append(out.events, sim.CloneEvent(e.Event))
		case sim.EffectTimer:
			out.timers = append(out.timers, e)
		case sim.EffectDial:
			out.dials++
		case sim.EffectClose:
			out.closes = append(out.closes, e.Conn)
		}
	}
	d.fx.Reset()
	return out
}

// frame delivers m on conn and returns what the node did.
func (d *driver) frame(conn sim.ConnID, m wire.Message) stepped {
	d.t.Helper()
	b, err := d.codec.Encode(m)
	if err != nil {
		d.t.Fatalf("encode %T: %v", m, err)
	}
	out := d.step(sim.Input{Kind: sim.InFrame, Conn: conn, Peer: 1, Frame: b})
	for i := range b {
		b[i] = 0xA5 // the kernel recycles frame buffers: nothing may keep a view
	}
	return out
}

func sendsOf[T wire.Message](s stepped) []T {
	var out []T
	for _, m := range s.sends {
		if x, ok := m.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

func eventsOf[T sim.Event](s stepped) []T {
	var out []T
	for _, e := range s.events {
		if x, ok := e.(T); ok {
			out = append(out, x)
		}
	}
	return out
}

func probe(n sim.Node) sim.Probe {
	var p sim.Probe
	n.Probe(&p)
	return p
}

func shapeDelta(coll string, lsn uint64, doc, op, value string) *wire.ShapeDelta {
	return &wire.ShapeDelta{ShapeID: "shape:" + coll, Collection: coll, DocumentID: doc, Operation: op,
		Delta: []byte(value), LSN: lsn}
}

func handshake(token string, wireVersion uint16) *wire.Handshake {
	return &wire.Handshake{JWTToken: token, VectorClock: map[string]map[string]uint64{}, ClientVersion: "test",
		LiteID: "7", Epoch: 1, WireVersion: wireVersion}
}

func push(coll, doc string, peer, mid uint64, value string) *wire.DeltaPush {
	p := &wire.DeltaPush{Collection: coll, DocumentID: doc, Delta: append([]byte{1}, value...), PeerID: peer, MutationID: mid}
	p.Seal()
	return p
}

// liteConnected starts a Lite (peer 7, dialling node 0) and completes its
// handshake on connection 1 at time 0.
func liteConnected(t *testing.T, colls ...string) (*Lite, *driver) {
	t.Helper()
	l := NewLite(sim.Env{Origin: 0, PeerID: 7, Collections: colls}, LiteConfig{})
	d := newDriver(t, l)
	d.step(sim.Input{Kind: sim.InStart})
	d.step(sim.Input{Kind: sim.InConnUp, Conn: 1})
	d.frame(1, &wire.HandshakeAck{Success: true, SessionID: "s1", ServerWireVersion: 1})
	return l, d
}

// originWithSession returns an Origin serving c0 and c1 with one
// authenticated session on connection 1.
func originWithSession(t *testing.T, cfg OriginConfig) (*Origin, *driver) {
	t.Helper()
	o := NewOrigin(sim.Env{Collections: []string{"c0", "c1"}}, cfg)
	d := newDriver(t, o)
	d.step(sim.Input{Kind: sim.InStart})
	d.step(sim.Input{Kind: sim.InConnUp, Conn: 1, Peer: 1})
	if acks := sendsOf[*wire.HandshakeAck](d.frame(1, handshake("t", 1))); len(acks) != 1 || !acks[0].Success {
		t.Fatalf("handshake not acked: %+v", acks)
	}
	return o, d
}
