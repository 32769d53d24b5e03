package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/sim/cluster"
)

// exitFail is the status of a run that completed but did not converge.
const exitFail = 1

// runSpec is everything one run depends on; its flags print back as the
// replay command.
type runSpec struct {
	seed                 uint64
	lites, colls, docs   int
	liteRate, originRate float64
	writeFor, budget     time.Duration
	chaos                float64
	resets               float64
	swarm                bool
}

func defaultSpec() runSpec {
	d := cluster.Defaults()
	return runSpec{seed: 1, lites: d.Lites, colls: d.Collections, docs: d.Docs, liteRate: d.LiteRate,
		originRate: d.OriginRate, writeFor: time.Duration(d.WriteFor), budget: time.Duration(d.Budget)}
}

func (s *runSpec) bind(fs interface {
	Uint64Var(*uint64, string, uint64, string)
	IntVar(*int, string, int, string)
	BoolVar(*bool, string, bool, string)
	Float64Var(*float64, string, float64, string)
	DurationVar(*time.Duration, string, time.Duration, string)
}) {
	fs.Uint64Var(&s.seed, "seed", s.seed, "root seed: the same seed replays the same run")
	fs.IntVar(&s.lites, "lites", s.lites, "number of Lite clients")
	fs.IntVar(&s.colls, "collections", s.colls, "number of collections (every Lite subscribes to all)")
	fs.IntVar(&s.docs, "docs", s.docs, "documents per collection")
	fs.Float64Var(&s.liteRate, "lite-rate", s.liteRate, "writes per simulated second at each Lite")
	fs.Float64Var(&s.originRate, "origin-rate", s.originRate, "writes per simulated second at Origin")
	fs.DurationVar(&s.writeFor, "write-for", s.writeFor, "simulated time during which writes happen (faults heal then too)")
	fs.DurationVar(&s.budget, "budget", s.budget, "simulated time allowed to converge after writes stop")
	fs.Float64Var(&s.chaos, "chaos", s.chaos, "probability of each frame fault (drop, duplicate, reorder, bit flip); 0 = no faults")
	fs.Float64Var(&s.resets, "resets", s.resets, "connection resets per simulated second on random Lites before heal; > 0 also crashes a random node every 10 s on average")
	fs.BoolVar(&s.swarm, "swarm", s.swarm, "let the seed pick the fault mix (swarm mode) instead of -chaos/-resets")
}

func (s runSpec) validate() error {
	switch {
	case s.chaos < 0 || s.chaos > 0.25:
		return fmt.Errorf("-chaos %g: want 0..0.25 (four fault kinds each get this probability)", s.chaos)
	case s.resets < 0:
		return fmt.Errorf("-resets %g: must not be negative", s.resets)
	case s.swarm && (s.chaos > 0 || s.resets > 0):
		return fmt.Errorf("-swarm picks its own faults: drop -chaos and -resets")
	case s.writeFor <= 0:
		return fmt.Errorf("-write-for %v: must be positive", s.writeFor)
	}
	return nil
}

// replay is the command that reproduces the run exactly.
func (s runSpec) replay() string {
	d := defaultSpec()
	var b strings.Builder
	fmt.Fprintf(&b, "simrun run -seed %d", s.seed)
	add := func(changed bool, format string, v any) {
		if changed {
			fmt.Fprintf(&b, " "+format, v)
		}
	}
	add(s.lites != d.lites, "-lites %d", s.lites)
	add(s.colls != d.colls, "-collections %d", s.colls)
	add(s.docs != d.docs, "-docs %d", s.docs)
	add(s.liteRate != d.liteRate, "-lite-rate %g", s.liteRate)
	add(s.originRate != d.originRate, "-origin-rate %g", s.originRate)
	add(s.writeFor != d.writeFor, "-write-for %v", s.writeFor)
	add(s.budget != d.budget, "-budget %v", s.budget)
	add(s.chaos != d.chaos, "-chaos %g", s.chaos)
	add(s.resets != d.resets, "-resets %g", s.resets)
	add(s.swarm, "-swarm%s", "")
	return b.String()
}

