package faults

import (
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
