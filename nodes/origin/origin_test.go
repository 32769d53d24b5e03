package origin

import (
	"hash/crc32"
	"reflect"
	"slices"
	"strconv"
	"testing"

	"github.com/syncsim/syncsim/nodes/model"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/sim/simtest"
	"github.com/syncsim/syncsim/wire"
)

// ---------------------------------------------------------------------------
// Origin helpers. Origin is node 0 and started at time 0 (ticks every 20 ms
// from there); the stand-in Lite is node 1 and dials it. Tests act at times
// ending in 5 ms, between ticks.

const ms = sim.Millisecond

func newOrigin(t *testing.T, cfg Config) (*Origin, *simtest.Rig) {
	t.Helper()
	if cfg.Collections == nil {
		cfg.Collections = []string{"c0"}
	}
	o := New(cfg)
	r := simtest.New(t, o, 0)
	r.Input(sim.Input{Kind: sim.InStart})
	return o, r
}

// open has the peer dial Origin and returns the connection (now = +5 ms).
func open(t *testing.T, r *simtest.Rig) sim.ConnID {
	t.Helper()
	n := len(r.Ups)
	r.PeerDo(func(fx *sim.Effects) { fx.Dial(0) })
	r.Advance(5 * ms)
	if len(r.Ups) != n+1 {
		t.Fatal("Origin saw no connection")
	}
	return r.Ups[n].Conn
}

func hello(r *simtest.Rig, conn sim.ConnID, liteID uint64, known map[string]uint64) {
	vc := map[string]map[string]uint64{}
	for c, lsn := range known {
		vc[c] = map[string]uint64{"lsn": lsn}
	}
	var shapes []string
	for _, c := range slices.Sorted(func(yield func(string) bool) {
		for c := range known {
			if !yield(c) {
				return
			}
		}
	}) {
		shapes = append(shapes, "shape:"+c)
	}
	r.Deliver(conn, &wire.Handshake{JWTToken: "t", VectorClock: vc, SubscribedShapes: shapes, ClientVersion: "test",
		LiteID: strconv.FormatUint(liteID, 10), Epoch: 1, WireVersion: 1})
}

func subscribe(r *simtest.Rig, conn sim.ConnID, coll string) {
	r.Deliver(conn, &wire.ShapeSubscribe{Shape: wire.ShapeDefinition{ShapeID: "shape:" + coll, TenantID: 1,
		ShapeType: wire.ShapeType{Collection: coll}}})
}

// joined opens, handshakes as liteID and subscribes to coll from known.
func joined(t *testing.T, r *simtest.Rig, liteID uint64, coll string, known uint64) sim.ConnID {
	t.Helper()
	conn := open(t, r)
	hello(r, conn, liteID, map[string]uint64{coll: known})
	subscribe(r, conn, coll)
	return conn
}

func commit(r *simtest.Rig, coll, doc, value string) {
	var v []byte
	if value != "" {
		v = []byte(value)
	}
	r.Input(sim.Input{Kind: sim.InWrite, Write: sim.Write{Collection: coll, DocID: doc, Value: v}})
}

