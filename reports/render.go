package reports

import (
	"bytes"
	"fmt"
	"image/color"
	"io"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Figure sizes, in points (1 pt = 4/3 CSS px): 720 pt is 960 px wide.
const (
	figWidth  vg.Length = 720
	figHeight vg.Length = 330
	pngDPI              = 144 // 2x for sharp text on high-density screens
)

// The one typeface of every figure; the HTML report embeds it so that a
// browser draws text with the metrics gonum measured.
var (
	sans      = font.Font{Typeface: "Liberation", Variant: "Sans"}
	fontTitle = 11.0
	fontAxis  = 9.5
	fontSmall = 8.0
)

func style(size float64, clr color.Color) text.Style {
	return text.Style{Color: clr, Font: font.From(sans, vg.Length(size)), Handler: plot.DefaultTextHandler}
}

func rgb(hex string, alpha uint8) color.NRGBA {
	v, _ := strconv.ParseUint(strings.TrimPrefix(hex, "#"), 16, 32)
	return color.NRGBA{R: uint8(v >> 16), G: uint8(v >> 8), B: uint8(v), A: alpha}
}

// liteColors tell up to 8 Lites apart (Okabe and Ito's palette, which
// colour-blind readers can also tell apart, plus grey).
var liteColors = []string{"#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#999999"}

// faultColors give each fault kind with a window its own colour.
var faultColors = map[string]string{
	"partition": "#D55E00", "partition-oneway": "#E69F00", "crash": "#CC0000",
	"corrupt-durable": "#8B0000", "slow-consumer": "#0072B2", "clock-skew": "#009E73",
	"reset": "#333333", "burst": "#56B4E9",
}

var namedColors = map[string]string{
	"p50": "#0072B2", "p90": "#D55E00", "p99": "#CC79A7", "max": "#000000", "range": "#56B4E9",
	"heal": "#555555", "converged": "#009E73", "violation": "#CC0000",
	"resync": "#D55E00", "answered": "#0072B2", "throttle": "#7B3294",
	"capacity": "#000000", "high": "#CC0000", "low": "#009E73", "suggested": "#7B3294",
	"runs": "#0072B2", "failed": "#CC0000", "fault:instant": "#666666",
	"snapshot": "#009E73", "release": "#009E73", "expiry": "#000000", "baseline": "#555555",
}

// colorOf maps a figure's colour name to a colour; fill is true for
// areas, which are drawn translucent.
func colorOf(name string, alpha uint8) color.Color {
	switch {
	case strings.HasPrefix(name, "lite:"):
		i, _ := strconv.Atoi(name[5:])
		return rgb(liteColors[(max(i, 1)-1)%len(liteColors)], alpha)
	case strings.HasPrefix(name, "fault:"):
		if c, ok := faultColors[name[6:]]; ok {
			return rgb(c, alpha)
		}
		if c, ok := namedColors[name]; ok {
			return rgb(c, alpha)
		}
		return rgb(hashColor(name[6:]), alpha) // frame faults on the timeline
	}
	if c, ok := namedColors[name]; ok {
		return rgb(c, alpha)
	}
	return rgb("#444444", alpha)
}

// hashColor is a stable colour for a name not in the tables.
func hashColor(name string) string {
	palette := []string{"#1B9E77", "#D95F02", "#7570B3", "#E7298A", "#66A61E", "#E6AB02", "#A6761D", "#666666",
		"#1F78B4", "#33A02C", "#FB9A99", "#FDBF6F", "#CAB2D6", "#6A3D9A", "#B15928", "#A6CEE3"}
	var h uint32 = 2166136261
	for i := 0; i < len(name); i++ {
		h = (h ^ uint32(name[i])) * 16777619
	}
	return palette[h%uint32(len(palette))]
}

// size is the figure's size: taller for bar charts and timelines with many
// rows, and for long legends.
func size(f *Figure) (vg.Length, vg.Length) {
	h := figHeight
	rows := len(f.Y.Ticks)
	if len(f.Bars) > 0 {
		h = vg.Length(math.Max(200, float64(rows)*float64(10+8*len(f.Bars))+90))
	}
	if f.ID == "faults" {
		n := f.Y.Max - f.Y.Min
		per := 9.0
		if n > 20 {
			per = 6
		}
		h = vg.Length(math.Max(180, n*per+90))
	}
	leg := vg.Length(len(f.Legend))*vg.Length(fontSmall*1.45) + 50
	return figWidth, max(h, leg)
}

// Render draws f as "svg" or "png" to w.
func Render(f *Figure, format string, w io.Writer) error {
	width, height := size(f)
	var c vg.CanvasWriterTo
	switch format {
	case "svg":
		c = vgsvg.New(width, height)
	case "png":
		c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(pngDPI))}
	default:
		return fmt.Errorf("render %s: unknown format %q (want svg or png)", f.ID, format)
	}
	if err := draw1(f, draw.New(c)); err != nil {
		return fmt.Errorf("render %s: %w", f.ID, err)
	}
	if _, err := c.WriteTo(w); err != nil {
		return fmt.Errorf("render %s: %w", f.ID, err)
	}
	return nil
}

