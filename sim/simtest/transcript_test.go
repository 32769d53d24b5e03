package simtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// ticker is a tiny node for testing the transcript driver. It ticks every
// tick (10 ms unless start says tick=), and every third tick emits Applied
// with the tick count; a second timer, set at start for the same instant
// as the first tick, emits Acked so that the order of equal timers shows.
// A PingPong frame is answered with a pong on its connection; a write
// sends a PingPong on the last connection up and closes it.
type ticker struct {
	tick  sim.Time
	ticks uint64
	conn  sim.ConnID
	kept  []byte // the last frame, as a careless node would keep it
}

func (n *ticker) Crash() { n.conn = 0 }
func (n *ticker) Probe(p *sim.Probe) {
	p.Collections = append(p.Collections, sim.CollectionState{Name: "c0", LSN: n.ticks, Digest: 0xab})
	p.Connected, p.Unacked = n.conn != 0, int(n.ticks%2)
	if n.conn != 0 {
		p.Sessions = append(p.Sessions, sim.SessionState{Conn: n.conn, Peer: 1, Rate: 2.5, Backlog: 3})
	}
}

func (n *ticker) Step(now sim.Time, in *sim.Input, fx *sim.Effects) {
	switch in.Kind {
	case sim.InStart, sim.InRestart:
		fx.SetTimer(n.tick, 1)
		fx.SetTimer(n.tick, 2)
		fx.Dial(0)
	case sim.InConnUp:
		n.conn = in.Conn
	case sim.InConnDown:
		n.conn = 0
		fx.Emit(&sim.Reconnecting{Attempt: 1})
	case sim.InTimer:
		switch in.Timer {
		case 1:
			n.ticks++
			fx.SetTimer(n.tick, 1)
			if n.ticks%3 == 0 {
				fx.Emit(&sim.Applied{Collection: "c0", LSN: n.ticks})
			}
		case 2:
			// Mutation is the tick count: 1 if timer 1, set first for
			// the same instant, fired first.
			fx.Emit(&sim.Acked{Mutation: n.ticks, LSN: uint64(now / sim.Millisecond)})
		}
	case sim.InFrame:
		m, err := fx.Decode(in.Frame)
		if err != nil {
			fx.Emit(&sim.DecodeError{Error: err.Error()})
			return
		}
		n.kept = in.Frame
		if p, ok := m.(*wire.PingPong); ok && !p.IsPong {
			fx.Send(in.Conn, &wire.PingPong{TimestampMs: p.TimestampMs, IsPong: true})
		}
	case sim.InWrite:
		fx.Send(n.conn, &wire.PingPong{TimestampMs: 9})
		fx.Close(n.conn)
		fx.Emit(&sim.CorruptedState{})
	}
}

func newTicker(args []Arg) (sim.Node, error) {
	n := &ticker{tick: 10 * sim.Millisecond}
	for _, a := range args {
		switch a.Key {
		case "tick":
			d, err := a.Duration()
			if err != nil {
				return nil, err
			}
			n.tick = d
		default:
			return nil, fmt.Errorf("unknown argument %s", a.Key)
		}
	}
	return n, nil
}

// The expected output here is written by hand: it pins the format.
const tickerTranscript = `# A comment.
start
----
timer +10ms tag=0x1
timer +10ms tag=0x2
dial node=0

conn-up conn=3 peer=1
----

frame conn=3 PingPong
{"timestamp_ms":7,"is_pong":false}
----
send conn=3 PingPong {"timestamp_ms":7,"is_pong":true}

# Ticks 1 and 2 only re-arm: folded. Timer 2 fires after timer 1 at 10ms.
advance 35ms
----
@10ms event acked {"mutation":1,"lsn":10}
@30ms timer +10ms tag=0x1
@30ms event applied {"collection":"c0","lsn":3}

probe
----
collection c0 lsn=3 digest=0x00000000000000ab
connected=true unacked=1
session conn=3 peer=1 throttled=false rate=2.5 backlog=3

write coll=c0 doc=d
----
send conn=3 PingPong {"timestamp_ms":9,"is_pong":false}
close conn=3
event corrupted-state {}

crash
----

advance 1s
----

restart
----
timer +10ms tag=0x1
timer +10ms tag=0x2
dial node=0

conn-down conn=0
----
event reconnecting {"attempt":1}
`

// fakeTB records what RunTranscript reports.
type fakeTB struct {
	testing.TB
	errs []string
}

