package reports

import (
	"encoding/xml"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/sim"
)

// wireRun is tinyRun with a wire record: lite2 asks for 30/s at 0.25 s,
// renews at 0.4 s asking 20/s and releases at 0.58 s; lite1 asks at
// 0.3 s and never renews, so its 0.2 s lease runs out at 0.5 s; lite1
// gets a snapshot at 0.55 s. Origin's own throttle series (0.4..0.6 for
// lite2) disagree with the frames, as a buggy Origin's would.
func wireRun() *results.Run {
	r := tinyRun()
	r.Throttle = &results.Throttle{DefaultRate: 50, Burst: 8, LeaseS: 0.2}
	th := func(at float64, from int, text string) results.Frame {
		return results.Frame{AtS: at, Dir: "recv", From: from, To: 0, Conn: uint64(from), Type: "Throttle", Text: text}
	}
	r.Control = []results.Frame{
		th(0.25, 2, "Throttle{on, queue 80, rate 30}"),
		th(0.3, 1, "Throttle{on, queue 80, rate server default}"),
		th(0.4, 2, "Throttle{on, queue 90, rate 20}"),
		{AtS: 0.55, Dir: "recv", From: 0, To: 1, Conn: 1, Type: "ShapeSnapshot", Text: "ShapeSnapshot{c0 at lsn 9, 3 docs}"},
		th(0.58, 2, "Throttle{off, queue 20}"),
	}
	return r
}

func TestWireThrottles(t *testing.T) {
	d, err := newRunData(wireRun())
	if err != nil {
		t.Fatal(err)
	}
	got := d.wireThrottles()
	want := map[int][]throttleEpisode{
		1: {{from: 0.3, to: 0.5, rates: [][2]float64{{0.3, 50}}, end: "lease"}},                 // rate 0: the default
		2: {{from: 0.25, to: 0.58, rates: [][2]float64{{0.25, 30}, {0.4, 20}}, end: "release"}}, // renewed in time
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("episodes\n got %+v\nwant %+v", got, want)
	}
	// A renewal exactly one lease after the last request comes too late,
	// as the checker (check.engaged) has it: two episodes.
	r := wireRun()
	r.Control[2].AtS = 0.45
	d, _ = newRunData(r)
	if ep := d.wireThrottles()[2]; len(ep) != 2 || ep[0].end != "lease" || ep[0].to != 0.45 {
		t.Errorf("late renewal: %+v", ep)
	}
	// Without a lease, lite1's throttle holds to the end of the run.
	r = wireRun()
	r.Throttle.LeaseS = 0
	d, _ = newRunData(r)
	if ep := d.wireThrottles()[1]; len(ep) != 1 || ep[0].end != "end" || ep[0].to != d.end {
		t.Errorf("no lease: %+v", ep)
	} // A release on lite2's next connection does not end the throttle of
	// its first (the checker keeps them per connection): that one runs
	// out with its lease.
	r = wireRun()
	r.Control[4].Conn = 7
	d, _ = newRunData(r)
	// (the last renewal at 0.4 plus the 0.2 s lease)
	if ep := d.wireThrottles()[2]; len(ep) != 1 || ep[0].end != "lease" || math.Abs(ep[0].to-0.6) > 1e-9 || len(ep[0].rates) != 2 {
		t.Errorf("release on another connection: %+v, want one episode to 0.6 s ended by the lease", ep)
	}
}

