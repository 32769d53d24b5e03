package reports

import (
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/syncsim/syncsim/results"
)

// MaxLines is the most Lites drawn one line each; beyond it a plot shows
// the p50, p90 and max over the Lites at each sample instead.
const MaxLines = 8

// ErrNoSeries is returned (wrapped) for a run result without time series:
// a sweep's runs do not keep them.
var ErrNoSeries = errors.New("the result has no time series")

// ErrBadResult is returned (wrapped) for a result holding what no run can
// have written (see results.Run.Validate); it is refused, not drawn.
var ErrBadResult = errors.New("the result is not one simrun writes")

// Fault windows: the node faults that last a while, and how long. Every
// other fault is an instant. (faults.Injector.fire: windows end at heal at
// the latest; a clock skew lasts 5 s.)
var windowKinds = map[string]bool{
	"partition": true, "partition-oneway": true, "crash": true,
	"corrupt-durable": true, "slow-consumer": true, "clock-skew": true,
}

const clockSkewFor = 5.0 // seconds a clock-skew fault lasts

// runData is a run's series indexed by name and Lite.
type runData struct {
	r      *results.Run
	lites  []int // node ids with series, ascending
	series map[string]map[int][][2]float64
	end    float64
}

func newRunData(r *results.Run) (*runData, error) {
	if r == nil || len(r.Series) == 0 {
		return nil, fmt.Errorf("%w (a sweep keeps none; write one with simrun run -json FILE)", ErrNoSeries)
	}
	if err := r.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadResult, err)
	}
	d := &runData{r: r, series: map[string]map[int][][2]float64{}, end: r.EndS}
	seen := map[int]bool{}
	for _, s := range r.Series {
		if s.Node < 1 {
			continue // Lite series only; Origin has none today
		}
		if d.series[s.Name] == nil {
			d.series[s.Name] = map[int][][2]float64{}
		}
		d.series[s.Name][s.Node] = s.Points
		if !seen[s.Node] {
			seen[s.Node] = true
			d.lites = append(d.lites, s.Node)
		}
		if n := len(s.Points); n > 0 {
			d.end = math.Max(d.end, s.Points[n-1][0])
		}
	}
	if len(d.lites) == 0 {
		return nil, fmt.Errorf("%w for any Lite", ErrNoSeries)
	}
	sort.Ints(d.lites)
	return d, nil
}

func (d *runData) get(name string, lite int) [][2]float64 { return d.series[name][lite] }

// many reports whether the Lites are summarised rather than drawn one by
// one.
func (d *runData) many() bool { return len(d.lites) > MaxLines }

func liteColor(i int) string { return fmt.Sprintf("lite:%d", i%MaxLines+1) }

// RunFigures turns a run result into its figures: lag, queue depth, push
// rate and (when faults fired) the fault timeline.
func RunFigures(r *results.Run) ([]Figure, error) {
	d, err := newRunData(r)
	if err != nil {
		return nil, err
	}
	figs := []Figure{d.lagFigure(), d.queueFigure(), d.pushFigure()}
	if len(r.Faults) > 0 {
		figs = append(figs, d.faultFigure())
	}
	return figs, nil
}

func (d *runData) name() string { return fmt.Sprintf("%s seed %d", scenarioName(d.r), d.r.Seed) }

// scenarioName is the scenario's own name, or the base name of the file
// or name it was run as: a long path would not fit a title.
func scenarioName(r *results.Run) string {
	if n := r.DefinitionName(); n != "" {
		return n
	}
	return filepath.Base(r.Scenario)
}

