package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/syncsim/syncsim/check"
	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/live"
	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/runner"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/topology"
)

// exitInconclusive is the status of a live run that cannot vouch for the
// endpoints: interrupted before its verdict, or the proxy's own failure.
const exitInconclusive = 3

// liveSession is the help texts' picture of live mode in use.
const liveSession = `A session, in three terminals (docs/live.md):
    simrun origin -listen 127.0.0.1:9090 -bug ignore-throttle
    simrun proxy -upstream ws://127.0.0.1:9090 -scenario lossy -record lossy-1.json -json proxy.json
    simrun lites -connect ws://127.0.0.1:9091 -scenario lossy
`

// liveFlags are the flags every live command shares.
type liveFlags struct {
	duration time.Duration
	status   time.Duration
	quiet    bool
}

func addLiveFlags(fs *flag.FlagSet) *liveFlags {
	l := &liveFlags{}
	fs.DurationVar(&l.duration, "duration", 0, "stop after this wall-clock `time` (default: until SIGINT or SIGTERM)")
	fs.DurationVar(&l.status, "status", 2*time.Second, "print a status line on stderr this often (0: never)")
	fs.BoolVar(&l.quiet, "quiet", false, "log nothing but the status line and the result (no per-connection lines)")
	return l
}

// liveContext ends on SIGINT or SIGTERM, or after -duration.
func (l *liveFlags) context() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	if l.duration <= 0 {
		return ctx, stop
	}
	ctx, cancel := context.WithTimeout(ctx, l.duration)
	return ctx, func() { cancel(); stop() }
}

func (l *liveFlags) logger(stderr io.Writer) *log.Logger {
	if l.quiet {
		return log.New(io.Discard, "", 0)
	}
	return log.New(stderr, "", log.Ltime|log.Lmicroseconds)
}

// statusLoop prints line() every -status until ctx is done.
func (l *liveFlags) statusLoop(ctx context.Context, stderr io.Writer, line func() string) func() {
	if l.status <= 0 {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(l.status)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				fmt.Fprintln(stderr, line())
			}
		}
	}()
	return func() { <-done }
}

// checkListen refuses an address that does not parse, naming the flag.
func checkListen(addr string) error {
	if _, _, err := net.SplitHostPort(addr); err != nil {
		return fmt.Errorf("-listen %q: want HOST:PORT, e.g. 127.0.0.1:9090: %v", addr, err)
	}
	return nil
}

// checkWS refuses a URL that is not ws:// or wss:// with a host.
func checkWS(flagName, raw string) error {
	if raw == "" {
		return fmt.Errorf("%s is required: the ws:// URL to connect to, e.g. ws://127.0.0.1:9090", flagName)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("%s %q: %v", flagName, raw, err)
	}
	if u.Scheme != "ws" && u.Scheme != "wss" || u.Host == "" {
		return fmt.Errorf("%s %q: want a ws:// or wss:// URL with a host, e.g. ws://127.0.0.1:9090", flagName, raw)
	}
	return nil
}

// liveTarget resolves the scenario of a live command: only the built-in
// nodes (-nodes) and their planted bugs (-bug) apply.
func liveTarget(name, scen, nodes, bug string, seed uint64, stderr io.Writer) (target, topology.Params, int, bool) {
	t, code, ok := resolve(name, scen, runner.Options{Nodes: nodes, Bug: bug}, stderr)
	if !ok {
		return t, topology.Params{}, code, false
	}
	if seed == 0 {
		return t, topology.Params{}, failf(stderr, name, "-seed 0: seeds start at 1"), false
	}
	p, err := t.Sc.Params(seed)
	if err != nil {
		return t, p, failf(stderr, name, "%v", err), false
	}
	return t, p, 0, true
}

