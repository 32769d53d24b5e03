package cluster

import (
	"math/rand/v2"

	"github.com/syncsim/syncsim/sim"
)

// chaos is a test-only interceptor (the faults package will replace it):
// with probability p each of drop, duplicate, reorder and a one-bit flip,
// refused dials, all until heal.
type chaos struct {
	rng  *rand.Rand
	heal sim.Time
	p    float64
}

func (c *chaos) Intercept(now sim.Time, p *sim.Packet, out []sim.Delivery) []sim.Delivery {
	if now >= c.heal {
		return append(out, sim.Delivery{Bytes: p.Bytes})
	}
	switch x := c.rng.Float64(); {
	case x < c.p:
		return out
	case x < 2*c.p:
		return append(out, sim.Delivery{Bytes: p.Bytes}, sim.Delivery{Bytes: p.Bytes, Delay: 3 * sim.Millisecond})
	case x < 3*c.p:
		return append(out, sim.Delivery{Bytes: p.Bytes, Delay: sim.Time(c.rng.Int64N(int64(50 * sim.Millisecond))), Unordered: true})
	case x < 4*c.p:
		b := append([]byte(nil), p.Bytes...)
		i := c.rng.IntN(len(b))
		b[i] ^= 1 << c.rng.IntN(8)
		return append(out, sim.Delivery{Bytes: b, Altered: true})
	}
	return append(out, sim.Delivery{Bytes: p.Bytes})
}

func (c *chaos) AllowDial(now sim.Time, _, _ sim.NodeID) bool {
	return now >= c.heal || c.rng.Float64() > 0.3
}

// chaosParams is a 3-Lite run with frame chaos, five connection resets and
// one crash/restart of a random node, all before writes stop at 10 s.
func chaosParams(seed uint64, p float64) Params {
	ps := Defaults()
	ps.Seed = seed
	ps.WriteFor = 10 * sim.Second
	ps.Interceptor = &chaos{rng: sim.Stream(seed, "test/chaos"), heal: ps.WriteFor, p: p}
	ps.Setup = func(c *Cluster) {
		r := sim.Stream(seed, "test/schedule")
		for k := 0; k < 5; k++ {
			at := sim.Time(r.Int64N(int64(9 * sim.Second)))
			n := LiteID(r.IntN(c.P.Lites))
			c.World.At(at, func(w *sim.World) {
				for _, cn := range append([]sim.ConnID(nil), w.Conns(n)...) {
					w.ResetConn(cn)
				}
			})
		}
		at := sim.Time(r.Int64N(int64(8 * sim.Second)))
		n := sim.NodeID(r.IntN(c.P.Lites + 1))
		c.World.At(at, func(w *sim.World) { w.Crash(n) })
		c.World.At(at+sim.Time(r.Int64N(int64(sim.Second))), func(w *sim.World) { w.Restart(n) })
	}
	return ps
}
