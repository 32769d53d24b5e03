package runner

import (
	"math"
	"slices"
	"time"

	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/scenarios"
	"github.com/syncsim/syncsim/topology"
)

// Summary is a sweep's outcome.
type Summary struct {
	Runs, Passed, Failed int
	// Converge is the time from heal to convergence of each passing run
	// that converged, in seconds, sorted.
	Converge []float64
	// ByProperty lists the failed seeds by the property they broke, in
	// the order the properties first appear.
	ByProperty []Failures
	// Replays are the commands that replay the failed runs, in seed order.
	Replays []string
	WallS   float64 // wall time spent in runs
}

// Failures are the seeds that broke one property.
type Failures struct {
	Property string
	Seeds    []uint64
}

// Summarize judges a sweep's runs.
func Summarize(s results.Sweep) Summary {
	var sum Summary
	at := map[string]int{}
	for _, r := range s.Runs {
		sum.Runs++
		sum.WallS += r.WallS
		if r.Pass {
			sum.Passed++
			if r.ConvergeAfter != nil {
				sum.Converge = append(sum.Converge, *r.ConvergeAfter)
			}
			continue
		}
		sum.Failed++
		sum.Replays = append(sum.Replays, r.Replay)
		p := "unknown"
		if r.Violation != nil {
			p = r.Violation.Property
		}
		i, ok := at[p]
		if !ok {
			i = len(sum.ByProperty)
			at[p] = i
			sum.ByProperty = append(sum.ByProperty, Failures{Property: p})
		}
		sum.ByProperty[i].Seeds = append(sum.ByProperty[i].Seeds, r.Seed)
	}
	slices.Sort(sum.Converge)
	return sum
}

// Pct is the nearest-rank percentile p (0..100) of sorted values.
func Pct(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// MarkCoverage is one coverage mark over a sweep: the fraction of runs
// that hit it, and whether the scenario requires a fraction it missed.
type MarkCoverage struct {
	Name, What string
	Fraction   float64
	Required   float64 // 0: not required
	Missed     bool
}

// Coverage reports every mark over the sweep's runs against sc's
// requirements (nil when the sweep has no runs).
func Coverage(sc *scenarios.Scenario, s results.Sweep) []MarkCoverage {
	if len(s.Runs) == 0 {
		return nil
	}
	hits := map[string]int{}
	for _, r := range s.Runs {
		for m := range r.Marks {
			hits[m]++
		}
	}
	var out []MarkCoverage
	for _, m := range topology.Marks() {
		c := MarkCoverage{Name: m.Name, What: m.What, Fraction: float64(hits[m.Name]) / float64(len(s.Runs))}
		if need, ok := sc.Require[m.Name]; ok {
			c.Required, c.Missed = need, c.Fraction < need
		}
		out = append(out, c)
	}
	return out
}

// Costs are a sweep's measured costs of converging, each sorted, and the
// scenario's gates they break.
type Costs struct {
	Converge, ResyncRatio, MaxStarve []float64 // seconds, x, seconds
	Broken                           []GateBreak
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

// Gates measures the sweep's costs and checks sc's gates.
func Gates(sc *scenarios.Scenario, s results.Sweep) Costs {
	var c Costs
	for _, r := range s.Runs {
		if r.ConvergeAfter != nil {
			c.Converge = append(c.Converge, *r.ConvergeAfter)
		}
		c.ResyncRatio = append(c.ResyncRatio, r.Metrics.ResyncRatio)
		c.MaxStarve = append(c.MaxStarve, r.Metrics.MaxStarveS)
	}
	for _, v := range [][]float64{c.Converge, c.ResyncRatio, c.MaxStarve} {
		slices.Sort(v)
	}
	g := sc.Gates
	if g == nil || len(s.Runs) == 0 {
		return c
	}
	if b := time.Duration(g.ConvergeP99).Seconds(); b > 0 && len(c.Converge) > 0 && Pct(c.Converge, 99) > b {
		gb := GateBreak{Gate: "converge-p99", Value: Pct(c.Converge, 99), Bound: b}
		for _, r := range s.Runs {
			if r.ConvergeAfter != nil && *r.ConvergeAfter > b {
				gb.Seeds = append(gb.Seeds, r.Seed)
			}
		}
		c.Broken = append(c.Broken, gb)
	}
	for _, r := range s.Runs {
		if g.ResyncRatio > 0 && r.Metrics.ResyncRatio > g.ResyncRatio {
			c.Broken = append(c.Broken, GateBreak{Gate: "resync-ratio", Value: r.Metrics.ResyncRatio, Bound: g.ResyncRatio,
				Seeds: []uint64{r.Seed}, Replay: r.Replay})
		}
		if b := time.Duration(g.MaxStarve).Seconds(); b > 0 && r.Metrics.MaxStarveS > b {
			c.Broken = append(c.Broken, GateBreak{Gate: "max-starve", Value: r.Metrics.MaxStarveS, Bound: b,
				Seeds: []uint64{r.Seed}, Replay: r.Replay})
		}
	}
	return c
}