func (s runSpec) params(trace io.Writer) cluster.Params {
	p := cluster.Defaults()
	p.Seed, p.Lites, p.Collections, p.Docs = s.seed, s.lites, s.colls, s.docs
	p.LiteRate, p.OriginRate = s.liteRate, s.originRate
	p.WriteFor, p.Budget = sim.Time(s.writeFor), sim.Time(s.budget)
	p.Trace = trace
	switch {
	case s.swarm:
		p.Faults = faults.Swarm(s.seed, p.WriteFor, s.lites)
	case s.chaos > 0 || s.resets > 0:
		p.Faults = faults.Chaos(s.chaos, s.resets, p.WriteFor)
	}
	return p
}

// jsonResult is the -json file's content.
type jsonResult struct {
	Pass          bool           `json:"pass"`
	Seed          uint64         `json:"seed"`
	TraceHash     string         `json:"trace_hash"`
	ConvergedAtS  *float64       `json:"converged_at_s"`
	ConvergeAfter *float64       `json:"converge_after_heal_s"`
	Divergence    string         `json:"divergence,omitempty"`
	Violation     *jsonViolation `json:"violation,omitempty"`
	Faults        []jsonFault    `json:"faults"`
	EndS          float64        `json:"end_s"`
	Counters      sim.Counters   `json:"counters"`
	Replay        string         `json:"replay"`
	Series        []jsonSeries   `json:"series"`
	Params        map[string]any `json:"params"`
}

type jsonViolation struct {
	Property string   `json:"property"`
	AtS      float64  `json:"at_s"`
	Node     string   `json:"node"`
	Message  string   `json:"message"`
	Tail     []string `json:"tail"`
}

type jsonFault struct {
	AtNs   int64   `json:"at_ns"`
	Kind   string  `json:"kind"`
	Node   int     `json:"node"`
	Peer   int     `json:"peer,omitempty"`
	Type   string  `json:"type,omitempty"`
	Nth    int     `json:"nth,omitempty"`
	Arg    int64   `json:"arg,omitempty"`
	Factor float64 `json:"factor,omitempty"`
}

type jsonSeries struct {
	Name   string       `json:"name"`
	Node   int          `json:"node"`
	EveryS float64      `json:"every_s"`
	Points [][2]float64 `json:"points"`
}

func runRun(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const name = "simrun run"
	spec := defaultSpec()
	fs := newFlagSet(name)
	spec.bind(fs)
	traceFile := fs.String("trace", "", "write every trace event as a JSON line to `FILE`")
	jsonFile := fs.String("json", "", "write the result (counters, series, replay command) as JSON to `FILE`")
	usage := func(w io.Writer) {
		fmt.Fprint(w, `Usage: simrun run [flags]

Run the reference topology (1 Origin, N Lites) once: writes for -write-for,
optional frame chaos and disruptions that heal when writes stop, then up to
-budget for every Lite to hold exactly Origin's state with nothing pending.
Prints PASS or FAIL, the trace hash, counters and the replay command.
Exit status: 0 converged, 1 did not converge, 2 bad flags or files.

Flags:
`)
		printFlags(w, fs)
		fmt.Fprint(w, `
Examples:
  simrun run -seed 7
  simrun run -seed 7 -lites 16 -chaos 0.03 -resets 0.5 -trace trace.jsonl -json result.json
  simrun run -seed 7 -swarm
`)
	}
	pos, code, done := parseFlags(fs, args, usage, stdout, stderr)
	if done {
		return code
	}
	if len(pos) > 0 {
		return failf(stderr, name, "unexpected argument %q (run %s -h for help)", pos[0], name)
	}
	if err := spec.validate(); err != nil {
		return failf(stderr, name, "%v", err)
	}
	var trace *os.File
	if *traceFile != "" {
		f, err := os.Create(*traceFile)
		if err != nil {
			return fail(stderr, name, err)
		}
		defer f.Close()
		trace = f
	}
	p := spec.params(nil)
	if trace != nil {
		p = spec.params(trace)
	}
	c, err := cluster.New(p)
	if err != nil {
		return failf(stderr, name, "%v", err)
	}
	r := c.Run()
	if err := c.World.TraceErr(); err != nil {
		return failf(stderr, name, "writing trace %s: %v", *traceFile, err)
	}
	printResult(stdout, spec, r)
	if *jsonFile != "" {
		if err := writeJSON(*jsonFile, spec, r); err != nil {
			return fail(stderr, name, err)
		}
	}
	if !r.Pass() {
		return exitFail
	}
	return exitOK
}

