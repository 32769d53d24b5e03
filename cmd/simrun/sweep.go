package main

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/topology"
)

// determinismDiff runs seed twice with traces and returns "" when both
// runs are identical, else where they first differ.
func determinismDiff(t target, seed uint64) (string, error) {
	var a, b bytes.Buffer
	ra, err := t.runOnce(seed, &a)
	if err != nil {
		return "", err
	}
	rb, err := t.runOnce(seed, &b)
	if err != nil {
		return "", err
	}
	if d := sim.FirstDivergence(a.Bytes(), b.Bytes()); d != nil {
		return fmt.Sprintf("seed %d: runs differ first at trace event %d:\n  run 1: %s\n  run 2: %s", seed, d.Index, d.A, d.B), nil
	}
	if ra.Hash != rb.Hash {
		return fmt.Sprintf("seed %d: same trace, different hashes %016x and %016x", seed, ra.Hash, rb.Hash), nil
	}
	return "", nil
}

// SweepJSON is a sweep's (or a shard's) result file; merge reads several.
type SweepJSON = results.Sweep

func parseShard(s string) (k, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	k, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || k < 0 || k >= n {
		return 0, 0, fmt.Errorf("-shard %q: want K/N with 0 <= K < N", s)
	}
	return k, n, nil
}

