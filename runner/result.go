package runner

import (
	"fmt"

	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/scenarios"
	"github.com/syncsim/syncsim/topology"
)

// Result is run r (seed of t) in its file form. full adds what a single
// run's report needs and a sweep keeps out: the scenario's definition, the
// Lites' queue geometry, the time series and the violation's trace tail.
func Result(t Target, seed uint64, r topology.Result, full bool) results.Run {
	out := results.Run{Scenario: t.Arg, Seed: seed, Pass: r.Pass(), TraceHash: fmt.Sprintf("%016x", r.Hash),
		EndS: r.End.Seconds(), Counters: &r.Counters, Replay: t.Replay(seed), Faults: r.Schedule, Marks: r.Marks,
		Implementations: &results.Impls{Origin: r.Impls.Origin, Lite: r.Impls.Lite}, Checked: r.Checked,
		Metrics: results.Metrics{ResyncBytes: r.Metrics.ResyncBytes, RepairedBytes: r.Metrics.RepairedBytes,
			ResyncRatio: r.Metrics.ResyncRatio(), MaxStarveS: r.Metrics.MaxStarve.Seconds()}}
	for _, u := range r.Unchecked {
		out.Unchecked = append(out.Unchecked, results.Unchecked{Property: u.Property, Why: u.Why})
	}
	if full {
		out.Definition = scenarios.Marshal(t.Sc)
	}
	writeFor, budget := t.Sc.Timing()
	out.HealS, out.BudgetS = writeFor.Seconds(), budget.Seconds()
	if q := r.LiteQueue; full && q != nil {
		out.Queue = &results.Queue{Capacity: q.Capacity, High: q.HighWater, Low: q.LowWater}
	}
	if r.Pass() && r.Converged {
		after := r.Metrics.ConvergeAfter.Seconds()
		out.ConvergeAfter = &after
	}
	if !r.Pass() {
		out.Shrink = t.ShrinkCmd(seed)
	}
	if v := r.Violation; v != nil {
		out.Violation = &results.Violation{Property: v.Property, AtS: v.At.Seconds(), Node: v.NodeName, Message: v.Message}
		if full {
			for i := range v.Tail {
				out.Violation.Tail = append(out.Violation.Tail, v.Tail[i].String())
			}
		}
	}
	if full {
		if th := r.Throttle; th != nil {
			out.Throttle = &results.Throttle{DefaultRate: th.DefaultRate, Burst: th.Burst, LeaseS: th.Lease.Seconds()}
		}
		out.Wire, out.Control = topology.ResultFrames(r.Wire), topology.ResultFrames(r.Control)
		out.WireCounts = r.WireCounts
		for _, s := range r.Series {
			js := results.Series{Name: s.Name, Node: int(s.Node), EveryS: s.Every.Seconds()}
			for _, p := range s.Points {
				js.Points = append(js.Points, [2]float64{p.T.Seconds(), p.V})
			}
			out.Series = append(out.Series, js)
		}
	}
	return out
}
