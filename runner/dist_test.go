package runner

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// Up to maxDistinct values a Dist's percentiles are those of the sorted
// values; past it, within 3 significant digits, with its memory bounded.
func TestDist(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var d Dist
	var all []float64
	for i := 0; i < 20000; i++ {
		v := float64(r.IntN(300)) / 10 // a time to converge: 100 ms steps
		d.Add(v)
		all = append(all, v)
	}
	slices.Sort(all)
	for _, p := range []float64{0, 1, 50, 90, 99, 99.9, 100} {
		if got, want := d.Pct(p), pct(all, p); got != want {
			t.Errorf("p%g = %g, sorted values give %g", p, got, want)
		}
	}
	if !d.Exact() || d.Max() != all[len(all)-1] || d.N() != 20000 {
		t.Errorf("exact %v max %g n %d", d.Exact(), d.Max(), d.N())
	}
	var c Dist
	all = all[:0]
	for i := 0; i < 200000; i++ {
		v := r.ExpFloat64() * 3
		c.Add(v)
		all = append(all, v)
	}
	slices.Sort(all)
	if c.Exact() || len(c.counts) > 20000 {
		t.Fatalf("coarse %v, %d distinct values kept", !c.Exact(), len(c.counts))
	}
	for _, p := range []float64{50, 90, 99} {
		if got, want := c.Pct(p), pct(all, p); math.Abs(got-want) > 0.005*want {
			t.Errorf("coarse p%g = %g, sorted values give %g", p, got, want)
		}
	}
	if c.Max() != all[len(all)-1] {
		t.Errorf("max %g, want %g exactly", c.Max(), all[len(all)-1])
	}
	var empty Dist
	if empty.Pct(50) != 0 || empty.N() != 0 {
		t.Error("empty")
	}
}

// pct is the nearest-rank percentile p (0..100) of sorted values: the
// definition Dist must agree with, computed the plain way.
func pct(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

func TestPctReference(t *testing.T) {
	if pct([]float64{1, 2, 3, 4}, 50) != 2 || pct([]float64{1, 2, 3, 4}, 100) != 4 || pct(nil, 50) != 0 {
		t.Error("pct")
	}
}
