package reports

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"io"
	"regexp"
	"slices"
	"strings"

	"codeberg.org/go-fonts/liberation/liberationsansregular"

	"github.com/syncsim/syncsim/results"
)

// Row is one line of a summary table.
type Row struct{ Name, Value string }

// FaultRow summarises the faults of one kind that fired in a run.
type FaultRow struct {
	Kind         string
	Count        int
	First, Last  string
	Nodes, Shape string
}

// FailureGroup is the failed runs of a sweep that broke one property the
// same way.
type FailureGroup struct {
	Property, Cause string
	Count           int
	Shown           []FailureRow // the first few
	Rest            []FailureRow // the others (of the table's first 200)
}

// groupShown is how many failures of a group the page shows in full.
const groupShown = 3

var digits = regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)

// causeOf is a failure's sentence with its numbers replaced, so that
// "lite1 applied LSN 41 after 39" and "... 87 after 85" group together.
func causeOf(msg string) string { return digits.ReplaceAllString(msg, "N") }

func groupFailures(rows []FailureRow) []FailureGroup {
	idx := map[[2]string]int{}
	var gs []FailureGroup
	for _, r := range rows {
		k := [2]string{r.Property, causeOf(r.Msg)}
		i, ok := idx[k]
		if !ok {
			i = len(gs)
			idx[k] = i
			gs = append(gs, FailureGroup{Property: k[0], Cause: k[1]})
		}
		g := &gs[i]
		g.Count++
		if len(g.Shown) < groupShown {
			g.Shown = append(g.Shown, r)
		} else {
			g.Rest = append(g.Rest, r)
		}
	}
	slices.SortStableFunc(gs, func(a, b FailureGroup) int { return b.Count - a.Count })
	return gs
}

// WindowRow is one fault window of a run, with its parameters.
type WindowRow struct {
	Kind, Node, From, To, Params string
}

// FailureRow is one failed run of a sweep.
type FailureRow struct {
	Seed                    uint64
	Property, At, Node, Msg string
	Replay, Shrink          string
	Report                  string // relative link to the run's own report, if written
}

// Page is everything the HTML report shows, as plain data (the template
// adds nothing but layout).
type Page struct {
	Title   string
	Kind    string // "run" or "sweep"
	Clock   string // whose time a run's times are: "simulated" or "wall-clock"
	Pass    bool
	Verdict string
	Summary []Row
	// Run pages.
	Violation *results.Violation
	Tail      []string
	// Concern and Events are the tail told as sentences (Story):
	// those that concern the violation, and all of them in order.
	Concern, Events []Sentence
	// Why is the failure explained from the wire, when it can be.
	Why string
	// Sequence is the failing window as a sequence diagram (nil without
	// a wire record).
	Sequence *Sequence
	Replay   string
	Shrink   string
	Faults   []FaultRow
	Windows  []WindowRow
	// Sweep pages.
	Failures     []FailureRow
	MoreFailures int
	// Groups are the failures by property and cause (the sentence with
	// its numbers taken out), most first: a few shown, the rest linked.
	Groups     []FailureGroup
	ByScenario []Row
	// Figures, in order; Timeline is the run's fault timeline.
	Figures  []Figure
	Timeline *Figure
}

