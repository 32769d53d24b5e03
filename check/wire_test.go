package check

import (
	"strings"
	"testing"

	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// wireRun drives a Wire checker by hand: origin is node 0, the Lite node
// 1, on connection 1; times are in milliseconds.
type wireRun struct {
	t *testing.T
	c *Wire
}

func (r wireRun) frame(m wire.Message) []byte {
	b, err := wire.Default.Encode(m)
	if err != nil {
		r.t.Fatal(err)
	}
	return b
}

// down is a frame Origin sends to the Lite.
func (r wireRun) down(ms int64, m wire.Message) {
	b := r.frame(m)
	r.c.Sent(sim.Time(ms)*sim.Millisecond, &sim.Packet{Conn: 1, From: 0, To: 1, Type: wire.MsgType(b[0]), Bytes: b})
}

// upAltered is a frame of the Lite's that a fault changed on its way.
func (r wireRun) upAltered(ms int64, m wire.Message) {
	b := r.frame(m)
	r.c.Delivered(sim.Time(ms)*sim.Millisecond, 1, 1, 0, b, true)
}

// up is a frame the Lite sends that reaches Origin.
func (r wireRun) up(ms int64, m wire.Message) {
	b := r.frame(m)
	now := sim.Time(ms) * sim.Millisecond
	r.c.Sent(now, &sim.Packet{Conn: 1, From: 1, To: 0, Type: wire.MsgType(b[0]), Bytes: b})
	r.c.Delivered(now, 1, 1, 0, b, false)
}

func delta(lsn uint64) *wire.ShapeDelta {
	return &wire.ShapeDelta{ShapeID: "s0", Collection: "c0", DocumentID: "d", Operation: wire.OpUpdate, Delta: []byte{1}, LSN: lsn}
}

func pushMsg(mid uint64) *wire.DeltaPush {
	p := &wire.DeltaPush{Collection: "c0", DocumentID: "d", Delta: []byte{1, 2}, PeerID: 7, MutationID: mid}
	p.Seal()
	return p
}

func resync(from uint64) *wire.ResyncRequest {
	return &wire.ResyncRequest{Reason: wire.ResyncReason{Kind: wire.SequenceGap, Expected: from, Received: from + 1}, FromMutationID: from, Collection: "c0"}
}

func TestWireCheckerCatchesPlantedFaults(t *testing.T) {
	terms := &sim.ThrottleTerms{DefaultRate: 50, Burst: 4, Lease: 5 * sim.Second}
	for _, tc := range []struct {
		name   string
		shared bool
		run    func(r wireRun)
		endMS  int64  // Final at this time (0: no Final), heal at 2 s
		want   string // the property violated ("" for none)
		phrase string
	}{
		{name: "in order", run: func(r wireRun) {
			for i := uint64(1); i <= 5; i++ {
				r.down(int64(i), delta(i))
			}
		}},
		{name: "a skipped LSN", run: func(r wireRun) { r.down(1, delta(1)); r.down(2, delta(3)) }, want: DeltaOrder, phrase: "skipping 2"},
		{name: "a jump with shared LSNs", shared: true, run: func(r wireRun) { r.down(1, delta(1)); r.down(2, delta(9)) }},
		{name: "a re-send nobody asked for", run: func(r wireRun) {
			r.down(1, delta(1))
			r.down(2, delta(2))
			r.down(3, delta(3))
			r.down(4, delta(2))
		}, want: DeltaOrder, phrase: "again"},
		{name: "a repair asked for, in order", run: func(r wireRun) {
			for i := uint64(1); i <= 4; i++ {
				r.down(int64(i), delta(i))
			}
			r.up(5, resync(2))
			r.down(6, delta(2))
			r.down(7, delta(5)) // new entries interleave with the repair
			r.down(8, delta(3))
			r.down(9, delta(4))
			r.c.Tick(8 * sim.Second)
		}},
		{name: "a repair out of order", run: func(r wireRun) {
			for i := uint64(1); i <= 5; i++ {
				r.down(int64(i), delta(i))
			}
			r.up(6, resync(3))
			r.down(7, delta(3))
			r.down(8, delta(1))
		}, want: DeltaOrder, phrase: "LSN 1 of c0"},
		{name: "a repair answering an altered request", run: func(r wireRun) {
			for i := uint64(1); i <= 5; i++ {
				r.down(int64(i), delta(i))
			}
			r.upAltered(6, resync(1)) // e.g. resync-ancient rewrote it
			r.down(7, delta(1))
			r.down(8, delta(2))
		}},
		{name: "an altered request is owed nothing", run: func(r wireRun) {
			r.upAltered(1000, resync(2))
			r.c.Tick(10 * sim.Second)
		}},
		{name: "two shapes of one collection", run: func(r wireRun) {
			for i := uint64(1); i <= 3; i++ {
				d := delta(i)
				r.down(int64(i), d)
				d2 := *d
				d2.ShapeID = "s1"
				r.down(int64(i), &d2)
			}
		}},
		{name: "a run of unasked re-sends is one violation", run: func(r wireRun) {
			for i := uint64(1); i <= 5; i++ {
				r.down(int64(i), delta(i))
			}
			for i := uint64(2); i <= 5; i++ {
				r.down(int64(5+i), delta(i))
			}
			if r.c.Count != 1 {
				r.t.Errorf("%d violations for one run of re-sends, want 1", r.c.Count)
			}
		}, want: DeltaOrder, phrase: "LSN 2 of c0 (shape s0)"},
		{name: "a push whose connection closed is tracked again on the next", run: func(r wireRun) {
			r.up(1000, pushMsg(1))
			r.c.Closed(1)
		}, endMS: 9000},
		{name: "a request never answered", run: func(r wireRun) {
			r.down(1, delta(1))
			r.up(1000, resync(2))
			r.c.Tick(5999 * sim.Millisecond)
			if r.c.Count != 0 {
				r.t.Errorf("reported before its 5 s were up: %+v", r.c.Violations)
			}
			r.c.Tick(6 * sim.Second)
		}, want: ResyncAnswered, phrase: "from 2 (delivered at 1s on connection 1) was not answered within 5s"},
		{name: "a request answered by a snapshot", run: func(r wireRun) {
			r.up(1, &wire.ShapeSubscribe{Shape: wire.ShapeDefinition{ShapeID: "s0", ShapeType: wire.ShapeType{Collection: "c0"}}})
			r.down(2, delta(1))
			r.up(3, resync(0))
			r.down(4, &wire.ShapeSnapshot{ShapeID: "s0", SnapshotLSN: 9})
			r.down(5, delta(10))
			r.c.Tick(10 * sim.Second)
		}},
		{name: "a snapshot answering a re-subscribe is no resync's answer", run: func(r wireRun) {
			sub := &wire.ShapeSubscribe{Shape: wire.ShapeDefinition{ShapeID: "s0", ShapeType: wire.ShapeType{Collection: "c0"}}}
			r.up(1, sub)
			r.down(2, &wire.ShapeSnapshot{ShapeID: "s0", SnapshotLSN: 4})
			r.up(1000, resync(5))
			r.up(3000, sub) // the Lite gives up waiting and subscribes again
			r.down(3001, &wire.ShapeSnapshot{ShapeID: "s0", SnapshotLSN: 9})
			r.c.Tick(6 * sim.Second)
		}, want: ResyncAnswered, phrase: "from 5"},
		{name: "a request on a connection that closed", run: func(r wireRun) {
			r.up(1, resync(2))
			r.c.Closed(1)
			r.c.Tick(10 * sim.Second)
		}},
		{name: "a push never answered", run: func(r wireRun) { r.up(1000, pushMsg(1)) }, endMS: 7000, want: PushOutcome, phrase: "peer 7's mutation 1"},
		{name: "a push still within its time", run: func(r wireRun) { r.up(3000, pushMsg(1)) }, endMS: 7500},
		{name: "a push acked", run: func(r wireRun) { r.up(1000, pushMsg(1)); r.down(1001, &wire.DeltaAck{MutationID: 1}) }, endMS: 9000},
		{name: "acked, then rejected", run: func(r wireRun) {
			r.up(1, pushMsg(1))
			r.down(2, &wire.DeltaAck{MutationID: 1})
			r.down(3, &wire.DeltaReject{MutationID: 1, Reason: "no"})
		}, want: OneOutcome, phrase: "acked mutation 1 of peer 7, then rejected"},
		{name: "a throttle ignored", run: func(r wireRun) {
			r.up(0, &wire.Throttle{Throttle: true, SuggestedRate: 10})
			for i := uint64(1); i <= 20; i++ {
				r.down(int64(i), delta(i))
			}
		}, want: ThrottleRate, phrase: "faster than the 10 deltas/s"},
		{name: "a throttle honoured", run: func(r wireRun) {
			r.up(0, &wire.Throttle{Throttle: true, SuggestedRate: 10})
			for i := uint64(1); i <= 20; i++ {
				r.down(int64(i)*100, delta(i))
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := NewWire(WireConfig{Throttle: terms, SharedLSN: tc.shared})
			tc.run(wireRun{t, c})
			if tc.endMS != 0 && !c.Final(sim.Time(tc.endMS)*sim.Millisecond, 2*sim.Second) {
				t.Fatalf("Final at %d ms did not judge", tc.endMS)
			}
			switch {
			case tc.want == "" && c.Count != 0:
				t.Fatalf("violations %+v, want none", c.Violations)
			case tc.want != "" && (c.Count == 0 || c.Violations[0].Property != tc.want):
				t.Fatalf("violations %+v, want %s", c.Violations, tc.want)
			case tc.want != "" && !strings.Contains(c.Violations[0].Message, tc.phrase):
				t.Fatalf("message %q does not say %q", c.Violations[0].Message, tc.phrase)
			}
		})
	}
}

func TestWireFinalTooEarlyJudgesNoPush(t *testing.T) {
	c := NewWire(WireConfig{})
	r := wireRun{t, c}
	r.up(1000, pushMsg(1))
	if c.Final(3*sim.Second, 2*sim.Second) {
		t.Fatal("Final 1 s after heal judged pushes that had 5 s to be answered")
	}
	if c.Count != 0 {
		t.Fatalf("violations %+v from a Final that could not judge", c.Violations)
	}
}
