package simtest

// Transcript tests, in the style of etcd raft's datadriven tests: a file
// is one scenario, a list of blocks
//
//	# a comment
//	<command> [args...]
//	[input lines]
//	----
//	<expected output lines>
//
// separated by blank lines. The driver steps the node directly, with no
// kernel: it keeps the virtual clock and the node's pending timers itself,
// and prints, for each command, one line per effect the node recorded.
// Nothing reaches the node unless a command delivers it: a dial is only
// printed, and the transcript says whether it opened (conn-up) or failed
// (conn-down conn=0).
//
// Commands:
//
//	start [key=value...]      build the node (the arguments go to NewNode) and step it with InStart
//	crash                     Crash the node; its pending timers die (until restart,
//	                          only advance may follow)
//	restart                   step a crashed node with InRestart
//	conn-up conn=N peer=P     InConnUp
//	conn-down conn=N          InConnDown (conn=0: a dial failed)
//	frame conn=N [peer=P] T   InFrame with a message of type T (a name such as
//	                          DeltaAck, or a type byte), its JSON on the next line
//	                          (the form `simrun wire encode` reads)
//	write coll=C doc=D [value=V]
//	                          InWrite; no value deletes the document
//	advance D                 let D (a Go duration: 250ms, 2s) pass, firing every
//	                          timer due by then in (time, order set) order
//	probe                     print the node's Probe answer
//
// Output lines:
//
//	send conn=1 DeltaPush {json}   (the frame decoded with wire.Default)
//	timer +10ms tag=0x101
//	dial node=0
//	close conn=1
//	event applied {"collection":"c0","lsn":5}   (sim.MarshalEvent, less its "event" member)
//
// For advance, each line starts with the time of the step that made it
// (@120ms), and steps whose only effects are timers (a quiet tick re-arming
// itself) are not printed.
//
// probe prints one line per collection (collection c0 lsn=3
// digest=0x...), then the pending-work fields that are not zero on one
// line (connected=true unacked=1 ...), then one line per session.

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// Arg is one key=value argument of a transcript command.
type Arg struct {
	Key, Val string
}

// Uint parses the argument's value as an unsigned integer.
func (a Arg) Uint() (uint64, error) {
	v, err := strconv.ParseUint(a.Val, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("%s=%s: want an unsigned integer", a.Key, a.Val)
	}
	return v, nil
}

// Int parses the argument's value as a non-negative int.
func (a Arg) Int() (int, error) {
	v, err := a.Uint()
	if err != nil || v > 1<<31 {
		return 0, fmt.Errorf("%s=%s: want a non-negative integer", a.Key, a.Val)
	}
	return int(v), nil
}

// Float parses the argument's value as a number.
func (a Arg) Float() (float64, error) {
	v, err := strconv.ParseFloat(a.Val, 64)
	if err != nil {
		return 0, fmt.Errorf("%s=%s: want a number", a.Key, a.Val)
	}
	return v, nil
}

// Duration parses the argument's value as a Go duration (250ms, 2s).
func (a Arg) Duration() (sim.Time, error) {
	d, err := parseDuration(a.Val)
	if err != nil {
		return 0, fmt.Errorf("%s=%s: %v", a.Key, a.Val, err)
	}
	return d, nil
}

// Setters maps each key a node's start command takes to what sets it, for
// a NewNode: Apply refuses any other key, naming those it knows.
type Setters map[string]func(Arg) error

// Apply sets each of args.
func (s Setters) Apply(args []Arg) error {
	for _, a := range args {
		set, ok := s[a.Key]
		if !ok {
			keys := make([]string, 0, len(s))
			for k := range s {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			return fmt.Errorf("unknown argument %s (want %s)", a.Key, strings.Join(keys, ", "))
		}
		if err := set(a); err != nil {
			return err
		}
	}
	return nil
}

// The setters of the usual kinds of argument.
func SetInt(dst *int) func(Arg) error { return func(a Arg) (err error) { *dst, err = a.Int(); return } }
func SetFloat(dst *float64) func(Arg) error {
	return func(a Arg) (err error) { *dst, err = a.Float(); return }
}
func SetDuration(dst *sim.Time) func(Arg) error {
	return func(a Arg) (err error) { *dst, err = a.Duration(); return }
}

// SetList sets a comma-separated list (collections=c0,c1).
func SetList(dst *[]string) func(Arg) error {
	return func(a Arg) error { *dst = strings.Split(a.Val, ","); return nil }
}

// SetBool sets a flag: true or false.
func SetBool(dst *bool) func(Arg) error {
	return func(a Arg) error {
		v, err := strconv.ParseBool(a.Val)
		if err != nil {
			return fmt.Errorf("%s=%s: want true or false", a.Key, a.Val)
		}
		*dst = v
		return nil
	}
}

// NewNode builds the node a transcript drives, from the key=value
// arguments of its start command (none: the test's defaults). It returns
// an error for an argument it does not know.
type NewNode func(args []Arg) (sim.Node, error)

// RunTranscripts runs every transcript file matching glob as a subtest,
// each against a fresh node. With update it rewrites the files' expected
// outputs in place instead of comparing them.
func RunTranscripts(t *testing.T, glob string, newNode NewNode, update bool) {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil {
		t.Fatalf("transcripts %s: %v", glob, err)
	}
	if len(files) == 0 {
		t.Fatalf("no transcript matches %s", glob)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), filepath.Ext(f)), func(t *testing.T) {
			t.Helper()
			RunTranscript(t, f, newNode, update)
		})
	}
}

