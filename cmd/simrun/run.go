package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"text/tabwriter"

	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/reports"
	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/runner"
	"github.com/syncsim/syncsim/topology"
)

// exitFail is the status of runs that completed but failed a property.
const exitFail = 1

// target is a resolved scenario with the planted bugs -bug named.
type target = runner.Target

// implFlags adds the flags that choose and plant bugs in implementations:
// -bug, -lite-exec, -origin-exec, -step-timeout, -keep-state.
func implFlags(fs *flag.FlagSet) *runner.Options {
	o := &runner.Options{}
	fs.StringVar(&o.Nodes, "nodes", "", "the built-in implementation of each role: `NAME` for both, or lite=NAME,origin=NAME;\n"+
		"reference (default) or nodedb-2026 (simrun list shows them)")
	fs.StringVar(&o.Bug, "bug", "", "switch on planted bugs in the reference nodes, comma-separated `NAMES`\n"+
		"(simrun catalogue -list); added to those the scenario file names; none switches those off")
	fs.StringVar(&o.LiteExec, "lite-exec", "", "run each Lite as the program `CMD` (words split on spaces), one process per node,\n"+
		"over the external-node protocol (docs/external-nodes.md)")
	fs.StringVar(&o.OriginExec, "origin-exec", "", "run the Origin as the program `CMD` (words split on spaces)")
	fs.DurationVar(&o.StepTimeout, "step-timeout", 0, "wall-clock time an external node may take over one step (default 10s)")
	fs.StringVar(&o.StateRoot, "keep-state", "", "keep external nodes' state directories under `DIR` after the run (default: removed)")
	return o
}

// resolve is runner.Resolve with its error reported as name's one line.
func resolve(name, arg string, o runner.Options, stderr io.Writer) (target, int, bool) {
	if o.StepTimeout < 0 {
		return target{}, failf(stderr, name, "-step-timeout %v: must not be negative", o.StepTimeout), false
	}
	if o.StateRoot != "" {
		if err := os.MkdirAll(o.StateRoot, 0o755); err != nil {
			return target{}, failf(stderr, name, "-keep-state: %v", err), false
		}
	}
	t, err := runner.Resolve(arg, o)
	if err != nil {
		return target{}, failf(stderr, name, "%v", err), false
	}
	return t, 0, true
}