func crc32c(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

// pushMsg builds a DeltaPush of value (an upsert: op byte 1, then the
// value) with a correct CRC32C.
func pushMsg(peer, mid uint64, coll, doc, value string) *wire.DeltaPush {
	d := append([]byte{1}, value...)
	return &wire.DeltaPush{Collection: coll, DocumentID: doc, Delta: d, PeerID: peer, MutationID: mid, Checksum: crc32c(d)}
}

func lsnsOf(ds []*wire.ShapeDelta) []uint64 {
	var out []uint64
	for _, d := range ds {
		out = append(out, d.LSN)
	}
	return out
}

func seq(from, to uint64) []uint64 {
	var out []uint64
	for i := from; i <= to; i++ {
		out = append(out, i)
	}
	return out
}

func docs(c *model.Collection, ids ...string) map[string]string {
	out := map[string]string{}
	for _, id := range ids {
		if v, ok := c.Get(id); ok {
			out[id] = string(v)
		}
	}
	return out
}

// probe is Origin's answer to the harness's probe.
func probe(o *Origin) sim.Probe {
	var p sim.Probe
	o.Probe(&p)
	return p
}

// anyThrottled reports whether Origin paces any session.
func anyThrottled(o *Origin) bool {
	for _, s := range probe(o).Sessions {
		if s.Throttled {
			return true
		}
	}
	return false
}

// throttleRate is the pacing of Origin's session with node n: whether it
// is throttled, and at what rate.
func throttleRate(o *Origin, n sim.NodeID) (bool, float64) {
	for _, s := range probe(o).Sessions {
		if s.Peer == n && s.Throttled {
			return true, s.Rate
		}
	}
	return false, 0
}

func gap(expected, received uint64) wire.ResyncReason {
	return wire.ResyncReason{Kind: wire.SequenceGap, Expected: expected, Received: received}
}

// ---------------------------------------------------------------------------
// Handshake and subscribe.

func TestHandshakeAck(t *testing.T) {
	_, r := newOrigin(t, Config{Collections: []string{"c0", "c1"}})
	commit(r, "c0", "a", "1")
	commit(r, "c0", "b", "2")
	commit(r, "c1", "a", "3")
	conn := open(t, r)
	m := r.Mark()
	hello(r, conn, 7, map[string]uint64{"c0": 0})
	acks := simtest.FramesOf[*wire.HandshakeAck](r, m)
	if len(acks) != 1 || len(r.Sent) != m+1 {
		t.Fatalf("sent %d frames, want one HandshakeAck", len(r.Sent)-m)
	}
	a := acks[0]
	if !a.Success || a.SessionID == "" || a.Error != nil || a.ForkDetected || a.ServerWireVersion != 1 {
		t.Fatalf("ack %+v, want success with a session id, wire version 1", a)
	}
	if want := map[string]uint64{"c0": 2, "c1": 1}; !reflect.DeepEqual(a.ServerClock, want) {
		t.Fatalf("server clock %v, want %v (head LSN per collection)", a.ServerClock, want)
	}
}

// A subscribe resumes from the handshake's LSN + 1 while the retained log
// reaches back there, and falls back to a snapshot otherwise.
func TestSubscribeResumeOrSnapshot(t *testing.T) {
	// RetainLog 4 and 10 commits: the log holds LSNs 7..10.
	tests := []struct {
		known    uint64
		deltas   []uint64 // ShapeDelta LSNs sent at once
		snapshot bool
		fallback *sim.SnapshotFallback // From = first LSN wanted, Oldest = oldest kept
	}{
		{known: 0, snapshot: true},
		{known: 2, snapshot: true, fallback: &sim.SnapshotFallback{Collection: "c0", From: 3, Oldest: 7}},
		{known: 5, snapshot: true, fallback: &sim.SnapshotFallback{Collection: "c0", From: 6, Oldest: 7}},
		{known: 6, deltas: seq(7, 10)},
		{known: 8, deltas: seq(9, 10)},
		{known: 10},
		{known: 12, snapshot: true}, // the Lite claims more than Origin has
	}
	for _, tc := range tests {
		t.Run("known="+strconv.FormatUint(tc.known, 10), func(t *testing.T) {
			o, r := newOrigin(t, Config{RetainLog: 4})
			want := model.NewCollection("c0")
			for i := 1; i <= 10; i++ {
				id, v := "d"+strconv.Itoa(i%6), "v"+strconv.Itoa(i) // d0..d5, some overwritten
				commit(r, "c0", id, v)
				want.Put(id, []byte(v))
			}
			conn := open(t, r)
			hello(r, conn, 7, map[string]uint64{"c0": tc.known})
			m := r.Mark()
			subscribe(r, conn, "c0")
			snaps := simtest.FramesOf[*wire.ShapeSnapshot](r, m)
			if tc.snapshot {
				if len(snaps) != 1 {
					t.Fatalf("%d snapshots, want 1", len(simtest.Vals(snaps)))
				}
				s := snaps[0]
				if s.ShapeID != "shape:c0" || s.SnapshotLSN != 10 || s.DocCount != 6 {
					t.Fatalf("snapshot %s at %d with %d docs, want shape:c0 at 10 with 6", s.ShapeID, s.SnapshotLSN, s.DocCount)
				}
				got, err := model.LoadSnapshot("c0", s.Data, s.DocCount)
				if err != nil || got.Digest() != want.Digest() {
					t.Fatalf("snapshot data does not hold Origin's state: %v", err)
				}
			} else if len(snaps) != 0 {
				t.Fatalf("snapshot sent; want a resume from %d", tc.known+1)
			}
			if got := lsnsOf(simtest.FramesOf[*wire.ShapeDelta](r, m)); !slices.Equal(got, tc.deltas) {
				t.Fatalf("deltas %v, want %v", got, tc.deltas)
			}
			fb := simtest.Vals(simtest.EventsOf[*sim.SnapshotFallback](r))
			if (tc.fallback == nil) != (len(fb) == 0) || (tc.fallback != nil && (len(fb) != 1 || fb[0] != *tc.fallback)) {
				t.Fatalf("fallback events %+v, want %+v", fb, tc.fallback)
			}
			// From here on, every commit streams.
			m = r.Mark()
			commit(r, "c0", "new", "x")
			ds := simtest.FramesOf[*wire.ShapeDelta](r, m)
			if len(ds) != 1 || !reflect.DeepEqual(*ds[0], wire.ShapeDelta{ShapeID: "shape:c0", Collection: "c0", DocumentID: "new",
				Operation: wire.OpUpdate, Delta: []byte("x"), LSN: 11}) {
				t.Fatalf("after a commit sent %+v, want delta 11", simtest.Vals(ds))
			}
			// A repeated subscribe does not restart the stream.
			m = r.Mark()
			subscribe(r, conn, "c0")
			if len(r.Sent) != m {
				t.Fatalf("a repeated subscribe sent %d frames", len(r.Sent)-m)
			}
			_ = o
		})
	}
}

func TestSubscribeNeedsHandshakeAndKnownCollection(t *testing.T) {
	_, r := newOrigin(t, Config{})
	commit(r, "c0", "a", "1")
	conn := open(t, r)
	m := r.Mark()
	subscribe(r, conn, "c0") // before the handshake
	hello(r, conn, 7, nil)
	subscribe(r, conn, "nope")
	if n := len(r.Sent) - m; n != 1 {
		t.Fatalf("sent %d frames, want only the HandshakeAck", n)
	}
	subscribe(r, conn, "c0")
	if n := len(simtest.FramesOf[*wire.ShapeSnapshot](r, m)); n != 1 {
		t.Fatalf("%d snapshots after a valid subscribe, want 1", n)
	}
}

// ---------------------------------------------------------------------------
// Pushes.

func TestPushAppliesInOrderAndAcks(t *testing.T) {
	o, r := newOrigin(t, Config{Collections: []string{"c0", "c1"}})
	commit(r, "c0", "origin", "o") // c0 LSN 1
	conn := joined(t, r, 7, "c0", 1)
	m := r.Mark()
	r.Deliver(conn, pushMsg(7, 1, "c0", "a", "x"))
	r.Deliver(conn, pushMsg(7, 2, "c0", "a", "y"))
	r.Deliver(conn, pushMsg(7, 3, "c1", "b", "z")) // c1's own LSNs start at 1
	del := &wire.DeltaPush{Collection: "c0", DocumentID: "origin", Delta: []byte{2}, PeerID: 7, MutationID: 4, Checksum: crc32c([]byte{2})}
	r.Deliver(conn, del)
	var acks []wire.DeltaAck
	for _, a := range simtest.FramesOf[*wire.DeltaAck](r, m) {
		acks = append(acks, *a)
	}
	want := []wire.DeltaAck{{MutationID: 1, LSN: 2}, {MutationID: 2, LSN: 3}, {MutationID: 3, LSN: 1}, {MutationID: 4, LSN: 4}}
	if !reflect.DeepEqual(acks, want) {
		t.Fatalf("acks %+v, want %+v", acks, want)
	}
	commits := simtest.Vals(simtest.EventsOf[*sim.Committed](r)[1:]) // [0] is the local commit
	wantC := []sim.Committed{
		{Collection: "c0", LSN: 2, Peer: 7, Mutation: 1}, {Collection: "c0", LSN: 3, Peer: 7, Mutation: 2},
		{Collection: "c1", LSN: 1, Peer: 7, Mutation: 3}, {Collection: "c0", LSN: 4, Peer: 7, Mutation: 4},
	}
	if !reflect.DeepEqual(commits, wantC) {
		t.Fatalf("commits %+v, want %+v", commits, wantC)
	}
	if got := docs(o.Collection("c0"), "a", "origin"); !reflect.DeepEqual(got, map[string]string{"a": "y"}) {
		t.Fatalf("c0 = %v, want a=y and origin deleted", got)
	}
	if got := docs(o.Collection("c1"), "b"); got["b"] != "z" {
		t.Fatalf("c1 = %v", got)
	}
	if o.Head("c0") != 4 || o.Head("c1") != 1 || o.Applied(7) != 4 {
		t.Fatalf("heads %d %d applied %d, want 4 1 4", o.Head("c0"), o.Head("c1"), o.Applied(7))
	}
	// The subscribed session (the pusher's own) receives c0's changes,
	// the delete as a DELETE with no payload; nothing of c1.
	ds := simtest.FramesOf[*wire.ShapeDelta](r, m)
	if got := lsnsOf(ds); !slices.Equal(got, []uint64{2, 3, 4}) {
		t.Fatalf("deltas %v, want c0's 2 3 4", got)
	}
	if ds[2].Operation != wire.OpDelete || len(ds[2].Delta) != 0 || ds[2].DocumentID != "origin" {
		t.Fatalf("delete streamed as %+v", ds[2])
	}
}

// Every push gets an answer: a burst of 300 in one instant is applied and
// acked in full, none dropped silently (NodeDB's 100/s limit does that).
func TestPushBurstAllAnswered(t *testing.T) {
	o, r := newOrigin(t, Config{})
	conn := joined(t, r, 7, "c0", 0)
	m := r.Mark()
	for mid := uint64(1); mid <= 300; mid++ {
		r.Deliver(conn, pushMsg(7, mid, "c0", "d"+strconv.FormatUint(mid%7, 10), "v"))
	}
	acks := simtest.FramesOf[*wire.DeltaAck](r, m)
	if len(acks) != 300 || o.Head("c0") != 300 || o.Applied(7) != 300 {
		t.Fatalf("%d acks, head %d, applied %d; want 300 of each", len(acks), o.Head("c0"), o.Applied(7))
	}
	for i, a := range acks {
		if a.MutationID != uint64(i+1) || a.LSN != uint64(i+1) {
			t.Fatalf("ack %d = %+v, want mutation and LSN %d", i, *a, i+1)
		}
	}
}

// A mutation at or below the applied mark is acked again, never applied
// twice.
func TestDuplicatePushAckedNotApplied(t *testing.T) {
	o, r := newOrigin(t, Config{})
	conn := joined(t, r, 7, "c0", 0)
	r.Deliver(conn, pushMsg(7, 1, "c0", "a", "x"))
	r.Deliver(conn, pushMsg(7, 2, "c0", "a", "y"))
	m, commits := r.Mark(), len(simtest.EventsOf[*sim.Committed](r))
	r.Deliver(conn, pushMsg(7, 1, "c0", "a", "x"))
	r.Deliver(conn, pushMsg(7, 2, "c0", "a", "y"))
	acks := simtest.FramesOf[*wire.DeltaAck](r, m)
	if len(acks) != 2 || acks[0].MutationID != 1 || acks[1].MutationID != 2 {
		t.Fatalf("acks %+v, want 1 and 2 again", simtest.Vals(acks))
	}
	if n := len(simtest.EventsOf[*sim.Committed](r)); n != commits || o.Head("c0") != 2 {
		t.Fatalf("duplicates committed (commits %d -> %d, head %d)", commits, n, o.Head("c0"))
	}
	if got := docs(o.Collection("c0"), "a")["a"]; got != "y" {
		t.Fatalf("a = %q, want y (mutation 1 re-applied over 2?)", got)
	}
	dd := simtest.Vals(simtest.EventsOf[*sim.Deduped](r))
	if want := []sim.Deduped{{Peer: 7, Mutation: 1}, {Peer: 7, Mutation: 2}}; !slices.Equal(dd, want) {
		t.Fatalf("dedup events %+v, want peer 7 mutations 1 and 2", dd)
	}
	if n := len(simtest.FramesOf[*wire.ShapeDelta](r, m)); n != 0 {
		t.Fatalf("%d deltas streamed for duplicates", n)
	}
}

// A push above applied+1 is not applied; Origin asks the Lite for the
// missing ones (SequenceGap from applied+1), at most once per gap per 500 ms.
func TestOutOfOrderPushAsksGap(t *testing.T) {
	o, r := newOrigin(t, Config{})
	conn := joined(t, r, 7, "c0", 0)
	r.Deliver(conn, pushMsg(7, 1, "c0", "a", "1"))
	m := r.Mark()
	r.Deliver(conn, pushMsg(7, 3, "c0", "c", "3"))
	r.Deliver(conn, pushMsg(7, 4, "c0", "d", "4"))
	q := simtest.FramesOf[*wire.ResyncRequest](r, m)
	want := wire.ResyncRequest{Reason: gap(2, 3), FromMutationID: 2}
	if len(q) != 1 || !reflect.DeepEqual(*q[0], want) {
		t.Fatalf("requests %+v, want one %+v", simtest.Vals(q), want)
	}
	if rs := simtest.EventsOf[*sim.ResendAsked](r); len(rs) != 1 || rs[0].From != 2 || rs[0].Reason != "SequenceGap" {
		t.Fatalf("resend-asked %+v, want one from 2 for SequenceGap", simtest.Vals(rs))
	}
	if n := len(simtest.FramesOf[*wire.DeltaAck](r, m)) + len(simtest.FramesOf[*wire.DeltaReject](r, m)); n != 0 || o.Head("c0") != 1 || o.Applied(7) != 1 {
		t.Fatalf("out-of-order pushes answered %d times, head %d, applied %d; want no answer, 1, 1", n, o.Head("c0"), o.Applied(7))
	}
	r.Advance(500 * ms)
	m = r.Mark()
	r.Deliver(conn, pushMsg(7, 4, "c0", "d", "4"))
	q = simtest.FramesOf[*wire.ResyncRequest](r, m)
	if want := (wire.ResyncRequest{Reason: gap(2, 4), FromMutationID: 2}); len(q) != 1 || !reflect.DeepEqual(*q[0], want) {
		t.Fatalf("after 500 ms: requests %+v, want %+v", simtest.Vals(q), want)
	}
	// The Lite re-sends from 2: each applies in order, 3 and 4 included
	// (they were not marked seen when refused).
	m = r.Mark()
	for mid := uint64(2); mid <= 4; mid++ {
		r.Deliver(conn, pushMsg(7, mid, "c0", "x"+strconv.FormatUint(mid, 10), "v"))
	}
	var acks []wire.DeltaAck
	for _, a := range simtest.FramesOf[*wire.DeltaAck](r, m) {
		acks = append(acks, *a)
	}
	if want := []wire.DeltaAck{{MutationID: 2, LSN: 2}, {MutationID: 3, LSN: 3}, {MutationID: 4, LSN: 4}}; !reflect.DeepEqual(acks, want) {
		t.Fatalf("acks %+v, want %+v", acks, want)
	}
}

// Lites number mutations from 1: a push numbered 0 has a corrupted id. It
// is neither acked (a dedup ack would promise a mutation never written)
// nor applied; Origin asks for what it has not applied yet.
func TestPushOfMutationZeroAsksGap(t *testing.T) {
	for _, applied := range []uint64{0, 1} {
		o, r := newOrigin(t, Config{})
		conn := joined(t, r, 7, "c0", 0)
		for mid := uint64(1); mid <= applied; mid++ {
			r.Deliver(conn, pushMsg(7, mid, "c0", "a", "x"))
		}
		m := r.Mark()
		r.Deliver(conn, pushMsg(7, 0, "c0", "b", "y"))
		if n := len(simtest.FramesOf[*wire.DeltaAck](r, m)) + len(simtest.FramesOf[*wire.DeltaReject](r, m)); n != 0 {
			t.Fatalf("applied %d: push 0 answered with %d acks or rejections, want none", applied, n)
		}
		q := simtest.FramesOf[*wire.ResyncRequest](r, m)
		if want := (wire.ResyncRequest{Reason: gap(applied+1, 0), FromMutationID: applied + 1}); len(q) != 1 || !reflect.DeepEqual(*q[0], want) {
			t.Fatalf("applied %d: requests %+v, want one %+v", applied, simtest.Vals(q), want)
		}
		if o.Head("c0") != applied || o.Applied(7) != applied {
			t.Fatalf("applied %d: head %d, applied %d after push 0", applied, o.Head("c0"), o.Applied(7))
		}
	}
}

func TestPushChecksum(t *testing.T) {
	tests := []struct {
		name    string
		sum     func(d []byte) uint32
		applied bool
	}{
		{"correct CRC32C", crc32c, true},
		{"legacy zero", func([]byte) uint32 { return 0 }, true},
		{"wrong", func(d []byte) uint32 { return crc32c(d) ^ 1 }, false},
		{"CRC32 IEEE is not CRC32C", crc32.ChecksumIEEE, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, r := newOrigin(t, Config{})
			conn := joined(t, r, 7, "c0", 0)
			m := r.Mark()
			p := pushMsg(7, 1, "c0", "a", "x")
			p.Checksum = tc.sum(p.Delta)
			r.Deliver(conn, p)
			if tc.applied {
				if o.Head("c0") != 1 || len(simtest.FramesOf[*wire.DeltaAck](r, m)) != 1 {
					t.Fatal("not applied and acked")
				}
				return
			}
			if o.Head("c0") != 0 || o.Applied(7) != 0 || len(simtest.FramesOf[*wire.DeltaAck](r, m)) != 0 {
				t.Fatalf("a bad checksum was applied or acked (head %d)", o.Head("c0"))
			}
			want := wire.ResyncRequest{Reason: wire.ResyncReason{Kind: wire.ChecksumMismatch, MutationID: 1}, FromMutationID: 1, Collection: "c0"}
			if q := simtest.FramesOf[*wire.ResyncRequest](r, m); len(q) != 1 || !reflect.DeepEqual(*q[0], want) {
				t.Fatalf("requests %+v, want %+v", simtest.Vals(q), want)
			}
			if cb := simtest.EventsOf[*sim.ChecksumFailed](r); len(cb) != 1 || cb[0].Mutation != 1 {
				t.Fatalf("checksum-failed events %+v, want one for mutation 1", simtest.Vals(cb))
			}
			// The good copy then applies.
			r.Deliver(conn, pushMsg(7, 1, "c0", "a", "x"))
			if o.Head("c0") != 1 {
				t.Fatal("the re-sent good copy was not applied")
			}
		})
	}
}

