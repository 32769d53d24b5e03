package sim

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/syncsim/syncsim/wire"
)

// busy is a node that, on each frame, closes nothing but sends a pong,
// sets a timer and emits an event, noting while it is inside Step.
type busy struct {
	inStep bool
	conn   ConnID
}

func (b *busy) Crash()       {}
func (b *busy) Probe(*Probe) {}
func (b *busy) Step(_ Time, in *Input, fx *Effects) {
	b.inStep = true
	defer func() { b.inStep = false }()
	if in.Kind != InFrame {
		return
	}
	fx.Emit(&Applied{Collection: "c0", LSN: 1})
	fx.Send(in.Conn, &wire.PingPong{IsPong: true})
	fx.SetTimer(Millisecond, 7)
	fx.Emit(&Acked{Mutation: 2, LSN: 3})
}

// stackWatch is a Monitor that records, for every call, whether the node
// under watch was inside its Step at that moment, and in what order the
// effects arrived.
type stackWatch struct {
	node    *busy
	onStack int
	order   []string
}

func (s *stackWatch) Step(_ Time, n NodeID, in *Input, _ bool) {
	if n == 0 && in.Kind == InFrame {
		s.order = append(s.order, "step")
	}
}
func (s *stackWatch) Event(_ Time, n NodeID, ev Event) {
	s.note()
	if n == 0 {
		s.order = append(s.order, ev.EventName())
	}
}
func (s *stackWatch) Sent(_ Time, p *Packet) {
	s.note()
	if p.From == 0 {
		s.order = append(s.order, "sent "+p.Type.String())
	}
}
func (s *stackWatch) AfterStep(_ Time, n NodeID) {
	s.note()
	if n == 0 && len(s.order) > 0 && s.order[len(s.order)-1] != "after" {
		s.order = append(s.order, "after")
	}
}
func (s *stackWatch) note() {
	if s.node.inStep {
		s.onStack++
	}
}

// The contract: no Monitor call happens while the node's Step is on the
// stack, and the effects reach the Monitor after the step, in the order
// the node recorded them.
func TestEffectsAreAppliedAfterTheStepInOrder(t *testing.T) {
	b := &busy{}
	mon := &stackWatch{node: b}
	w := New(Config{Seed: 1, Nodes: []NodeSpec{{"busy", b}, {"cli", &echo{dial: true, n: 2}}}, Monitor: mon, Deadline: Second})
	w.Run()
	if mon.onStack != 0 {
		t.Fatalf("%d monitor calls ran inside the node's Step", mon.onStack)
	}
	want := []string{"step", "applied", "sent PingPong", "acked", "after"}
	if len(mon.order) < 2*len(want) || !slices.Equal(mon.order[:len(want)], want) {
		t.Fatalf("order %v, want each step to be %v", mon.order, want)
	}
}

// A node can be stepped without a kernel: Effects records what it did.
func TestEffectsRecordWithoutAKernel(t *testing.T) {
	fx := NewEffects(nil)
	b := &busy{}
	frame, _ := wire.Default.Encode(&wire.PingPong{TimestampMs: 5})
	b.Step(0, &Input{Kind: InFrame, Conn: 4, Frame: frame}, fx)
	var kinds []string
	for _, e := range fx.List() {
		kinds = append(kinds, e.Kind.String())
	}
	if !slices.Equal(kinds, []string{"event", "send", "timer", "event"}) {
		t.Fatalf("effects %v", kinds)
	}
	send, timer := fx.List()[1], fx.List()[2]
	m, err := wire.Default.Decode(send.Frame)
	if err != nil || send.Conn != 4 || !m.(*wire.PingPong).IsPong {
		t.Fatalf("send %+v: %v %v", send, m, err)
	}
	if timer.After != Millisecond || timer.Tag != 7 {
		t.Fatalf("timer %+v", timer)
	}
	if e := fx.List()[3].Event.(*Acked); *e != (Acked{Mutation: 2, LSN: 3}) {
		t.Fatalf("event %+v", e)
	}
	fx.Reset()
	if len(fx.List()) != 0 {
		t.Fatal("Reset kept effects")
	}
}

// Emitting an event is a copy into storage the Effects reuses: nothing is
// allocated per event once it has grown (every delta a Lite applies emits
// one).
func TestEmitAllocatesNothing(t *testing.T) {
	fx := NewEffects(nil)
	coll := "c0"
	emit := func() {
		fx.Reset()
		for i := uint64(0); i < 8; i++ {
			fx.Emit(&Applied{Collection: coll, LSN: i})
			fx.Emit(&Committed{Collection: coll, LSN: i, Peer: 1, Mutation: i})
		}
	}
	emit()
	if n := testing.AllocsPerRun(100, emit); n != 0 {
		t.Fatalf("%v allocations per 16 events", n)
	}
}

