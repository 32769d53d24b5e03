package topology

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"slices"
	"testing"

	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// busy is the no-fault 3-Lite run with enough writes that frames, not
// housekeeping ticks, dominate.
func busy(seed uint64, writeFor sim.Time) Params {
	p := refDefaults()
	p.Seed, p.Lites = seed, 3
	p.LiteRate, p.OriginRate = 300, 600
	p.WriteFor = writeFor
	return p
}

// BenchmarkNoFault3Lites reports delivered frames per wall second on one
// core (a run is single-threaded).
func BenchmarkNoFault3Lites(b *testing.B) {
	var frames uint64
	for i := 0; i < b.N; i++ {
		r, _ := Run(busy(uint64(i+1), 10*sim.Second))
		frames += r.Counters.FramesDelivered
	}
	b.ReportMetric(float64(frames)/b.Elapsed().Seconds(), "frames/s")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(frames), "ns/frame")
}

// bareLoop is the floor a simulator cannot beat: encode a ShapeDelta,
// checksum it, queue it, dequeue it and decode it. A fair floor uses the
// fastest path there is, the one the kernel and nodes use: frames encoded
// with AppendFrame into recycled buffers (Encode's fresh slice grew four
// times per frame and made the floor a third slower) and decoded with a
// reusable Scratch.
func bareLoop(n int) {
	codec := wire.Default
	dec := codec.NewScratch()
	d := &wire.ShapeDelta{ShapeID: "shape:c0", Collection: "c0", DocumentID: "d17", Operation: wire.OpUpdate,
		Delta: make([]byte, 20)}
	queue := make([][]byte, 0, 64)
	free := make([][]byte, 0, 64)
	var sink uint32
	for i := 0; i < n; i++ {
		d.LSN = uint64(i)
		var buf []byte
		if k := len(free); k > 0 {
			buf, free = free[k-1][:0], free[:k-1]
		} else {
			buf = make([]byte, 0, 128)
		}
		f, _ := codec.AppendFrame(buf, d)
		sink += wire.Checksum(f)
		queue = append(queue, f)
		if len(queue) == cap(queue) {
			for _, f := range queue {
				m, _ := dec.Decode(f)
				sink += uint32(m.(*wire.ShapeDelta).LSN)
				free = append(free, f)
			}
			queue = queue[:0]
		}
	}
	runtime.KeepAlive(sink)
}

// BenchmarkBareLoop is the floor alone, in rounds of 4096 frames (so that
// -benchtime Nx, as the other benchmarks here are run, still times a
// steady loop).
func BenchmarkBareLoop(b *testing.B) {
	const frames = 4096
	for i := 0; i < b.N; i++ {
		bareLoop(frames)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*frames), "ns/frame")
}

// simOverBareCeiling is the ratio above which BenchmarkSimOverBare fails.
// The aim is 2.5x (the project's, 2x). The full simulation
// measures 3.3x to 3.8x on this VM (2026-12-02 and 03; 2.9x on 12-01,
// before the decoder the bare loop shares got faster). One median under
// load read 4.3x, so the ceiling sits above that: it catches a
// regression of roughly 20-35%, not the VM's noise. It is judged on the
// median of at least minCeilingRuns iterations, because single runs have
// read as high as 4.6x.
const (
	simOverBareCeiling = 4.5
	minCeilingRuns     = 5
)

// BenchmarkSimOverBare reports the full simulation's cost per delivered
// frame as a multiple of the bare encode+CRC+queue+decode loop.
func BenchmarkSimOverBare(b *testing.B) {
	var simNs, bareNs float64
	ratios := make([]float64, 0, b.N)
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		p := busy(uint64(i+1), 10*sim.Second)
		b.StartTimer()
		start := b.Elapsed()
		r, _ := Run(p)
		frames := r.Counters.FramesDelivered
		s := float64(b.Elapsed()-start) / float64(frames)
		start = b.Elapsed()
		bareLoop(int(frames))
		f := float64(b.Elapsed()-start) / float64(frames)
		simNs, bareNs = simNs+s, bareNs+f
		ratios = append(ratios, s/f)
	}
	b.ReportMetric(simNs/float64(b.N), "sim-ns/frame")
	b.ReportMetric(bareNs/float64(b.N), "bare-ns/frame")
	b.ReportMetric(simNs/bareNs, "ratio")
	if len(ratios) >= minCeilingRuns {
		slices.Sort(ratios)
		if m := ratios[len(ratios)/2]; m > simOverBareCeiling {
			b.Errorf("simulation per frame is %.2fx the bare loop, median of %d runs (ceiling %.1fx; 3.3x to 3.8x measured on 2026-12-02 and 03)",
				m, len(ratios), simOverBareCeiling)
		}
	}
}

func heapAfter(p Params) uint64 {
	c, _ := New(p)
	c.Run()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	runtime.KeepAlive(c)
	return m.HeapAlloc
}

