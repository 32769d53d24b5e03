package sim

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/syncsim/syncsim/wire"
)

// hub accepts three clients and, once all are up, sends each of its frames
// to every client as one shared buffer.
type hub struct {
	frames [][]byte
	conns  []ConnID
	copies bool // send each as a copy (SendRaw) instead
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
			if h.copies {
				fx.SendRaw(c, f)
			} else {
				fx.SendShared(c, f)
			}
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

// sharedRun runs the hub with 40 frames, sent shared or as copies, under
// faults that duplicate, corrupt, reorder and drop them.
func sharedRun(t *testing.T, copies bool) (Result, *hub) {
	t.Helper()
	h := &hub{copies: copies}
	for i := 1; i <= 40; i++ {
		// All of one length, so a CRC remembered for the wrong buffer
		// would show.
		f, err := wire.Default.Encode(&wire.ShapeDelta{ShapeID: "s", Collection: "c", DocumentID: "d", LSN: uint64(i), Delta: bytes.Repeat([]byte{byte(i)}, 8)})
		if err != nil {
			t.Fatal(err)
		}
		h.frames = append(h.frames, f)
	}
	w := New(Config{Seed: 1, Interceptor: &mangle{},
		Nodes: []NodeSpec{{"hub", h}, {"c1", &client{}}, {"c2", &client{}}, {"c3", &client{}}},
		Link:  func(NodeID, NodeID) Link { return Link{Base: Millisecond, Jitter: 5 * Millisecond} }})
	return w.Run(), h
}

// Sending a frame shared is an optimisation, not a change: the run's trace
// (every delivery's CRC32C included, which the kernel takes once per shared
// frame) is the one the same frames sent as copies give.
func TestSharedFramesTraceAsCopies(t *testing.T) {
	shared, _ := sharedRun(t, false)
	copied, _ := sharedRun(t, true)
	if shared.Counters.FramesDelivered == 0 || shared.Counters.FramesDelivered != copied.Counters.FramesDelivered {
		t.Fatalf("delivered %d shared, %d copied", shared.Counters.FramesDelivered, copied.Counters.FramesDelivered)
	}
	if shared.Hash != copied.Hash {
		t.Fatalf("trace hash %016x sent shared, %016x sent as copies", shared.Hash, copied.Hash)
	}
}

// decoder decodes every frame it gets and keeps the ShapeDelta's Delta.
type decoder struct {
	client
	deltas, frames [][]byte
}

func (d *decoder) Step(now Time, in *Input, fx *Effects) {
	if in.Kind == InFrame {
		if m, err := fx.Decode(in.Frame); err == nil {
			if sd, ok := m.(*wire.ShapeDelta); ok {
				d.deltas, d.frames = append(d.deltas, sd.Delta), append(d.frames, in.Frame)
			}
		}
	}
	d.client.Step(now, in, fx)
}

// A node's Decode of a shared frame gives views of its bytes (nothing
// writes or recycles them); of any other frame, copies, since the kernel
// recycles its buffer after the step.
func TestDecodeViewsOnlySharedFrames(t *testing.T) {
	for _, copies := range []bool{false, true} {
		f, err := wire.Default.Encode(&wire.ShapeDelta{ShapeID: "s", Collection: "c", DocumentID: "d", LSN: 1, Delta: []byte("abcdefgh")})
		if err != nil {
			t.Fatal(err)
		}
		h := &hub{frames: [][]byte{f}, copies: copies}
		ds := []*decoder{{}, {}, {}}
		w := New(Config{Seed: 1,
			Nodes: []NodeSpec{{"hub", h}, {"c1", ds[0]}, {"c2", ds[1]}, {"c3", ds[2]}},
			Link:  func(NodeID, NodeID) Link { return Link{Base: Millisecond} }})
		w.Run()
		for i, d := range ds {
			if len(d.deltas) != 1 || string(d.deltas[0]) != "abcdefgh" {
				t.Fatalf("copies=%v: client %d decoded %q", copies, i, d.deltas)
			}
			delta, frame := d.deltas[0], d.frames[0]
			within := false
			for j := range frame {
				within = within || &frame[j] == &delta[0]
			}
			if within == copies {
				t.Fatalf("copies=%v: client %d's Delta is a view of the frame: %v", copies, i, within)
			}
			if cap(delta) != len(delta) {
				t.Fatalf("copies=%v: Delta has room beyond it (cap %d, len %d): an append would write into the frame", copies, cap(delta), len(delta))
			}
		}
	}
}

// The shared frames' CRC cache answers by content, whatever the order
// frames come in and however their addresses collide in its slots: many
// distinct frames, each asked for again out of order and in bursts, give
// the CRC32C of their bytes every time.
func TestSharedCRCIsTheFramesCRC(t *testing.T) {
	w := New(Config{Seed: 1, Nodes: []NodeSpec{{"srv", &echo{}}}})
	frames := make([][]byte, 4<<crcSlotBits) // more frames than slots
	for i := range frames {
		frames[i] = []byte(fmt.Sprintf("frame %d of a shared run", i))
	}
	for round := 0; round < 3; round++ {
		for i := range frames {
			j := (i * 7919) % len(frames) // out of order
			for k := 0; k < 1+j%3; k++ {  // a burst, as a fan-out asks
				if got, want := w.sharedCRC(frames[j]), wire.Checksum(frames[j]); got != want {
					t.Fatalf("round %d, frame %d: CRC %08x, want %08x", round, j, got, want)
				}
			}
		}
	}
}
