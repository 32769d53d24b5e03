package reports

import (
	"fmt"
	"html"
	"math"
	"slices"
	"strings"

	"github.com/syncsim/syncsim/results"
)

// seqFrames is how many frame events (sends and deliveries) the sequence
// diagram shows: the failing window, readable on one screen or two.
const seqFrames = 60

// Arrow is one frame in the sequence diagram: sent by From at SentS (or
// before the window when Early), delivered to To at RecvS (or not in the
// window when Lost).
type Arrow struct {
	From, To     int
	SentS, RecvS float64
	Early, Lost  bool // sent before the window; not delivered in it
	Altered      bool
	Text         string
	Conn         uint64
}

// Sequence is the failing window as a sequence diagram: the nodes as
// columns (Origin first), time going down, a frame an arrow from its send
// to its delivery, faults and the violation marked.
type Sequence struct {
	Nodes  []int
	Arrows []Arrow
	Faults []SeqFault
	From   float64 // the window
	To     float64
	Viol   *results.Violation
	Clock  string // "simulated" or "wall-clock"
}

// SeqFault is a fault in the window: an instant on one node, or a window
// over a stretch of its column.
type SeqFault struct {
	Node     int
	From, To float64
	Label    string
}

// SequenceOf builds the diagram of a failed run's last frames from its
// wire record (ok is false without one).
func SequenceOf(r *results.Run) (Sequence, bool) {
	var evs []results.Frame
	for _, f := range r.Wire {
		if r.Violation == nil || f.AtS <= r.Violation.AtS {
			evs = append(evs, f)
		}
	}
	if len(evs) == 0 {
		return Sequence{}, false
	}
	evs = evs[max(0, len(evs)-seqFrames):]
	sq := Sequence{From: evs[0].AtS, To: evs[len(evs)-1].AtS, Viol: r.Violation, Clock: r.Clock()}
	if v := r.Violation; v != nil {
		sq.To = math.Max(sq.To, v.AtS)
	}
	type key struct {
		from, to int
		conn     uint64
	}
	open := map[key][]int{} // arrows sent, not yet delivered, oldest first
	nodes := map[int]bool{}
	for _, f := range evs {
		nodes[f.From], nodes[f.To] = true, true
		k := key{f.From, f.To, f.Conn}
		if f.Dir == "send" {
			open[k] = append(open[k], len(sq.Arrows))
			sq.Arrows = append(sq.Arrows, Arrow{From: f.From, To: f.To, SentS: f.AtS, Lost: true, Text: f.Text, Conn: f.Conn})
			continue
		}
		// The delivery of the oldest matching send: same bytes, else (a
		// fault changed them) the same type.
		match := -1
		for _, i := range open[k] {
			a := &sq.Arrows[i]
			if a.Text == f.Text || match < 0 && f.Altered && strings.HasPrefix(a.Text, f.Type) {
				match = i
				if a.Text == f.Text {
					break
				}
			}
		}
		if match < 0 {
			sq.Arrows = append(sq.Arrows, Arrow{From: f.From, To: f.To, SentS: sq.From, RecvS: f.AtS, Early: true, Altered: f.Altered, Text: f.Text, Conn: f.Conn})
			continue
		}
		a := &sq.Arrows[match]
		a.RecvS, a.Lost, a.Altered = f.AtS, false, f.Altered
		open[k] = slices.DeleteFunc(open[k], func(i int) bool { return i == match })
	}
	for n := range nodes {
		sq.Nodes = append(sq.Nodes, n)
	}
	slices.Sort(sq.Nodes)
	for i, e := range r.Faults {
		at, kind := e.At.Seconds(), string(e.Kind)
		to := at
		if windowKinds[kind] {
			to = at + e.For.Seconds()
			if kind == "clock-skew" {
				to = at + clockSkewFor
			}
		}
		if to < sq.From || at > sq.To {
			continue
		}
		node := int(e.Node)
		if !nodes[node] {
			continue
		}
		label := kind
		if p := eventParams(r, i); p != "" {
			label += " (" + p + ")"
		}
		sq.Faults = append(sq.Faults, SeqFault{Node: node, From: math.Max(at, sq.From), To: math.Min(to, sq.To), Label: label})
	}
	return sq, true
}