func TestPushRejections(t *testing.T) {
	o, r := newOrigin(t, Config{})
	conn := open(t, r)
	m := r.Mark()
	hello(r, conn, 7, nil) // (a push before it: TestPushBeforeHandshakeClosesSession)
	empty := &wire.DeltaPush{Collection: "c0", DocumentID: "a", PeerID: 7, MutationID: 1}
	r.Deliver(conn, empty)
	r.Deliver(conn, pushMsg(7, 1, "nope", "a", "x")) // unknown collection: final
	bad := &wire.DeltaPush{Collection: "c0", DocumentID: "a", Delta: []byte{9, 9}, PeerID: 7, MutationID: 2, Checksum: crc32c([]byte{9, 9})}
	r.Deliver(conn, bad)
	r.Deliver(conn, pushMsg(7, 3, "c0", "a", "ok"))
	r.Deliver(conn, pushMsg(7, 1, "nope", "a", "x")) // re-sent: rejected again, not acked
	var got []uint64
	for _, rj := range simtest.FramesOf[*wire.DeltaReject](r, m) {
		got = append(got, rj.MutationID)
		if rj.Reason == "" {
			t.Errorf("reject of %d has no reason", rj.MutationID)
		}
	}
	if want := []uint64{1, 1, 2, 1}; !slices.Equal(got, want) {
		t.Fatalf("rejects %v, want %v", got, want)
	}
	acks := simtest.FramesOf[*wire.DeltaAck](r, m)
	if len(acks) != 1 || acks[0].MutationID != 3 || o.Head("c0") != 1 {
		t.Fatalf("acks %+v head %d, want only mutation 3 applied (rejections are final)", acks, o.Head("c0"))
	}
}

