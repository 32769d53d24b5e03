package scenarios

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/syncsim/syncsim/nodes/reference"
	"github.com/syncsim/syncsim/topology"
)

var freshSearch = flag.Bool("rapid-bugs.fresh", false,
	"TestRapidFindsEachBug: ignore the saved counterexamples in testdata/rapid and search from scratch (make rapid-bugs)")

// recorder is a rapid.TB that keeps what rapid reports instead of failing
// the test: for a planted bug, a counterexample is the expected outcome.
type recorder struct {
	*testing.T
	name   string
	failed bool
	out    strings.Builder
}

func (r *recorder) Name() string { return r.name }
func (r *recorder) Errorf(format string, a ...any) {
	r.failed = true
	fmt.Fprintf(&r.out, format+"\n", a...)
}
func (r *recorder) Error(a ...any)                 { r.failed = true; fmt.Fprintln(&r.out, a...) }
func (r *recorder) Fatalf(format string, a ...any) { r.Errorf(format, a...) }
func (r *recorder) Fatal(a ...any)                 { r.Error(a...) }
func (r *recorder) Fail()                          { r.failed = true }
func (r *recorder) FailNow()                       { r.failed = true }
func (r *recorder) Failed() bool                   { return r.failed }
func (r *recorder) Logf(format string, a ...any)   { fmt.Fprintf(&r.out, format+"\n", a...) }
func (r *recorder) Log(a ...any)                   { fmt.Fprintln(&r.out, a...) }

// searchRounds bounds the search: rounds of rapid.Check, each with its own
// seed, until one finds a counterexample.
const searchRounds = 30

// roundSeed points rapid at round r's seed and returns the restore. rapid
// reads -rapid.seed at every Check, so with it given every round would draw
// the same examples: round r starts at the given seed plus r times a large
// odd step instead (round 0 at the seed itself), which keeps a search from
// a given seed reproducible. Without -rapid.seed each round draws a random
// seed of its own, as rapid does.
func roundSeed(r int) (restore func()) {
	f := flag.Lookup("rapid.seed")
	if f == nil || r == 0 {
		return func() {}
	}
	given, err := strconv.ParseUint(f.Value.String(), 10, 64)
	if err != nil || given == 0 {
		return func() {}
	}
	f.Value.Set(strconv.FormatUint(given+uint64(r)*0x9e3779b97f4a7c15, 10))
	return func() { f.Value.Set(strconv.FormatUint(given, 10)) }
}

// maxShrunk is the aim for a shrunk counterexample: at most this many
// fault events.
const maxShrunk = 5

var failFileRE = regexp.MustCompile(`-rapid\.failfile="([^"]+)"`)

// TestRapidFindsEachBug: for every planted bug, rapid generates fault
// schedules on the bug's own scenario (its topology and workload, and
// faults of the kinds its plan uses, drawn and timed by rapid) until the
// bug breaks a property, then shrinks the schedule. The test passes when a
// counterexample is found, it breaks the property the catalogue says
// catches the bug, and it shrank to at most maxShrunk events; it logs the
// shrunk schedule, the round that found it and the time rapid took.
//
// The shrunk counterexamples are kept where rapid puts them
// (testdata/rapid/TestRapidFindsEachBug_<bug>/), and `go test` replays them
// first, so this test is quick and stable; -rapid-bugs.fresh (make
// rapid-bugs) searches from scratch and leaves no files behind.
func TestRapidFindsEachBug(t *testing.T) {
	for _, b := range reference.Catalogue() {
		t.Run(b.Name, func(t *testing.T) {
			base, err := Lookup(b.Hunt)
			if err != nil {
				t.Fatal(err)
			}
			m, err := menuOf(base)
			if err != nil {
				t.Fatal(err)
			}
			sc := *base
			sc.Swarm, sc.Faults, sc.Bug = false, nil, b.Name
			var size int
			var prop, example string
			check := func(rt *rapid.T) {
				seed := rapid.Uint64Range(1, 1<<20).Draw(rt, "seed")
				p, err := sc.Params(seed)
				if err != nil {
					rt.Fatalf("%v", err)
				}
				p.Script = genSchedule(p.Lites, p.WriteFor, m).Draw(rt, "faults")
				r, err := topology.Run(p)
				if err != nil {
					rt.Fatalf("%v", err)
				}
				if !r.Pass() {
					// The last failing example rapid runs is the shrunk one.
					size, prop, example = len(p.Script), r.Violation.Property, describe(p)
					rt.Fatalf("%v", r.Violation)
				}
			}
			rec := &recorder{T: t, name: t.Name()}
			if *freshSearch {
				rec.name += "_fresh" // matches no saved file
			}
			start := time.Now()
			rounds := 0
			for ; rounds < searchRounds && !rec.failed; rounds++ {
				restore := roundSeed(rounds)
				rapid.Check(rec, check) // -rapid.checks examples a round
				restore()
			}
			took := time.Since(start)
			if *freshSearch {
				if m := failFileRE.FindStringSubmatch(rec.out.String()); m != nil {
					os.Remove(m[1])
					os.Remove(filepath.Dir(m[1])) // only if empty
				}
			}
			if !rec.failed {
				t.Fatalf("rapid found no schedule under which %s breaks a property:\n%s", b.Name, rec.out.String())
			}
			if b.Property != "" && prop != b.Property {
				t.Errorf("counterexample breaks %s, want %s (the property the catalogue names)", prop, b.Property)
			}
			if size > maxShrunk {
				t.Errorf("counterexample shrunk to %d fault events, want at most %d", size, maxShrunk)
			}
			t.Logf("%s: found in round %d of %d, shrunk to %d fault events in %v, breaks %s\n%s",
				b.Name, rounds, searchRounds, size, took.Round(time.Millisecond), prop, example)
		})
	}
}