// The push-rate plot draws what the frames asked for, not Origin's own
// throttle series; the strips carry a mark per frame.
func TestPushRateFromTheWire(t *testing.T) {
	figs, err := RunFigures(wireRun())
	if err != nil {
		t.Fatal(err)
	}
	push := find(t, figs, "push-rate")
	var dashed [][][2]float64
	for _, l := range push.Lines {
		if l.Dash && l.Color != "throttle" {
			dashed = append(dashed, l.Points)
		}
	}
	want := [][][2]float64{{{0.3, 50}, {0.5, 50}}, {{0.25, 30}, {0.4, 20}, {0.58, 20}}}
	if !reflect.DeepEqual(dashed, want) {
		t.Errorf("asked rates %v, want %v", dashed, want)
	}
	// The bound over a 0.1 s sample: rate + (8 + 1) / 0.1.
	for _, l := range push.Lines {
		if l.Color == "throttle" && l.Points[0][0] == 0.25 && l.Points[0][1] != 120 {
			t.Errorf("bound %v, want 120 at 0.25", l.Points)
		}
	}
	var bars [][2]float64
	for _, r := range push.Rects {
		bars = append(bars, [2]float64{r.X0, r.X1})
	}
	if !reflect.DeepEqual(bars, [][2]float64{{0.3, 0.5}, {0.25, 0.58}}) {
		t.Errorf("throttle bars %v (from the frames, not origin_throttled's 0.4..0.7)", bars)
	}
	glyphs := map[string]int{}
	for _, m := range push.Marks {
		glyphs[m.Glyph] += len(m.Points)
	}
	if want := map[string]int{"triangle": 3, "dot": 1, "cross": 1}; !reflect.DeepEqual(glyphs, want) {
		t.Errorf("marks %v, want %v (3 Throttle{on}, 1 release, 1 lease expiry)", glyphs, want)
	}
	lag := find(t, figs, "lag")
	var snap []Marks
	for _, m := range lag.Marks {
		if m.Glyph == "square" {
			snap = append(snap, m)
		}
	}
	// lite1's lag at 0.55 is its sample at 0.5: 5.
	if len(snap) != 1 || !reflect.DeepEqual(snap[0].Points, [][2]float64{{0.55, 5}}) {
		t.Errorf("snapshot marks %+v", snap)
	}
}

// A run a violation stopped before heal draws no heal line and says
// nothing of heal in its legends.
func TestNoHealBeyondTheAxis(t *testing.T) {
	r := wireRun()
	r.Pass, r.ConvergeAfter = false, nil
	r.HealS = 8
	r.Violation = &results.Violation{Property: "throttle-rate", AtS: 1.05, Node: "origin", Message: "origin pushed to lite2 on connection 2 faster"}
	figs, err := RunFigures(r)
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) != 4 {
		t.Fatalf("%d figures, want 4 (the fault timeline too)", len(figs))
	}
	for _, f := range figs {
		for _, r := range f.Rules {
			if r.Color == "heal" {
				t.Errorf("%s: a heal rule at %v beyond the axis (max %v)", f.ID, r.V, f.X.Max)
			}
		}
		for _, k := range f.Legend {
			if strings.HasPrefix(k.Text, "heal at") {
				t.Errorf("%s: legend %q although the axis ends at %v", f.ID, k.Text, f.X.Max)
			}
		}
	}
}

func TestRatioAndSummary(t *testing.T) {
	r := wireRun()
	r.Metrics = results.Metrics{ResyncBytes: 2623}
	r.Implementations = &results.Impls{Origin: "reference+ignore-throttle", Lite: "reference"}
	rows := rowsOf(RunPage(r, nil))
	for name, want := range map[string]string{
		"repair":       "ratio n/a: nothing lost",
		"resync":       "ShapeSnapshots delivered 1",
		"throttle":     "3 on (engage or renewal), 1 off",
		"planted bugs": "ignore-throttle (-bug)",
	} {
		if !strings.Contains(rows[name], want) {
			t.Errorf("summary %s = %q, want it to hold %q", name, rows[name], want)
		}
	}
	r.Metrics.RepairedBytes = 1000
	if repair := rowsOf(RunPage(r, nil))["repair"]; !strings.Contains(repair, "2.62x") {
		t.Errorf("repair with bytes lost: %q", repair)
	}
}

func rowsOf(p Page) map[string]string {
	m := map[string]string{}
	for _, row := range p.Summary {
		m[row.Name] = row.Value
	}
	return m
}

