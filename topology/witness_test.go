package topology

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/syncsim/syncsim/nodes/lite"
	"github.com/syncsim/syncsim/nodes/reference"
	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

func TestFrameText(t *testing.T) {
	errText := "incompatible wire version: 9"
	for _, tc := range []struct {
		m    wire.Message
		want string
	}{
		{&wire.Throttle{Throttle: true, QueueDepth: 1000, SuggestedRate: 50}, "Throttle{on, queue 1000, rate 50}"},
		{&wire.Throttle{Throttle: true, QueueDepth: 9}, "Throttle{on, queue 9, rate server default}"},
		{&wire.Throttle{QueueDepth: 3}, "Throttle{off, queue 3}"},
		{&wire.ResyncRequest{Reason: wire.ResyncReason{Kind: wire.SequenceGap, Expected: 2, Received: 5}, FromMutationID: 2, Collection: "c0"},
			"ResyncRequest{c0 from 2, gap: expected 2, got 5}"},
		{&wire.ResyncRequest{Reason: wire.ResyncReason{Kind: wire.CorruptedState}}, "ResyncRequest{all from 0, CorruptedState}"},
		{&wire.ShapeSnapshot{ShapeID: "s0", SnapshotLSN: 41, DocCount: 3}, "ShapeSnapshot{s0 at lsn 41, 3 docs}"},
		{&wire.ShapeDelta{Collection: "c0", DocumentID: "d3", Operation: "UPDATE", LSN: 42}, "ShapeDelta{c0/d3 UPDATE lsn 42}"},
		{&wire.DeltaPush{Collection: "c1", DocumentID: "d9", MutationID: 7}, "DeltaPush{c1/d9 mutation 7}"},
		{&wire.DeltaAck{MutationID: 7, LSN: 12}, "DeltaAck{mutation 7, lsn 12}"},
		{&wire.HandshakeAck{Error: &errText}, "HandshakeAck{refused: incompatible wire version: 9}"},
		{&wire.PingPong{IsPong: true}, "Pong"},
	} {
		if got := FrameText(tc.m); got != tc.want {
			t.Errorf("%T: %q, want %q", tc.m, got, tc.want)
		}
	}
}

