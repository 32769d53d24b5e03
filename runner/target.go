package runner

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/syncsim/syncsim/nodes/reference"
	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/scenarios"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/topology"
)

// Target is what a run or a sweep is pointed at: a scenario, how the user
// named it (for the commands that replay it), and the planted bugs given
// on top of the scenario's own.
type Target struct {
	Arg string // the scenario as given: a name or a path
	Options
	Sc *scenarios.Scenario // with Options applied
}

// Options are what a user gives on top of a scenario: planted bugs and
// implementations, as simrun's flags of the same names.
type Options struct {
	// Bug names planted bugs (comma-separated), added to the scenario's;
	// "none" switches those off.
	Bug string
	// Nodes chooses built-in implementations per role, as -nodes does
	// (scenarios.ParseNodes), over the scenario's choice.
	Nodes string
	// LiteExec and OriginExec run the role as a program, one process per
	// node: the words of a command line (split on spaces).
	LiteExec, OriginExec string
	// StepTimeout bounds an external node's step (0: the default).
	StepTimeout time.Duration
	// StateRoot keeps external nodes' state directories there.
	StateRoot string
}

// Resolve finds the scenario arg names and applies o to it.
func Resolve(arg string, o Options) (Target, error) {
	sc, err := scenarios.Resolve(arg)
	if err != nil {
		return Target{}, err
	}
	if err := o.apply(sc); err != nil {
		return Target{}, err
	}
	return Target{Arg: arg, Options: o, Sc: sc}, nil
}

// apply puts o on sc. An error in a flag's own value names the flag; one
// in how the values go together (a bug planted in a role that is not the
// reference) names the scenario's field, which may come from the file.
func (o Options) apply(sc *scenarios.Scenario) error {
	if o.StepTimeout < 0 {
		return fmt.Errorf("-step-timeout %v: must not be negative", o.StepTimeout)
	}
	if o.Nodes != "" {
		n, err := scenarios.ParseNodes(o.Nodes)
		if err != nil {
			return fmt.Errorf("-nodes: %w", err)
		}
		// A role the flag gives to a built-in is no longer a program's.
		if n.Lite != "" {
			sc.Lite = nil
		}
		if n.Origin != "" {
			sc.Origin = nil
		}
		sc.Nodes = &n
	}
	// A program given for a role replaces the built-in chosen for it.
	if o.LiteExec != "" {
		sc.Lite = &scenarios.ImplSpec{Exec: strings.Fields(o.LiteExec)}
		if sc.Nodes != nil {
			sc.Nodes = &scenarios.Nodes{Origin: sc.Nodes.Origin}
		}
	}
	if o.OriginExec != "" {
		sc.Origin = &scenarios.ImplSpec{Exec: strings.Fields(o.OriginExec)}
		if sc.Nodes != nil {
			sc.Nodes = &scenarios.Nodes{Lite: sc.Nodes.Lite}
		}
	}
	for _, spec := range []*scenarios.ImplSpec{sc.Lite, sc.Origin} {
		if spec != nil && o.StepTimeout > 0 {
			spec.StepTimeout = scenarios.Duration(o.StepTimeout)
		}
	}
	sc.StateRoot = o.StateRoot
	switch names := strings.Split(o.Bug, ","); {
	case o.Bug == "":
	case o.Bug == "none":
		sc.Bug = ""
	case slices.Contains(names, "none"):
		return fmt.Errorf("-bug: none switches every bug off and goes alone, not in %q", o.Bug)
	default:
		for _, name := range names {
			if _, err := reference.Lookup(strings.TrimSpace(name)); err != nil {
				return fmt.Errorf("-bug: %w", err)
			}
		}
		if sc.Bug != "" {
			sc.Bug += ","
		}
		sc.Bug += o.Bug
	}
	return sc.Validate()
}

// Of is a Target for a scenario built in Go (its replay commands name it
// by its Name, which only works for a named scenario or a saved file).
func Of(sc *scenarios.Scenario) Target { return Target{Arg: sc.Name, Sc: sc} }

// flags are the options as simrun flags, for the commands that replay.
func (t Target) flags() string {
	var b strings.Builder
	for _, f := range []struct{ name, v string }{{"nodes", t.Nodes}, {"bug", t.Bug}, {"lite-exec", t.LiteExec}, {"origin-exec", t.OriginExec}} {
		if f.v != "" {
			b.WriteString(" -" + f.name + " " + ShellQuote(f.v))
		}
	}
	if t.StepTimeout > 0 {
		b.WriteString(" -step-timeout " + t.StepTimeout.String())
	}
	return b.String()
}

// Replay is the command that runs seed of t again.
func (t Target) Replay(seed uint64) string {
	return fmt.Sprintf("simrun run -scenario %s -seed %d%s", ShellQuote(t.Arg), seed, t.flags())
}

// ShrinkCmd is the command that shrinks seed of t's failure.
func (t Target) ShrinkCmd(seed uint64) string {
	return fmt.Sprintf("simrun shrink -scenario %s -seed %d%s", ShellQuote(t.Arg), seed, t.flags())
}

// ShellQuote quotes s for a POSIX shell when it needs it.
func ShellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r == '-' || r == '_' || r == '.' || r == '/' || r == ':' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Run runs seed of t, streaming the trace to trace when it is not nil.
func (t Target) Run(seed uint64, trace io.Writer) (topology.Result, error) {
	return t.run(seed, runOpts{trace: trace, series: true})
}

// RunWitnessed is Run that tells progress the simulated time now and then
// (see topology.Params.Progress) and keeps the frames decoded
// (topology.Params.Witness), for a report or a failure's story: the same
// run, the same trace hash. When ctx is done before the run ends, the run
// stops there and its Result is Aborted (no verdict); the trace written up
// to that point is complete.
func (t Target) RunWitnessed(ctx context.Context, seed uint64, trace io.Writer, progress func(now sim.Time)) (topology.Result, error) {
	return t.run(seed, runOpts{trace: trace, progress: progress, abort: abortOn(ctx), witness: true, series: true})
}

// abortOn is a run's Abort (topology.Params.Abort): true once ctx is done.
func abortOn(ctx context.Context) func() bool { return func() bool { return ctx.Err() != nil } }

// runOpts are what differs between the ways a Target runs a seed; none of
// them changes what happens in the run (abort may end it early). The zero
// value is a sweep's run: no trace, no time series
// (topology.Params.NoSeries), the same trace hash.
type runOpts struct {
	trace    io.Writer
	progress func(now sim.Time)
	abort    func() bool
	witness  bool // keep the frames decoded (topology.Params.Witness)
	series   bool // record the time series
}

func (t Target) run(seed uint64, o runOpts) (topology.Result, error) {
	p, err := t.Sc.Params(seed)
	if err != nil {
		return topology.Result{}, err
	}
	p.Trace, p.Progress, p.Abort, p.Witness, p.NoSeries = o.trace, o.progress, o.abort, o.witness, !o.series
	c, err := topology.New(p)
	if err != nil {
		return topology.Result{}, err
	}
	r := c.Run()
	if err := c.World.TraceErr(); err != nil {
		return r, fmt.Errorf("writing trace: %w", err)
	}
	return r, nil
}

// Impls names the implementation of each role of t's runs, as a sweep's
// file records what ran.
func Impls(t Target) *results.Impls {
	p, err := t.Sc.Params(1)
	if err != nil {
		return nil
	}
	return &results.Impls{Origin: p.Origin.Name, Lite: p.Lite.Name}
}