// RunPage builds the page of a run report from the result and its
// figures.
func RunPage(r *results.Run, figs []Figure) Page {
	p := Page{Kind: "run", Clock: r.Clock(), Pass: r.Pass, Replay: r.Replay, Shrink: r.Shrink, Violation: r.Violation}
	name := scenarioName(r)
	p.Title = fmt.Sprintf("syncsim run: %s seed %d", name, r.Seed)
	if r.Live != nil {
		p.Title = fmt.Sprintf("syncsim live %s: %s seed %d", r.Live.Mode, name, r.Seed)
	}
	switch {
	case r.Pass && r.ConvergeAfter != nil:
		p.Verdict = fmt.Sprintf("PASS: %s seed %d converged %s after heal (at %s)", name, r.Seed, secs(*r.ConvergeAfter), secs(r.HealS+*r.ConvergeAfter))
	case r.Pass:
		p.Verdict = fmt.Sprintf("PASS: %s seed %d", name, r.Seed)
	case r.Violation != nil:
		p.Verdict = fmt.Sprintf("FAIL: %s seed %d: %s violated at %s on %s", name, r.Seed, r.Violation.Property, secs(r.Violation.AtS), r.Violation.Node)
	default:
		p.Verdict = fmt.Sprintf("FAIL: %s seed %d", name, r.Seed)
	}
	if r.Violation != nil {
		p.Tail = r.Violation.Tail
		p.Concern, p.Events = Story(r)
		p.Why = Explain(r)
		if sq, ok := SequenceOf(r); ok {
			p.Sequence = &sq
		}
	}
	k := r.Totals()
	conv := "did not converge"
	if r.ConvergeAfter != nil {
		conv = secs(*r.ConvergeAfter)
	}
	if r.Live != nil && r.Live.Mode == "proxy" {
		conv = "not judged (see convergence below)"
	}
	lites := map[int]bool{}
	for _, s := range r.Series {
		if s.Node > 0 {
			lites[s.Node] = true
		}
	}
	p.Summary = []Row{
		{"scenario", r.Scenario},
		{"seed", fmt.Sprint(r.Seed)},
		{"outcome", map[bool]string{true: "pass", false: "fail"}[r.Pass]},
		{"trace hash", r.TraceHash},
		{"Lites", fmt.Sprint(len(lites))},
		{"heal (faults and writes stop)", secs(r.HealS)},
		{"budget to converge after heal", secs(r.BudgetS)},
		{"converged after heal", conv},
		{r.Clock() + " time", secs(r.EndS)},
		{"frames", fmt.Sprintf("sent %d, delivered %d, dropped %d, corrupted %d, duplicated %d, undecodable %d",
			k.FramesSent, k.FramesDelivered, k.FramesDropped, k.FramesCorrupted, k.FramesDuplicated, k.DecodeErrors)},
		{"resync", resyncRow(r)},
		{"throttle", throttleRow(r)},
		{"nodes", fmt.Sprintf("writes %d, reconnects %d, crashes %d, events %d", k.Writes, k.Reconnects, k.Crashes, k.Events)},
		{"repair", fmt.Sprintf("resync bytes %d for %d bytes lost to faults (ratio %s)%s; longest throttled silence %s",
			r.Metrics.ResyncBytes, r.Metrics.RepairedBytes, ratio(r.Metrics.ResyncBytes, r.Metrics.RepairedBytes),
			OverflowClause(r.Totals().QueueOverflows), secs(r.Metrics.MaxStarveS))},
	}
	if lv := r.Live; lv != nil {
		if lv.Mode == "proxy" {
			p.Summary = proxyView(p.Summary)
		}
		p.Summary = append(p.Summary, liveRows(r)...)
	}
	if q := r.Queue; q != nil {
		p.Summary = append(p.Summary, Row{"Lite queue", fmt.Sprintf("capacity %d, throttle on at %d, off at %d", q.Capacity, q.High, q.Low)})
	}
	if im := r.Implementations; im != nil {
		p.Summary = append(p.Summary, Row{"implementations", "origin " + im.Origin + ", lites " + im.Lite})
		if b := bugsOf(im); b != "" {
			p.Summary = append(p.Summary, Row{"planted bugs", b})
		}
	}
	p.Faults = faultRows(r)
	for i, e := range r.Faults {
		kind := string(e.Kind)
		if !windowKinds[kind] {
			continue
		}
		at := e.At.Seconds()
		dur := e.For.Seconds()
		if kind == "clock-skew" {
			dur = clockSkewFor
		}
		p.Windows = append(p.Windows, WindowRow{Kind: kind, Node: nodeName(int(e.Node)), From: secs(at), To: secs(at + dur), Params: eventParams(r, i)})
	}
	for i := range figs {
		if figs[i].ID == "faults" {
			p.Timeline = &figs[i]
			continue
		}
		p.Figures = append(p.Figures, figs[i])
	}
	return p
}