// The checksum does not cover the collection, so a push naming an unknown
// one may be a copy corrupted in transit: Origin asks for the mutation
// again, ignores copies that come too soon to be answers (a duplicate of
// the corrupted frame), and rejects only a name that came back in answer
// to three spaced requests (swarm seed 27051 lost a write to a final
// rejection of a corrupted copy).
func TestUnknownCollectionAskedAgain(t *testing.T) {
	o, r := newOrigin(t, Config{})
	conn := joined(t, r, 7, "c0", 0)
	m := r.Mark()
	asks := func() []wire.ResyncRequest { return simtest.Vals(simtest.FramesOf[*wire.ResyncRequest](r, m)) }
	rejects := func() []*wire.DeltaReject { return simtest.FramesOf[*wire.DeltaReject](r, m) }
	r.Deliver(conn, pushMsg(7, 1, "a0", "a", "x")) // "c0" corrupted in transit
	r.Deliver(conn, pushMsg(7, 1, "a0", "a", "x")) // and duplicated
	want := wire.ResyncRequest{Reason: wire.ResyncReason{Kind: wire.ChecksumMismatch, MutationID: 1}, FromMutationID: 1}
	if got := asks(); len(got) != 1 || !reflect.DeepEqual(got[0], want) {
		t.Fatalf("after two copies naming unknown collection a0: resync requests %+v, want one %+v", got, want)
	}
	if n := len(rejects()); n != 0 {
		t.Fatalf("%d rejections of a copy that may be corrupted", n)
	}
	r.Deliver(conn, pushMsg(7, 1, "c0", "a", "x")) // the Lite's answer
	if acks := simtest.FramesOf[*wire.DeltaAck](r, m); len(acks) != 1 || acks[0].MutationID != 1 || o.Head("c0") != 1 {
		t.Fatalf("acks %+v head %d, want mutation 1 applied at LSN 1", simtest.Vals(acks), o.Head("c0"))
	}
	// A mutation that really names an unknown collection: the original
	// and two answers draw requests, the third answer a final rejection.
	m = r.Mark()
	for i := 0; i < 4; i++ {
		if i > 0 {
			r.Advance(600 * ms)
		}
		if n := len(rejects()); n != 0 {
			t.Fatalf("rejected before copy %d", i+1)
		}
		r.Deliver(conn, pushMsg(7, 2, "nope", "a", "y"))
	}
	if n := len(asks()); n != 3 {
		t.Fatalf("%d requests for mutation 2, want 3", n)
	}
	if rj := rejects(); len(rj) != 1 || rj[0].MutationID != 2 {
		t.Fatalf("rejections %+v, want one of mutation 2", simtest.Vals(rj))
	}
	r.Deliver(conn, pushMsg(7, 3, "c0", "a", "z"))
	if o.Head("c0") != 2 {
		t.Fatalf("head %d, want 2 (mutation 3 applied after 2 was rejected)", o.Head("c0"))
	}
}

// A rejection is final: the "empty delta" rejection is remembered, so a
// copy of the mutation re-sent later (a SequenceGap answer re-sends from
// the Lite's list of retired mutations) is rejected again, never applied.
// (Found by these tests: the rejection was once neither remembered nor
// moved the applied mark, and the mutation ended both rejected and
// applied.)
func TestEmptyDeltaRejectionIsFinal(t *testing.T) {
	o, r := newOrigin(t, Config{})
	conn := joined(t, r, 7, "c0", 0)
	m := r.Mark()
	real := pushMsg(7, 1, "c0", "a", "x")
	emptied := *real
	emptied.Delta, emptied.Checksum = nil, 0 // no checksum to fail: the empty delta itself is refused
	r.Deliver(conn, &emptied)
	rejects := simtest.FramesOf[*wire.DeltaReject](r, m)
	if len(rejects) != 1 || rejects[0].MutationID != 1 || rejects[0].Reason != "empty delta" {
		t.Fatalf("rejections %+v, want one of mutation 1 for an empty delta", rejects)
	}
	m = r.Mark()
	r.Deliver(conn, real) // the Lite's re-send of the same mutation
	if rejects := simtest.FramesOf[*wire.DeltaReject](r, m); len(rejects) != 1 || rejects[0].MutationID != 1 {
		t.Fatalf("the re-sent copy got %+v, want the rejection again", rejects)
	}
	if o.Head("c0") != 0 {
		t.Fatalf("head %d: the rejected mutation was applied after all", o.Head("c0"))
	}
}

// A push carrying another peer's id means the frame or the handshake was
// corrupted: Origin closes the session without acking or applying.
func TestPushFromOtherPeerClosesSession(t *testing.T) {
	o, r := newOrigin(t, Config{})
	conn := joined(t, r, 7, "c0", 0)
	m := r.Mark()
	r.Deliver(conn, pushMsg(8, 1, "c0", "a", "x"))
	if o.Head("c0") != 0 || o.Applied(8) != 0 || len(r.Sent) != m {
		t.Fatalf("head %d, sent %d frames: want nothing applied or answered", o.Head("c0"), len(r.Sent)-m)
	}
	if slices.Contains(r.W.Conns(0), conn) {
		t.Fatal("connection still open")
	}
	r.Advance(5 * ms)
	if len(r.PeerDowns) != 1 || r.PeerDowns[0].Conn != conn {
		t.Fatalf("peer saw conn-downs %+v, want %d", r.PeerDowns, conn)
	}
	if len(simtest.EventsOf[*sim.DecodeError](r)) != 1 {
		t.Fatal("no decode-error event for the mismatch")
	}
	// The session is gone: its frames are ignored.
	r.Deliver(conn, pushMsg(7, 1, "c0", "a", "x"))
	if o.Head("c0") != 0 {
		t.Fatal("a frame on the closed session was applied")
	}
}

