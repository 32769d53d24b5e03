package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/syncsim/syncsim/results"
)

// Sentence is one trace event told as a sentence: "1.3345 s lite1 →
// origin Throttle{on, queue 768, rate 40} arrives (conn 1)". Concerns says
// it involves what the violation names (its node, connection or
// collection); Folded counts the timer ticks a folded sentence stands for.
type Sentence struct {
	AtS      float64
	Text     string
	Concerns bool
	Folded   int
}

func (s Sentence) String() string { return fmt.Sprintf("%9.4f s  %s", s.AtS, s.Text) }

// traceEvent is one tail entry as the trace writes it (sim.TraceEvent's
// JSON form); Extra holds an event's own fields, in order.
type traceEvent struct {
	T     int64
	Ev    string
	Node  int
	Peer  int
	Conn  uint64
	In    string
	Type  string
	Len   int
	CRC   uint32
	Timer uint64
	Write string
	Fault string
	Arg   uint64
	By    int
	Event string
	Extra [][2]string
}

// parseTraceEvent reads one tail line; an unreadable one is kept as text.
func parseTraceEvent(line string) (traceEvent, bool) {
	var e traceEvent
	dec := json.NewDecoder(strings.NewReader(line))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return e, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return e, false
		}
		key, _ := tok.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return e, false
		}
		var str string
		if json.Unmarshal(raw, &str) != nil {
			str = string(raw)
		}
		n, _ := strconv.ParseInt(str, 10, 64)
		switch key {
		case "t":
			e.T = n
		case "ev":
			e.Ev = str
		case "node":
			e.Node = int(n)
		case "peer":
			if e.Ev == "event" {
				e.Extra = append(e.Extra, [2]string{key, str})
			} else {
				e.Peer = int(n)
			}
		case "conn":
			e.Conn = uint64(n)
		case "in":
			e.In = str
		case "type":
			e.Type = str
		case "len":
			e.Len = int(n)
		case "crc":
			e.CRC = uint32(n)
		case "timer":
			e.Timer = uint64(n)
		case "write":
			e.Write = str
		case "fault":
			e.Fault = str
		case "arg":
			e.Arg = uint64(n)
		case "by":
			e.By = int(n)
		case "event":
			e.Event = str
		default:
			e.Extra = append(e.Extra, [2]string{key, str})
		}
	}
	return e, true
}

// focus is what a violation names: nodes, a connection, a collection.
type focus struct {
	nodes map[int]bool
	conn  uint64 // 0: none named
	coll  string
}

var (
	reLite = regexp.MustCompile(`\blite(\d+)\b`)
	reConn = regexp.MustCompile(`\bconnection (\d+)\b`)
	reColl = regexp.MustCompile(`\bof (c\d+)\b`)
)

// focusOf reads what the violation's sentence names.
func focusOf(v *results.Violation) focus {
	f := focus{nodes: map[int]bool{}}
	if v == nil {
		return f
	}
	text := v.Node + " " + v.Message
	for _, m := range reLite.FindAllStringSubmatch(text, -1) {
		n, _ := strconv.Atoi(m[1])
		f.nodes[n] = true
	}
	if strings.Contains(text, "origin") {
		f.nodes[0] = true
	}
	if m := reConn.FindStringSubmatch(text); m != nil {
		f.conn, _ = strconv.ParseUint(m[1], 10, 64)
	}
	if m := reColl.FindStringSubmatch(text); m != nil {
		f.coll = m[1]
	}
	return f
}

// concerns reports whether an event involves what the violation names:
// the connection when it names one, else its Lites, or the collection.
func (f focus) concerns(e *traceEvent) bool {
	if e.Ev == "input" && e.In == "timer" {
		return false
	}
	if f.coll != "" {
		if strings.HasPrefix(e.Write, f.coll+"/") {
			return true
		}
		for _, kv := range e.Extra {
			if kv[0] == "collection" && kv[1] == f.coll {
				return true
			}
		}
	}
	if f.conn != 0 {
		return e.Conn == f.conn || e.Ev == "event" && f.nodes[e.Node] && e.Node != 0 || e.Ev == "fault" && f.nodes[e.Node]
	}
	lites := 0
	for n := range f.nodes {
		if n != 0 {
			lites++
		}
	}
	if lites == 0 {
		return f.nodes[e.Node] && e.Ev != "input"
	}
	return e.Node != 0 && f.nodes[e.Node] || e.Peer != 0 && f.nodes[e.Peer]
}