func runOrigin(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const name = "simrun origin"
	fs := newFlagSet(name)
	listen := fs.String("listen", "127.0.0.1:9090", "`HOST:PORT` to listen on; any other address than loopback must be given here")
	scen := fs.String("scenario", "baseline", "scenario `NAME` or file: its collections, Origin writes (origin_rate for write_for), nodes and bugs")
	seed := fs.Uint64("seed", 1, "seed of the Origin's own randomness and of its writes")
	nodes := fs.String("nodes", "", "the built-in Origin: `NAME` (reference or nodedb-2026)")
	bug := fs.String("bug", "", "plant bugs in the reference Origin, comma-separated `NAMES` (simrun catalogue -list)")
	maxConns := fs.Int("max-conns", live.DefaultMaxConns, "connections open at once; one more is refused with HTTP 503")
	noWrites := fs.Bool("no-writes", false, "make no writes of the Origin's own (serve the Lites' writes only)")
	lf := addLiveFlags(fs)
	usage := func(w io.Writer) {
		fmt.Fprint(w, `Usage: simrun origin [-listen HOST:PORT] [-scenario S] [-bug NAMES] [flags]

Serve syncsim's reference Origin (or the NodeDB model, -nodes nodedb-2026)
over real WebSockets, as NodeDB's Origin does: any path, every binary
message one frame [type][length u32 LE][MessagePack body]. A real Lite, or
simrun lites, syncs against it; simrun proxy goes in between to inject
faults. It runs on the wall clock until SIGINT, SIGTERM or -duration, then
closes every connection and prints its totals. Frames over 16 MiB, text
messages and garbage are logged and counted; the connection that sent an
oversized frame is closed, and no other is affected.
Exit status: 0 after a clean stop, 2 bad flags or a node failure.

Flags:
`)
		printFlags(w, fs)
		fmt.Fprint(w, `
`+liveSession+`
Examples:
  simrun origin -listen 127.0.0.1:0 -duration 1s     # port 0: the system picks one, printed on the first line
  simrun origin -listen 127.0.0.1:0 -bug ignore-throttle -no-writes -duration 1s
`)
	}
	if code, done := parseFlagsNoArgs(name, fs, args, usage, stdout, stderr); done {
		return code
	}
	if err := checkListen(*listen); err != nil {
		return fail(stderr, name, err)
	}
	if *maxConns < 1 {
		return failf(stderr, name, "-max-conns %d: want at least 1", *maxConns)
	}
	_, p, code, ok := liveTarget(name, *scen, nodesForRole("origin", *nodes), *bug, *seed, stderr)
	if !ok {
		return code
	}
	ctx, stop := lf.context()
	defer stop()
	cfg := live.OriginConfig{Listen: *listen, MaxConns: *maxConns, Impl: p.Origin, Collections: topology.Collections(p.Collections),
		Seed: *seed, Log: lf.logger(stderr)}
	if !*noWrites {
		cfg.Workload, cfg.WriteFor = topology.NewWorkload(p, cfg.Collections), p.WriteFor
	}
	o, err := live.NewOrigin(ctx, cfg)
	if err != nil {
		return fail(stderr, name, err)
	}
	fmt.Fprintf(stdout, "origin (%s) listening on ws://%s  collections %s\n", p.Origin.Name, o.Addr(), strings.Join(cfg.Collections, ","))
	wait := lf.statusLoop(ctx, stderr, func() string { return "origin  " + o.Stats.Line() })
	err = o.Serve()
	wait()
	fmt.Fprintf(stdout, "origin stopped: %s\n", o.Stats.Line())
	if err != nil {
		return fail(stderr, name, err)
	}
	return exitOK
}

// nodesForRole turns -nodes NAME into the form that sets one role.
func nodesForRole(role, nodes string) string {
	if nodes == "" || strings.Contains(nodes, "=") {
		return nodes
	}
	return role + "=" + nodes
}