// A push before the handshake (a replayed frame, or the handshake was lost)
// gets no rejection, which the Lite would take as final: the session is
// dropped, and the mutation is applied once the Lite handshakes again.
func TestPushBeforeHandshakeClosesSession(t *testing.T) {
	o, r := newOrigin(t, Config{})
	conn := open(t, r)
	m := r.Mark()
	r.Deliver(conn, pushMsg(7, 1, "c0", "a", "x"))
	if len(r.Sent) != m || o.Applied(7) != 0 {
		t.Fatalf("sent %d frames, applied %d: want no answer and nothing applied", len(r.Sent)-m, o.Applied(7))
	}
	if slices.Contains(r.W.Conns(0), conn) {
		t.Fatal("connection still open")
	}
	again := joined(t, r, 7, "c0", 0)
	r.Deliver(again, pushMsg(7, 1, "c0", "a", "x"))
	if o.Applied(7) != 1 || o.Head("c0") != 1 {
		t.Fatalf("after a new handshake: applied %d, head %d; want mutation 1 applied", o.Applied(7), o.Head("c0"))
	}
}

// Skew beyond 5 s between the device time and Origin's clock is warned in
// the ack, with its sign.
func TestClockSkewWarning(t *testing.T) {
	tests := []struct {
		device *int64 // relative to now, in ms
		want   *int64
	}{
		{nil, nil},
		{ptr(int64(0)), nil},
		{ptr(int64(5000)), nil},
		{ptr(int64(-5000)), nil},
		{ptr(int64(5001)), ptr(int64(5001))},
		{ptr(int64(-5001)), ptr(int64(-5001))},
		{ptr(int64(3_600_000)), ptr(int64(3_600_000))},
	}
	o, r := newOrigin(t, Config{IdleTimeout: 1000 * sim.Second})
	conn := joined(t, r, 7, "c0", 0)
	r.Advance(20 * sim.Second) // now = 20.005 s
	for i, tc := range tests {
		p := pushMsg(7, uint64(i+1), "c0", "a", "v")
		if tc.device != nil {
			p.DeviceValidTimeMs = ptr(20005 + *tc.device)
		}
		m := r.Mark()
		r.Deliver(conn, p)
		a := simtest.FramesOf[*wire.DeltaAck](r, m)
		if len(a) != 1 {
			t.Fatalf("case %d: %d acks", i, len(a))
		}
		if got := a[0].ClockSkewWarningMs; !reflect.DeepEqual(got, tc.want) {
			t.Errorf("device offset %v ms: warning %v, want %v", deref(tc.device), deref(got), deref(tc.want))
		}
	}
	_ = o
}

func ptr[T any](v T) *T { return &v }

func deref(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}

// ---------------------------------------------------------------------------
// Resync requests from the Lite.

// streamed sets up a session that has received LSNs 1..n of c0.
func streamed(t *testing.T, cfg Config, n int) (*Origin, *simtest.Rig, sim.ConnID) {
	t.Helper()
	o, r := newOrigin(t, cfg)
	conn := joined(t, r, 7, "c0", 0) // empty snapshot at 0
	for i := 1; i <= n; i++ {
		commit(r, "c0", "d"+strconv.Itoa(i), "v"+strconv.Itoa(i))
	}
	if got := lsnsOf(simtest.FramesOf[*wire.ShapeDelta](r, 0)); !slices.Equal(got, seq(1, uint64(n))) {
		t.Fatalf("streamed %v, want 1..%d", got, n)
	}
	return o, r, conn
}

// A SequenceGap request is answered by re-sending exactly [from, received]
// (capped at what was sent); the stream goes on where it was.
func TestResyncSequenceGapResendsRange(t *testing.T) {
	tests := []struct {
		name string
		req  wire.ResyncRequest
		want []uint64
	}{
		{"inner gap", wire.ResyncRequest{Reason: gap(3, 6), FromMutationID: 3, Collection: "c0"}, seq(3, 6)},
		{"all collections", wire.ResyncRequest{Reason: gap(3, 6), FromMutationID: 3}, seq(3, 6)},
		{"one delta", wire.ResyncRequest{Reason: gap(5, 5), FromMutationID: 5, Collection: "c0"}, []uint64{5}},
		{"received beyond what was sent", wire.ResyncRequest{Reason: gap(8, 15), FromMutationID: 8, Collection: "c0"}, seq(8, 10)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, r, conn := streamed(t, Config{}, 10)
			m, evs := r.Mark(), len(r.Events)
			r.Deliver(conn, &tc.req)
			ds := simtest.FramesOf[*wire.ShapeDelta](r, m)
			if got := lsnsOf(ds); !slices.Equal(got, tc.want) {
				t.Fatalf("re-sent %v, want %v", got, tc.want)
			}
			for _, d := range ds {
				if d.DocumentID != "d"+strconv.FormatUint(d.LSN, 10) || string(d.Delta) != "v"+strconv.FormatUint(d.LSN, 10) {
					t.Fatalf("re-sent LSN %d carries %s=%s", d.LSN, d.DocumentID, d.Delta)
				}
			}
			var resends []uint64
			for _, x := range r.Events[evs:] {
				if e, ok := x.Event.(*sim.Resending); ok {
					resends = append(resends, e.LSN)
				}
			}
			if !slices.Equal(resends, tc.want) {
				t.Fatalf("resending events %v, want %v", resends, tc.want)
			}
			served := simtest.EventsOf[*sim.ResyncServed](r)
			if len(served) != 1 || served[0].From != tc.want[0] || served[0].Frames != uint64(len(tc.want)) || served[0].Collection != "c0" {
				t.Fatalf("resync-served %+v, want from %d, %d frames", simtest.Vals(served), tc.want[0], len(tc.want))
			}
			m = r.Mark()
			commit(r, "c0", "d11", "v11")
			if got := lsnsOf(simtest.FramesOf[*wire.ShapeDelta](r, m)); !slices.Equal(got, []uint64{11}) {
				t.Fatalf("after the repair streamed %v, want 11", got)
			}
		})
	}
}

// From 0 (or from below the retained log) is answered with a snapshot.
func TestResyncSnapshot(t *testing.T) {
	tests := []struct {
		name     string
		req      wire.ResyncRequest
		fallback bool
	}{
		{"corrupted state from 0", wire.ResyncRequest{Reason: wire.ResyncReason{Kind: wire.CorruptedState}, Collection: "c0"}, false},
		{"gap from 0, all collections", wire.ResyncRequest{Reason: gap(0, 3)}, false},
		{"below the retained log", wire.ResyncRequest{Reason: gap(2, 9), FromMutationID: 2, Collection: "c0"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, r, conn := streamed(t, Config{RetainLog: 4}, 10) // log keeps 7..10
			m := r.Mark()
			r.Deliver(conn, &tc.req)
			snaps := simtest.FramesOf[*wire.ShapeSnapshot](r, m)
			if len(snaps) != 1 || snaps[0].SnapshotLSN != 10 || snaps[0].DocCount != 10 || snaps[0].ShapeID != "shape:c0" {
				t.Fatalf("snapshots %+v, want one of c0 at 10 with 10 docs", simtest.Vals(snaps))
			}
			if c, err := model.LoadSnapshot("c0", snaps[0].Data, 10); err != nil || c.Digest() != o.Digest("c0") {
				t.Fatalf("snapshot does not hold Origin's state: %v", err)
			}
			if n := len(simtest.FramesOf[*wire.ShapeDelta](r, m)); n != 0 {
				t.Fatalf("%d deltas with the snapshot", n)
			}
			served := simtest.EventsOf[*sim.ResyncServed](r)
			if len(served) != 1 || served[0].Frames != 0 {
				t.Fatalf("resync-served %+v, want Frames=0 (snapshot)", simtest.Vals(served))
			}
			fb := simtest.EventsOf[*sim.SnapshotFallback](r)
			if tc.fallback != (len(fb) == 1) || (tc.fallback && (fb[0].From != 2 || fb[0].Oldest != 7)) {
				t.Fatalf("fallback events %+v, want %v (from 2, oldest 7)", simtest.Vals(fb), tc.fallback)
			}
		})
	}
}