// frameIndex finds the decoded text of a frame the tail names, in the
// result's wire record: a send by (time, from, conn, type), a delivery by
// (time, to, conn, CRC).
type frameIndex struct {
	sends map[string][]results.Frame
	recvs map[string]results.Frame
	last  map[string]results.Frame // the send last taken, per key
}

func sendKey(t float64, from int, conn uint64, typ string) string {
	return fmt.Sprintf("%.9f/%d/%d/%s", t, from, conn, typ)
}

func recvKey(t float64, to int, conn uint64, crc uint32) string {
	return fmt.Sprintf("%.9f/%d/%d/%d", t, to, conn, crc)
}

func newFrameIndex(r *results.Run) frameIndex {
	x := frameIndex{sends: map[string][]results.Frame{}, recvs: map[string]results.Frame{}, last: map[string]results.Frame{}}
	for _, fs := range [][]results.Frame{r.Control, r.Wire} {
		for _, f := range fs {
			if f.Dir == "send" {
				k := sendKey(f.AtS, f.From, f.Conn, f.Type)
				x.sends[k] = append(x.sends[k], f)
			} else {
				x.recvs[recvKey(f.AtS, f.To, f.Conn, f.CRC)] = f
			}
		}
	}
	return x
}

// send takes the next frame sent at that instant (a node may send two of
// a type in one step). The trace has a send per delivery scheduled, so a
// frame a fault duplicated is sent twice: the second finds none left and
// is that frame again (dup is true).
func (x frameIndex) send(t float64, from int, conn uint64, typ string) (f results.Frame, dup, ok bool) {
	k := sendKey(t, from, conn, typ)
	fs := x.sends[k]
	if len(fs) == 0 {
		f, ok = x.last[k]
		return f, ok, ok
	}
	x.sends[k] = fs[1:]
	x.last[k] = fs[0]
	return fs[0], false, true
}

// sentence tells one trace event.
func (x frameIndex) sentence(e *traceEvent) string {
	t := float64(e.T) / 1e9
	node := nodeName(e.Node)
	switch e.Ev {
	case "input":
		switch e.In {
		case "frame":
			text := e.Type
			if f, ok := x.recvs[recvKey(t, e.Node, e.Conn, e.CRC)]; ok {
				text = f.Text
				if f.Altered {
					text += " (altered in transit)"
				}
				return fmt.Sprintf("%s → %s %s arrives (conn %d)", nodeName(f.From), node, text, e.Conn)
			}
			return fmt.Sprintf("%s receives %s, %d bytes (conn %d)", node, text, e.Len, e.Conn)
		case "timer":
			return fmt.Sprintf("%s timer %d fires", node, e.Timer)
		case "write":
			return fmt.Sprintf("%s local write %s (%d bytes)", node, e.Write, e.Len)
		}
		if e.Conn != 0 {
			return fmt.Sprintf("%s %s (conn %d)", node, e.In, e.Conn)
		}
		return node + " " + e.In
	case "send":
		text := fmt.Sprintf("%s, %d bytes", e.Type, e.Len)
		if f, dup, ok := x.send(t, e.Node, e.Conn, e.Type); ok {
			text = f.Text
			if dup {
				text += " again (a second delivery: duplicated)"
			}
		}
		return fmt.Sprintf("%s → %s %s sent (conn %d)", node, nodeName(e.Peer), text, e.Conn)
	case "drop":
		text := e.Type
		if f, _, ok := x.send(t, e.Node, e.Conn, e.Type); ok {
			text = f.Text
		}
		return fmt.Sprintf("%s → %s %s dropped by a fault (conn %d)", node, nodeName(e.Peer), text, e.Conn)
	case "lost":
		return fmt.Sprintf("%s → %s %s lost: the connection or node is gone (conn %d)", node, nodeName(e.Peer), e.Type, e.Conn)
	case "close":
		by := "reset"
		if e.By >= 0 {
			by = "closed by " + nodeName(e.By)
		}
		return fmt.Sprintf("connection %d %s–%s %s", e.Conn, node, nodeName(e.Peer), by)
	case "crash":
		return node + " crashes"
	case "restart":
		return node + " restarts"
	case "fault":
		s := fmt.Sprintf("fault %s on %s", e.Fault, node)
		if e.Peer != 0 || e.Conn != 0 {
			s += fmt.Sprintf(" → %s (conn %d)", nodeName(e.Peer), e.Conn)
		}
		if e.Type != "" {
			s += " hits " + e.Type
		}
		return s
	case "event":
		var parts []string
		for _, kv := range e.Extra {
			parts = append(parts, kv[0]+" "+kv[1])
		}
		if len(parts) == 0 {
			return node + " " + e.Event
		}
		return fmt.Sprintf("%s %s: %s", node, e.Event, strings.Join(parts, ", "))
	}
	return node + " " + e.Ev
}