func runLites(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const name = "simrun lites"
	fs := newFlagSet(name)
	connect := fs.String("connect", "", "the Origin's (or a proxy's) ws:// `URL`, e.g. ws://127.0.0.1:9090")
	scen := fs.String("scenario", "baseline", "scenario `NAME` or file: Lites, collections, write rate, write_for and budget")
	n := fs.Int("n", 0, "number of Lites (default: the scenario's)")
	seed := fs.Uint64("seed", 1, "seed of the Lites' randomness and of their writes")
	nodes := fs.String("nodes", "", "the built-in Lite: `NAME` (reference or nodedb-2026)")
	bug := fs.String("bug", "", "plant bugs in the reference Lites, comma-separated `NAMES`")
	firstPeer := fs.Uint64("first-peer", 1, "peer id (and lite_id) of the first Lite; the others follow")
	jsonFile := fs.String("json", "", "write the result as JSON to `FILE` (the format of simrun run -json)")
	lf := addLiveFlags(fs)
	usage := func(w io.Writer) {
		fmt.Fprint(w, `Usage: simrun lites -connect ws://HOST:PORT [-n N] [-scenario S] [flags]

Run N reference Lites against any Origin over real WebSockets: each writes
the scenario's workload for write_for, then the fleet waits up to the
scenario's budget for every Lite to converge: connected, nothing unacked,
no resync waiting, nothing queued, no throttle engaged, and every Lite
holding the same LSN and digest of every collection, for 3 samples in a
row (100 ms apart). The Lites are judged against each other: the Origin's
own state is not visible from here.
Exit status: 0 converged, 1 not converged within the budget, 2 bad flags,
3 interrupted (SIGINT, SIGTERM, -duration) before a verdict.

Flags:
`)
		printFlags(w, fs)
		fmt.Fprint(w, `
`+liveSession+`
Example:
  simrun lites -connect ws://127.0.0.1:9 -duration 1s -quiet     # nothing listens there: INCONCLUSIVE (exit 3)
`)
	}
	if code, done := parseFlagsNoArgs(name, fs, args, usage, stdout, stderr); done {
		return code
	}
	if err := checkWS("-connect", *connect); err != nil {
		return fail(stderr, name, err)
	}
	if *firstPeer == 0 {
		return failf(stderr, name, "-first-peer 0: peer ids start at 1")
	}
	if *jsonFile != "" {
		if err := checkWritable(*jsonFile); err != nil {
			return failf(stderr, name, "-json: %v", err)
		}
	}
	t, p, code, ok := liveTarget(name, *scen, nodesForRole("lite", *nodes), *bug, *seed, stderr)
	if !ok {
		return code
	}
	if *n < 0 || *n > topology.MaxLites {
		return failf(stderr, name, "-n %d: want 1..%d", *n, topology.MaxLites)
	}
	if *n > 0 {
		p.Lites = *n
	}
	if last := *firstPeer + uint64(p.Lites) - 1; last < *firstPeer {
		return failf(stderr, name, "-first-peer %d: the %d Lites' peer ids would pass the largest (2^64-1)", *firstPeer, p.Lites)
	}
	ctx, stop := lf.context()
	defer stop()
	colls := topology.Collections(p.Collections)
	fleet, err := live.NewLites(ctx, live.LitesConfig{URL: *connect, N: p.Lites, Impl: p.Lite, FirstPeer: *firstPeer, Collections: colls,
		Seed: *seed, Workload: topology.NewWorkload(p, colls), WriteFor: p.WriteFor, Budget: p.Budget, Log: lf.logger(stderr)})
	if err != nil {
		return fail(stderr, name, err)
	}
	fmt.Fprintf(stdout, "%d Lites (%s) → %s  writing for %v, then up to %v to converge\n", p.Lites, p.Lite.Name, *connect, p.WriteFor, p.Budget)
	wait := lf.statusLoop(ctx, stderr, func() string { return "lites  " + fleet.Stats.Line() })
	res, err := fleet.Run()
	stop()
	wait()
	if err != nil {
		return fail(stderr, name, err)
	}
	r := litesResult(t, *seed, p, res, &fleet.Stats, *connect)
	r.Series = fleet.Series()
	switch {
	case res.Converged:
		fmt.Fprintf(stdout, "PASS  every Lite converged %.2f s after writes stopped\n", (res.ConvergedAt - p.WriteFor).Seconds())
	case res.Interrupted:
		fmt.Fprintf(stdout, "INCONCLUSIVE  stopped at %.1f s, before the Lites converged or the budget ran out (last: %s)\n", res.End.Seconds(), res.Divergence)
	default:
		fmt.Fprintf(stdout, "FAIL  not converged %v after writes stopped: %s\n", p.Budget, res.Divergence)
	}
	fmt.Fprint(stdout, res.Summary())
	fmt.Fprintf(stdout, "totals: %s\n", fleet.Stats.Line())
	if *jsonFile != "" {
		if err := writeJSON(*jsonFile, r); err != nil {
			return fail(stderr, name, err)
		}
		fmt.Fprintf(stdout, "result: %s\n", *jsonFile)
	}
	switch {
	case res.Converged:
		return exitOK
	case res.Interrupted:
		return exitInconclusive
	}
	return exitFail
}