// failingRun is a throttle-rate failure with a tail and a wire record
// worked out by hand.
func send(at float64, to int, text string) results.Frame {
	return results.Frame{AtS: at, Dir: "send", From: 0, To: to, Conn: uint64(to), Type: "ShapeDelta", Text: text}
}

func failingRun() *results.Run {
	r := &results.Run{Scenario: "tiny", Seed: 9, TraceHash: "01", EndS: 1.01,
		Throttle: &results.Throttle{DefaultRate: 50, Burst: 2, LeaseS: 5},
		Faults:   []faults.Event{{At: 100e6, Kind: "slow-consumer", Node: 1, For: 2e9, Factor: 0.2}},
		Violation: &results.Violation{Property: "throttle-rate", AtS: 1.004, Node: "origin",
			Message: "origin pushed to lite1 on connection 1 faster than the 10 deltas/s it was asked for (burst 2, slack 1)",
			Tail: []string{
				`{"t":1000000000,"ev":"input","node":0,"in":"frame","conn":1,"type":"Throttle","len":11,"crc":77}`,
				`{"t":1000000000,"ev":"input","node":2,"in":"timer","timer":257}`,
				`{"t":1001000000,"ev":"input","node":1,"in":"timer","timer":257}`,
				`{"t":1001000000,"ev":"input","node":0,"in":"timer","timer":1}`,
				`{"t":1002000000,"ev":"send","node":0,"peer":1,"conn":1,"type":"ShapeDelta","len":50}`,
				`{"t":1002000000,"ev":"send","node":0,"peer":2,"conn":2,"type":"ShapeDelta","len":50}`,
				`{"t":1003000000,"ev":"event","node":2,"event":"applied","collection":"c1","lsn":4}`,
				`{"t":1003000000,"ev":"send","node":0,"peer":1,"conn":1,"type":"ShapeDelta","len":51}`,
				`{"t":1004000000,"ev":"send","node":0,"peer":1,"conn":1,"type":"ShapeDelta","len":52}`,
				`{"t":1004000000,"ev":"send","node":0,"peer":1,"conn":1,"type":"ShapeDelta","len":53}`,
			}}}
	r.Control = []results.Frame{
		{AtS: 0.02, Dir: "recv", From: 1, To: 0, Conn: 1, Type: "Handshake", Text: "Handshake{lite 1, epoch 1, 1 shapes}"},
		{AtS: 1.0, Dir: "recv", From: 1, To: 0, Conn: 1, Type: "Throttle", CRC: 77, Text: "Throttle{on, queue 768, rate 10}"},
	}
	r.Wire = []results.Frame{
		{AtS: 0.998, Dir: "send", From: 1, To: 0, Conn: 1, Type: "Throttle", Text: "Throttle{on, queue 768, rate 10}"},
		r.Control[1],
		send(1.002, 1, "ShapeDelta{c0/d1 UPDATE lsn 10}"),
		send(1.002, 2, "ShapeDelta{c0/d1 UPDATE lsn 10}"),
		send(1.003, 1, "ShapeDelta{c0/d2 UPDATE lsn 11}"),
		{AtS: 1.0035, Dir: "recv", From: 0, To: 1, Conn: 1, Type: "ShapeDelta", Text: "ShapeDelta{c0/d1 UPDATE lsn 10}"},
		send(1.004, 1, "ShapeDelta{c0/d3 UPDATE lsn 12}"),
		send(1.004, 1, "ShapeDelta{c0/d4 UPDATE lsn 13}"),
	}
	return r
}