// ratio is a/b, or "n/a" when nothing was lost: a ratio over zero bytes
// means nothing.
func ratio(a, b uint64) string {
	if b == 0 {
		return "n/a: nothing lost to faults"
	}
	return fmt.Sprintf("%.2fx", float64(a)/float64(b))
}

// resyncRow counts the resync traffic, and the snapshots the wire record
// shows (a snapshot Origin falls back to is no answer to any request).
func resyncRow(r *results.Run) string {
	k := r.Totals()
	s := fmt.Sprintf("requested %d, answered %d, served %d", k.ResyncRequested, k.ResyncAnswered, k.ResyncServed)
	if snaps, ok := SnapshotCount(r); ok {
		s += fmt.Sprintf("; ShapeSnapshots delivered %d (the first per subscription is the initial one)", snaps)
	}
	return s
}

// throttleRow counts the Lites' throttle transitions and, from the wire,
// the Throttle frames Origin received.
func throttleRow(r *results.Run) string {
	k := r.Totals()
	s := fmt.Sprintf("on %d, off %d (state changes the Lites report)", k.ThrottleOn, k.ThrottleOff)
	if on, off, ok := ThrottleCounts(r); ok {
		s += fmt.Sprintf("; Throttle frames Origin received: %d on (engage or renewal), %d off", on, off)
	}
	if th := r.Throttle; th != nil {
		s += fmt.Sprintf("; Origin's terms: default %s/s, burst %s, lease %s", num(th.DefaultRate), num(th.Burst), secs(th.LeaseS))
	}
	if note := ControlNote(r); note != "" {
		s += "; " + note
	}
	return s
}

// OverflowClause names the deltas Lites dropped from full queues beside
// the bytes lost to faults ("" when none were): resync repairs those too,
// so a run with no fault can resync megabytes.
func OverflowClause(n uint64) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(", and %d deltas dropped by full Lite queues", n)
}

// bugsOf names the planted bugs in the implementations' names
// ("reference+ignore-throttle"), or "".
func bugsOf(im *results.Impls) string {
	var bugs []string
	for _, name := range []string{im.Origin, im.Lite} {
		parts := strings.Split(name, "+")
		for _, b := range parts[1:] {
			if !slices.Contains(bugs, b) {
				bugs = append(bugs, b)
			}
		}
	}
	if len(bugs) == 0 {
		return ""
	}
	return strings.Join(bugs, ", ") + " (-bug)"
}

func faultRows(r *results.Run) []FaultRow {
	idx := map[string]int{}
	var rows []FaultRow
	nodes := map[string][]int{}
	for _, e := range r.Faults {
		at := secs(e.At.Seconds())
		kind := string(e.Kind)
		i, ok := idx[kind]
		if !ok {
			i = len(rows)
			idx[kind] = i
			shape := "instant"
			if windowKinds[kind] {
				shape = "window"
			}
			rows = append(rows, FaultRow{Kind: kind, First: at, Shape: shape})
		}
		rows[i].Count++
		rows[i].Last = at
		n := int(e.Node)
		if n == 0 && e.Peer != 0 {
			n = int(e.Peer)
		}
		if !slices.Contains(nodes[kind], n) {
			nodes[kind] = append(nodes[kind], n)
		}
	}
	for i := range rows {
		ns := nodes[rows[i].Kind]
		slices.Sort(ns)
		var names []string
		for j, n := range ns {
			if j == 8 {
				names = append(names, fmt.Sprintf("and %d more", len(ns)-8))
				break
			}
			names = append(names, nodeName(n))
		}
		rows[i].Nodes = strings.Join(names, ", ")
	}
	return rows
}

// maxFailureRows bounds the failures table of a sweep page.
const maxFailureRows = 200

