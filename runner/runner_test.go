package runner

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/scenarios"
)

func TestResolveAndCommands(t *testing.T) {
	tg, err := Resolve("lossy", "no-dedup")
	if err != nil {
		t.Fatal(err)
	}
	if got := tg.Replay(7); got != "simrun run -scenario lossy -seed 7 -bug no-dedup" {
		t.Errorf("replay %q", got)
	}
	if got := tg.ShrinkCmd(7); got != "simrun shrink -scenario lossy -seed 7 -bug no-dedup" {
		t.Errorf("shrink %q", got)
	}
	if tg.Sc.Bug != "no-dedup" {
		t.Errorf("bug %q", tg.Sc.Bug)
	}
	if got := (Target{Arg: "/tmp/my file.json", Sc: tg.Sc}).Replay(1); got != "simrun run -scenario '/tmp/my file.json' -seed 1" {
		t.Errorf("quoted %q", got)
	}
	for _, tc := range []struct{ arg, bug, err string }{
		{"no-such", "", `no scenario named "no-such"`},
		{"lossy", "no-dedup,none", "none switches every bug off and goes alone"},
		{"lossy", "bogus", `no planted bug named "bogus"`},
	} {
		if _, err := Resolve(tc.arg, tc.bug); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Resolve(%q, %q) = %v, want %q", tc.arg, tc.bug, err, tc.err)
		}
	}
}

// A sweep returns its runs in seed order whatever order they finish in,
// and stops starting seeds once cancelled.
func TestSweepOrderAndCancel(t *testing.T) {
	tg, err := Resolve("baseline", "")
	if err != nil {
		t.Fatal(err)
	}
	seeds := []uint64{9, 3, 7, 1, 5}
	done := 0
	runs := Sweep(context.Background(), tg, seeds, SweepOptions{Workers: 3, Done: func(results.Run) { done++ }})
	var got []uint64
	for _, r := range runs {
		got = append(got, r.Seed)
		if !r.Pass || r.WallS <= 0 {
			t.Errorf("seed %d: pass %v wall %v", r.Seed, r.Pass, r.WallS)
		}
	}
	if !slices.Equal(got, seeds) || done != len(seeds) {
		t.Fatalf("runs %v (%d reported), want %v", got, done, seeds)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if runs := Sweep(ctx, tg, seeds, SweepOptions{Workers: 1}); len(runs) >= len(seeds) {
		t.Fatalf("a cancelled sweep ran %d of %d seeds", len(runs), len(seeds))
	}
}

func TestVerdicts(t *testing.T) {
	conv := func(v float64) *float64 { return &v }
	s := results.Sweep{Runs: []results.Run{
		{Seed: 1, Pass: true, ConvergeAfter: conv(0.5), Marks: map[string]uint64{"reconnect": 2}},
		{Seed: 2, Pass: false, Replay: "r2", Violation: &results.Violation{Property: "convergence"}},
		{Seed: 3, Pass: true, ConvergeAfter: conv(9), Metrics: results.Metrics{ResyncRatio: 7}},
		{Seed: 4, Pass: false, Replay: "r4", Violation: &results.Violation{Property: "acked-not-lost"}},
		{Seed: 5, Pass: false, Replay: "r5", Violation: &results.Violation{Property: "convergence"}},
	}}
	sum := Summarize(s)
	if sum.Runs != 5 || sum.Passed != 2 || sum.Failed != 3 || !slices.Equal(sum.Converge, []float64{0.5, 9}) ||
		!slices.Equal(sum.Replays, []string{"r2", "r4", "r5"}) {
		t.Fatalf("summary %+v", sum)
	}
	if len(sum.ByProperty) != 2 || sum.ByProperty[0].Property != "convergence" || !slices.Equal(sum.ByProperty[0].Seeds, []uint64{2, 5}) {
		t.Fatalf("by property %+v", sum.ByProperty)
	}
	sc := &scenarios.Scenario{Name: "x", Require: map[string]float64{"reconnect": 0.5, "crash-recovery": 0.1},
		Gates: &scenarios.Gates{ConvergeP99: scenarios.Duration(2e9), ResyncRatio: 5}}
	missed := 0
	for _, m := range Coverage(sc, s) {
		if m.Name == "reconnect" && (m.Fraction != 0.2 || !m.Missed) {
			t.Errorf("reconnect %+v", m)
		}
		if m.Missed {
			missed++
		}
	}
	if missed != 2 {
		t.Errorf("%d marks missed, want 2", missed)
	}
	c := Gates(sc, s)
	if len(c.Broken) != 2 || c.Broken[0].Gate != "converge-p99" || !slices.Equal(c.Broken[0].Seeds, []uint64{3}) ||
		c.Broken[1].Gate != "resync-ratio" || c.Broken[1].Seeds[0] != 3 {
		t.Fatalf("gates %+v", c.Broken)
	}
	if Pct([]float64{1, 2, 3, 4}, 50) != 2 || Pct(nil, 50) != 0 {
		t.Error("Pct")
	}
}

func TestMerge(t *testing.T) {
	a := &results.Sweep{Scenario: "lossy", Seeds: []uint64{1, 3}, Runs: []results.Run{{Seed: 3}, {Seed: 1}}}
	b := &results.Sweep{Scenario: "lossy", Seeds: []uint64{2, 4}, Runs: []results.Run{{Seed: 2}}, Interrupted: true}
	m, missing, err := Merge([]Shard{{"a.json", a}, {"b.json", b}})
	if err != nil {
		t.Fatal(err)
	}
	var seeds []uint64
	for _, r := range m.Runs {
		seeds = append(seeds, r.Seed)
	}
	if !slices.Equal(seeds, []uint64{1, 2, 3}) || !slices.Equal(missing, []uint64{4}) || !m.Interrupted {
		t.Fatalf("merged %v missing %v interrupted %v", seeds, missing, m.Interrupted)
	}
	if _, _, err := Merge([]Shard{{"a.json", a}, {"a2.json", a}}); err == nil || !strings.Contains(err.Error(), "seed 3 appears in more than one file") {
		t.Errorf("overlap: %v", err)
	}
	other := &results.Sweep{Scenario: "swarm"}
	if _, _, err := Merge([]Shard{{"a.json", a}, {"o.json", other}}); err == nil || !strings.Contains(err.Error(), `o.json is a sweep of "swarm"`) {
		t.Errorf("mixed: %v", err)
	}
}