func litesResult(t target, seed uint64, p topology.Params, res live.LitesResult, st *live.Stats, connect string) results.Run {
	def, _ := json.Marshal(t.Sc)
	lv := &results.Live{Mode: "lites", Upstream: connect, Connections: st.Connections.Load(), Malformed: st.Malformed.Load(), Verdict: live.Fail}
	r := results.Run{Scenario: t.Sc.Name, Definition: def, Implementations: runner.Impls(t), Seed: seed, TraceHash: "live",
		HealS: p.WriteFor.Seconds(), BudgetS: p.Budget.Seconds(), EndS: res.End.Seconds(), Live: lv,
		Counters: &sim.Counters{FramesSent: uint64(st.FramesSent.Load()), FramesDelivered: uint64(st.FramesReceived.Load()),
			Writes: uint64(st.Writes.Load()), ThrottleOn: uint64(st.ThrottleOn.Load()), ThrottleOff: uint64(st.ThrottleOff.Load()),
			ResyncRequested: uint64(st.Resyncs.Load()), Reconnects: uint64(max(st.Connections.Load()-int64(p.Lites), 0))}}
	switch {
	case res.Converged:
		lv.Verdict, r.Pass = live.Pass, true
		after := (res.ConvergedAt - p.WriteFor).Seconds()
		r.ConvergeAfter = &after
	case res.Interrupted:
		lv.Verdict, lv.Why = live.Inconclusive, fmt.Sprintf("stopped at %.1f s, before the Lites converged or the budget ran out", res.End.Seconds())
	default:
		r.Violation = &results.Violation{Property: "convergence", AtS: res.End.Seconds(), Node: "lites", Message: res.Divergence}
	}
	return r
}