func TestStory(t *testing.T) {
	concern, all := Story(failingRun())
	var got []string
	for _, s := range all {
		got = append(got, s.String())
	}
	want := []string{
		"   1.0000 s  lite1 → origin Throttle{on, queue 768, rate 10} arrives (conn 1)",
		"   1.0000 s  3 timer ticks folded (lite2, lite1, origin), to 1.0010 s",
		"   1.0020 s  origin → lite1 ShapeDelta{c0/d1 UPDATE lsn 10} sent (conn 1)",
		"   1.0020 s  origin → lite2 ShapeDelta{c0/d1 UPDATE lsn 10} sent (conn 2)",
		"   1.0030 s  lite2 applied: collection c1, lsn 4",
		"   1.0030 s  origin → lite1 ShapeDelta{c0/d2 UPDATE lsn 11} sent (conn 1)",
		"   1.0040 s  origin → lite1 ShapeDelta{c0/d3 UPDATE lsn 12} sent (conn 1)",
		"   1.0040 s  origin → lite1 ShapeDelta{c0/d4 UPDATE lsn 13} sent (conn 1)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events\n got %q\nwant %q", got, want)
	}
	if all[1].Folded != 3 {
		t.Errorf("folded %d ticks, want 3", all[1].Folded)
	}
	// Those that concern connection 1 (the violation names it): the
	// handshake from earlier, the Throttle, lite1's four deltas; not
	// lite2's delta or apply, not the timers.
	got = nil
	for _, s := range concern {
		got = append(got, s.Text)
	}
	want = []string{
		"lite1 → origin Handshake{lite 1, epoch 1, 1 shapes} arrives (conn 1; earlier in the run)",
		"lite1 → origin Throttle{on, queue 768, rate 10} arrives (conn 1)",
		"origin → lite1 ShapeDelta{c0/d1 UPDATE lsn 10} sent (conn 1)",
		"origin → lite1 ShapeDelta{c0/d2 UPDATE lsn 11} sent (conn 1)",
		"origin → lite1 ShapeDelta{c0/d3 UPDATE lsn 12} sent (conn 1)",
		"origin → lite1 ShapeDelta{c0/d4 UPDATE lsn 13} sent (conn 1)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("concern\n got %q\nwant %q", got, want)
	}
	// Without a wire record (an older file) frames are named by type.
	r := failingRun()
	r.Wire, r.Control = nil, nil
	_, all = Story(r)
	if all[0].Text != "origin receives Throttle, 11 bytes (conn 1)" || all[2].Text != "origin → lite1 ShapeDelta, 50 bytes sent (conn 1)" {
		t.Errorf("without the wire: %q, %q", all[0].Text, all[2].Text)
	}
	// A duplicated frame is sent twice in the trace and once on the wire;
	// a dropped one has a drop and no send.
	r = failingRun()
	r.Violation.Tail = append(r.Violation.Tail,
		`{"t":1005000000,"ev":"send","node":0,"peer":2,"conn":2,"type":"ShapeDelta","len":50}`,
		`{"t":1005000000,"ev":"send","node":0,"peer":2,"conn":2,"type":"ShapeDelta","len":50}`,
		`{"t":1006000000,"ev":"drop","node":0,"peer":1,"conn":1,"type":"ShapeDelta","len":50}`,
		`{"t":1006000000,"ev":"send","node":0,"peer":1,"conn":1,"type":"ShapeDelta","len":50}`)
	r.Wire = append(r.Wire, send(1.005, 2, "ShapeDelta{c0/d5 UPDATE lsn 14}"),
		send(1.006, 1, "ShapeDelta{c0/d6 UPDATE lsn 15}"), send(1.006, 1, "ShapeDelta{c0/d7 UPDATE lsn 16}"))
	_, all = Story(r)
	got = nil
	for _, s := range all[len(all)-4:] {
		got = append(got, s.Text)
	}
	want = []string{
		"origin → lite2 ShapeDelta{c0/d5 UPDATE lsn 14} sent (conn 2)",
		"origin → lite2 ShapeDelta{c0/d5 UPDATE lsn 14} again (a second delivery: duplicated) sent (conn 2)",
		"origin → lite1 ShapeDelta{c0/d6 UPDATE lsn 15} dropped by a fault (conn 1)",
		"origin → lite1 ShapeDelta{c0/d7 UPDATE lsn 16} sent (conn 1)",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("drop and duplicate\n got %q\nwant %q", got, want)
	}
	text := StoryText(failingRun(), 50)
	for _, w := range []string{"what led to it", "last 8 events (timer ticks folded)", "Throttle{on, queue 768, rate 10} arrives"} {
		if !strings.Contains(text, w) {
			t.Errorf("StoryText lacks %q:\n%s", w, text)
		}
	}
}

