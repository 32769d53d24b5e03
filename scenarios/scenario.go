// Package scenarios defines syncsim's named scenarios and the JSON files a
// user writes without recompiling: topology, workload, fault plan, heal
// time, convergence budget, and optionally a planted bug, a recorded fault
// schedule and the outcome a regression expects. Loading validates every
// field and names the one that is wrong, with its line.
//
// JSON rather than TOML: the standard library reads it (no dependency),
// its decoder reports byte offsets (turned into line:column here), and the
// same format serves hand-written scenarios, `simrun show`, shrunk
// failures and the regression corpus.
package scenarios

import (
	"fmt"
	"time"

	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/nodes/external"
	"github.com/syncsim/syncsim/nodes/reference"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/topology"
	"github.com/syncsim/syncsim/wire"
)

// Scenario is one runnable scenario. Zero numeric fields take the defaults
// of topology.Defaults.
type Scenario struct {
	Name        string  `json:"name"`
	Description string  `json:"description,omitempty"`
	Lites       int     `json:"lites,omitempty"`
	Collections int     `json:"collections,omitempty"`
	Docs        int     `json:"docs,omitempty"`
	LiteRate    float64 `json:"lite_rate,omitempty"`   // writes/s at each Lite
	OriginRate  float64 `json:"origin_rate,omitempty"` // writes/s at Origin
	// WriteFor is how long writes go on; faults heal at the same time.
	WriteFor Duration `json:"write_for,omitempty"`
	// Budget is the simulated time allowed to converge after heal.
	Budget Duration `json:"budget,omitempty"`
	// Swarm lets the seed pick the fault mix; otherwise Faults is the plan.
	Swarm  bool        `json:"swarm,omitempty"`
	Faults []FaultSpec `json:"faults,omitempty"`
	// Lite and Origin tuning that scenarios need (zero: defaults).
	LiteDrainRate float64 `json:"lite_drain_rate,omitempty"`
	RetainLog     int     `json:"retain_log,omitempty"`
	LiteQueue     int     `json:"lite_queue,omitempty"` // incoming queue capacity; watermarks at 3/4 and 1/4
	// Bug names planted bugs (comma-separated; simrun catalogue -list
	// shows them), switched on in the reference nodes.
	Bug string `json:"bug,omitempty"`
	// Nodes names the built-in implementation of each role (default: the
	// reference); see Nodes.
	Nodes *Nodes `json:"nodes,omitempty"`
	// Origin and Lite give a role to a program instead, run as one
	// process per node (see docs/external-nodes.md).
	Origin *ImplSpec `json:"origin,omitempty"`
	Lite   *ImplSpec `json:"lite,omitempty"`
	// StateRoot, when set, is where external nodes' state directories are
	// made and kept after the run (simrun's -keep-state); not part of the
	// file.
	StateRoot string `json:"-"`
	// Script, when present, replaces the plan with this recorded schedule
	// (written by simrun shrink); Seed is the seed it was recorded with.
	Script []faults.Event `json:"script,omitempty"`
	Seed   uint64         `json:"seed,omitempty"`
	// Require maps a coverage mark (simrun marks) to the fraction of a
	// sweep's seeds that must hit it; a sweep below it fails.
	Require map[string]float64 `json:"require,omitempty"`
	// Gates bound the measured costs of converging across a sweep.
	Gates *Gates `json:"gates,omitempty"`
	// Expect is the outcome a regression must keep: "pass", or the
	// property that must be violated (e.g. "acked-not-lost").
	Expect string `json:"expect,omitempty"`
}

// ImplSpec is an implementation of a role given as a program.
type ImplSpec struct {
	// Exec is the program and its arguments, run from the current
	// directory, e.g. ["python3", "examples/lite/lite.py"].
	Exec []string `json:"exec"`
	// Env is added to the program's environment ("NAME=value").
	Env []string `json:"env,omitempty"`
	// StepTimeout is the wall-clock time it may take over one step
	// (default 10s).
	StepTimeout Duration `json:"step_timeout,omitempty"`
}

// Gates are bounds a sweep holds the runs of a scenario to; a zero field
// is not checked.
type Gates struct {
	// ConvergeP99 bounds the 99th percentile of time from heal to
	// convergence over the sweep's passing runs.
	ConvergeP99 Duration `json:"converge_p99,omitempty"`
	// ResyncRatio bounds, per run, resync bytes over the bytes faults
	// destroyed.
	ResyncRatio float64 `json:"resync_ratio,omitempty"`
	// MaxStarve bounds, per run, the longest time a throttled peer went
	// without a delta.
	MaxStarve Duration `json:"max_starve,omitempty"`
}

// FaultSpec is a faults.Spec as written in a file. Rate is a probability
// per frame for a frame fault and events per second for a node fault (the
// kind says which); Arg is a duration and ArgN a count, each for the
// kinds that take one.
type FaultSpec struct {
	Kind   string   `json:"kind"`
	Rate   float64  `json:"rate"`
	Start  Duration `json:"start,omitempty"`
	End    Duration `json:"end,omitempty"`
	Target string   `json:"target,omitempty"` // all, origin, lites, lite:N, link:A->B
	Arg    Duration `json:"arg,omitempty"`    // delay, downtime, duration or skew, as a duration
	ArgN   int64    `json:"arg_n,omitempty"`  // burst: number of writes; rewind-lsn: LSNs
	Factor float64  `json:"factor,omitempty"` // slow-consumer: fraction of the drain rate kept
	Type   string   `json:"type,omitempty"`   // frame faults: only frames of this message type (e.g. "Throttle")
}