func TestResyncForUnsubscribedCollectionIgnored(t *testing.T) {
	_, r := newOrigin(t, Config{Collections: []string{"c0", "c1"}})
	conn := joined(t, r, 7, "c0", 0)
	commit(r, "c1", "a", "x")
	m := r.Mark()
	r.Deliver(conn, &wire.ResyncRequest{Reason: wire.ResyncReason{Kind: wire.CorruptedState}, Collection: "c1"})
	if len(r.Sent) != m {
		t.Fatalf("sent %d frames for a collection the session does not subscribe", len(r.Sent)-m)
	}
}

// ---------------------------------------------------------------------------
// Throttle.

// throttled sets up a session of node 1 with a Throttle at rate engaged now
// (T0) and returns T0.
func throttled(t *testing.T, cfg Config, rate uint64) (*Origin, *simtest.Rig, sim.ConnID, sim.Time) {
	t.Helper()
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 1000 * sim.Second
	}
	o, r := newOrigin(t, cfg)
	conn := joined(t, r, 7, "c0", 0)
	r.Advance(100 * ms)
	r.Deliver(conn, &wire.Throttle{Throttle: true, QueueDepth: 900, SuggestedRate: rate})
	return o, r, conn, r.Now()
}

func commitN(r *simtest.Rig, n int) {
	for i := 0; i < n; i++ {
		commit(r, "c0", "d"+strconv.Itoa(i%10), "v"+strconv.Itoa(i))
	}
}

// Throttled, Origin sends a burst of 8 then suggested_rate deltas per
// second (counted over simulated time), until the lease of 5 s runs out.
func TestThrottlePacesToSuggestedRate(t *testing.T) {
	o, r, conn, t0 := throttled(t, Config{}, 10)
	on := simtest.EventsOf[*sim.ThrottleOn](r)
	if len(on) != 1 || *on[0] != (sim.ThrottleOn{Conn: conn, Peer: 1, Rate: 10}) {
		t.Fatalf("throttle-on %+v, want conn %d rate 10 node 1", simtest.Vals(on), conn)
	}
	if th, rate := throttleRate(o, 1); !th || rate != 10 {
		t.Fatalf("throttle rate towards node 1 = %v %v", th, rate)
	}
	m := r.Mark()
	commitN(r, 100)
	count := func() int { return len(simtest.FramesOf[*wire.ShapeDelta](r, m)) }
	if n := count(); n != 8 {
		t.Fatalf("%d deltas at once, want the burst of 8", n)
	}
	for _, after := range []sim.Time{500 * ms, sim.Second, 2 * sim.Second, 3 * sim.Second, 4900 * ms} {
		r.Advance(t0 + after - r.Now())
		// 8 + 10/s: at most that, and (ticks are 20 ms, refills are
		// floating point) at most two behind.
		hi := 8 + int(10*after.Seconds())
		if n := count(); n > hi || n < hi-2 {
			t.Fatalf("%v after the throttle: %d deltas sent, want %d (at most, two less at least)", after, n, hi)
		}
	}
	if len(simtest.EventsOf[*sim.ThrottleOff](r)) != 0 {
		t.Fatal("released before the lease ran out")
	}
	// No re-announce: the lease expires at 5 s and the rest goes at once.
	r.Advance(t0 + 5*sim.Second + 20*ms - r.Now())
	off := simtest.EventsOf[*sim.ThrottleOff](r)
	if len(off) != 1 || *off[0] != (sim.ThrottleOff{Conn: conn, Peer: 1, ByLease: true}) {
		t.Fatalf("throttle-off %+v, want node 1 conn %d by lease", simtest.Vals(off), conn)
	}
	if n := count(); n != 100 {
		t.Fatalf("%d deltas sent after the lease expired, want all 100", n)
	}
	if got := lsnsOf(simtest.FramesOf[*wire.ShapeDelta](r, m)); !slices.Equal(got, seq(1, 100)) {
		t.Fatal("deltas out of order or repeated under throttle")
	}
}

// The bucket holds at most the burst: a long idle throttled spell does not
// bank a bigger one.
func TestThrottleBurstIsCapped(t *testing.T) {
	_, r, _, _ := throttled(t, Config{}, 10)
	r.Advance(3 * sim.Second)
	m := r.Mark()
	commitN(r, 50)
	if n := len(simtest.FramesOf[*wire.ShapeDelta](r, m)); n != 8 {
		t.Fatalf("%d deltas after 3 s idle under throttle, want the burst of 8", n)
	}
}

func TestThrottleDefaultRate(t *testing.T) {
	_, r, _, _ := throttled(t, Config{DefaultRate: 20}, 0)
	if on := simtest.EventsOf[*sim.ThrottleOn](r); len(on) != 1 || on[0].Rate != 20 {
		t.Fatalf("throttle-on %+v, want the default rate 20 for suggested 0", simtest.Vals(on))
	}
}

func TestThrottleReleasedByThrottleFalse(t *testing.T) {
	o, r, conn, _ := throttled(t, Config{}, 10)
	m := r.Mark()
	commitN(r, 100)
	r.Advance(sim.Second)
	r.Deliver(conn, &wire.Throttle{Throttle: false, QueueDepth: 3})
	off := simtest.EventsOf[*sim.ThrottleOff](r)
	if len(off) != 1 || *off[0] != (sim.ThrottleOff{Conn: conn, Peer: 1, ByLease: false}) {
		t.Fatalf("throttle-off %+v, want node 1 conn %d, not by lease", simtest.Vals(off), conn)
	}
	if n := len(simtest.FramesOf[*wire.ShapeDelta](r, m)); n != 100 {
		t.Fatalf("%d deltas right after the release, want all 100", n)
	}
	if anyThrottled(o) {
		t.Fatal("still throttled")
	}
	// A second release changes nothing.
	r.Deliver(conn, &wire.Throttle{Throttle: false})
	if n := len(simtest.EventsOf[*sim.ThrottleOff](r)); n != 1 {
		t.Fatalf("%d throttle-off events, want 1", n)
	}
}

// Re-announcing extends the lease: released 5 s after the last announce.
func TestThrottleLeaseRenewedByReannounce(t *testing.T) {
	_, r, conn, t0 := throttled(t, Config{}, 10)
	r.Advance(3 * sim.Second)
	r.Deliver(conn, &wire.Throttle{Throttle: true, QueueDepth: 900, SuggestedRate: 10})
	if n := len(simtest.EventsOf[*sim.ThrottleOn](r)); n != 1 {
		t.Fatalf("%d throttle-on events: a same-rate re-announce is not a new engage", n)
	}
	r.Advance(t0 + 7900*ms - r.Now())
	if n := len(simtest.EventsOf[*sim.ThrottleOff](r)); n != 0 {
		t.Fatal("released before 5 s after the re-announce")
	}
	r.Advance(200 * ms)
	if off := simtest.EventsOf[*sim.ThrottleOff](r); len(off) != 1 || !off[0].ByLease {
		t.Fatalf("throttle-off %+v, want one by lease at 8 s", simtest.Vals(off))
	}
}

