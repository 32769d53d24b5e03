package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A scenario that fails some seeds: Lites keep getting partitioned and the
// budget to converge is short.
const fragileScenario = `{"name": "fragile", "lites": 3, "write_for": "3s", "budget": "1s",
 "faults": [{"kind": "partition", "rate": 1, "target": "lites", "arg": "1s"},
            {"kind": "drop", "rate": 0.02, "target": "all"}]}`

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRunReportAndPlot(t *testing.T) {
	dir := t.TempDir()
	rep := filepath.Join(dir, "rep")
	res := simrun(t, nil, "run", "-scenario", "slow-consumer", "-seed", "1", "-json", filepath.Join(dir, "r.json"), "-report", rep)
	if res.code != 0 || !strings.Contains(res.stdout, "report: "+filepath.Join(rep, "index.html")) {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	for _, f := range []string{"lag", "queue", "push-rate", "faults"} {
		for _, ext := range []string{".png", ".svg"} {
			if st, err := os.Stat(filepath.Join(rep, f+ext)); err != nil || st.Size() == 0 {
				t.Errorf("%s%s: %v", f, ext, err)
			}
		}
	}
	page := mustRead(t, filepath.Join(rep, "index.html"))
	for _, want := range []string{"<h2 id=\"summary\">Summary</h2>", "<h2 id=\"plots\">Plots</h2>", "Fault timeline", "PASS: slow-consumer seed 1",
		"Lag behind Origin per Lite", "Incoming queue depth per Lite", "high mark 768", "rate asked for in Throttle frames", "ShapeSnapshot received", "Throttle{on} received", "Fault windows", "drains ×0.2", "simrun run -scenario slow-consumer -seed 1"} {
		if !strings.Contains(page, want) {
			t.Errorf("index.html lacks %q", want)
		}
	}
	// The result file records the queue geometry the plot draws.
	var r RunJSON
	if err := json.Unmarshal([]byte(mustRead(t, filepath.Join(dir, "r.json"))), &r); err != nil || r.Queue == nil || r.Queue.Capacity != 1024 || r.Queue.High != 768 || r.Queue.Low != 256 {
		t.Fatalf("queue in the result: %+v %v", r.Queue, err)
	}
	// simrun plot on the saved result gives the same report, byte for byte.
	again := filepath.Join(dir, "again")
	if res := simrun(t, nil, "plot", filepath.Join(dir, "r.json"), "-o", again); res.code != 0 {
		t.Fatalf("plot: exit %d %s", res.code, res.stderr)
	}
	for _, f := range []string{"index.html", "lag.svg", "lag.png", "faults.svg"} {
		if mustRead(t, filepath.Join(rep, f)) != mustRead(t, filepath.Join(again, f)) {
			t.Errorf("%s differs between run -report and plot", f)
		}
	}
}

func TestFailingRunAndSweepReports(t *testing.T) {
	dir := t.TempDir()
	scen := filepath.Join(dir, "fragile.json")
	os.WriteFile(scen, []byte(fragileScenario), 0o644)
	rep := filepath.Join(dir, "sweep")
	res := simrun(t, nil, "sweep", "-scenario", scen, "-seeds", "12", "-progress", "none", "-json", filepath.Join(dir, "s.json"), "-report", rep)
	if res.code != 1 || !strings.Contains(res.stdout, "report: "+filepath.Join(rep, "index.html")) {
		t.Fatalf("want some failures and a report; exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	page := mustRead(t, filepath.Join(rep, "index.html"))
	for _, want := range []string{"<h2 id=\"failures\">Failures</h2>", "Time to converge after heal", "Failed runs by property", "Failure rate by fault kind", "planted bugs", "simrun shrink -scenario "} {
		if !strings.Contains(page, want) {
			t.Errorf("sweep index.html lacks %q", want)
		}
	}
	// The first failures have their own reports, linked.
	subs, _ := filepath.Glob(filepath.Join(rep, "seed-*", "index.html"))
	if len(subs) == 0 || len(subs) > 3 {
		t.Fatalf("%d failure reports", len(subs))
	}
	seed := filepath.Base(filepath.Dir(subs[0]))
	if !strings.Contains(page, `href="`+seed+`/index.html"`) {
		t.Errorf("sweep page does not link %s", seed)
	}
	sub := mustRead(t, subs[0])
	for _, want := range []string{"<h2 id=\"failure\">Failure</h2>", "Last trace events", "What led to it", "Replay and shrink", "violated at", `class="sequence"`, `class="arrow`} {
		if !strings.Contains(sub, want) {
			t.Errorf("%s lacks %q", subs[0], want)
		}
	}
}

func TestPlotErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	scen := write("fragile.json", fragileScenario)
	sweep := filepath.Join(dir, "sweep.json")
	simrun(t, nil, "sweep", "-scenario", scen, "-seeds", "2", "-progress", "none", "-json", sweep)
	// One run of a sweep file: a result without series.
	var s SweepJSON
	json.Unmarshal([]byte(mustRead(t, sweep)), &s)
	one, _ := json.Marshal(s.Runs[0])
	// A run's result with its series, edited as no run writes it: refused
	// before drawing, the field named, in bounded time and memory.
	good := filepath.Join(dir, "good.json")
	simrun(t, nil, "run", "-scenario", "lossy", "-seed", "2", "-json", good)
	edit := func(name string, change func(map[string]any)) string {
		var r map[string]any
		if err := json.Unmarshal([]byte(mustRead(t, good)), &r); err != nil {
			t.Fatal(err)
		}
		change(r)
		b, _ := json.Marshal(r)
		return write(name, string(b))
	}
	series := func(r map[string]any) map[string]any { return r["series"].([]any)[0].(map[string]any) }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{edit("end.json", func(r map[string]any) { r["end_s"] = 1e300 })}, "end_s: 1e+300: want 0..176400 seconds"},
		{[]string{edit("node.json", func(r map[string]any) { series(r)["node"] = 99999 })}, "series[0].node: 99999: want 0..4096"},
		{[]string{edit("points.json", func(r map[string]any) {
			pts := series(r)["points"].([]any)
			for len(pts) <= 1024 {
				pts = append(pts, pts...)
			}
			series(r)["points"] = pts
		})}, "series[0].points:"},
		{[]string{edit("faultat.json", func(r map[string]any) {
			r["faults"] = []any{map[string]any{"kind": "drop", "at_ns": 1e18}}
		})}, "faults[0].at_ns"},
		{nil, "want one result file"},
		{[]string{"a.json", "b.json"}, "want one result file"},
		{[]string{filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{write("empty.json", "")}, "the file is empty"},
		{[]string{write("bad.json", "{\n\"trace_hash\": ]")}, "line 2:"},
		{[]string{write("other.json", `{"name": "x"}`)}, "is not a result written by simrun run -json"},
		{[]string{sweep}, "is a sweep result (2 runs)"},
		{[]string{write("noseries.json", string(one))}, "has no time series"},
		{[]string{"-bogus"}, "flag provided but not defined"},
	} {
		res := simrun(t, nil, append([]string{"plot", "-o", filepath.Join(dir, "out")}, tc.args...)...)
		if res.code != 2 || !strings.HasPrefix(res.stderr, "simrun plot: ") || strings.Count(res.stderr, "\n") != 1 || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("plot %v: exit %d, stderr %q; want 2 and one line with %q", tc.args, res.code, res.stderr, tc.want)
		}
		if res.maxRSSKB > 200<<10 {
			t.Errorf("plot %v: peak memory %d MB, want under 200 MB", tc.args, res.maxRSSKB>>10)
		}
	}
	if res := simrun(t, nil, "plot", "-h"); res.code != 0 || !strings.Contains(res.stdout, "Usage: simrun plot RESULT.json") || !strings.Contains(res.stdout, "Example:") {
		t.Errorf("plot -h: exit %d %s", res.code, res.stdout)
	}
	if res := simrun(t, nil, "-h"); !strings.Contains(res.stdout, "plot ") {
		t.Errorf("simrun -h does not list plot")
	}
}