// A witness's record of a frame is the frame's: its type, length and
// CRC32C, however it was kept (recent bytes told when asked for, a control
// frame or a large one told at once), and the recent ones are the last
// witnessRecent, oldest first.
func TestWitnessRecordsTheFrames(t *testing.T) {
	w := NewWitness()
	frame := func(m wire.Message) []byte {
		b, err := wire.Default.Encode(m)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	var want []WireFrame
	for i := 0; i < witnessRecent+40; i++ {
		var b []byte
		var text string
		switch i % 3 {
		case 0:
			b, text = frame(&wire.DeltaAck{MutationID: uint64(i), LSN: uint64(i + 1)}), fmt.Sprintf("DeltaAck{mutation %d, lsn %d}", i, i+1)
		case 1:
			b, text = frame(&wire.Throttle{QueueDepth: uint64(i)}), fmt.Sprintf("Throttle{off, queue %d}", i)
		case 2:
			b, text = frame(&wire.ShapeSnapshot{ShapeID: "s0", SnapshotLSN: 9, Data: make([]byte, witnessRawMax), DocCount: 2}), "ShapeSnapshot{s0 at lsn 9, 2 docs}"
		}
		at := sim.Time(i) * sim.Millisecond
		f := WireFrame{At: at, From: 1, To: 0, Conn: 3, Type: wire.MsgType(b[0]), Len: len(b), CRC: wire.Checksum(b), Text: text}
		if i%2 == 0 {
			f.Sent, f.From, f.To = true, 0, 1
			w.Sent(at, &sim.Packet{Conn: 3, From: 0, To: 1, Type: f.Type, Bytes: b})
		} else {
			f.Altered = i%5 == 0
			w.Step(at, 0, &sim.Input{Kind: sim.InFrame, Conn: 3, Peer: 1, Frame: b}, f.Altered)
		}
		b[len(b)-1] ^= 0xff // the caller's buffer is recycled: the witness keeps its own copy
		want = append(want, f)
	}
	recent, control := w.Frames()
	if !reflect.DeepEqual(recent, want[len(want)-witnessRecent:]) {
		for i := range recent {
			if g, e := recent[i], want[len(want)-witnessRecent+i]; g != e {
				t.Fatalf("recent frame %d:\n got %+v\nwant %+v", i, g, e)
			}
		}
		t.Fatalf("%d recent frames, want %d", len(recent), witnessRecent)
	}
	var wantControl []WireFrame
	for _, f := range want {
		if !f.Sent && isControl(f.Type) {
			wantControl = append(wantControl, f)
		}
	}
	if !reflect.DeepEqual(control, wantControl) {
		t.Errorf("control frames:\n got %+v\nwant %+v", control, wantControl)
	}
}

// controlTally counts, as a Monitor and apart from the witness, the
// control frames delivered in a run: the oracle of the witness's counts.
type controlTally struct {
	counts results.WireCounts
	at     []sim.Time // when each control frame was delivered
}

func (k *controlTally) Step(now sim.Time, node sim.NodeID, in *sim.Input, _ bool) {
	if in.Kind != sim.InFrame || len(in.Frame) == 0 {
		return
	}
	switch wire.MsgType(in.Frame[0]) {
	case wire.TypeThrottle:
		if m, err := wire.Default.Decode(in.Frame); err == nil && node == OriginID {
			if m.(*wire.Throttle).Throttle {
				k.counts.ThrottleOn++
			} else {
				k.counts.ThrottleOff++
			}
		}
	case wire.TypeShapeSnapshot:
		k.counts.Snapshots++
	case wire.TypeResyncRequest, wire.TypeHandshake, wire.TypeHandshakeAck:
	default:
		return
	}
	k.at = append(k.at, now)
}
func (*controlTally) Event(sim.Time, sim.NodeID, sim.Event) {}
func (*controlTally) Sent(sim.Time, *sim.Packet)            {}
func (*controlTally) AfterStep(sim.Time, sim.NodeID)        {}

// A run's control counts are of the whole run, however few control frames
// the record keeps: at 1,024 Lites the handshakes alone fill it, and the
// summaries counted "received Throttle{on} 0" from what was left. The
// counts are a separate monitor's, with the record capped at 8 frames and
// uncapped, and the capped record is the first frames of the other.
func TestWitnessCountsPastTheRecord(t *testing.T) {
	p := withRef(Defaults(), reference.Config{Lite: lite.Config{DrainRate: 100}})
	p.Seed, p.Lites, p.LiteRate, p.OriginRate = 3, 4, 0, 400
	p.WriteFor, p.Budget, p.Witness = 3*sim.Second, 60*sim.Second, true
	run := func(capFrames int) (Result, *controlTally) {
		tally := &controlTally{}
		c, err := newWithMonitor(p, tally)
		if err != nil {
			t.Fatal(err)
		}
		c.witness.controlCap = capFrames
		return c.Run(), tally
	}
	full, tally := run(1 << 20)
	short, _ := run(8)
	want := tally.counts
	if want.ThrottleOn == 0 || want.ThrottleOff == 0 || want.Snapshots == 0 || len(tally.at) <= 8 {
		t.Fatalf("the run must throttle and snapshot past the cap: %+v in %d control frames", want, len(tally.at))
	}
	want.ControlKept = 1 << 20
	if got := *full.WireCounts; got != want || len(full.Control) != len(tally.at) {
		t.Errorf("uncapped: counts %+v and %d frames kept, want %+v and %d", got, len(full.Control), want, len(tally.at))
	}
	want.ControlKept, want.ControlNotKept, want.ControlFullS = 8, len(tally.at)-8, tally.at[8].Seconds()
	if got := *short.WireCounts; got != want {
		t.Errorf("counts with the record capped at 8: %+v, want %+v", got, want)
	}
	if !reflect.DeepEqual(short.Control, full.Control[:8]) {
		t.Errorf("the capped record is not the first 8 frames of the uncapped one:\n%+v\n%+v", short.Control, full.Control[:8])
	}
	if short.Hash != full.Hash {
		t.Errorf("the record's cap changed the run: hash %016x, %016x", short.Hash, full.Hash)
	}
}
