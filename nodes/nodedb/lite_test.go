package nodedb

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/syncsim/syncsim/nodes/model"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// tick advances the driver to the Lite's next push tick (at the next
// multiple of 100 ms after the handshake at 0) and fires it.
func tick(d *driver, l *Lite) stepped {
	d.now = (d.now/pushInterval + 1) * pushInterval
	return d.step(sim.Input{Kind: sim.InTimer, Timer: l.gen<<tagKindBits | tagPush})
}

// After snapshot N and deltas N+1, N+5, exactly one SequenceGap{N+2, N+5}
// from N+2 goes out, on the next push tick, and never again.
func TestLiteGapAskedOnceOnNextTick(t *testing.T) {
	const n = 40
	l, d := liteConnected(t, "c0")
	d.now = 10 * ms
	d.frame(1, &wire.ShapeSnapshot{ShapeID: "shape:c0", SnapshotLSN: n})
	for _, lsn := range []uint64{n + 1, n + 5} {
		if s := d.frame(1, shapeDelta("c0", lsn, "a", wire.OpUpdate, "v")); len(s.sends) != 0 {
			t.Fatalf("delta %d: sent %v at once, want nothing before the tick", lsn, s.sends)
		}
	}
	want := wire.ResyncRequest{Reason: wire.ResyncReason{Kind: wire.SequenceGap, Expected: n + 2, Received: n + 5},
		FromMutationID: n + 2, Collection: "c0"}
	var got []wire.ResyncRequest
	var sent []*sim.ResyncSent
	for range 30 { // three seconds of ticks
		s := tick(d, l)
		for _, r := range sendsOf[*wire.ResyncRequest](s) {
			got = append(got, *r)
		}
		sent = append(sent, eventsOf[*sim.ResyncSent](s)...)
	}
	if !reflect.DeepEqual(got, []wire.ResyncRequest{want}) {
		t.Fatalf("requests sent %+v, want exactly %+v", got, want)
	}
	if len(sent) != 1 || *sent[0] != (sim.ResyncSent{Collection: "c0", From: n + 2, Attempt: 1}) {
		t.Fatalf("resync-sent events %+v", sent)
	}
	if p := probe(l); p.Resyncing != 1 {
		t.Fatalf("resyncing = %d after the request, want 1 (the gate stays set)", p.Resyncing)
	}
}

// The request goes out on the first tick after the gap, not later.
func TestLiteGapSentOnTheFirstTick(t *testing.T) {
	l, d := liteConnected(t, "c0")
	d.now = 10 * ms
	d.frame(1, &wire.ShapeSnapshot{ShapeID: "shape:c0", SnapshotLSN: 1})
	d.frame(1, shapeDelta("c0", 5, "a", wire.OpUpdate, "v"))
	if s := tick(d, l); d.now != 100*ms || len(sendsOf[*wire.ResyncRequest](s)) != 1 {
		t.Fatalf("at %v sent %v, want the request on the tick at 100ms", d.now, s.sends)
	}
}

func TestLiteBackoff(t *testing.T) {
	l := NewLite(sim.Env{Collections: []string{"c0"}}, LiteConfig{})
	want := []sim.Time{1, 2, 4, 8, 16, 32, 60, 60, 60}
	for attempt, w := range want {
		if got := l.backoffDuration(attempt); got != w*sim.Second {
			t.Errorf("backoff(%d) = %v, want %v", attempt, got, w*sim.Second)
		}
	}
	if got := l.backoffDuration(1 << 20); got != maxBackoff {
		t.Errorf("backoff(2^20) = %v, want the cap %v", got, maxBackoff)
	}
}

