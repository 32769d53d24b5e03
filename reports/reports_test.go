package reports

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/results"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// tinyRun is a hand-built 2-Lite run whose figures can be worked out by
// hand: samples every 0.1 s from 0 to 1.2 s, heal at 1 s, converged 0.1 s
// after heal.
func tinyRun() *results.Run {
	conv := 0.1
	r := &results.Run{Scenario: "tiny", Seed: 3, Pass: true, TraceHash: "00000000000000ff", HealS: 1, BudgetS: 2,
		ConvergeAfter: &conv, EndS: 1.1, Replay: "simrun run -scenario tiny -seed 3",
		Queue: &results.Queue{Capacity: 100, High: 75, Low: 25},
		Faults: []faults.Event{
			{At: 200e6, Kind: "partition", Node: 1, For: 300e6},  // 0.2..0.5
			{At: 350e6, Kind: "drop", Node: 0, Peer: 2, Type: 3}, // an instant
			{At: 400e6, Kind: "partition", Node: 1, For: 300e6},  // 0.4..0.7: merges into 0.2..0.7
			{At: 900e6, Kind: "crash", Node: 0, For: 1e9},        // 0.9..1.9, clipped at heal: 0.9..1.0
		}}
	ts := []float64{0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.1}
	series := func(name string, node int, vs ...float64) {
		s := results.Series{Name: name, Node: node, EveryS: 0.1}
		for i, t := range ts {
			s.Points = append(s.Points, [2]float64{t, vs[i]})
		}
		r.Series = append(r.Series, s)
	}
	zero := make([]float64, len(ts))
	for node := 1; node <= 2; node++ {
		k := float64(node)
		series("lag", node, 0, k, 2*k, 3*k, 4*k, 5*k, 4*k, 3*k, 2*k, k, 0, 0)
		series("queue_depth", node, 0, 10, 20, 80, 90, 60, 30, 20, 10, 0, 0, 0)
		if node == 2 {
			series("throttled", node, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0) // 0.3..0.6
			series("origin_throttled", node, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0)
			series("throttle_rate", node, 0, 0, 0, 0, 50, 50, 40, 0, 0, 0, 0, 0)
		} else {
			series("throttled", node, zero...)
			series("origin_throttled", node, zero...)
			series("throttle_rate", node, zero...)
		}
		series("push_rate", node, 0, 100, 120, 90, 50, 50, 40, 200, 100, 0, 0, 0)
		if node == 1 {
			series("resyncs_sent", node, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2, 2) // at 0.4 and 0.7
			series("resyncs_answered", node, 0, 0, 0, 0, 0, 1, 1, 1, 2, 2, 2, 2)
		} else {
			series("resyncs_sent", node, zero...)
			series("resyncs_answered", node, zero...)
		}
	}
	return r
}

// manyRun has n Lites; Lite i's lag is i at every sample.
func manyRun(n int, end float64) *results.Run {
	r := &results.Run{Scenario: "many", Seed: 1, Pass: true, TraceHash: "01", HealS: end / 2, EndS: end}
	for node := 1; node <= n; node++ {
		for _, name := range []string{"lag", "queue_depth", "push_rate", "throttled", "origin_throttled", "throttle_rate", "resyncs_sent", "resyncs_answered"} {
			s := results.Series{Name: name, Node: node, EveryS: end / 10}
			for i := 0; i <= 10; i++ {
				v := 0.0
				if name == "lag" {
					v = float64(node)
				}
				s.Points = append(s.Points, [2]float64{float64(i) * end / 10, v})
			}
			r.Series = append(r.Series, s)
		}
	}
	return r
}

