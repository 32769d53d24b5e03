package runner

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/sim"
)

// SweepOptions tune Sweep.
type SweepOptions struct {
	// Workers is the number of runs at once (at least 1); each run stays
	// single-threaded, so parallelism changes nothing but wall time.
	Workers int
	// Determinism runs each seed twice more with traces and fails it on
	// any difference.
	Determinism bool
	// Done, if set, is called after each run, one call at a time, in the
	// order runs finish (for progress displays).
	Done func(results.Run)
}

// Sweep runs the seeds of t and returns their results in seed order. When
// ctx is cancelled no further seed starts; the runs under way finish and
// are returned, so the result may hold fewer runs than seeds.
func Sweep(ctx context.Context, t Target, seeds []uint64, o SweepOptions) []results.Run {
	workers := max(o.Workers, 1)
	jobs := make(chan int)
	done := make([]*results.Run, len(seeds))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				rj := runSeed(t, seeds[i], o.Determinism)
				mu.Lock()
				done[i] = &rj
				if o.Done != nil {
					o.Done(rj)
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for i := range seeds {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	var out []results.Run
	for _, r := range done {
		if r != nil {
			out = append(out, *r)
		}
	}
	return out
}

// runSeed runs one seed of a sweep; a scenario that does not build is an
// "error" violation of that seed.
func runSeed(t Target, seed uint64, determinism bool) results.Run {
	start := time.Now() // wall time is reported, never simulated
	r, err := t.Run(seed, nil)
	var rj results.Run
	if err != nil {
		rj = results.Run{Scenario: t.Arg, Seed: seed, Violation: &results.Violation{Property: "error", Message: err.Error()}}
	} else {
		rj = Result(t, seed, r, false)
	}
	rj.WallS = time.Since(start).Seconds()
	if determinism && err == nil {
		if diff, derr := DeterminismDiff(t, seed); derr == nil && diff != "" {
			rj.Pass = false
			rj.Violation = &results.Violation{Property: "determinism", Message: diff}
		}
	}
	return rj
}

// DeterminismDiff runs seed of t twice with traces and returns "" when both
// runs are identical, else where they first differ.
func DeterminismDiff(t Target, seed uint64) (string, error) {
	var a, b bytes.Buffer
	ra, err := t.Run(seed, &a)
	if err != nil {
		return "", err
	}
	rb, err := t.Run(seed, &b)
	if err != nil {
		return "", err
	}
	if d := sim.FirstDivergence(a.Bytes(), b.Bytes()); d != nil {
		return fmt.Sprintf("seed %d: runs differ first at trace event %d:\n  run 1: %s\n  run 2: %s", seed, d.Index, d.A, d.B), nil
	}
	if ra.Hash != rb.Hash {
		return fmt.Sprintf("seed %d: same trace, different hashes %016x and %016x", seed, ra.Hash, rb.Hash), nil
	}
	return "", nil
}
