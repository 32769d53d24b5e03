// Package syncsimtest runs syncsim scenarios from a Go test: what a team
// calls from its own go test to hold its sync code to the protocol's
// properties under faults.
//
//	func TestSyncUnderLoss(t *testing.T) {
//		syncsimtest.Check(t, "lossy", 1, 2, 3)
//	}
//
// Every seed that fails is reported with its violation (the property, the
// time, the node, the last trace events) and the command that replays it.
package syncsimtest

import (
	"fmt"
	"strings"
	"testing"

	"github.com/syncsim/syncsim/runner"
	"github.com/syncsim/syncsim/scenarios"
)

// defaultSeeds are the seeds Check runs when it is given none.
var defaultSeeds = []uint64{1, 2, 3, 4, 5}

// tailEvents is how many trace events a failure report shows.
const tailEvents = 30

// Check runs scenario at each seed and fails t for every seed whose run
// breaks a property or does not converge. scenario is a named scenario or
// a path to a scenario file (a string, as simrun's -scenario takes), or a
// scenario built in Go (a scenarios.Scenario or a pointer to one). With no
// seeds it runs defaultSeeds. A scenario that does not load or validate
// fails t at once.
func Check(t testing.TB, scenario any, seeds ...uint64) {
	t.Helper()
	tg, err := target(scenario)
	if err != nil {
		t.Fatalf("syncsimtest: %v", err)
		return
	}
	if len(seeds) == 0 {
		seeds = defaultSeeds
	}
	for _, seed := range seeds {
		r, err := tg.Run(seed, nil)
		if err != nil {
			t.Fatalf("syncsimtest: %s seed %d: %v", tg.Sc.Name, seed, err)
			return
		}
		if r.Pass() {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "%s seed %d failed\n", tg.Sc.Name, seed)
		if r.Violation != nil {
			b.WriteString(r.Violation.Report(tailEvents))
		}
		if _, named := scenario.(string); named {
			fmt.Fprintf(&b, "replay: %s\n", tg.Replay(seed))
		} else {
			fmt.Fprintf(&b, "replay: save this scenario as FILE.json and run simrun run -scenario FILE.json -seed %d\n%s", seed, scenarios.Marshal(tg.Sc))
		}
		t.Error(b.String())
	}
}

func target(scenario any) (runner.Target, error) {
	switch s := scenario.(type) {
	case string:
		return runner.Resolve(s, runner.Options{})
	case scenarios.Scenario:
		return of(&s)
	case *scenarios.Scenario:
		if s == nil {
			return runner.Target{}, fmt.Errorf("nil scenario")
		}
		c := *s
		return of(&c)
	}
	return runner.Target{}, fmt.Errorf("scenario of type %T: want a name or file path (string) or a scenarios.Scenario", scenario)
}

func of(sc *scenarios.Scenario) (runner.Target, error) {
	if err := sc.Validate(); err != nil {
		return runner.Target{}, fmt.Errorf("scenario %q: %w", sc.Name, err)
	}
	return runner.Of(sc), nil
}