func tinySweep() *results.Sweep {
	c := func(v float64) *float64 { return &v }
	return &results.Sweep{Scenario: "tiny", Plan: &results.Plan{From: 1, Count: 5, Shards: 1}, Runs: []results.Run{
		{Scenario: "tiny", Seed: 1, Pass: true, ConvergeAfter: c(0.1), EndS: 1.1, WallS: 0.01,
			Faults: []faults.Event{{Kind: "drop"}, {Kind: "drop"}}},
		{Scenario: "tiny", Seed: 2, Pass: true, ConvergeAfter: c(0.3), EndS: 1.3, WallS: 0.02,
			Faults: []faults.Event{{Kind: "partition"}}},
		{Scenario: "tiny", Seed: 3, Pass: true, ConvergeAfter: c(0.3), EndS: 1.3, WallS: 0.013},
		{Scenario: "tiny", Seed: 4, EndS: 3, WallS: 0.03, Replay: "simrun run -scenario tiny -seed 4", Shrink: "simrun shrink -scenario tiny -seed 4",
			Violation: &results.Violation{Property: "convergence", AtS: 3, Node: "lite1", Message: "not converged"},
			Faults:    []faults.Event{{Kind: "partition"}, {Kind: "drop"}}},
		{Scenario: "tiny", Seed: 5, EndS: 0.5, WallS: 0.005, Replay: "simrun run -scenario tiny -seed 5",
			Violation: &results.Violation{Property: "acked-not-lost", AtS: 0.5, Node: "origin", Message: "lost"}},
	}}
}

func find(t *testing.T, figs []Figure, id string) Figure {
	t.Helper()
	for _, f := range figs {
		if f.ID == id {
			return f
		}
	}
	t.Fatalf("no figure %q", id)
	return Figure{}
}

func TestRunFiguresByHand(t *testing.T) {
	figs, err := RunFigures(tinyRun())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range figs {
		ids = append(ids, f.ID)
	}
	if want := []string{"lag", "queue", "push-rate", "faults"}; !reflect.DeepEqual(ids, want) {
		t.Fatalf("figures %v, want %v", ids, want)
	}
	lag := find(t, figs, "lag")
	// Fault windows: the two partitions of lite1 stay two windows (they
	// overlap; each is labelled with its length); the crash is clipped at
	// heal; the drop is an instant.
	wantSpans := []Span{
		{Label: "partition lite1 (0.3s)", Color: "fault:partition", From: 0.2, To: 0.5},
		{Label: "partition lite1 (0.3s)", Color: "fault:partition", From: 0.4, To: 0.7},
		{Label: "crash origin (1s)", Color: "fault:crash", From: 0.9, To: 1.0},
		{Color: "fault:instant", From: 0.35, To: 0.35},
	}
	if !reflect.DeepEqual(lag.Spans, wantSpans) {
		t.Errorf("spans\n got %+v\nwant %+v", lag.Spans, wantSpans)
	}
	// Resync requests at 0.4 and 0.7 on lite1, at its lag there (4, 3);
	// answers at 0.5 and 0.8 (lag 5, 2).
	wantMarks := []Marks{
		{Color: "resync", Glyph: "triangle", Points: [][2]float64{{0.4, 4}, {0.7, 3}}},
		{Color: "answered", Glyph: "circle", Points: [][2]float64{{0.5, 5}, {0.8, 2}}},
	}
	if !reflect.DeepEqual(lag.Marks, wantMarks) {
		t.Errorf("marks\n got %+v\nwant %+v", lag.Marks, wantMarks)
	}
	// lite2 throttled from 0.3 to 0.6: one bar in lite2's row (the second)
	// below zero.
	if len(lag.Rects) != 1 || lag.Rects[0].X0 != 0.3 || lag.Rects[0].X1 != 0.6 || !(lag.Rects[0].Y1 < 0) || lag.Y.Min > lag.Rects[0].Y0 {
		t.Errorf("throttle bars %+v (axis min %v)", lag.Rects, lag.Y.Min)
	}
	// Heal at 1, converged at 1.1.
	wantRules := []Rule{{Color: "heal", Axis: "x", V: 1, Dash: true}, {Color: "converged", Axis: "x", V: 1.1}}
	if !reflect.DeepEqual(lag.Rules, wantRules) {
		t.Errorf("rules %+v, want %+v", lag.Rules, wantRules)
	}
	if len(lag.Lines) != 2 || lag.Y.Max < 10 {
		t.Errorf("lag: %d lines, y max %v (want 2 lines, max >= 10)", len(lag.Lines), lag.Y.Max)
	}
	q := find(t, figs, "queue")
	var ys []float64
	for _, r := range q.Rules {
		if r.Axis == "y" {
			ys = append(ys, r.V)
		}
	}
	if !reflect.DeepEqual(ys, []float64{100, 75, 25}) || q.Y.Max < 100 {
		t.Errorf("queue marks %v, y max %v", ys, q.Y.Max)
	}
	// The suggested rate is drawn only while Origin throttles lite2 (0.4
	// to 0.6).
	push := find(t, figs, "push-rate")
	var dashed [][][2]float64
	for _, l := range push.Lines {
		if l.Dash {
			dashed = append(dashed, l.Points)
		}
	}
	if want := [][][2]float64{{{0.4, 50}, {0.5, 50}, {0.6, 40}}}; !reflect.DeepEqual(dashed, want) {
		t.Errorf("suggested rate %v, want %v", dashed, want)
	}
	// Timeline: one row per node, Origin on top; frame faults on the row
	// of the Lite whose link they hit.
	tl := find(t, figs, "faults")
	wantRows := []Tick{{0, "lite2"}, {1, "lite1"}, {2, "origin"}}
	if !reflect.DeepEqual(tl.Y.Ticks, wantRows) {
		t.Errorf("timeline rows %+v", tl.Y.Ticks)
	}
	if r := tl.Rects[1]; r.Color != "fault:drop" || r.X0 != 0.35 || r.X1 != 0.35 || r.Y0 != -0.35 {
		t.Errorf("drop on the timeline: %+v", r)
	}
}

