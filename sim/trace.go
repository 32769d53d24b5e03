package sim

import (
	"bufio"
	"fmt"
	"io"
	"strconv"

	"github.com/syncsim/syncsim/wire"
)

// trKind is the kind of a trace event.
type trKind uint8

const (
	trInput   trKind = iota + 1 // a node was stepped
	trSend                      // a frame was scheduled for delivery
	trDrop                      // the interceptor dropped a frame
	trLost                      // a frame arrived at a dead connection or node
	trClose                     // a connection closed
	trCrash                     // a node crashed
	trRestart                   // a node restarted
	trObs                       // a node observation
	trFault                     // a fault decision (recorded by faults)
)

var trNames = [...]string{trInput: "input", trSend: "send", trDrop: "drop", trLost: "lost", trClose: "close",
	trCrash: "crash", trRestart: "restart", trObs: "obs", trFault: "fault"}

// TraceEvent is one entry of the trace, as written to a trace file and kept
// in the tail shown with a violation.
type TraceEvent struct {
	T       Time
	Kind    string
	Node    NodeID
	Peer    NodeID
	Conn    ConnID
	Input   InputKind
	Type    wire.MsgType
	Len     int
	CRC     uint32 // CRC32C of the frame bytes for inputs carrying a frame
	Obs     ObsKind
	A, B, C uint64
	S       string
	// doc, when set, is the part of S after a "/" (a write's document):
	// kept apart so that tracing a write does not build a string. Tail and
	// String join it; the hash folds the same bytes either way.
	doc string
}

// joined returns e with S complete.
func (e TraceEvent) joined() TraceEvent {
	if e.doc != "" {
		e.S, e.doc = e.S+"/"+e.doc, ""
	}
	return e
}

// String renders the event as one JSON object (the trace file's line).
func (e *TraceEvent) String() string {
	if e.doc != "" {
		j := e.joined()
		e = &j
	}
	b := make([]byte, 0, 128)
	b = append(b, `{"t":`...)
	b = strconv.AppendInt(b, int64(e.T), 10)
	b = append(b, `,"ev":"`...)
	b = append(b, e.Kind...)
	b = append(b, `","node":`...)
	b = strconv.AppendInt(b, int64(e.Node), 10)
	switch e.Kind {
	case "input":
		b = append(b, `,"in":"`...)
		b = append(b, e.Input.String()...)
		b = append(b, '"')
		if e.Input == InFrame {
			b = fmt.Appendf(b, `,"conn":%d,"type":"%s","len":%d,"crc":%d`, e.Conn, e.Type, e.Len, e.CRC)
		} else if e.Input == InTimer {
			b = fmt.Appendf(b, `,"timer":%d`, e.A)
		} else if e.Conn != 0 {
			b = fmt.Appendf(b, `,"conn":%d`, e.Conn)
		}
	case "obs":
		b = fmt.Appendf(b, `,"obs":"%s","a":%d,"b":%d,"c":%d,"s":%q`, e.Obs, e.A, e.B, e.C, e.S)
	case "fault":
		b = fmt.Appendf(b, `,"peer":%d,"conn":%d,"a":%d,"b":%d,"s":%q`, e.Peer, e.Conn, e.A, e.B, e.S)
	default:
		b = fmt.Appendf(b, `,"peer":%d,"conn":%d,"type":"%s","len":%d`, e.Peer, e.Conn, e.Type, e.Len)
	}
	return string(append(b, '}'))
}

// TraceSink receives every trace event as one JSON line. nil disables it.
type TraceSink = io.Writer

// TailLen is how many recent trace events a run keeps for violation reports.
const TailLen = 64

type tracer struct {
	hash uint64
	out  *bufio.Writer
	tail [TailLen]TraceEvent
	n    uint64
	err  error
}

func (t *tracer) init(sink io.Writer) {
	t.hash = 0x6a09e667f3bcc908 // any fixed non-zero start
	if sink != nil {
		t.out = bufio.NewWriterSize(sink, 64<<10)
	}
}

