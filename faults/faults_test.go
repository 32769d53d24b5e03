package faults_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/nodes/lite"
	"github.com/syncsim/syncsim/nodes/origin"
	"github.com/syncsim/syncsim/nodes/reference"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/topology"
	"github.com/syncsim/syncsim/wire"
)

func target(t *testing.T, s string) faults.Target {
	t.Helper()
	tg, err := faults.ParseTarget(s)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

func TestParseTarget(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{"all", ""}, {"", ""}, {"origin", ""}, {"lites", ""}, {"lite:3", ""}, {"link:0->2", ""},
		{"lite:0", "lite:N with N >= 1"}, {"lite:x", "lite:N"}, {"link:1->1", "two different"},
		{"link:1-2", "link:A->B"}, {"everyone", "want all, origin"},
	} {
		_, err := faults.ParseTarget(tc.in)
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseTarget(%q) = %v, want error containing %q", tc.in, err, tc.err)
		}
	}
}

func TestPlanValidate(t *testing.T) {
	all := target(t, "all")
	ok := faults.Spec{Kind: faults.Drop, Probability: 0.1, Target: all}
	for _, tc := range []struct {
		spec faults.Spec
		heal sim.Time
		err  string
	}{
		{ok, sim.Second, ""},
		{ok, 0, "heal time"},
		{faults.Spec{Kind: "meteor", PerSecond: 1, Target: all}, sim.Second, `fault 1 (meteor): unknown kind "meteor"`},
		{faults.Spec{Kind: faults.Drop, Probability: 1.5, Target: all}, sim.Second, "fault 1 (drop): probability 1.5"},
		{faults.Spec{Kind: faults.Drop, PerSecond: 1, Target: all}, sim.Second, "fault 1 (drop): probability 0"},
		{faults.Spec{Kind: faults.Drop, Probability: 0.5, PerSecond: 1, Target: all}, sim.Second, "a frame fault has a probability per frame, not a rate per second"},
		{faults.Spec{Kind: faults.Crash, PerSecond: 0, Target: all}, sim.Second, "fault 1 (crash): rate 0"},
		{faults.Spec{Kind: faults.Crash, PerSecond: 1, Probability: 0.5, Target: all}, sim.Second, "a node fault has a rate per second, not a probability"},
		{faults.Spec{Kind: faults.Drop, Probability: 0.1, Start: 500 * sim.Millisecond, End: 100 * sim.Millisecond, Target: all}, sim.Second, "window"},
		{faults.Spec{Kind: faults.Drop, Probability: 0.1, Start: 2 * sim.Second, Target: all}, sim.Second, "at or after heal"},
		{faults.Spec{Kind: faults.SlowConsumer, PerSecond: 1, Factor: 1.5, Target: all}, sim.Second, "factor 1.5"},
		{faults.Spec{Kind: faults.Burst, PerSecond: 1, N: -1, Target: all}, sim.Second, "count -1"},
		{faults.Spec{Kind: faults.Crash, PerSecond: 1, Target: target(t, "lite:9")}, sim.Second, "names Lite 9, the run has 3 Lites"},
		{faults.Spec{Kind: faults.Drop, Probability: 0.1, Target: target(t, "link:1->7")}, sim.Second, "names node 7"},
	} {
		err := faults.Plan{Specs: []faults.Spec{tc.spec}, Heal: tc.heal}.Validate(topology.Roles(3))
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%+v: err %v, want one containing %q", tc.spec, err, tc.err)
		}
	}
}

func TestSwarmIsAFunctionOfTheSeed(t *testing.T) {
	a, b := faults.Swarm(5, 10*sim.Second, 3), faults.Swarm(5, 10*sim.Second, 3)
	if !reflect.DeepEqual(a, b) {
		t.Fatal("same seed, different plans")
	}
	mixes := map[string]bool{}
	for seed := uint64(1); seed <= 50; seed++ {
		p := faults.Swarm(seed, 10*sim.Second, 3)
		if err := p.Validate(topology.Roles(3)); err != nil {
			t.Fatalf("seed %d: swarm made an invalid plan: %v", seed, err)
		}
		mixes[fmt.Sprint(p.Kinds())] = true
	}
	// Swarm testing's point: many different mixes, not one average.
	if len(mixes) < 40 {
		t.Fatalf("50 seeds gave only %d distinct fault mixes", len(mixes))
	}
}