// perLite adds one line per Lite of series name, or the p50/p90/max
// summary, to f and returns the largest value drawn.
func (d *runData) perLite(f *Figure, name string, step bool) float64 {
	top := 0.0
	if !d.many() {
		for i, id := range d.lites {
			pts := d.get(name, id)
			for _, p := range pts {
				top = math.Max(top, p[1])
			}
			f.Lines = append(f.Lines, Line{Color: liteColor(i), Step: step, Points: pts})
			f.Legend = append(f.Legend, Key{Text: fmt.Sprintf("lite%d", id), Color: liteColor(i), Kind: "line"})
		}
		return top
	}
	xs, p50, p90, pmax, pmin := d.percentiles(name)
	for _, v := range pmax {
		top = math.Max(top, v)
	}
	f.Bands = append(f.Bands, Band{Color: "range", X: xs, Lo: pmin, Hi: pmax})
	f.Lines = append(f.Lines,
		Line{Color: "p50", Step: step, Points: zip(xs, p50)},
		Line{Color: "p90", Step: step, Dash: true, Points: zip(xs, p90)},
		Line{Color: "max", Step: step, Points: zip(xs, pmax)})
	n := len(d.lites)
	f.Legend = append(f.Legend,
		Key{Text: fmt.Sprintf("median of %d Lites", n), Color: "p50", Kind: "line"},
		Key{Text: "p90 over Lites", Color: "p90", Kind: "dash"},
		Key{Text: "max over Lites", Color: "max", Kind: "line"},
		Key{Text: "min to max", Color: "range", Kind: "fill"})
	f.Note = fmt.Sprintf("%d Lites: drawn as the median, p90 and maximum over the Lites at each sample, not one line each.", n)
	return top
}

func zip(xs, ys []float64) [][2]float64 {
	out := make([][2]float64, len(xs))
	for i := range xs {
		out[i] = [2]float64{xs[i], ys[i]}
	}
	return out
}

// percentiles are, at each sample time of the first Lite, the nearest-rank
// p50 and p90, the max and the min of series name over the Lites (each
// Lite's value is its latest sample at or before that time).
func (d *runData) percentiles(name string) (xs, p50, p90, pmax, pmin []float64) {
	base := d.get(name, d.lites[0])
	vals := make([]float64, len(d.lites))
	for _, p := range base {
		t := p[0]
		for i, id := range d.lites {
			vals[i] = valueAt(d.get(name, id), t)
		}
		slices.Sort(vals)
		xs = append(xs, t)
		p50 = append(p50, nearestRank(vals, 50))
		p90 = append(p90, nearestRank(vals, 90))
		pmax = append(pmax, vals[len(vals)-1])
		pmin = append(pmin, vals[0])
	}
	return
}

// valueAt is the value of the last point at or before t (0 before the
// first).
func valueAt(pts [][2]float64, t float64) float64 {
	i := sort.Search(len(pts), func(i int) bool { return pts[i][0] > t })
	if i == 0 {
		return 0
	}
	return pts[i-1][1]
}