func TestManyLitesAreSummarised(t *testing.T) {
	for _, n := range []int{1, 8, 9, 64} {
		figs, err := RunFigures(manyRun(n, 10))
		if err != nil {
			t.Fatal(err)
		}
		lag := figs[0]
		if n <= MaxLines {
			if len(lag.Lines) != n || len(lag.Bands) != 0 {
				t.Errorf("%d Lites: %d lines, %d bands; want one line each", n, len(lag.Lines), len(lag.Bands))
			}
			continue
		}
		// Lite i's lag is i: median, p90 and max over 1..n by nearest rank.
		wantP50, wantP90 := math.Ceil(0.5*float64(n)), math.Ceil(0.9*float64(n))
		if len(lag.Lines) != 3 || lag.Lines[0].Points[3][1] != wantP50 || lag.Lines[1].Points[3][1] != wantP90 ||
			lag.Lines[2].Points[3][1] != float64(n) || lag.Bands[0].Lo[3] != 1 {
			t.Errorf("%d Lites: lines %+v", n, lag.Lines)
		}
		if !strings.Contains(lag.Note, fmt.Sprintf("%d Lites", n)) {
			t.Errorf("%d Lites: note %q", n, lag.Note)
		}
	}
}

func TestTimeAxisTicks(t *testing.T) {
	for _, tc := range []struct {
		end   float64
		label string
		step  float64
		first string
		last  string
	}{
		{1, "simulated time (s)", 0.1, "0", "1"},
		{1.1, "simulated time (s)", 0.1, "0", "1.1"},
		{10.1, "simulated time (s)", 1, "0", "10"},
		{65, "simulated time (s)", 10, "0", "60"},
		{300, "simulated time (s)", 50, "0", "300"},
		{600, "simulated time (min)", 60, "0", "10"},
		{3600, "simulated time (min)", 300, "0", "60"},
	} {
		a := timeAxis(tc.end)
		n := len(a.Ticks)
		if a.Label != tc.label || n < 4 || n > 13 || a.Ticks[1].V-a.Ticks[0].V != tc.step ||
			a.Ticks[0].Label != tc.first || a.Ticks[n-1].Label != tc.last || a.Max < tc.end {
			t.Errorf("end %v: %s, %d ticks %+v", tc.end, a.Label, n, a.Ticks)
		}
	}
}