// fold mixes one word into the hash (a multiply-xorshift step; the trace
// hash must be stable across processes, so no seeded hash is used).
func (t *tracer) fold(x uint64) {
	h := (t.hash ^ x) * 0x9e3779b97f4a7c15
	t.hash = h ^ h>>29
}

// next returns the tail slot the next event is built in (in place: a
// TraceEvent is too big to pass around by value on every step).
func (t *tracer) next() *TraceEvent {
	e := &t.tail[t.n%TailLen]
	t.n++
	return e
}

// commit folds the event built in e into the hash and writes it out.
func (t *tracer) commit(e *TraceEvent) {
	t.fold(uint64(e.T))
	t.fold(uint64(len(e.Kind))<<56 | uint64(e.Kind[0])<<48 | uint64(e.Input)<<40 | uint64(e.Obs)<<32 | uint64(e.Type)<<24 | uint64(uint32(e.Node)))
	t.fold(uint64(uint32(e.Peer))<<32 | uint64(e.CRC))
	t.fold(uint64(e.Conn)<<32 | uint64(uint32(e.Len)))
	t.fold(e.A)
	t.fold(e.B ^ e.C<<1)
	t.foldString(e.S)
	if e.doc != "" {
		t.foldString("/")
		t.foldString(e.doc)
	}
	if t.out != nil && t.err == nil {
		_, t.err = t.out.WriteString(e.String())
		if t.err == nil {
			t.err = t.out.WriteByte('\n')
		}
	}
}

func (t *tracer) foldString(s string) {
	h := t.hash
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * 0x100000001b3
	}
	t.hash = h
}

func (t *tracer) event(now Time, k trKind, node, peer NodeID, conn ConnID, typ wire.MsgType, n int) {
	e := t.next()
	*e = TraceEvent{T: now, Kind: trNames[k], Node: node, Peer: peer, Conn: conn, Type: typ, Len: n}
	t.commit(e)
}

func (t *tracer) input(now Time, node NodeID, in *Input) {
	e := t.next()
	*e = TraceEvent{T: now, Kind: trNames[trInput], Node: node, Input: in.Kind, Conn: in.Conn, Peer: in.Peer}
	switch in.Kind {
	case InFrame:
		e.Type, e.Len, e.CRC = frameType(in.Frame), len(in.Frame), wire.Checksum(in.Frame)
	case InTimer:
		e.A = in.Timer
	case InWrite:
		e.S, e.doc = in.Write.Collection, in.Write.DocID
		if e.doc == "" {
			e.S += "/" // rare: keep the bytes the hash has always folded
		}
		e.CRC = wire.Checksum(in.Write.Value)
		e.Len = len(in.Write.Value)
	}
	t.commit(e)
}

func (t *tracer) observation(now Time, ob *Observation) {
	e := t.next()
	*e = TraceEvent{T: now, Kind: trNames[trObs], Node: ob.Node, Obs: ob.Kind, A: ob.A, B: ob.B, C: ob.C, S: ob.S}
	t.commit(e)
}

func (t *tracer) flush() {
	if t.out != nil && t.err == nil {
		t.err = t.out.Flush()
	}
}

// RecordFault folds a fault decision into the trace, so a run's fault
// schedule is part of its hash and its trace file.
func (w *World) RecordFault(node, peer NodeID, conn ConnID, kind string, a, b uint64) {
	e := w.trace.next()
	*e = TraceEvent{T: w.now, Kind: trNames[trFault], Node: node, Peer: peer, Conn: conn, A: a, B: b, S: kind}
	w.trace.commit(e)
}

// Tail returns the most recent trace events, oldest first (at most TailLen).
func (w *World) Tail() []TraceEvent {
	t := &w.trace
	n := t.n
	if n > TailLen {
		n = TailLen
	}
	out := make([]TraceEvent, 0, n)
	for i := t.n - n; i < t.n; i++ {
		out = append(out, t.tail[i%TailLen].joined())
	}
	return out
}

// TraceErr reports a failure writing the trace sink, if any.
func (w *World) TraceErr() error { return w.trace.err }
