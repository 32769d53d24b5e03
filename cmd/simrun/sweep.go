package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/runner"
	"github.com/syncsim/syncsim/scenarios"
	"github.com/syncsim/syncsim/sim"
)

func runSweep(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const name = "simrun sweep"
	fs := newFlagSet(name)
	scen := fs.String("scenario", "swarm", "scenario `NAME` or path to a .json file")
	impl := implFlags(fs)
	seeds := fs.Uint64("seeds", 100, "number of seeds to run")
	from := fs.Uint64("from", 1, "first seed")
	parallel := fs.Int("parallel", 0, fmt.Sprintf("runs at once, 1..%d (default: GOMAXPROCS); each run stays single-threaded", runner.MaxWorkers))
	jsonFile := fs.String("json", "", "write the results as JSON to `FILE` as they come (also on Ctrl-C); passing runs compact unless -json-full")
	jsonFull := fs.Bool("json-full", false, "with -json, write every passing run whole (its faults, counters and commands), not compact")
	junitFile := fs.String("junit", "", "write a JUnit XML report to `FILE` (one test case per seed; seeds not run are listed as skipped)")
	reportDir := fs.String("report", "", "write plots and a self-contained index.html of the sweep into `DIR` (and of its first 3 failures, run again, in DIR/seed-N);\n"+
		"keeps every run's compact record in memory")
	shard := fs.String("shard", "", "run only shard `K/N` of the seeds (seed i goes to shard i mod N); default from JOB_COMPLETION_INDEX with -shards")
	shards := fs.Uint64("shards", 0, "with JOB_COMPLETION_INDEX set (a Kubernetes Indexed Job), the number of shards N")
	determinism := fs.Bool("check-determinism", false, "run each seed twice and fail on any difference")
	progress := fs.String("progress", "auto", "progress display: auto (a bar on a terminal, lines otherwise), bar, lines, none")
	prof := profileFlags(fs)
	usage := func(w io.Writer) {
		fmt.Fprint(w, `Usage: simrun sweep [-scenario NAME|FILE] [-seeds N] [-from S] [flags]

Run many seeds of one scenario across cores and summarise: pass/fail
counts, time to converge after heal (p50/p90/p99/max), failures by property,
and for each failure the command that replays it. Results are written as
the runs finish, so memory stays flat however many seeds there are. Ctrl-C
stops cleanly: the runs under way stop where they are and count as not
run, the files are written, and the summary says which seeds did not run.
For worlds of at most 64 Lites the Go collector runs at GOGC=1000 (a
quarter less CPU, about three times the memory) unless GOGC is set.
Exit status: 0 every planned seed ran and passed, 1 any failure, a missed
requirement or gate, or an interruption, 2 bad flags.

Flags:
`)
		printFlags(w, fs)
		fmt.Fprint(w, `
Examples:
  simrun sweep -scenario swarm -seeds 1000
  simrun sweep -scenario lossy -seeds 500 -from 1000 -json lossy.json -junit lossy.xml
  simrun sweep -scenario swarm -seeds 4000 -shard 2/8 -json shard2.json
  simrun sweep -scenario lossy -seeds 200 -report sweep-report/
  simrun sweep -scenario swarm -seeds 200 -cpuprofile cpu.out && go tool pprof -top simrun cpu.out
`)
	}
	if code, done := parseFlagsNoArgs(name, fs, args, usage, stdout, stderr); done {
		return code
	}
	switch *progress {
	case "auto", "bar", "lines", "none":
	default:
		return failf(stderr, name, "-progress %q: want auto, bar, lines or none", *progress)
	}
	workers := *parallel
	switch {
	case !flagSet(fs, "parallel"):
		workers = defaultParallel()
	case workers < 1 || workers > runner.MaxWorkers:
		return failf(stderr, name, "-parallel %d: want 1..%d", workers, runner.MaxWorkers)
	}
	plan := results.Plan{From: *from, Count: *seeds, Shards: 1}
	if *shard != "" {
		var err error
		if plan.Shard, plan.Shards, err = results.ParseShard(*shard); err != nil {
			return failf(stderr, name, "-%v", err)
		}
	} else if idx := os.Getenv("JOB_COMPLETION_INDEX"); idx != "" {
		if *shards < 1 {
			return failf(stderr, name, "JOB_COMPLETION_INDEX=%s is set: give the number of shards with -shards N (or -shard K/N)", idx)
		}
		var err error
		if plan.Shard, plan.Shards, err = results.ParseShard(idx + "/" + strconv.FormatUint(*shards, 10)); err != nil {
			return failf(stderr, name, "JOB_COMPLETION_INDEX: %v", err)
		}
	}
	if *seeds == 0 {
		return failf(stderr, name, "-seeds 0: want at least 1")
	}
	if err := plan.Validate(); err != nil {
		return failf(stderr, name, "-from %d -seeds %d: %v", *from, *seeds, err)
	}
	if plan.Len() == 0 {
		return failf(stderr, name, "shard %s of %s holds no seed", plan.ShardString(), plan)
	}
	t, code, ok := resolve(name, *scen, *impl, stderr)
	if !ok {
		return code
	}
	p, err := t.Sc.Params(*from)
	if err != nil {
		return failf(stderr, name, "%v", err)
	}
	tuneSweepGC(p.Lites)
	// Every output is opened before the first run: a sweep never runs for
	// an hour to fail on a missing directory.
	head := results.Sweep{Scenario: t.Arg, Definition: scenarios.Marshal(t.Sc), Version: runner.Version(), Plan: &plan,
		Implementations: runner.Impls(t)}
	var jw *results.SweepWriter
	var juw *results.JUnitWriter
	if *jsonFile != "" {
		var err error
		if jw, err = results.CreateSweep(*jsonFile, head, *jsonFull); err != nil {
			return failf(stderr, name, "-json: %v", err)
		}
	}
	if *junitFile != "" {
		var err error
		if juw, err = results.CreateJUnit(*junitFile, t.Arg, time.Now()); err != nil {
			return failf(stderr, name, "-junit: %v", err)
		}
	}
	if *reportDir != "" {
		if err := checkDir(*reportDir); err != nil {
			return failf(stderr, name, "-report: %v", err)
		}
	}

	if err := prof.start(); err != nil {
		return fail(stderr, name, err)
	}
	defer prof.stop() // a return before the runs end still closes the files
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	prog := newProgress(*progress, stderr, plan.Len())
	tally := runner.NewTally(t.Sc)
	var kept []results.Run // for -report only
	var werr error
	ran := runner.Sweep(ctx, t, plan, runner.SweepOptions{Workers: workers, Determinism: *determinism, Each: func(r results.Run) {
		tally.Add(r)
		prog.add(r)
		if jw != nil && werr == nil {
			werr = jw.Add(r)
		}
		if juw != nil && werr == nil {
			werr = juw.Add(r)
		}
		if *reportDir != "" {
			if r.Pass {
				r = results.Compact(r)
			}
			kept = append(kept, r)
		}
	}})
	prog.finish()
	perr := prof.stop() // reported after the results are written: a profile is not worth a sweep's verdict
	interrupted := ctx.Err() != nil && ran < plan.Len()
	notRun := plan.Len() - ran
	if jw != nil {
		if err := jw.Close(interrupted); err != nil && werr == nil {
			werr = err
		}
	}
	if juw != nil {
		if err := juw.Close(notRun, notRunRanges(plan, ran)); err != nil && werr == nil {
			werr = err
		}
	}
	if werr != nil {
		return fail(stderr, name, werr)
	}
	if perr != nil {
		fmt.Fprintf(stderr, "%s: %v\n", name, perr)
	}
	shardNote := ""
	if plan.Sharded() {
		shardNote = " (shard " + plan.ShardString() + ")"
	}
	failed := summarize(stdout, t, tally, shardNote)
	failed += coverage(stdout, tally)
	failed += gates(stdout, tally)
	if *reportDir != "" && len(kept) > 0 {
		out := head
		out.Runs, out.Done, out.Interrupted = kept, ran, interrupted
		if err := writeSweepReport(*reportDir, t, out, stdout); err != nil {
			return fail(stderr, name, err)
		}
	}
	if interrupted {
		fmt.Fprintf(stdout, "INTERRUPTED: %d of %d planned seeds ran; %d did not (%s)\n", ran, plan.Len(), notRun, notRunRanges(plan, ran))
		fmt.Fprintf(stderr, "%s: interrupted after %d of %d seeds; results so far written\n", name, ran, plan.Len())
		return exitFail
	}
	if failed > 0 {
		return exitFail
	}
	if perr != nil {
		return exitError
	}
	return exitOK
}