// fill sets every field of the struct v points to a value that is not
// its zero, different per field (seed), and returns v.
func fill(v reflect.Value, seed int) {
	v = v.Elem()
	for i := 0; i < v.NumField(); i++ {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString("s" + strings.Repeat("x", seed+i))
		case reflect.Uint64, reflect.Uint32, reflect.Uint8:
			f.SetUint(uint64(seed + i + 1))
		case reflect.Int, reflect.Int64:
			f.SetInt(int64(seed + i + 1))
		case reflect.Bool:
			f.SetBool(true)
		default:
			panic("event field of kind " + f.Kind().String())
		}
	}
}

// Every field of every event moves the trace hash, and survives the trip
// through the tail (which keeps only the hash's words) and through JSON.
func TestEveryEventFieldIsHashedAndRoundTrips(t *testing.T) {
	if len(EventNames()) != len(eventTypes) {
		t.Fatal("EventNames and eventTypes disagree")
	}
	for _, zero := range eventTypes {
		name := zero.EventName()
		typ := reflect.TypeOf(zero).Elem()
		full := reflect.New(typ)
		fill(full, 1)
		ev := full.Interface().(Event)
		for i := 0; i < typ.NumField(); i++ {
			one := reflect.New(typ)
			one.Elem().Field(i).Set(full.Elem().Field(i))
			if wordsOf(one.Interface().(Event)) == wordsOf(zero) {
				t.Errorf("%s.%s does not move the trace hash", name, typ.Field(i).Name)
			}
		}
		if got := CloneEvent(ev); !reflect.DeepEqual(got, ev) {
			t.Errorf("%s: clone %+v, want %+v", name, got, ev)
		}
		if got := eventFromWords(wordsOf(ev)); !reflect.DeepEqual(got, ev) {
			t.Errorf("%s: rebuilt from its hash words as %+v, want %+v", name, got, ev)
		}
		js := MarshalEvent(ev)
		body, _ := json.Marshal(ev)
		if want := `{"event":"` + name + `"` + map[bool]string{true: "", false: ","}[len(body) == 2] + string(body[1:]); string(js) != want {
			t.Errorf("%s: MarshalEvent wrote %s, encoding/json %s", name, js, want)
		}
		back, err := ParseEvent(js)
		if err != nil || !reflect.DeepEqual(back, ev) {
			t.Errorf("%s: %s parsed as %+v, %v", name, js, back, err)
		}
		var generic map[string]any
		if err := json.Unmarshal(js, &generic); err != nil || generic["event"] != name || len(generic) != typ.NumField()+1 {
			t.Errorf("%s: JSON %s is not {\"event\": name, fields...}", name, js)
		}
	}
}

func TestParseEventRefusesWhatIsNotAnEvent(t *testing.T) {
	for _, tc := range []struct{ in, err string }{
		{`{"event":"applied","collection":"c0","lsn":5}`, ""},
		{`{"event":"corrupted-state"}`, ""},
		{`{"collection":"c0"}`, `no "event" member`},
		{`{"event":"applyed","lsn":1}`, `event "applyed": unknown (known: committed, deduped, applied`},
		{`{"event":"applied","lsn":1,"extra":2}`, `unknown field "extra"`},
		{`{"event":"applied","lsn":"five"}`, `event applied: "lsn" is a string, want an unsigned integer`},
		{`{"event":"applied","lsn":-1}`, `"lsn" is -1, want an unsigned integer`},
		{`{"event":"applied","lsn":1,"lsn":2}`, `the key "lsn" twice`},
		{`[1,2]`, `event: at byte 0: want a JSON object`},
		{`{"event":`, `want a value`},
	} {
		_, err := ParseEvent([]byte(tc.in))
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("ParseEvent(%s) = %v, want an error containing %q", tc.in, err, tc.err)
		}
	}
}

// Reset empties a probe's answers but keeps the caller's question
// (Conns): World.Probe resets before asking the node.
func TestProbeResetKeepsTheQuestion(t *testing.T) {
	p := Probe{Conns: []ConnID{3, 7}, Connected: true, Unacked: 2,
		Collections: []CollectionState{{Name: "c0"}}, Sessions: []SessionState{{Conn: 3}}}
	p.Reset()
	if len(p.Conns) != 2 || p.Conns[0] != 3 || p.Conns[1] != 7 {
		t.Fatalf("after Reset: Conns %v, want [3 7]", p.Conns)
	}
	if p.Connected || p.Unacked != 0 || len(p.Collections) != 0 || len(p.Sessions) != 0 {
		t.Fatalf("after Reset the answers remain: %+v", p)
	}
}