func TestFocusOf(t *testing.T) {
	for _, tc := range []struct {
		v    results.Violation
		want focus
	}{
		{results.Violation{Node: "origin", Message: "origin pushed to lite1 on connection 3 faster"}, focus{nodes: map[int]bool{0: true, 1: true}, conn: 3}},
		{results.Violation{Node: "lite2", Message: "lite2 applied LSN 41 of c1 after 39"}, focus{nodes: map[int]bool{2: true}, coll: "c1"}},
		{results.Violation{Node: "lite12", Message: "not converged"}, focus{nodes: map[int]bool{12: true}}},
	} {
		if got := focusOf(&tc.v); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: %+v, want %+v", tc.v.Message, got, tc.want)
		}
	}
}

func TestExplain(t *testing.T) {
	// Throttle at 1.0; four deltas to lite1 on conn 1 by 1.004 (the one
	// to lite2 is another connection); bucket 2 + 1 + 10 × 0.004.
	got := Explain(failingRun())
	want := "lite1 asked Origin for 10 deltas/s (Throttle{on, queue 768, rate 10}, arrived 1.0000 s). In the 0.0040 s from then to the violation Origin sent 4 ShapeDeltas on connection 1; the token bucket allows at most burst 2 + slack 1 + 10/s × 0.0040 s = 3.0 (less where a pause already filled it)."
	if got != want {
		t.Errorf("explain\n got %q\nwant %q", got, want)
	}
	r := failingRun()
	r.Violation.Property = "convergence"
	if got := Explain(r); got != "" {
		t.Errorf("explain of another property: %q", got)
	}
}

// svgDoc is the part of an SVG the sequence test reads.
type svgDoc struct {
	Lines []struct {
		Class string `xml:"class,attr"`
		Title string `xml:"title"`
	} `xml:"line"`
	Texts []struct {
		Class string `xml:"class,attr"`
		Text  string `xml:",chardata"`
	} `xml:"text"`
	Rects []struct {
		Class string `xml:"class,attr"`
	} `xml:"rect"`
}

func TestSequence(t *testing.T) {
	sq, ok := SequenceOf(failingRun())
	if !ok {
		t.Fatal("no sequence")
	}
	if !reflect.DeepEqual(sq.Nodes, []int{0, 1, 2}) {
		t.Errorf("columns %v", sq.Nodes)
	}
	// 6 arrows: the Throttle (sent 0.998, delivered 1.0), the first delta
	// to lite1 (delivered 1.0035), and four deltas not delivered in the
	// window.
	var delivered, lost int
	for _, a := range sq.Arrows {
		if a.Lost {
			lost++
		} else {
			delivered++
		}
	}
	if delivered != 2 || lost != 4 || sq.Arrows[0].RecvS != 1.0 || sq.Arrows[1].RecvS != 1.0035 {
		t.Errorf("arrows %+v", sq.Arrows)
	}
	if len(sq.Faults) != 1 || sq.Faults[0].Label != "slow-consumer (drains ×0.2, 2s)" {
		t.Errorf("faults %+v", sq.Faults)
	}
	var doc svgDoc
	svg := sq.SVG()
	if err := xml.Unmarshal([]byte(svg), &doc); err != nil {
		t.Fatalf("not XML: %v\n%s", err, svg)
	}
	arrows, undelivered, viol := 0, 0, 0
	for _, l := range doc.Lines {
		switch {
		case strings.HasPrefix(l.Class, "arrow"):
			arrows++
			if strings.Contains(l.Class, "undelivered") {
				undelivered++
			}
		case l.Class == "violation":
			viol++
		}
	}
	if arrows != 6 || undelivered != 4 || viol != 1 {
		t.Errorf("svg: %d arrows (%d undelivered), %d violation lines", arrows, undelivered, viol)
	}
	var frames, nodes []string
	for _, x := range doc.Texts {
		switch x.Class {
		case "frame":
			frames = append(frames, x.Text)
		case "node":
			nodes = append(nodes, x.Text)
		}
	}
	if !reflect.DeepEqual(nodes, []string{"origin", "lite1", "lite2"}) || frames[0] != "Throttle{on, queue 768, rate 10}" || len(frames) != 6 {
		t.Errorf("svg texts: nodes %q, frames %q", nodes, frames)
	}
	if strings.Contains(svg, "<script") {
		t.Error("svg holds a script")
	}
}