func TestValueAxis(t *testing.T) {
	for _, tc := range []struct {
		hi        float64
		top, step float64
		last      string
	}{
		{1, 1, 0.2, "1"}, {7.3, 8, 1, "8"}, {1024 * 1.05, 1200, 200, "1200"}, {45000, 50000, 10000, "50k"}, {2.6e6, 3e6, 500000, "3M"},
	} {
		a := valueAxis("v", 0, tc.hi)
		n := len(a.Ticks)
		if a.Max != tc.top || a.Ticks[1].V-a.Ticks[0].V != tc.step || a.Ticks[n-1].Label != tc.last || n > 9 {
			t.Errorf("hi %v: max %v ticks %+v", tc.hi, a.Max, a.Ticks)
		}
	}
}

func TestIntervalsAndUnion(t *testing.T) {
	pts := [][2]float64{{0, 0}, {1, 1}, {2, 1}, {3, 0}, {4, 1}}
	if got, want := intervals(pts, 5), [][2]float64{{1, 3}, {4, 5}}; !reflect.DeepEqual(got, want) {
		t.Errorf("intervals %v, want %v", got, want)
	}
	if got, want := union([][2]float64{{3, 4}, {0, 1}, {0.5, 2}, {4, 5}}), [][2]float64{{0, 2}, {3, 5}}; !reflect.DeepEqual(got, want) {
		t.Errorf("union %v, want %v", got, want)
	}
}

func TestSweepFiguresByHand(t *testing.T) {
	figs, err := SweepFigures(tinySweep())
	if err != nil {
		t.Fatal(err)
	}
	hist := find(t, figs, "converge-hist")
	// Times 0.1, 0.3, 0.3 in 0.1 s bins centred on multiples of 0.1.
	want := []Rect{{Color: "runs", X0: 0.05, X1: 0.15, Y1: 1}, {Color: "runs", X0: 0.25, X1: 0.35, Y1: 2}}
	if !reflect.DeepEqual(hist.Rects, want) {
		t.Errorf("histogram %+v, want %+v", hist.Rects, want)
	}
	cdf := find(t, figs, "converge-cdf")
	if got := cdf.Lines[0].Points; len(got) != 4 || got[1] != [2]float64{0.1, 1.0 / 3} || got[2] != [2]float64{0.3, 1} {
		t.Errorf("cdf %v", got)
	}
	fail := find(t, figs, "failures")
	// One row per property, the larger count on top (ties by name).
	if fail.Y.Ticks[1].Label != "acked-not-lost" || fail.Y.Ticks[0].Label != "convergence" || !reflect.DeepEqual(fail.Bars[0].Values, []float64{1, 1}) {
		t.Errorf("failures %+v %+v", fail.Y.Ticks, fail.Bars)
	}
	kinds := find(t, figs, "fault-kinds")
	// 2 of 5 runs failed (baseline 40%). drop fired in seeds 1 and 4 (4
	// failed): 50%, and 1 of the 3 runs without it failed (seed 5):
	// 33.3%. partition fired in 2 and 4: the same.
	if kinds.Y.Ticks[1].Label != "drop (fired in 2 of 5 runs: 1 failed; without it 1 of 3)" || !reflect.DeepEqual(kinds.Bars[0].Values, []float64{50, 50}) ||
		!reflect.DeepEqual(kinds.Bars[1].Values, []float64{33.3, 33.3}) || len(kinds.Rules) != 1 || kinds.Rules[0].V != 40 {
		t.Errorf("fault kinds %+v %+v %+v", kinds.Y.Ticks, kinds.Bars, kinds.Rules)
	}
	// A kind that fired in every run has no runs without it: no value
	// (-1); its 40% puts it in the bottom row.
	all := tinySweep()
	for i := range all.Runs {
		all.Runs[i].Faults = append(all.Runs[i].Faults, faults.Event{Kind: "reset"})
	}
	figs2, err := SweepFigures(all)
	if err != nil {
		t.Fatal(err)
	}
	k2 := find(t, figs2, "fault-kinds")
	if k2.Y.Ticks[0].Label != "reset (fired in 5 of 5 runs: 2 failed; without it 0 of 0)" || k2.Bars[0].Values[0] != 40 || k2.Bars[1].Values[0] != -1 {
		t.Errorf("a kind in every run: %+v %+v", k2.Y.Ticks, k2.Bars)
	}
	// Violations: convergence at 3 s, acked-not-lost at 0.5 s, one line each.
	vt := find(t, figs, "violation-times")
	if len(vt.Lines) != 2 || vt.Lines[0].Points[1] != [2]float64{0.5, 1} || vt.Lines[1].Points[1] != [2]float64{3, 1} {
		t.Errorf("violation times %+v", vt.Lines)
	}
	speed := find(t, figs, "speed")
	if len(speed.Marks[0].Points) != 5 || speed.Marks[0].Points[0] != [2]float64{1, 110} {
		t.Errorf("speed %v", speed.Marks[0].Points)
	}
}

