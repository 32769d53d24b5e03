package topology

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/syncsim/syncsim/sim"
)

var update = flag.Bool("update", false, "rewrite testdata/hashes.golden and trajectories.golden from the current build")

// sameState compares every Lite's synced collections with Origin's by their
// full snapshot encoding: independent of the digest Divergence relies on.
func sameState(t *testing.T, c *Cluster) {
	t.Helper()
	for i := range c.P.Lites {
		l := liteNode(c, i)
		for _, coll := range c.Collections() {
			want := originNode(c).Collection(coll).Snapshot()
			if got := l.Collection(coll).Snapshot(); !bytes.Equal(got, want) {
				t.Errorf("lite%d %s: %d bytes of state, origin has %d (different contents)", i+1, coll, len(got), len(want))
			}
		}
	}
}

func TestNoFaultConvergence(t *testing.T) {
	for _, n := range []int{1, 3, 16} {
		t.Run(fmt.Sprintf("lites=%d", n), func(t *testing.T) {
			p := refDefaults()
			p.Seed, p.Lites = 11, n
			c, err := New(p)
			if err != nil {
				t.Fatal(err)
			}
			r := c.Run()
			if !r.Converged {
				t.Fatalf("did not converge: %s", r.Divergence)
			}
			if r.ConvergedAt < p.WriteFor || r.ConvergedAt > p.WriteFor+sim.Second {
				t.Errorf("converged at %v, want within 1 s of writes stopping at %v", r.ConvergedAt, p.WriteFor)
			}
			sameState(t, c)
			for i := range p.Lites {
				if st := probe(c, LiteID(i)); st.Unacked != 0 || st.Resyncing != 0 || st.QueueDepth != 0 {
					t.Errorf("pending work: %+v", st)
				}
			}
			if r.Counters.Writes == 0 || r.Counters.FramesDropped != 0 || r.Counters.ResyncRequested != 0 {
				t.Errorf("counters %+v", r.Counters)
			}
		})
	}
}

// Every Lite write is applied at Origin exactly once: the commits carrying
// a peer's mutations number exactly that Lite's writes.
func TestEveryLiteWriteCommittedOnce(t *testing.T) {
	p := refDefaults()
	p.Seed = 5
	var trace bytes.Buffer
	p.Trace = &trace
	r, err := Run(p)
	if err != nil || !r.Converged {
		t.Fatalf("%v %s", err, r.Divergence)
	}
	writes := map[string]int{}
	commits := map[string]int{}
	for _, line := range strings.Split(trace.String(), "\n") {
		switch {
		case strings.Contains(line, `"in":"write"`) && !strings.Contains(line, `"node":0,`):
			writes[field(line, "node")]++
		case strings.Contains(line, `"event":"committed"`) && !strings.Contains(line, `"peer":0,`):
			commits[field(line, "peer")]++
		}
	}
	if len(writes) != p.Lites {
		t.Fatalf("writes at %d lites, want %d", len(writes), p.Lites)
	}
	for node, n := range writes {
		if commits[node] != n { // peer id == node id in this topology
			t.Errorf("lite at node %s wrote %d times, origin committed %d of its mutations", node, n, commits[node])
		}
	}
}

func field(line, key string) string {
	i := strings.Index(line, `"`+key+`":`)
	if i < 0 {
		return ""
	}
	rest := line[i+len(key)+3:]
	return rest[:strings.IndexAny(rest, ",}")]
}

// A planted divergence must be reported: the convergence check is only
// worth something if it fails when the state differs.
func TestDivergenceDetectsPlantedBug(t *testing.T) {
	p := refDefaults()
	p.Seed = 3
	c, _ := New(p)
	if r := c.Run(); !r.Converged {
		t.Fatal(r.Divergence)
	}
	liteNode(c, 1).Collection("c0").Put("d0", []byte("planted"))
	if d := c.Divergence(); !strings.Contains(d, "lite2 holds different c0 contents") {
		t.Fatalf("Divergence() = %q", d)
	}
}