// RunTranscript runs one transcript file. A command that does not parse or
// cannot run fails t (Errorf) naming file:line and stops the file; an
// output that differs from the expected one fails t with a diff, and the
// file goes on. With update the file's expected outputs are rewritten
// instead.
func RunTranscript(t testing.TB, path string, newNode NewNode, update bool) {
	t.Helper()
	src, err := os.ReadFile(path)
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	res, err := ExecTranscript(path, src, newNode, update)
	if err != nil {
		t.Errorf("%v", err)
		return
	}
	if update {
		if out := res.Rewrite(); !bytes.Equal(out, src) {
			if err := os.WriteFile(path, out, 0o644); err != nil {
				t.Errorf("%v", err)
			}
		}
		return
	}
	for _, m := range res.Mismatches() {
		t.Errorf("%s", m)
	}
}

// Transcript is a transcript file after a run: its blocks with the output
// each produced.
type Transcript struct {
	name   string
	lines  []string
	blocks []*block
}

type block struct {
	line     int // of the command, 1-based
	text     string
	cmd      string
	args     []string // the command's tokens after its name
	input    []string
	sep      bool // has a ---- line
	outStart int  // expected output: lines[outStart:outEnd] (0-based)
	outEnd   int
	got      []string
}

func (b *block) expected(lines []string) []string { return lines[b.outStart:b.outEnd] }

// ExecTranscript parses src (named name in messages) and runs it against
// a node from newNode. A block with no ---- line is an error unless
// allowMissing (an update fills it in). The error names name:line.
func ExecTranscript(name string, src []byte, newNode NewNode, allowMissing bool) (*Transcript, error) {
	tr, err := parseTranscript(name, src)
	if err != nil {
		return nil, err
	}
	d := &driver{newNode: newNode, fx: sim.NewEffects(nil), peers: map[sim.ConnID]sim.NodeID{}}
	for _, b := range tr.blocks {
		if !b.sep && !allowMissing {
			return nil, fmt.Errorf("%s:%d: %s: no ---- line and expected output (run with -update to fill it in)", name, b.line, b.text)
		}
		got, err := d.run(b)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %s: %v", name, b.line, b.text, err)
		}
		b.got = got
	}
	return tr, nil
}

// Mismatches describes every block whose output differs from the expected
// one, as name:line, the command and a line diff (-want +got).
func (tr *Transcript) Mismatches() []string {
	var out []string
	for _, b := range tr.blocks {
		want := b.expected(tr.lines)
		if slices.Equal(want, b.got) {
			continue
		}
		out = append(out, fmt.Sprintf("%s:%d: %s: output differs (-want +got; run with -update to accept):\n%s",
			tr.name, b.line, b.text, lineDiff(want, b.got)))
	}
	return out
}

// Rewrite returns the file with every block's expected output replaced by
// the output it produced; comments, commands and inputs are kept.
func (tr *Transcript) Rewrite() []byte {
	var out []string
	at := 0
	for _, b := range tr.blocks {
		if b.sep {
			out = append(out, tr.lines[at:b.outStart]...)
		} else { // ---- goes after the input
			end := b.line + len(b.input)
			out = append(out, tr.lines[at:end]...)
			out = append(out, "----")
		}
		out = append(out, b.got...)
		at = b.outEnd
	}
	out = append(out, tr.lines[at:]...)
	s := strings.Join(out, "\n")
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	return []byte(s)
}

