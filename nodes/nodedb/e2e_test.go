package nodedb_test

import (
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/syncsim/syncsim/check"
	"github.com/syncsim/syncsim/nodes/nodedb"
	"github.com/syncsim/syncsim/nodes/reference"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/topology"
)

// run runs a no-fault topology (3 Lites writing to every collection, and
// Origin too, for 5 s; 30 s to converge) and returns the result with every
// node's final probe answer (Origin's first).
func run(t *testing.T, origin, lite sim.Impl, collections int, seed uint64) (topology.Result, []sim.Probe) {
	t.Helper()
	p := topology.Defaults()
	p.Seed, p.Collections = seed, collections
	p.Origin, p.Lite = origin, lite
	c, err := topology.New(p)
	if err != nil {
		t.Fatal(err)
	}
	r := c.Run()
	probes := make([]sim.Probe, p.Lites+1)
	for id := range probes {
		if !c.World.Probe(sim.NodeID(id), &probes[id]) {
			t.Fatalf("node %d is down at the end", id)
		}
	}
	return r, probes
}

// wal is the Origin's WAL LSN at the end: its collections' highest LSN.
func wal(origin sim.Probe) uint64 {
	var m uint64
	for _, c := range origin.Collections {
		m = max(m, c.LSN)
	}
	return m
}

// notConverged checks that r failed convergence only (no safety property)
// with a divergence that matches why.
func notConverged(t *testing.T, r topology.Result, why *regexp.Regexp) []string {
	t.Helper()
	if r.Converged || r.Violation == nil || r.Violation.Property != check.Convergence {
		t.Fatalf("converged=%v violation=%v: want a convergence failure and no other", r.Converged, r.Violation)
	}
	m := why.FindStringSubmatch(r.Divergence)
	if m == nil {
		t.Fatalf("divergence %q, want one matching %s", r.Divergence, why)
	}
	return m
}

