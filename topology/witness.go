package topology

import (
	"fmt"

	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// WireFrame is one frame a run's witness saw: sent by From, or delivered
// to To, decoded into a short text. Reports draw what was on the wire from
// these rather than from what a node says about itself.
type WireFrame struct {
	At       sim.Time
	Sent     bool // sent by From (before any fault); false: delivered to To
	From, To sim.NodeID
	Conn     sim.ConnID
	Type     wire.MsgType
	Len      int
	CRC      uint32 // of the frame's bytes: a delivery of an unaltered frame carries its send's
	Altered  bool   // delivered bytes a fault changed
	Text     string // "Throttle{on, queue 800, rate 40}"
}

// Witness sizes: the recent frames of every type kept for the failing
// window, and the control frames of the whole run (throttles, resyncs,
// snapshots, handshakes), which are few.
const (
	witnessRecent  = 256
	witnessControl = results.MaxControlFrames
	// witnessRawMax is the largest frame kept as bytes until asked for;
	// a larger one (a snapshot, or a peer's garbage) is told at once, so
	// that the slots hold at most 256 × 4 KiB.
	witnessRawMax = 4 << 10
)

// Witness is a Monitor that keeps decoded frames for reports (a run's,
// with Params.Witness, or live mode's proxy's). It only
// reads: it decodes with its own scratch, so neither the nodes nor the
// trace see it, and a witnessed run has the trace hash of any other.
type Witness struct {
	dec    *wire.Scratch
	recent [witnessRecent]WireFrame
	// raw holds each recent frame's bytes: a frame is decoded into its
	// text, and its CRC32C taken, only if it is still among the recent
	// ones when they are asked for, so a run pays a copy per frame, not a
	// decode and a checksum.
	raw     [witnessRecent][]byte
	told    [witnessRecent]bool // the slot's text and CRC32C were taken at once; raw is empty
	n       int
	control []WireFrame
	// controlCap bounds control (witnessControl; tests lower it). At
	// 1,024 Lites the handshakes and initial snapshots alone are 3,072
	// control frames, so a fan-out fills it: counts holds what the
	// summaries count, over the whole run (an undecodable Throttle is
	// neither on nor off).
	controlCap int
	counts     results.WireCounts
}

// NewWitness returns an empty witness.
func NewWitness() *Witness {
	dec := wire.Default.NewScratch()
	dec.Alias = true // the text is built at once; nothing is kept
	return &Witness{dec: dec, controlCap: witnessControl}
}

// Counts are the control frames delivered so far, kept or not.
func (w *Witness) Counts() results.WireCounts {
	c := w.counts
	c.ControlKept = w.controlCap
	return c
}

// isControl reports whether frames of type t are kept for the whole run.
func isControl(t wire.MsgType) bool {
	switch t {
	case wire.TypeThrottle, wire.TypeResyncRequest, wire.TypeShapeSnapshot, wire.TypeHandshake, wire.TypeHandshakeAck:
		return true
	}
	return false
}

// add records a frame in the next recent slot, filled in place (see sim's
// eventQueue.add).
func (w *Witness) add(now sim.Time, sent bool, from, to sim.NodeID, conn sim.ConnID, t wire.MsgType, altered bool, frame []byte) {
	i := w.n % witnessRecent
	w.n++
	f := &w.recent[i]
	*f = WireFrame{}
	f.At, f.Sent, f.From, f.To, f.Conn, f.Type, f.Len, f.Altered = now, sent, from, to, conn, t, len(frame), altered
	delivered := isControl(t) && !sent
	control := delivered && len(w.control) < w.controlCap
	tell := control || len(frame) > witnessRawMax // told once, now
	var m wire.Message
	var err error
	if tell || delivered && t == wire.TypeThrottle { // a Throttle is counted by what it says
		m, err = w.dec.Decode(frame)
	}
	if tell {
		f.Text, f.CRC = text(t, frame, m, err), wire.Checksum(frame)
		w.raw[i], w.told[i] = w.raw[i][:0], true
	} else {
		w.raw[i], w.told[i] = append(w.raw[i][:0], frame...), false
	}
	if control {
		w.control = append(w.control, *f)
	}
	if delivered {
		w.count(now, t, to, m, err, control)
	}
}

// count adds a control frame delivered to node to (m decoded from it,
// for a Throttle) to the counts.
func (w *Witness) count(now sim.Time, t wire.MsgType, to sim.NodeID, m wire.Message, err error, kept bool) {
	c := &w.counts
	if !kept {
		if c.ControlNotKept == 0 {
			c.ControlFullS = now.Seconds()
		}
		c.ControlNotKept++
	}
	switch t {
	case wire.TypeShapeSnapshot:
		c.Snapshots++
	case wire.TypeThrottle:
		if th, ok := m.(*wire.Throttle); ok && err == nil && to == OriginID {
			if th.Throttle {
				c.ThrottleOn++
			} else {
				c.ThrottleOff++
			}
		}
	}
}

func (w *Witness) text(t wire.MsgType, frame []byte) string {
	m, err := w.dec.Decode(frame)
	return text(t, frame, m, err)
}

func text(t wire.MsgType, frame []byte, m wire.Message, err error) string {
	if err == nil {
		return FrameText(m)
	}
	return fmt.Sprintf("%s (undecodable: %d bytes)", t, len(frame))
}

func (w *Witness) Step(now sim.Time, node sim.NodeID, in *sim.Input, altered bool) {
	if in.Kind != sim.InFrame || len(in.Frame) == 0 {
		return
	}
	w.add(now, false, in.Peer, node, in.Conn, wire.MsgType(in.Frame[0]), altered, in.Frame)
}

func (w *Witness) Sent(now sim.Time, p *sim.Packet) {
	w.add(now, true, p.From, p.To, p.Conn, p.Type, false, p.Bytes)
}

func (w *Witness) Event(sim.Time, sim.NodeID, sim.Event) {}
func (w *Witness) AfterStep(sim.Time, sim.NodeID)        {}

// Frames are the recent frames, oldest first, and the control frames
// delivered in the whole run.
func (w *Witness) Frames() (recent, control []WireFrame) {
	k := min(w.n, witnessRecent)
	for i := w.n - k; i < w.n; i++ {
		f := w.recent[i%witnessRecent]
		if !w.told[i%witnessRecent] { // kept as bytes: told now
			raw := w.raw[i%witnessRecent]
			f.Text, f.CRC = w.text(f.Type, raw), wire.Checksum(raw)
		}
		recent = append(recent, f)
	}
	return recent, w.control
}

// FrameText is a message as one short phrase, the fields an engineer
// reads first: "Throttle{on, queue 800, rate 40}", "ShapeDelta{c0/d3 lsn 41}".
func FrameText(m wire.Message) string {
	switch m := m.(type) {
	case *wire.Throttle:
		if !m.Throttle {
			return fmt.Sprintf("Throttle{off, queue %d}", m.QueueDepth)
		}
		rate := "server default"
		if m.SuggestedRate > 0 {
			rate = fmt.Sprint(m.SuggestedRate)
		}
		return fmt.Sprintf("Throttle{on, queue %d, rate %s}", m.QueueDepth, rate)
	case *wire.ShapeDelta:
		return fmt.Sprintf("ShapeDelta{%s/%s %s lsn %d}", m.Collection, m.DocumentID, m.Operation, m.LSN)
	case *wire.ShapeSnapshot:
		return fmt.Sprintf("ShapeSnapshot{%s at lsn %d, %d docs}", m.ShapeID, m.SnapshotLSN, m.DocCount)
	case *wire.ShapeSubscribe:
		return fmt.Sprintf("ShapeSubscribe{%s}", m.Shape.ShapeID)
	case *wire.DeltaPush:
		return fmt.Sprintf("DeltaPush{%s/%s mutation %d}", m.Collection, m.DocumentID, m.MutationID)
	case *wire.DeltaAck:
		return fmt.Sprintf("DeltaAck{mutation %d, lsn %d}", m.MutationID, m.LSN)
	case *wire.DeltaReject:
		return fmt.Sprintf("DeltaReject{mutation %d: %s}", m.MutationID, m.Reason)
	case *wire.ResyncRequest:
		coll := m.Collection
		if coll == "" {
			coll = "all"
		}
		reason := m.Reason.Kind.String()
		switch m.Reason.Kind {
		case wire.SequenceGap:
			reason = fmt.Sprintf("gap: expected %d, got %d", m.Reason.Expected, m.Reason.Received)
		case wire.ChecksumMismatch:
			reason = fmt.Sprintf("checksum mismatch at %d", m.Reason.MutationID)
		}
		return fmt.Sprintf("ResyncRequest{%s from %d, %s}", coll, m.FromMutationID, reason)
	case *wire.Handshake:
		return fmt.Sprintf("Handshake{lite %s, epoch %d, %d shapes}", m.LiteID, m.Epoch, len(m.SubscribedShapes))
	case *wire.HandshakeAck:
		if !m.Success {
			e := ""
			if m.Error != nil {
				e = ": " + *m.Error
			}
			return "HandshakeAck{refused" + e + "}"
		}
		return fmt.Sprintf("HandshakeAck{ok, session %s}", m.SessionID)
	case *wire.VectorClockSync:
		return fmt.Sprintf("VectorClockSync{%d collections}", len(m.Clocks))
	case *wire.PingPong:
		if m.IsPong {
			return "Pong"
		}
		return "Ping"
	}
	return m.Type().String()
}

// ResultFrames is fs in a result file's form.
func ResultFrames(fs []WireFrame) []results.Frame {
	var out []results.Frame
	for _, f := range fs {
		dir := "recv"
		if f.Sent {
			dir = "send"
		}
		out = append(out, results.Frame{AtS: f.At.Seconds(), Dir: dir, From: int(f.From), To: int(f.To), Conn: uint64(f.Conn),
			Type: f.Type.String(), Len: f.Len, CRC: f.CRC, Altered: f.Altered, Text: f.Text})
	}
	return out
}