func runRun(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const name = "simrun run"
	fs := newFlagSet(name)
	scen := fs.String("scenario", "baseline", "scenario `NAME` (see simrun list) or path to a scenario .json file")
	seed := fs.Uint64("seed", 1, "root seed: the same scenario and seed replay the same run")
	traceFile := fs.String("trace", "", "write every trace event as a JSON line to `FILE`")
	jsonFile := fs.String("json", "", "write the result (counters, series, faults, violation, replay command) as JSON to `FILE`")
	determinism := fs.Bool("check-determinism", false, "run twice and fail if the two runs differ (names the first differing event)")
	reportDir := fs.String("report", "", "write the run's plots (PNG, SVG) and a self-contained index.html into `DIR`")
	impl := implFlags(fs)
	prof := profileFlags(fs)
	usage := func(w io.Writer) {
		fmt.Fprint(w, `Usage: simrun run [-scenario NAME|FILE] [-seed S] [flags]

Run one scenario once: writes and faults until heal, then up to the budget
for every Lite to hold exactly Origin's state with nothing pending, with the
safety properties checked at every event. Prints PASS or FAIL, the trace
hash, counters, the faults that fired and, on failure, the violation with
the events that led to it, frames decoded (those that concern the
violation first, then the last 50 in order, timer ticks folded), and the
commands that replay and shrink it. Ctrl-C ends the run where it is: the
trace and profiles of the part that ran are written, no verdict is given.
Exit status: 0 pass, 1 a property failed or the run was interrupted, 2 bad
flags or files.

Flags:
`)
		printFlags(w, fs)
		fmt.Fprint(w, `
Examples:
  simrun run -scenario swarm -seed 7
  simrun run -scenario lossy -seed 3 -trace trace.jsonl -json result.json
  simrun show lossy > my-scenario.json && simrun run -scenario my-scenario.json -seed 1 -check-determinism
  simrun run -scenario slow-consumer -seed 1 -report report/
  simrun run -scenario lossy -seed 1 -bug dedup-before-apply     # fails acked-not-lost (exit 1)
`)
	}
	if code, done := parseFlagsNoArgs(name, fs, args, usage, stdout, stderr); done {
		return code
	}
	t, code, ok := resolve(name, *scen, *impl, stderr)
	if !ok {
		return code
	}
	if err := pickSeed(fs, seed, t); err != nil {
		return failf(stderr, name, "%v", err)
	}
	// Every output is checked before the run: a long run never ends in
	// "no such directory".
	if *jsonFile != "" {
		if err := checkWritable(*jsonFile); err != nil {
			return failf(stderr, name, "-json: %v", err)
		}
	}
	if *reportDir != "" {
		if err := checkDir(*reportDir); err != nil {
			return failf(stderr, name, "-report: %v", err)
		}
	}
	var trace io.Writer
	if *traceFile != "" {
		f, err := os.Create(*traceFile) // before the run, as every output is checked
		if err != nil {
			return failf(stderr, name, "-trace: cannot write %s: %v", *traceFile, err)
		}
		defer f.Close()
		trace = f
	}
	if err := prof.start(); err != nil {
		return fail(stderr, name, err)
	}
	defer prof.stop()
	// An interrupt ends the run where it is, so the trace and profiles of
	// the part that ran are written whole; a second one kills at once.
	ctx, stopSignals := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stopSignals()
	context.AfterFunc(ctx, stopSignals)
	show := runProgress(stderr, t, *seed)
	r, err := t.RunWitnessed(ctx, *seed, trace, show.at)
	show.done()
	stopSignals()
	if perr := prof.stop(); perr != nil && err == nil {
		err = perr
	}
	if r.Aborted {
		cut := fmt.Sprintf("interrupted at simulated %v, before the verdict: no result", r.End)
		if err != nil {
			return failf(stderr, name, "%s; %v", cut, err)
		}
		fmt.Fprintf(stderr, "%s: %s%s\n", name, cut, interruptedOutputs(*traceFile, prof))
		return exitFail
	}
	if err != nil {
		return failf(stderr, name, "%v", err)
	}
	rj := runner.Result(t, *seed, r, true) // built once: printed, written, drawn
	printResult(stdout, t, *seed, r, &rj)
	if *jsonFile != "" {
		if err := writeJSON(*jsonFile, rj); err != nil {
			return fail(stderr, name, err)
		}
	}
	if *reportDir != "" {
		if err := writeRunReport(*reportDir, rj, stdout); err != nil {
			return fail(stderr, name, err)
		}
	}
	if *determinism {
		if diff, err := runner.DeterminismDiff(t, *seed); err != nil {
			return failf(stderr, name, "%v", err)
		} else if diff != "" {
			fmt.Fprintf(stdout, "NONDETERMINISTIC  %s\n", diff)
			return exitFail
		}
		fmt.Fprintln(stdout, "determinism: a second run gave the same trace hash")
	}
	if !r.Pass() {
		return exitFail
	}
	return exitOK
}