func runSweep(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const name = "simrun sweep"
	fs := newFlagSet(name)
	scen := fs.String("scenario", "swarm", "scenario `NAME` or path to a .json file")
	bug := bugFlag(fs)
	seeds := fs.Int("seeds", 100, "number of seeds to run")
	from := fs.Uint64("from", 1, "first seed")
	parallel := fs.Int("parallel", 0, "runs at once (default: GOMAXPROCS); each run stays single-threaded")
	jsonFile := fs.String("json", "", "write every run's result as JSON to `FILE` (also on Ctrl-C)")
	junitFile := fs.String("junit", "", "write a JUnit XML report to `FILE` (one test case per seed)")
	reportDir := fs.String("report", "", "write plots and a self-contained index.html of the sweep into `DIR` (and of its first 3 failures, run again, in DIR/seed-N)")
	shard := fs.String("shard", "", "run only shard `K/N` of the seeds (seed i goes to shard i mod N); default from JOB_COMPLETION_INDEX with -shards")
	shards := fs.Int("shards", 0, "with JOB_COMPLETION_INDEX set (a Kubernetes Indexed Job), the number of shards N")
	determinism := fs.Bool("check-determinism", false, "run each seed twice and fail on any difference")
	progress := fs.String("progress", "auto", "progress display: auto (a bar on a terminal, lines otherwise), bar, lines, none")
	usage := func(w io.Writer) {
		fmt.Fprint(w, `Usage: simrun sweep [-scenario NAME|FILE] [-seeds N] [-from S] [flags]

Run many seeds of one scenario across cores and summarise: pass/fail
counts, time to converge after heal (p50/p90/p99/max), failures by property,
and for each failure the command that replays it. Ctrl-C stops cleanly and
still writes the results gathered so far. Exit status: 0 all passed, 1 any
failure (or interrupted), 2 bad flags.

Flags:
`)
		printFlags(w, fs)
		fmt.Fprint(w, `
Examples:
  simrun sweep -scenario swarm -seeds 1000
  simrun sweep -scenario lossy -seeds 500 -from 1000 -json lossy.json -junit lossy.xml
  simrun sweep -scenario swarm -seeds 10000 -shard 2/8 -json shard2.json
  simrun sweep -scenario lossy -seeds 200 -report sweep-report/
`)
	}
	if code, done := parseFlagsNoArgs(name, fs, args, usage, stdout, stderr); done {
		return code
	}
	if *seeds < 1 {
		return failf(stderr, name, "-seeds %d: want at least 1", *seeds)
	}
	switch *progress {
	case "auto", "bar", "lines", "none":
	default:
		return failf(stderr, name, "-progress %q: want auto, bar, lines or none", *progress)
	}
	k, n := 0, 1
	if *shard != "" {
		var err error
		if k, n, err = parseShard(*shard); err != nil {
			return failf(stderr, name, "%v", err)
		}
	} else if idx := os.Getenv("JOB_COMPLETION_INDEX"); idx != "" {
		if *shards < 1 {
			return failf(stderr, name, "JOB_COMPLETION_INDEX=%s is set: give the number of shards with -shards N (or -shard K/N)", idx)
		}
		var err error
		if k, n, err = parseShard(idx + "/" + strconv.Itoa(*shards)); err != nil {
			return failf(stderr, name, "JOB_COMPLETION_INDEX: %v", err)
		}
	}
	t, code, ok := resolve(name, *scen, *bug, stderr)
	if !ok {
		return code
	}
	if _, err := t.sc.Params(*from); err != nil {
		return failf(stderr, name, "%v", err)
	}
	var list []uint64
	for i := 0; i < *seeds; i++ {
		if s := *from + uint64(i); int(s%uint64(n)) == k {
			list = append(list, s)
		}
	}
	workers := *parallel
	if workers <= 0 {
		workers = defaultParallel()
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res := sweep(ctx, t, list, workers, *determinism, newProgress(*progress, stderr, len(list)))
	out := SweepJSON{Scenario: t.arg, Definition: t.sc, Seeds: list, Runs: res.runs, Interrupted: ctx.Err() != nil}
	if n > 1 {
		out.Shard = fmt.Sprintf("%d/%d", k, n)
	}
	failed := summarize(stdout, t, out)
	failed += coverage(stdout, t, out)
	failed += gates(stdout, t, out)
	if *jsonFile != "" {
		if err := writeJSON(*jsonFile, out); err != nil {
			return fail(stderr, name, err)
		}
	}
	if *junitFile != "" {
		if err := writeJUnit(*junitFile, out); err != nil {
			return fail(stderr, name, err)
		}
	}
	if *reportDir != "" && len(out.Runs) > 0 {
		if err := writeSweepReport(*reportDir, t, out, stdout); err != nil {
			return fail(stderr, name, err)
		}
	}
	if out.Interrupted {
		fmt.Fprintf(stderr, "%s: interrupted after %d of %d seeds; results so far written\n", name, len(out.Runs), len(list))
		return exitFail
	}
	if failed > 0 {
		return exitFail
	}
	return exitOK
}

type sweepResult struct{ runs []RunJSON }

// sweep runs the seeds on workers goroutines; each run is independent and
// single-threaded, so parallelism changes nothing but wall time. Results
// come back in seed order whatever order they finish in.
func sweep(ctx context.Context, t target, list []uint64, workers int, determinism bool, prog *progress) sweepResult {
	jobs := make(chan int)
	done := make([]*RunJSON, len(list))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				start := time.Now()
				r, err := t.runOnce(list[i], nil)
				var rj RunJSON
				if err != nil {
					rj = RunJSON{Scenario: t.arg, Seed: list[i], Violation: &ViolationJSON{Property: "error", Message: err.Error()}}
				} else {
					rj = resultJSON(t, list[i], r, false)
				}
				rj.WallS = time.Since(start).Seconds() // wall time is reported, never simulated
				if determinism && err == nil {
					if diff, derr := determinismDiff(t, list[i]); derr == nil && diff != "" {
						rj.Pass = false
						rj.Violation = &ViolationJSON{Property: "determinism", Message: diff}
					}
				}
				mu.Lock()
				done[i] = &rj
				prog.add(rj)
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range list {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	prog.finish()
	var out sweepResult
	for _, r := range done {
		if r != nil {
			out.runs = append(out.runs, *r)
		}
	}
	return out
}

// summarize prints the closing summary and returns the number of failures.
func summarize(w io.Writer, t target, s SweepJSON) int {
	var conv []float64
	var wall float64
	byProp := map[string][]uint64{}
	var props []string
	for _, r := range s.Runs {
		wall += r.WallS
		if r.Pass {
			if r.ConvergeAfter != nil {
				conv = append(conv, *r.ConvergeAfter)
			}
			continue
		}
		p := "unknown"
		if r.Violation != nil {
			p = r.Violation.Property
		}
		if byProp[p] == nil {
			props = append(props, p)
		}
		byProp[p] = append(byProp[p], r.Seed)
	}
	failed := len(s.Runs) - len(conv)
	for _, r := range s.Runs {
		if r.Pass && r.ConvergeAfter == nil {
			failed-- // passed without a convergence time (cannot happen; keep counts honest)
		}
	}
	slices.Sort(conv)
	fmt.Fprintf(w, "%s: %d runs, %d passed, %d failed", t.sc.Name, len(s.Runs), len(s.Runs)-failed, failed)
	if s.Shard != "" {
		fmt.Fprintf(w, " (shard %s)", s.Shard)
	}
	fmt.Fprintln(w)
	if len(conv) > 0 {
		fmt.Fprintf(w, "time to converge after heal: p50 %s  p90 %s  p99 %s  max %s (simulated)\n",
			secs(pct(conv, 50)), secs(pct(conv, 90)), secs(pct(conv, 99)), secs(conv[len(conv)-1]))
	}
	if wall > 0 {
		fmt.Fprintf(w, "wall time in runs: %.2fs (%.1f ms per run)\n", wall, 1000*wall/float64(len(s.Runs)))
	}
	if failed > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "\nfailures by property:")
		for _, p := range props {
			fmt.Fprintf(tw, "  %s\t%d\tseeds %s\n", p, len(byProp[p]), seedList(byProp[p]))
		}
		tw.Flush()
		fmt.Fprintln(w, "\nreplay each failure with:")
		shown := 0
		for _, r := range s.Runs {
			if !r.Pass && shown < 20 {
				fmt.Fprintf(w, "  %s\n", r.Replay)
				shown++
			}
		}
		if failed > shown {
			fmt.Fprintf(w, "  ... and %d more (see -json)\n", failed-shown)
		}
	}
	return failed
}

