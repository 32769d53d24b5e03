package cluster

import (
	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/sim"
)

// chaosParams is a 3-Lite run with frame chaos (drop, duplicate, reorder,
// bit flip at probability p each), Lite connection resets at 0.5/s and node
// crashes at 0.1/s, all healing when writes stop at 10 s.
func chaosParams(seed uint64, p float64) Params {
	ps := Defaults()
	ps.Seed = seed
	ps.WriteFor = 10 * sim.Second
	ps.Faults = faults.Chaos(p, 0.5, ps.WriteFor)
	return ps
}