func printResult(w io.Writer, spec runSpec, r cluster.Result) {
	k := r.Counters
	switch {
	case r.Pass():
		fmt.Fprintf(w, "PASS  converged %v after writes stopped (at %v)\n", r.ConvergedAt-sim.Time(spec.writeFor), r.ConvergedAt)
	case r.Violation != nil:
		fmt.Fprintf(w, "FAIL  %s\n", r.Violation)
	default:
		fmt.Fprintf(w, "FAIL  not converged by %v: %s\n", r.End, r.Divergence)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "trace hash\t%016x\n", r.Hash)
	fmt.Fprintf(tw, "frames\tsent %d\tdelivered %d\tdropped %d\tcorrupted %d\tduplicated %d\tundecodable %d\n",
		k.FramesSent, k.FramesDelivered, k.FramesDropped, k.FramesCorrupted, k.FramesDuplicated, k.DecodeErrors)
	fmt.Fprintf(tw, "resync\trequested %d\tanswered %d\tserved %d\n", k.ResyncRequested, k.ResyncAnswered, k.ResyncServed)
	fmt.Fprintf(tw, "throttle\ton %d\toff %d\n", k.ThrottleOn, k.ThrottleOff)
	fmt.Fprintf(tw, "nodes\twrites %d\treconnects %d\tcrashes %d\tevents %d\n", k.Writes, k.Reconnects, k.Crashes, k.Events)
	fmt.Fprintf(tw, "faults\t%s\n", faultSummary(r.Schedule))
	tw.Flush()
	if r.Violation != nil {
		fmt.Fprintln(w)
		fmt.Fprint(w, r.Violation.Report(50))
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "replay: %s\n", spec.replay())
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

func writeJSON(path string, spec runSpec, r cluster.Result) error {
	out := jsonResult{Pass: r.Pass(), Seed: spec.seed, TraceHash: fmt.Sprintf("%016x", r.Hash),
		Divergence: r.Divergence, EndS: r.End.Seconds(), Counters: r.Counters, Replay: spec.replay(),
		Params: map[string]any{"lites": spec.lites, "collections": spec.colls, "docs": spec.docs,
			"lite_rate": spec.liteRate, "origin_rate": spec.originRate, "write_for_s": spec.writeFor.Seconds(),
			"budget_s": spec.budget.Seconds(), "chaos": spec.chaos, "resets": spec.resets, "swarm": spec.swarm}}
	if v := r.Violation; v != nil {
		jv := &jsonViolation{Property: v.Property, AtS: v.At.Seconds(), Node: v.NodeName, Message: v.Message}
		for i := range v.Tail {
			jv.Tail = append(jv.Tail, v.Tail[i].String())
		}
		out.Violation = jv
	}
	out.Faults = []jsonFault{}
	for _, e := range r.Schedule {
		f := jsonFault{AtNs: int64(e.At), Kind: string(e.Kind), Node: int(e.Node), Arg: int64(e.Arg), Factor: e.Factor}
		if e.Kind.IsFrame() {
			f.Peer, f.Type, f.Nth = int(e.Peer), e.Type.String(), e.Nth
		}
		out.Faults = append(out.Faults, f)
	}
	if r.Converged {
		at, after := r.ConvergedAt.Seconds(), (r.ConvergedAt - sim.Time(spec.writeFor)).Seconds()
		out.ConvergedAtS, out.ConvergeAfter = &at, &after
	}
	for _, s := range r.Series {
		js := jsonSeries{Name: s.Name, Node: int(s.Node), EveryS: s.Every.Seconds()}
		for _, p := range s.Points {
			js.Points = append(js.Points, [2]float64{p.T.Seconds(), p.V})
		}
		out.Series = append(out.Series, js)
	}
	b, err := json.MarshalIndent(out, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("writing result: %w", err)
	}
	return nil
}

// suiteEntry is one line of the default suite.
type suiteEntry struct {
	name, what string
	spec       func(runSpec) runSpec
}

var suite = []suiteEntry{
	{"baseline-1", "1 Lite, no faults", func(s runSpec) runSpec { s.lites = 1; return s }},
	{"baseline-3", "3 Lites, no faults", func(s runSpec) runSpec { return s }},
	{"baseline-16", "16 Lites, no faults", func(s runSpec) runSpec { s.lites = 16; return s }},
	{"fanout-64", "64 Lites, light writes", func(s runSpec) runSpec { s.lites, s.liteRate = 64, 2; return s }},
	{"chaos", "3 Lites, 3% each of drop/dup/reorder/bit flip, 0.5 resets/s, crashes",
		func(s runSpec) runSpec { s.chaos, s.resets, s.writeFor = 0.03, 0.5, 10*time.Second; return s }},
	{"chaos-heavy", "3 Lites, 5% each, 1 reset/s, crashes",
		func(s runSpec) runSpec { s.chaos, s.resets, s.writeFor = 0.05, 1, 10*time.Second; return s }},
	{"swarm", "3 Lites, the seed picks the fault mix",
		func(s runSpec) runSpec { s.swarm, s.writeFor = true, 10*time.Second; return s }},
}

func runSuite(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const name = "simrun suite"
	fs := newFlagSet(name)
	seeds := fs.Int("seeds", 10, "seeds per entry (1..N)")
	usage := func(w io.Writer) {
		fmt.Fprint(w, "Usage: simrun suite [-seeds N]\n\nRun the default suite (what `make run` runs): each entry below with seeds\n1..N, then a table. Exit status 1 if any run did not converge.\n\nEntries:\n")
		for _, e := range suite {
			fmt.Fprintf(w, "  %-12s %s\n", e.name, e.what)
		}
		fmt.Fprint(w, "\nFlags:\n")
		printFlags(w, fs)
	}
	pos, code, done := parseFlags(fs, args, usage, stdout, stderr)
	if done {
		return code
	}
	if len(pos) > 0 {
		return failf(stderr, name, "unexpected argument %q (run %s -h for help)", pos[0], name)
	}
	if *seeds < 1 {
		return failf(stderr, name, "-seeds %d: want at least 1", *seeds)
	}
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "scenario\tseeds\tpass\tfail\tconverge p50\tconverge max\tframes\tresyncs\twall\t\n")
	failed := 0
	var replays []string
	for _, e := range suite {
		start := time.Now()
		var conv []sim.Time
		var frames, resyncs uint64
		pass := 0
		for seed := 1; seed <= *seeds; seed++ {
			spec := e.spec(defaultSpec())
			spec.seed = uint64(seed)
			r, err := cluster.Run(spec.params(nil))
			if err != nil {
				return failf(stderr, name, "%s: %v", e.name, err)
			}
			frames += r.Counters.FramesDelivered
			resyncs += r.Counters.ResyncAnswered
			if r.Pass() {
				pass++
				conv = append(conv, r.ConvergedAt-sim.Time(spec.writeFor))
			} else {
				why := r.Divergence
				if r.Violation != nil {
					why = r.Violation.String()
				}
				replays = append(replays, fmt.Sprintf("%s: %s   # %s", e.name, spec.replay(), why))
			}
		}
		failed += *seeds - pass
		p50, mx := "-", "-"
		if len(conv) > 0 {
			slices.Sort(conv)
			p50, mx = conv[len(conv)/2].String(), conv[len(conv)-1].String()
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%s\t%s\t%d\t%d\t%s\t\n", e.name, *seeds, pass, *seeds-pass, p50, mx, frames, resyncs,
			time.Since(start).Round(time.Millisecond)) // wall time is reported, never simulated
	}
	tw.Flush()
	if failed > 0 {
		fmt.Fprintf(stdout, "\n%d runs did not converge; replay each with:\n", failed)
		for _, r := range replays {
			fmt.Fprintln(stdout, "  "+r)
		}
		return exitFail
	}
	fmt.Fprintln(stdout, "\nall runs converged")
	return exitOK
}