func parseTranscript(name string, src []byte) (*Transcript, error) {
	text := strings.ReplaceAll(string(src), "\r\n", "\n")
	text = strings.TrimSuffix(text, "\n")
	tr := &Transcript{name: name, lines: strings.Split(text, "\n")}
	if text == "" {
		tr.lines = nil
	}
	lines := tr.lines
	for i := 0; i < len(lines); {
		l := strings.TrimSpace(lines[i])
		if l == "" || strings.HasPrefix(l, "#") {
			i++
			continue
		}
		if l == "----" {
			return nil, fmt.Errorf("%s:%d: ---- with no command before it", name, i+1)
		}
		f := strings.Fields(l)
		b := &block{line: i + 1, text: l, cmd: f[0], args: f[1:]}
		i++
		for i < len(lines) && strings.TrimSpace(lines[i]) != "----" && strings.TrimSpace(lines[i]) != "" {
			b.input = append(b.input, lines[i])
			i++
		}
		if i < len(lines) && strings.TrimSpace(lines[i]) == "----" {
			b.sep = true
			i++
			b.outStart = i
			for i < len(lines) && strings.TrimSpace(lines[i]) != "" {
				i++
			}
			b.outEnd = i
		} else {
			b.outStart, b.outEnd = i, i
		}
		tr.blocks = append(tr.blocks, b)
	}
	return tr, nil
}

