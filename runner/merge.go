package runner

import (
	"fmt"
	"slices"

	"github.com/syncsim/syncsim/results"
)

// Shard is one sweep result file to merge.
type Shard struct {
	Path  string
	Sweep *results.Sweep
}

// Merge combines the shards of one sweep into one, runs in seed order. It
// fails when the shards are of different scenarios or share a seed; it
// returns the planned seeds no shard has a result for (an interrupted or
// missing shard).
func Merge(shards []Shard) (merged results.Sweep, missing []uint64, err error) {
	seen := map[uint64]bool{}
	for i, sh := range shards {
		s := sh.Sweep
		if i == 0 {
			merged.Scenario, merged.Definition = s.Scenario, s.Definition
		} else if s.Scenario != merged.Scenario {
			return merged, nil, fmt.Errorf("%s is a sweep of %q, %s of %q: merge one scenario at a time", sh.Path, s.Scenario, shards[0].Path, merged.Scenario)
		}
		merged.Interrupted = merged.Interrupted || s.Interrupted
		for _, r := range s.Runs {
			if seen[r.Seed] {
				return merged, nil, fmt.Errorf("seed %d appears in more than one file (overlapping shards?)", r.Seed)
			}
			seen[r.Seed] = true
			merged.Runs = append(merged.Runs, r)
		}
		merged.Seeds = append(merged.Seeds, s.Seeds...)
	}
	slices.SortFunc(merged.Runs, func(a, b results.Run) int {
		switch {
		case a.Seed < b.Seed:
			return -1
		case a.Seed > b.Seed:
			return 1
		}
		return 0
	})
	slices.Sort(merged.Seeds)
	for _, s := range merged.Seeds {
		if !seen[s] {
			missing = append(missing, s)
		}
	}
	return merged, missing, nil
}
