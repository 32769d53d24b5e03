package external_test

import (
	"testing"

	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/topology"
)

// busy is topology's BenchmarkNoFault3Lites run: 3 Lites, writes at 300/s
// each and 600/s at Origin, no faults.
func busy(seed uint64, writeFor sim.Time) topology.Params {
	p := params(seed)
	p.LiteRate, p.OriginRate, p.WriteFor = 300, 600, writeFor
	return p
}

// BenchmarkExternal4Nodes runs every node as a process (the test binary
// serving the reference nodes, as simrun node does) and reports delivered
// frames and steps per wall second, and what a step costs beyond the same
// run in-process.
func BenchmarkExternal4Nodes(b *testing.B) {
	in, err := topology.Run(busy(1, 2*sim.Second))
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	var frames, steps uint64
	for i := 0; i < b.N; i++ {
		p := busy(1, 2*sim.Second)
		p.Origin, p.Lite = implB(b, "origin"), implB(b, "lite")
		r, err := topology.Run(p)
		if err != nil || r.Hash != in.Hash {
			b.Fatalf("run: %v, hash %016x, in-process %016x", err, r.Hash, in.Hash)
		}
		frames += r.Counters.FramesDelivered
		steps += r.Counters.Events
	}
	el := b.Elapsed().Seconds()
	b.ReportMetric(float64(frames)/el, "frames/s")
	b.ReportMetric(float64(steps)/el, "events/s")
	b.ReportMetric(el*1e6/float64(steps), "µs/event")
}
