package sim

import (
	"bytes"
	"testing"

	"github.com/syncsim/syncsim/wire"
)

// hub accepts three clients and, once all are up, sends each of its frames
// to every client as one shared buffer.
type hub struct {
	frames [][]byte
	conns  []ConnID
}

func (h *hub) Crash()       {}
func (h *hub) Probe(*Probe) {}
func (h *hub) Step(_ Time, in *Input, fx *Effects) {
	if in.Kind != InConnUp {
		return
	}
	if h.conns = append(h.conns, in.Conn); len(h.conns) < 3 {
		return
	}
	for _, f := range h.frames {
		for _, c := range h.conns {
			fx.SendShared(c, f)
		}
	}
}

// client dials the hub, keeps a copy of every frame it gets and answers
// each with a frame of its own, so pool buffers come and go meanwhile.
type client struct{ got [][]byte }

func (c *client) Crash()       {}
func (c *client) Probe(*Probe) {}
func (c *client) Step(_ Time, in *Input, fx *Effects) {
	switch in.Kind {
	case InStart:
		fx.Dial(0)
	case InFrame:
		c.got = append(c.got, append([]byte(nil), in.Frame...))
		fx.Send(in.Conn, &wire.PingPong{TimestampMs: uint64(len(c.got)), IsPong: true})
	}
}

// mangle duplicates, corrupts (in a copy, as faults do) and drops frames in
// turn.
type mangle struct{ n int }

func (m *mangle) Intercept(_ Time, p *Packet, out []Delivery) []Delivery {
	m.n++
	switch m.n % 4 {
	case 0:
		return out
	case 1:
		return append(out, Delivery{Bytes: p.Bytes}, Delivery{Bytes: p.Bytes, Delay: Millisecond})
	case 2:
		b := append([]byte(nil), p.Bytes...)
		b[len(b)-1] ^= 1
		return append(out, Delivery{Bytes: b, Altered: true}, Delivery{Bytes: p.Bytes, Unordered: true})
	}
	return append(out, Delivery{Bytes: p.Bytes})
}
func (m *mangle) AllowDial(Time, NodeID, NodeID) bool { return true }

// A shared frame reaches every peer as sent, however faults duplicate,
// corrupt, reorder or drop its deliveries, and never enters the frame pool:
// a recycled one would be overwritten by the next frame encoded into it.
func TestSharedFramesAreNeverRecycled(t *testing.T) {
	h := &hub{}
	var want [][]byte
	for i := 1; i <= 40; i++ {
		f, err := wire.Default.Encode(&wire.PingPong{TimestampMs: uint64(1000 + i)})
		if err != nil {
			t.Fatal(err)
		}
		h.frames = append(h.frames, f)
		want = append(want, append([]byte(nil), f...))
	}
	clients := []*client{{}, {}, {}}
	w := New(Config{Seed: 1, Interceptor: &mangle{},
		Nodes: []NodeSpec{{"hub", h}, {"c1", clients[0]}, {"c2", clients[1]}, {"c3", clients[2]}},
		Link:  func(NodeID, NodeID) Link { return Link{Base: Millisecond, Jitter: 5 * Millisecond} }})
	r := w.Run()
	for i, f := range h.frames {
		if !bytes.Equal(f, want[i]) {
			t.Fatalf("shared frame %d was written over: % x, sent as % x", i, f, want[i])
		}
	}
	sent := map[string]bool{}
	for _, f := range want {
		sent[string(f)] = true
	}
	intact := 0
	for _, c := range clients {
		for _, g := range c.got {
			if sent[string(g)] {
				intact++
			}
		}
	}
	// 120 sends: a quarter dropped, a quarter doubled, a quarter sent as a
	// corrupted copy plus the original: 30×0 + 30×2 + 30×1 + 30×1 intact.
	if intact != 120 {
		t.Fatalf("%d intact deliveries of the shared frames, want 120 (counters %+v)", intact, r.Counters)
	}
	for _, b := range w.fx.pool.bufs {
		for i, f := range h.frames {
			if &b[:1][0] == &f[0] {
				t.Fatalf("shared frame %d is in the frame pool", i)
			}
		}
	}
}