func TestSweepPageGroupsAndSaysWhatRan(t *testing.T) {
	s := tinySweep()
	s.Implementations = &results.Impls{Origin: "reference+ignore-throttle", Lite: "reference+ignore-throttle"}
	s.Version = "v1.2.3"
	for seed := uint64(6); seed <= 10; seed++ {
		s.Runs = append(s.Runs, results.Run{Scenario: "tiny", Seed: seed, Replay: "r",
			Violation: &results.Violation{Property: "throttle-rate", AtS: 1, Node: "origin",
				Message: "origin pushed to lite1 on connection " + string(rune('0'+seed%10)) + " faster than the 40 deltas/s"}})
	}
	p := SweepPage(s, nil, map[uint64]string{6: "seed-6/index.html"})
	if rows := rowsOf(p); rows["planted bugs"] != "ignore-throttle (-bug)" || rows["simrun version"] != "v1.2.3" {
		t.Errorf("summary %v", rows)
	}
	// Five throttle-rate failures that differ only in numbers make one
	// group, shown first; 3 shown, 2 listed.
	g := p.Groups[0]
	if len(p.Groups) != 3 || g.Property != "throttle-rate" || g.Count != 5 || len(g.Shown) != 3 || len(g.Rest) != 2 ||
		g.Cause != "origin pushed to liteN on connection N faster than the N deltas/s" || g.Shown[0].Report != "seed-6/index.html" {
		t.Errorf("groups %+v", p.Groups)
	}
}

