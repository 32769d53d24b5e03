package runner

import (
	"bytes"
	"context"
	"fmt"
	"runtime/debug"
	"sync"
	"time"

	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/sim"
)

// MaxWorkers bounds SweepOptions.Workers: runs at once beyond a few per
// core only cost memory.
const MaxWorkers = 256

// SweepOptions tune Sweep.
type SweepOptions struct {
	// Workers is the number of runs at once (1..MaxWorkers); each run stays
	// single-threaded, so parallelism changes nothing but wall time.
	Workers int
	// Determinism runs each seed twice more with traces and fails it on
	// any difference.
	Determinism bool
	// Each is called for every run, in seed order, one call at a time.
	Each func(results.Run)
}

// Sweep runs the seeds of plan and hands each run's result to o.Each in
// seed order, as they finish: memory stays flat however many seeds there
// are (at most a few runs per worker wait to be handed on). When ctx is
// cancelled no further seed starts and the runs under way stop where they
// are (a long run is not waited for): what is handed on is the runs that
// finished before the first one cut short, in seed order. It returns how
// many runs it handed on.
func Sweep(ctx context.Context, t Target, plan results.Plan, o SweepOptions) uint64 {
	workers := min(max(o.Workers, 1), MaxWorkers)
	if n := plan.Len(); n < uint64(workers) {
		workers = int(n)
	}
	window := 4 * workers // runs finished or under way, not yet handed on
	type job struct {
		i    uint64
		seed uint64
	}
	jobs := make(chan job)
	var mu sync.Mutex
	cond := sync.NewCond(&mu)
	done := map[uint64]results.Run{} // finished, waiting for an earlier seed
	var next, fed uint64             // next index to hand on; indexes fed
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				r, cut := runSeed(ctx, t, j.seed, o.Determinism)
				if cut {
					// No result: this seed and those after it are not
					// handed on (done keeps them until Sweep returns).
					continue
				}
				mu.Lock()
				done[j.i] = r
				for {
					r, ok := done[next]
					if !ok {
						break
					}
					delete(done, next)
					next++
					if o.Each != nil {
						o.Each(r)
					}
				}
				cond.Broadcast()
				mu.Unlock()
			}
		}()
	}
	stop := context.AfterFunc(ctx, func() { mu.Lock(); cond.Broadcast(); mu.Unlock() })
	defer stop()
feed:
	for s := range plan.Seeds() {
		mu.Lock()
		for fed-next >= uint64(window) && ctx.Err() == nil {
			cond.Wait()
		}
		mu.Unlock()
		if ctx.Err() != nil {
			break
		}
		select {
		case jobs <- job{fed, s}:
			fed++
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	return next
}

// runSeed runs one seed of a sweep; a scenario that does not build is an
// "error" violation of that seed. cut reports a run that ctx stopped
// before its end: it has no result.
func runSeed(ctx context.Context, t Target, seed uint64, determinism bool) (rj results.Run, cut bool) {
	start := time.Now() // wall time is reported, never simulated
	abort := abortOn(ctx)
	r, err := t.run(seed, runOpts{abort: abort})
	if err == nil && r.Aborted {
		return results.Run{}, true
	}
	if err != nil {
		rj = results.Run{Scenario: t.Arg, Seed: seed, Violation: &results.Violation{Property: "error", Message: err.Error()},
			Replay: t.Replay(seed)}
	} else {
		rj = Result(t, seed, r, false)
	}
	rj.WallS = time.Since(start).Seconds()
	if determinism && err == nil {
		// A second run, untraced: only a different hash calls for the
		// traced pair that names where the runs part.
		r2, err := t.run(seed, runOpts{abort: abort})
		if err == nil && r2.Aborted {
			return results.Run{}, true
		}
		if err == nil && r2.Hash != r.Hash {
			diff, derr := DeterminismDiff(t, seed)
			if derr != nil || diff == "" {
				diff = fmt.Sprintf("seed %d: two runs gave trace hashes %016x and %016x", seed, r.Hash, r2.Hash)
			}
			rj.Pass = false
			rj.Violation = &results.Violation{Property: "determinism", Message: diff}
		}
	}
	return rj, false
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

// Version names the build of simrun: its VCS revision (with +dirty for a
// modified tree), from the build information the go command embeds.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		if v := bi.Main.Version; v != "" && v != "(devel)" {
			return v
		}
		return "unknown"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "+dirty"
	}
	return rev
}