func runProxy(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const name = "simrun proxy"
	fs := newFlagSet(name)
	listen := fs.String("listen", "127.0.0.1:9091", "`HOST:PORT` the Lites connect to; any other address than loopback must be given here")
	upstream := fs.String("upstream", "", "the Origin's ws:// `URL`, e.g. ws://127.0.0.1:9090")
	scen := fs.String("scenario", "lossy", "scenario `NAME` or file: its fault plan (frame faults, reset, partition), heal time and budget")
	seed := fs.Uint64("seed", 1, "seed of the fault streams: the same seed draws the same decisions for the same frames")
	script := fs.String("script", "", "replay the fault schedule in scenario `FILE` (written by -record) instead of drawing faults")
	record := fs.String("record", "", "write the faults applied to `FILE` as a scenario file with a script: simrun proxy -script\n"+
		"replays it live, simrun run -scenario runs it in the simulator")
	jsonFile := fs.String("json", "", "write the result as JSON to `FILE` (the format of simrun run -json; simrun plot draws it)")
	traceFile := fs.String("trace", "", "write every frame, decoded, as a JSON line to `FILE` (handshake tokens redacted)")
	maxConns := fs.Int("max-conns", live.DefaultMaxConns, "Lite connections open at once; one more is refused with HTTP 503")
	within := fs.Duration("answer-within", 5*time.Second, "time Origin has to answer a ResyncRequest, and a DeltaPush after heal")
	slack := fs.Float64("slack", 5, "throttle-rate tolerance in deltas on top of the burst: frames bunch on a real network, and some\n"+
		"are on their way when a Throttle arrives (off loopback, about the rate times the round trip)")
	nodes := fs.String("nodes", "", "the Origin behind the proxy, for its claimed terms: `NAME` (reference or nodedb-2026)")
	lf := addLiveFlags(fs)
	usage := func(w io.Writer) {
		fmt.Fprint(w, `Usage: simrun proxy -upstream ws://HOST:PORT [-listen HOST:PORT] [-scenario S] [-seed N] [flags]

A fault-injecting proxy between real Lites and a real Origin that knows the
protocol. Every connection a Lite opens is paired with one to the upstream;
every frame is decoded, the scenario's frame faults (drop, duplicate,
delay, reorder, bit flips, bad types and lengths, truncation, protocol-aware
rewrites) and connection faults (reset, partition) are applied from the
seeded streams, and the frame-level properties are checked on the traffic:
throttle-rate (Origin's pushes after Throttle{true}, with the lease),
resync-answered, delta-order, push-outcome and one-outcome (docs/live.md
says what each rests on). Faults that need the node itself (crash,
slow-consumer, burst, clock-skew, corrupt-durable) are refused; a swarm
scenario leaves them out of the mix its seed picks, and says so.
Failures of the proxy's own (the upstream refuses or dies) are reported as
such, apart from violations. It runs until SIGINT, SIGTERM or -duration.
Exit status: 0 PASS, 1 FAIL (a property was violated), 2 bad flags,
3 INCONCLUSIVE (stopped too early to judge, nothing connected, or the
proxy's own failure).

Flags:
`)
		printFlags(w, fs)
		fmt.Fprint(w, `
`+liveSession+`    simrun proxy -upstream ws://127.0.0.1:9090 -script lossy-1.json     # the same faults again, live
    simrun run -scenario lossy-1.json                                   # the same faults in the simulator

Example:
  simrun proxy -listen 127.0.0.1:0 -upstream ws://127.0.0.1:9 -duration 1s     # no Lite came: INCONCLUSIVE (exit 3)
`)
	}
	if code, done := parseFlagsNoArgs(name, fs, args, usage, stdout, stderr); done {
		return code
	}
	if err := checkListen(*listen); err != nil {
		return fail(stderr, name, err)
	}
	if err := checkWS("-upstream", *upstream); err != nil {
		return fail(stderr, name, err)
	}
	if *maxConns < 1 {
		return failf(stderr, name, "-max-conns %d: want at least 1", *maxConns)
	}
	if *within <= 0 {
		return failf(stderr, name, "-answer-within %v: must be positive", *within)
	}
	if !(*slack >= 0) || math.IsInf(*slack, 0) {
		return failf(stderr, name, "-slack %v: want a number of deltas, 0 or more", *slack)
	}
	for _, f := range []struct{ flag, path string }{{"-json", *jsonFile}, {"-record", *record}} {
		if f.path != "" {
			if err := checkWritable(f.path); err != nil {
				return failf(stderr, name, "%s: %v", f.flag, err)
			}
		}
	}
	arg := *scen
	if *script != "" {
		if flagSet(fs, "scenario") {
			return failf(stderr, name, "give -scenario or -script, not both: a script file is a scenario")
		}
		arg = *script
	}
	t, p, code, ok := liveTarget(name, arg, nodesForRole("origin", *nodes), "", *seed, stderr)
	if !ok {
		return code
	}
	if *script != "" && t.Sc.Script == nil {
		return failf(stderr, name, "-script %s: the file has no \"script\" (record one with -record)", *script)
	}
	if *script != "" && !flagSet(fs, "seed") && t.Sc.Seed != 0 {
		*seed = t.Sc.Seed
	}
	var trace io.Writer
	if *traceFile != "" {
		f, err := os.Create(*traceFile)
		if err != nil {
			return failf(stderr, name, "-trace: cannot write %s: %v", *traceFile, err)
		}
		defer f.Close()
		trace = f
	}
	ctx, stop := lf.context()
	defer stop()
	var left []faults.Kind
	if t.Sc.Swarm && p.Script == nil {
		p.Faults, left = live.LivePlan(p.Faults)
	}
	def, _ := json.Marshal(t.Sc)
	px, err := live.NewProxy(ctx, live.ProxyConfig{Listen: *listen, Upstream: *upstream, MaxConns: *maxConns, Lites: p.Lites,
		Plan: p.Faults, Script: p.Script, Seed: *seed, Trace: trace, Log: lf.logger(stderr), Scenario: t.Sc.Name, Definition: def,
		Budget: p.Budget, Checks: liveChecks(p, *within, *slack)})
	if err != nil {
		return fail(stderr, name, err)
	}
	what := fmt.Sprintf("scenario %s, seed %d", t.Sc.Name, *seed)
	if p.Script != nil {
		what = fmt.Sprintf("script %s (%d faults)", *script, len(p.Script))
	}
	fmt.Fprintf(stdout, "proxy ws://%s → %s  %s, faults until %v\n", px.Addr(), *upstream, what, p.Faults.Heal)
	if len(left) > 0 {
		fmt.Fprintf(stdout, "swarm seed %d: left out %s (a proxy cannot apply them to real endpoints)\n", *seed, faultKinds(left))
	}
	wait := lf.statusLoop(ctx, stderr, func() string { return "proxy  " + px.Status() })
	err = px.Serve()
	stop()
	wait()
	if err != nil {
		return fail(stderr, name, err)
	}
	r, events := px.Finish()
	r.Implementations = runner.Impls(t)
	if *record != "" {
		sc := t.Sc.Scripted(events)
		sc.Seed = *seed
		sc.Description = fmt.Sprintf("the %d faults simrun proxy applied live (%s), as a script: simrun proxy -script replays them live, simrun run -scenario in the simulator",
			len(events), what)
		if err := writeJSON(*record, sc); err != nil {
			return fail(stderr, name, err)
		}
		r.Live.Script = *record
	}
	printLive(stdout, r)
	if *jsonFile != "" {
		if err := writeJSON(*jsonFile, r); err != nil {
			return fail(stderr, name, err)
		}
		fmt.Fprintf(stdout, "result: %s\n", *jsonFile)
	}
	if *record != "" {
		fmt.Fprintf(stdout, "script: %s  (live again: simrun proxy -upstream %s -script %s; in the simulator: simrun run -scenario %s, with the -bug or -nodes the Origin and Lites ran with)\n",
			*record, *upstream, runner.ShellQuote(*record), runner.ShellQuote(*record))
	}
	switch r.Live.Verdict {
	case live.Pass:
		return exitOK
	case live.Fail:
		return exitFail
	}
	return exitInconclusive
}