// defaults is topology.Defaults with the reference nodes in both roles.
func defaults() topology.Params {
	p := topology.Defaults()
	var ref reference.Config
	p.Origin, p.Lite = ref.OriginImpl(), ref.LiteImpl()
	return p
}

func swarmRun(seed uint64, script []faults.Event) topology.Result {
	p := defaults()
	p.Seed, p.WriteFor = seed, 10*sim.Second
	p.Faults = faults.Swarm(seed, p.WriteFor, p.Lites)
	p.Script = script
	r, err := topology.Run(p)
	if err != nil {
		panic(err)
	}
	return r
}

// A run's recorded schedule, replayed as a script instead of drawn from the
// plan, reproduces the run exactly: same faults, same trace hash.
func TestScheduleReplaysExactly(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		live := swarmRun(seed, nil)
		if len(live.Schedule) == 0 {
			t.Fatalf("seed %d: no faults fired", seed)
		}
		replayed := swarmRun(seed, live.Schedule)
		if replayed.Hash != live.Hash {
			t.Errorf("seed %d: replayed schedule of %d events gives hash %016x, live run %016x",
				seed, len(live.Schedule), replayed.Hash, live.Hash)
		}
		if !reflect.DeepEqual(replayed.Schedule, live.Schedule) {
			t.Errorf("seed %d: replay fired %d events, live %d", seed, len(replayed.Schedule), len(live.Schedule))
		}
	}
}

// Nothing fires at or after heal, and everything started before it ends by
// then: after heal the network is clean.
func TestNothingFiresAfterHeal(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		r := swarmRun(seed, nil)
		for _, e := range r.Schedule {
			if e.At >= 10*sim.Second {
				t.Fatalf("seed %d: %v fired after heal", seed, e)
			}
		}
		if r.Counters.FramesSent == 0 {
			t.Fatal("no frames")
		}
	}
}

// Each frame fault does to the bytes what it says, as the decoder sees it.
func TestFrameFaultsHitTheDecoder(t *testing.T) {
	for _, k := range []faults.Kind{faults.Drop, faults.Duplicate, faults.Delay, faults.Reorder,
		faults.BitFlip, faults.BadType, faults.BadLength, faults.Truncate} {
		p := defaults()
		p.Seed, p.WriteFor = 3, 5*sim.Second
		p.Faults = faults.Plan{Heal: p.WriteFor, Specs: []faults.Spec{{Kind: k, Probability: 0.05, Target: target(t, "all")}}}
		r, err := topology.Run(p)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Pass() {
			t.Errorf("%s: %v", k, r.Violation)
		}
		fired := 0
		for _, e := range r.Schedule {
			if e.Kind == k {
				fired++
			}
		}
		c := r.Counters
		var ok bool
		switch k {
		case faults.Drop:
			ok = c.FramesDropped >= uint64(fired)
		case faults.Duplicate:
			ok = c.FramesDuplicated == uint64(fired)
		case faults.BitFlip, faults.BadType, faults.BadLength, faults.Truncate:
			ok = c.FramesCorrupted == uint64(fired) && (k == faults.BitFlip || c.DecodeErrors > 0)
		default:
			ok = true
		}
		if fired == 0 || !ok {
			t.Errorf("%s: fired %d times; counters %+v", k, fired, c)
		}
	}
}

func TestShrinkFindsTheCulprits(t *testing.T) {
	// 200 events; the "bug" needs events 17 and 150 together (an
	// interaction ddmin must keep both halves of).
	var events []faults.Event
	for i := 0; i < 200; i++ {
		events = append(events, faults.Event{At: sim.Time(i), Kind: faults.Drop})
	}
	calls := 0
	fails := func(c []faults.Event) bool {
		calls++
		has := map[sim.Time]bool{}
		for _, e := range c {
			has[e.At] = true
		}
		return has[17] && has[150]
	}
	got := faults.Shrink(events, fails, 10000)
	if len(got) != 2 || got[0].At != 17 || got[1].At != 150 {
		t.Fatalf("shrunk to %v", got)
	}
	if calls > 200 {
		t.Fatalf("%d calls for 200 events", calls)
	}
	// The budget is respected.
	calls = 0
	faults.Shrink(events, fails, 5)
	if calls > 5 {
		t.Fatalf("budget 5, %d calls", calls)
	}
}

