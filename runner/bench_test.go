package runner

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/scenarios"
)

// sweepPeakHeap runs seeds 1..n of sc, writing the default JSON to a file
// as simrun sweep does, and returns the largest live heap seen (after a
// collection, every 250 runs) and the file's size.
func sweepPeakHeap(b *testing.B, sc *scenarios.Scenario, n uint64) (peak, fileBytes uint64) {
	b.Helper()
	tg := Of(sc)
	path := filepath.Join(b.TempDir(), "sweep.json")
	w, err := results.CreateSweep(path, results.Sweep{Scenario: sc.Name, Plan: &results.Plan{From: 1, Count: n, Shards: 1}}, false)
	if err != nil {
		b.Fatal(err)
	}
	tally := NewTally(sc)
	var ms runtime.MemStats
	sample := func() {
		runtime.GC()
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapAlloc)
	}
	sample()
	var done uint64
	Sweep(context.Background(), tg, results.Plan{From: 1, Count: n, Shards: 1}, SweepOptions{Workers: 2, Each: func(r results.Run) {
		tally.Add(r)
		if err := w.Add(r); err != nil {
			b.Fatal(err)
		}
		if done++; done%250 == 0 {
			sample()
		}
	}})
	sample()
	if err := w.Close(false); err != nil {
		b.Fatal(err)
	}
	if s := tally.Summary(); s.Runs != int(n) {
		b.Fatalf("%d runs tallied, want %d", s.Runs, n)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	return peak, uint64(st.Size())
}

// BenchmarkSweepMemory: a sweep's memory is flat in its number of seeds
// (budget: the live heap of 10,000 seeds at most 1.2 times that of 1,000),
// and its default JSON is small (budget: 2 KB per passing seed, on lossy,
// whose runs carry faults and marks). Run with:
//
//	go test -run '^$' -bench SweepMemory -benchtime 1x ./runner
func BenchmarkSweepMemory(b *testing.B) {
	tiny, err := scenarios.Parse("tiny", []byte(`{"name": "tiny", "lites": 1, "write_for": "200ms", "budget": "2s"}`))
	if err != nil {
		b.Fatal(err)
	}
	lossy, err := scenarios.Lookup("lossy")
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		small, _ := sweepPeakHeap(b, tiny, 1000)
		large, _ := sweepPeakHeap(b, tiny, 10000)
		ratio := float64(large) / float64(small)
		b.ReportMetric(float64(small)/(1<<20), "MB-heap-1k-seeds")
		b.ReportMetric(float64(large)/(1<<20), "MB-heap-10k-seeds")
		b.ReportMetric(ratio, "heap-ratio")
		if ratio > 1.2 {
			b.Errorf("the live heap of 10,000 seeds is %.2fx that of 1,000 (%d vs %d bytes): budget 1.2x", ratio, large, small)
		}
		const seeds = 200
		_, size := sweepPeakHeap(b, lossy, seeds)
		perSeed := float64(size) / seeds
		b.ReportMetric(perSeed, "json-bytes/seed")
		if perSeed > 2048 {
			b.Errorf("the default JSON takes %.0f bytes per passing lossy seed: budget 2048", perSeed)
		}
	}
}
