package scenarios

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/topology"
)

// Every named scenario passes every property on the reference nodes and
// reaches the coverage it declares (its faults really push the protocol
// where it says).
func TestNamedScenariosPassAndReachTheirMarks(t *testing.T) {
	const seeds = 20
	for _, s := range Named() {
		t.Run(s.Name, func(t *testing.T) {
			hits := map[string]int{}
			for seed := uint64(1); seed <= seeds; seed++ {
				r := runSeed(t, s, seed)
				if !r.Pass() {
					t.Errorf("seed %d: %v", seed, r.Violation)
				}
				if g := s.Gates; g != nil {
					if g.ResyncRatio > 0 && r.Metrics.ResyncRatio() > g.ResyncRatio {
						t.Errorf("seed %d: resync ratio %.2f over its gate %.2f", seed, r.Metrics.ResyncRatio(), g.ResyncRatio)
					}
					if g.MaxStarve > 0 && r.Metrics.MaxStarve > sim.Time(g.MaxStarve) {
						t.Errorf("seed %d: throttled silence %v over its gate %v", seed, r.Metrics.MaxStarve, g.MaxStarve)
					}
					if g.ConvergeP99 > 0 && r.Metrics.ConvergeAfter > sim.Time(g.ConvergeP99) {
						t.Logf("seed %d: converged after %v (the p99 gate is %v)", seed, r.Metrics.ConvergeAfter, g.ConvergeP99)
					}
				}
				for m := range r.Marks {
					hits[m]++
				}
			}
			for m, need := range s.Require {
				if f := float64(hits[m]) / seeds; f < need {
					t.Errorf("mark %s hit in %.2f of seeds, requires %.2f", m, f, need)
				}
			}
		})
	}
}

// A snapshot ends a throttled peer's silence as a delta does: Origin's
// throttled stream fell behind its retained log and caught up with one
// snapshot, and the silence that followed (nothing left to send) was
// counted as starvation until the release, 3.2 s against the 1 s gate
// (make sweep, slow-consumer seed 388).
func TestSnapshotEndsThrottledSilence(t *testing.T) {
	s, err := Resolve("slow-consumer")
	if err != nil {
		t.Fatal(err)
	}
	r := runSeed(t, *s, 388)
	if !r.Pass() {
		t.Fatalf("slow-consumer seed 388: %v", r.Violation)
	}
	if gate := sim.Time(s.Gates.MaxStarve); r.Metrics.MaxStarve > gate {
		t.Fatalf("slow-consumer seed 388: throttled silence %v over its gate %v", r.Metrics.MaxStarve, gate)
	}
}

// runSeed runs scenario s at seed; a scenario that does not build or run
// ends the test.
func runSeed(t *testing.T, s Scenario, seed uint64) topology.Result {
	t.Helper()
	r, err := s.Run(seed)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestShowRoundTrips(t *testing.T) {
	for _, s := range Named() {
		got, err := Parse(s.Name+".json", Marshal(&s))
		if err != nil {
			t.Fatalf("%s: %v", s.Name, err)
		}
		if string(Marshal(got)) != string(Marshal(&s)) {
			t.Fatalf("%s does not round-trip through its file form", s.Name)
		}
	}
}

func TestValidationNamesTheField(t *testing.T) {
	for _, tc := range []struct{ json, want string }{
		{`{"name": "x", "require": {"nope": 0.5}}`, `require: unknown mark "nope"`},
		{`{"name": "x", "require": {"reconnect": 2}}`, "require: reconnect: fraction 2"},
		{`{"name": "x", "faults": [{"kind": "drop", "rate": 0.1, "type": "Nonsense"}]}`, "faults[0].type"},
		{`{"name": "x", "faults": [{"kind": "crash", "rate": 0.1, "type": "Throttle"}]}`, "faults[0].type: a message type applies to frame faults only, not crash"},
		{`{"name": "x", "script": [{"at_ns": -1, "kind": "drop", "node": 0, "type": 16}]}`, "script[0].at_ns"},
		{`{"name": "x", "script": [{"at_ns": 1, "kind": "drop", "node": 0, "type": 153}]}`, "script[0].type"},
	} {
		_, err := Parse("f.json", []byte(tc.json))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: err %v, want %q", tc.json, err, tc.want)
		}
	}
}

// TestRegressionCorpus replays every scenario file in testdata/regressions:
// each must keep its recorded outcome.
func TestRegressionCorpus(t *testing.T) {
	files, err := filepath.Glob("../testdata/regressions/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no regression files (%v)", err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			// An empty script is written as none: no faults at all.
			if s.Expect == "" || s.Swarm || len(s.Faults) > 0 {
				t.Fatalf("a regression needs expect and a script (not a fault plan)")
			}
			r := runSeed(t, *s, s.Seed)
			switch {
			case s.Expect == "pass" && !r.Pass():
				t.Fatalf("expected a pass, got %v", r.Violation)
			case s.Expect != "pass" && (r.Violation == nil || r.Violation.Property != s.Expect):
				t.Fatalf("expected %s to be violated, got %v", s.Expect, r.Violation)
			}
		})
	}
}

// TestSweepFiles: the scenario files the README and docs/sharding.md time
// load and pass the sizing checks, the 4,096-Lite one included; five
// times that fan-out is refused, naming the limit and what to change.
func TestSweepFiles(t *testing.T) {
	files, err := filepath.Glob("../testdata/sweeps/*.json")
	if err != nil || len(files) < 3 {
		t.Fatalf("want the sweep files in testdata/sweeps, found %d (%v)", len(files), err)
	}
	for _, f := range files {
		s, err := Load(f)
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.Params(1)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if err := p.Validate(); err != nil {
			t.Errorf("%s: refused: %v", f, err)
		}
	}
	s, err := Load("../testdata/sweeps/fanout-4096.json")
	if err != nil {
		t.Fatal(err)
	}
	s.WriteFor = d("10s")
	_, err = s.Params(1)
	if err == nil || !strings.Contains(err.Error(), "over the limit") || !strings.Contains(err.Error(), "shorten write_for") {
		t.Fatalf("4,096 Lites writing for 10 s: err %v, want the deliveries limit and what to change", err)
	}
}
