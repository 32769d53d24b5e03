package sim

import (
	"bytes"
	"strings"
	"testing"

	"github.com/syncsim/syncsim/wire"
)

// mapOrder is a planted nondeterminism: on start it sends one ping per map
// entry, in map iteration order, which Go randomises run to run.
type mapOrder struct{ conn ConnID }

func (m *mapOrder) Crash()       {}
func (m *mapOrder) Probe(*Probe) {}
func (m *mapOrder) Step(now Time, in *Input, fx *Effects) {
	switch in.Kind {
	case InStart:
		fx.Dial(0)
	case InConnUp:
		set := map[uint64]bool{1: true, 2: true, 3: true, 4: true, 5: true, 6: true, 7: true, 8: true}
		for k := range set {
			fx.Send(in.Conn, &wire.PingPong{TimestampMs: k})
		}
	}
}

func traceOf(t *testing.T, n Node) []byte {
	var b bytes.Buffer
	New(Config{Seed: 1, Nodes: []NodeSpec{{"srv", &echo{}}, {"cli", n}}, Trace: &b}).Run()
	return b.Bytes()
}

func TestFirstDivergenceLocatesPlantedNondeterminism(t *testing.T) {
	// Deterministic nodes: identical traces.
	if d := FirstDivergence(traceOf(t, &echo{dial: true, n: 8}), traceOf(t, &echo{dial: true, n: 8})); d != nil {
		t.Fatalf("deterministic runs differ at %+v", d)
	}
	// The planted map iteration shows up within a few tries (8! orders),
	// and the difference is located at a send of a PingPong.
	base := traceOf(t, &mapOrder{})
	for try := 0; try < 20; try++ {
		d := FirstDivergence(base, traceOf(t, &mapOrder{}))
		if d == nil {
			continue
		}
		if !strings.Contains(d.A, "PingPong") || !strings.Contains(d.B, "PingPong") || d.Index == 0 {
			t.Fatalf("located at event %d: %q vs %q", d.Index, d.A, d.B)
		}
		return
	}
	t.Fatal("20 runs of a map-ordered sender never differed")
}

func TestFirstDivergenceLengths(t *testing.T) {
	d := FirstDivergence([]byte("a\nb\n"), []byte("a\n"))
	if d == nil || d.Index != 1 || d.A != "b" || d.B != "" {
		t.Fatalf("%+v", d)
	}
}
