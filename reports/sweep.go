package reports

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/syncsim/syncsim/results"
)

// ErrNoRuns is returned (wrapped) for a sweep result without runs.
var ErrNoRuns = errors.New("the sweep has no runs")

// convergeTimes are the passing runs' times from heal to convergence,
// ascending.
func convergeTimes(s *results.Sweep) []float64 {
	var v []float64
	for _, r := range s.Runs {
		if r.Pass && r.ConvergeAfter != nil {
			v = append(v, *r.ConvergeAfter)
		}
	}
	slices.Sort(v)
	return v
}

// failProperty is the property a failed run broke ("unknown" if none is
// recorded).
func failProperty(r *results.Run) string {
	if r.Violation != nil && r.Violation.Property != "" {
		return r.Violation.Property
	}
	return "unknown"
}

// SweepFigures turns a sweep result into its figures: the distribution of
// time to converge (histogram and CDF), failures by property (and
// scenario), runs and failures by fault kind, and simulated seconds per
// wall second per run. Figures with nothing to show are left out.
func SweepFigures(s *results.Sweep) ([]Figure, error) {
	if s == nil || len(s.Runs) == 0 {
		return nil, ErrNoRuns
	}
	if err := s.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadResult, err)
	}
	var figs []Figure
	if conv := convergeTimes(s); len(conv) > 0 {
		figs = append(figs, histFigure(conv), cdfFigure(conv))
	}
	if f, ok := failureFigure(s); ok {
		figs = append(figs, f)
	}
	if f, ok := violationFigure(s); ok {
		figs = append(figs, f)
	}
	if f, ok := faultKindFigure(s); ok {
		figs = append(figs, f)
	}
	if f, ok := speedFigure(s); ok {
		figs = append(figs, f)
	}
	return figs, nil
}

func percentileRules(f *Figure, conv []float64) {
	for _, p := range []struct {
		name  string
		pct   float64
		color string
	}{{"p50", 50, "p50"}, {"p90", 90, "p90"}, {"p99", 99, "p99"}} {
		v := nearestRank(conv, p.pct)
		f.Rules = append(f.Rules, Rule{Color: p.color, Axis: "x", V: v, Dash: p.name != "p50"})
		kind := "dash"
		if p.name == "p50" {
			kind = "line"
		}
		f.Legend = append(f.Legend, Key{Text: p.name + " " + secs(v), Color: p.color, Kind: kind})
	}
}

// histFigure bins the convergence times into at most 24 bins of a round
// width, at least the 0.1 s the cluster samples at (so times, which are
// multiples of it, do not leave empty bins between them), each centred on
// a multiple of the width.
func histFigure(conv []float64) Figure {
	top := conv[len(conv)-1]
	width := math.Max(niceStep(math.Max(top, 0.1), 24), 0.1)
	n := int(math.Floor(top/width+0.5)) + 1
	counts := make([]float64, n)
	for _, v := range conv {
		counts[min(n-1, max(0, int(math.Floor(v/width+0.5))))]++
	}
	f := Figure{ID: "converge-hist", Title: fmt.Sprintf("Time to converge after heal: %d passing runs", len(conv))}
	most := 0.0
	for i, c := range counts {
		if c > 0 {
			mid := float64(i) * width
			f.Rects = append(f.Rects, Rect{Color: "runs", X0: round(mid - width/2), X1: round(mid + width/2), Y0: 0, Y1: c})
		}
		most = math.Max(most, c)
	}
	f.Legend = append(f.Legend, Key{Text: "runs per " + secs(width) + " bin", Color: "runs", Kind: "fill"})
	f.X = valueAxis("time from heal to convergence (simulated s)", 0, (float64(n)-0.5)*width)
	f.X.Min = -width / 2
	f.Y = valueAxis("runs", 0, most*1.05)
	percentileRules(&f, conv)
	return f
}

// cdfFigure is the empirical distribution: the fraction of passing runs
// converged within x seconds of heal.
func cdfFigure(conv []float64) Figure {
	f := Figure{ID: "converge-cdf", Title: fmt.Sprintf("Time to converge after heal, cumulative: %d passing runs", len(conv))}
	n := float64(len(conv))
	pts := [][2]float64{{0, 0}}
	for i, v := range conv {
		if i+1 < len(conv) && conv[i+1] == v {
			continue // one step per distinct value
		}
		pts = append(pts, [2]float64{v, float64(i+1) / n})
	}
	f.X = valueAxis("time from heal to convergence (simulated s)", 0, math.Max(conv[len(conv)-1]*1.05, 0.1))
	pts = append(pts, [2]float64{f.X.Max, 1})
	f.Lines = append(f.Lines, Line{Color: "runs", Step: true, Points: pts})
	f.Legend = append(f.Legend, Key{Text: "fraction converged within x", Color: "runs", Kind: "line"})
	f.Y = Axis{Label: "fraction of passing runs", Min: 0, Max: 1, Ticks: ticks(0, 1, 0.2, num)}
	percentileRules(&f, conv)
	return f
}