// ---------------------------------------------------------------------------
// Anti-entropy, idle sessions, crash.

// VectorClockSync carries, per subscribed collection, the last LSN sent on
// the session and the digest right after it, plus the peer's applied mark.
func TestVectorClockSync(t *testing.T) {
	t.Run("in step", func(t *testing.T) {
		o, r := newOrigin(t, Config{Collections: []string{"c0", "c1"}})
		conn := joined(t, r, 7, "c0", 0)
		want := model.NewCollection("c0")
		for _, d := range []string{"a", "b", "c"} {
			commit(r, "c0", d, d+"!")
			want.Put(d, []byte(d+"!"))
		}
		commit(r, "c1", "x", "y")
		r.Deliver(conn, pushMsg(7, 1, "c0", "a", "again"))
		want.Put("a", []byte("again"))
		m := r.Mark()
		r.Advance(sim.Second)
		vs := simtest.FramesOf[*wire.VectorClockSync](r, m)
		at := simtest.TimesOf[*wire.VectorClockSync](r, m)
		if len(vs) != 2 || at[1]-at[0] != 500*ms {
			t.Fatalf("%d syncs at %v in 1 s, want 2, 500 ms apart", len(simtest.Vals(vs)), at)
		}
		wantClocks := map[string]uint64{"c0": 4, "#digest:c0": want.Digest(), "#applied": 1}
		if !reflect.DeepEqual(vs[1].Clocks, wantClocks) || vs[1].SenderID != 0 {
			t.Fatalf("clocks %v sender %d, want %v from 0", vs[1].Clocks, vs[1].SenderID, wantClocks)
		}
		if want.Digest() != o.Digest("c0") {
			t.Fatal("test's model of c0 differs from Origin's")
		}
	})
	t.Run("no pushes, no applied mark", func(t *testing.T) {
		_, r := newOrigin(t, Config{})
		joined(t, r, 7, "c0", 0)
		commit(r, "c0", "a", "1")
		m := r.Mark()
		r.Advance(sim.Second)
		vs := simtest.FramesOf[*wire.VectorClockSync](r, m)
		if len(vs) == 0 {
			t.Fatal("no sync")
		}
		if _, ok := vs[0].Clocks["#applied"]; ok || vs[0].Clocks["c0"] != 1 {
			t.Fatalf("clocks %v, want c0=1 and no applied mark", vs[0].Clocks)
		}
	})
	t.Run("throttled: last sent, not head", func(t *testing.T) {
		_, r, _, _ := throttled(t, Config{}, 10)
		m := r.Mark()
		var vals []string
		for i := 0; i < 30; i++ {
			vals = append(vals, "v"+strconv.Itoa(i))
			commit(r, "c0", "d"+strconv.Itoa(i%4), vals[i])
		}
		r.Advance(sim.Second)
		var lastSent uint64
		checked := 0
		for _, s := range r.Sent[m:] {
			switch f := s.M.(type) {
			case *wire.ShapeDelta:
				lastSent = f.LSN
			case *wire.VectorClockSync:
				// The digest after lastSent: replay the first lastSent writes.
				c := model.NewCollection("c0")
				for i := uint64(0); i < lastSent; i++ {
					c.Put("d"+strconv.Itoa(int(i)%4), []byte(vals[i]))
				}
				if f.Clocks["c0"] != lastSent || f.Clocks["#digest:c0"] != c.Digest() {
					t.Fatalf("sync says c0=%d digest %x; last delta sent was %d with digest %x",
						f.Clocks["c0"], f.Clocks["#digest:c0"], lastSent, c.Digest())
				}
				checked++
			}
		}
		if checked < 2 || lastSent >= 30 {
			t.Fatalf("checked %d syncs, last sent %d: want a throttled session behind head", checked, lastSent)
		}
	})
}

// A session silent for IdleTimeout is closed; any frame keeps it alive.
func TestIdleSessionClosed(t *testing.T) {
	_, r := newOrigin(t, Config{}) // IdleTimeout 10 s, ticks every 20 ms
	conn := joined(t, r, 7, "c0", 0)
	// Opened at 1 ms: the last frame was at 5 ms.
	r.Advance(5 * sim.Second) // 5.005 s
	r.Deliver(conn, &wire.PingPong{TimestampMs: 1})
	r.Advance(10*sim.Second - 10*ms) // 14.995 s
	if !slices.Contains(r.W.Conns(0), conn) {
		t.Fatal("closed before IdleTimeout since the last frame")
	}
	r.Advance(30 * ms) // 15.025 s: the tick at 15.020 s closes it
	if slices.Contains(r.W.Conns(0), conn) {
		t.Fatal("still open 10 s after the last frame")
	}
	if len(r.PeerDowns) != 1 || r.PeerDowns[0].Conn != conn || r.PeerDowns[0].At != 15020*ms {
		t.Fatalf("peer conn-downs %+v, want conn %d at 15.02 s", r.PeerDowns, conn)
	}
	// Also a session that never says anything after connecting.
	_, r = newOrigin(t, Config{IdleTimeout: sim.Second})
	conn = open(t, r)    // at 1 ms
	r.Advance(1020 * ms) // 1.025 s
	if len(r.PeerDowns) != 1 || r.PeerDowns[0].At != 1020*ms {
		t.Fatalf("peer conn-downs %+v, want one at 1.02 s", r.PeerDowns)
	}
	_ = conn
}

func TestAnswersPing(t *testing.T) {
	_, r := newOrigin(t, Config{})
	conn := open(t, r)
	m := r.Mark()
	r.Deliver(conn, &wire.PingPong{TimestampMs: 42})
	if pp := simtest.FramesOf[*wire.PingPong](r, m); len(pp) != 1 || *pp[0] != (wire.PingPong{TimestampMs: 42, IsPong: true}) {
		t.Fatalf("replies %+v, want pong 42", simtest.Vals(pp))
	}
}

// A crash drops the sessions; collections, logs and dedup marks survive.
func TestCrashKeepsDurableState(t *testing.T) {
	o, r := newOrigin(t, Config{})
	conn := joined(t, r, 7, "c0", 0)
	r.Deliver(conn, pushMsg(7, 1, "c0", "a", "x"))
	r.Deliver(conn, pushMsg(7, 2, "c0", "b", "y"))
	dig := o.Digest("c0")
	o.Crash()
	r.Input(sim.Input{Kind: sim.InRestart})
	m := r.Mark()
	r.Deliver(conn, pushMsg(7, 3, "c0", "c", "z")) // the old session is gone
	if len(r.Sent) != m || o.Head("c0") != 2 {
		t.Fatal("a frame on a pre-crash session was answered")
	}
	conn = joined(t, r, 7, "c0", 2)
	if n := len(simtest.FramesOf[*wire.ShapeDelta](r, m)) + len(simtest.FramesOf[*wire.ShapeSnapshot](r, m)); n != 0 {
		t.Fatalf("resubscribing at head sent %d frames", n)
	}
	r.Deliver(conn, pushMsg(7, 2, "c0", "b", "y"))
	if dd := simtest.EventsOf[*sim.Deduped](r); len(dd) != 1 || o.Head("c0") != 2 || o.Digest("c0") != dig {
		t.Fatal("the dedup mark did not survive the crash")
	}
	r.Deliver(conn, pushMsg(7, 3, "c0", "c", "z"))
	if o.Head("c0") != 3 {
		t.Fatal("mutation 3 not applied after restart")
	}
	// Ticks resume after the restart: syncs flow.
	m = r.Mark()
	r.Advance(sim.Second)
	if len(simtest.FramesOf[*wire.VectorClockSync](r, m)) == 0 {
		t.Fatal("no tick after restart")
	}
}