// notRunRanges names the seeds of plan after the first ran.
func notRunRanges(p results.Plan, ran uint64) string {
	first, ok := p.Nth(ran)
	if !ok {
		return "none"
	}
	last, _ := p.Nth(p.Len() - 1)
	if p.Sharded() {
		return fmt.Sprintf("seeds %d..%d of shard %s", first, last, p.ShardString())
	}
	return fmt.Sprintf("seeds %d..%d", first, last)
}

// checkDir makes sure dir exists (creating it) and can be written.
func checkDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if err := probeDir(dir); err != nil {
		return fmt.Errorf("cannot write in %s: %w", dir, err)
	}
	return nil
}

// probeDir creates and removes a file in dir: whether dir can be written.
func probeDir(dir string) error {
	f, err := os.CreateTemp(dir, ".simrun-check-*")
	if err != nil {
		return err
	}
	f.Close()
	return os.Remove(f.Name())
}

// summarize prints the closing summary and returns the number of failures.
func summarize(w io.Writer, t target, tally *runner.Tally, note string) int {
	sum := tally.Summary()
	fmt.Fprintf(w, "%s: %d runs, %d passed, %d failed%s\n", t.Sc.Name, sum.Runs, sum.Passed, sum.Failed, note)
	if c := sum.Converge; c.N() > 0 {
		approx := ""
		if !c.Exact() {
			approx = ", percentiles to 3 significant digits"
		}
		fmt.Fprintf(w, "time to converge after heal: p50 %s  p90 %s  p99 %s  max %s (simulated%s)\n",
			secs(c.Pct(50)), secs(c.Pct(90)), secs(c.Pct(99)), secs(c.Max()), approx)
	}
	if sum.WallS > 0 {
		fmt.Fprintf(w, "wall time in runs: %.2fs (%.1f ms per run)\n", sum.WallS, 1000*sum.WallS/float64(sum.Runs))
	}
	if sum.Failed > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "\nfailures by property:")
		for _, f := range sum.ByProperty {
			fmt.Fprintf(tw, "  %s\t%d\tseeds %s\n", f.Property, f.Count, seedList(f.Seeds))
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
func coverage(w io.Writer, tally *runner.Tally) int {
	marks := tally.Coverage()
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
func gates(w io.Writer, tally *runner.Tally) int {
	if tally.Summary().Runs == 0 {
		return 0
	}
	c := tally.Costs()
	row := func(tw io.Writer, name string, v *runner.Dist, unit string) {
		if v.N() == 0 {
			return
		}
		f := func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) + "x" }
		if unit == "s" {
			// To the millisecond: a percentile's nanoseconds are noise.
			f = func(x float64) string { return sim.Time(math.Round(x*1000) * float64(sim.Millisecond)).String() }
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\n", name, f(v.Pct(50)), f(v.Pct(90)), f(v.Pct(99)), f(v.Max()))
	}
	fmt.Fprintln(w, "\ncost of converging (p50, p90, p99, max):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row(tw, "time from heal to convergence", c.Converge, "s")
	if c.ResyncRatio.N() > 0 {
		row(tw, "resync bytes / bytes lost", c.ResyncRatio, "x")
	} else {
		fmt.Fprintf(tw, "  resync bytes / bytes lost\t(no run lost a delta or snapshot to a fault)\n")
	}
	row(tw, "longest throttled silence", c.MaxStarve, "s")
	tw.Flush()
	if n := c.ResyncNoLossRuns; n > 0 {
		fmt.Fprintf(w, "%d of %d runs spent %s on resync traffic (ResyncRequests, snapshots, deltas sent again) with no delta or snapshot lost to a fault: not in the ratio\n",
			n, tally.Summary().Runs, byteCount(c.ResyncNoLossBytes))
	}
	for _, b := range c.Broken {
		switch b.Gate {
		case "converge-p99":
			fmt.Fprintf(w, "GATE  p99 time to converge %s > %s; seeds over the bound: %s\n", secs(b.Value), secs(b.Bound), seedList(b.Seeds))
		case "resync-ratio":
			fmt.Fprintf(w, "GATE  seed %d: resync spent %.1fx the bytes it repaired (bound %.1fx): %s\n", b.Seeds[0], b.Value, b.Bound, b.Replay)
		case "max-starve":
			fmt.Fprintf(w, "GATE  seed %d: a throttled peer received nothing for %s (bound %s): %s\n", b.Seeds[0], secs(b.Value), secs(b.Bound), b.Replay)
		}
	}
	return len(c.Broken)
}

// byteCount is n in bytes, KB or MB (decimal, one decimal place).
func byteCount(n uint64) string {
	switch {
	case n >= 1e6:
		return strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64) + " MB"
	case n >= 1e3:
		return strconv.FormatFloat(float64(n)/1e3, 'f', 1, 64) + " KB"
	}
	return strconv.FormatUint(n, 10) + " bytes"
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

// secs prints simulated seconds as every simulated duration prints.
func secs(v float64) string { return sim.Time(math.Round(v * float64(sim.Second))).String() }