// SweepPage builds the page of a sweep report; links maps a failed seed
// to its own report's index.html (relative), when one was written.
func SweepPage(s *results.Sweep, figs []Figure, links map[uint64]string) Page {
	failed := failedRuns(s)
	p := Page{Kind: "sweep", Pass: failed == 0 && !s.Interrupted, Figures: figs}
	p.Title = fmt.Sprintf("syncsim sweep: %s, %d runs", s.Scenario, len(s.Runs))
	p.Verdict = fmt.Sprintf("%s: %d runs, %d passed, %d failed", s.Scenario, len(s.Runs), len(s.Runs)-failed, failed)
	if s.Interrupted {
		p.Verdict += " (interrupted)"
	}
	conv := convergeTimes(s)
	p.Summary = []Row{{"scenario", s.Scenario}, {"runs", fmt.Sprint(len(s.Runs))},
		{"passed", fmt.Sprint(len(s.Runs) - failed)}, {"failed", fmt.Sprint(failed)}}
	if pl := s.Plan; pl != nil {
		p.Summary = append(p.Summary, Row{"seeds planned", fmt.Sprintf("%d (%s)", pl.Len(), pl)})
	}
	if im := s.Implementations; im != nil {
		p.Summary = append(p.Summary, Row{"nodes", "origin " + im.Origin + ", lites " + im.Lite})
		bugs := bugsOf(im)
		if bugs == "" {
			bugs = "none"
		}
		p.Summary = append(p.Summary, Row{"planted bugs", bugs})
	}
	if s.Version != "" {
		p.Summary = append(p.Summary, Row{"simrun version", s.Version})
	}
	if s.Interrupted {
		p.Summary = append(p.Summary, Row{"interrupted", "yes: the runs gathered before Ctrl-C"})
	}
	if len(conv) > 0 {
		p.Summary = append(p.Summary, Row{"time to converge after heal (simulated)", fmt.Sprintf("p50 %s, p90 %s, p99 %s, max %s",
			secs(nearestRank(conv, 50)), secs(nearestRank(conv, 90)), secs(nearestRank(conv, 99)), secs(conv[len(conv)-1]))})
	}
	var wall, sim float64
	for _, r := range s.Runs {
		wall += r.WallS
		if r.WallS > 0 {
			sim += r.EndS
		}
	}
	if wall > 0 {
		p.Summary = append(p.Summary,
			Row{"wall time in runs", fmt.Sprintf("%.2fs (%.1f ms per run)", wall, 1000*wall/float64(len(s.Runs)))},
			Row{"simulated seconds per wall second (all runs)", fmt.Sprintf("%.0f", sim/wall)})
	}
	byScen := map[string][2]int{}
	var scens []string
	for i := range s.Runs {
		r := &s.Runs[i]
		c, ok := byScen[r.Scenario]
		if !ok {
			scens = append(scens, r.Scenario)
		}
		c[0]++
		if !r.Pass {
			c[1]++
			if len(p.Failures) < maxFailureRows {
				row := FailureRow{Seed: r.Seed, Property: failProperty(r), Replay: r.Replay, Shrink: r.Shrink, Report: links[r.Seed]}
				if v := r.Violation; v != nil {
					row.At, row.Node, row.Msg = secs(v.AtS), v.Node, v.Message
				}
				p.Failures = append(p.Failures, row)
			} else {
				p.MoreFailures++
			}
		}
		byScen[r.Scenario] = c
	}
	p.Groups = groupFailures(p.Failures)
	slices.Sort(scens)
	for _, sc := range scens {
		c := byScen[sc]
		p.ByScenario = append(p.ByScenario, Row{sc, fmt.Sprintf("%d of %d runs failed", c[1], c[0])})
	}
	return p
}

// figureHTML is a figure ready for the page.
type figureHTML struct {
	ID, Title, Note string
	SVG             template.HTML
	Files           bool
}

