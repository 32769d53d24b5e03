package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/syncsim/syncsim/internal/jsonpos"
	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/runner"
	"github.com/syncsim/syncsim/scenarios"
	"github.com/syncsim/syncsim/topology"
)

// parseFlagsNoArgs is parseFlags for a subcommand that takes no
// arguments: an argument is a usage error.
func parseFlagsNoArgs(name string, fs *flag.FlagSet, args []string, usage func(io.Writer), stdout, stderr io.Writer) (code int, done bool) {
	pos, code, done := parseFlags(fs, args, usage, stdout, stderr)
	if done {
		return code, true
	}
	if len(pos) > 0 {
		return failf(stderr, name, "unexpected argument %q (run %s -h for help)", pos[0], name), true
	}
	return 0, false
}

func runList(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	var rows [][]string
	for _, s := range scenarios.Named() {
		rows = append(rows, []string{s.Name, s.Description})
	}
	rows = append(rows, []string{""}, []string{"implementation (-nodes)", "what it is"})
	for _, impl := range scenarios.Implementations() {
		rows = append(rows, []string{impl[0], impl[1]})
	}
	return listCommand(args, stdout, stderr, "simrun list",
		"List the named scenarios, one line each, then the built-in implementations\n-nodes chooses from. simrun show NAME prints a scenario as a scenario file.\n", rows)
}

// listCommand runs a subcommand that takes no arguments and prints rows
// as an aligned table.
func listCommand(args []string, stdout, stderr io.Writer, name, help string, rows [][]string) int {
	fs := newFlagSet(name)
	usage := func(w io.Writer) { fmt.Fprintf(w, "Usage: %s\n\n%s", name, help) }
	if code, done := parseFlagsNoArgs(name, fs, args, usage, stdout, stderr); done {
		return code
	}
	printTable(stdout, rows)
	return exitOK
}

