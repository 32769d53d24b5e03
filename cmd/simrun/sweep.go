package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/runner"
	"github.com/syncsim/syncsim/scenarios"
)

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
	if _, err := t.Sc.Params(*from); err != nil {
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
	prog := newProgress(*progress, stderr, len(list))
	runs := runner.Sweep(ctx, t, list, runner.SweepOptions{Workers: workers, Determinism: *determinism, Done: prog.add})
	prog.finish()
	out := SweepJSON{Scenario: t.Arg, Definition: scenarios.Marshal(t.Sc), Seeds: list, Runs: runs, Interrupted: ctx.Err() != nil}
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

// summarize prints the closing summary and returns the number of failures.
func summarize(w io.Writer, t target, s SweepJSON) int {
	sum := runner.Summarize(s)
	fmt.Fprintf(w, "%s: %d runs, %d passed, %d failed", t.Sc.Name, sum.Runs, sum.Passed, sum.Failed)
	if s.Shard != "" {
		fmt.Fprintf(w, " (shard %s)", s.Shard)
	}
	fmt.Fprintln(w)
	if c := sum.Converge; len(c) > 0 {
		fmt.Fprintf(w, "time to converge after heal: p50 %s  p90 %s  p99 %s  max %s (simulated)\n",
			secs(runner.Pct(c, 50)), secs(runner.Pct(c, 90)), secs(runner.Pct(c, 99)), secs(c[len(c)-1]))
	}
	if sum.WallS > 0 {
		fmt.Fprintf(w, "wall time in runs: %.2fs (%.1f ms per run)\n", sum.WallS, 1000*sum.WallS/float64(sum.Runs))
	}
	if sum.Failed > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "\nfailures by property:")
		for _, f := range sum.ByProperty {
			fmt.Fprintf(tw, "  %s\t%d\tseeds %s\n", f.Property, len(f.Seeds), seedList(f.Seeds))
		}
		tw.Flush()
		fmt.Fprintln(w, "\nreplay each failure with:")
		const shown = 20
		for _, r := range sum.Replays[:min(shown, len(sum.Replays))] {
			fmt.Fprintf(w, "  %s\n", r)
		}
		if sum.Failed > shown {
			fmt.Fprintf(w, "  ... and %d more (see -json)\n", sum.Failed-shown)
		}
	}
	return sum.Failed
}

// coverage prints, for every mark, the fraction of runs that hit it and
// what the scenario requires; it returns how many requirements were missed.
func coverage(w io.Writer, t target, s SweepJSON) int {
	marks := runner.Coverage(t.Sc, s)
	if marks == nil {
		return 0
	}
	missed := 0
	fmt.Fprintln(w, "\ncoverage (fraction of seeds that hit each mark):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, m := range marks {
		status := ""
		if m.Required > 0 {
			status = fmt.Sprintf("required >= %.2f", m.Required)
		}
		if m.Missed {
			status += "  MISSED"
			missed++
		}
		fmt.Fprintf(tw, "  %s\t%.2f\t%s\t%s\n", m.Name, m.Fraction, status, m.What)
	}
	tw.Flush()
	if missed > 0 {
		fmt.Fprintf(w, "%d required marks missed: the faults did not push the protocol where this scenario says they must\n", missed)
	}
	return missed
}

// gates prints the percentiles of the measured costs and the scenario's
// bounds the sweep broke, naming the seeds; it returns how many it broke.
func gates(w io.Writer, t target, s SweepJSON) int {
	if len(s.Runs) == 0 {
		return 0
	}
	c := runner.Gates(t.Sc, s)
	row := func(tw io.Writer, name string, v []float64, unit string) {
		if len(v) == 0 {
			return
		}
		p := func(q float64) float64 { return runner.Pct(v, q) }
		fmt.Fprintf(tw, "  %s\t%.2f%s\t%.2f%s\t%.2f%s\t%.2f%s\n", name, p(50), unit, p(90), unit, p(99), unit, v[len(v)-1], unit)
	}
	fmt.Fprintln(w, "\ncost of converging (p50, p90, p99, max):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row(tw, "time from heal to convergence", c.Converge, "s")
	row(tw, "resync bytes / bytes lost", c.ResyncRatio, "x")
	row(tw, "longest throttled silence", c.MaxStarve, "s")
	tw.Flush()
	for _, b := range c.Broken {
		switch b.Gate {
		case "converge-p99":
			fmt.Fprintf(w, "GATE  p99 time to converge %.2fs > %.2fs; seeds over the bound: %s\n", b.Value, b.Bound, seedList(b.Seeds))
		case "resync-ratio":
			fmt.Fprintf(w, "GATE  seed %d: resync spent %.1fx the bytes it repaired (bound %.1fx): %s\n", b.Seeds[0], b.Value, b.Bound, b.Replay)
		case "max-starve":
			fmt.Fprintf(w, "GATE  seed %d: a throttled peer received nothing for %.2fs (bound %.2fs): %s\n", b.Seeds[0], b.Value, b.Bound, b.Replay)
		}
	}
	return len(c.Broken)
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

func secs(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) + "s" }

func writeJUnit(path string, s SweepJSON) error {
	b, err := results.JUnit(s)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return fmt.Errorf("writing JUnit report: %w", err)
	}
	return nil
}
