package topology

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/nodes/lite"
	"github.com/syncsim/syncsim/nodes/reference"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

func seriesOf(r Result, name string, node sim.NodeID) []sim.Point {
	for _, s := range r.Series {
		if s.Name == name && s.Node == node {
			return s.Points
		}
	}
	return nil
}

// A Lite that drains 100 deltas/s while Origin commits 400/s must engage
// the throttle, Origin must then push at most the suggested rate (plus the
// token bucket's burst), and everything must still converge after the
// throttle is released.
func TestSlowConsumerThrottles(t *testing.T) {
	p := refDefaults()
	p.Seed, p.Lites, p.Collections = 4, 1, 1
	p.LiteRate, p.OriginRate = 0, 400
	p.WriteFor, p.Budget = 5*sim.Second, 60*sim.Second
	p = withRef(p, reference.Config{Lite: lite.Config{DrainRate: 100}})
	c, _ := New(p)
	r := c.Run()
	if !r.Converged {
		t.Fatalf("not converged: %s", r.Divergence)
	}
	sameState(t, c)
	if r.Counters.ThrottleOn == 0 || r.Counters.ThrottleOff == 0 {
		t.Fatalf("throttle on %d off %d, want both", r.Counters.ThrottleOn, r.Counters.ThrottleOff)
	}
	on := seriesOf(r, "origin_throttled", LiteID(0))
	rate := seriesOf(r, "push_rate", LiteID(0))
	const burst, every = 8.0, 0.1 // origin.Config defaults; the sample interval in seconds
	throttledSamples := 0
	for i := 1; i < len(on); i++ {
		if on[i-1].V == 1 && on[i].V == 1 {
			throttledSamples++
			if max := 100 + burst/every; rate[i].V > max {
				t.Errorf("at %v origin pushed %.0f deltas/s to a peer throttled to 100/s (bound %.0f)", rate[i].T, rate[i].V, max)
			}
		}
	}
	if throttledSamples < 10 {
		t.Fatalf("only %d samples with the throttle engaged", throttledSamples)
	}
}

// Without its Throttle messages the same Lite overflows its queue: proof
// that the test above measures the throttle, not a lucky rate.
func TestSlowConsumerWithoutThrottleOverflows(t *testing.T) {
	p := refDefaults()
	p.Seed, p.Lites, p.Collections = 4, 1, 1
	p.LiteRate, p.OriginRate = 0, 400
	p.WriteFor, p.Budget = 5*sim.Second, 60*sim.Second
	p = withRef(p, reference.Config{Lite: lite.Config{DrainRate: 100, HighWater: 1 << 30}}) // never engage
	var trace bytes.Buffer
	p.Trace = &trace
	r, _ := Run(p)
	if r.Counters.ThrottleOn != 0 || !strings.Contains(trace.String(), `"event":"queue-overflow"`) {
		t.Fatalf("throttle on %d; overflow seen: %v", r.Counters.ThrottleOn, strings.Contains(trace.String(), "queue-overflow"))
	}
	// The counter of dropped deltas is the trace's count of them (the
	// summaries show it beside the bytes lost to faults).
	if n := uint64(strings.Count(trace.String(), `"event":"queue-overflow"`)); r.Counters.QueueOverflows != n {
		t.Errorf("QueueOverflows %d, the trace has %d queue-overflow events", r.Counters.QueueOverflows, n)
	}
}

// A Lite whose durable state is damaged while it is down must notice at
// restart, ask for a full re-sync (CorruptedState, from 0) and converge.
func TestCorruptedDurableStateColdStart(t *testing.T) {
	for _, corrupt := range []bool{true, false} {
		p := refDefaults()
		p.Seed = 6
		var trace bytes.Buffer
		p.Trace = &trace
		p.Setup = func(c *Cluster) {
			l := liteNode(c, 0)
			c.World.At(2*sim.Second, func(w *sim.World) { w.Crash(LiteID(0)) })
			if corrupt {
				c.World.At(2100*sim.Millisecond, func(w *sim.World) { l.CorruptDurable(sim.StreamSeed(6, "test/corrupt")) })
			}
			c.World.At(2500*sim.Millisecond, func(w *sim.World) { w.Restart(LiteID(0)) })
		}
		c, _ := New(p)
		r := c.Run()
		if !r.Converged {
			t.Fatalf("corrupt=%v: not converged: %s", corrupt, r.Divergence)
		}
		sameState(t, c)
		detected := strings.Contains(trace.String(), `"node":1,"event":"corrupted-state"`)
		fullResync := strings.Contains(trace.String(), `"node":1,"event":"resync-sent","collection":"c0","from":0,`)
		if detected != corrupt || fullResync != corrupt {
			t.Fatalf("corrupt=%v: corrupted-state observed %v, full resync sent %v", corrupt, detected, fullResync)
		}
	}
}

// A Lite whose device clock is off by a minute gets clock-skew warnings in
// its acks; one with a true clock gets none.
func TestClockSkewIsWarned(t *testing.T) {
	p := refDefaults()
	p.Seed = 8
	p.Setup = func(c *Cluster) { liteNode(c, 0).SetClockSkew(sim.Minute) }
	c, _ := New(p)
	if r := c.Run(); !r.Pass() {
		t.Fatal(r.Violation)
	}
	if liteNode(c, 0).SkewWarnings() == 0 || liteNode(c, 1).SkewWarnings() != 0 {
		t.Fatalf("warnings: skewed lite %d, true lite %d", liteNode(c, 0).SkewWarnings(), liteNode(c, 1).SkewWarnings())
	}
}