// coverage prints, for every mark, the fraction of runs that hit it and
// what the scenario requires; it returns how many requirements were missed.
func coverage(w io.Writer, t target, s SweepJSON) int {
	if len(s.Runs) == 0 {
		return 0
	}
	hits := map[string]int{}
	for _, r := range s.Runs {
		for m := range r.Marks {
			hits[m]++
		}
	}
	missed := 0
	fmt.Fprintln(w, "\ncoverage (fraction of seeds that hit each mark):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, m := range topology.Marks() {
		f := float64(hits[m.Name]) / float64(len(s.Runs))
		need, required := t.sc.Require[m.Name]
		status := ""
		if required {
			status = fmt.Sprintf("required >= %.2f", need)
			if f < need {
				status += "  MISSED"
				missed++
			}
		}
		fmt.Fprintf(tw, "  %s\t%.2f\t%s\t%s\n", m.Name, f, status, m.What)
	}
	tw.Flush()
	if missed > 0 {
		fmt.Fprintf(w, "%d required marks missed: the faults did not push the protocol where this scenario says they must\n", missed)
	}
	return missed
}

// gates prints the percentiles of the measured costs and checks the
// scenario's bounds, naming the seeds that break one; it returns how many
// bounds were broken.
func gates(w io.Writer, t target, s SweepJSON) int {
	var conv, ratio, starve []float64
	for _, r := range s.Runs {
		if r.ConvergeAfter != nil {
			conv = append(conv, *r.ConvergeAfter)
		}
		ratio = append(ratio, r.Metrics.ResyncRatio)
		starve = append(starve, r.Metrics.MaxStarveS)
	}
	if len(s.Runs) == 0 {
		return 0
	}
	for _, v := range [][]float64{conv, ratio, starve} {
		slices.Sort(v)
	}
	row := func(tw io.Writer, name string, v []float64, unit string) {
		if len(v) == 0 {
			return
		}
		fmt.Fprintf(tw, "  %s\t%.2f%s\t%.2f%s\t%.2f%s\t%.2f%s\n", name, pct(v, 50), unit, pct(v, 90), unit, pct(v, 99), unit, v[len(v)-1], unit)
	}
	fmt.Fprintln(w, "\ncost of converging (p50, p90, p99, max):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row(tw, "time from heal to convergence", conv, "s")
	row(tw, "resync bytes / bytes lost", ratio, "x")
	row(tw, "longest throttled silence", starve, "s")
	tw.Flush()
	g := t.sc.Gates
	if g == nil {
		return 0
	}
	broken := 0
	if b := time.Duration(g.ConvergeP99).Seconds(); b > 0 && len(conv) > 0 && pct(conv, 99) > b {
		broken++
		var over []uint64
		for _, r := range s.Runs {
			if r.ConvergeAfter != nil && *r.ConvergeAfter > b {
				over = append(over, r.Seed)
			}
		}
		fmt.Fprintf(w, "GATE  p99 time to converge %.2fs > %.2fs; seeds over the bound: %s\n", pct(conv, 99), b, seedList(over))
	}
	for _, r := range s.Runs {
		if g.ResyncRatio > 0 && r.Metrics.ResyncRatio > g.ResyncRatio {
			broken++
			fmt.Fprintf(w, "GATE  seed %d: resync spent %.1fx the bytes it repaired (bound %.1fx): %s\n", r.Seed, r.Metrics.ResyncRatio, g.ResyncRatio, r.Replay)
		}
		if b := time.Duration(g.MaxStarve).Seconds(); b > 0 && r.Metrics.MaxStarveS > b {
			broken++
			fmt.Fprintf(w, "GATE  seed %d: a throttled peer received nothing for %.2fs (bound %.2fs): %s\n", r.Seed, r.Metrics.MaxStarveS, b, r.Replay)
		}
	}
	return broken
}

func seedList(s []uint64) string {
	var parts []string
	for i, x := range s {
		if i == 10 {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, strconv.FormatUint(x, 10))
	}
	return strings.Join(parts, " ")
}

// pct is the nearest-rank percentile of sorted values.
func pct(sorted []float64, p float64) float64 {
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func secs(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) + "s" }

type junitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name    string        `xml:"name,attr"`
	Class   string        `xml:"classname,attr"`
	Time    string        `xml:"time,attr"`
	Failure *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

func writeJUnit(path string, s SweepJSON) error {
	js := junitSuite{Name: "simrun sweep " + s.Scenario, Tests: len(s.Runs)}
	var total float64
	for _, r := range s.Runs {
		c := junitCase{Name: fmt.Sprintf("seed %d", r.Seed), Class: "syncsim." + s.Scenario, Time: fmt.Sprintf("%.3f", r.WallS)}
		total += r.WallS
		if !r.Pass {
			js.Failures++
			msg, typ := "did not pass", "failure"
			if r.Violation != nil {
				msg, typ = r.Violation.Message, r.Violation.Property
			}
			c.Failure = &junitFailure{Message: msg, Type: typ, Body: "replay: " + r.Replay}
		}
		js.Cases = append(js.Cases, c)
	}
	js.Time = fmt.Sprintf("%.3f", total)
	b, err := xml.MarshalIndent(js, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append([]byte(xml.Header), append(b, '\n')...), 0o644); err != nil {
		return fmt.Errorf("writing JUnit report: %w", err)
	}
	return nil
}