// Story tells a failed run's last trace events as sentences, with frames
// decoded from the result's wire record when it has one and runs of timer
// ticks folded into one sentence. It returns the events that concern the
// violation (its node, connection, collection), preceded by the control
// frames on that connection from earlier in the run, and then every event
// in order.
func Story(r *results.Run) (concern, all []Sentence) {
	v := r.Violation
	if v == nil {
		return nil, nil
	}
	fo := focusOf(v)
	if len(v.Tail) == 0 {
		return wireStory(r, fo)
	}
	x := newFrameIndex(r)
	first := -1.0
	var ticking []string // the nodes of the timer ticks being folded
	for _, line := range v.Tail {
		e, ok := parseTraceEvent(line)
		if !ok {
			all = append(all, Sentence{Text: line})
			continue
		}
		t := float64(e.T) / 1e9
		if first < 0 {
			first = t
		}
		if e.Ev == "input" && e.In == "timer" {
			if n := len(all); n > 0 && all[n-1].Folded > 0 {
				last := &all[n-1]
				last.Folded++
				if name := nodeName(e.Node); !slices.Contains(ticking, name) {
					ticking = append(ticking, name)
				}
				last.Text = fmt.Sprintf("%d timer ticks folded (%s), to %.4f s", last.Folded, strings.Join(ticking, ", "), t)
				continue
			}
			ticking = []string{nodeName(e.Node)}
			all = append(all, Sentence{AtS: t, Text: x.sentence(&e), Folded: 1})
			continue
		}
		s := Sentence{AtS: t, Text: x.sentence(&e), Concerns: fo.concerns(&e)}
		all = append(all, s)
		if s.Concerns {
			concern = append(concern, s)
		}
	}
	return append(earlyControl(r, fo, first), concern...), all
}

// earlyControl are the control frames that set up what broke, delivered
// before the window that starts at first (at most 5).
func earlyControl(r *results.Run, fo focus, first float64) []Sentence {
	var early []Sentence
	for _, f := range r.Control {
		lite := f.From + f.To // one end is Origin (0)
		if f.AtS >= first || f.Dir != "recv" || fo.conn != 0 && f.Conn != fo.conn || fo.conn == 0 && !fo.nodes[lite] {
			continue
		}
		early = append(early, Sentence{AtS: f.AtS, Text: fmt.Sprintf("%s → %s %s arrives (conn %d; earlier in the run)", nodeName(f.From), nodeName(f.To), f.Text, f.Conn), Concerns: true})
	}
	if end, short := controlEnd(r); short && end < first {
		early = append(early, Sentence{AtS: end, Text: "(" + ControlNote(r) + ": the control frames after this are not shown)"})
	}
	if len(early) > 5 {
		early = early[len(early)-5:]
	}
	return early
}

