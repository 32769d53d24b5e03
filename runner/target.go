package runner

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/syncsim/syncsim/scenarios"
	"github.com/syncsim/syncsim/topology"
)

// Target is what a run or a sweep is pointed at: a scenario, how the user
// named it (for the commands that replay it), and the planted bugs given
// on top of the scenario's own.
type Target struct {
	Arg string // the scenario as given: a name or a path
	Bug string // -bug as given ("" when none), already switched on in Sc
	Sc  *scenarios.Scenario
}

// Resolve finds the scenario arg names and switches on the planted bugs
// bug names in it (bug may be empty; "none" switches off the bugs the
// scenario file names).
func Resolve(arg, bug string) (Target, error) {
	sc, err := scenarios.Resolve(arg)
	if err != nil {
		return Target{}, err
	}
	switch {
	case bug == "none":
		sc.Bug = ""
	case slices.Contains(strings.Split(bug, ","), "none"):
		return Target{}, fmt.Errorf("-bug: none switches every bug off and goes alone, not in %q", bug)
	case bug != "":
		if sc.Bug != "" {
			sc.Bug += ","
		}
		sc.Bug += bug
		if err := sc.Validate(); err != nil {
			return Target{}, fmt.Errorf("-bug: %w", err)
		}
	}
	return Target{Arg: arg, Bug: bug, Sc: sc}, nil
}

// Of is a Target for a scenario built in Go (its replay commands name it
// by its Name, which only works for a named scenario or a saved file).
func Of(sc *scenarios.Scenario) Target { return Target{Arg: sc.Name, Sc: sc} }

func (t Target) bugArg() string {
	if t.Bug == "" {
		return ""
	}
	return " -bug " + ShellQuote(t.Bug)
}

// Replay is the command that runs seed of t again.
func (t Target) Replay(seed uint64) string {
	return fmt.Sprintf("simrun run -scenario %s -seed %d%s", ShellQuote(t.Arg), seed, t.bugArg())
}

// ShrinkCmd is the command that shrinks seed of t's failure.
func (t Target) ShrinkCmd(seed uint64) string {
	return fmt.Sprintf("simrun shrink -scenario %s -seed %d%s", ShellQuote(t.Arg), seed, t.bugArg())
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
	p, err := t.Sc.Params(seed)
	if err != nil {
		return topology.Result{}, err
	}
	p.Trace = trace
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