// TestEndToEndNoFaults runs the three pairings with no faults and writes
// to every collection. With two collections NodeDB's own pair fails: its
// LSNs are WAL positions shared by all collections (weakness W9), so each
// collection's stream has holes where the other collection was written,
// and NodeDB's Lite takes the first for a gap it can never close. The
// failure is the model's point, asserted with its reason. The mixed pairs
// converge. With one collection the WAL LSN is contiguous per collection
// and every pairing converges, which pins the cause on the shared WAL.
func TestEndToEndNoFaults(t *testing.T) {
	ref := reference.Config{}
	ndbOrigin, ndbLite := nodedb.OriginImpl(nodedb.OriginConfig{}), nodedb.LiteImpl(nodedb.LiteConfig{})
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			// NodeDB's Lites against the reference Origin: per-collection
			// LSNs, so no gap ever opens; the reference Origin's
			// VectorClockSync and ResyncRequest are ignored and not needed.
			t.Run("nodedb-lites/reference-origin", func(t *testing.T) {
				r, _ := run(t, ref.OriginImpl(), ndbLite, 2, seed)
				if !r.Pass() || !r.Converged {
					t.Fatalf("converged=%v violation=%v divergence=%q", r.Converged, r.Violation, r.Divergence)
				}
			})

			// The reference Lites against NodeDB's Origin. The reference
			// Lite applies strictly in order, so every jump of the global
			// WAL LSN is a gap: it holds the deltas above it and asks for
			// the rest, which NodeDB's Origin never answers. What rescues
			// its contents is its periodic re-subscribe (every 2 s, as no
			// VectorClockSync ever marks its shapes live): each is answered
			// with a fresh snapshot, which carries the current WAL LSN. So
			// every shape of the Lite ends at the WAL head, above the LSN of
			// the collection's last commit that Origin reports, with the
			// same contents: converged, because the Origin claims SharedLSN
			// (its LSNs are WAL positions), and the gaps were real work.
			t.Run("reference-lites/nodedb-origin", func(t *testing.T) {
				r, probes := run(t, ndbOrigin, ref.LiteImpl(), 2, seed)
				if !r.Pass() || !r.Converged {
					t.Fatalf("converged=%v violation=%v divergence=%q", r.Converged, r.Violation, r.Divergence)
				}
				head, above := wal(probes[0]), 0
				for id, lp := range probes[1:] {
					for i, lc := range lp.Collections {
						oc := probes[0].Collections[i]
						if lc.Digest != oc.Digest || lc.LSN != head {
							t.Errorf("lite%d %s: lsn %d digest %#x; want the WAL LSN %d and origin's digest %#x", id+1, lc.Name, lc.LSN, lc.Digest, head, oc.Digest)
						}
						if lc.LSN > oc.LSN {
							above++
						}
					}
				}
				if above == 0 {
					t.Error("no Lite's shape stands above its collection's last commit: the shared WAL LSN was not exercised")
				}
				if r.Marks[markName(topology.MarkGapDetected)] == 0 {
					t.Error("no gap was detected")
				}
			})

			// NodeDB's Lites against NodeDB's Origin. The Lite's deltas
			// merge whatever their order, so the contents and LSNs end
			// identical; but the first WAL jump each Lite sees is a gap:
			// it sends its one ResyncRequest, which the Origin only logs,
			// and the gate stays shut (no snapshot, no reconnect follows),
			// so every Lite reports one unanswered resync request forever.
			t.Run("nodedb-lites/nodedb-origin", func(t *testing.T) {
				r, probes := run(t, ndbOrigin, ndbLite, 2, seed)
				notConverged(t, r, regexp.MustCompile(`^lite\d+ has 1 unanswered resync requests$`))
				for id, lp := range probes[1:] {
					if lp.Resyncing != 1 || !lp.Connected || lp.Unacked != 0 {
						t.Errorf("lite%d: %+v, want connected, nothing unacked, the gate set", id+1, lp)
					}
					for i, lc := range lp.Collections {
						if oc := probes[0].Collections[i]; lc != oc {
							t.Errorf("lite%d: %+v, origin %+v: the data should have converged", id+1, lc, oc)
						}
					}
				}
				// One request per Lite: one connection each, one gate each.
				if n := r.Marks[markName(topology.MarkResyncSent)]; n != uint64(len(probes)-1) {
					t.Errorf("%d resync requests sent, want one per Lite", n)
				}
			})

			// One collection: every pairing converges.
			for _, pc := range []struct {
				name         string
				origin, lite sim.Impl
			}{{"reference-lites/nodedb-origin", ndbOrigin, ref.LiteImpl()}, {"nodedb-lites/nodedb-origin", ndbOrigin, ndbLite},
				{"nodedb-lites/reference-origin", ref.OriginImpl(), ndbLite}} {
				t.Run("one-collection/"+pc.name, func(t *testing.T) {
					r, _ := run(t, pc.origin, pc.lite, 1, seed)
					if !r.Pass() || !r.Converged || strings.Contains(r.Divergence, "resync") {
						t.Fatalf("converged=%v violation=%v divergence=%q", r.Converged, r.Violation, r.Divergence)
					}
				})
			}
		})
	}
}

// markName is a mark's name, the key of Result.Marks.
func markName(m topology.Mark) string { return topology.Marks()[m].Name }

// A run is a pure function of its inputs: each pairing on the baseline
// (3 Lites, 2 collections, seed 1) gives the same trace hash twice, and
// another seed another hash.
func TestEndToEndDeterministic(t *testing.T) {
	ref := reference.Config{}
	ndbOrigin, ndbLite := nodedb.OriginImpl(nodedb.OriginConfig{}), nodedb.LiteImpl(nodedb.LiteConfig{})
	for _, pc := range []struct {
		name         string
		origin, lite sim.Impl
	}{{"nodedb-lites/nodedb-origin", ndbOrigin, ndbLite}, {"nodedb-lites/reference-origin", ref.OriginImpl(), ndbLite},
		{"reference-lites/nodedb-origin", ndbOrigin, ref.LiteImpl()}} {
		t.Run(pc.name, func(t *testing.T) {
			a, _ := run(t, pc.origin, pc.lite, 2, 1)
			b, _ := run(t, pc.origin, pc.lite, 2, 1)
			if a.Hash != b.Hash || a.End != b.End || a.Counters != b.Counters {
				t.Fatalf("two runs of seed 1: hash %#x / %#x, end %v / %v", a.Hash, b.Hash, a.End, b.End)
			}
			if c, _ := run(t, pc.origin, pc.lite, 2, 2); c.Hash == a.Hash {
				t.Fatalf("seeds 1 and 2 give the same hash %#x", a.Hash)
			}
		})
	}
}
