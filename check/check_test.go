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

func obs(k sim.ObsKind, node sim.NodeID, a, b, c uint64, s string) *sim.Observation {
	return &sim.Observation{Kind: k, Node: node, A: a, B: b, C: c, S: s}
}

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
	observe := func(ms int64, o *sim.Observation) step { return func(c *Checker) { c.Observe(at(ms), o) } }
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
	leaseOff := func(ms int64, conn sim.ConnID) step {
		return observe(ms, obs(sim.ObsThrottleOff, origin, 1, uint64(conn), 1, ""))
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
		{"commit then ack", "", []step{observe(1, obs(sim.ObsCommit, origin, 1, 1, 5, "c0")), observe(2, obs(sim.ObsAcked, lite1, 1, 0, 5, ""))}},
		{"ack without commit (dedup-before-apply)", AckedNotLost, []step{observe(2, obs(sim.ObsAcked, lite1, 1, 0, 5, ""))}},
		{"reject without commit is fine", "", []step{observe(2, obs(sim.ObsAcked, lite1, 0, 1, 5, ""))}},
		{"false ack from a corrupted frame, later applied", "", []step{
			frame(1, lite1, []byte{0x11}, true), observe(1, obs(sim.ObsAcked, lite1, 1, 0, 5, "")),
			observe(3, obs(sim.ObsCommit, origin, 1, 1, 5, "c0")), final(4)}},
		{"false ack from a corrupted frame, never applied", AckedNotLost, []step{
			frame(1, lite1, []byte{0x11}, true), observe(1, obs(sim.ObsAcked, lite1, 1, 0, 5, "")), final(4)}},
		{"false ack corrected by a rejection", "", []step{
			frame(1, lite1, []byte{0x11}, true), observe(1, obs(sim.ObsAcked, lite1, 1, 0, 5, "")),
			observe(2, obs(sim.ObsAcked, lite1, 0, 1, 5, "")), final(4)}},
		{"commit twice (no-dedup)", AppliedOnce, []step{
			observe(1, obs(sim.ObsCommit, origin, 1, 1, 5, "c0")), observe(2, obs(sim.ObsCommit, origin, 2, 1, 5, "c0"))}},
		{"local writes are not mutations", "", []step{
			observe(1, obs(sim.ObsCommit, origin, 1, 0, 0, "c0")), observe(2, obs(sim.ObsCommit, origin, 2, 0, 0, "c0"))}},
		{"commit of a good push", "", []step{frame(1, origin, push(t, 1, 5, true), false), observe(1, obs(sim.ObsCommit, origin, 1, 1, 5, "c0"))}},
		{"commit of a bad-checksum push (skip-crc-check)", NoBadChecksum, []step{
			frame(1, origin, push(t, 1, 5, false), false), observe(1, obs(sim.ObsCommit, origin, 1, 1, 5, "c0"))}},
		{"in order", "", []step{observe(1, obs(sim.ObsApply, lite1, 1, 0, 0, "c0")), observe(2, obs(sim.ObsApply, lite1, 2, 0, 0, "c0"))}},
		{"rewind (rewind-on-reorder)", InOrderApply, []step{
			observe(1, obs(sim.ObsApply, lite1, 1, 0, 0, "c0")), observe(2, obs(sim.ObsApply, lite1, 2, 0, 0, "c0")), observe(3, obs(sim.ObsApply, lite1, 1, 0, 0, "c0"))}},
		{"skip", InOrderApply, []step{observe(1, obs(sim.ObsApply, lite1, 1, 0, 0, "c0")), observe(2, obs(sim.ObsApply, lite1, 3, 0, 0, "c0"))}},
		{"snapshot re-bases", "", []step{
			observe(1, obs(sim.ObsApply, lite1, 1, 0, 0, "c0")), observe(2, obs(sim.ObsSnapshot, lite1, 40, 0, 0, "c0")), observe(3, obs(sim.ObsApply, lite1, 41, 0, 0, "c0"))}},
		{"cold start re-bases to 0", "", []step{
			observe(1, obs(sim.ObsApply, lite1, 1, 0, 0, "c0")), observe(2, obs(sim.ObsCorruptedState, lite1, 0, 0, 0, "")),
			observe(3, obs(sim.ObsSnapshot, lite1, 0, 0, 0, "c0")), observe(4, obs(sim.ObsApply, lite1, 1, 0, 0, "c0"))}},
		{"unthrottled bursts are fine", "", sends},
		{"asked for 100/s, 12 at once (ignore-throttle)", ThrottleRate, append([]step{throttle(99, 7, true, 100)}, sends...)},
		{"asked for 0/s means the default 50/s", ThrottleRate, append([]step{throttle(99, 7, true, 0)}, sends...)},
		{"asked on another connection", "", append([]step{throttle(99, 8, true, 100)}, sends...)},
		{"asked then released", "", append([]step{throttle(98, 7, true, 100), throttle(99, 7, false, 0)}, sends...)},
		{"a release that does not decode releases nothing", ThrottleRate, append([]step{throttle(98, 7, true, 100),
			frame(99, origin, []byte{0x52, 1, 0, 0, 0, 0xc1}, true)}, sends...)},
		{"lease ended after 5 s", "", append([]step{throttle(0, 7, true, 100), leaseOff(5000, 7)},
			func() []step {
				var s []step
				for i := 0; i < 12; i++ {
					s = append(s, sent(5001+int64(i), 7))
				}
				return s
			}()...)},
		{"lease ended early (the lease is no excuse)", ThrottleRate, append([]step{throttle(98, 7, true, 100), leaseOff(99, 7)}, sends...)},
		{"Origin's own word is not taken for the engage", "", append([]step{observe(99, obs(sim.ObsThrottleOn, origin, 7, 100, 1, ""))}, sends...)},
		{"throttled, within burst + rate", "", []step{throttle(0, 7, true, 100),
			sent(1, 7), sent(2, 7), sent(3, 7), sent(4, 7), sent(5, 7), sent(6, 7), sent(7, 7), sent(8, 7), sent(9, 7), sent(20, 7), sent(30, 7)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := New(Config{Origin: origin})
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
	c.Observe(sim.Second, obs(sim.ObsApply, lite1, 43, 0, 0, "c0"))
	c = New(Config{Origin: origin})
	c.Observe(1, obs(sim.ObsApply, lite1, 1, 0, 0, "c0"))
	c.Observe(2, obs(sim.ObsApply, lite1, 2, 0, 0, "c0"))
	c.Observe(3, obs(sim.ObsApply, lite1, 1, 0, 0, "c0"))
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

// overfull is a node whose queue holds more than its capacity after its
// third step (a planted queue-bound bug).
type overfull struct{ steps int }

func (o *overfull) Crash() {}
func (o *overfull) Step(now sim.Time, in *sim.Input, out *sim.Outbox) {
	o.steps++
	out.SetTimer(sim.Millisecond, 0)
}
func (o *overfull) QueueDepth() (int, int) {
	if o.steps >= 3 {
		return 5, 4
	}
	return o.steps, 4
}

func TestQueueCapacityTrips(t *testing.T) {
	c := New(Config{Origin: origin})
	w := sim.New(sim.Config{Seed: 1, Nodes: []sim.NodeSpec{{Name: "o", Node: &overfull{}}}, Monitor: c, Deadline: sim.Second})
	c.Attach(w)
	w.Run()
	v := c.Violation()
	if v == nil || v.Property != QueueCapacity || v.At != 2*sim.Millisecond || !strings.Contains(v.Message, "5 queued deltas, over its capacity of 4") {
		t.Fatalf("violation %v", v)
	}
	if w.Now() != 2*sim.Millisecond {
		t.Fatalf("run went on to %v after the violation", w.Now())
	}
}