// spec converts f to a faults.Spec; errors name the field.
func (f FaultSpec) spec() (faults.Spec, error) {
	k := faults.Kind(f.Kind)
	tg, err := faults.ParseTarget(f.Target)
	if err != nil {
		return faults.Spec{}, fieldErr("target", "%v", err)
	}
	typ, err := frameType(f.Type)
	if err != nil {
		return faults.Spec{}, fieldErr("type", "%v", err)
	}
	sp := faults.Spec{Kind: k, Start: sim.Time(f.Start), End: sim.Time(f.End), Target: tg, For: sim.Time(f.Arg),
		N: int(f.ArgN), Factor: f.Factor, Type: typ}
	if k.IsFrame() {
		sp.Probability = f.Rate
	} else {
		sp.PerSecond = f.Rate
	}
	if int64(sp.N) != f.ArgN {
		return sp, fieldErr("arg_n", "%d is too large", f.ArgN)
	}
	return sp, nil
}

// Duration is a time.Duration written as "10s", "250ms".
type Duration time.Duration

// MarshalJSON writes the duration as a string.
func (d Duration) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Duration(d).String() + `"`), nil
}

// UnmarshalJSON reads "10s"-style strings.
func (d *Duration) UnmarshalJSON(b []byte) error {
	if len(b) < 2 || b[0] != '"' {
		return fmt.Errorf("want a duration string such as \"10s\" or \"250ms\", got %s", b)
	}
	v, err := time.ParseDuration(string(b[1 : len(b)-1]))
	if err != nil {
		return fmt.Errorf("bad duration %s: want e.g. \"10s\" or \"250ms\"", b)
	}
	*d = Duration(v)
	return nil
}

// Run runs s at seed: Params, then topology.Run.
func (s *Scenario) Run(seed uint64) (topology.Result, error) {
	p, err := s.Params(seed)
	if err != nil {
		return topology.Result{}, err
	}
	return topology.Run(p)
}

// Timing is how long the scenario's writes go on (faults heal then) and
// the budget to converge after, with the defaults filled in: what a
// report needs without building a run.
func (s *Scenario) Timing() (writeFor, budget sim.Time) {
	d := topology.Defaults()
	writeFor, budget = d.WriteFor, d.Budget
	if s.WriteFor != 0 {
		writeFor = sim.Time(s.WriteFor)
	}
	if s.Budget != 0 {
		budget = sim.Time(s.Budget)
	}
	return writeFor, budget
}

// sizing is the run's size and pace: topology's defaults with the
// scenario's Lites, collections, documents, write rates and timing.
func (s *Scenario) sizing() topology.Params {
	p := topology.Defaults()
	setInt(&p.Lites, s.Lites)
	setInt(&p.Collections, s.Collections)
	setInt(&p.Docs, s.Docs)
	if s.LiteRate != 0 {
		p.LiteRate = s.LiteRate
	}
	if s.OriginRate != 0 {
		p.OriginRate = s.OriginRate
	}
	p.WriteFor, p.Budget = s.Timing()
	return p
}

// Params builds the cluster parameters of this scenario for seed. A
// scenario with a script ignores seed for its faults (the script is
// exact) but still uses it for everything else.
func (s *Scenario) Params(seed uint64) (topology.Params, error) {
	if err := s.Validate(); err != nil {
		return topology.Params{}, err
	}
	p := s.sizing()
	p.Seed = seed
	ref := s.Reference()
	if s.Bug != "" {
		if err := reference.Apply(s.Bug, &ref); err != nil {
			return p, fmt.Errorf("bug: %w", err)
		}
	}
	liteName, originName := s.roleNames()
	p.Origin, p.Lite = builtIn(originName, sim.RoleOrigin, ref), builtIn(liteName, sim.RoleLite, ref)
	for _, r := range []struct {
		spec *ImplSpec
		impl *sim.Impl
		name string
	}{{s.Origin, &p.Origin, "origin"}, {s.Lite, &p.Lite, "lite"}} {
		if r.spec == nil {
			continue
		}
		impl, err := external.Impl(external.Spec{Command: r.spec.Exec, Env: r.spec.Env, StepTimeout: time.Duration(r.spec.StepTimeout),
			StateRoot: s.StateRoot, KeepState: s.StateRoot != ""})
		if err != nil {
			return p, fieldErr(r.name+".exec", "%v", err)
		}
		*r.impl = impl
	}
	plan, err := s.plan(p.WriteFor, p.Lites, seed)
	if err != nil {
		return p, err
	}
	p.Faults = plan
	p.Script = s.Script
	return p, p.Validate()
}

// Reference is the reference nodes' configuration this scenario tunes
// (before any planted bug).
func (s *Scenario) Reference() reference.Config {
	var ref reference.Config
	ref.Lite.DrainRate = s.LiteDrainRate
	ref.Lite.QueueCap = s.LiteQueue
	ref.Origin.RetainLog = s.RetainLog
	return ref
}

func frameType(name string) (wire.MsgType, error) {
	if name == "" {
		return 0, nil
	}
	return wire.ParseMsgType(name)
}

func setInt(dst *int, v int) {
	if v != 0 {
		*dst = v
	}
}

func (s *Scenario) plan(heal sim.Time, lites int, seed uint64) (faults.Plan, error) {
	if s.Swarm {
		return faults.Swarm(seed, heal, lites), nil
	}
	plan := faults.Plan{Heal: heal}
	for i, f := range s.Faults {
		sp, err := f.spec()
		if err != nil {
			return plan, prefixField(fmt.Sprintf("faults[%d]", i), err)
		}
		plan.Specs = append(plan.Specs, sp)
	}
	return plan, nil
}