// A lost connection resets the trackers and the gate, re-sends every
// unacked mutation after the next handshake, and stale ticks of the dead
// connection do nothing. The new handshake names both shapes with no LSN;
// only c1, whose snapshot never arrived, is subscribed again (c0 resumes
// without a snapshot: nothing is replayed).
func TestLiteReconnectResets(t *testing.T) {
	l, d := liteConnected(t, "c0", "c1")
	d.step(sim.Input{Kind: sim.InWrite, Write: sim.Write{Collection: "c0", DocID: "a", Value: []byte("1")}})
	d.step(sim.Input{Kind: sim.InWrite, Write: sim.Write{Collection: "c1", DocID: "b", Value: []byte("2")}})
	d.frame(1, &wire.ShapeSnapshot{ShapeID: "shape:c0", SnapshotLSN: 3})
	d.frame(1, shapeDelta("c0", 9, "x", wire.OpUpdate, "v"))
	oldTick := l.gen<<tagKindBits | tagPush
	if p := probe(l); p.Resyncing != 1 || p.Unacked != 2 {
		t.Fatalf("before the loss: %+v", p)
	}
	s := d.step(sim.Input{Kind: sim.InConnDown, Conn: 1})
	if ev := eventsOf[*sim.Reconnecting](s); len(ev) != 1 || ev[0].Attempt != 1 || len(s.timers) != 1 || s.timers[0].After != sim.Second {
		t.Fatalf("on conn-down: %+v, want reconnecting 1 after 1s", s)
	}
	if _, tracked := l.Tracker("c0"); tracked || probe(l).Resyncing != 0 || l.hasResync {
		t.Fatal("tracker, gate or pending request survived the connection")
	}
	if s := d.step(sim.Input{Kind: sim.InTimer, Timer: oldTick}); len(s.sends)+len(s.timers) != 0 {
		t.Fatalf("a tick of the dead connection did %+v", s)
	}
	d.now = sim.Second
	if s := d.step(sim.Input{Kind: sim.InTimer, Timer: s.timers[0].Tag}); s.dials != 1 {
		t.Fatal("no dial after the backoff")
	}
	hs := sendsOf[*wire.Handshake](d.step(sim.Input{Kind: sim.InConnUp, Conn: 2}))
	if len(hs) != 1 || !reflect.DeepEqual(hs[0].SubscribedShapes, []string{"shape:c0", "shape:c1"}) || len(hs[0].VectorClock) != 0 {
		t.Fatalf("handshake %+v, want both shape ids and an empty vector clock", hs)
	}
	s = d.frame(2, &wire.HandshakeAck{Success: true, ServerWireVersion: 1})
	var ids []uint64
	for _, p := range sendsOf[*wire.DeltaPush](s) {
		ids = append(ids, p.MutationID)
	}
	subs := sendsOf[*wire.ShapeSubscribe](s)
	if !reflect.DeepEqual(ids, []uint64{1, 2}) || len(subs) != 1 || subs[0].Shape.ShapeID != "shape:c1" {
		t.Fatalf("after the handshake sent %v, want c1's subscribe only and mutations 1, 2", s.sends)
	}
}

// A delta at or below the tracker is not flagged but moves the tracker
// backwards; the next in-order delta then looks like a gap.
func TestLiteLateDeltaRewindsTracker(t *testing.T) {
	l, d := liteConnected(t, "c0")
	d.frame(1, &wire.ShapeSnapshot{ShapeID: "shape:c0", SnapshotLSN: 10})
	d.frame(1, shapeDelta("c0", 11, "a", wire.OpUpdate, "1"))
	d.frame(1, shapeDelta("c0", 12, "a", wire.OpUpdate, "2"))
	d.frame(1, shapeDelta("c0", 11, "a", wire.OpUpdate, "1")) // late
	if tr, _ := l.Tracker("c0"); tr != 11 || l.hasResync {
		t.Fatalf("after the late delta: tracker %d, request pending %v; want 11 and none", tr, l.hasResync)
	}
	d.frame(1, shapeDelta("c0", 13, "a", wire.OpUpdate, "3"))
	r := sendsOf[*wire.ResyncRequest](tick(d, l))
	if len(r) != 1 || r[0].Reason.Expected != 12 || r[0].Reason.Received != 13 || r[0].FromMutationID != 12 {
		t.Fatalf("requests %+v, want SequenceGap{12, 13} from 12", r)
	}
	if p := probe(l); p.Collections[0].LSN != 13 {
		t.Fatalf("probe LSN %d, want 13 (the highest applied, not the tracker)", p.Collections[0].LSN)
	}
}