// category is a bar chart row.
type category struct {
	name   string
	values []float64
}

// barAxis lays out categories as rows, the first at the top, and returns
// the Y axis and each Bars' values in row order.
func barAxis(cats []category, sets int) (Axis, [][]float64) {
	n := len(cats)
	a := Axis{Min: -0.6, Max: float64(n) - 0.4}
	vals := make([][]float64, sets)
	for k := range vals {
		vals[k] = make([]float64, n)
	}
	for i, c := range cats {
		row := n - 1 - i
		for k := range sets {
			vals[k][row] = c.values[k]
		}
	}
	for row := 0; row < n; row++ {
		a.Ticks = append(a.Ticks, Tick{V: float64(row), Label: cats[n-1-row].name})
	}
	return a, vals
}

func sortCats(cats []category) {
	slices.SortStableFunc(cats, func(a, b category) int {
		if a.values[0] != b.values[0] {
			if a.values[0] > b.values[0] {
				return -1
			}
			return 1
		}
		return strings.Compare(a.name, b.name)
	})
}

// failureFigure counts failed runs by property, and by scenario too when
// the sweep holds more than one.
func failureFigure(s *results.Sweep) (Figure, bool) {
	scen := map[string]bool{}
	for _, r := range s.Runs {
		scen[r.Scenario] = true
	}
	count := map[string]float64{}
	for i := range s.Runs {
		r := &s.Runs[i]
		if r.Pass {
			continue
		}
		name := failProperty(r)
		if len(scen) > 1 {
			name = r.Scenario + ": " + name
		}
		count[name]++
	}
	if len(count) == 0 {
		return Figure{}, false
	}
	var cats []category
	for name, c := range count {
		cats = append(cats, category{name, []float64{c}})
	}
	sortCats(cats)
	f := Figure{ID: "failures", Title: fmt.Sprintf("Failed runs by property violated (%d of %d runs failed)", failedRuns(s), len(s.Runs))}
	var vals [][]float64
	f.Y, vals = barAxis(cats, 1)
	f.Y.Label = "property"
	if len(scen) > 1 {
		f.Y.Label = "scenario: property"
	}
	f.Bars = []Bars{{Color: "failed", Values: vals[0]}}
	f.Legend = []Key{{Text: "failed runs", Color: "failed", Kind: "fill"}}
	f.X = valueAxis("runs", 0, cats[0].values[0]*1.05)
	return f, true
}

func failedRuns(s *results.Sweep) int {
	n := 0
	for _, r := range s.Runs {
		if !r.Pass {
			n++
		}
	}
	return n
}

// faultKindFigure sets, per fault kind, the failure rate of the runs in
// which it fired against that of the runs in which it did not, with the
// sweep's overall failure rate as the baseline: a kind present in every
// failure but failing no more often than the runs without it is no lead.
func faultKindFigure(s *results.Sweep) (Figure, bool) {
	runs := map[string]float64{}
	failed := map[string]float64{}
	fails := 0.0
	for i := range s.Runs {
		r := &s.Runs[i]
		if !r.Pass {
			fails++
		}
		for kind, n := range r.FaultCounts() {
			if n == 0 {
				continue
			}
			runs[kind]++
			if !r.Pass {
				failed[kind]++
			}
		}
	}
	if len(runs) == 0 {
		return Figure{}, false
	}
	total := float64(len(s.Runs))
	base := 100 * fails / total
	var cats []category
	pct := func(a, b float64) float64 { return math.Round(1000*a/b) / 10 }
	for k, n := range runs {
		without, rest := -1.0, total-n // -1: no runs without it
		if rest > 0 {
			without = pct(fails-failed[k], rest)
		}
		name := fmt.Sprintf("%s (fired in %d of %d runs: %d failed; without it %d of %d)", k, int(n), int(total), int(failed[k]), int(fails-failed[k]), int(rest))
		cats = append(cats, category{name, []float64{pct(failed[k], n), without, n}})
	}
	sortCats(cats)
	f := Figure{ID: "fault-kinds", Title: fmt.Sprintf("Failure rate by fault kind, against the runs without it (baseline %s%% of %d runs)", num(math.Round(base*10)/10), int(total))}
	var vals [][]float64
	f.Y, vals = barAxis(cats, 3)
	f.Y.Label = "fault kind"
	f.Bars = []Bars{{Color: "failed", Values: vals[0], Unit: "%"}, {Color: "baseline", Values: vals[1], Unit: "%"}}
	f.Rules = []Rule{{Color: "p90", Axis: "x", V: base, Dash: true}}
	f.Legend = []Key{{Text: "failure rate of runs in which it fired", Color: "failed", Kind: "fill"},
		{Text: "failure rate of runs in which it did not", Color: "baseline", Kind: "fill"},
		{Text: fmt.Sprintf("baseline: all runs (%s%%)", num(math.Round(base*10)/10)), Color: "p90", Kind: "dash"}}
	f.X = Axis{Label: "failed runs (%)", Min: 0, Max: 105, Ticks: ticks(0, 100, 20, num)}
	notes := []string{"A kind whose bar is no longer than the baseline and than the runs without it is not a lead: correlation across runs that all fail for another reason (a planted bug, say) is no cause."}
	for _, c := range cats {
		if c.values[2] == total {
			notes = append(notes, "A kind that fired in every run has no runs without it to compare with (n/a): its rate is the baseline by construction.")
			break
		}
	}
	if fails == total {
		notes = append(notes, "Every run failed, so no fault kind can explain the failures; shrink a failure to find its cause.")
	}
	f.Note = strings.Join(notes, " ")
	return f, true
}

