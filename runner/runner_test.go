package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/scenarios"
	"github.com/syncsim/syncsim/topology"
)

func TestResolveAndCommands(t *testing.T) {
	tg, err := Resolve("lossy", Options{Bug: "no-dedup"})
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
		if _, err := Resolve(tc.arg, Options{Bug: tc.bug}); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Resolve(%q, %q) = %v, want %q", tc.arg, tc.bug, err, tc.err)
		}
	}
}

// A sweep hands on its runs in seed order whatever order they finish in,
// and stops starting seeds once cancelled.
func TestSweepOrderAndCancel(t *testing.T) {
	tg, err := Resolve("baseline", Options{})
	if err != nil {
		t.Fatal(err)
	}
	plan := results.Plan{From: 3, Count: 7, Shard: 1, Shards: 2} // seeds 3, 5, 7, 9
	var got []uint64
	n := Sweep(context.Background(), tg, plan, SweepOptions{Workers: 3, Each: func(r results.Run) {
		got = append(got, r.Seed)
		if !r.Pass || r.WallS <= 0 {
			t.Errorf("seed %d: pass %v wall %v", r.Seed, r.Pass, r.WallS)
		}
	}})
	if want := []uint64{3, 5, 7, 9}; !slices.Equal(got, want) || n != 4 {
		t.Fatalf("runs %v (%d reported), want %v", got, n, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if n := Sweep(ctx, tg, results.Plan{From: 1, Count: 5, Shards: 1}, SweepOptions{Workers: 1, Each: func(results.Run) {}}); n >= 5 {
		t.Fatalf("a cancelled sweep ran %d of 5 seeds", n)
	}
}

func TestVerdicts(t *testing.T) {
	conv := func(v float64) *float64 { return &v }
	s := results.Sweep{Runs: []results.Run{
		{Seed: 1, Pass: true, ConvergeAfter: conv(0.5), Marks: map[string]uint64{"reconnect": 2}},
		{Seed: 2, Pass: false, Replay: "r2", Violation: &results.Violation{Property: "convergence"}},
		{Seed: 3, Pass: true, ConvergeAfter: conv(9), Metrics: results.Metrics{ResyncBytes: 700, RepairedBytes: 100, ResyncRatio: 7}},
		{Seed: 4, Pass: false, Replay: "r4", Violation: &results.Violation{Property: "acked-not-lost"}},
		{Seed: 5, Pass: false, Replay: "r5", Violation: &results.Violation{Property: "convergence"}},
	}}
	tally := NewTally(nil)
	for _, r := range s.Runs {
		tally.Add(r)
	}
	sum := tally.Summary()
	if sum.Runs != 5 || sum.Passed != 2 || sum.Failed != 3 || sum.Converge.N() != 2 || sum.Converge.Pct(50) != 0.5 || sum.Converge.Max() != 9 ||
		!slices.Equal(sum.Replays, []string{"r2", "r4", "r5"}) {
		t.Fatalf("summary %+v", sum)
	}
	if len(sum.ByProperty) != 2 || sum.ByProperty[0].Property != "convergence" || !slices.Equal(sum.ByProperty[0].Seeds, []uint64{2, 5}) {
		t.Fatalf("by property %+v", sum.ByProperty)
	}
	sc := &scenarios.Scenario{Name: "x", Require: map[string]float64{"reconnect": 0.5, "crash-recovery": 0.1},
		Gates: &scenarios.Gates{ConvergeP99: scenarios.Duration(2e9), ResyncRatio: 5}}
	tally = NewTally(sc)
	for _, r := range s.Runs {
		tally.Add(r)
	}
	missed := 0
	for _, m := range tally.Coverage() {
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
	c := tally.Costs()
	if c.ResyncRatio.N() != 1 || c.ResyncRatio.Max() != 7 || c.ResyncNoLossRuns != 0 {
		t.Errorf("resync ratios of %d runs (max %v), %d runs resent with nothing lost; want seed 3's alone", c.ResyncRatio.N(), c.ResyncRatio.Max(), c.ResyncNoLossRuns)
	}
	if len(c.Broken) != 2 || c.Broken[0].Gate != "converge-p99" || !slices.Equal(c.Broken[0].Seeds, []uint64{3}) ||
		c.Broken[1].Gate != "resync-ratio" || c.Broken[1].Seeds[0] != 3 {
		t.Fatalf("gates %+v", c.Broken)
	}
}

// writeShard writes a sweep file of shard k/n of seeds 1..count holding
// the runs of seeds (all passing) and returns its path.
func writeShard(t *testing.T, dir, scenario string, k, n, count uint64, interrupted bool, seeds ...uint64) string {
	t.Helper()
	path := filepath.Join(dir, fmt.Sprintf("%s-%d-%d.json", scenario, k, len(seeds)))
	w, err := results.CreateSweep(path, results.Sweep{Scenario: scenario, Version: "v",
		Plan: &results.Plan{From: 1, Count: count, Shard: k, Shards: n}}, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range seeds {
		if err := w.Add(results.Run{Seed: s, Pass: true}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(interrupted); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestMerge(t *testing.T) {
	dir := t.TempDir()
	a := writeShard(t, dir, "lossy", 0, 2, 6, false, 2, 4, 6)
	b := writeShard(t, dir, "lossy", 1, 2, 6, false, 1, 3, 5)
	merge := func(paths ...string) ([]uint64, Merged, error) {
		var seeds []uint64
		heads := 0
		m, err := Merge(paths, func(results.Sweep) { heads++ }, func(r results.Run) { seeds = append(seeds, r.Seed) })
		if err == nil && heads != 1 {
			t.Errorf("head handed on %d times", heads)
		}
		return seeds, m, err
	}
	seeds, m, err := merge(a, b)
	if err != nil || len(m.Problems) > 0 || !slices.Equal(seeds, []uint64{1, 2, 3, 4, 5, 6}) || m.Head.Done != 6 || m.Head.Plan.Shards != 1 {
		t.Fatalf("merged %v, %+v, %v", seeds, m, err)
	}
	short := writeShard(t, dir, "lossy", 1, 2, 6, true, 1)
	for _, tc := range []struct {
		name  string
		paths []string
		want  string
	}{
		{"missing shard", []string{a}, "shards missing: 1/2"},
		{"interrupted", []string{a, short}, "was interrupted: 1 of its 3 seeds ran"},
		{"twice", []string{a, a, b}, "shard 0/2 is given twice"},
		{"overlap", []string{a, a, b}, "seed 2 appears in more than one file"},
		{"other sweep", []string{a, writeShard(t, dir, "swarm", 1, 2, 6, false, 1, 3, 5)}, `different sweeps: scenario "lossy", "swarm"`},
		{"other plan", []string{a, writeShard(t, dir, "lossy", 1, 3, 6, false, 1, 4)}, "different sweeps: seeds"},
	} {
		_, m, err := merge(tc.paths...)
		if err != nil || !slices.ContainsFunc(m.Problems, func(p string) bool { return strings.Contains(p, tc.want) }) {
			t.Errorf("%s: problems %q, err %v; want %q", tc.name, m.Problems, err, tc.want)
		}
	}
	junk := filepath.Join(dir, "junk.json")
	os.WriteFile(junk, []byte(`{"scenario": 3}`), 0o644)
	if _, _, err := merge(a, junk); !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "junk.json") {
		t.Errorf("junk: %v", err)
	}
	if _, _, err := merge(a, filepath.Join(dir, "absent.json")); err == nil || !strings.Contains(err.Error(), "absent.json") {
		t.Errorf("absent: %v", err)
	}
}

// The limits a result file is validated against are the simulator's own,
// with room: a run's end, a node id.
func TestResultLimitsFollowTheSimulator(t *testing.T) {
	if results.MaxNode != topology.MaxLites {
		t.Errorf("results.MaxNode %d, topology.MaxLites %d", results.MaxNode, topology.MaxLites)
	}
	if longest := (2 * topology.MaxSimulated).Seconds(); results.MaxEndS < longest {
		t.Errorf("results.MaxEndS %g s is below the longest run, write_for and budget at their limits: %g s", results.MaxEndS, longest)
	}
}

// A witnessed run is the same run: the same trace hash, with the frames
// decoded beside it. The throttle-rate failure's record holds the
// Throttle frame the checker acted on, with the rate it asked for.
func TestWitnessChangesNothing(t *testing.T) {
	for _, bug := range []string{"", "ignore-throttle"} {
		tg, err := Resolve("slow-consumer", Options{Bug: bug})
		if err != nil {
			t.Fatal(err)
		}
		plain, err := tg.Run(1, nil)
		if err != nil {
			t.Fatal(err)
		}
		seen, err := tg.RunWitnessed(context.Background(), 1, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		if plain.Hash != seen.Hash || plain.Pass() != seen.Pass() {
			t.Fatalf("bug %q: witnessed hash %016x pass %v, plain %016x pass %v", bug, seen.Hash, seen.Pass(), plain.Hash, plain.Pass())
		}
		if len(plain.Wire)+len(plain.Control) != 0 || len(seen.Wire) == 0 {
			t.Errorf("bug %q: wire %d/%d frames unwitnessed, %d witnessed", bug, len(plain.Wire), len(plain.Control), len(seen.Wire))
		}
		rj := Result(tg, 1, seen, true)
		found := false
		for _, f := range rj.Control {
			found = found || f.Dir == "recv" && f.Type == "Throttle" && f.To == 0 && f.Text == "Throttle{on, queue 768, rate 40}"
		}
		if !found || rj.Throttle == nil || rj.Throttle.Burst != 8 {
			t.Errorf("bug %q: no Throttle{on, queue 768, rate 40} delivered to origin in %+v (terms %+v)", bug, rj.Control, rj.Throttle)
		}
		if compact := Result(tg, 1, seen, false); compact.Wire != nil || compact.Control != nil {
			t.Errorf("a sweep's record keeps the wire")
		}
	}
}

// A sweep's runs keep no series, and are otherwise the runs a single run
// makes: the same trace hash, end, counters and verdict.
func TestSweepRunsKeepNoSeries(t *testing.T) {
	for _, name := range []string{"swarm", "slow-consumer"} {
		tg, err := Resolve(name, Options{})
		if err != nil {
			t.Fatal(err)
		}
		full, err := tg.Run(3, nil)
		if err != nil {
			t.Fatal(err)
		}
		bare, cut := runSeed(context.Background(), tg, 3, false)
		if cut {
			t.Fatalf("%s: a sweep run was cut short with nothing to cut it", name)
		}
		if len(full.Series) == 0 {
			t.Fatalf("%s: a single run recorded no series", name)
		}
		if bare.TraceHash != fmt.Sprintf("%016x", full.Hash) || bare.EndS != full.End.Seconds() ||
			*bare.Counters != full.Counters || bare.Pass != full.Pass() {
			t.Fatalf("%s: sweep run hash %s end %v pass %v, single run %016x end %v pass %v",
				name, bare.TraceHash, bare.EndS, bare.Pass, full.Hash, full.End.Seconds(), full.Pass())
		}
		r, err := tg.run(3, runOpts{}) // as runSeed runs it
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Series) != 0 {
			t.Fatalf("%s: a sweep's run recorded %d series", name, len(r.Series))
		}
	}
}

// A run that lost no delta or snapshot to a fault has no resync ratio: it
// is left out of the ratio's distribution (a 0 there read as free repair)
// and counted, with what it re-sent, apart.
func TestResyncRatioOnlyOfRunsThatLostBytes(t *testing.T) {
	tally := NewTally(nil)
	for _, r := range []results.Run{
		{Seed: 1, Pass: true}, // nothing lost, nothing re-sent
		{Seed: 2, Pass: true, Metrics: results.Metrics{ResyncBytes: 5000}}, // re-sent, nothing lost to a fault
		{Seed: 3, Pass: true, Metrics: results.Metrics{ResyncBytes: 300, RepairedBytes: 100, ResyncRatio: 3}},
		{Seed: 4, Pass: true, Metrics: results.Metrics{ResyncBytes: 2000}},
	} {
		tally.Add(r)
	}
	c := tally.Costs()
	if c.ResyncRatio.N() != 1 || c.ResyncRatio.Pct(50) != 3 {
		t.Errorf("ratio over %d runs, p50 %v; want seed 3's 3 alone", c.ResyncRatio.N(), c.ResyncRatio.Pct(50))
	}
	if c.ResyncNoLossRuns != 2 || c.ResyncNoLossBytes != 7000 {
		t.Errorf("%d runs re-sent %d bytes with nothing lost; want 2 and 7000", c.ResyncNoLossRuns, c.ResyncNoLossBytes)
	}
}