// The state is a set of last-writer-wins registers: any order of the same
// deltas (duplicates included) gives the state of applying them in LSN
// order.
func TestLiteApplyOrderIndependent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for trial := range 200 {
		var deltas []*wire.ShapeDelta
		for lsn := uint64(11); lsn <= 40; lsn++ {
			doc := string(rune('a' + rng.IntN(5)))
			if rng.IntN(4) == 0 {
				deltas = append(deltas, shapeDelta("c0", lsn, doc, wire.OpDelete, ""))
			} else {
				deltas = append(deltas, shapeDelta("c0", lsn, doc, wire.OpUpdate, string(rune('A'+rng.IntN(26)))))
			}
		}
		inOrder := model.NewCollection("c0")
		inOrder.Put("z", []byte("snap"))
		for _, m := range deltas {
			if m.Operation == wire.OpDelete {
				inOrder.Put(m.DocumentID, nil)
			} else {
				inOrder.Put(m.DocumentID, m.Delta)
			}
		}
		shuffled := append([]*wire.ShapeDelta(nil), deltas...)
		shuffled = append(shuffled, deltas[rng.IntN(len(deltas))], deltas[rng.IntN(len(deltas))]) // duplicates
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		l, d := liteConnected(t, "c0")
		snap := model.NewCollection("c0")
		snap.Put("z", []byte("snap"))
		d.frame(1, &wire.ShapeSnapshot{ShapeID: "shape:c0", Data: snap.Snapshot(), SnapshotLSN: 10, DocCount: 1})
		for _, m := range shuffled {
			d.frame(1, m)
		}
		got := probe(l).Collections[0]
		if got.Digest != inOrder.Digest() || got.LSN != 40 {
			t.Fatalf("trial %d: lsn %d digest %#x, want lsn 40 digest %#x", trial, got.LSN, got.Digest, inOrder.Digest())
		}
	}
}

// The state testdata/lite/reorder.txt ends in is {a: "3"}.
func TestLiteReorderTranscriptDigest(t *testing.T) {
	c := model.NewCollection("c0")
	c.Put("a", []byte("3"))
	if c.Digest() != 0x871be4eacb41328f {
		t.Fatalf("digest of {a: 3} is %#x, not the transcript's", c.Digest())
	}
}

// A snapshot replaces the shape's documents; a document absent from it
// counts as deleted at the snapshot's LSN, so an older update does not
// bring it back.
func TestLiteSnapshotReplaces(t *testing.T) {
	l, d := liteConnected(t, "c0")
	d.frame(1, shapeDelta("c0", 3, "old", wire.OpUpdate, "x"))
	snap := model.NewCollection("c0")
	snap.Put("s", []byte("1"))
	d.frame(1, &wire.ShapeSnapshot{ShapeID: "shape:c0", Data: snap.Snapshot(), SnapshotLSN: 8, DocCount: 1})
	d.frame(1, shapeDelta("c0", 5, "old", wire.OpUpdate, "y"))
	if got := probe(l).Collections[0]; got.Digest != snap.Digest() || got.LSN != 8 {
		t.Fatalf("after the snapshot: %+v, want the snapshot's contents at 8", got)
	}
}

func TestLiteDecodeError(t *testing.T) {
	_, d := liteConnected(t, "c0")
	s := d.step(sim.Input{Kind: sim.InFrame, Conn: 1, Frame: []byte{0x22, 9, 0, 0, 0, 1}})
	if ev := eventsOf[*sim.DecodeError](s); len(ev) != 1 || len(s.sends) != 0 {
		t.Fatalf("a frame that does not decode gave %+v, want one decode-error", s)
	}
	// A snapshot whose data does not decode is reported too, and changes nothing.
	s = d.frame(1, &wire.ShapeSnapshot{ShapeID: "shape:c0", Data: []byte{9}, SnapshotLSN: 4, DocCount: 1})
	if len(eventsOf[*sim.DecodeError](s)) != 1 || len(eventsOf[*sim.SnapshotLoaded](s)) != 0 {
		t.Fatalf("a bad snapshot gave %+v", s.events)
	}
}

