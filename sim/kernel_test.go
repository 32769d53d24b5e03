package sim

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/syncsim/syncsim/wire"
)

func TestEventQueueTotalOrder(t *testing.T) {
	// The queue must pop in (time, seq) order, each event with its own
	// payload: compare against a sort of the same events, with many equal
	// times so seq decides, negative ones (the key flips the sign bit),
	// times before the last one popped (they pop next, as from a heap),
	// and pops between pushes so slots are reused. Wide spreads of time
	// fill the radix heap's high buckets, narrow ones its low ones. The
	// kernel also pushes keys with a seq older than keys already in the
	// queue (a flow's next frame, sent earlier), so some cases scramble
	// the seqs (unique, in no order).
	narrow := func(rng *rand.Rand, round int) Time { return Time(round + rng.IntN(50) - 25) }
	rising := func(n uint64) uint64 { return n }
	scrambled := func(n uint64) uint64 { return n * 0x9e3779b97f4a7c15 } // odd: a bijection
	for _, tc := range []struct {
		name  string
		at    func(rng *rand.Rand, round int) Time
		seqOf func(n uint64) uint64
	}{
		{"narrow", narrow, rising},
		{"wide", func(rng *rand.Rand, round int) Time {
			return Time(round)<<40 + Time(rng.Int64N(1<<(1+rng.IntN(45)))) - 1<<40
		}, rising},
		{"extremes", func(rng *rand.Rand, round int) Time {
			return []Time{-1 << 63, -1, 0, 1, 1<<63 - 1, Time(round)}[rng.IntN(6)]
		}, rising},
		{"narrow, seqs out of push order", narrow, scrambled},
		{"equal times, seqs out of push order", func(_ *rand.Rand, round int) Time { return Time(round / 10) }, scrambled},
	} {
		t.Run(tc.name, func(t *testing.T) { checkQueueOrder(t, tc.at, tc.seqOf) })
	}
}

func checkQueueOrder(t *testing.T, at func(rng *rand.Rand, round int) Time, seqOf func(n uint64) uint64) {
	order := func(a, b event) int {
		if c := cmp.Compare(a.at, b.at); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	}
	// The same pushes and pops on the queue and on a sorted slice, in
	// lockstep: each pop must be the slice's first, its own payload with it.
	rng := rand.New(rand.NewPCG(1, 2))
	var q eventQueue
	var ref []event
	n, k := uint64(0), 0
	popBoth := func() {
		got, want := pop(&q), ref[0]
		ref = ref[1:]
		if got.at != want.at || got.seq != want.seq || got.tag != want.tag {
			t.Fatalf("pop %d = (%d,%d) tag %d, want (%d,%d) tag %d", k, got.at, got.seq, got.tag, want.at, want.seq, want.tag)
		}
		k++
	}
	for round := 0; round < 50; round++ {
		for i := 0; i < 100+rng.IntN(100); i++ {
			n++
			e := event{at: at(rng, round), seq: seqOf(n), tag: n}
			q.push(e)
			i, _ := slices.BinarySearchFunc(ref, e, order)
			ref = slices.Insert(ref, i, e)
		}
		for i := rng.IntN(150); i > 0 && len(ref) > 0; i-- {
			popBoth()
		}
	}
	for len(ref) > 0 {
		popBoth()
	}
	if q.len() != 0 {
		t.Fatalf("%d events left in the queue after all %d pushed were popped", q.len(), n)
	}
}

// pop takes the earliest event out of q, as World.Run does.
func pop(q *eventQueue) event {
	slot := q.popSlot()
	e := q.slab[slot]
	q.release(slot)
	return e
}

func TestStreamsIndependent(t *testing.T) {
	draw := func(r *rand.Rand) []uint64 {
		out := make([]uint64, 8)
		for i := range out {
			out[i] = r.Uint64()
		}
		return out
	}
	a := draw(Stream(7, "network"))
	_ = draw(Stream(7, "faults/drop")) // another component drawing first changes nothing
	if b := draw(Stream(7, "network")); !slices.Equal(a, b) {
		t.Fatal("a stream depends on other streams")
	}
	if c := draw(Stream(7, "workload")); slices.Equal(a, c) {
		t.Fatal("two names gave the same stream")
	}
	if d := draw(Stream(8, "network")); slices.Equal(a, d) {
		t.Fatal("two seeds gave the same stream")
	}
}

