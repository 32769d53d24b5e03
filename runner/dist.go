package runner

import (
	"math"
	"slices"
)

// maxDistinct is how many distinct values a Dist holds exactly. Times to
// converge are multiples of the 100 ms sample interval, so a sweep rarely
// has more; past it, values are kept to 3 significant digits, which bounds
// the distinct values to a few thousand per decade.
const maxDistinct = 4096

// Dist is a distribution of one figure over a sweep's runs in memory that
// does not grow with the runs: a count per distinct value, exact up to
// maxDistinct values and to 3 significant digits after.
type Dist struct {
	counts map[float64]uint64
	n      uint64
	coarse bool
	max    float64
	sorted []float64 // distinct values, sorted; nil when stale
}

// Add counts one value.
func (d *Dist) Add(v float64) {
	if d.counts == nil {
		d.counts = map[float64]uint64{}
	}
	if d.n == 0 || v > d.max {
		d.max = v
	}
	d.n++
	if d.coarse {
		v = round3(v)
	}
	if _, ok := d.counts[v]; !ok {
		d.sorted = nil
	}
	d.counts[v]++
	if !d.coarse && len(d.counts) > maxDistinct {
		d.coarse = true
		old := d.counts
		d.counts = make(map[float64]uint64, len(old)/2)
		for k, c := range old {
			d.counts[round3(k)] += c
		}
		d.sorted = nil
	}
}

// N is the number of values counted.
func (d *Dist) N() uint64 { return d.n }

// Exact reports whether percentiles are exact (else to 3 significant
// digits).
func (d *Dist) Exact() bool { return !d.coarse }

// Max is the largest value counted, exactly (0 if none).
func (d *Dist) Max() float64 { return d.max }

// Pct is the nearest-rank percentile p (0..100) of the values, as Pct of
// the sorted values would be (0 if none).
func (d *Dist) Pct(p float64) float64 {
	if d.n == 0 {
		return 0
	}
	if d.sorted == nil {
		d.sorted = make([]float64, 0, len(d.counts))
		for v := range d.counts {
			d.sorted = append(d.sorted, v)
		}
		slices.Sort(d.sorted)
	}
	rank := uint64(max(1, math.Ceil(p/100*float64(d.n))))
	var seen uint64
	for _, v := range d.sorted {
		if seen += d.counts[v]; seen >= rank {
			return v
		}
	}
	return d.sorted[len(d.sorted)-1]
}

// round3 rounds v to 3 significant digits.
func round3(v float64) float64 {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return v
	}
	scale := math.Pow(10, math.Floor(math.Log10(math.Abs(v)))-2)
	return math.Round(v/scale) * scale
}
