package check

import (
	"strings"
	"testing"

	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

const (
	origin = sim.NodeID(0)
	lite1  = sim.NodeID(1)
)

func encode(t *testing.T, m wire.Message) []byte {
	t.Helper()
	b, err := wire.Default.Encode(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// terms are the reference Origin's throttle terms.
var terms = &sim.ThrottleTerms{DefaultRate: 50, Burst: 8, Lease: 5 * sim.Second}

func push(t *testing.T, peer, mid uint64, good bool) []byte {
	p := &wire.DeltaPush{Collection: "c0", DocumentID: "d1", Delta: []byte{1, 2, 3}, PeerID: peer, MutationID: mid}
	p.Seal()
	if !good {
		p.Checksum ^= 1
	}
	b, err := wire.Default.Encode(p)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Each case drives a checker with the events of a run in which a planted
// bug breaks one property (want = that property), or the same events done
// right (want = "").
func TestPropertiesTrip(t *testing.T) {
	type step func(c *Checker)
	at := func(ms int64) sim.Time { return sim.Time(ms) * sim.Millisecond }
	event := func(ms int64, node sim.NodeID, e sim.Event) step {
		return func(c *Checker) { c.Event(at(ms), node, e) }
	}
	commit := func(ms int64, lsn, peer, mid uint64) step {
		return event(ms, origin, &sim.Committed{Collection: "c0", LSN: lsn, Peer: peer, Mutation: mid})
	}
	apply := func(ms int64, lsn uint64) step { return event(ms, lite1, &sim.Applied{Collection: "c0", LSN: lsn}) }
	ack := func(ms int64, mid uint64, altered bool) step {
		b := encode(t, &wire.DeltaAck{MutationID: mid, LSN: 1})
		return func(c *Checker) { c.Step(at(ms), lite1, &sim.Input{Kind: sim.InFrame, Frame: b}, altered) }
	}
	reject := func(ms int64, mid uint64) step {
		b := encode(t, &wire.DeltaReject{MutationID: mid, Reason: "no"})
		return func(c *Checker) { c.Step(at(ms), lite1, &sim.Input{Kind: sim.InFrame, Frame: b}, false) }
	}
	frame := func(ms int64, node sim.NodeID, b []byte, altered bool) step {
		return func(c *Checker) { c.Step(at(ms), node, &sim.Input{Kind: sim.InFrame, Frame: b}, altered) }
	}
	sent := func(ms int64, conn sim.ConnID) step {
		return func(c *Checker) {
			c.Sent(at(ms), &sim.Packet{Conn: conn, From: origin, To: lite1, Type: wire.TypeShapeDelta})
		}
	}
	final := func(ms int64) step { return func(c *Checker) { c.Final(at(ms)) } }
	throttle := func(ms int64, conn sim.ConnID, on bool, rate uint64) step {
		b, err := wire.Default.Encode(&wire.Throttle{Throttle: on, QueueDepth: 900, SuggestedRate: rate})
		if err != nil {
			t.Fatal(err)
		}
		return func(c *Checker) { c.Step(at(ms), origin, &sim.Input{Kind: sim.InFrame, Conn: conn, Frame: b}, false) }
	}
	probed := func(ms int64, depth int) step {
		return func(c *Checker) { c.Probed(at(ms), lite1, &sim.Probe{QueueDepth: depth}) }
	}
	var sends []step
	for i := 0; i < 12; i++ { // 12 pushes within 10 ms
		sends = append(sends, sent(100+int64(i), 7))
	}
	for _, tc := range []struct {
		name  string
		want  string
		steps []step
	}{
		{"commit then ack", "", []step{commit(1, 1, 1, 5), ack(2, 5, false)}},
		{"ack without commit (dedup-before-apply)", AckedNotLost, []step{ack(2, 5, false)}},
		{"ack of another peer's commit", AckedNotLost, []step{commit(1, 1, 2, 5), ack(2, 5, false)}},
		{"reject without commit is fine", "", []step{reject(2, 5)}},
		{"false ack from a corrupted frame, later applied", "", []step{
			frame(0, origin, push(t, 1, 5, true), false), ack(1, 5, true), commit(3, 1, 1, 5), final(4)}},
		{"false ack from a corrupted frame, never applied", AckedNotLost, []step{
			frame(0, origin, push(t, 1, 5, true), false), ack(1, 5, true), final(4)}},
		{"false ack corrected by a rejection", "", []step{
			frame(0, origin, push(t, 1, 5, true), false), ack(1, 5, true), reject(2, 5), final(4)}},
		{"false ack of a rejected mutation", "", []step{
			frame(0, origin, push(t, 1, 5, true), false), reject(1, 5), ack(2, 5, true), final(4)}},
		{"corrupted ack of a mutation never pushed is noise", "", []step{
			frame(0, origin, push(t, 1, 5, true), false), ack(1, 9999, true), final(4)}},
		{"commit twice (no-dedup)", AppliedOnce, []step{commit(1, 1, 1, 5), commit(2, 2, 1, 5)}},
		{"local writes are not mutations", "", []step{commit(1, 1, 0, 0), commit(2, 2, 0, 0)}},
		{"commit of a good push", "", []step{frame(1, origin, push(t, 1, 5, true), false), commit(1, 1, 1, 5)}},
		{"commit of a bad-checksum push (skip-crc-check)", NoBadChecksum, []step{
			frame(1, origin, push(t, 1, 5, false), false), commit(1, 1, 1, 5)}},
		{"in order", "", []step{apply(1, 1), apply(2, 2)}},
		{"rewind (rewind-on-reorder)", InOrderApply, []step{apply(1, 1), apply(2, 2), apply(3, 1)}},
		{"skip", InOrderApply, []step{apply(1, 1), apply(2, 3)}},
		{"snapshot re-bases", "", []step{apply(1, 1), event(2, lite1, &sim.SnapshotLoaded{Collection: "c0", LSN: 40}), apply(3, 41)}},
		{"cold start re-bases to 0", "", []step{
			apply(1, 1), event(2, lite1, &sim.CorruptedState{}),
			event(3, lite1, &sim.SnapshotLoaded{Collection: "c0", LSN: 0}), apply(4, 1)}},
		{"unthrottled bursts are fine", "", sends},
		{"asked for 100/s, 12 at once (ignore-throttle)", ThrottleRate, append([]step{throttle(99, 7, true, 100)}, sends...)},
		{"asked for 0/s means the default 50/s", ThrottleRate, append([]step{throttle(99, 7, true, 0)}, sends...)},
		{"asked on another connection", "", append([]step{throttle(99, 8, true, 100)}, sends...)},
		{"asked then released", "", append([]step{throttle(98, 7, true, 100), throttle(99, 7, false, 0)}, sends...)},
		{"a release that does not decode releases nothing", ThrottleRate, append([]step{throttle(98, 7, true, 100),
			frame(99, origin, []byte{0x52, 1, 0, 0, 0, 0xc1}, true)}, sends...)},
		{"the lease has run 5 s after the request", "", append([]step{throttle(0, 7, true, 100)},
			func() []step {
				var s []step
				for i := 0; i < 12; i++ {
					s = append(s, sent(5001+int64(i), 7))
				}
				return s
			}()...)},
		{"a renewed request restarts the lease", ThrottleRate, append([]step{throttle(0, 7, true, 100), throttle(4000, 7, true, 100)},
			func() []step {
				var s []step
				for i := 0; i < 12; i++ {
					s = append(s, sent(5001+int64(i), 7))
				}
				return s
			}()...)},
		{"Origin's word that the lease ended early is no excuse", ThrottleRate, append([]step{throttle(98, 7, true, 100),
			event(99, origin, &sim.ThrottleOff{Conn: 7, Peer: lite1, ByLease: true})}, sends...)},
		{"Origin's own word is not taken for the engage", "", append([]step{event(99, origin, &sim.ThrottleOn{Conn: 7, Peer: lite1, Rate: 100})}, sends...)},
		{"throttled, within burst + rate", "", []step{throttle(0, 7, true, 100),
			sent(1, 7), sent(2, 7), sent(3, 7), sent(4, 7), sent(5, 7), sent(6, 7), sent(7, 7), sent(8, 7), sent(9, 7), sent(20, 7), sent(30, 7)}},
		{"queue within its capacity", "", []step{probed(1, 4)}},
		{"queue over its capacity", QueueCapacity, []step{probed(1, 4), probed(2, 5)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Config{Origin: origin, Throttle: terms, QueueCap: 4})
			for _, s := range tc.steps {
				s(c)
			}
			got := ""
			if v := c.Violation(); v != nil {
				got = v.Property
				if v.Message == "" || strings.Contains(v.Message, "%!") {
					t.Errorf("bad message %q", v.Message)
				}
			}
			if got != tc.want {
				t.Fatalf("violation %q, want %q (%v)", got, tc.want, c.Violation())
			}
		})
	}
}

func TestMessagesArePlainSentences(t *testing.T) {
	c := New(Config{Origin: origin})
	for i, lsn := range []uint64{1, 2, 1} {
		c.Event(sim.Time(i), lite1, &sim.Applied{Collection: "c0", LSN: lsn})
	}
	if got, want := c.Violation().Message, "node 1 applied LSN 1 of c0 after 2"; got != want {
		t.Fatalf("message %q, want %q", got, want)
	}
	r := c.Violation().Report(50)
	for _, want := range []string{"property: in-order-apply", "time:", "node:", "last 0 trace events"} {
		if !strings.Contains(r, want) {
			t.Errorf("report lacks %q:\n%s", want, r)
		}
	}
}

// A property that is not checked does not fail, however broken: what an
// implementation does not claim is not held against it.
func TestUncheckedPropertiesDoNotFail(t *testing.T) {
	c := New(Config{Origin: origin, Check: []string{AppliedOnce}})
	c.Event(1, lite1, &sim.Applied{Collection: "c0", LSN: 5})
	c.Step(2, lite1, &sim.Input{Kind: sim.InFrame, Frame: encode(t, &wire.DeltaAck{MutationID: 3})}, false)
	if v := c.Violation(); v != nil {
		t.Fatalf("unchecked property reported: %v", v)
	}
	if c.Checks(InOrderApply) || c.Checks(ThrottleRate) || !c.Checks(AppliedOnce) {
		t.Fatal("Checks disagrees with the configuration")
	}
	c.Event(3, origin, &sim.Committed{Collection: "c0", LSN: 1, Peer: 1, Mutation: 1})
	c.Event(4, origin, &sim.Committed{Collection: "c0", LSN: 2, Peer: 1, Mutation: 1})
	if v := c.Violation(); v == nil || v.Property != AppliedOnce {
		t.Fatalf("the checked property did not fail: %v", v)
	}
	// Without throttle terms or a queue capacity, those two are off even
	// when named.
	c = New(Config{Origin: origin, Check: []string{ThrottleRate, QueueCapacity}})
	if c.Checks(ThrottleRate) || c.Checks(QueueCapacity) {
		t.Fatal("throttle-rate or queue-capacity checked without the terms they need")
	}
}

func TestPropertyTableIsComplete(t *testing.T) {
	for _, p := range Properties() {
		if p.What == "" || p.RestsOn == "" {
			t.Errorf("%s: say what it is and what it rests on", p.Name)
		}
		if _, ok := Lookup(p.Name); !ok {
			t.Errorf("%s: Lookup does not find it", p.Name)
		}
	}
	if len(Names()) != 7 {
		t.Fatalf("names %v", Names())
	}
}
