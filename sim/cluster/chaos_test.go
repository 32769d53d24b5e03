package cluster

import (
	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/sim"
)

// chaosParams is a 3-Lite run with frame chaos, five connection resets and
// one crash/restart of a random node, all before writes stop at 10 s.
func chaosParams(seed uint64, p float64) Params {
	ps := Defaults()
	ps.Seed = seed
	ps.WriteFor = 10 * sim.Second
	ch := faults.NewChaos(seed, p, ps.WriteFor)
	ps.Interceptor = ch
	ps.Setup = func(c *Cluster) {
		ch.Attach(c.World)
		faults.ScheduleDisruptions(c.World, seed, c.P.Lites, 5, ps.WriteFor)
	}
	return ps
}