func TestSourceDrawsWhatStreamDraws(t *testing.T) {
	// The workload fills values from Source directly; its bytes must be
	// those the Stream's Uint32 gave, or every scenario's run changes.
	s, src := Stream(7, "workload"), Source(7, "workload")
	for i := 0; i < 100; i++ {
		if a, b := s.Uint32(), uint32(src.Uint64()>>32); a != b {
			t.Fatalf("draw %d: Stream gave %d, Source %d", i, a, b)
		}
	}
}

// echo is a test node: node 0 accepts, node 1 dials and sends n pings
// back to back, recording the order in which pongs come back.
type echo struct {
	dial  bool
	n     int
	conn  ConnID
	got   []uint64
	downs int
}

func (e *echo) Crash()       {}
func (e *echo) Probe(*Probe) {}
func (e *echo) Step(now Time, in *Input, fx *Effects) {
	switch in.Kind {
	case InStart:
		if e.dial {
			fx.Dial(0)
		}
	case InConnUp:
		e.conn = in.Conn
		if e.dial {
			for i := 1; i <= e.n; i++ {
				fx.Send(in.Conn, &wire.PingPong{TimestampMs: uint64(i)})
			}
		}
	case InConnDown:
		e.downs++
	case InFrame:
		m, err := fx.Codec().Decode(in.Frame)
		if err != nil {
			panic(err)
		}
		p := m.(*wire.PingPong)
		if !p.IsPong {
			fx.Send(in.Conn, &wire.PingPong{TimestampMs: p.TimestampMs, IsPong: true})
		} else {
			e.got = append(e.got, p.TimestampMs)
		}
	}
}

func TestConnectionIsFIFOUnderJitter(t *testing.T) {
	// Jitter far above the send spacing would reorder frames if the link
	// did not keep per-connection FIFO order, as TCP does.
	srv, cli := &echo{}, &echo{dial: true, n: 500}
	w := New(Config{Seed: 3, Nodes: []NodeSpec{{"srv", srv}, {"cli", cli}},
		Link: func(NodeID, NodeID) Link { return Link{Base: Millisecond, Jitter: 50 * Millisecond} }})
	r := w.Run()
	if len(cli.got) != 500 {
		t.Fatalf("got %d pongs, want 500", len(cli.got))
	}
	for i, v := range cli.got {
		if v != uint64(i+1) {
			t.Fatalf("pong %d carries %d: frames overtook each other", i, v)
		}
	}
	if r.Counters.FramesDelivered != 1000 || r.Counters.FramesSent != 1000 {
		t.Fatalf("counters %+v", r.Counters)
	}
}

// dropOdd drops every other frame and duplicates none.
type dropOdd struct{ n int }

func (d *dropOdd) Intercept(_ Time, p *Packet, out []Delivery) []Delivery {
	d.n++
	if d.n%2 == 0 {
		return out
	}
	return append(out, Delivery{Bytes: p.Bytes})
}
func (d *dropOdd) AllowDial(Time, NodeID, NodeID) bool { return true }

func TestInterceptorSeesEveryFrame(t *testing.T) {
	srv, cli := &echo{}, &echo{dial: true, n: 100}
	ic := &dropOdd{}
	r := New(Config{Seed: 1, Nodes: []NodeSpec{{"srv", srv}, {"cli", cli}}, Interceptor: ic}).Run()
	if uint64(ic.n) != r.Counters.FramesSent {
		t.Fatalf("interceptor saw %d frames, %d were sent", ic.n, r.Counters.FramesSent)
	}
	if r.Counters.FramesDropped+r.Counters.FramesDelivered != r.Counters.FramesSent {
		t.Fatalf("dropped + delivered != sent: %+v", r.Counters)
	}
	if r.Counters.FramesDropped == 0 {
		t.Fatal("nothing dropped")
	}
}

func TestResetBeforeDiallerSeesConnIsADialFailure(t *testing.T) {
	// A reset between dial and the dialler's conn-up must reach the
	// dialler as a failed dial (Conn 0), never as a conn id it never saw.
	srv, cli := &echo{}, &echo{dial: true}
	w := New(Config{Seed: 1, Nodes: []NodeSpec{{"srv", srv}, {"cli", cli}},
		Link: func(NodeID, NodeID) Link { return Link{Base: 10 * Millisecond} }})
	var downConn ConnID = 99
	w.At(15*Millisecond, func(w *World) { // after the acceptor's conn-up, before the dialler's
		w.ResetConn(w.Conns(1)[0])
	})
	cliStep := &recorder{inner: cli, onDown: func(c ConnID) { downConn = c }}
	w.nodes[1].spec.Node = cliStep
	w.Run()
	if cli.conn != 0 || downConn != 0 || srv.downs != 1 {
		t.Fatalf("dialler conn=%d down conn=%d, acceptor downs=%d", cli.conn, downConn, srv.downs)
	}
}