// TestGolden pins the figures of the hand-built run and sweep, and of a
// 64-Lite run. Regenerate with go test ./reports -update.
func TestGolden(t *testing.T) {
	run, _ := RunFigures(tinyRun())
	many, _ := RunFigures(manyRun(64, 3600))
	sweep, _ := SweepFigures(tinySweep())
	for name, figs := range map[string][]Figure{"run": run, "many": many, "sweep": sweep} {
		got, err := json.MarshalIndent(figs, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, '\n')
		path := filepath.Join("testdata", name+".golden")
		if *update {
			if err := os.WriteFile(path, got, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./reports -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s figures differ from %s (run go test ./reports -update if the change is intended)", name, path)
		}
	}
}

// TestRenderAndHTML draws every figure of several runs and a sweep, twice,
// and checks the bytes are the same and the page fetches nothing.
func TestRenderAndHTML(t *testing.T) {
	runs := map[string]*results.Run{"tiny": tinyRun(), "one": manyRun(1, 1), "many": manyRun(64, 3600)}
	failed := tinyRun()
	failed.Pass, failed.ConvergeAfter = false, nil
	failed.Violation = &results.Violation{Property: "convergence", AtS: 1.1, Node: "lite1", Message: "not converged <b>", Tail: []string{"1.0s deliver 0->1 ShapeDelta"}}
	failed.Shrink = "simrun shrink -scenario tiny -seed 3"
	runs["failed"] = failed
	for name, r := range runs {
		figs, err := RunFigures(r)
		if err != nil {
			t.Fatal(err)
		}
		for i := range figs {
			for _, format := range []string{"svg", "png"} {
				var a, b bytes.Buffer
				if err := Render(&figs[i], format, &a); err != nil {
					t.Fatalf("%s %s: %v", name, figs[i].ID, err)
				}
				Render(&figs[i], format, &b)
				if a.Len() == 0 || !bytes.Equal(a.Bytes(), b.Bytes()) {
					t.Errorf("%s %s.%s: empty or not deterministic", name, figs[i].ID, format)
				}
			}
		}
		var h bytes.Buffer
		if err := WriteHTML(&h, RunPage(r, figs), true); err != nil {
			t.Fatal(err)
		}
		checkSelfContained(t, name, h.String())
	}
	var h bytes.Buffer
	figs, _ := SweepFigures(tinySweep())
	if err := WriteHTML(&h, SweepPage(tinySweep(), figs, map[uint64]string{4: "seed-4/index.html"}), true); err != nil {
		t.Fatal(err)
	}
	checkSelfContained(t, "sweep", h.String())
	for _, want := range []string{"<h2 id=\"failures\">Failures</h2>", `<a href="seed-4/index.html">4</a>`, "simrun shrink -scenario tiny -seed 4", "acked-not-lost"} {
		if !strings.Contains(h.String(), want) {
			t.Errorf("sweep page lacks %q", want)
		}
	}
	// What ran: the plan (a shard of it), the nodes and the build.
	sharded := tinySweep()
	sharded.Plan = &results.Plan{From: 1, Count: 10, Shard: 1, Shards: 2}
	sharded.Implementations = &results.Impls{Origin: "reference", Lite: "nodedb-2026"}
	sharded.Version = "v9"
	h.Reset()
	WriteHTML(&h, SweepPage(sharded, figs, nil), true)
	for _, want := range []string{"seeds 1..10, shard 1/2 (5 seeds)", "origin reference, lites nodedb-2026", "v9"} {
		if !strings.Contains(h.String(), want) {
			t.Errorf("sweep page lacks %q", want)
		}
	}
	h.Reset()
	figs, _ = RunFigures(failed)
	WriteHTML(&h, RunPage(failed, figs), true)
	for _, want := range []string{"FAIL: tiny seed 3: convergence violated at 1.1s on lite1", "not converged &lt;b&gt;", "1.0s deliver 0-&gt;1 ShapeDelta", "simrun shrink -scenario tiny -seed 3", "Fault timeline"} {
		if !strings.Contains(h.String(), want) {
			t.Errorf("failed run page lacks %q", want)
		}
	}
}

var (
	srcRE = regexp.MustCompile(`(?i)\s(src|xlink:href)\s*=\s*["']?([^"'\s>]*)`)
	urlRE = regexp.MustCompile(`(?i)url\(\s*["']?([^"')]*)`)
)

// checkSelfContained fails if the page loads anything that is not inline
// (a data: URL or a fragment).
func checkSelfContained(t *testing.T, name, page string) {
	t.Helper()
	for _, m := range append(srcRE.FindAllStringSubmatch(page, -1), urlRE.FindAllStringSubmatch(page, -1)...) {
		ref := m[len(m)-1]
		if !strings.HasPrefix(ref, "data:") && !strings.HasPrefix(ref, "#") {
			t.Errorf("%s: the page loads %q", name, ref)
		}
	}
	for _, tag := range []string{"<script", "<link", "<iframe", "@import"} {
		if strings.Contains(page, tag) {
			t.Errorf("%s: the page has %s", name, tag)
		}
	}
}

func TestErrors(t *testing.T) {
	if _, err := RunFigures(&results.Run{Scenario: "x"}); !errors.Is(err, ErrNoSeries) {
		t.Errorf("no series: %v", err)
	}
	if _, err := SweepFigures(&results.Sweep{Scenario: "x"}); !errors.Is(err, ErrNoRuns) {
		t.Errorf("no runs: %v", err)
	}
	if err := Render(&Figure{ID: "x"}, "gif", &bytes.Buffer{}); err == nil || !strings.Contains(err.Error(), `unknown format "gif"`) {
		t.Errorf("bad format: %v", err)
	}
}

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // substring of the error; "" for no error
		run  bool
	}{
		{"", "the file is empty", false},
		{"  \n", "the file is empty", false},
		{"{\n \"seed\": 1,\n \"trace_hash\": x}", "line 3:", false},
		{`[1, 2]`, "malformed JSON", false},
		{`{"seed": 1}`, "no \"trace_hash\"", false},
		{`{"trace_hash": "ab", "seed": "one"}`, "line 1:", false},
		{`{"trace_hash": "ab", "seed": 1}`, "", true},
		{`{"scenario": "s", "runs": []}`, "", false},
	} {
		r, s, err := results.Decode([]byte(tc.in))
		switch {
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%q: error %v, want one containing %q", tc.in, err, tc.want)
		case tc.want == "" && err != nil:
			t.Errorf("%q: %v", tc.in, err)
		case tc.want == "" && (r != nil) != tc.run || tc.want == "" && (s != nil) == tc.run:
			t.Errorf("%q: run %v sweep %v", tc.in, r != nil, s != nil)
		}
	}
}