func TestLiteInFlightCap(t *testing.T) {
	l, d := liteConnected(t, "c0")
	for range 100 {
		d.step(sim.Input{Kind: sim.InWrite, Write: sim.Write{Collection: "c0", DocID: "a", Value: []byte("v")}})
	}
	pushes := sendsOf[*wire.DeltaPush](tick(d, l))
	if len(pushes) != maxInFlight || pushes[0].MutationID != 1 || pushes[maxInFlight-1].MutationID != maxInFlight {
		t.Fatalf("a tick pushed %d (first %d), want mutations 1..%d", len(pushes), pushes[0].MutationID, maxInFlight)
	}
	for _, p := range pushes {
		if p.Checksum != wire.Checksum(p.Delta) || p.PeerID != 7 {
			t.Fatalf("push %d: checksum %#x peer %d", p.MutationID, p.Checksum, p.PeerID)
		}
	}
}

// faults.ClockSkewer: the pushes' device time moves by the skew; the
// Origin model warns past 24 hours.
func TestLiteClockSkew(t *testing.T) {
	l, d := liteConnected(t, "c0")
	_, od := originWithSession(t, OriginConfig{})
	l.SetClockSkew(-25 * 60 * sim.Minute)
	d.step(sim.Input{Kind: sim.InWrite, Write: sim.Write{Collection: "c0", DocID: "a", Value: []byte("v")}})
	p := sendsOf[*wire.DeltaPush](tick(d, l))[0]
	if want := int64((100*ms - 25*60*sim.Minute) / ms); p.DeviceValidTimeMs == nil || *p.DeviceValidTimeMs != want {
		t.Fatalf("device time %v, want %d", p.DeviceValidTimeMs, want)
	}
	od.now = d.now
	ack := sendsOf[*wire.DeltaAck](od.frame(1, p))
	if len(ack) != 1 || ack[0].ClockSkewWarningMs == nil || *ack[0].ClockSkewWarningMs != 25*60*60*1000 {
		t.Fatalf("ack %+v, want a 25 h skew warning", ack)
	}
}

// faults.DurableCorruptor: the damage survives a restart (NodeDB's Lite
// does not verify its store).
func TestLiteCorruptDurable(t *testing.T) {
	l, d := liteConnected(t, "c0")
	d.frame(1, shapeDelta("c0", 1, "a", wire.OpUpdate, "v"))
	before := probe(l).Collections[0].Digest
	l.Crash()
	l.CorruptDurable([2]uint64{1, 2})
	s := d.step(sim.Input{Kind: sim.InRestart})
	if after := probe(l).Collections[0]; after.Digest == before || after.LSN != 1 || s.dials != 1 || len(s.events) != 0 {
		t.Fatalf("after corruption and restart: %+v (digest before %#x), %+v", after, before, s)
	}
}

// A snapshot for shape B arriving before the push tick wipes the request
// stored for shape A's gap and opens the gate: A's gap is never asked for.
func TestLiteSnapshotOfAnotherShapeWipesRequest(t *testing.T) {
	l, d := liteConnected(t, "c0", "c1")
	d.now = 10 * ms
	d.frame(1, &wire.ShapeSnapshot{ShapeID: "shape:c0", SnapshotLSN: 20})
	d.frame(1, &wire.ShapeSnapshot{ShapeID: "shape:c1", SnapshotLSN: 7})
	d.frame(1, shapeDelta("c0", 21, "a", wire.OpUpdate, "1"))
	d.frame(1, shapeDelta("c0", 24, "a", wire.OpUpdate, "4"))
	if !l.hasResync || probe(l).Resyncing != 1 {
		t.Fatal("the gap at 24 stored no request")
	}
	d.frame(1, &wire.ShapeSnapshot{ShapeID: "shape:c1", SnapshotLSN: 30})
	if l.hasResync || probe(l).Resyncing != 0 {
		t.Fatal("c1's snapshot left c0's request or the gate in place")
	}
	for range 20 {
		if r := sendsOf[*wire.ResyncRequest](tick(d, l)); len(r) != 0 {
			t.Fatalf("at %v sent %+v, want no request ever", d.now, r)
		}
	}
	if tr, _ := l.Tracker("c0"); tr != 24 {
		t.Fatalf("c0's tracker %d, want 24 (the gap moved it; c1's snapshot did not touch it)", tr)
	}
}
