package runner

import (
	"time"

	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/scenarios"
	"github.com/syncsim/syncsim/topology"
)

// Summary is a sweep's outcome.
type Summary struct {
	Runs, Passed, Failed int
	// Converge is the distribution of the time from heal to convergence
	// of the passing runs that converged, in seconds.
	Converge *Dist
	// ByProperty lists the failed seeds by the property they broke, in
	// the order the properties first appear.
	ByProperty []Failures
	// Replays are the commands that replay the failed runs, in seed order
	// (the first thousand).
	Replays []string
	WallS   float64 // wall time spent in runs
}

// Failures are the seeds that broke one property: Count of them, the
// first of which are listed.
type Failures struct {
	Property string
	Count    int
	Seeds    []uint64
}

// MarkCoverage is one coverage mark over a sweep: the fraction of runs
// that hit it, and whether the scenario requires a fraction it missed.
type MarkCoverage struct {
	Name, What string
	Fraction   float64
	Required   float64 // 0: not required
	Missed     bool
}

// Costs are the distributions of a sweep's measured costs of converging,
// and the scenario's gates they break.
type Costs struct {
	// ResyncRatio holds only the runs that lost deltas or snapshots to a
	// fault: for the others the ratio has no denominator, and a 0 would
	// read as free repair.
	Converge, ResyncRatio, MaxStarve *Dist // seconds, x, seconds
	// ResyncNoLossRuns counts the runs whose resync traffic (topology's
	// Metrics.ResyncBytes, ResyncNoLossBytes in all) came with no delta or
	// snapshot lost to a fault.
	ResyncNoLossRuns  int
	ResyncNoLossBytes uint64
	Broken            []GateBreak
}

// GateBreak is one gate a sweep broke.
type GateBreak struct {
	Gate  string  // converge-p99, resync-ratio, max-starve
	Value float64 // the p99 (converge-p99) or the run's figure
	Bound float64
	// Seeds over the bound (converge-p99), or the one run (the others),
	// with the command that replays it.
	Seeds  []uint64
	Replay string
}

// keepAtMost bounds what a tally keeps per failure list: the counts stay
// exact, the seeds and commands listed stop there.
const keepAtMost = 1000

// Tally takes a sweep's runs one at a time and keeps what its verdicts
// need: counts, the distributions of three figures (see Dist) and the
// first failures. Its memory stays flat in the number of seeds.
type Tally struct {
	sc       *scenarios.Scenario
	sum      Summary
	at       map[string]int // property -> index in sum.ByProperty
	hits     map[string]int
	converge Dist
	ratio    Dist // of the runs that lost bytes to a fault
	noLoss   int  // runs with resync traffic and nothing lost to a fault
	noLossB  uint64
	starve   Dist
	broken   []GateBreak // per-run gate breaks (the p99 one is judged at the end)
	overBy   []uint64    // seeds whose time to converge is over the p99 gate
	p99Bound float64
}

// NewTally returns an empty tally for scenario sc (nil: no gates or
// requirements).
func NewTally(sc *scenarios.Scenario) *Tally {
	t := &Tally{sc: sc, at: map[string]int{}, hits: map[string]int{}}
	if sc != nil && sc.Gates != nil {
		t.p99Bound = time.Duration(sc.Gates.ConvergeP99).Seconds()
	}
	return t
}

// Add counts one run.
func (t *Tally) Add(r results.Run) {
	s := &t.sum
	s.Runs++
	s.WallS += r.WallS
	for m := range r.Marks {
		t.hits[m]++
	}
	if r.Metrics.RepairedBytes > 0 {
		t.ratio.Add(r.Metrics.ResyncRatio)
	} else if r.Metrics.ResyncBytes > 0 {
		t.noLoss++
		t.noLossB += r.Metrics.ResyncBytes
	}
	t.starve.Add(r.Metrics.MaxStarveS)
	if r.ConvergeAfter != nil && r.Pass {
		t.converge.Add(*r.ConvergeAfter)
		if t.p99Bound > 0 && *r.ConvergeAfter > t.p99Bound && len(t.overBy) < keepAtMost {
			t.overBy = append(t.overBy, r.Seed)
		}
	}
	if g := t.gates(); g != nil && len(t.broken) < keepAtMost {
		if g.ResyncRatio > 0 && r.Metrics.ResyncRatio > g.ResyncRatio {
			t.broken = append(t.broken, GateBreak{Gate: "resync-ratio", Value: r.Metrics.ResyncRatio, Bound: g.ResyncRatio,
				Seeds: []uint64{r.Seed}, Replay: r.Replay})
		}
		if b := time.Duration(g.MaxStarve).Seconds(); b > 0 && r.Metrics.MaxStarveS > b {
			t.broken = append(t.broken, GateBreak{Gate: "max-starve", Value: r.Metrics.MaxStarveS, Bound: b,
				Seeds: []uint64{r.Seed}, Replay: r.Replay})
		}
	}
	if r.Pass {
		s.Passed++
		return
	}
	s.Failed++
	if len(s.Replays) < keepAtMost {
		s.Replays = append(s.Replays, r.Replay)
	}
	p := "unknown"
	if r.Violation != nil {
		p = r.Violation.Property
	}
	i, ok := t.at[p]
	if !ok {
		i = len(s.ByProperty)
		t.at[p] = i
		s.ByProperty = append(s.ByProperty, Failures{Property: p})
	}
	f := &s.ByProperty[i]
	f.Count++
	if len(f.Seeds) < keepAtMost {
		f.Seeds = append(f.Seeds, r.Seed)
	}
}

func (t *Tally) gates() *scenarios.Gates {
	if t.sc == nil {
		return nil
	}
	return t.sc.Gates
}

// Summary is the sweep's outcome so far.
func (t *Tally) Summary() Summary {
	s := t.sum
	s.Converge = &t.converge
	return s
}

// Coverage is every mark's fraction of runs against the scenario's
// requirements (nil when no run has been counted).
func (t *Tally) Coverage() []MarkCoverage {
	if t.sum.Runs == 0 {
		return nil
	}
	var out []MarkCoverage
	for _, m := range topology.Marks() {
		c := MarkCoverage{Name: m.Name, What: m.What, Fraction: float64(t.hits[m.Name]) / float64(t.sum.Runs)}
		if t.sc != nil {
			if need, ok := t.sc.Require[m.Name]; ok {
				c.Required, c.Missed = need, c.Fraction < need
			}
		}
		out = append(out, c)
	}
	return out
}

// Costs are the measured costs and the gates broken.
func (t *Tally) Costs() Costs {
	c := Costs{Converge: &t.converge, ResyncRatio: &t.ratio, MaxStarve: &t.starve,
		ResyncNoLossRuns: t.noLoss, ResyncNoLossBytes: t.noLossB}
	if p99 := c.Converge.Pct(99); t.p99Bound > 0 && c.Converge.N() > 0 && p99 > t.p99Bound {
		c.Broken = append(c.Broken, GateBreak{Gate: "converge-p99", Value: p99, Bound: t.p99Bound, Seeds: t.overBy})
	}
	c.Broken = append(c.Broken, t.broken...)
	return c
}