// The pictures README.md and docs/plots.md show are this build's: written
// again from the same commands (make pictures), they are the same bytes.
func TestDocPictures(t *testing.T) {
	dir := t.TempDir()
	if res := simrun(t, nil, "run", "-scenario", "slow-consumer", "-seed", "1", "-report", filepath.Join(dir, "run")); res.code != 0 {
		t.Fatalf("run: exit %d %s", res.code, res.stderr)
	}
	if res := simrun(t, nil, "run", "-scenario", "slow-consumer", "-seed", "1", "-bug", "ignore-throttle", "-report", filepath.Join(dir, "bug")); res.code != 1 {
		t.Fatalf("run -bug: exit %d %s", res.code, res.stderr)
	}
	if res := simrun(t, nil, "sweep", "-scenario", "slow-consumer", "-seeds", "50", "-bug", "ignore-throttle", "-progress", "none", "-report", filepath.Join(dir, "sweep")); res.code != 1 {
		t.Fatalf("sweep -bug: exit %d %s", res.code, res.stderr)
	}
	for doc, made := range map[string]string{
		"slow-consumer-lag.png":                     "run/lag.png",
		"slow-consumer-push-rate.png":               "run/push-rate.png",
		"slow-consumer-faults.png":                  "run/faults.png",
		"ignore-throttle-sequence.svg":              "bug/sequence.svg",
		"ignore-throttle-sweep-fault-kinds.png":     "sweep/fault-kinds.png",
		"ignore-throttle-sweep-violation-times.png": "sweep/violation-times.png",
	} {
		if mustRead(t, filepath.Join("../../docs/img", doc)) != mustRead(t, filepath.Join(dir, made)) {
			t.Errorf("docs/img/%s is not what this build draws (make pictures)", doc)
		}
	}
}