// WriteHTML writes p as one self-contained HTML file: the figures inlined
// as SVG, the style sheet and the font inlined, nothing fetched. files
// says whether PNG and SVG files of the figures sit next to it (links).
func WriteHTML(w io.Writer, p Page, files bool) error {
	var figs []figureHTML
	render := func(f *Figure) (figureHTML, error) {
		svg, err := RenderSVG(f)
		if err != nil {
			return figureHTML{}, err
		}
		return figureHTML{ID: f.ID, Title: f.Title, Note: f.Note, SVG: template.HTML(svg), Files: files}, nil
	}
	for i := range p.Figures {
		fh, err := render(&p.Figures[i])
		if err != nil {
			return err
		}
		figs = append(figs, fh)
	}
	var timeline *figureHTML
	if p.Timeline != nil {
		fh, err := render(p.Timeline)
		if err != nil {
			return err
		}
		timeline = &fh
	}
	var b bytes.Buffer
	err := page.Execute(&b, struct {
		Page
		Figs     []figureHTML
		TL       *figureHTML
		Seq      template.HTML
		FontFace template.CSS
	}{p, figs, timeline, seqSVG(p.Sequence), fontFace()})
	if err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("html report: %w", err)
	}
	return nil
}

func seqSVG(sq *Sequence) template.HTML {
	if sq == nil {
		return ""
	}
	return template.HTML(sq.SVG()) // built from escaped text only
}

// fontFace is the CSS rule that embeds the figures' typeface, so text is
// drawn with the metrics gonum laid it out with, and nothing is fetched.
func fontFace() template.CSS {
	return template.CSS(`@font-face { font-family: "Liberation Sans"; src: url(data:font/ttf;base64,` +
		base64.StdEncoding.EncodeToString(liberationsansregular.TTF) + `) format("truetype"); }`)
}