func flagSet(fs interface{ Visit(func(*flag.Flag)) }, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

func printResult(w io.Writer, t target, seed uint64, r topology.Result, rj *RunJSON) {
	k := r.Counters
	switch {
	case r.Pass() && r.Converged:
		fmt.Fprintf(w, "PASS  %s seed %d: converged %v after heal (at %v)\n", t.Sc.Name, seed, r.Metrics.ConvergeAfter, r.ConvergedAt)
	case r.Pass():
		fmt.Fprintf(w, "PASS  %s seed %d: no property violated (convergence not checked)\n", t.Sc.Name, seed)
	case r.Violation != nil:
		fmt.Fprintf(w, "FAIL  %s seed %d: %s\n", t.Sc.Name, seed, r.Violation)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "trace hash\t%016x\n", r.Hash)
	fmt.Fprintf(tw, "nodes\torigin %s\tlites %s\n", r.Impls.Origin, r.Impls.Lite)
	for _, u := range r.Unchecked {
		fmt.Fprintf(tw, "not checked\t%s: %s\n", u.Property, u.Why)
	}
	fmt.Fprintf(tw, "frames\tsent %d\tdelivered %d\tdropped %d\tcorrupted %d\tduplicated %d\tundecodable %d\n",
		k.FramesSent, k.FramesDelivered, k.FramesDropped, k.FramesCorrupted, k.FramesDuplicated, k.DecodeErrors)
	fmt.Fprintf(tw, "resync\trequested %d\tanswered %d\tserved %d\n", k.ResyncRequested, k.ResyncAnswered, k.ResyncServed)
	throttle := fmt.Sprintf("throttle\ton %d\toff %d", k.ThrottleOn, k.ThrottleOff)
	if on, off, ok := reports.ThrottleCounts(rj); ok {
		// What Origin says it did, then what reached it on the wire: an
		// Origin that ignores Throttle engages nothing, yet was asked.
		throttle += fmt.Sprintf("\t(Origin's events)\treceived Throttle{on} %d (engages and renewals), Throttle{off} %d (frames)", on, off)
	}
	fmt.Fprintln(tw, throttle)
	if note := reports.ControlNote(rj); note != "" {
		fmt.Fprintf(tw, "wire\t%s\n", note)
	}
	fmt.Fprintf(tw, "activity\twrites %d\treconnects %d\tcrashes %d\tevents %d\n", k.Writes, k.Reconnects, k.Crashes, k.Events)
	fmt.Fprintf(tw, "faults\t%s\n", faultSummary(r.Schedule))
	fmt.Fprintf(tw, "repair\tresync bytes %d\tfor %d bytes lost to faults%s\tlongest throttled silence %v\n",
		r.Metrics.ResyncBytes, r.Metrics.RepairedBytes, reports.OverflowClause(k.QueueOverflows), r.Metrics.MaxStarve)
	tw.Flush()
	if r.Violation != nil {
		fmt.Fprintln(w)
		v := r.Violation
		fmt.Fprintf(w, "property: %s\ntime:     %v\nnode:     %s\nwhat:     %s\n", v.Property, v.At, v.NodeName, v.Message)
		if why := reports.Explain(rj); why != "" {
			fmt.Fprintf(w, "wire:     %s\n", why)
		}
		fmt.Fprint(w, reports.StoryText(rj, 50))
		fmt.Fprintln(w)
		fmt.Fprintf(w, "shrink: %s\n", t.ShrinkCmd(seed))
	}
	fmt.Fprintf(w, "replay: %s\n", t.Replay(seed))
}

// faultSummary counts the faults that fired, by kind, in first-fired order.
func faultSummary(events []faults.Event) string {
	if len(events) == 0 {
		return "none"
	}
	var order []faults.Kind
	count := map[faults.Kind]int{}
	for _, e := range events {
		if count[e.Kind] == 0 {
			order = append(order, e.Kind)
		}
		count[e.Kind]++
	}
	parts := make([]string, len(order))
	for i, k := range order {
		parts[i] = fmt.Sprintf("%s %d", k, count[k])
	}
	return strings.Join(parts, ", ")
}

// The result file forms live in package results.
type (
	RunJSON   = results.Run
	SweepJSON = results.Sweep
)

func writeJSON(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return results.WriteFile(path, append(b, '\n'))
}

// pickSeed settles the seed of a single run: -seed if given, else the
// scenario file's "seed" (a shrunk file carries the seed it fails with),
// else 1. Seed 0 is refused everywhere, so that a file without a seed is
// never read as seed 0 by one command and seed 1 by another.
func pickSeed(fs *flag.FlagSet, seed *uint64, t target) error {
	if t.Sc.Seed != 0 && !flagSet(fs, "seed") {
		*seed = t.Sc.Seed
	}
	if *seed == 0 {
		return errors.New("-seed 0: seeds start at 1")
	}
	return nil
}

// checkWritable makes sure a file can be created at path before the work
// that fills it starts; it leaves nothing behind.
func checkWritable(path string) error {
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("cannot write %s: no directory %s", path, dir)
	}
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return fmt.Errorf("cannot write %s: it is a directory", path)
	}
	if err := probeDir(dir); err != nil {
		return fmt.Errorf("cannot write %s: %w", path, err)
	}
	return nil
}

// interruptedOutputs names what an interrupted run still wrote: its trace
// up to the cut and its profiles.
func interruptedOutputs(trace string, prof *profiles) string {
	var w []string
	if trace != "" {
		w = append(w, "the trace up to there is in "+trace)
	}
	if *prof.cpu != "" || *prof.mem != "" {
		w = append(w, "the profiles of the part that ran are written")
	}
	if len(w) == 0 {
		return ""
	}
	return "; " + strings.Join(w, ", ")
}