// Frames taken from a slab never overlap: each keeps its bytes however
// many frames follow it, including one whose encoding outgrew its room
// and one too large for a block.
func TestFrameSlabFramesNeverOverlap(t *testing.T) {
	var f frameSlab
	var frames, want [][]byte
	for i := range 3000 {
		n := 20 + i%50
		b := f.room(n)
		switch {
		case i%97 == 0: // outgrows its room: append moves it
			b = append(b, make([]byte, n+1)...)
		case i%501 == 0: // too large for a block
			b = append(f.room(frameSlabBytes), make([]byte, frameSlabBytes)...)
		default:
			b = append(b, make([]byte, n)...)
		}
		for j := range b {
			b[j] = byte(i)
		}
		f.used(b)
		frames = append(frames, b)
		want = append(want, slices.Clone(b))
	}
	for i := range frames {
		if !slices.Equal(frames[i], want[i]) {
			t.Fatalf("frame %d was written over by a later one", i)
		}
	}
}

// A probe lists each session with its throttle and the backlog Origin
// owes it: the throttled session's commits past the burst, none for the
// unthrottled one; a released throttle shows, a dropped session is gone.
func TestProbeListsThrottleAndBacklog(t *testing.T) {
	o, r, conn, _ := throttled(t, Config{}, 10)
	other := joined(t, r, 8, "c0", 0)
	commitN(r, 30) // more than the burst: the throttled session falls behind
	full := probe(o)
	if len(full.Sessions) != 2 {
		t.Fatalf("full probe: %d sessions, want 2: %+v", len(full.Sessions), full.Sessions)
	}
	var want sim.SessionState
	for _, s := range full.Sessions {
		switch s.Conn {
		case conn:
			want = s
		case other:
			if s.Throttled || s.Backlog != 0 {
				t.Fatalf("unthrottled session %+v: want no throttle and no backlog", s)
			}
		}
	}
	if !want.Throttled || want.Backlog != 30-8 {
		t.Fatalf("throttled session in the full probe: %+v, want throttled with a backlog of 22", want)
	}
	r.Deliver(conn, &wire.Throttle{Throttle: false})
	if anyThrottled(o) {
		t.Fatalf("probe after the release: %+v, want no session throttled", probe(o).Sessions)
	}
	r.Input(sim.Input{Kind: sim.InConnDown, Conn: other, Peer: simtest.Peer})
	if p := probe(o); len(p.Sessions) != 1 || p.Sessions[0].Conn != conn {
		t.Fatalf("probe after the other session closed: %+v, want only conn %d", p.Sessions, conn)
	}
}

// pongs lists, per conn, the timestamps of the pongs Origin sent since mark.
func pongs(r *simtest.Rig, mark int) map[sim.ConnID][]uint64 {
	out := map[sim.ConnID][]uint64{}
	for _, f := range r.Sent[mark:] {
		if p, ok := f.M.(*wire.PingPong); ok && p.IsPong {
			out[f.Conn] = append(out[f.Conn], p.TimestampMs)
		}
	}
	return out
}

// A frame's session is found by its conn in a map: each frame reaches its
// own session, and a session closed by the Lite, by the idle timeout or by
// a crash is not found again (by a frame or by a probe).
func TestManySessionsEachFrameFindsItsOwn(t *testing.T) {
	const n = 24
	o, r := newOrigin(t, Config{IdleTimeout: sim.Second})
	conns := make([]sim.ConnID, n)
	for i := range conns {
		conns[i] = joined(t, r, uint64(100+i), "c0", 0)
	}
	ping := func(want func(i int) bool) {
		t.Helper()
		m := r.Mark()
		for i, c := range conns {
			r.Deliver(c, &wire.PingPong{TimestampMs: uint64(1000 + i)})
		}
		got := pongs(r, m)
		for i, c := range conns {
			answered := slices.Equal(got[c], []uint64{uint64(1000 + i)})
			if want(i) != answered || len(got[c]) > 1 {
				t.Fatalf("session %d (conn %d): pongs %v, want one pong %d: %v", i, c, got[c], 1000+i, want(i))
			}
		}
		// A pong on a closed conn never leaves: ask Origin which of
		// these conns it still has a session on.
		p := sim.Probe{Conns: conns}
		o.Probe(&p)
		var listed, open []sim.ConnID
		for _, s := range p.Sessions {
			listed = append(listed, s.Conn)
		}
		for i, c := range conns {
			if want(i) {
				open = append(open, c)
			}
		}
		if !slices.Equal(listed, open) {
			t.Fatalf("probe of every conn lists sessions on %v, want %v", listed, open)
		}
	}
	ping(func(int) bool { return true })
	r.Input(sim.Input{Kind: sim.InConnDown, Conn: conns[3], Peer: simtest.Peer})
	ping(func(i int) bool { return i != 3 })
	// Keep all but 0..4 alive past the idle timeout.
	for step := 0; step < 3; step++ {
		r.Advance(400 * ms)
		for _, c := range conns[5:] {
			r.Deliver(c, &wire.PingPong{TimestampMs: 1})
		}
	}
	ping(func(i int) bool { return i >= 5 })
	o.Crash()
	r.Input(sim.Input{Kind: sim.InRestart})
	for range conns {
		joined(t, r, 500, "c0", 0) // as many new sessions: past the scan again
	}
	ping(func(int) bool { return false })
}

// A probe that names connections lists only their sessions, in that
// order, and skips a conn Origin has no session on.
func TestProbeConnsListsOnlyThose(t *testing.T) {
	o, r, conn, _ := throttled(t, Config{}, 10)
	var others []sim.ConnID
	for i := 0; i < 10; i++ {
		others = append(others, joined(t, r, uint64(20+i), "c0", 0))
	}
	commitN(r, 30)
	full := probe(o)
	byConn := map[sim.ConnID]sim.SessionState{}
	for _, s := range full.Sessions {
		byConn[s.Conn] = s
	}
	ask := []sim.ConnID{others[4], conn, 9999, others[1]}
	p := sim.Probe{Conns: ask}
	o.Probe(&p)
	want := []sim.SessionState{byConn[others[4]], byConn[conn], byConn[others[1]]}
	if !slices.Equal(p.Sessions, want) {
		t.Fatalf("probe of conns %v: %+v, want %+v", ask, p.Sessions, want)
	}
	if len(p.Collections) != len(full.Collections) {
		t.Fatalf("probe of conns: %d collections, full %d", len(p.Collections), len(full.Collections))
	}
	if !byConn[conn].Throttled || byConn[conn].Backlog == 0 {
		t.Fatalf("the throttled session %+v: want throttled, with a backlog", byConn[conn])
	}
}

// The log is a ring of RetainLog entries whatever its size: LSN l and
// l+n share a slot, and n consecutive LSNs take n different slots (a mask
// for a power of two, a remainder otherwise).
func TestLogRingSlots(t *testing.T) {
	for _, n := range []int{1, 10, 16, 1000, 1024} {
		c := &coll{log: make([]entry, n)}
		seen := map[*entry]uint64{}
		for lsn := uint64(1); lsn <= uint64(3*n); lsn++ {
			e := c.at(lsn)
			if e != c.at(lsn+uint64(n)) {
				t.Fatalf("log of %d: LSN %d and %d in different slots", n, lsn, lsn+uint64(n))
			}
			if lsn <= uint64(n) {
				if prev, ok := seen[e]; ok {
					t.Fatalf("log of %d: LSN %d and %d share a slot", n, prev, lsn)
				}
				seen[e] = lsn
			}
		}
		if len(seen) != n {
			t.Fatalf("log of %d: %d slots used", n, len(seen))
		}
	}
}