func TestChaosConvergence(t *testing.T) {
	// Drop, duplicate, reorder and bit-flip 3% of frames each, refuse
	// dials, reset connections and crash a node; after heal every seed
	// must converge within the budget.
	seeds := 300
	if testing.Short() {
		seeds = 50
	}
	var resyncs, corrupted uint64
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		c, _ := New(chaosParams(seed, 0.03))
		r := c.Run()
		if !r.Converged {
			t.Errorf("seed %d: %s", seed, r.Divergence)
			if r.Violation != nil {
				t.Errorf("seed %d: %s", seed, r.Violation)
			}
			continue
		}
		sameState(t, c)
		resyncs += r.Counters.ResyncAnswered
		corrupted += r.Counters.FramesCorrupted
	}
	// The faults must actually have exercised the repair paths.
	if resyncs == 0 || corrupted == 0 {
		t.Fatalf("faults never bit: %d resyncs answered, %d frames corrupted", resyncs, corrupted)
	}
}

type pinned struct {
	name string
	p    func() Params
}

var pins = []pinned{
	{"nofault-3lites-seed1", func() Params { p := refDefaults(); p.Seed = 1; return p }},
	{"nofault-16lites-seed2", func() Params { p := refDefaults(); p.Seed, p.Lites = 2, 16; return p }},
	{"chaos-3lites-seed7", func() Params { return chaosParams(7, 0.03) }},
	// Heavy chaos: corrupted frames reach the decoder, so decode-error
	// texts (folded into the hash) are pinned too.
	{"chaos-3lites-seed14-heavy", func() Params { return chaosParams(14, 0.15) }},
}

func hashOf(t *testing.T, p Params) string {
	r, err := Run(p)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%016x", r.Hash)
}

// TestDeterminism runs each pinned scenario at GOMAXPROCS 1 and 2, several
// copies at once so goroutine interleaving has every chance to leak in, and
// checks one hash for all of them and against testdata/hashes.golden. The
// golden hashes are pins, not derived values: they catch any change to what
// a seed does; regenerate them with -update when a change is intended.
func TestDeterminism(t *testing.T) {
	got := map[string]string{}
	for _, procs := range []int{1, 2} {
		prev := runtime.GOMAXPROCS(procs)
		for _, pin := range pins {
			hashes := make([]string, 4)
			var wg sync.WaitGroup
			for i := range hashes {
				wg.Add(1)
				go func() { defer wg.Done(); hashes[i] = hashOf(t, pin.p()) }()
			}
			wg.Wait()
			for i, h := range hashes {
				if h != hashes[0] {
					t.Errorf("%s GOMAXPROCS=%d: run %d hash %s, run 0 %s", pin.name, procs, i, h, hashes[0])
				}
			}
			if g, ok := got[pin.name]; ok && g != hashes[0] {
				t.Errorf("%s: hash %s at GOMAXPROCS=%d, %s before", pin.name, hashes[0], procs, g)
			}
			got[pin.name] = hashes[0]
		}
		runtime.GOMAXPROCS(prev)
	}
	var b strings.Builder
	for _, pin := range pins {
		fmt.Fprintf(&b, "%s %s\n", pin.name, got[pin.name])
	}
	golden(t, "hashes.golden", "trace hashes", b.String())
}

// TestTrajectoriesPinned pins what each pinned run did (end time and every
// counter) apart from the trace hash: a change to the hash function alone
// leaves this file as it is, so re-pinning hashes.golden for one cannot
// hide a run that changed.
func TestTrajectoriesPinned(t *testing.T) {
	var b strings.Builder
	for _, pin := range pins {
		r, err := Run(pin.p())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s end=%d %+v\n", pin.name, r.End, r.Counters)
	}
	golden(t, "trajectories.golden", "run counters", b.String())
}

// golden compares got with testdata/name, rewriting it first with -update.
func golden(t *testing.T, name, what, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./topology -run 'Determinism|Trajectories' -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s changed:\n got:\n%s want:\n%s(if the change is intended: go test ./topology -run 'Determinism|Trajectories' -update)", what, got, want)
	}
}