var page = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>
{{.FontFace}}
body { font-family: "Liberation Sans", Arial, sans-serif; margin: 24px auto; max-width: 1000px; padding: 0 16px; color: #111; line-height: 1.4; }
h1 { font-size: 24px; margin: 0 0 8px; }
h2 { font-size: 19px; margin: 32px 0 8px; border-bottom: 1px solid #ccc; padding-bottom: 4px; }
h3 { font-size: 15px; margin: 18px 0 6px; }
.verdict { font-size: 16px; padding: 8px 12px; border-radius: 4px; margin: 8px 0 16px; }
.pass { background: #e3f4ea; border-left: 6px solid #009E73; }
.fail { background: #fbe5e5; border-left: 6px solid #CC0000; }
table { border-collapse: collapse; margin: 8px 0; font-size: 14px; }
th, td { text-align: left; vertical-align: top; padding: 4px 10px; border-bottom: 1px solid #e3e3e3; }
th { background: #f4f4f4; }
td.num { text-align: right; }
pre, code { font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; }
pre { background: #f6f6f6; padding: 10px; overflow-x: auto; white-space: pre; border: 1px solid #e3e3e3; }
figure { margin: 16px 0 28px; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { font-size: 13px; color: #444; margin-top: 4px; }
nav a { margin-right: 12px; }
tr.group td { background: #f4f4f4; font-weight: bold; }
ol.events { font-size: 13px; padding-left: 0; list-style: none; }
ol.events li { padding: 1px 0; font-family: "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12px; }
ol.events .t { color: #555; display: inline-block; min-width: 7em; }
ol.all li.concerns { background: #fff4e0; }
figure svg.sequence { width: auto; max-width: 100%; }
</style>
</head>
<body>
<h1>{{.Title}}</h1>
<div class="verdict {{if .Pass}}pass{{else}}fail{{end}}">{{.Verdict}}</div>
<nav><a href="#summary">Summary</a>{{if .Violation}}<a href="#failure">Failure</a>{{if .Seq}}<a href="#sequence">Sequence diagram</a>{{end}}<a href="#events">Events</a>{{end}}{{if .Failures}}<a href="#failures">Failures</a>{{end}}<a href="#plots">Plots</a>{{if eq .Kind "run"}}<a href="#faults">Fault timeline</a>{{end}}</nav>

<h2 id="summary">Summary</h2>
<table>
{{range .Summary}}<tr><th>{{.Name}}</th><td>{{.Value}}</td></tr>
{{end}}</table>
{{if .ByScenario}}<h3>Failures by scenario</h3>
<table><tr><th>scenario</th><th>failures</th></tr>
{{range .ByScenario}}<tr><td>{{.Name}}</td><td>{{.Value}}</td></tr>
{{end}}</table>{{end}}

{{with .Violation}}<h2 id="failure">Failure</h2>
<table>
<tr><th>property</th><td>{{.Property}}</td></tr>
<tr><th>at ({{$.Clock}})</th><td>{{printf "%.3f" .AtS}}s</td></tr>
<tr><th>node</th><td>{{.Node}}</td></tr>
<tr><th>what happened</th><td>{{.Message}}</td></tr>
{{with $.Why}}<tr><th>on the wire</th><td class="why">{{.}}</td></tr>{{end}}
</table>
{{end}}{{if .Violation}}{{with .Seq}}<h3 id="sequence">Sequence diagram of the failing window</h3>
<figure id="fig-sequence">
{{.}}
<figcaption>Nodes are columns, time goes down (one row per send or delivery, so the order is kept where many frames share a millisecond); each frame is an arrow from its send to its delivery with its decoded fields at the sender's end; dashed from the top: sent before the window; short dashes: not delivered in the window; red: altered in transit; diamonds and shaded stretches are faults; the red line is the violation. File: <a href="sequence.svg">sequence.svg</a>.</figcaption>
</figure>{{end}}
<h3 id="events">What led to it</h3>
{{if .Concern}}<p>The events that concern the violation (its node, connection or collection), with the control frames on that connection from earlier in the run:</p>
<ol class="events concern">{{range .Concern}}<li><span class="t">{{printf "%.4f" .AtS}} s</span> {{.Text}}</li>
{{end}}</ol>{{end}}
{{if .Events}}<h3>Last trace events</h3>
<p>In order, frames decoded, runs of timer ticks folded into one line:</p>
<ol class="events all">{{range .Events}}<li{{if .Concerns}} class="concerns"{{end}}><span class="t">{{printf "%.4f" .AtS}} s</span> {{.Text}}</li>
{{end}}</ol>{{else}}<p>The result holds no trace events (sweep results leave them out; run the replay command with -report).</p>{{end}}
<h3>Replay and shrink</h3>
<pre>{{.Replay}}
{{.Shrink}}</pre>
{{end}}
{{if eq .Kind "sweep"}}<h2 id="failures">Failures</h2>
{{if .Groups}}<p>Grouped by the property broken and the cause (the violation's sentence with its numbers left out), most first; {{len .Groups}} group(s). Each shows its first {{"3"}} runs; the rest are listed under it and in the table at the end of the page.</p>
<table class="groups">
<tr><th>runs</th><th>property</th><th>cause</th></tr>
{{range .Groups}}<tr class="group"><td class="num">{{.Count}}</td><td>{{.Property}}</td><td>{{.Cause}}</td></tr>
{{range .Shown}}<tr><td class="num">{{if .Report}}<a href="{{.Report}}">seed {{.Seed}}</a>{{else}}seed {{.Seed}}{{end}}</td><td>{{.At}} on {{.Node}}</td><td>{{.Msg}}<br><code>{{.Replay}}</code></td></tr>
{{end}}{{if .Rest}}<tr><td></td><td colspan="2"><details><summary>{{len .Rest}} more in this group</summary>seeds {{range $i, $r := .Rest}}{{if $i}}, {{end}}{{if $r.Report}}<a href="{{$r.Report}}">{{$r.Seed}}</a>{{else}}<a href="#seed-{{$r.Seed}}">{{$r.Seed}}</a>{{end}}{{end}}</details></td></tr>
{{end}}{{end}}</table>
{{if .MoreFailures}}<p>... and {{.MoreFailures}} more failures (see the sweep's -json file).</p>{{end}}
{{else}}<p>No run failed.</p>{{end}}{{end}}

<h2 id="plots">Plots</h2>
{{if not .Figs}}<p>Nothing to plot.</p>{{end}}
{{range .Figs}}<figure id="fig-{{.ID}}">
{{.SVG}}
<figcaption>{{if .Note}}{{.Note}} {{end}}{{if .Files}}Files: <a href="{{.ID}}.png">{{.ID}}.png</a>, <a href="{{.ID}}.svg">{{.ID}}.svg</a>.{{end}}</figcaption>
</figure>
{{end}}
{{if eq .Kind "run"}}<h2 id="faults">Fault timeline</h2>
{{if .Faults}}<table>
<tr><th>kind</th><th>shape</th><th>count</th><th>first</th><th>last</th><th>nodes</th></tr>
{{range .Faults}}<tr><td>{{.Kind}}</td><td>{{.Shape}}</td><td class="num">{{.Count}}</td><td class="num">{{.First}}</td><td class="num">{{.Last}}</td><td>{{.Nodes}}</td></tr>
{{end}}</table>
{{if .Windows}}<h3>Fault windows</h3>
<table class="windows">
<tr><th>kind</th><th>node</th><th>from</th><th>to</th><th>parameters</th></tr>
{{range .Windows}}<tr><td>{{.Kind}}</td><td>{{.Node}}</td><td class="num">{{.From}}</td><td class="num">{{.To}}</td><td>{{.Params}}</td></tr>
{{end}}</table>{{end}}
{{with .TL}}<figure id="fig-{{.ID}}">
{{.SVG}}
<figcaption>{{if .Note}}{{.Note}} {{end}}{{if .Files}}Files: <a href="{{.ID}}.png">{{.ID}}.png</a>, <a href="{{.ID}}.svg">{{.ID}}.svg</a>.{{end}}</figcaption>
</figure>{{end}}
{{else}}<p>No fault fired in this run.</p>{{end}}
<h2>Replay</h2>
<pre>{{.Replay}}</pre>
{{end}}
{{if .Failures}}<h2 id="all-failures">All failures</h2>
<details><summary>{{len .Failures}} failed runs, one row each, with their replay and shrink commands</summary>
<table>
<tr><th>seed</th><th>property</th><th>at</th><th>node</th><th>what happened</th></tr>
{{range .Failures}}<tr id="seed-{{.Seed}}"><td class="num">{{if .Report}}<a href="{{.Report}}">{{.Seed}}</a>{{else}}{{.Seed}}{{end}}</td><td>{{.Property}}</td><td>{{.At}}</td><td>{{.Node}}</td><td>{{.Msg}}</td></tr>
<tr><td></td><td colspan="4"><code>{{.Replay}}</code>{{if .Shrink}}<br><code>{{.Shrink}}</code>{{end}}</td></tr>
{{end}}</table>
</details>{{end}}
</body>
</html>
`))

// proxyView rewrites the rows a proxy cannot fill: it sees frames, not
// the nodes' events, writes or stores.
func proxyView(rows []Row) []Row {
	const unseen = "not visible to the proxy (it sees frames, not the nodes)"
	var out []Row
	for _, r := range rows {
		switch r.Name {
		case "resync":
			if i := strings.Index(r.Value, ", answered"); i > 0 {
				r.Value = r.Value[:i] + " (ResyncRequests the Lites sent through the proxy; resync-answered judges the answers)"
			}
		case "nodes", "repair":
			r.Value = unseen
		}
		out = append(out, r)
	}
	return out
}

// liveRows describe a live run: what it was between, its verdict and the
// failures that were the live command's own.
func liveRows(r *results.Run) []Row {
	lv := r.Live
	verdict := lv.Verdict
	if lv.Why != "" {
		verdict += ": " + lv.Why
	}
	rows := []Row{{"live verdict", verdict}, {"live " + lv.Mode, fmt.Sprintf("listening on %s, upstream %s", lv.Listen, lv.Upstream)},
		{"connections", fmt.Sprintf("%d (refused %d), malformed messages %d", lv.Connections, lv.Refused, lv.Malformed)},
		{"violations", fmt.Sprintf("%d (the first is below; all are in the result file)", lv.Count)}}
	if lv.Mode == "proxy" {
		rows = append(rows, Row{"convergence", "not judged by the proxy, which sees frames only (simrun lites judges it)"})
	}
	for _, f := range lv.Failures {
		rows = append(rows, Row{"proxy failure", f})
	}
	if lv.Script != "" {
		rows = append(rows, Row{"faults as a script", lv.Script + " (simrun proxy -script replays it live, simrun run -scenario in the simulator)"})
	}
	return rows
}