// A failure's page tells the story and draws the diagram, the same bytes
// every time.
func TestFailurePage(t *testing.T) {
	var pages []string
	for range 2 {
		var b strings.Builder
		if err := WriteHTML(&b, RunPage(failingRun(), nil), false); err != nil {
			t.Fatal(err)
		}
		pages = append(pages, b.String())
	}
	if pages[0] != pages[1] {
		t.Fatal("two renderings of one failure differ")
	}
	for _, want := range []string{
		`<h3 id="sequence">Sequence diagram of the failing window</h3>`,
		`<svg xmlns="http://www.w3.org/2000/svg" class="sequence"`,
		`<li><span class="t">1.0000 s</span> lite1 → origin Throttle{on, queue 768, rate 10} arrives (conn 1)</li>`,
		`3 timer ticks folded (lite2, lite1, origin), to 1.0010 s`,
		`<td class="why">lite1 asked Origin for 10 deltas/s`,
	} {
		if !strings.Contains(pages[0], want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	if strings.Contains(pages[0], "<script") || strings.Contains(pages[0], `{&#34;t&#34;`) {
		t.Error("the page holds a script or raw trace JSON")
	}
}

// A live proxy's result has frames and no trace tail: its story is told
// from the frames, up to the violation.
func TestStoryFromFramesAlone(t *testing.T) {
	r := &results.Run{Violation: &results.Violation{Property: "throttle-rate", AtS: 1.5, Node: "origin",
		Message: "origin pushed to lite2 on connection 7 faster than the 40 deltas/s it was asked for"},
		Wire: []results.Frame{
			{AtS: 1.0, Dir: "send", From: 2, To: 0, Conn: 7, Type: "Throttle", Text: "Throttle{on, queue 768, rate 40}"},
			{AtS: 1.1, Dir: "recv", From: 2, To: 0, Conn: 7, Type: "Throttle", Text: "Throttle{on, queue 768, rate 40}"},
			{AtS: 1.2, Dir: "send", From: 0, To: 1, Conn: 3, Type: "ShapeDelta", Text: "ShapeDelta{c0/d1 UPDATE lsn 5}"},
			{AtS: 1.9, Dir: "send", From: 0, To: 2, Conn: 7, Type: "ShapeDelta", Text: "ShapeDelta{c0/d2 UPDATE lsn 6}"},
		}}
	concern, all := Story(r)
	if len(all) != 3 {
		t.Fatalf("%d sentences, want the 3 frames up to the violation: %v", len(all), all)
	}
	if want := "lite2 → origin Throttle{on, queue 768, rate 40} arrives (conn 7)"; all[1].Text != want {
		t.Errorf("sentence %q, want %q", all[1].Text, want)
	}
	if len(concern) != 2 || concern[0].AtS != 1.0 || concern[1].AtS != 1.1 {
		t.Errorf("concern %v: want the two frames on connection 7", concern)
	}
}

// A record of control frames that stops short of the run's end (a fan-out
// fills it with handshakes) is not read as the whole run: the counts come
// from wire_counts, the episodes give way to the Lites' series, and the
// rows and figures say where the record stops. A file without wire_counts
// is counted from its frames (an undecodable Throttle is neither on nor off).
func TestControlRecordThatStopsShort(t *testing.T) {
	r := wireRun()
	r.Control = append(r.Control, results.Frame{AtS: 0.59, Dir: "recv", From: 1, To: 0, Conn: 1, Type: "Throttle", Text: "Throttle (undecodable: 9 bytes)"})
	if on, off, ok := ThrottleCounts(r); on != 3 || off != 1 || !ok {
		t.Errorf("counted from the frames: on %d off %d ok %t, want 3, 1, true", on, off, ok)
	}
	if n, ok := SnapshotCount(r); n != 1 || !ok {
		t.Errorf("snapshots from the frames: %d %t, want 1 true", n, ok)
	}
	if on, off, ok := ThrottleCounts(tinyRun()); on != 0 || off != 0 || ok {
		t.Errorf("no wire record: on %d off %d ok %t, want nothing", on, off, ok)
	}
	if note := ControlNote(r); note != "" {
		t.Errorf("a record without wire_counts has a note: %q", note)
	}

	// The record is full at its 6 frames (a real one at 4,096).
	r.WireCounts = &results.WireCounts{ThrottleOn: 2678, ThrottleOff: 1654, Snapshots: 1197, ControlKept: len(r.Control), ControlNotKept: 25866, ControlFullS: 0.06}
	if on, off, ok := ThrottleCounts(r); on != 2678 || off != 1654 || !ok {
		t.Errorf("from wire_counts: on %d off %d ok %t", on, off, ok)
	}
	if n, _ := SnapshotCount(r); n != 1197 {
		t.Errorf("snapshots from wire_counts: %d", n)
	}
	note := "the wire record keeps the first 6 control frames, to 0.06s; 25866 more were delivered and not kept (the counts of Throttle and ShapeSnapshot frames include them)"
	if got := ControlNote(r); got != note {
		t.Errorf("note %q\nwant %q", got, note)
	}
	if row := throttleRow(r); !strings.Contains(row, "Throttle frames Origin received: 2678 on (engage or renewal), 1654 off") {
		t.Errorf("throttle row without the whole run's counts: %q", row)
	}
	if row := resyncRow(r); !strings.Contains(row, "ShapeSnapshots delivered 1197") {
		t.Errorf("resync row without the whole run's count: %q", row)
	}
	if !strings.Contains(throttleRow(r), note) {
		t.Errorf("throttle row without the note: %q", throttleRow(r))
	}
	d, err := newRunData(r)
	if err != nil {
		t.Fatal(err)
	}
	if ep := d.wireThrottles(); ep != nil {
		t.Errorf("episodes from a record that stops short: %+v", ep)
	}
	f := d.queueFigure()
	if !strings.Contains(f.Note, "the Lites' own reports") || !strings.Contains(f.Note, note) {
		t.Errorf("queue figure note %q", f.Note)
	}
	if f := d.lagFigure(); !strings.Contains(f.Note, "ShapeSnapshots are drawn to 0.06s only") || !strings.Contains(fmt.Sprint(f.Legend), "ShapeSnapshot received (1 of 1197)") {
		t.Errorf("lag figure note %q, legend %+v", f.Note, f.Legend)
	}
	// A throttle-rate failure after the record's end is not explained
	// from the last Throttle the record holds.
	r.Violation = &results.Violation{Property: "throttle-rate", AtS: 0.9, Node: "origin", Message: "origin pushed to lite2 on connection 2 faster"}
	if why := Explain(r); why != "" {
		t.Errorf("explained from a record that stops at 0.06 s: %q", why)
	}
	whole := *r
	whole.WireCounts = &results.WireCounts{ControlKept: results.MaxControlFrames}
	if why := Explain(&whole); why == "" {
		t.Errorf("the same failure with the whole record is not explained: the test above proves nothing")
	}
	if early := earlyControl(&whole, focus{nodes: map[int]bool{1: true, 2: true}}, 0.8); len(early) == 0 || strings.Contains(early[len(early)-1].Text, "not shown") {
		t.Errorf("early control frames of a whole record: %+v", early)
	}
	if early := earlyControl(r, focus{nodes: map[int]bool{1: true, 2: true}}, 0.8); len(early) == 0 || !strings.Contains(early[len(early)-1].Text, "the control frames after this are not shown") {
		t.Errorf("early control frames without the record's end: %+v", early)
	}
	r.Violation = nil

	// A file from before wire_counts with a full record may stop short.
	old := wireRun()
	for len(old.Control) < results.MaxControlFrames {
		old.Control = append(old.Control, results.Frame{AtS: 0.7, Dir: "recv", From: 0, To: 1, Conn: 1, Type: "HandshakeAck", Text: "HandshakeAck{ok}"})
	}
	if note := ControlNote(old); !strings.Contains(note, "may stop there") || !truncated(old) {
		t.Errorf("an older full record: note %q, truncated %t", note, truncated(old))
	}

	r.WireCounts.ControlNotKept, r.WireCounts.ControlFullS = 0, 0 // all kept
	d, _ = newRunData(r)
	if d.wireThrottles() == nil || ControlNote(r) != "" {
		t.Errorf("a whole record is read as one that stops short")
	}
}

// The repair row names the deltas Lites dropped from full queues: a run
// with no fault that resyncs megabytes says why.
func TestRepairRowNamesQueueOverflows(t *testing.T) {
	r := tinyRun()
	r.Metrics = results.Metrics{ResyncBytes: 18347022}
	if repair := rowsOf(RunPage(r, nil))["repair"]; strings.Contains(repair, "full Lite queues") {
		t.Errorf("no overflow, yet: %q", repair)
	}
	r.Counters = &sim.Counters{QueueOverflows: 90756}
	want := "for 0 bytes lost to faults (ratio n/a: nothing lost to faults), and 90756 deltas dropped by full Lite queues"
	if repair := rowsOf(RunPage(r, nil))["repair"]; !strings.Contains(repair, want) {
		t.Errorf("repair row %q, want it to hold %q", repair, want)
	}
}