func (*fakeTB) Helper() {}
func (f *fakeTB) Errorf(format string, args ...any) {
	f.errs = append(f.errs, fmt.Sprintf(format, args...))
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestTranscriptPasses(t *testing.T) {
	tr, err := ExecTranscript("ticker.txt", []byte(tickerTranscript), newTicker, false)
	if err != nil {
		t.Fatal(err)
	}
	if m := tr.Mismatches(); len(m) != 0 {
		t.Fatalf("mismatches:\n%s", strings.Join(m, "\n"))
	}
	if got := string(tr.Rewrite()); got != tickerTranscript {
		t.Fatalf("rewriting a passing transcript changed it:\n%s", got)
	}
	// Through the file and the TB too.
	f := &fakeTB{}
	RunTranscript(f, writeFile(t, "ticker.txt", tickerTranscript), newTicker, false)
	if len(f.errs) != 0 {
		t.Fatalf("errors: %v", f.errs)
	}
}

// A wrong expectation fails, naming the file and line of its command, with
// a diff; the blocks after it still run and compare.
func TestTranscriptWrongExpectationFails(t *testing.T) {
	wrong := strings.Replace(tickerTranscript, `@30ms event applied {"collection":"c0","lsn":3}`,
		`@30ms event applied {"collection":"c0","lsn":4}`, 1)
	wrong = strings.Replace(wrong, "connected=true unacked=1\n", "", 1)
	path := writeFile(t, "wrong.txt", wrong)
	f := &fakeTB{}
	RunTranscript(f, path, newTicker, false)
	if len(f.errs) != 2 {
		t.Fatalf("%d errors, want 2 (advance and probe): %q", len(f.errs), f.errs)
	}
	for _, want := range []string{
		path + ":17: advance 35ms: output differs",
		`- @30ms event applied {"collection":"c0","lsn":4}` + "\n" + `+ @30ms event applied {"collection":"c0","lsn":3}`,
		`  @10ms event acked {"mutation":1,"lsn":10}`,
	} {
		if !strings.Contains(f.errs[0], want) {
			t.Errorf("first error lacks %q:\n%s", want, f.errs[0])
		}
	}
	for _, want := range []string{path + ":23: probe: output differs", "+ connected=true unacked=1\n"} {
		if !strings.Contains(f.errs[1], want) {
			t.Errorf("second error lacks %q:\n%s", want, f.errs[1])
		}
	}
	// A missing line and an extra one are mismatches too.
	for _, edit := range [][2]string{
		{"dial node=0\n\nconn-up", "\nconn-up"},
		{"close conn=3\n", "close conn=3\nclose conn=4\n"},
	} {
		tr, err := ExecTranscript("x.txt", []byte(strings.Replace(tickerTranscript, edit[0], edit[1], 1)), newTicker, false)
		if err != nil {
			t.Fatal(err)
		}
		if m := tr.Mismatches(); len(m) != 1 {
			t.Errorf("edit %q: %d mismatches, want 1: %q", edit, len(m), m)
		}
	}
	// The file is left alone.
	if b, _ := os.ReadFile(path); string(b) != wrong {
		t.Fatal("a failing run without -update changed the file")
	}
}

// With update, the expected outputs are rewritten in place (a block with
// no ---- gets one); comments, commands and inputs stay.
func TestTranscriptUpdate(t *testing.T) {
	stale := strings.Replace(tickerTranscript, "dial node=0\n\nconn-up", "dial node=9\nclose conn=1\n\nconn-up", 1)
	stale = strings.Replace(stale, "\n----\nsend conn=3 PingPong {\"timestamp_ms\":7,\"is_pong\":true}\n", "\n", 1)
	stale = strings.Replace(stale, "collection c0 lsn=3 digest=0x00000000000000ab\n", "", 1)
	if stale == tickerTranscript {
		t.Fatal("the edits did not apply")
	}
	if _, err := ExecTranscript("stale.txt", []byte(stale), newTicker, false); err == nil ||
		!strings.Contains(err.Error(), "stale.txt:12: frame conn=3 PingPong: no ---- line") {
		t.Fatalf("a block without ---- gave %v, want an error naming stale.txt:12", err)
	}
	path := writeFile(t, "stale.txt", stale)
	f := &fakeTB{}
	RunTranscript(f, path, newTicker, true)
	if len(f.errs) != 0 {
		t.Fatalf("errors: %v", f.errs)
	}
	if b, _ := os.ReadFile(path); string(b) != tickerTranscript {
		t.Fatalf("after -update the file is\n%s\nwant\n%s", b, tickerTranscript)
	}
	RunTranscript(f, path, newTicker, false)
	if len(f.errs) != 0 {
		t.Fatalf("the updated file fails: %v", f.errs)
	}
}

// Bad commands fail at their line, and stop the file.
func TestTranscriptBadCommands(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{"start\n----\n\nfly away\n----\n", "x.txt:4: fly away: unknown command"},
		{"start bogus=1\n----\n", "x.txt:1: start bogus=1: unknown argument bogus"},
		{"advance 1s\n----\n", "x.txt:1: advance 1s: the node is not started"},
		{"start\n----\n\nstart\n----\n", "x.txt:4: start: the node is already started"},
		{"start\n----\n\nconn-up conn=1\n----\n", "x.txt:4: conn-up conn=1: missing argument peer="},
		{"start\n----\n\nconn-up conn=x peer=1\n----\n", "x.txt:4: conn-up conn=x peer=1: conn=x: want an unsigned integer"},
		{"start\n----\n\nconn-up conn=1 peer=1 colour=red\n----\n", "unknown argument colour"},
		{"start\n----\n\nconn-up conn=1 conn=2 peer=1\n----\n", "argument conn given twice"},
		{"start\n----\n\nadvance soon\n----\n", `x.txt:4: advance soon: bad duration "soon"`},
		{"start\n----\n\nadvance\n----\n", "want 1 positional argument(s), got 0"},
		{"start\n----\n\nprobe\nextra\n----\n", "x.txt:4: probe: probe takes no input lines"},
		{"start\n----\n\nwrite doc=d\n----\n", "missing argument coll="},
		{"start\n----\n\nframe conn=1 PingPong\n{}\n----\n", "conn 1 is not up"},
		{"start\n----\n\nconn-up conn=1 peer=1\n----\n\nframe conn=1 Nonsense\n{}\n----\n", `x.txt:7: frame conn=1 Nonsense: unknown message type "Nonsense"`},
		{"start\n----\n\nconn-up conn=1 peer=1\n----\n\nframe conn=1 PingPong\n----\n", "the message's JSON goes on the next line"},
		{"start\n----\n\nconn-up conn=1 peer=1\n----\n\nframe conn=1 PingPong\n{\"timestamp_ms\":1\n----\n", "x.txt:7: frame conn=1 PingPong: bad JSON"},
		{"start\n----\n\nconn-up conn=1 peer=1\n----\n\nframe conn=1 PingPong\n{\"timestamp_ms\":1}\n----\n", `x.txt:7: frame conn=1 PingPong: bad JSON: PingPong: missing field "is_pong"`},
		{"start\n----\n\ncrash\n----\n\nprobe\n----\n", "x.txt:7: probe: the node is crashed"},
		{"start\n----\n\nrestart\n----\n", "x.txt:4: restart: the node is not crashed"},
		{"----\n", "x.txt:1: ---- with no command"},
	} {
		_, err := ExecTranscript("x.txt", []byte(tc.text), newTicker, true)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: error %v, want one containing %q", tc.text, err, tc.want)
		}
	}
	// Through RunTranscript: reported, and the file is not rewritten even
	// with update.
	text := "start\n----\nstale\n\nfly\n----\n"
	path := writeFile(t, "bad.txt", text)
	f := &fakeTB{}
	RunTranscript(f, path, newTicker, true)
	if len(f.errs) != 1 || !strings.Contains(f.errs[0], path+":5: fly: unknown command") {
		t.Fatalf("errors %q, want one naming %s:5", f.errs, path)
	}
	if b, _ := os.ReadFile(path); string(b) != text {
		t.Fatal("a transcript with a bad command was rewritten")
	}
}

