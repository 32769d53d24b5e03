package live

import (
	"fmt"
	"maps"
	"slices"

	"github.com/syncsim/syncsim/check"
	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/topology"
)

// The verdicts of a live run.
const (
	Pass         = "PASS"
	Fail         = "FAIL"
	Inconclusive = "INCONCLUSIVE"
)

// Finish judges the end-of-run properties and returns the proxy's result
// and the faults it applied, in order. Call it once Serve has returned;
// later calls return the same result (the end is judged once).
func (p *Proxy) Finish() (results.Run, []faults.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.result == nil {
		r, events := p.finish()
		p.result, p.events = &r, events
	}
	return *p.result, p.events
}

func (p *Proxy) finish() (results.Run, []faults.Event) {
	now := p.clock.Now()
	heal := p.cfg.Plan.Heal
	judged := p.chk.Final(now, heal)
	events := slices.Clone(p.inj.Events())
	c := p.counters
	live := &results.Live{Mode: "proxy", Listen: p.Addr(), Upstream: p.cfg.Upstream, Connections: p.Stats.Connections.Load(),
		Refused: p.Stats.Refused.Load(), Malformed: p.Stats.Malformed.Load(), Failures: slices.Clone(p.failures),
		Count: p.chk.Count, LiteIDs: map[string]string{}}
	for _, id := range slices.Sorted(maps.Keys(p.liteIDs)) {
		live.LiteIDs[id] = p.name(p.liteIDs[id])
	}
	for _, v := range p.chk.Violations {
		live.Violations = append(live.Violations, resultViolation(v))
	}
	switch {
	case p.chk.Count > 0:
		live.Verdict = Fail
	case len(p.failures) > 0:
		live.Verdict, live.Why = Inconclusive, fmt.Sprintf("the proxy's own failures (%d): %s", len(p.failures), p.failures[0])
	case live.Connections == 0:
		live.Verdict, live.Why = Inconclusive, "no Lite connected: nothing was checked"
	case !judged:
		live.Verdict, live.Why = Inconclusive, fmt.Sprintf("stopped at %.1f s, before heal (%.1f s) plus the time Origin has to answer (%v): push-outcome was not judged",
			now.Seconds(), heal.Seconds(), p.chk.AnswerWithin())
	default:
		live.Verdict = Pass
	}
	if why := p.chk.Unchecked(); why != "" && live.Verdict == Pass {
		live.Why = why
	}
	r := results.Run{Scenario: p.cfg.Scenario, Definition: p.cfg.Definition, Seed: p.cfg.Seed, Pass: live.Verdict == Pass,
		TraceHash: "live", HealS: heal.Seconds(), BudgetS: p.cfg.Budget.Seconds(), EndS: now.Seconds(), Counters: &c,
		Faults: events, Series: p.samples.series(), Live: live}
	if len(live.Violations) > 0 {
		r.Violation = &live.Violations[0]
	}
	recent, control := p.witness.Frames()
	if p.frozen != nil {
		recent = p.frozen
	}
	r.Wire, r.Control = topology.ResultFrames(recent), topology.ResultFrames(control)
	counts := p.witness.Counts()
	r.WireCounts = &counts
	if th := p.cfg.Checks.Throttle; th != nil {
		r.Throttle = &results.Throttle{DefaultRate: th.DefaultRate, Burst: th.Burst, LeaseS: th.Lease.Seconds(), Slack: p.chk.Slack()}
	}
	for _, prop := range check.WireProperties() {
		if p.chk.Checks(prop.Name) {
			r.Checked = append(r.Checked, prop.Name)
		} else {
			r.Unchecked = append(r.Unchecked, results.Unchecked{Property: prop.Name, Why: "the Origin claims no throttle terms"})
		}
	}
	return r, events
}

func resultViolation(v check.Violation) results.Violation {
	return results.Violation{Property: v.Property, AtS: v.At.Seconds(), Node: v.NodeName, Message: v.Message}
}

// Status is the proxy's status line.
func (p *Proxy) Status() string {
	p.mu.Lock()
	n := p.chk.Count
	fails := len(p.failures)
	p.mu.Unlock()
	line := fmt.Sprintf("%.1fs  %s  faults %d  violations %d", p.clock.Now().Seconds(), p.Stats.Line(), p.Faults.Load(), n)
	if fails > 0 {
		line += fmt.Sprintf("  proxy failures %d", fails)
	}
	return line
}
