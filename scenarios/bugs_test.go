package scenarios_test

import (
	"context"
	"testing"

	"github.com/syncsim/syncsim/nodes/reference"
	"github.com/syncsim/syncsim/scenarios"
	"github.com/syncsim/syncsim/topology"
)

// TestEachBugIsCaughtByItsProperty is the catalogue's proof: for every
// planted bug, its scenario with the bug switched on fails, within a few
// seeds, the very property the catalogue says catches it; and the first
// failing seed passes with the bug off, so the failure is the bug's doing.
func TestEachBugIsCaughtByItsProperty(t *testing.T) {
	const limit = 100
	for _, b := range reference.Catalogue() {
		t.Run(b.Name, func(t *testing.T) {
			sc, err := scenarios.Lookup(b.Hunt)
			if err != nil {
				t.Fatal(err)
			}
			withBug := *sc
			withBug.Bug = b.Name
			seed, r, found, err := scenarios.FirstFailure(context.Background(), withBug, 1, limit)
			if err != nil {
				t.Fatal(err)
			}
			if found {
				if got := r.Violation.Property; got != b.Property {
					t.Fatalf("seed %d: %s broke %s, want %s: %v", seed, b.Name, got, b.Property, r.Violation)
				}
				if ref := run(t, *sc, seed); !ref.Pass() {
					t.Fatalf("seed %d fails without the bug too: %v", seed, ref.Violation)
				}
				t.Logf("%s: caught by %s at seed %d of %s: %s", b.Name, b.Property, seed, b.Hunt, r.Violation.Message)
				return
			}
			t.Fatalf("%s: %d seeds of %s and no property failed", b.Name, limit, b.Hunt)
		})
	}
}

func run(t *testing.T, sc scenarios.Scenario, seed uint64) topology.Result {
	t.Helper()
	r, err := sc.Run(seed)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
