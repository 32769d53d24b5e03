package faults

import (
	"fmt"
	"testing"

	"github.com/syncsim/syncsim/sim"
)

// The per-frame draw skips the Rand; its values must be the Rand's.
func TestUnitFloatIsRandFloat64(t *testing.T) {
	for _, name := range []string{"faults/0/drop", "faults/7/bitflip"} {
		src, rng := sim.Source(42, name), sim.Stream(42, name)
		for i := 0; i < 10000; i++ {
			if got, want := unitFloat(src), rng.Float64(); got != want {
				t.Fatalf("%s draw %d: unitFloat %v, Rand.Float64 %v", name, i, got, want)
			}
		}
	}
}

// The injector's per-frame draw and its other draws of a spec come from
// one generator, the spec's stream: interleaved, they are that stream's
// Float64s in order.
func TestSpecDrawsShareTheSpecStream(t *testing.T) {
	plan := Plan{Specs: []Spec{{Kind: Drop, Probability: 0.1}, {Kind: BitFlip, Probability: 0.2}}}
	in := New(plan, 42, Roles{})
	for i, s := range plan.Specs {
		want := sim.Stream(42, fmt.Sprintf("faults/%d/%s", i, s.Kind))
		for j := 0; j < 100; j++ {
			var got float64
			if j%2 == 0 {
				got = unitFloat(in.frameSpecs[i].hot.src) // both specs are frame faults: frameSpecs[i] is spec i's
			} else {
				got = in.rngs[i].Float64()
			}
			if w := want.Float64(); got != w {
				t.Fatalf("spec %d (%s) draw %d: %v, the stream's is %v", i, s.Kind, j, got, w)
			}
		}
	}
}