// printTable prints rows with their columns aligned.
func printTable(w io.Writer, rows [][]string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

func runShow(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const name = "simrun show"
	fs := newFlagSet(name)
	usage := func(w io.Writer) {
		fmt.Fprint(w, `Usage: simrun show NAME|FILE

Print a scenario as a scenario file (JSON). Edit it and run it with
simrun run -scenario FILE, no recompiling.

Example:
  simrun show lossy > my-lossy.json && simrun run -scenario my-lossy.json -seed 3
`)
	}
	pos, code, done := parseFlags(fs, args, usage, stdout, stderr)
	if done {
		return code
	}
	if len(pos) != 1 {
		return failf(stderr, name, "want one scenario name or file (run %s -h for help)", name)
	}
	sc, err := scenarios.Resolve(pos[0])
	if err != nil {
		return failf(stderr, name, "%v", err)
	}
	stdout.Write(scenarios.Marshal(sc))
	return exitOK
}

func runSuite(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const name = "simrun suite"
	fs := newFlagSet(name)
	seeds := fs.Int("seeds", 5, "seeds per scenario (1..N)")
	usage := func(w io.Writer) {
		fmt.Fprint(w, "Usage: simrun suite [-seeds N]\n\nRun every named scenario (simrun list) with seeds 1..N on the built-in\nreference nodes and print a table: what `make run` runs. Exit status 1 if\nany run failed a property.\n\nFlags:\n")
		printFlags(w, fs)
	}
	if code, done := parseFlagsNoArgs(name, fs, args, usage, stdout, stderr); done {
		return code
	}
	if *seeds < 1 {
		return failf(stderr, name, "-seeds %d: want at least 1", *seeds)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "scenario\tseeds\tpass\tfail\tconverge p50\tconverge max\tframes\tresyncs\tfaults\t\n")
	failed := 0
	var replays []string
	for _, sc := range scenarios.Named() {
		sc := sc
		t := runner.Of(&sc)
		var conv runner.Dist
		passed := 0
		var frames, resyncs, nfaults uint64
		for seed := uint64(1); seed <= uint64(*seeds); seed++ {
			r, err := t.Run(seed, nil)
			if err != nil {
				return failf(stderr, name, "%s: %v", sc.Name, err)
			}
			rj := runner.Result(t, seed, r, false)
			frames += r.Counters.FramesDelivered
			resyncs += r.Counters.ResyncAnswered
			nfaults += uint64(len(r.Schedule))
			switch {
			case !rj.Pass:
				replays = append(replays, fmt.Sprintf("%s   # %s", rj.Replay, r.Violation))
			case rj.ConvergeAfter != nil:
				conv.Add(*rj.ConvergeAfter)
				fallthrough
			default:
				passed++
			}
		}
		failed += *seeds - passed
		p50, mx := "-", "-"
		if conv.N() > 0 {
			p50, mx = secs(conv.Pct(50)), secs(conv.Max())
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%d\t%d\t%d\t\n", sc.Name, *seeds, passed, *seeds-passed, p50, mx, frames, resyncs, nfaults)
	}
	tw.Flush()
	if failed > 0 {
		fmt.Fprintf(stdout, "\n%d runs failed; replay each with:\n", failed)
		for _, r := range replays {
			fmt.Fprintln(stdout, "  "+r)
		}
		return exitFail
	}
	fmt.Fprintln(stdout, "\nall runs passed every property")
	return exitOK
}

func runReplay(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const name = "simrun replay"
	fs := newFlagSet(name)
	resultFile := fs.String("result", "", "a result `FILE` written by simrun run -json (scenario, seed and hash are read from it)")
	scen := fs.String("scenario", "", "scenario NAME or FILE (instead of -result)")
	seed := fs.Uint64("seed", 1, "seed (instead of -result)")
	hash := fs.String("hash", "", "expected trace hash, 16 hex digits (instead of -result)")
	usage := func(w io.Writer) {
		fmt.Fprint(w, `Usage: simrun replay -result FILE
       simrun replay -scenario NAME|FILE -seed S -hash H

Re-run a recorded run and confirm it is the same run: same trace hash and
same outcome. Exit status: 0 identical, 1 different, 2 bad input.

Flags:
`)
		printFlags(w, fs)
		fmt.Fprint(w, `
Examples:
  simrun run -scenario swarm -seed 7 -json r.json && simrun replay -result r.json
  simrun replay -scenario swarm -seed 7 -hash 0123456789abcdef     # a made-up hash: DIFFERENT (exit 1)
`)
	}
	if code, done := parseFlagsNoArgs(name, fs, args, usage, stdout, stderr); done {
		return code
	}
	want := RunJSON{Scenario: *scen, Seed: *seed, TraceHash: *hash}
	from := "-hash"
	if *resultFile != "" {
		if *scen != "" || *hash != "" || flagSet(fs, "seed") {
			return failf(stderr, name, "give -result, or -scenario, -seed and -hash, not both")
		}
		b, err := os.ReadFile(*resultFile)
		if err != nil {
			return fail(stderr, name, err)
		}
		var probe struct {
			Runs      json.RawMessage `json:"runs"`
			TraceHash *string         `json:"trace_hash"`
		}
		switch err := json.Unmarshal(b, &probe); {
		case err != nil:
			return failf(stderr, name, "%v", jsonpos.Error(*resultFile, b, err, "a run result"))
		case probe.Runs != nil:
			return failf(stderr, name, "%s is a sweep's result, not one run's: replay a run of it with the command the sweep printed for it (simrun run -scenario S -seed N), or write one run with simrun run -json", *resultFile)
		case probe.TraceHash == nil:
			return failf(stderr, name, "%s is not a result written by simrun run -json: it has no trace_hash", *resultFile)
		}
		if err := json.Unmarshal(b, &want); err != nil || want.Scenario == "" {
			return failf(stderr, name, "%s is not a result written by simrun run -json: it has no scenario", *resultFile)
		}
		from = *resultFile + ": trace_hash"
	} else if *scen == "" || *hash == "" {
		return failf(stderr, name, "want -result FILE, or -scenario, -seed and -hash (run %s -h for help)", name)
	}
	if !validHash(want.TraceHash) {
		return failf(stderr, name, "%s %q: want 16 hex digits, as simrun run prints after \"trace hash\"", from, want.TraceHash)
	}
	if want.Seed == 0 {
		return failf(stderr, name, "seed 0: seeds start at 1")
	}
	var t target
	if want.Definition != nil {
		sc, err := scenarios.Parse(*resultFile+": definition", want.Definition)
		if err != nil {
			return failf(stderr, name, "%v", err)
		}
		t = target{Arg: want.Scenario, Sc: sc}
	} else {
		var code int
		var ok bool
		if t, code, ok = resolve(name, want.Scenario, runner.Options{}, stderr); !ok {
			return code
		}
	}
	r, err := t.Run(want.Seed, nil)
	if err != nil {
		return failf(stderr, name, "%v", err)
	}
	got := fmt.Sprintf("%016x", r.Hash)
	if got != want.TraceHash {
		fmt.Fprintf(stdout, "DIFFERENT  %s seed %d: trace hash %s, recorded %s (the code or the scenario changed since;\n           a shrunk schedule file replays across versions: simrun run -scenario FILE)\n", t.Sc.Name, want.Seed, got, want.TraceHash)
		return exitFail
	}
	fmt.Fprintf(stdout, "IDENTICAL  %s seed %d: trace hash %s", t.Sc.Name, want.Seed, got)
	if *resultFile != "" && want.Pass != r.Pass() {
		fmt.Fprintf(stdout, ", but the outcome differs (recorded pass=%v)\n", want.Pass)
		return exitFail
	}
	fmt.Fprintln(stdout)
	return exitOK
}

func runMerge(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const name = "simrun merge"
	fs := newFlagSet(name)
	jsonFile := fs.String("json", "", "also write the merged result to `FILE`")
	usage := func(w io.Writer) {
		fmt.Fprint(w, `Usage: simrun merge [-json FILE] SHARD.json...

Combine the -json files of sweep shards (simrun sweep -shard K/N) into one
summary, streaming (memory stays flat). The files must be every shard of
one sweep, each once and complete: same scenario, definition, nodes,
version and seeds; a missing, repeated, interrupted or foreign shard is
named and the merge fails. Exit status: 0 every seed ran and passed, 1 any
failure or an incomplete shard set, 2 a file that is not a sweep result.

Flags:
`)
		printFlags(w, fs)
		fmt.Fprint(w, `
Examples:
  for k in 0 1 2 3; do simrun sweep -scenario swarm -seeds 400 -shard $k/4 -progress none -json s$k.json; done
  simrun merge s0.json s1.json s2.json s3.json
  simrun merge s0.json s1.json s2.json     # shard 3/4 missing: NOT ONE COMPLETE SWEEP (exit 1)
`)
	}
	pos, code, done := parseFlags(fs, args, usage, stdout, stderr)
	if done {
		return code
	}
	if len(pos) == 0 {
		return failf(stderr, name, "want one or more sweep result files (run %s -h for help)", name)
	}
	var t target
	var tally *runner.Tally
	var jw *results.SweepWriter
	var werr, defErr error
	// The head is known only after the first pass; the runs come in the
	// second, so the tally and the writer start at the first run.
	start := func(head results.Sweep) {
		t = target{Arg: head.Scenario, Sc: &scenarios.Scenario{Name: head.Scenario}}
		if head.Definition != nil {
			// Without it the gates and coverage requirements cannot be
			// judged: that is a problem of the merge, not a pass.
			if sc, err := scenarios.Parse("definition", head.Definition); err == nil {
				t.Sc = sc
			} else {
				defErr = err
			}
		}
		tally = runner.NewTally(t.Sc)
		if *jsonFile != "" {
			jw, werr = results.CreateSweep(*jsonFile, head, false)
		}
	}
	merged, err := runner.Merge(pos, start, func(r results.Run) {
		tally.Add(r)
		if jw != nil && werr == nil {
			werr = jw.Add(r)
		}
	})
	if err != nil {
		if jw != nil {
			jw.Abort()
		}
		if errors.Is(err, runner.ErrInput) {
			return failf(stderr, name, "%v", err)
		}
		return fail(stderr, name, err)
	}
	if jw != nil {
		if err := jw.Close(merged.Head.Interrupted); err != nil && werr == nil {
			werr = err
		}
	}
	if werr != nil {
		return failf(stderr, name, "-json: %v", werr)
	}
	failed := summarize(stdout, t, tally, "")
	failed += coverage(stdout, tally)
	failed += gates(stdout, tally)
	if defErr != nil {
		merged.Problems = append(merged.Problems, fmt.Sprintf("the sweep's scenario definition does not load (%v): its gates and coverage requirements were not checked", defErr))
	}
	if len(merged.Problems) > 0 {
		fmt.Fprintf(stdout, "\nNOT ONE COMPLETE SWEEP (%d problems):\n", len(merged.Problems))
		for _, p := range merged.Problems {
			fmt.Fprintf(stdout, "  %s\n", p)
		}
		return exitFail
	}
	if failed > 0 {
		return exitFail
	}
	return exitOK
}

func runShrink(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const name = "simrun shrink"
	fs := newFlagSet(name)
	scen := fs.String("scenario", "", "scenario NAME or FILE of the failing run")
	impl := implFlags(fs)
	seed := fs.Uint64("seed", 1, "seed of the failing run (default: the file's seed, else 1)")
	outFile := fs.String("o", "", "write the shrunk scenario to `FILE` (default: shrunk-NAME-SEED.json)")
	budget := fs.Int("max-runs", 2000, "give up after this many trial runs")
	usage := func(w io.Writer) {
		fmt.Fprint(w, `Usage: simrun shrink -scenario NAME|FILE -seed S [-o FILE]

Take the recorded fault schedule of a failing run, replay it as a script and
minimise it to a smaller schedule that still fails the same property: whole
links, fault kinds and message types are dropped first, then delta
debugging (Zeller's ddmin) cuts the rest. Writes a scenario file that reproduces the
failure (simrun run -scenario FILE) and prints how much smaller it got.
Exit status: 0 shrunk, 1 the run does not fail, 2 bad input.

Flags:
`)
		printFlags(w, fs)
		fmt.Fprint(w, `
Examples:
  simrun shrink -scenario lossy -seed 1 -bug dedup-before-apply -o shrunk.json
  simrun run -scenario shrunk.json     # fails as the original did (exit 1)
`)
	}
	if code, done := parseFlagsNoArgs(name, fs, args, usage, stdout, stderr); done {
		return code
	}
	if *scen == "" {
		return failf(stderr, name, "-scenario is required (run %s -h for help)", name)
	}
	t, code, ok := resolve(name, *scen, *impl, stderr)
	if !ok {
		return code
	}
	if err := pickSeed(fs, seed, t); err != nil {
		return failf(stderr, name, "%v", err)
	}
	path := *outFile
	if path == "" {
		path = fmt.Sprintf("shrunk-%s-%d.json", strings.ReplaceAll(t.Sc.Name, "/", "_"), *seed)
	}
	if err := checkWritable(path); err != nil {
		return failf(stderr, name, "-o: %v", err)
	}
	r, err := t.Run(*seed, nil)
	if err != nil {
		return failf(stderr, name, "%v", err)
	}
	if r.Pass() {
		fmt.Fprintf(stdout, "%s seed %d passes: nothing to shrink\n", t.Sc.Name, *seed)
		return exitFail
	}
	sh, err := scenarios.Shrink(*t.Sc, *seed, r, *budget)
	if err != nil {
		return failf(stderr, name, "%v", err)
	}
	orig, small, prop, runs := sh.From, sh.To, sh.Property, sh.Runs
	if len(orig) == 0 {
		fmt.Fprintf(stdout, "%s seed %d fails %s with no fault at all: there is no schedule to shrink; the scenario itself reproduces it:\n  %s\n",
			t.Sc.Name, *seed, prop, t.Replay(*seed))
		return exitOK
	}
	sc := *t.Sc
	sc.Name = fmt.Sprintf("%s-seed%d-shrunk", t.Sc.Name, *seed)
	sc.Description = fmt.Sprintf("%s seed %d shrunk from %d to %d fault events; fails %s", t.Sc.Name, *seed, len(orig), len(small), prop)
	sc = sc.Scripted(small)
	sc.Seed, sc.Expect = *seed, prop
	if err := os.WriteFile(path, scenarios.Marshal(&sc), 0o644); err != nil {
		return fail(stderr, name, err)
	}
	fmt.Fprintf(stdout, "shrunk %s seed %d: %d fault events -> %d (%.0f%% smaller) in %d trial runs; still fails %s\n",
		t.Sc.Name, *seed, len(orig), len(small), 100*(1-float64(len(small))/float64(max(len(orig), 1))), runs, prop)
	for _, e := range small {
		fmt.Fprintf(stdout, "  %s\n", e)
	}
	fmt.Fprintf(stdout, "wrote %s; reproduce with: simrun run -scenario %s -seed %d\n", path, path, *seed)
	return exitOK
}

func runMarks(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	var rows [][]string
	for _, m := range topology.Marks() {
		rows = append(rows, []string{m.Name, m.What})
	}
	return listCommand(args, stdout, stderr, "simrun marks",
		"List the coverage marks: interesting protocol paths a run counts. A sweep\nprints the fraction of seeds that hit each; a scenario's \"require\" field\nsets the fraction a sweep must reach.\n", rows)
}

// validHash reports whether h is a trace hash as simrun prints it.
func validHash(h string) bool {
	_, err := hex.DecodeString(h)
	return len(h) == 16 && err == nil
}