// wireStory tells a run whose result has frames but no trace tail (a live
// proxy's): a sentence per frame sent or delivered up to the violation.
func wireStory(r *results.Run, fo focus) (concern, all []Sentence) {
	first := -1.0
	for _, f := range r.Wire {
		if f.AtS > r.Violation.AtS {
			break
		}
		if first < 0 {
			first = f.AtS
		}
		verb := "arrives"
		if f.Dir == "send" {
			verb = "sent"
		}
		lite := f.From + f.To // one end is Origin (0)
		s := Sentence{AtS: f.AtS, Text: fmt.Sprintf("%s → %s %s %s (conn %d)", nodeName(f.From), nodeName(f.To), f.Text, verb, f.Conn),
			Concerns: fo.conn != 0 && f.Conn == fo.conn || fo.conn == 0 && fo.nodes[lite]}
		all = append(all, s)
		if s.Concerns {
			concern = append(concern, s)
		}
	}
	if first < 0 {
		return nil, nil
	}
	return append(earlyControl(r, fo, first), concern...), all
}

// StoryText is Story as the lines the command line prints: the events
// that concern the violation, then the last n events in order.
func StoryText(r *results.Run, n int) string {
	concern, all := Story(r)
	var b bytes.Buffer
	if len(concern) > 0 {
		fmt.Fprintf(&b, "what led to it (events that concern the violation):\n")
		for _, s := range concern[max(0, len(concern)-n):] {
			b.WriteString("  " + s.String() + "\n")
		}
	}
	all = all[max(0, len(all)-n):]
	fmt.Fprintf(&b, "last %d events (timer ticks folded):\n", len(all))
	for _, s := range all {
		b.WriteString("  " + s.String() + "\n")
	}
	return b.String()
}

// Explain says in one sentence, from the wire record, why the violated
// property failed, where the record allows it ("" otherwise). For
// throttle-rate: when the Throttle arrived, what it asked, and how many
// ShapeDeltas Origin sent on that connection against what the token
// bucket allowed.
func Explain(r *results.Run) string {
	v := r.Violation
	if v == nil || v.Property != "throttle-rate" || len(r.Control) == 0 {
		return ""
	}
	if end, short := controlEnd(r); short && v.AtS > end {
		return "" // the record stops before the violation: its last Throttle need not be the one that counts
	}
	fo := focusOf(v)
	var asked *results.Frame
	for i := range r.Control {
		f := &r.Control[i]
		if f.Dir == "recv" && f.Type == "Throttle" && f.To == 0 && (fo.conn == 0 || f.Conn == fo.conn) && f.AtS <= v.AtS {
			if on, _ := throttleFrame(f.Text); on {
				asked = f
			}
		}
	}
	if asked == nil {
		return ""
	}
	_, rate := throttleFrame(asked.Text)
	burst, slack := 0.0, r.Throttle.SlackFrames()
	if th := r.Throttle; th != nil {
		burst = th.Burst
		if rate == 0 {
			rate = th.DefaultRate
		}
	}
	sent, partial := 0, len(r.Wire) > 0 && r.Wire[0].AtS > asked.AtS
	for _, f := range r.Wire {
		if f.Dir == "send" && f.Type == "ShapeDelta" && f.From == 0 && f.Conn == asked.Conn && f.AtS >= asked.AtS && f.AtS <= v.AtS {
			sent++
		}
	}
	dt := v.AtS - asked.AtS
	atLeast := ""
	if partial {
		atLeast = "at least "
	}
	return fmt.Sprintf("%s asked Origin for %s deltas/s (%s, arrived %.4f s). In the %.4f s from then to the violation Origin sent %s%d ShapeDeltas on connection %d; the token bucket allows at most burst %s + slack %s + %s/s × %.4f s = %.1f (less where a pause already filled it).",
		nodeName(asked.From), num(rate), asked.Text, asked.AtS, dt, atLeast, sent, asked.Conn, num(burst), num(slack), num(rate), dt, burst+slack+rate*dt)
}