// lineDiff is a line diff of want and got (longest common subsequence):
// "  " common, "- " only in want, "+ " only in got.
func lineDiff(want, got []string) string {
	n, m := len(want), len(got)
	lcs := make([][]int, n+1)
	for i := range lcs {
		lcs[i] = make([]int, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if want[i] == got[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var b strings.Builder
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && want[i] == got[j]:
			b.WriteString("  " + want[i] + "\n")
			i, j = i+1, j+1
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			b.WriteString("- " + want[i] + "\n")
			i++
		default:
			b.WriteString("+ " + got[j] + "\n")
			j++
		}
	}
	return b.String()
}

// driver is the kernel-free harness of one transcript.
type driver struct {
	newNode NewNode
	node    sim.Node
	fx      *sim.Effects
	now     sim.Time
	timers  []pendingTimer // ordered by (at, seq)
	seq     uint64
	crashed bool
	peers   map[sim.ConnID]sim.NodeID // from conn-up, for frames
}

type pendingTimer struct {
	at  sim.Time
	seq uint64
	tag uint64
}

// cmdArgs are a command's tokens: key=value arguments and positional ones.
type cmdArgs struct {
	kv  []Arg
	pos []string
}

func splitArgs(tokens []string) (cmdArgs, error) {
	var a cmdArgs
	for _, t := range tokens {
		k, v, ok := strings.Cut(t, "=")
		if !ok {
			a.pos = append(a.pos, t)
			continue
		}
		if k == "" {
			return a, fmt.Errorf("argument %q has no key", t)
		}
		for _, x := range a.kv {
			if x.Key == k {
				return a, fmt.Errorf("argument %s given twice", k)
			}
		}
		a.kv = append(a.kv, Arg{k, v})
	}
	return a, nil
}

// want checks that a has exactly npos positional arguments and only keys
// from required and optional, with every required one present.
func (a cmdArgs) want(npos int, required, optional []string) error {
	if len(a.pos) != npos {
		if npos == 0 {
			return fmt.Errorf("unexpected argument %q", a.pos[0])
		}
		return fmt.Errorf("want %d positional argument(s), got %d", npos, len(a.pos))
	}
	for _, x := range a.kv {
		if !slices.Contains(required, x.Key) && !slices.Contains(optional, x.Key) {
			return fmt.Errorf("unknown argument %s (want %s)", x.Key, strings.Join(append(append([]string(nil), required...), optional...), ", "))
		}
	}
	for _, k := range required {
		if _, ok := a.get(k); !ok {
			return fmt.Errorf("missing argument %s=", k)
		}
	}
	return nil
}

func (a cmdArgs) get(k string) (Arg, bool) {
	for _, x := range a.kv {
		if x.Key == k {
			return x, true
		}
	}
	return Arg{}, false
}

func (a cmdArgs) uint(k string) (uint64, error) {
	x, _ := a.get(k)
	return x.Uint()
}

func (d *driver) run(b *block) ([]string, error) {
	a, err := splitArgs(b.args)
	if err != nil {
		return nil, err
	}
	if b.cmd != "frame" && len(b.input) > 0 {
		return nil, fmt.Errorf("%s takes no input lines", b.cmd)
	}
	if b.cmd != "start" && d.node == nil {
		return nil, errors.New("the node is not started (start comes first)")
	}
	if d.crashed && b.cmd != "restart" && b.cmd != "advance" {
		return nil, fmt.Errorf("the node is crashed: only advance or restart may follow")
	}
	switch b.cmd {
	case "start":
		if d.node != nil {
			return nil, errors.New("the node is already started")
		}
		if len(a.pos) > 0 {
			return nil, fmt.Errorf("unexpected argument %q (start takes key=value arguments)", a.pos[0])
		}
		n, err := d.newNode(a.kv)
		if err != nil {
			return nil, err
		}
		d.node = n
		return d.step(&sim.Input{Kind: sim.InStart}, false)
	case "crash":
		if err := a.want(0, nil, nil); err != nil {
			return nil, err
		}
		d.node.Crash()
		d.crashed, d.timers = true, nil
		clear(d.peers)
		return nil, nil
	case "restart":
		if err := a.want(0, nil, nil); err != nil {
			return nil, err
		}
		if !d.crashed {
			return nil, errors.New("the node is not crashed")
		}
		d.crashed = false
		return d.step(&sim.Input{Kind: sim.InRestart}, false)
	case "conn-up":
		if err := a.want(0, []string{"conn", "peer"}, nil); err != nil {
			return nil, err
		}
		conn, err := a.uint("conn")
		if err != nil {
			return nil, err
		}
		peer, err := a.uint("peer")
		if err != nil {
			return nil, err
		}
		if conn == 0 {
			return nil, errors.New("conn=0 is no connection")
		}
		d.peers[sim.ConnID(conn)] = sim.NodeID(peer)
		return d.step(&sim.Input{Kind: sim.InConnUp, Conn: sim.ConnID(conn), Peer: sim.NodeID(peer)}, false)
	case "conn-down":
		if err := a.want(0, []string{"conn"}, nil); err != nil {
			return nil, err
		}
		conn, err := a.uint("conn")
		if err != nil {
			return nil, err
		}
		peer := d.peers[sim.ConnID(conn)]
		delete(d.peers, sim.ConnID(conn))
		return d.step(&sim.Input{Kind: sim.InConnDown, Conn: sim.ConnID(conn), Peer: peer}, false)
	case "frame":
		return d.frame(a, b.input)
	case "write":
		if err := a.want(0, []string{"coll", "doc"}, []string{"value"}); err != nil {
			return nil, err
		}
		coll, _ := a.get("coll")
		doc, _ := a.get("doc")
		w := sim.Write{Collection: coll.Val, DocID: doc.Val}
		if v, ok := a.get("value"); ok {
			w.Value = []byte(v.Val) // value= is an empty document, not a delete
		}
		return d.step(&sim.Input{Kind: sim.InWrite, Write: w}, false)
	case "advance":
		if err := a.want(1, nil, nil); err != nil {
			return nil, err
		}
		dur, err := parseDuration(a.pos[0])
		if err != nil {
			return nil, err
		}
		return d.advance(dur)
	case "probe":
		if err := a.want(0, nil, nil); err != nil {
			return nil, err
		}
		return d.probe(), nil
	}
	return nil, fmt.Errorf("unknown command %q (want start, crash, restart, conn-up, conn-down, frame, write, advance or probe)", b.cmd)
}

func (d *driver) frame(a cmdArgs, input []string) ([]string, error) {
	if err := a.want(1, []string{"conn"}, []string{"peer"}); err != nil {
		return nil, err
	}
	conn, err := a.uint("conn")
	if err != nil {
		return nil, err
	}
	peer, known := d.peers[sim.ConnID(conn)]
	if p, ok := a.get("peer"); ok {
		v, err := p.Uint()
		if err != nil {
			return nil, err
		}
		peer, known = sim.NodeID(v), true
	}
	if !known {
		return nil, fmt.Errorf("conn %d is not up: say peer= for a frame on a connection the node does not know", conn)
	}
	typ, err := wire.ParseMsgType(a.pos[0])
	if err != nil {
		return nil, err
	}
	if len(input) == 0 {
		return nil, fmt.Errorf("frame %s: the message's JSON goes on the next line", typ)
	}
	m, err := wire.MessageFromJSON(typ, []byte(strings.Join(input, "\n")))
	if err != nil {
		return nil, fmt.Errorf("bad JSON: %v", err)
	}
	frame, err := wire.Default.Encode(m)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %v", typ, err)
	}
	out, err := d.step(&sim.Input{Kind: sim.InFrame, Conn: sim.ConnID(conn), Peer: peer, Frame: frame}, false)
	// The frame's buffer is the kernel's, recycled after the step: a node
	// that kept a slice of it would see garbage.
	for i := range frame {
		frame[i] = 0xA5
	}
	return out, err
}