// A schedule's events are coupled: removing some of a link's faults shifts
// the timing the rest depend on. Here the failure needs events 17 and 150
// (both on link 1->0) and every other link's faults either all present or
// all gone; ddmin's halves break the second condition at every step, and
// only dropping whole links gets through.
func TestShrinkDropsWholeLinks(t *testing.T) {
	var events []faults.Event
	for i := 0; i < 1000; i++ {
		events = append(events, faults.Event{At: sim.Time(i), Kind: faults.Drop,
			Node: sim.NodeID(i % 10), Peer: sim.NodeID((i%10 + 1) % 10), Type: wire.TypeShapeDelta})
	}
	events[17].Node, events[17].Peer = 1, 0
	events[150].Node, events[150].Peer = 1, 0
	all := map[[2]sim.NodeID]int{}
	for _, e := range events {
		all[[2]sim.NodeID{e.Node, e.Peer}]++
	}
	fails := func(c []faults.Event) bool {
		perLink := map[[2]sim.NodeID]int{}
		has := map[sim.Time]bool{}
		for _, e := range c {
			perLink[[2]sim.NodeID{e.Node, e.Peer}]++
			has[e.At] = true
		}
		for l, n := range perLink {
			if l != [2]sim.NodeID{1, 0} && n != all[l] {
				return false
			}
		}
		return has[17] && has[150]
	}
	got := faults.Shrink(events, fails, 300)
	if len(got) != 2 || got[0].At != 17 || got[1].At != 150 {
		t.Fatalf("shrunk 1000 events to %d in 300 runs (first %v), want events 17 and 150 only", len(got), got[:min(len(got), 3)])
	}
}

// Each protocol-aware fault produces valid frames the decoder accepts, so
// a protocol guard must catch it: the run still passes, and the guard's
// coverage mark shows it was the one that did.
func TestProtocolFaultsMeetTheirGuards(t *testing.T) {
	drops := faults.Spec{Kind: faults.Drop, Probability: 0.05, Target: target(t, "all")}
	for _, tc := range []struct {
		kind  faults.Kind
		base  func(p *topology.Params)
		guard string // the mark that shows the guard acted
	}{
		{faults.ForgeDelta, nil, "digest-mismatch-down"}, // forged ShapeDeltas: anti-entropy digest
		{faults.RewindLSN, nil, ""},                      // ignored: at or below the last applied LSN
		{faults.ReplayOld, nil, "dedup-skip"},            // replayed pushes: dedup
		{faults.StaleClock, func(p *topology.Params) { // stale clocks after resets: re-sent catch-up
			p.Faults.Specs = append(p.Faults.Specs, faults.Spec{Kind: faults.Reset, PerSecond: 1, Target: target(t, "lites")})
		}, "reconnect"},
		{faults.ResyncAncient, func(p *topology.Params) { // ancient resync ranges: snapshot fallback
			p.Origin = reference.Config{Origin: origin.Config{RetainLog: 16}}.OriginImpl()
			p.Faults.Specs = append(p.Faults.Specs, drops)
		}, "snapshot-fallback"},
		{faults.DelayEngage, func(p *topology.Params) { // a release overtaking its engage: the lease
			p.Lites, p.Collections, p.LiteRate, p.OriginRate = 1, 1, 5, 600
			p.Lite = reference.Config{Lite: lite.Config{DrainRate: 200}}.LiteImpl()
		}, "throttle-lease-expired"},
	} {
		t.Run(string(tc.kind), func(t *testing.T) {
			fired, guarded := 0, 0
			for seed := uint64(1); seed <= 10; seed++ {
				p := defaults()
				p.Seed, p.WriteFor, p.Budget = seed, 8*sim.Second, 60*sim.Second
				p.Faults = faults.Plan{Heal: p.WriteFor, Specs: []faults.Spec{{Kind: tc.kind, Probability: 0.3, Target: target(t, "all")}}}
				if tc.base != nil {
					tc.base(&p)
				}
				r, err := topology.Run(p)
				if err != nil {
					t.Fatal(err)
				}
				if !r.Pass() {
					t.Errorf("seed %d: %v", seed, r.Violation)
				}
				for _, e := range r.Schedule {
					if e.Kind == tc.kind {
						fired++
					}
				}
				if tc.guard != "" && r.Marks[tc.guard] > 0 {
					guarded++
				}
			}
			if fired == 0 {
				t.Fatalf("%s never fired", tc.kind)
			}
			if tc.guard != "" && guarded == 0 {
				t.Fatalf("%s fired %d times but %s never did", tc.kind, fired, tc.guard)
			}
		})
	}
}
