package topology

import (
	"bytes"
	"testing"

	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/sim"
)

// chaosParams is a 3-Lite run with frame chaos (drop, duplicate, reorder,
// bit flip at probability p each), Lite connection resets at 0.5/s and node
// crashes at 0.1/s, all healing when writes stop at 10 s.
func chaosParams(seed uint64, p float64) Params {
	ps := refDefaults()
	ps.Seed = seed
	ps.WriteFor = 10 * sim.Second
	ps.Faults = faults.Chaos(p, 0.5, ps.WriteFor)
	return ps
}

// bytesGuard wraps an Interceptor and fails the test if it changes the
// bytes of a frame it was handed: senders re-send their own buffers (Origin
// re-sends a log entry's encoded frame to every subscriber), so a fault
// that altered them in place would corrupt every later send.
type bytesGuard struct {
	t     *testing.T
	inner sim.Interceptor
	seen  int
}

func (g *bytesGuard) Intercept(now sim.Time, p *sim.Packet, out []sim.Delivery) []sim.Delivery {
	before := bytes.Clone(p.Bytes)
	out = g.inner.Intercept(now, p, out)
	if !bytes.Equal(before, p.Bytes) {
		g.t.Fatalf("at %v the interceptor changed the bytes of a %v frame it was handed", now, p.Type)
	}
	g.seen++
	return out
}

func (g *bytesGuard) AllowDial(now sim.Time, from, to sim.NodeID) bool {
	return g.inner.AllowDial(now, from, to)
}

func TestFaultsLeaveSentBytesAlone(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		p := chaosParams(seed, 0.15)
		inj := faults.New(p.Faults, p.Seed, Roles(p.Lites))
		guard := &bytesGuard{t: t, inner: inj}
		p.Interceptor = guard
		p.Setup = func(c *Cluster) { inj.Attach(c.World) }
		r, err := Run(p)
		if err != nil {
			t.Fatal(err)
		}
		if guard.seen == 0 || r.Counters.FramesCorrupted == 0 {
			t.Fatalf("seed %d: %d frames intercepted, %d corrupted: the guard saw no faults at work", seed, guard.seen, r.Counters.FramesCorrupted)
		}
	}
}