// step steps the node with in at d.now and prints its effects; in an
// advance (timed) each line carries the time, and a step that only set
// timers prints nothing.
func (d *driver) step(in *sim.Input, timed bool) ([]string, error) {
	d.fx.Reset()
	d.node.Step(d.now, in, d.fx)
	effects := d.fx.List()
	quiet := true
	var out []string
	for _, e := range effects {
		if e.Kind == sim.EffectTimer {
			d.seq++
			t := pendingTimer{at: d.now + max(e.After, 0), seq: d.seq, tag: e.Tag}
			i, _ := slices.BinarySearchFunc(d.timers, t, func(a, b pendingTimer) int {
				return cmp.Or(cmp.Compare(a.at, b.at), cmp.Compare(a.seq, b.seq))
			})
			d.timers = slices.Insert(d.timers, i, t)
		} else {
			quiet = false
		}
		line, err := effectLine(e)
		if err != nil {
			return nil, err
		}
		out = append(out, line)
	}
	d.fx.Reset()
	if !timed {
		return out, nil
	}
	if quiet {
		return nil, nil
	}
	at := "@" + fmtTime(d.now) + " "
	for i := range out {
		out[i] = at + out[i]
	}
	return out, nil
}

// advance fires, in order, every timer due by now+dur (those the firing
// sets included), then sets the clock to now+dur.
func (d *driver) advance(dur sim.Time) ([]string, error) {
	until := d.now + dur
	var out []string
	for len(d.timers) > 0 && d.timers[0].at <= until {
		t := d.timers[0]
		d.timers = d.timers[1:]
		d.now = t.at
		lines, err := d.step(&sim.Input{Kind: sim.InTimer, Timer: t.tag}, true)
		if err != nil {
			return nil, err
		}
		out = append(out, lines...)
	}
	d.now = until
	return out, nil
}

func (d *driver) probe() []string {
	var p sim.Probe
	d.node.Probe(&p)
	var out []string
	for _, c := range p.Collections {
		out = append(out, fmt.Sprintf("collection %s lsn=%d digest=%#016x", c.Name, c.LSN, c.Digest))
	}
	var pending []string
	if p.Connected {
		pending = append(pending, "connected=true")
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"unacked", p.Unacked}, {"resyncing", p.Resyncing}, {"queue-depth", p.QueueDepth}} {
		if f.v != 0 {
			pending = append(pending, fmt.Sprintf("%s=%d", f.name, f.v))
		}
	}
	if p.Throttled {
		pending = append(pending, "throttled=true")
	}
	if len(pending) > 0 {
		out = append(out, strings.Join(pending, " "))
	}
	for _, s := range p.Sessions {
		out = append(out, fmt.Sprintf("session conn=%d peer=%d throttled=%v rate=%g backlog=%d", s.Conn, s.Peer, s.Throttled, s.Rate, s.Backlog))
	}
	return out
}

// effectLine prints one effect.
func effectLine(e sim.Effect) (string, error) {
	switch e.Kind {
	case sim.EffectSend:
		m, err := wire.Default.Decode(e.Frame)
		if err != nil {
			return fmt.Sprintf("send conn=%d !undecodable %x: %v", e.Conn, e.Frame, err), nil
		}
		js, err := wire.MessageToJSON(m)
		if err != nil {
			return "", fmt.Errorf("the node sent a %s that cannot be shown as JSON: %v", m.Type(), err)
		}
		return fmt.Sprintf("send conn=%d %s %s", e.Conn, m.Type(), js), nil
	case sim.EffectTimer:
		return fmt.Sprintf("timer +%s tag=%#x", fmtTime(e.After), e.Tag), nil
	case sim.EffectDial:
		return fmt.Sprintf("dial node=%d", e.Peer), nil
	case sim.EffectClose:
		return fmt.Sprintf("close conn=%d", e.Conn), nil
	case sim.EffectEvent:
		return "event " + e.Event.EventName() + " " + eventFields(e.Event), nil
	}
	return "", fmt.Errorf("unknown effect kind %d", e.Kind)
}

// eventFields is sim.MarshalEvent's JSON without its leading "event"
// member: {"collection":"c0","lsn":5}.
func eventFields(e sim.Event) string {
	js := string(sim.MarshalEvent(e))
	head := `{"event":` + strconv.Quote(e.EventName())
	rest, ok := strings.CutPrefix(js, head)
	if !ok {
		return js
	}
	return "{" + strings.TrimPrefix(rest, ",")
}

func fmtTime(t sim.Time) string { return time.Duration(t).String() }

func parseDuration(s string) (sim.Time, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("bad duration %q (want e.g. 250ms or 2s)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("negative duration %s", s)
	}
	return sim.Time(d), nil
}