// RenderSVG is Render to a string, for inlining in HTML: the XML prolog
// is dropped.
func RenderSVG(f *Figure) (string, error) {
	var b bytes.Buffer
	if err := Render(f, "svg", &b); err != nil {
		return "", err
	}
	s := b.String()
	if i := strings.Index(s, "<svg"); i >= 0 {
		s = s[i:]
	}
	return s, nil
}

func draw1(f *Figure, dc draw.Canvas) (err error) {
	defer func() {
		// gonum panics on some impossible geometry; report it as an error.
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())

	leg := legendOf(f)
	legW := vg.Length(0)
	if len(f.Legend) > 0 {
		legW = min(legendWidth(&leg, f)+14, 0.42*dc.Size().X)
	}
	p := plot.New()
	p.Title.Text = f.Title
	p.Title.TextStyle = style(fontTitle, color.Black)
	p.Title.TextStyle.XAlign = draw.XCenter
	p.Title.TextStyle.YAlign = draw.YTop
	p.Title.Padding = 8
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle = style(fontAxis, color.Black)
		a.Tick.Label = style(fontSmall, color.Black)
		a.Padding = 0
	}
	p.X.Label.TextStyle.XAlign = draw.XCenter
	p.Y.Label.TextStyle.XAlign = draw.XCenter
	p.X.Tick.Label.XAlign = draw.XCenter
	p.X.Tick.Label.YAlign = draw.YTop
	p.Y.Tick.Label.XAlign = draw.XRight
	p.Y.Tick.Label.YAlign = draw.YCenter
	p.X.Label.Text, p.Y.Label.Text = f.X.Label, f.Y.Label
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = f.X.Min, f.X.Max, f.Y.Min, f.Y.Max
	p.X.Tick.Marker = constTicks(f.X.Ticks)
	p.Y.Tick.Marker = constTicks(f.Y.Ticks)

	grid := plotter.NewGrid()
	grid.Vertical.Color = rgb("#000000", 20)
	grid.Horizontal.Color = rgb("#000000", 20)
	grid.Vertical.Dashes, grid.Horizontal.Dashes = nil, nil
	if len(f.Bars) > 0 || f.ID == "faults" {
		grid.Horizontal.Color = nil
	}
	p.Add(grid)
	p.Add(spanPlotter{f})
	if err := addData(p, f); err != nil {
		return err
	}
	p.Add(spanLabels{f})

	plotArea := dc
	plotArea.Max.X -= legW
	p.Draw(plotArea)

	if legW > 0 {
		area := dc
		area.Min.X = dc.Max.X - legW + 10
		area.Max.Y -= 30 // below the title
		leg.Draw(area)
	}
	return nil
}

func constTicks(ts []Tick) plot.ConstantTicks {
	out := make(plot.ConstantTicks, len(ts))
	for i, t := range ts {
		out[i] = plot.Tick{Value: t.V, Label: t.Label}
	}
	return out
}

func lineStyle(name string, dash bool, width vg.Length) draw.LineStyle {
	ls := draw.LineStyle{Color: colorOf(name, 255), Width: width}
	if dash {
		ls.Dashes = []vg.Length{4, 2.5}
	}
	return ls
}

func xys(pts [][2]float64) plotter.XYs {
	out := make(plotter.XYs, len(pts))
	for i, p := range pts {
		out[i].X, out[i].Y = p[0], p[1]
	}
	return out
}

