package runner

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/syncsim/syncsim/scenarios"
)

// The findings of simrun nodedb are kept in testdata/nodedb (simrun nodedb
// -o testdata/nodedb writes them): each still fails its property on the
// nodes it names and passes on the reference nodes, and every weakness the
// report hunts has one.
func TestNodeDBFindingsReplay(t *testing.T) {
	for _, w := range Weaknesses() {
		path := filepath.Join("..", "testdata", "nodedb", w.ID+".json")
		if w.Hunt == "" {
			if w.ShownBy == "" || w.Why == "" {
				t.Errorf("%s is neither hunted nor explained", w.ID)
			}
			if _, err := os.Stat(path); err == nil {
				t.Errorf("%s is not hunted but has a regression file %s", w.ID, path)
			}
			continue
		}
		t.Run(w.ID, func(t *testing.T) {
			sc, err := scenarios.Load(path)
			if err != nil {
				t.Fatalf("%v (simrun nodedb -o testdata/nodedb writes it)", err)
			}
			if sc.Expect != w.Expect || sc.Nodes == nil || len(sc.Script) > MaxShrunk {
				t.Fatalf("expect %q (want %q), nodes %v, %d events", sc.Expect, w.Expect, sc.Nodes, len(sc.Script))
			}
			r, err := sc.Run(sc.Seed)
			if err != nil {
				t.Fatal(err)
			}
			if r.Violation == nil || r.Violation.Property != w.Expect {
				t.Fatalf("%s no longer fails %s: %v", w.ID, w.Expect, r.Violation)
			}
			ref := *sc
			ref.Nodes = nil
			if rr, err := ref.Run(sc.Seed); err != nil || !rr.Pass() {
				t.Fatalf("the reference nodes fail %s's schedule: %v %v", w.ID, err, rr.Violation)
			}
		})
	}
}

// The hunt is deterministic and the files are this build's: hunting each
// weakness again finds the seed and the schedule its file keeps (so the
// replay command simrun nodedb prints names the finding it printed).
func TestNodeDBHuntFindsTheKeptSchedule(t *testing.T) {
	for _, w := range Weaknesses() {
		if w.Hunt == "" {
			continue
		}
		t.Run(w.ID, func(t *testing.T) {
			t.Parallel()
			f, err := HuntWeakness(context.Background(), w, 50, 300)
			if err != nil || !f.Found {
				t.Fatalf("%s not found: %v %s", w.ID, err, f.Note)
			}
			kept, err := scenarios.Load(filepath.Join("..", "testdata", "nodedb", w.ID+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if f.Seed != kept.Seed || !slices.Equal(f.To, kept.Script) {
				t.Fatalf("hunt found seed %d %v; the file keeps seed %d %v (simrun nodedb -o testdata/nodedb rewrites it)", f.Seed, f.To, kept.Seed, kept.Script)
			}
		})
	}
}