// naiveStarve measures the longest throttled silence the slow way, as the
// counter is meant to: after every step of Origin it asks about every
// session, and a throttled session with a backlog waits from then until
// Origin next sends it a delta or a snapshot.
type naiveStarve struct {
	c       *Cluster
	since   map[sim.ConnID]sim.Time // throttled sessions: when the wait began (-1: not waiting)
	last    map[sim.ConnID]sim.Time // throttled sessions: the engage or the last delta
	longest sim.Time
	probe   sim.Probe
}

func (n *naiveStarve) end(now sim.Time, conn sim.ConnID) {
	if s := n.since[conn]; s >= 0 {
		n.longest = max(n.longest, now-max(n.last[conn], s))
	}
}

func (n *naiveStarve) Step(sim.Time, sim.NodeID, *sim.Input, bool) {}
func (n *naiveStarve) Event(now sim.Time, _ sim.NodeID, ev sim.Event) {
	switch e := ev.(type) {
	case *sim.ThrottleOn:
		if _, ok := n.since[e.Conn]; !ok {
			n.since[e.Conn], n.last[e.Conn] = -1, now
		}
	case *sim.ThrottleOff:
		if _, ok := n.since[e.Conn]; ok {
			n.end(now, e.Conn)
			delete(n.since, e.Conn)
			delete(n.last, e.Conn)
		}
	}
}
func (n *naiveStarve) Sent(now sim.Time, p *sim.Packet) {
	if p.From != OriginID || p.Type != wire.TypeShapeDelta && p.Type != wire.TypeShapeSnapshot {
		return
	}
	if _, ok := n.since[p.Conn]; ok {
		n.end(now, p.Conn)
		n.since[p.Conn], n.last[p.Conn] = -1, now
	}
}
func (n *naiveStarve) AfterStep(now sim.Time, node sim.NodeID) {
	if node != OriginID || !n.c.World.Probe(OriginID, &n.probe) {
		return
	}
	for _, s := range n.probe.Sessions {
		if w, ok := n.since[s.Conn]; ok && w < 0 && s.Backlog > 0 {
			n.since[s.Conn] = now
		}
	}
}

// The counter's longest throttled silence asks Origin only about the
// throttled sessions not yet known to wait, and only after a step that
// committed or fed one: it must come out as the naive measure, which asks
// about every session after every step of Origin.
func TestLongestThrottledSilenceMatchesNaive(t *testing.T) {
	slow := withRef(Defaults(), reference.Config{Lite: lite.Config{DrainRate: 100}})
	slow.Lites, slow.LiteRate, slow.OriginRate = 4, 0, 400
	slow.WriteFor, slow.Budget = 3*sim.Second, 60*sim.Second
	fan := slow // many sessions throttled at once, as in a large fan-out
	fan.Lites = 64
	type run struct {
		name string
		p    Params
	}
	cases := []run{{"slow-consumer", slow}, {"fan-out", fan}}
	for seed := uint64(1); seed <= 40; seed++ {
		p := swarmParams(seed)
		p.Faults = faults.Swarm(seed, p.WriteFor, p.Lites)
		cases = append(cases, run{fmt.Sprintf("swarm seed %d", seed), p})
	}
	silent := 0
	for _, tc := range cases {
		n := &naiveStarve{since: map[sim.ConnID]sim.Time{}, last: map[sim.ConnID]sim.Time{}}
		c, err := newWithMonitor(tc.p, n)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		n.c = c
		r := c.Run()
		if r.Metrics.MaxStarve != n.longest {
			t.Errorf("%s: longest throttled silence %v, the naive measure %v", tc.name, r.Metrics.MaxStarve, n.longest)
		}
		if n.longest > 0 {
			silent++
			t.Logf("%s: %v", tc.name, n.longest)
		}
	}
	if silent < 4 {
		t.Fatalf("only %d of %d runs had a throttled silence: the comparison says little", silent, len(cases))
	}
}

// A throttled session that ends without a ThrottleOff (its Lite crashed,
// so Origin dropped the session) leaves the counter's list of sessions
// not known to wait: the list holds live sessions only.
func TestCounterForgetsSessionsGoneWithoutRelease(t *testing.T) {
	gone := 0
	for seed := uint64(1); seed <= 8; seed++ {
		p := withRef(Defaults(), reference.Config{Lite: lite.Config{DrainRate: 100}})
		p.Seed, p.Lites, p.LiteRate, p.OriginRate = seed, 3, 0, 400
		p.WriteFor, p.Budget = 4*sim.Second, 60*sim.Second
		p.Faults = faults.Plan{Heal: p.WriteFor}
		for i := 1; i <= 3; i++ {
			p.Script = append(p.Script, faults.Event{At: sim.Time(i) * 900 * sim.Millisecond, Kind: faults.Crash, Node: sim.NodeID(i), For: 300 * sim.Millisecond})
		}
		c, err := New(p)
		if err != nil {
			t.Fatal(err)
		}
		r := c.Run()
		var live sim.Probe
		if !c.World.Probe(OriginID, &live) {
			t.Fatalf("seed %d: Origin down at the end", seed)
		}
		open := map[sim.ConnID]bool{}
		for _, s := range live.Sessions {
			open[s.Conn] = true
		}
		for _, conn := range c.idle {
			if !open[conn] {
				t.Errorf("seed %d: the counter still lists conn %d, which Origin no longer has", seed, conn)
			}
		}
		gone += int(r.Counters.ThrottleOn - r.Counters.ThrottleOff)
	}
	if gone == 0 {
		t.Fatal("no throttled session ended without a release: the test tests nothing")
	}
}