type recorder struct {
	inner  Node
	onDown func(ConnID)
}

func (r *recorder) Crash()       { r.inner.Crash() }
func (r *recorder) Probe(*Probe) {}
func (r *recorder) Step(now Time, in *Input, fx *Effects) {
	if in.Kind == InConnDown {
		r.onDown(in.Conn)
	}
	r.inner.Step(now, in, fx)
}

// ticker sets a timer every 10 ms and counts firings.
type ticker struct{ fired, crashed int }

func (k *ticker) Crash()       { k.crashed++ }
func (k *ticker) Probe(*Probe) {}
func (k *ticker) Step(now Time, in *Input, fx *Effects) {
	switch in.Kind {
	case InStart, InRestart:
		fx.SetTimer(10*Millisecond, 0)
	case InTimer:
		k.fired++
		fx.SetTimer(10*Millisecond, 0)
	}
}

func TestCrashKillsTimersAndRestartResumes(t *testing.T) {
	k := &ticker{}
	w := New(Config{Seed: 1, Nodes: []NodeSpec{{"k", k}}, Deadline: Second})
	w.At(205*Millisecond, func(w *World) { w.Crash(0) })
	w.At(505*Millisecond, func(w *World) { w.Restart(0) })
	w.Run()
	// 20 firings before the crash, none while down, 49 after restart
	// (515 ms .. 995 ms), each derived from the 10 ms period.
	if k.crashed != 1 || k.fired != 20+49 {
		t.Fatalf("crashed %d, fired %d, want 1 and 69", k.crashed, k.fired)
	}
}

func TestSeriesStayBounded(t *testing.T) {
	w := New(Config{Seed: 1, Nodes: []NodeSpec{{"k", &ticker{}}}})
	for i := 0; i < 10*MaxPoints+3; i++ {
		w.now = Time(i) * w.cfg.SampleEvery
		w.Record("x", 0, float64(i))
	}
	s := w.series.list[0]
	if len(s.Points) > MaxPoints || len(s.Points) < MaxPoints/2 {
		t.Fatalf("%d points", len(s.Points))
	}
	// Points stay evenly spaced at the series' current interval.
	for i := 1; i < len(s.Points); i++ {
		if d := s.Points[i].T - s.Points[i-1].T; d != s.Every {
			t.Fatalf("gap %v at %d, every %v", d, i, s.Every)
		}
	}
}

// peekNode decodes each frame it gets; with other set, it first decodes
// that frame instead (a node that decodes something besides its input).
type peekNode struct {
	other []byte
	got   []uint64 // mutation ids (a decoded message is valid only until the next decode)
	delta [][]byte
	errs  []error
}

func (p *peekNode) Crash()       {}
func (p *peekNode) Probe(*Probe) {}
func (p *peekNode) Step(_ Time, in *Input, fx *Effects) {
	if in.Kind != InFrame {
		return
	}
	if p.other != nil {
		m, _ := fx.Decode(p.other)
		p.got = append(p.got, m.(*wire.DeltaPush).MutationID)
		p.delta = append(p.delta, m.(*wire.DeltaPush).Delta)
	}
	m, err := fx.Decode(in.Frame)
	p.errs = append(p.errs, err)
	if err == nil {
		p.got = append(p.got, m.(*wire.DeltaPush).MutationID)
		p.delta = append(p.delta, m.(*wire.DeltaPush).Delta)
	}
}

// pusher dials node 0 and sends the frames it holds, raw.
type pusher struct{ frames [][]byte }

func (p *pusher) Crash()       {}
func (p *pusher) Probe(*Probe) {}
func (p *pusher) Step(_ Time, in *Input, fx *Effects) {
	switch in.Kind {
	case InStart:
		fx.Dial(0)
	case InConnUp:
		for _, f := range p.frames {
			fx.SendRaw(in.Conn, f)
		}
	}
}

// peeker is a Monitor that peeks at every frame stepped at node 0.
type peeker struct {
	w     *World
	delta [][]byte
	ids   []uint64
	errs  []error
}