func TestDifferentSeedsDiffer(t *testing.T) {
	a, b := refDefaults(), refDefaults()
	a.Seed, b.Seed = 1, 2
	if hashOf(t, a) == hashOf(t, b) {
		t.Fatal("seeds 1 and 2 gave the same trace hash")
	}
}

func TestTraceFileMatchesHash(t *testing.T) {
	// Tracing to a file must not change the run.
	p := refDefaults()
	p.Seed = 9
	plain := hashOf(t, p)
	var buf bytes.Buffer
	p.Trace = &buf
	if traced := hashOf(t, p); traced != plain {
		t.Fatalf("hash %s with a trace file, %s without", traced, plain)
	}
	if n := bytes.Count(buf.Bytes(), []byte("\n")); n < 1000 {
		t.Fatalf("trace has %d lines", n)
	}
}

func TestParamsValidate(t *testing.T) {
	for _, tc := range []struct {
		mut  func(*Params)
		want string
	}{
		{func(p *Params) { p.Lites = 0 }, "lites = 0"},
		{func(p *Params) { p.Collections = 0 }, "collections = 0"},
		{func(p *Params) { p.Docs = 0 }, "docs = 0"},
		{func(p *Params) { p.LiteRate = -1 }, "rates"},
		{func(p *Params) { p.Budget = 0 }, "budget"},
	} {
		p := refDefaults()
		tc.mut(&p)
		if _, err := New(p); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("err = %v, want it to mention %q", err, tc.want)
		}
	}
}

func TestWorkloadDrawsOneStream(t *testing.T) {
	// The workload draws value bytes from src and everything else from
	// rng: they must be one generator, so that each draw advances the
	// other's state exactly as the single Stream the workload used to be.
	p := refDefaults()
	p.Seed = 11
	w := newWorkload(p, []string{"c0"})
	got := []uint64{w.rng.Uint64(), w.src.Uint64(), w.rng.Uint64(), w.src.Uint64()}
	ref := sim.Stream(p.Seed, "workload")
	want := []uint64{ref.Uint64(), ref.Uint64(), ref.Uint64(), ref.Uint64()}
	if !slices.Equal(got, want) {
		t.Fatalf("rng and src interleaved drew %x, the workload stream draws %x", got, want)
	}
}

// Abort cuts a run short without changing it: the trace of the cut run is
// the full run's, line for line, up to the cut, and the cut run has no
// verdict (Pass is false, though the full run passes).
func TestAbortCutsTheRunShortUnchanged(t *testing.T) {
	p := busy(7, 10*sim.Second)
	var full bytes.Buffer
	p.Trace = &full
	whole, err := Run(p)
	if err != nil || !whole.Pass() || whole.Aborted {
		t.Fatalf("whole run: err %v, pass %v, aborted %v", err, whole.Pass(), whole.Aborted)
	}
	var cut bytes.Buffer
	p.Trace = &cut
	asked := 0
	p.Abort = func() bool { asked++; return asked == 3 }
	part, err := Run(p)
	if err != nil {
		t.Fatal(err)
	}
	if !part.Aborted || part.Pass() || part.End >= whole.End || part.Counters.Events != 3*sim.ProgressEvents {
		t.Fatalf("cut run: aborted %v, pass %v, end %v (whole %v), events %d", part.Aborted, part.Pass(), part.End, whole.End, part.Counters.Events)
	}
	if (Result{Result: sim.Result{Aborted: true}}).Pass() {
		t.Error("a cut run that checks no convergence passes")
	}
	if !strings.Contains(part.Divergence, "interrupted") {
		t.Errorf("cut run's divergence %q does not say it was interrupted", part.Divergence)
	}
	if cut.Len() == 0 || cut.Bytes()[cut.Len()-1] != '\n' || !bytes.HasPrefix(full.Bytes(), cut.Bytes()) || cut.Len() >= full.Len() {
		t.Fatalf("cut trace (%d bytes) is not a whole-line prefix of the full one (%d bytes)", cut.Len(), full.Len())
	}
}