// The frame a node is stepped with is scribbled over after the step, as
// the kernel recycles frame buffers.
func TestTranscriptFrameRecycled(t *testing.T) {
	var n *ticker
	newNode := func(args []Arg) (sim.Node, error) {
		x, err := newTicker(args)
		n = x.(*ticker)
		return x, err
	}
	text := "start tick=1s\n----\n\nconn-up conn=1 peer=1\n----\n\nframe conn=1 PingPong\n{\"timestamp_ms\":1,\"is_pong\":true}\n----\n"
	tr, err := ExecTranscript("x.txt", []byte(text), newNode, true)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(tr.Rewrite()); !strings.Contains(got, "start tick=1s\n----\ntimer +1s tag=0x1\n") {
		t.Fatalf("start's argument did not reach the node:\n%s", got)
	}
	if len(n.kept) == 0 || n.kept[0] != 0xA5 {
		t.Fatalf("the frame kept by the node is % x, want it scribbled over", n.kept)
	}
}

func TestSetters(t *testing.T) {
	var n int
	var on bool
	var d sim.Time
	var list []string
	s := Setters{"n": SetInt(&n), "on": SetBool(&on), "after": SetDuration(&d), "colls": SetList(&list)}
	if err := s.Apply([]Arg{{"n", "3"}, {"on", "true"}, {"after", "250ms"}, {"colls", "c0,c1"}}); err != nil {
		t.Fatal(err)
	}
	if n != 3 || !on || d != 250*sim.Millisecond || len(list) != 2 || list[1] != "c1" {
		t.Fatalf("n %d on %v d %v list %v", n, on, d, list)
	}
	for _, tc := range []struct {
		arg  Arg
		want string
	}{
		{Arg{"colour", "red"}, "unknown argument colour (want after, colls, n, on)"},
		{Arg{"on", "yes"}, "on=yes: want true or false"},
		{Arg{"n", "-1"}, "n=-1: want"},
	} {
		if err := s.Apply([]Arg{tc.arg}); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.arg, err, tc.want)
		}
	}
}
