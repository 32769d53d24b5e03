package reports

import (
	"math"
	"strconv"
	"strings"
)

// Figure is one plot as plain data: what to draw, in data coordinates,
// with semantic colour names ("lite:2", "fault:partition", "heal") that the
// renderer maps to colours, and the legend spelled out. RunFigures and
// SweepFigures build figures from results; Render draws them with
// gonum/plot. The golden tests compare figures, not pixels.
type Figure struct {
	ID    string `json:"id"` // file name stem and HTML anchor: "lag", "queue", ...
	Title string `json:"title"`
	X     Axis   `json:"x"`
	Y     Axis   `json:"y"`
	// Spans are x intervals shaded over the full height (fault windows);
	// a span with From == To is an instant, drawn as a tick along the top.
	Spans []Span `json:"spans,omitempty"`
	// Rects are filled rectangles in data coordinates (throttle bands,
	// timeline entries, histogram bins). A rect with X0 == X1 is a tick.
	Rects []Rect  `json:"rects,omitempty"`
	Bands []Band  `json:"bands,omitempty"`
	Lines []Line  `json:"lines,omitempty"`
	Marks []Marks `json:"marks,omitempty"`
	Rules []Rule  `json:"rules,omitempty"`
	// Bars are horizontal bars, one value per Y category.
	Bars []Bars `json:"bars,omitempty"`
	// Legend is drawn beside the plot, in this order.
	Legend []Key `json:"legend"`
	// Note is a sentence shown under the figure in the HTML report.
	Note string `json:"note,omitempty"`
}

// Key is one legend entry: its text and a sample drawn as Kind: "line",
// "dash", "fill", "tick", "triangle" or "circle".
type Key struct {
	Text  string `json:"text"`
	Color string `json:"color"`
	Kind  string `json:"kind"`
}

// Axis is one axis: its label (with the unit), its range and its ticks.
type Axis struct {
	Label string  `json:"label"`
	Min   float64 `json:"min"`
	Max   float64 `json:"max"`
	Ticks []Tick  `json:"ticks"`
}

// Tick is a labelled axis tick.
type Tick struct {
	V     float64 `json:"v"`
	Label string  `json:"label"`
}

// Span is a shaded interval of x: a fault window or instant.
type Span struct {
	Label string  `json:"label,omitempty"` // drawn at the top of the window if it fits
	Color string  `json:"color"`
	From  float64 `json:"from"`
	To    float64 `json:"to"`
}

// Rect is a filled rectangle in data coordinates.
type Rect struct {
	Color string  `json:"color"`
	X0    float64 `json:"x0"`
	X1    float64 `json:"x1"`
	Y0    float64 `json:"y0"`
	Y1    float64 `json:"y1"`
}

// Band is a filled area between two curves sampled at the same xs.
type Band struct {
	Color string    `json:"color"`
	X     []float64 `json:"x"`
	Lo    []float64 `json:"lo"`
	Hi    []float64 `json:"hi"`
}

// Line is a polyline; Step draws it as a staircase (a value holds until
// the next point).
type Line struct {
	Color  string       `json:"color"`
	Dash   bool         `json:"dash,omitempty"`
	Step   bool         `json:"step,omitempty"`
	Points [][2]float64 `json:"points"`
}

// Marks are glyphs ("triangle", "circle") at points.
type Marks struct {
	Color  string       `json:"color"`
	Glyph  string       `json:"glyph"`
	Points [][2]float64 `json:"points"`
}

// Rule is a reference line across the plot: vertical at x = V (Axis "x")
// or horizontal at y = V (Axis "y").
type Rule struct {
	Color string  `json:"color"`
	Axis  string  `json:"axis"`
	V     float64 `json:"v"`
	Dash  bool    `json:"dash,omitempty"`
}

// Bars is one series of horizontal bars: Values[i] is the length of the
// bar in row i (labelled by the Y tick at i), written after it with Unit;
// a negative value is no value at all (drawn as "n/a", not as a zero).
// Several Bars share a row.
type Bars struct {
	Color  string    `json:"color"`
	Values []float64 `json:"values"`
	Unit   string    `json:"unit,omitempty"`
}

// timeAxis is the simulated-time axis from 0 to end seconds: seconds up to
// 5 minutes, minutes beyond, with 4 to 12 labelled ticks at round values.
func timeAxis(end float64) Axis {
	end = math.Max(end, 0.1)
	a := Axis{Label: "simulated time (s)", Min: 0, Max: end * 1.015} // room for a line at the end
	if end > 300 {
		a.Label = "simulated time (min)"
		step := pickStep(end, []float64{60, 120, 300, 600, 900, 1200, 1800, 3600, 7200, 10800}, 12)
		a.Ticks = ticks(0, end, step, func(v float64) string { return num(v / 60) })
		return a
	}
	step := niceStep(end, 12)
	a.Ticks = ticks(0, end, step, num)
	return a
}

// valueAxis is a linear axis from lo to at least hi with round ticks.
func valueAxis(label string, lo, hi float64) Axis {
	if !(hi > lo) {
		hi = lo + 1
	}
	step := niceStep(hi-lo, 8)
	top := math.Ceil(hi/step-1e-9) * step
	a := Axis{Label: label, Min: lo, Max: top}
	a.Ticks = ticks(math.Max(lo, 0), top, step, compact)
	return a
}

// niceStep is the smallest 1, 2 or 5 times a power of ten that divides
// span into at most max intervals.
func niceStep(span float64, max int) float64 {
	if !(span > 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(span/float64(max))))
	for {
		for _, m := range []float64{1, 2, 5} {
			if span/(m*p) <= float64(max)+1e-9 {
				return m * p
			}
		}
		p *= 10
	}
}

// pickStep is the first of steps that divides span into at most max
// intervals (or the last step).
func pickStep(span float64, steps []float64, max int) float64 {
	for _, s := range steps {
		if span/s <= float64(max)+1e-9 {
			return s
		}
	}
	return steps[len(steps)-1]
}

// ticks are labelled ticks at multiples of step in [lo, hi].
func ticks(lo, hi, step float64, label func(float64) string) []Tick {
	var out []Tick
	for i := math.Ceil(lo/step - 1e-9); i*step <= hi*(1+1e-9)+1e-12; i++ {
		v := i * step
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		out = append(out, Tick{V: round(v), Label: label(round(v))})
	}
	return out
}

// round removes floating-point dust (0.30000000000000004) from a tick.
func round(v float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 12, 64), 64)
	return r
}

// num formats a tick value with as few digits as it needs.
func num(v float64) string { return strconv.FormatFloat(round(v), 'f', -1, 64) }

// compact formats a count: 950, 12k, 1.5M.
func compact(v float64) string {
	switch a := math.Abs(v); {
	case a >= 1e6:
		return num(v/1e6) + "M"
	case a >= 1e4:
		return num(v/1e3) + "k"
	}
	return num(v)
}

// secs formats seconds for labels: "10.1s", "0.25s".
func secs(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	return s + "s"
}
