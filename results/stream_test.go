package results

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/sim"
)

func TestSweepWriterRoundTrip(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s.json")
	plan := &Plan{From: 5, Count: 10, Shard: 1, Shards: 2}
	w, err := CreateSweep(path, Sweep{Scenario: "lossy", Version: "v1", Plan: plan}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the file is in place before Close: %v", err)
	}
	counters := &sim.Counters{FramesSent: 10}
	pass := Run{Seed: 5, Pass: true, TraceHash: "0123456789abcdef", Counters: counters,
		Faults: []faults.Event{{Kind: "drop"}, {Kind: "drop"}, {Kind: "delay"}}}
	fail := Run{Seed: 7, TraceHash: "fedcba9876543210", Faults: pass.Faults, Violation: &Violation{Property: "convergence"}}
	for _, r := range []Run{pass, fail} {
		if err := w.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(true); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	_, s, err := Decode(b)
	if err != nil || s == nil {
		t.Fatalf("decode: %v\n%s", err, b)
	}
	if s.Done != 2 || !s.Interrupted || s.Detail != "compact" || *s.Plan != *plan || len(s.Runs) != 2 {
		t.Fatalf("head %+v", s)
	}
	// A passing run is compact: its faults counted by kind, not listed, no
	// counters (its seed replays them); a
	// failing one is whole.
	got := s.Runs[0]
	if got.Faults != nil || got.FaultKinds["drop"] != 2 || got.FaultKinds["delay"] != 1 || got.Counters != nil {
		t.Errorf("compact pass %+v", got)
	}
	if len(s.Runs[1].Faults) != 3 {
		t.Errorf("failing run lost its faults: %+v", s.Runs[1])
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v (%v), want -rw-r--r-- like any file simrun writes", st.Mode(), err)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, ".*")); len(m) > 0 {
		t.Errorf("temporary files left: %v", m)
	}
	if _, err := CreateSweep(filepath.Join(dir, "no", "such", "s.json"), Sweep{Scenario: "x"}, false); err == nil || !strings.Contains(err.Error(), "cannot write") {
		t.Errorf("missing directory: %v", err)
	}
}

// Validate is proven by files it must refuse, each naming its field.
func TestRunValidate(t *testing.T) {
	good := func() Run {
		conv := 0.5
		return Run{EndS: 10, HealS: 5, ConvergeAfter: &conv, Queue: &Queue{Capacity: 1024, High: 768, Low: 256},
			Faults:     []faults.Event{{At: sim.Second, For: sim.Second, Node: 1}},
			Series:     []Series{{Name: "lag", Node: 1, EveryS: 0.1, Points: [][2]float64{{0, 1}, {0.1, 2}}}},
			Control:    []Frame{{AtS: 0.1, Dir: "recv", Type: "Throttle", Text: "Throttle{on, queue 9, rate 5}"}},
			WireCounts: &WireCounts{ThrottleOn: 3, ThrottleOff: 1, ControlKept: 1, ControlNotKept: 9, ControlFullS: 0.5}}
	}
	r := good()
	if err := r.Validate(); err != nil {
		t.Fatalf("a good run refused: %v", err)
	}
	for _, tc := range []struct {
		name string
		edit func(*Run)
		want string
	}{
		{"huge end", func(r *Run) { r.EndS = 1e300 }, "end_s"},
		{"NaN heal", func(r *Run) { r.HealS = math.NaN() }, "heal_s"},
		{"negative converge", func(r *Run) { *r.ConvergeAfter = -1 }, "converge_after_heal_s"},
		{"node id", func(r *Run) { r.Series[0].Node = 99999 }, "series[0].node"},
		{"too many points", func(r *Run) { r.Series[0].Points = make([][2]float64, sim.MaxPoints+1) }, "series[0].points"},
		{"point time", func(r *Run) { r.Series[0].Points[1][0] = 1e12 }, "series[0].points[1] time"},
		{"point value", func(r *Run) { r.Series[0].Points[1][1] = math.Inf(1) }, "series[0].points[1] value"},
		{"no name", func(r *Run) { r.Series[0].Name = "" }, "series[0].name"},
		{"fault time", func(r *Run) { r.Faults[0].At = 1 << 62 }, "faults[0].at_ns"},
		{"fault node", func(r *Run) { r.Faults[0].Node = 5000 }, "faults[0]"},
		{"queue", func(r *Run) { r.Queue.High = 2000 }, "queue"},
		{"ratio", func(r *Run) { r.Metrics.ResyncRatio = math.NaN() }, "metrics.resync_ratio"},
		{"wire count", func(r *Run) { r.WireCounts.ControlNotKept = -1 }, "wire_counts"},
		{"record full", func(r *Run) { r.WireCounts.ControlFullS = math.Inf(1) }, "wire_counts.control_full_s"},
		{"record full after the end", func(r *Run) { r.WireCounts.ControlFullS = 11 }, "wire_counts.control_full_s"},
		{"frames not kept before the record is full", func(r *Run) { r.WireCounts.ControlKept = 2 }, "wire_counts"},
		{"more frames kept than the record holds", func(r *Run) { r.WireCounts.ControlKept, r.WireCounts.ControlNotKept = 0, 0 }, "wire_counts"},
	} {
		r := good()
		tc.edit(&r)
		if err := r.Validate(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error naming %s", tc.name, err, tc.want)
		}
	}
	s := Sweep{Runs: []Run{good(), good()}}
	s.Runs[1].Seed, s.Runs[1].EndS = 42, -1
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "runs[1] (seed 42): end_s") {
		t.Errorf("sweep: %v", err)
	}
}