// BenchmarkHeapFlat compares the live heap at the end of a run with the
// one of a run ten times longer (tracing off); the budget is 1.2x.
func BenchmarkHeapFlat(b *testing.B) {
	var ratio float64
	for i := 0; i < b.N; i++ {
		short := heapAfter(busy(1, 120*sim.Second))
		long := heapAfter(busy(1, 1200*sim.Second))
		ratio = float64(long) / float64(short)
		b.ReportMetric(float64(short)/(1<<20), "short-MiB")
		b.ReportMetric(float64(long)/(1<<20), "long-MiB")
	}
	b.ReportMetric(ratio, "ratio")
	if ratio > 1.2 {
		b.Errorf("heap after a 10x longer run is %.2fx the short run's (budget 1.2x)", ratio)
	}
}

// fanout is the no-fault run of lites Lites at the default rates (20
// writes/s at each Lite and at Origin) with 2 s of writes: every write
// reaches every Lite, so the frames grow with the square of the Lites.
func fanout(lites int) Params {
	p := refDefaults()
	p.Seed, p.Lites = 1, lites
	p.WriteFor = 2 * sim.Second
	return p
}

// heapWatch samples the live heap (as of the last GC) during a run, through
// the run's Progress hook, which cannot change the run.
type heapWatch struct {
	sample             [2]metrics.Sample
	peakLive, peakHeap uint64
}

func newHeapWatch() *heapWatch {
	h := &heapWatch{}
	h.sample[0].Name = "/gc/heap/live:bytes"
	h.sample[1].Name = "/memory/classes/heap/objects:bytes"
	return h
}

func (h *heapWatch) read(sim.Time) {
	metrics.Read(h.sample[:])
	h.peakLive = max(h.peakLive, h.sample[0].Value.Uint64())
	h.peakHeap = max(h.peakHeap, h.sample[1].Value.Uint64())
}

// fanoutLiveBytesPerLiteMax is the budget of the 1,024-Lite run's peak live
// heap per Lite: most of it is the Lites' full incoming queues (the run
// overloads them), which the scenario, not the kernel, decides.
const fanoutLiveBytesPerLiteMax = 160 << 10

// BenchmarkFanout is the cost per delivered frame and the memory per Lite
// as the Lites grow from 3 to 1,024 (the Origin's default session limit):
// both should stay flat. ns/frame is wall time over frames delivered;
// bytes/Lite is the peak live heap (sampled as the run goes) over the
// Lites; peak-MB is the peak heap including garbage not yet collected.
func BenchmarkFanout(b *testing.B) {
	for _, n := range []int{3, 64, 256, 1024} {
		b.Run(fmt.Sprintf("Lites=%d", n), func(b *testing.B) {
			var frames uint64
			h := newHeapWatch()
			runtime.GC()
			for i := 0; i < b.N; i++ {
				p := fanout(n)
				p.Progress = h.read
				r, err := Run(p)
				if err != nil {
					b.Fatal(err)
				}
				if !r.Pass() {
					b.Fatalf("%d Lites: the run did not pass: %s", n, r.Divergence)
				}
				frames += r.Counters.FramesDelivered
				h.read(0) // a short run may end before its first Progress call
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(frames), "ns/frame")
			b.ReportMetric(float64(h.peakLive)/float64(n), "bytes/Lite")
			b.ReportMetric(float64(h.peakHeap)/(1<<20), "peak-MB")
			if perLite := h.peakLive / uint64(n); n >= 1024 && perLite > fanoutLiveBytesPerLiteMax {
				b.Errorf("%d Lites: peak live heap %d bytes per Lite, budget %d (about 128,000 measured on 2026-12-02)",
					n, perLite, fanoutLiveBytesPerLiteMax)
			}
		})
	}
}

// swarmSeeds is how many seeds one iteration of BenchmarkSwarm60 runs: a
// fixed set, so that every iteration (and every build compared) does the
// same work.
const swarmSeeds = 20

// BenchmarkSwarm60 is one core's share of the swarm sweep of
// testdata/sweeps/swarm-60s.json (3 Lites, 60 s of writes, the swarm's
// fault mix of each seed), run as a sweep runs it: ms/seed is the wall
// time of a seed, the figure that sizes a sweep.
func BenchmarkSwarm60(b *testing.B) {
	var frames uint64
	for i := 0; i < b.N; i++ {
		for seed := uint64(1); seed <= swarmSeeds; seed++ {
			p := swarmParams(seed)
			p.WriteFor = 60 * sim.Second
			p.Faults = faults.Swarm(seed, p.WriteFor, p.Lites)
			p.NoSeries = true // as a sweep runs
			r, err := Run(p)
			if err != nil {
				b.Fatal(err)
			}
			if !r.Pass() {
				b.Fatalf("seed %d: %v", seed, r.Violation)
			}
			frames += r.Counters.FramesDelivered
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N*swarmSeeds), "ms/seed")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(frames), "ns/frame")
}
