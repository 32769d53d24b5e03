package topology

import (
	"testing"

	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/sim"
)

// swarmParams is a 3-Lite run whose fault mix the seed picks.
func swarmParams(seed uint64) Params {
	p := refDefaults()
	p.Seed = seed
	p.WriteFor = 10 * sim.Second
	p.Faults = faults.Swarm(seed, p.WriteFor, p.Lites)
	return p
}

// TestSwarmReference: the reference nodes keep every safety property and
// converge within the budget under 1,000 swarm seeds.
func TestSwarmReference(t *testing.T) {
	n := uint64(1000)
	if testing.Short() {
		n = 100
	}
	kinds := map[faults.Kind]int{}
	for seed := uint64(1); seed <= n; seed++ {
		r, err := Run(swarmParams(seed))
		if err != nil {
			t.Fatal(err)
		}
		if !r.Pass() {
			t.Errorf("seed %d: %v", seed, r.Violation)
		}
		for _, e := range r.Schedule {
			kinds[e.Kind]++
		}
	}
	// Swarm mode must actually have fired every kind somewhere.
	for _, k := range append(append([]faults.Kind(nil), faults.FrameKinds...), faults.NodeKinds...) {
		if kinds[k] == 0 {
			t.Errorf("fault kind %s never fired in %d seeds", k, n)
		}
	}
}