// SVG draws the diagram as a standalone SVG (no script): rows in time
// order, one per send or delivery, so arrows keep their order even when
// many frames share a millisecond; times on the left.
func (sq Sequence) SVG() string {
	const (
		left, colW, top, rowH, bottom = 96.0, 300.0, 54.0, 17.0, 40.0
	)
	// Every instant that gets a row: sends, deliveries, the violation.
	var ts []float64
	for _, a := range sq.Arrows {
		if !a.Early {
			ts = append(ts, a.SentS)
		}
		if !a.Lost {
			ts = append(ts, a.RecvS)
		}
	}
	if sq.Viol != nil {
		ts = append(ts, sq.Viol.AtS)
	}
	slices.Sort(ts)
	// y of an instant: its own row (the k-th event at that time gets the
	// k-th row among equal times), assigned in order of use.
	rowOf := map[float64][]float64{}
	for i, t := range ts {
		rowOf[t] = append(rowOf[t], top+rowH*float64(i+1))
	}
	used := map[float64]int{}
	y := func(t float64) float64 {
		rows := rowOf[t]
		if len(rows) == 0 { // a fault's edge: between the rows around it
			i, _ := slices.BinarySearch(ts, t)
			if i == 0 {
				return top
			}
			return top + rowH*(float64(i)+0.5)
		}
		k := min(used[t], len(rows)-1)
		used[t]++
		return rows[k]
	}
	col := map[int]float64{}
	for i, n := range sq.Nodes {
		col[n] = left + colW*(float64(i)+0.5)
	}
	width := left + colW*float64(len(sq.Nodes)) + 20
	height := top + rowH*float64(len(ts)+1) + bottom
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="sequence" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="Liberation Sans, Arial, sans-serif" font-size="11">`+"\n", width, height, width, height)
	b.WriteString(`<defs><marker id="arrowhead" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#333"/></marker></defs>` + "\n")
	fmt.Fprintf(&b, `<rect width="%.0f" height="%.0f" fill="#fff"/>`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="8" y="18" font-size="13" font-weight="bold">Frames from %.4f s to %.4f s (%s), time going down</text>`+"\n", sq.From, sq.To, sq.Clock)
	// Fault windows and instants on the columns.
	for _, f := range sq.Faults {
		x := col[f.Node]
		y0, y1 := y(f.From), y(f.To)
		used = map[float64]int{} // fault edges take no row
		if f.To > f.From {
			fmt.Fprintf(&b, `<rect class="fault" x="%.1f" y="%.1f" width="24" height="%.1f" fill="#0072B2" fill-opacity="0.18"><title>%s</title></rect>`+"\n", x-12, y0, math.Max(y1-y0, 2), html.EscapeString(f.Label))
			fmt.Fprintf(&b, `<text class="fault-label" x="%.1f" y="%.1f" fill="#0072B2" transform="rotate(90 %.1f %.1f)">%s</text>`+"\n", x+16, y0+4, x+16, y0+4, html.EscapeString(f.Label))
		} else {
			fmt.Fprintf(&b, `<path class="fault" d="M%.1f,%.1f l6,-6 l6,6 l-6,6 z" fill="#CC0000"><title>%s</title></path><text class="fault-label" x="%.1f" y="%.1f" fill="#CC0000">%s</text>`+"\n", x-6, y0, html.EscapeString(f.Label), x+10, y0+4, html.EscapeString(f.Label))
		}
	}
	used = map[float64]int{}
	// Lifelines.
	for _, n := range sq.Nodes {
		x := col[n]
		fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="90" height="22" rx="3" fill="#f4f4f4" stroke="#333"/><text class="node" x="%.1f" y="%.1f" text-anchor="middle" font-size="13">%s</text>`+"\n", x-45, top-30, x, top-14, nodeName(n))
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#999" stroke-dasharray="4 3"/>`+"\n", x, top-8, x, height-bottom+8)
	}
	// Arrows, with the decoded frame at the sender's end.
	for _, a := range sq.Arrows {
		x0, x1 := col[a.From], col[a.To]
		y0 := top
		if !a.Early {
			y0 = y(a.SentS)
		}
		dir := 1.0
		if x1 < x0 {
			dir = -1
		}
		var y1 float64
		class, dash, end := "arrow", "", ` marker-end="url(#arrowhead)"`
		switch {
		case a.Lost:
			// Not delivered in the window: dropped, lost, or still in flight.
			y1 = y0 + rowH*0.8
			x1 = x0 + dir*colW*0.35
			class, dash, end = "arrow undelivered", ` stroke-dasharray="3 3"`, ""
		default:
			y1 = y(a.RecvS)
		}
		if a.Early {
			class += " early"
			dash = ` stroke-dasharray="6 3"`
		}
		stroke := "#333"
		if a.Altered {
			stroke, class = "#CC0000", class+" altered"
		}
		title := fmt.Sprintf("%s → %s conn %d: %s", nodeName(a.From), nodeName(a.To), a.Conn, a.Text)
		fmt.Fprintf(&b, `<line class="%s" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="%s" stroke-width="1.2"%s%s><title>%s</title></line>`+"\n",
			class, x0, y0, x1, y1, stroke, dash, end, html.EscapeString(title))
		if a.Lost {
			anchor := "start"
			if dir < 0 {
				anchor = "end"
			}
			fmt.Fprintf(&b, `<text class="undelivered" x="%.1f" y="%.1f" fill="#666" text-anchor="%s">×</text>`+"\n", x1+dir*2, y1+4, anchor)
		}
		if a.Early {
			continue // its text is in the title: labels at the top would pile up
		}
		anchor, tx := "start", x0+8
		if dir < 0 {
			anchor, tx = "end", x0-8
		}
		fmt.Fprintf(&b, `<text class="frame" x="%.1f" y="%.1f" text-anchor="%s">%s</text>`+"\n", tx, y0-3, anchor, html.EscapeString(a.Text))
	}
	// Times of the rows.
	prev := ""
	for i, t := range ts {
		label := fmt.Sprintf("%.4f s", t)
		if label == prev {
			continue
		}
		prev = label
		fmt.Fprintf(&b, `<text x="8" y="%.1f" fill="#555">%s</text>`+"\n", top+rowH*float64(i+1)+4, label)
	}
	if v := sq.Viol; v != nil {
		vy := rowOf[v.AtS][len(rowOf[v.AtS])-1]
		fmt.Fprintf(&b, `<line class="violation" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#CC0000" stroke-width="2"/>`+"\n", left-6, vy, width-10, vy)
		fmt.Fprintf(&b, `<text class="violation" x="%.1f" y="%.1f" fill="#CC0000" font-weight="bold">%s violated at %.4f s on %s</text>`+"\n", left, vy+16, html.EscapeString(v.Property), v.AtS, html.EscapeString(v.Node))
	}
	b.WriteString("</svg>\n")
	return b.String()
}