// violationFigure is, per property, the fraction of the runs that broke
// it which had broken it by time x: when failures start, for a sweep in
// which there may be no convergence to plot.
func violationFigure(s *results.Sweep) (Figure, bool) {
	at := map[string][]float64{}
	for i := range s.Runs {
		r := &s.Runs[i]
		if r.Pass || r.Violation == nil || r.Violation.Property == "error" {
			continue
		}
		p := failProperty(r)
		at[p] = append(at[p], r.Violation.AtS)
	}
	if len(at) == 0 {
		return Figure{}, false
	}
	var props []string
	for p := range at {
		props = append(props, p)
	}
	slices.Sort(props)
	f := Figure{ID: "violation-times", Title: "Time to the first violation, per property (failed runs)"}
	top := 0.0
	for i, p := range props {
		ts := at[p]
		slices.Sort(ts)
		n := float64(len(ts))
		pts := [][2]float64{{0, 0}}
		for j, v := range ts {
			if j+1 < len(ts) && ts[j+1] == v {
				continue
			}
			pts = append(pts, [2]float64{v, float64(j+1) / n})
		}
		top = math.Max(top, ts[len(ts)-1])
		f.Lines = append(f.Lines, Line{Color: liteColor(i), Step: true, Points: pts})
		f.Legend = append(f.Legend, Key{Text: fmt.Sprintf("%s: %d runs, median %s, max %s", p, len(ts), secs(nearestRank(ts, 50)), secs(ts[len(ts)-1])), Color: liteColor(i), Kind: "line"})
	}
	f.X = valueAxis("simulated time of the violation (s)", 0, math.Max(top*1.05, 0.1))
	for i := range f.Lines {
		f.Lines[i].Points = append(f.Lines[i].Points, [2]float64{f.X.Max, 1})
	}
	f.Y = Axis{Label: "fraction of the runs that broke it", Min: 0, Max: 1, Ticks: ticks(0, 1, 0.2, num)}
	f.Note = "Each line is one property: the share of the runs that broke it which had done so by time x. A step at one time means the runs fail the same way."
	return f, true
}

// speedFigure is simulated seconds per wall-clock second for each run
// that recorded its wall time, by seed.
func speedFigure(s *results.Sweep) (Figure, bool) {
	var pts [][2]float64
	var speeds []float64
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, r := range s.Runs {
		if r.WallS <= 0 || r.EndS <= 0 {
			continue
		}
		v := r.EndS / r.WallS
		pts = append(pts, [2]float64{float64(r.Seed), v})
		speeds = append(speeds, v)
		lo, hi = math.Min(lo, float64(r.Seed)), math.Max(hi, float64(r.Seed))
	}
	if len(pts) == 0 {
		return Figure{}, false
	}
	slices.Sort(speeds)
	f := Figure{ID: "speed", Title: fmt.Sprintf("Simulated seconds per wall-clock second, per run (%d runs)", len(pts))}
	f.Marks = []Marks{{Color: "runs", Glyph: "circle", Points: pts}}
	med := nearestRank(speeds, 50)
	f.Rules = []Rule{{Color: "p50", Axis: "y", V: med, Dash: true}}
	f.Legend = []Key{{Text: "one run", Color: "runs", Kind: "circle"}, {Text: "median " + num(math.Round(med)) + " sim-s/s", Color: "p50", Kind: "dash"}}
	span := math.Max(hi-lo, 1)
	step := niceStep(span, 10)
	f.X = Axis{Label: "seed", Min: lo - span*0.02, Max: hi + span*0.02, Ticks: ticks(math.Ceil(lo/step)*step, hi, step, num)}
	if len(f.X.Ticks) < 2 {
		f.X.Ticks = []Tick{{V: lo, Label: num(lo)}, {V: hi, Label: num(hi)}}
		if lo == hi {
			f.X.Ticks = f.X.Ticks[:1]
		}
	}
	f.Y = valueAxis("simulated s per wall s", 0, speeds[len(speeds)-1]*1.1)
	f.Note = "Wall-clock figures depend on the machine and its load; everything else in this report is a function of scenario and seed."
	return f, true
}
