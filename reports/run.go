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
	// episodes caches wireThrottles (several figures draw them).
	episodes     map[int][]throttleEpisode
	episodesDone bool
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
	if r.Live != nil {
		for i := range figs {
			f := &figs[i]
			f.X.Label = strings.Replace(f.X.Label, "simulated time", "wall-clock time", 1)
			if f.ID == "lag" && r.Live.Mode == "lites" {
				// A fleet cannot see Origin: its Lites are measured against
				// the furthest of them.
				f.Title = strings.Replace(f.Title, "behind Origin", "behind the furthest Lite", 1)
				f.Y.Label = strings.Replace(f.Y.Label, "behind Origin's head", "behind the furthest Lite", 1)
			}
		}
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
// on, and returns the new axis minimum for a plot whose top is top. When
// the result records the wire, the bars are the throttle episodes the
// Throttle frames delivered to Origin make (what the checker holds
// Origin to), with a mark at each Throttle{on} (engage or renewal), each
// release and each lease expiry, and the series is not used.
func (d *runData) stripRows(f *Figure, name, legend string, top float64) float64 {
	rows := len(d.lites)
	if d.many() {
		rows = 1
	}
	height := top * 0.04 * float64(min(rows, 4)) // the strip area
	row := height / float64(rows)
	wire := d.wireThrottles()
	spans := func(id int) [][2]float64 {
		if wire == nil {
			return intervals(d.get(name, id), d.end)
		}
		var iv [][2]float64
		for _, ep := range wire[id] {
			iv = append(iv, [2]float64{ep.from, ep.to})
		}
		return iv
	}
	if wire != nil {
		legend = "throttle asked for (Throttle frames Origin received)"
	} else if note := ControlNote(d.r); note != "" {
		f.Note = strings.TrimSpace(f.Note + " The throttle strips are the Lites' own reports, not the wire: " + note + ".")
	}
	var on, off, lease [][2]float64
	marks := func(id int, y float64) {
		for _, ep := range wire[id] {
			for _, r := range ep.rates {
				on = append(on, [2]float64{r[0], y})
			}
			switch ep.end {
			case "release":
				off = append(off, [2]float64{ep.to, y})
			case "lease":
				lease = append(lease, [2]float64{ep.to, y})
			}
		}
	}
	any := false
	if d.many() {
		var all [][2]float64
		for _, id := range d.lites {
			all = append(all, spans(id)...)
			marks(id, -row*0.5)
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
			for _, iv := range spans(id) {
				f.Rects = append(f.Rects, Rect{Color: "throttle", X0: iv[0], X1: iv[1], Y0: y0, Y1: y1})
				any = true
			}
			marks(id, (y0+y1)/2)
		}
		if any {
			f.Legend = append(f.Legend, Key{Text: legend + " (bars below 0)", Color: "throttle", Kind: "fill"})
		}
	}
	markAll(f, "throttle", "triangle", on, fmt.Sprintf("Throttle{on} received: engage or renewal (%d)", len(on)))
	markAll(f, "release", "dot", off, fmt.Sprintf("Throttle{off} received: release (%d)", len(off)))
	markAll(f, "expiry", "cross", lease, fmt.Sprintf("lease ran out, not renewed (%d)", len(lease)))
	if !any {
		return 0 // no bars: no room kept for them
	}
	if !d.many() && len(d.lites) > 1 {
		f.Note = strings.TrimSpace(f.Note + " " + legend + ": one row of bars per Lite below 0, lite1 on top.")
	}
	return -height
}

// faultSpans adds the fault windows as spans, one per window (overlapping
// windows shade darker, not into one band), labelled with their node and
// parameters, and the instants; and their legend entries.
func (d *runData) faultSpans(f *Figure) {
	kinds := map[string]bool{}
	var kindOrder []string
	instants := 0
	for i, e := range d.r.Faults {
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
		label := kind + " " + nodeName(int(e.Node))
		if p := eventParams(d.r, i); p != "" {
			label += " (" + p + ")"
		}
		f.Spans = append(f.Spans, Span{Label: label, Color: "fault:" + kind, From: at, To: to})
		if !kinds[kind] {
			kinds[kind] = true
			kindOrder = append(kindOrder, kind)
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

// phaseRules marks heal, convergence and a violation as vertical lines
// (heal only when the run got that far).
func (d *runData) phaseRules(f *Figure) {
	r := d.r
	if r.HealS > 0 && r.HealS <= f.X.Max { // a run stopped early never reached heal
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

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (d *runData) lagFigure() Figure {
	f := Figure{ID: "lag", Title: "Lag behind Origin per Lite: " + d.name(), X: timeAxis(d.end)}
	top := d.perLite(&f, "lag", false)
	var req, ans [][2]float64
	for _, id := range d.lites {
		req = append(req, d.increases("resyncs_sent", id)...)
		ans = append(ans, d.increases("resyncs_answered", id)...)
	}
	markAll(&f, "resync", "triangle", req, fmt.Sprintf("ResyncRequest sent (%d samples)", len(req)))
	markAll(&f, "answered", "circle", ans, fmt.Sprintf("resync answered: re-send or snapshot (%d samples)", len(ans)))
	var snaps [][2]float64
	snapAt := d.snapshots()
	for _, id := range d.lites {
		for _, t := range snapAt[id] {
			// the lag just before the snapshot landed: where the drop starts
			snaps = append(snaps, [2]float64{t, valueAt(d.get("lag", id), t)})
		}
	}
	if len(snaps) > 0 {
		slices.SortStableFunc(snaps, func(a, b [2]float64) int { return cmpFloat(a[0], b[0]) })
		f.Marks = append(f.Marks, Marks{Color: "snapshot", Glyph: "square", Points: snaps})
		count := fmt.Sprint(len(snaps))
		if all, ok := SnapshotCount(d.r); ok && all > len(snaps) {
			count = fmt.Sprintf("%d of %d", len(snaps), all)
		}
		f.Legend = append(f.Legend, Key{Text: "ShapeSnapshot received (" + count + ")", Color: "snapshot", Kind: "square"})
		f.Note = strings.TrimSpace(f.Note + " Squares: a ShapeSnapshot reached the Lite (at subscribe, in answer to a ResyncRequest, or Origin's own fallback when a session's queue overflowed); the lag drops there.")
	}
	if end, ok := controlEnd(d.r); ok {
		f.Note = strings.TrimSpace(f.Note + fmt.Sprintf(" ShapeSnapshots are drawn to %s only: the wire record stops there (below).", secs(end)))
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
		why := "written by an older simrun"
		if d.r.Live != nil {
			why = "a live run: the Lites' queues are not visible from outside"
		}
		f.Note = strings.TrimSpace(f.Note + " The result does not record the queue's capacity and marks (" + why + ").")
	}
	d.finish(&f, "queue depth (deltas waiting)", top, "throttled", "throttle on")
	return f
}

func (d *runData) pushFigure() Figure {
	f := Figure{ID: "push-rate", Title: "Origin's push rate to each Lite: " + d.name(), X: timeAxis(d.end)}
	top := d.perLite(&f, "push_rate", false)
	if wire := d.wireThrottles(); wire != nil {
		top = math.Max(top, d.askedRates(&f, wire))
		if why := Explain(d.r); why != "" {
			f.Note = strings.TrimSpace(f.Note + " " + why)
		}
	} else {
		top = math.Max(top, d.suggestedRates(&f))
	}
	d.finish(&f, "deltas per second (Origin to Lite)", top, "origin_throttled", "Origin throttling")
	return f
}

// askedRates draws, per Lite, the rate its Throttle frames asked Origin
// for while the throttle held (from the frames Origin received, as the
// checker reads them) and the most a 100 ms average may show under the
// token bucket (rate plus burst and slack over the sampling step), and
// returns the largest value drawn.
func (d *runData) askedRates(f *Figure, wire map[int][]throttleEpisode) float64 {
	burst := 0.0
	if th := d.r.Throttle; th != nil {
		burst = th.Burst
	}
	slack := d.r.Throttle.SlackFrames()
	every := 0.1
	for _, s := range d.r.Series {
		if s.Name == "push_rate" && s.EveryS > 0 {
			every = s.EveryS
			break
		}
	}
	top, segs := 0.0, 0
	for i, id := range d.lites {
		color := "suggested"
		if !d.many() {
			color = liteColor(i)
		}
		for _, ep := range wire[id] {
			var pts, bound [][2]float64
			for _, r := range ep.rates {
				pts = append(pts, r)
				bound = append(bound, [2]float64{r[0], r[1] + (burst+slack)/every})
			}
			last := pts[len(pts)-1][1]
			pts = append(pts, [2]float64{ep.to, last})
			bound = append(bound, [2]float64{ep.to, last + (burst+slack)/every})
			f.Lines = append(f.Lines, Line{Color: color, Dash: true, Step: true, Points: pts})
			if burst > 0 {
				f.Lines = append(f.Lines, Line{Color: "throttle", Dash: true, Step: true, Points: bound})
			}
			for _, b := range bound {
				top = math.Max(top, b[1])
			}
			segs++
		}
	}
	if segs > 0 {
		color := "heal" // neutral: the dashes take each Lite's colour
		if d.many() {
			color = "suggested"
		}
		f.Legend = append(f.Legend, Key{Text: "rate asked for in Throttle frames (deltas/s)", Color: color, Kind: "dash"})
		if burst > 0 {
			f.Legend = append(f.Legend, Key{Text: fmt.Sprintf("bound on a %s average: rate + (burst %s + slack %s) / %s", secs(every), num(burst), num(slack), secs(every)), Color: "throttle", Kind: "dash"})
		}
		f.Note = strings.TrimSpace(f.Note + " The throttle drawn is the one asked for on the wire (Throttle frames Origin received, renewals and lease included), which the throttle-rate checker holds Origin to, not what Origin reports about itself.")
	}
	return top
}

// suggestedRates draws the suggested rate Origin reports it obeys while
// it throttles a session (results without a wire record).
func (d *runData) suggestedRates(f *Figure) float64 {
	top, segs := 0.0, 0
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
	return top
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
	params := map[string][]string{} // per kind, the distinct parameters drawn
	var kinds []string
	// Overlapping windows on one node get lanes of their own within its
	// row, so six overlapping slow-downs read as six, not as one bar.
	type win struct {
		node, lane int
		from, to   float64
	}
	var wins []win
	lanes := map[int][]float64{} // per node: where each lane is free from
	for i, e := range d.r.Faults {
		at, kind := e.At.Seconds(), string(e.Kind)
		node := int(e.Node)
		if node == 0 && e.Peer != 0 {
			node = int(e.Peer)
		}
		if p := eventParams(d.r, i); !slices.Contains(params[kind], p) {
			params[kind] = append(params[kind], p)
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
			lane := slices.IndexFunc(lanes[node], func(free float64) bool { return free <= at })
			if lane < 0 {
				lane = len(lanes[node])
				lanes[node] = append(lanes[node], 0)
			}
			lanes[node][lane] = to
			wins = append(wins, win{node, lane, at, to})
		}
		y := rowOf(node)
		if !windowKinds[kind] {
			f.Rects = append(f.Rects, Rect{Color: "fault:" + kind, X0: at, X1: to, Y0: y - 0.35, Y1: y + 0.35})
		} else {
			f.Rects = append(f.Rects, Rect{Color: "fault:" + kind, X0: at, X1: to}) // placed below, once the lanes are known
		}
		if count[kind] == 0 {
			kinds = append(kinds, kind)
		}
		count[kind]++
	}
	w := 0
	for i := range f.Rects {
		if f.Rects[i].Y0 != 0 || f.Rects[i].Y1 != 0 {
			continue
		}
		wn := wins[w]
		w++
		n := float64(len(lanes[wn.node]))
		h := 0.7 / n
		y0 := rowOf(wn.node) + 0.35 - h*float64(wn.lane+1)
		f.Rects[i].Y0, f.Rects[i].Y1 = y0+h*0.08, y0+h*0.92
	}
	for _, k := range kinds {
		kind := "tick"
		if windowKinds[k] {
			kind = "fill"
		}
		text := fmt.Sprintf("%s (%d)", k, count[k])
		if ps := params[k]; len(ps) == 1 && ps[0] != "" && windowKinds[k] {
			text = fmt.Sprintf("%s (%d, each %s)", k, count[k], ps[0])
		}
		f.Legend = append(f.Legend, Key{Text: text, Color: "fault:" + k, Kind: kind})
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
	if d.r.HealS > 0 && d.r.HealS <= f.X.Max {
		f.Rules = append(f.Rules, Rule{Color: "heal", Axis: "x", V: d.r.HealS, Dash: true})
		f.Legend = append(f.Legend, Key{Text: "heal at " + secs(d.r.HealS), Color: "heal", Kind: "dash"})
	}
	f.Note = "Each row is a node; a bar is a fault window (clipped at heal; overlapping windows in lanes of their own, each listed with its parameters in the table above), a tick an instant fault. Frame faults sit on the row of the Lite whose link they hit."
	return f
}

// markAll draws pts as marks with their legend entry (nothing when there
// are none).
func markAll(f *Figure, color, glyph string, pts [][2]float64, legend string) {
	if len(pts) == 0 {
		return
	}
	f.Marks = append(f.Marks, Marks{Color: color, Glyph: glyph, Points: pts})
	f.Legend = append(f.Legend, Key{Text: legend, Color: color, Kind: glyph})
}