func addData(p *plot.Plot, f *Figure) error {
	p.Add(rectPlotter{f})
	for _, b := range f.Bands {
		ring := make(plotter.XYs, 0, 2*len(b.X))
		for i := range b.X {
			ring = append(ring, plotter.XY{X: b.X[i], Y: b.Lo[i]})
		}
		for i := len(b.X) - 1; i >= 0; i-- {
			ring = append(ring, plotter.XY{X: b.X[i], Y: b.Hi[i]})
		}
		if len(ring) < 3 {
			continue
		}
		poly, err := plotter.NewPolygon(ring)
		if err != nil {
			return fmt.Errorf("band: %w", err)
		}
		poly.Color = colorOf(b.Color, 50)
		poly.LineStyle.Width = 0
		p.Add(poly)
	}
	p.Add(barPlotter{f})
	for _, r := range f.Rules {
		if r.Axis == "y" {
			p.Add(rulePlotter{r})
		}
	}
	for _, l := range f.Lines {
		if len(l.Points) == 0 {
			continue
		}
		ln, err := plotter.NewLine(xys(l.Points))
		if err != nil {
			return fmt.Errorf("line: %w", err)
		}
		ln.LineStyle = lineStyle(l.Color, l.Dash, 1.2)
		if l.Step {
			ln.StepStyle = plotter.PostStep
		}
		p.Add(ln)
	}
	for _, m := range f.Marks {
		if len(m.Points) == 0 {
			continue
		}
		sc, err := plotter.NewScatter(xys(m.Points))
		if err != nil {
			return fmt.Errorf("marks: %w", err)
		}
		sc.GlyphStyle = glyph(m.Color, m.Glyph)
		p.Add(sc)
	}
	for _, r := range f.Rules {
		if r.Axis == "x" {
			p.Add(rulePlotter{r})
		}
	}
	return nil
}

func glyph(color, shape string) draw.GlyphStyle {
	g := draw.GlyphStyle{Color: colorOf(color, 230), Radius: 2.6}
	switch shape {
	case "triangle":
		g.Shape = draw.PyramidGlyph{}
		g.Radius = 3.2
	case "square":
		g.Shape = draw.SquareGlyph{}
	case "cross":
		g.Shape = draw.CrossGlyph{}
		g.Radius = 3.2
	case "dot":
		g.Shape = draw.CircleGlyph{}
	default:
		g.Shape = draw.RingGlyph{}
	}
	return g
}

// spanPlotter shades fault windows over the full height and draws instant
// faults as ticks along the top.
type spanPlotter struct{ f *Figure }

func (s spanPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	tx, _ := p.Transforms(&c)
	for _, sp := range s.f.Spans {
		x0, x1 := tx(sp.From), tx(sp.To)
		if sp.From == sp.To {
			c.StrokeLine2(draw.LineStyle{Color: colorOf(sp.Color, 160), Width: 0.6}, x0, c.Max.Y, x0, c.Max.Y-5)
			continue
		}
		x0, x1 = max(x0, c.Min.X), min(max(x1, x0+0.8), c.Max.X)
		c.FillPolygon(colorOf(sp.Color, 38), rectPts(x0, c.Min.Y, x1, c.Max.Y))
	}
}

// spanLabels writes each window's label at its start, below the instant
// ticks, in the first of two rows where it overlaps no other label; a
// label that fits nowhere is left out (the legend and the timeline still
// name the window).
type spanLabels struct{ f *Figure }

func (s spanLabels) Plot(c draw.Canvas, p *plot.Plot) {
	tx, _ := p.Transforms(&c)
	sty := style(fontSmall-0.5, color.Black)
	sty.YAlign = draw.YTop
	h := sty.Rectangle("Xg").Size().Y
	var right [2]vg.Length
	for i := range right {
		right[i] = c.Min.X - 1
	}
	for _, sp := range s.f.Spans {
		if sp.Label == "" || sp.From == sp.To {
			continue
		}
		x := max(tx(sp.From), c.Min.X) + 2
		w := sty.Width(sp.Label)
		if x+w > c.Max.X-2 {
			continue
		}
		for row := range right {
			if x <= right[row]+4 {
				continue
			}
			y := c.Max.Y - 6 - vg.Length(row)*(h+2)
			c.FillPolygon(rgb("#ffffff", 190), rectPts(x-1.5, y-h-0.5, x+w+1.5, y+0.5))
			c.FillText(sty, vg.Point{X: x, Y: y}, sp.Label)
			right[row] = x + w
			break
		}
	}
}

func rectPts(x0, y0, x1, y1 vg.Length) []vg.Point {
	return []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
}

// rectPlotter fills the figure's rectangles; a rectangle of no width is a
// tick.
type rectPlotter struct{ f *Figure }