func faultKinds(ks []faults.Kind) string {
	var out []string
	for _, k := range ks {
		out = append(out, string(k))
	}
	return strings.Join(out, ", ")
}

// liveChecks are the checkers' terms: the Origin's claims, and the
// tolerances of a real network.
func liveChecks(p topology.Params, within time.Duration, slack float64) check.WireConfig {
	return check.WireConfig{Throttle: p.Origin.Claims.Throttle, SharedLSN: p.Origin.Claims.SharedLSN, Slack: slack,
		AnswerWithin: sim.Time(within)}
}

// printLive prints a live run's verdict, totals, faults and violations.
func printLive(w io.Writer, r results.Run) {
	lv := r.Live
	line := lv.Verdict
	if lv.Why != "" {
		line += "  " + lv.Why
	}
	fmt.Fprintln(w, line)
	c := r.Counters
	fmt.Fprintf(w, "ran %.1f s  connections %d (refused %d)  frames %d in, %d delivered, %d dropped, %d duplicated, %d altered  malformed %d\n",
		r.EndS, lv.Connections, lv.Refused, c.FramesSent, c.FramesDelivered, c.FramesDropped, c.FramesDuplicated, c.FramesCorrupted, lv.Malformed)
	fmt.Fprintf(w, "faults: %s\n", faultSummary(r.Faults))
	fmt.Fprintf(w, "checked: %s\n", strings.Join(r.Checked, ", "))
	for _, f := range lv.Failures {
		fmt.Fprintf(w, "proxy failure: %s\n", f)
	}
	for i, v := range lv.Violations {
		if i == 10 {
			fmt.Fprintf(w, "... and %d more (all in -json)\n", lv.Count-10)
			break
		}
		fmt.Fprintf(w, "violation: %s at %.3f s: %s\n", v.Property, v.AtS, v.Message)
	}
}