func (k *peeker) Step(_ Time, node NodeID, in *Input, _ bool) {
	if node != 0 || in.Kind != InFrame {
		return
	}
	m, err := k.w.Peek(node, in.Frame)
	k.errs = append(k.errs, err)
	if err == nil {
		k.delta = append(k.delta, m.(*wire.DeltaPush).Delta)
		k.ids = append(k.ids, m.(*wire.DeltaPush).MutationID)
	}
}
func (k *peeker) Event(Time, NodeID, Event) {}
func (k *peeker) Sent(Time, *Packet)        {}
func (k *peeker) AfterStep(Time, NodeID)    {}

func TestPeekSharesTheNodesDecode(t *testing.T) {
	push := func(id uint64) []byte {
		m := &wire.DeltaPush{Collection: "c0", DocumentID: "d1", Delta: wire.Bytes{byte(id), 1, 2}, PeerID: 1, MutationID: id}
		m.Seal()
		f, err := wire.Default.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	bad := push(9)
	bad = bad[:len(bad)-1] // truncated: both must see the decode error
	frames := [][]byte{push(1), push(2), bad, push(3)}

	for _, tc := range []struct {
		name       string
		other      []byte
		wantShared int
	}{
		{"node decodes its input", nil, 3},
		{"node decodes another frame first", push(77), 0}, // the peek is dropped, not mixed up
	} {
		t.Run(tc.name, func(t *testing.T) {
			node, mon := &peekNode{other: tc.other}, &peeker{}
			w := New(Config{Seed: 1, Nodes: []NodeSpec{{"origin", node}, {"lite", &pusher{frames: frames}}}, Monitor: mon})
			mon.w = w
			w.Run()
			if len(mon.errs) != len(frames) || len(node.errs) != len(frames) {
				t.Fatalf("%d frames: monitor decoded %d, node %d", len(frames), len(mon.errs), len(node.errs))
			}
			for i := range frames {
				if (mon.errs[i] != nil) != (i == 2) || (node.errs[i] != nil) != (i == 2) {
					t.Fatalf("frame %d: monitor error %v, node error %v", i, mon.errs[i], node.errs[i])
				}
			}
			var got []uint64
			for _, id := range node.got {
				if id != 77 {
					got = append(got, id)
				}
			}
			if !slices.Equal(got, []uint64{1, 2, 3}) {
				t.Fatalf("node decoded mutations %v, want [1 2 3]", got)
			}
			// Shared means the node got the monitor's decode itself: the
			// same delta bytes, not a second copy of the frame's.
			shared := 0
			for _, d := range node.delta {
				for _, e := range mon.delta {
					if &d[0] == &e[0] {
						shared++
					}
				}
			}
			if shared != tc.wantShared {
				t.Fatalf("%d of the node's decodes were the monitor's, want %d", shared, tc.wantShared)
			}
		})
	}
}

func TestTraceHashSeesEveryField(t *testing.T) {
	base := rec{t: 5 * Millisecond, a: 3, b: 4, c: 5, s: "c0", doc: "d17", node: 1, peer: 2, conn: 3,
		crc: 0xdeadbeef, len: 60, kind: trInput, in: InWrite, ev: evwApply, typ: wire.TypeShapeDelta}
	hash := func(rs ...rec) uint64 {
		var tr tracer
		tr.init(nil)
		for i := range rs {
			tr.commit(&rs[i])
		}
		return tr.hash
	}
	// Each field is changed in its lowest bit, its highest and all of
	// them, so a fold that kept only part of a field fails here.
	for _, tc := range []struct {
		field string
		set   func(r *rec, bit uint64)
	}{
		{"t", func(r *rec, x uint64) { r.t ^= Time(x) }},
		{"a", func(r *rec, x uint64) { r.a ^= x }},
		{"b", func(r *rec, x uint64) { r.b ^= x }},
		{"c", func(r *rec, x uint64) { r.c ^= x }},
		{"node", func(r *rec, x uint64) { r.node ^= int32(x) }},
		{"peer", func(r *rec, x uint64) { r.peer ^= int32(x) }},
		{"conn", func(r *rec, x uint64) { r.conn ^= uint32(x) }},
		{"crc", func(r *rec, x uint64) { r.crc ^= uint32(x) }},
		{"len", func(r *rec, x uint64) { r.len ^= int32(x) }},
		{"kind", func(r *rec, x uint64) { r.kind ^= trKind(x) }},
		{"input", func(r *rec, x uint64) { r.in ^= InputKind(x) }},
		{"event kind", func(r *rec, x uint64) { r.ev ^= uint8(x) }},
		{"type", func(r *rec, x uint64) { r.typ ^= wire.MsgType(x) }},
	} {
		for _, x := range []uint64{1, 1 << 7, 1 << 15, 1 << 31, 1 << 63, ^uint64(0)} {
			r := base
			tc.set(&r, x)
			if r == base {
				continue // x is wider than the field
			}
			if hash(r) == hash(base) {
				t.Errorf("flipping bits %#x of %s left the trace hash unchanged", x, tc.field)
			}
		}
	}
	// Strings: each byte, each length, and where s ends and doc begins,
	// also when only one of them is set.
	words := base
	words.c = 0
	for _, pair := range [][2][2]string{
		{{"c0", "d17"}, {"c1", "d17"}},
		{{"c0", "d17"}, {"c0", "d18"}},
		{{"c0", "d17"}, {"c0d", "17"}},
		{{"c0\x00", ""}, {"c0", "\x00"}},
		{{"c0", ""}, {"c0\x00", ""}},
		{{"", "x"}, {"", ""}},
		{{"", "x"}, {"x", ""}},
		{{"collection-with-a-long-name", ""}, {"collection-with-a-long-namE", ""}},
		{{"abcdefgh", ""}, {"abcdefgh\x00", ""}},
	} {
		a, b := words, words
		a.s, a.doc = pair[0][0], pair[0][1]
		b.s, b.doc = pair[1][0], pair[1][1]
		if hash(a) == hash(b) {
			t.Errorf("(s, doc) %q and %q gave the same trace hash", pair[0], pair[1])
		}
	}
	// The hash is of the sequence: order and history count.
	other := base
	other.t, other.s, other.doc = 9*Millisecond, "", ""
	if hash(base, other) == hash(other, base) {
		t.Error("swapping two events left the trace hash unchanged")
	}
	if hash(base, base) == hash(base) {
		t.Error("a repeated event left the trace hash unchanged")
	}
}

// lazyNode answers every frame with a pong but decodes only every other
// one: a node may ignore a frame a monitor peeked at.
type lazyNode struct {
	n   int
	got []uint64
}

func (l *lazyNode) Crash()       {}
func (l *lazyNode) Probe(*Probe) {}
func (l *lazyNode) Step(_ Time, in *Input, fx *Effects) {
	if in.Kind != InFrame {
		return
	}
	l.n++
	if l.n%2 == 0 {
		m, err := fx.Decode(in.Frame)
		if err != nil {
			panic(err)
		}
		l.got = append(l.got, m.(*wire.DeltaPush).MutationID)
	}
	fx.Send(in.Conn, &wire.PingPong{IsPong: true})
}

// stepper sends push 1, then push k+1 on each pong: each push is sent
// after the last one's buffer went back to the kernel's pool.
type stepper struct {
	push func(id uint64) []byte
	sent uint64
}

func (s *stepper) Crash()       {}
func (s *stepper) Probe(*Probe) {}
func (s *stepper) Step(_ Time, in *Input, fx *Effects) {
	if (in.Kind == InConnUp || in.Kind == InFrame) && s.sent < 6 {
		s.sent++
		fx.SendRaw(in.Conn, s.push(s.sent))
	}
	if in.Kind == InStart {
		fx.Dial(0)
	}
}

func TestPeekDoesNotOutliveTheStep(t *testing.T) {
	// Frame buffers are recycled after each step, so the next push can
	// arrive in the very buffer, of the same length, as one the node
	// never decoded. The peek must have been dropped by then.
	push := func(id uint64) []byte {
		m := &wire.DeltaPush{Collection: "c0", DocumentID: "d1", Delta: wire.Bytes{1, 2, 3}, PeerID: 1, MutationID: id}
		m.Seal()
		f, _ := wire.Default.Encode(m)
		return f
	}
	node, mon := &lazyNode{}, &peeker{}
	w := New(Config{Seed: 1, Nodes: []NodeSpec{{"origin", node}, {"lite", &stepper{push: push}}}, Monitor: mon})
	mon.w = w
	w.Run()
	if peeked := mon.ids; !slices.Equal(peeked, []uint64{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("the monitor peeked mutations %v, want 1..6", peeked)
	}
	if !slices.Equal(node.got, []uint64{2, 4, 6}) {
		t.Fatalf("the node decoded mutations %v, want [2 4 6]", node.got)
	}
}