func (r rectPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	alpha := uint8(170)
	if r.f.ID == "converge-hist" {
		alpha = 200
	}
	for _, rc := range r.f.Rects {
		x0, x1, y0, y1 := tx(rc.X0), tx(rc.X1), ty(rc.Y0), ty(rc.Y1)
		if x1-x0 < 1.2 {
			c.StrokeLine2(draw.LineStyle{Color: colorOf(rc.Color, 220), Width: 1}, x0, y0, x0, y1)
			continue
		}
		pts := c.ClipPolygonXY(rectPts(x0, y0, x1, y1))
		if len(pts) > 0 {
			c.FillPolygon(colorOf(rc.Color, alpha), pts)
		}
		if r.f.ID == "converge-hist" {
			c.StrokeLines(draw.LineStyle{Color: color.White, Width: 0.5}, rectPts(x0, y0, x1, y1))
		}
	}
}

// barPlotter draws horizontal bars: row i holds one bar per Bars, side by
// side, with the value written after the bar.
type barPlotter struct{ f *Figure }

func (b barPlotter) Plot(c draw.Canvas, p *plot.Plot) {
	if len(b.f.Bars) == 0 {
		return
	}
	tx, ty := p.Transforms(&c)
	n := len(b.f.Bars)
	rowH := ty(1) - ty(0)
	barH := rowH * 0.8 / vg.Length(n)
	sty := style(fontSmall-0.5, color.Black)
	sty.YAlign = draw.YCenter
	for k, bars := range b.f.Bars {
		for i, v := range bars.Values {
			mid := ty(float64(i)) + rowH*0.4 - barH*(vg.Length(k)+0.5)
			x0, x1 := tx(0), tx(math.Max(v, 0))
			label := num(v) + bars.Unit
			if v < 0 {
				label = "n/a" // no runs to measure: no bar, not a zero
			} else {
				c.FillPolygon(colorOf(bars.Color, 200), rectPts(x0, mid-barH/2, x1, mid+barH/2))
			}
			if barH >= sty.Rectangle("0").Size().Y*0.8 {
				c.FillText(sty, vg.Point{X: x1 + 3, Y: mid}, label)
			}
		}
	}
}

// rulePlotter draws a reference line across the data area.
type rulePlotter struct{ r Rule }

func (r rulePlotter) Plot(c draw.Canvas, p *plot.Plot) {
	tx, ty := p.Transforms(&c)
	ls := lineStyle(r.r.Color, r.r.Dash, 1.1)
	if r.r.Axis == "x" {
		x := tx(r.r.V)
		if x >= c.Min.X-0.5 && x <= c.Max.X+0.5 {
			c.StrokeLine2(ls, x, c.Min.Y, x, c.Max.Y)
		}
		return
	}
	y := ty(r.r.V)
	if y >= c.Min.Y-0.5 && y <= c.Max.Y+0.5 {
		c.StrokeLine2(ls, c.Min.X, y, c.Max.X, y)
	}
}

// thumb draws a legend sample.
type thumb struct{ k Key }

func (t thumb) Thumbnail(c *draw.Canvas) {
	mid := (c.Min.Y + c.Max.Y) / 2
	switch t.k.Kind {
	case "line", "dash":
		c.StrokeLine2(lineStyle(t.k.Color, t.k.Kind == "dash", 1.6), c.Min.X, mid, c.Max.X, mid)
	case "fill":
		h := (c.Max.Y - c.Min.Y) * 0.4
		c.FillPolygon(colorOf(t.k.Color, 150), rectPts(c.Min.X, mid-h, c.Max.X, mid+h))
	case "tick":
		h := (c.Max.Y - c.Min.Y) * 0.45
		x := (c.Min.X + c.Max.X) / 2
		c.StrokeLine2(draw.LineStyle{Color: colorOf(t.k.Color, 220), Width: 1}, x, mid-h, x, mid+h)
	default:
		c.DrawGlyph(glyph(t.k.Color, t.k.Kind), vg.Point{X: (c.Min.X + c.Max.X) / 2, Y: mid})
	}
}

func legendOf(f *Figure) plot.Legend {
	l := plot.NewLegend()
	l.TextStyle = style(fontSmall, color.Black)
	l.Top, l.Left = true, true
	l.ThumbnailWidth = 18
	l.Padding = vg.Length(fontSmall * 0.45)
	for _, k := range f.Legend {
		l.Add(k.Text, thumb{k})
	}
	return l
}

func legendWidth(l *plot.Legend, f *Figure) vg.Length {
	w := vg.Length(0)
	for _, k := range f.Legend {
		w = max(w, l.TextStyle.Width(" "+k.Text))
	}
	return w + l.ThumbnailWidth + 4
}