// nearestRank is the nearest-rank percentile of sorted values.
func nearestRank(sorted []float64, p float64) float64 {
	i := int(math.Ceil(p/100*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// intervals are the [from, to) stretches where a 0/1 series is 1; one
// still on at the last sample ends at end.
func intervals(pts [][2]float64, end float64) [][2]float64 {
	var out [][2]float64
	on, from := false, 0.0
	for _, p := range pts {
		switch {
		case p[1] >= 0.5 && !on:
			on, from = true, p[0]
		case p[1] < 0.5 && on:
			on = false
			out = append(out, [2]float64{from, p[0]})
		}
	}
	if on {
		out = append(out, [2]float64{from, math.Max(end, from)})
	}
	return out
}

// union merges overlapping or touching intervals.
func union(iv [][2]float64) [][2]float64 {
	iv = slices.Clone(iv)
	slices.SortFunc(iv, func(a, b [2]float64) int {
		switch {
		case a[0] < b[0]:
			return -1
		case a[0] > b[0]:
			return 1
		}
		return 0
	})
	var out [][2]float64
	for _, x := range iv {
		if n := len(out); n > 0 && x[0] <= out[n-1][1] {
			out[n-1][1] = math.Max(out[n-1][1], x[1])
			continue
		}
		out = append(out, x)
	}
	return out
}

// stripRows adds, below y = 0, one row of bars per Lite (or one row for
// all when summarised) over the intervals where the 0/1 series name is
// on, and returns the new axis minimum for a plot whose top is top.
func (d *runData) stripRows(f *Figure, name, legend string, top float64) float64 {
	rows := len(d.lites)
	if d.many() {
		rows = 1
	}
	height := top * 0.04 * float64(min(rows, 4)) // the strip area
	row := height / float64(rows)
	any := false
	if d.many() {
		var all [][2]float64
		for _, id := range d.lites {
			all = append(all, intervals(d.get(name, id), d.end)...)
		}
		for _, iv := range union(all) {
			f.Rects = append(f.Rects, Rect{Color: "throttle", X0: iv[0], X1: iv[1], Y0: -row * 0.85, Y1: -row * 0.15})
			any = true
		}
		if any {
			f.Legend = append(f.Legend, Key{Text: legend + " (any Lite; bar below 0)", Color: "throttle", Kind: "fill"})
		}
	} else {
		for i, id := range d.lites {
			y1 := -row * (float64(i) + 0.15)
			y0 := -row * (float64(i) + 0.85)
			for _, iv := range intervals(d.get(name, id), d.end) {
				f.Rects = append(f.Rects, Rect{Color: "throttle", X0: iv[0], X1: iv[1], Y0: y0, Y1: y1})
				any = true
			}
		}
		if any {
			f.Legend = append(f.Legend, Key{Text: legend + " (bars below 0)", Color: "throttle", Kind: "fill"})
		}
	}
	if !any {
		return 0 // no bars: no room kept for them
	}
	if !d.many() && len(d.lites) > 1 {
		f.Note = strings.TrimSpace(f.Note + " " + legend + ": one row of bars per Lite below 0, lite1 on top.")
	}
	return -height
}

// faultWindows are the fault windows (merged per kind and node) as spans
// with labels, and the instants; it adds their legend entries to f.
func (d *runData) faultSpans(f *Figure) {
	type key struct {
		kind string
		node int
	}
	wins := map[key][][2]float64{}
	var order []key
	kinds := map[string]bool{}
	var kindOrder []string
	instants := 0
	for _, e := range d.r.Faults {
		at, kind := e.At.Seconds(), string(e.Kind)
		if !windowKinds[kind] {
			f.Spans = append(f.Spans, Span{Color: "fault:instant", From: at, To: at})
			instants++
			continue
		}
		dur := e.For.Seconds()
		if kind == "clock-skew" {
			dur = clockSkewFor
		}
		to := at + dur
		if d.r.HealS > 0 {
			to = math.Min(to, math.Max(d.r.HealS, at))
		}
		k := key{kind, int(e.Node)}
		if wins[k] == nil {
			order = append(order, k)
		}
		wins[k] = append(wins[k], [2]float64{at, to})
		if !kinds[kind] {
			kinds[kind] = true
			kindOrder = append(kindOrder, kind)
		}
	}
	for _, k := range order {
		for _, iv := range union(wins[k]) {
			f.Spans = append(f.Spans, Span{Label: k.kind + " " + nodeName(k.node), Color: "fault:" + k.kind, From: iv[0], To: iv[1]})
		}
	}
	// Windows first, sorted by start, so labels are placed left to right.
	slices.SortStableFunc(f.Spans, func(a, b Span) int {
		ai, bi := a.From == a.To, b.From == b.To
		switch {
		case ai != bi && ai:
			return 1
		case ai != bi:
			return -1
		case a.From < b.From:
			return -1
		case a.From > b.From:
			return 1
		}
		return 0
	})
	for _, k := range kindOrder {
		f.Legend = append(f.Legend, Key{Text: k + " window", Color: "fault:" + k, Kind: "fill"})
	}
	if instants > 0 {
		f.Legend = append(f.Legend, Key{Text: fmt.Sprintf("%d instant faults (ticks at top)", instants), Color: "fault:instant", Kind: "tick"})
	}
}

func nodeName(n int) string {
	if n == 0 {
		return "origin"
	}
	return fmt.Sprintf("lite%d", n)
}

// phaseRules marks heal, convergence and a violation as vertical lines.
func (d *runData) phaseRules(f *Figure) {
	r := d.r
	if r.HealS > 0 {
		f.Rules = append(f.Rules, Rule{Color: "heal", Axis: "x", V: r.HealS, Dash: true})
		f.Legend = append(f.Legend, Key{Text: "heal at " + secs(r.HealS), Color: "heal", Kind: "dash"})
	}
	if r.ConvergeAfter != nil {
		at := r.HealS + *r.ConvergeAfter
		f.Rules = append(f.Rules, Rule{Color: "converged", Axis: "x", V: at})
		f.Legend = append(f.Legend, Key{Text: fmt.Sprintf("converged at %s (heal + %s)", secs(at), secs(*r.ConvergeAfter)), Color: "converged", Kind: "line"})
	}
	if v := r.Violation; v != nil {
		f.Rules = append(f.Rules, Rule{Color: "violation", Axis: "x", V: v.AtS})
		f.Legend = append(f.Legend, Key{Text: fmt.Sprintf("%s violated at %s", v.Property, secs(v.AtS)), Color: "violation", Kind: "line"})
	}
}

// increases are the sample times at which a cumulative count went up,
// with the Lite's lag there as y.
func (d *runData) increases(name string, id int) [][2]float64 {
	var out [][2]float64
	pts := d.get(name, id)
	lag := d.get("lag", id)
	for i := 1; i < len(pts); i++ {
		if pts[i][1] > pts[i-1][1] {
			out = append(out, [2]float64{pts[i][0], valueAt(lag, pts[i][0])})
		}
	}
	return out
}

func (d *runData) lagFigure() Figure {
	f := Figure{ID: "lag", Title: "Lag behind Origin per Lite: " + d.name(), X: timeAxis(d.end)}
	top := d.perLite(&f, "lag", false)
	var req, ans [][2]float64
	for _, id := range d.lites {
		req = append(req, d.increases("resyncs_sent", id)...)
		ans = append(ans, d.increases("resyncs_answered", id)...)
	}
	if len(req) > 0 {
		f.Marks = append(f.Marks, Marks{Color: "resync", Glyph: "triangle", Points: req})
		f.Legend = append(f.Legend, Key{Text: fmt.Sprintf("ResyncRequest sent (%d samples)", len(req)), Color: "resync", Kind: "triangle"})
	}
	if len(ans) > 0 {
		f.Marks = append(f.Marks, Marks{Color: "answered", Glyph: "circle", Points: ans})
		f.Legend = append(f.Legend, Key{Text: fmt.Sprintf("resync answered (%d samples)", len(ans)), Color: "answered", Kind: "circle"})
	}
	d.finish(&f, "lag (LSNs behind Origin's head, all collections)", top, "throttled", "throttle on")
	return f
}

// finish gives a time figure its value axis (up to top, with headroom),
// the strip of the state series stripName labelled label below it, the
// heal and convergence rules and the fault windows.
func (d *runData) finish(f *Figure, yLabel string, top float64, stripName, label string) {
	f.Y = valueAxis(yLabel, 0, math.Max(top*1.05, 1))
	f.Y.Min = d.stripRows(f, stripName, label, f.Y.Max)
	d.phaseRules(f)
	d.faultSpans(f)
}

func (d *runData) queueFigure() Figure {
	f := Figure{ID: "queue", Title: "Incoming queue depth per Lite: " + d.name(), X: timeAxis(d.end)}
	top := d.perLite(&f, "queue_depth", false)
	if q := d.r.Queue; q != nil {
		f.Rules = append(f.Rules,
			Rule{Color: "capacity", Axis: "y", V: float64(q.Capacity)},
			Rule{Color: "high", Axis: "y", V: float64(q.High), Dash: true},
			Rule{Color: "low", Axis: "y", V: float64(q.Low), Dash: true})
		f.Legend = append(f.Legend,
			Key{Text: fmt.Sprintf("capacity %d", q.Capacity), Color: "capacity", Kind: "line"},
			Key{Text: fmt.Sprintf("high mark %d (throttle on)", q.High), Color: "high", Kind: "dash"},
			Key{Text: fmt.Sprintf("low mark %d (throttle off)", q.Low), Color: "low", Kind: "dash"})
		top = math.Max(top, float64(q.Capacity))
	} else {
		f.Note = strings.TrimSpace(f.Note + " The result does not record the queue's capacity and marks (written by an older simrun).")
	}
	d.finish(&f, "queue depth (deltas waiting)", top, "throttled", "throttle on")
	return f
}

func (d *runData) pushFigure() Figure {
	f := Figure{ID: "push-rate", Title: "Origin's push rate to each Lite: " + d.name(), X: timeAxis(d.end)}
	top := d.perLite(&f, "push_rate", false)
	// The suggested rate, only while Origin throttles the session.
	segs := 0
	for i, id := range d.lites {
		on := d.get("origin_throttled", id)
		rate := d.get("throttle_rate", id)
		color := "suggested"
		if !d.many() {
			color = liteColor(i)
		}
		var cur [][2]float64
		flush := func() {
			if len(cur) > 0 {
				f.Lines = append(f.Lines, Line{Color: color, Dash: true, Step: true, Points: cur})
				segs++
			}
			cur = nil
		}
		for j, p := range on {
			if p[1] < 0.5 {
				flush()
				continue
			}
			v := valueAt(rate, p[0])
			if j < len(rate) && rate[j][0] == p[0] {
				v = rate[j][1]
			}
			top = math.Max(top, v)
			cur = append(cur, [2]float64{p[0], v})
		}
		flush()
	}
	if segs > 0 {
		color := "heal" // neutral: the dashes take each Lite's colour
		if d.many() {
			color = "suggested"
		}
		f.Legend = append(f.Legend, Key{Text: "suggested rate while throttled", Color: color, Kind: "dash"})
	}
	d.finish(&f, "deltas per second (Origin to Lite)", top, "origin_throttled", "Origin throttling")
	return f
}

// faultFigure is the fault timeline: one row per node, a bar per window, a
// tick per instant fault, coloured by kind. Frame faults go on the Lite's
// row (the receiver of Origin's frames, the sender of its own).
func (d *runData) faultFigure() Figure {
	f := Figure{ID: "faults", Title: "Fault timeline: " + d.name(), X: timeAxis(d.end)}
	nodes := d.lites[len(d.lites)-1]
	for _, e := range d.r.Faults {
		nodes = max(nodes, int(e.Node), int(e.Peer))
	}
	// Row of node n: Origin on top (row nodes), lite1 below it, ...
	rowOf := func(n int) float64 {
		if n == 0 {
			return float64(nodes)
		}
		return float64(nodes - n)
	}
	count := map[string]int{}
	var kinds []string
	for _, e := range d.r.Faults {
		at, kind := e.At.Seconds(), string(e.Kind)
		node := int(e.Node)
		if node == 0 && e.Peer != 0 {
			node = int(e.Peer)
		}
		to := at
		if windowKinds[kind] {
			dur := e.For.Seconds()
			if kind == "clock-skew" {
				dur = clockSkewFor
			}
			to = at + dur
			if d.r.HealS > 0 {
				to = math.Min(to, math.Max(d.r.HealS, at))
			}
		}
		y := rowOf(node)
		f.Rects = append(f.Rects, Rect{Color: "fault:" + kind, X0: at, X1: to, Y0: y - 0.35, Y1: y + 0.35})
		if count[kind] == 0 {
			kinds = append(kinds, kind)
		}
		count[kind]++
	}
	for _, k := range kinds {
		kind := "tick"
		if windowKinds[k] {
			kind = "fill"
		}
		f.Legend = append(f.Legend, Key{Text: fmt.Sprintf("%s (%d)", k, count[k]), Color: "fault:" + k, Kind: kind})
	}
	every := max(1, (nodes+1+15)/16) // at most 16 row labels
	f.Y = Axis{Label: "node", Min: -0.6, Max: float64(nodes) + 0.6}
	for n := 0; n <= nodes; n++ {
		if n == 0 || n%every == 0 || n == nodes {
			f.Y.Ticks = append(f.Y.Ticks, Tick{V: rowOf(n), Label: nodeName(n)})
		}
	}
	slices.SortFunc(f.Y.Ticks, func(a, b Tick) int {
		switch {
		case a.V < b.V:
			return -1
		case a.V > b.V:
			return 1
		}
		return 0
	})
	if d.r.HealS > 0 {
		f.Rules = append(f.Rules, Rule{Color: "heal", Axis: "x", V: d.r.HealS, Dash: true})
		f.Legend = append(f.Legend, Key{Text: "heal at " + secs(d.r.HealS), Color: "heal", Kind: "dash"})
	}
	f.Note = "Each row is a node; a bar is a fault window (clipped at heal), a tick an instant fault. Frame faults sit on the row of the Lite whose link they hit."
	return f
}
