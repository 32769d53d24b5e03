package scenarios

import (
	"context"
	"fmt"

	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/topology"
)

// Scripted returns sc with its faults replaced by the recorded schedule
// events, replayed exactly (no swarm, no plan).
func (s Scenario) Scripted(events []faults.Event) Scenario {
	s.Swarm, s.Faults, s.Script = false, nil, append([]faults.Event{}, events...)
	return s
}

// Shrunk is the outcome of shrinking a failing run's fault schedule.
type Shrunk struct {
	Property string         // the property every kept schedule still fails
	From     []faults.Event // the recorded schedule
	To       []faults.Event // the smallest failing schedule found
	Runs     int            // trial runs spent
}

// Shrink minimises the fault schedule of run r (scenario s, seed) by delta
// debugging to a smaller schedule that still fails the same property, in
// at most maxRuns trial runs. It fails when r passed or when replaying its
// recorded schedule does not reproduce the failure.
func Shrink(s Scenario, seed uint64, r topology.Result, maxRuns int) (Shrunk, error) {
	if r.Violation == nil {
		return Shrunk{}, fmt.Errorf("%s seed %d passes: nothing to shrink", s.Name, seed)
	}
	out := Shrunk{Property: r.Violation.Property, From: r.Schedule}
	fails := func(events []faults.Event) bool {
		out.Runs++
		sc := s.Scripted(events)
		rr, err := sc.Run(seed)
		return err == nil && rr.Violation != nil && rr.Violation.Property == out.Property
	}
	if !fails(r.Schedule) {
		return out, fmt.Errorf("replaying the recorded schedule of seed %d does not fail %s: cannot shrink", seed, out.Property)
	}
	out.To = faults.Shrink(r.Schedule, fails, maxRuns-1)
	return out, nil
}

// FirstFailure runs s for seeds from, from+1, ..., at most limit of them,
// and returns the first seed whose run fails, with its result (found is
// false when all pass). It stops with ctx's error when ctx is done, and
// with the error of a seed whose parameters do not build.
func FirstFailure(ctx context.Context, s Scenario, from uint64, limit int) (seed uint64, r topology.Result, found bool, err error) {
	for i := 0; i < limit; i++ {
		if err := ctx.Err(); err != nil {
			return 0, topology.Result{}, false, err
		}
		seed = from + uint64(i)
		if r, err = s.Run(seed); err != nil {
			return 0, topology.Result{}, false, fmt.Errorf("seed %d: %w", seed, err)
		}
		if !r.Pass() {
			return seed, r, true, nil
		}
	}
	return 0, topology.Result{}, false, nil
}
