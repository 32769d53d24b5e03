package runner

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/syncsim/syncsim/nodes/reference"
	"github.com/syncsim/syncsim/scenarios"
	"github.com/syncsim/syncsim/topology"
)

// Hunt is one planted bug hunted in one scenario: the seeds it took, from
// each starting point, to the first failing run (0: not within the limit).
type Hunt struct {
	Scenario   string `json:"scenario"`
	Detected   bool   `json:"detected"`
	SeedsToHit []int  `json:"seeds_to_hit"`
	Median     int    `json:"median_seeds"` // 0 when missed from most starting points
	FirstSeed  uint64 `json:"first_seed,omitempty"`
	Property   string `json:"property,omitempty"`
	// The first failure's fault schedule, shrunk as simrun shrink does.
	ShrunkFrom int    `json:"shrunk_from,omitempty"`
	ShrunkTo   int    `json:"shrunk_to,omitempty"`
	ShrinkRuns int    `json:"shrink_runs,omitempty"`
	Replay     string `json:"replay,omitempty"`
	Shrink     string `json:"shrink,omitempty"`
}

// CatalogueRow is one planted bug's score.
type CatalogueRow struct {
	Bug        string  `json:"bug"`
	Summary    string  `json:"summary"`
	NodeDB2026 bool    `json:"nodedb_2026"`
	Expected   string  `json:"expected_property,omitempty"`
	Hunts      []Hunt  `json:"hunts"`
	WallS      float64 `json:"wall_s"`
}

// Caught reports whether any hunt found the bug.
func (r CatalogueRow) Caught() bool {
	for _, h := range r.Hunts {
		if h.Detected {
			return true
		}
	}
	return false
}

// HuntsFor is where bug b is hunted: in fixed when given, else in swarm
// and in the bug's own scenario.
func HuntsFor(b reference.Bug, fixed *scenarios.Scenario) ([]scenarios.Scenario, error) {
	if fixed != nil {
		return []scenarios.Scenario{*fixed}, nil
	}
	var out []scenarios.Scenario
	for _, n := range []string{"swarm", b.Hunt} {
		if n == "" || slices.ContainsFunc(out, func(s scenarios.Scenario) bool { return s.Name == n }) {
			continue
		}
		s, err := scenarios.Lookup(n)
		if err != nil {
			return nil, fmt.Errorf("bug %s: %w", b.Name, err)
		}
		out = append(out, *s)
	}
	return out, nil
}

// Score hunts b in each scenario from starts starting points (seed 1,
// 10001, 20001, ...) of up to limit seeds each, and shrinks the first
// failure of each hunt in at most shrinkRuns trial runs. It returns nil,
// nil when ctx is cancelled before the end.
func Score(ctx context.Context, b reference.Bug, hunts []scenarios.Scenario, limit, starts, shrinkRuns int) (*CatalogueRow, error) {
	begin := time.Now() // wall time is reported, never simulated
	row := &CatalogueRow{Bug: b.Name, Summary: b.Summary, NodeDB2026: b.NodeDB2026, Expected: b.Property}
	for _, base := range hunts {
		sc := base
		sc.Bug = b.Name
		h := Hunt{Scenario: base.Name}
		var first topology.Result
		for k := 0; k < starts; k++ {
			from := uint64(1 + 10000*k)
			seed, r, found, err := scenarios.FirstFailure(ctx, sc, from, limit)
			if ctx.Err() != nil {
				return nil, nil
			}
			if err != nil {
				return nil, err
			}
			hit := 0
			if found {
				hit = int(seed-from) + 1
				if !h.Detected {
					h.Detected, h.FirstSeed, h.Property, first = true, seed, r.Violation.Property, r
				}
			}
			h.SeedsToHit = append(h.SeedsToHit, hit)
		}
		h.Median = median(h.SeedsToHit)
		if h.Detected {
			if sh, err := scenarios.Shrink(sc, h.FirstSeed, first, shrinkRuns); err == nil {
				h.ShrunkFrom, h.ShrunkTo, h.ShrinkRuns = len(sh.From), len(sh.To), sh.Runs
			}
			t := Target{Arg: base.Name, Options: Options{Bug: b.Name}, Sc: &sc}
			h.Replay, h.Shrink = t.Replay(h.FirstSeed), t.ShrinkCmd(h.FirstSeed)
		}
		row.Hunts = append(row.Hunts, h)
	}
	row.WallS = time.Since(begin).Seconds()
	return row, nil
}

// median of the seeds-to-detection counts; a miss (0) counts as worse than
// any hit, and a median that is a miss is reported as 0.
func median(v []int) int {
	if len(v) == 0 {
		return 0
	}
	s := slices.Clone(v)
	const miss = 1 << 30
	for i, x := range s {
		if x == 0 {
			s[i] = miss
		}
	}
	slices.Sort(s)
	if m := s[(len(s)-1)/2]; m != miss {
		return m
	}
	return 0
}
