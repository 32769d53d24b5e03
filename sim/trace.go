package sim

import (
	"bufio"
	"fmt"
	"io"
	"math/bits"
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
	trEvent                     // a node's event
	trFault                     // a fault decision (recorded by faults)
)

var trNames = [...]string{trInput: "input", trSend: "send", trDrop: "drop", trLost: "lost", trClose: "close",
	trCrash: "crash", trRestart: "restart", trEvent: "event", trFault: "fault"}

// TraceEvent is one entry of the trace, as written to a trace file and kept
// in the tail shown with a violation. Only the fields of its Kind are set.
type TraceEvent struct {
	T    Time
	Kind string // input, send, drop, lost, close, crash, restart, event, fault
	Node NodeID
	Peer NodeID // send, drop, lost, close, fault: the other end
	Conn ConnID
	// input
	Input InputKind
	Timer uint64 // a timer's tag
	Write string // a write's collection/document
	// input (a frame, or a write's value), send, drop, lost
	Type wire.MsgType
	Len  int
	CRC  uint32 // input: CRC32C of the frame or the written value
	By   NodeID // close: the end that closed it (-1: a reset)
	// event
	Event Event
	// fault: its kind, what was drawn, the frame type it hit
	Fault     string
	Arg       uint64
	FaultType wire.MsgType
}

// String renders the event as one JSON object (the trace file's line).
func (e *TraceEvent) String() string {
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
		switch {
		case e.Input == InFrame:
			b = fmt.Appendf(b, `,"conn":%d,"type":"%s","len":%d,"crc":%d`, e.Conn, e.Type, e.Len, e.CRC)
		case e.Input == InTimer:
			b = fmt.Appendf(b, `,"timer":%d`, e.Timer)
		case e.Input == InWrite:
			b = fmt.Appendf(b, `,"write":%q,"len":%d,"crc":%d`, e.Write, e.Len, e.CRC)
		case e.Conn != 0:
			b = fmt.Appendf(b, `,"conn":%d`, e.Conn)
		}
	case "event":
		if e.Event != nil {
			b = append(b, ',')
			return string(append(AppendEventMembers(b, e.Event), '}'))
		}
	case "fault":
		b = fmt.Appendf(b, `,"peer":%d,"conn":%d,"fault":%q,"arg":%d`, e.Peer, e.Conn, e.Fault, e.Arg)
		if e.FaultType != 0 {
			b = fmt.Appendf(b, `,"type":"%s"`, e.FaultType)
		}
	case "close":
		b = fmt.Appendf(b, `,"peer":%d,"conn":%d,"by":%d`, e.Peer, e.Conn, e.By)
	case "crash", "restart":
	default:
		b = fmt.Appendf(b, `,"peer":%d,"conn":%d,"type":"%s","len":%d`, e.Peer, e.Conn, e.Type, e.Len)
	}
	return string(append(b, '}'))
}

// TraceSink receives every trace event as one JSON line. nil disables it.
type TraceSink = io.Writer

// TailLen is how many recent trace events a run keeps for violation reports.
const TailLen = 64

// rec is one trace event as the tail keeps it: narrow fields, so that
// recording an event is a few stores; Tail widens it into a TraceEvent.
// Node and connection ids and frame lengths fit 32 bits in any run (a
// run has dozens of nodes, thousands of connections, frames of at most
// the codec's body limit).
type rec struct {
	t          Time
	a, b, c    uint64
	s          string
	doc        string // a write's document, kept apart from s so tracing a write builds no string
	node, peer int32
	conn       uint32
	crc        uint32
	len        int32
	// The four bytes commit shifts into one word, in an order where no
	// two neighbours sit 8 bits apart in it: the compiler would merge
	// such a pair into one 16-bit load, which cannot be forwarded from
	// the two byte stores that just wrote it and waits for them to drain.
	in   InputKind    // bits 48-55
	typ  wire.MsgType // bits 32-39
	kind trKind       // bits 56-63
	ev   uint8        // bits 40-47: an event's kind in the hash (eventWords.kind)
	evID eventID      // and its type, to rebuild it for the tail
}

func (r *rec) event() TraceEvent {
	e := TraceEvent{T: r.t, Kind: trNames[r.kind], Node: NodeID(r.node), Peer: NodeID(r.peer), Conn: ConnID(r.conn)}
	switch r.kind {
	case trInput:
		e.Input, e.Type, e.Len, e.CRC = r.in, r.typ, int(r.len), r.crc
		switch r.in {
		case InTimer:
			e.Timer = r.a
		case InWrite:
			e.Write = r.s + "/" + r.doc
		}
	case trEvent:
		e.Peer = 0
		e.Event = eventFromWords(eventWords{kind: r.ev, id: r.evID, a: r.a, b: r.b, c: r.c, s: r.s})
	case trFault:
		e.Fault, e.Arg, e.FaultType = r.s, r.a, wire.MsgType(r.b)
	case trClose:
		e.By = NodeID(r.len)
	default:
		e.Type, e.Len = r.typ, int(r.len)
	}
	return e
}

type tracer struct {
	hash uint64
	out  *bufio.Writer
	tail [TailLen]rec
	n    uint64
	err  error
}

func (t *tracer) init(sink io.Writer) {
	t.hash = 0x6a09e667f3bcc908 // any fixed non-zero start
	if sink != nil {
		t.out = bufio.NewWriterSize(sink, 64<<10)
	}
}

// Keys of the hash's lanes: any fixed odd constants, two different ones in
// each multiply (the trace hash must be the same in every process, so
// nothing is seeded).
const (
	k0 = 0xa0761d6478bd642f
	k1 = 0xe7037ed1a0b428db
	k2 = 0x8ebc6af09c88c6e3
	k3 = 0x589965cc75374cc3
	k4 = 0x1d8e4e27c47d124f
	k5 = 0x9e3779b97f4a7c15
	k6 = 0xbf58476d1ce4e5b9
	k7 = 0x94d049bb133111eb
)

// mum multiplies two words to 128 bits and folds the halves: one multiply
// mixes two words.
func mum(a, b uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	return hi ^ lo
}

// foldString mixes s into h eight bytes at a time. The last chunk (0 to 8
// bytes) goes in with its length, which with the number of chunks before
// it fixes the string's: "c0" and "c0\x00" differ.
func foldString(h uint64, s string) uint64 {
	for ; len(s) > 8; s = s[8:] {
		w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
		h = mum(h^w^k6, k7)
	}
	var w uint64
	for i := 0; i < len(s); i++ {
		w |= uint64(s[i]) << (8 * i)
	}
	return mum(h^w^k6, uint64(len(s))^k7)
}

// next returns the tail slot the next event is built in (in place, so an
// event is written once).
func (t *tracer) next() *rec {
	r := &t.tail[t.n%TailLen]
	t.n++
	return r
}

// commit folds the event built in r into the hash and writes it out. The
// words go through independent multiplies and only the first lane carries
// the running hash, so an event costs about two multiplies of latency.
func (t *tracer) commit(r *rec) {
	w1 := uint64(r.kind)<<56 | uint64(r.in)<<48 | uint64(r.ev)<<40 | uint64(r.typ)<<32 | uint64(uint32(r.node))
	w2 := uint64(uint32(r.peer))<<32 | uint64(r.crc)
	w3 := uint64(r.conn)<<32 | uint64(uint32(r.len))
	x := mum(t.hash^uint64(r.t)^k0, w1^k1) ^ mum(w2^k2, w3^k3) ^ mum(r.a^k4, r.b^k5)
	if r.c != 0 || r.s != "" || r.doc != "" {
		x ^= mum(r.c^k2, foldString(foldString(k4, r.s), r.doc))
	}
	t.hash = x
	if t.out != nil && t.err == nil {
		e := r.event()
		_, t.err = t.out.WriteString(e.String())
		if t.err == nil {
			t.err = t.out.WriteByte('\n')
		}
	}
}

func (t *tracer) event(now Time, k trKind, node, peer NodeID, conn ConnID, typ wire.MsgType, n int) {
	if !tracing {
		return
	}
	r := t.next()
	*r = rec{} // then field by field (see eventQueue.add)
	r.t, r.kind, r.node, r.peer, r.conn, r.typ, r.len = now, k, int32(node), int32(peer), uint32(conn), typ, int32(n)
	t.commit(r)
}

// input records a step's input; crc is a frame's CRC32C when haveCRC (a
// shared frame's, taken once at send), computed here otherwise.
func (t *tracer) input(now Time, node NodeID, in *Input, crc uint32, haveCRC bool) {
	if !tracing {
		return
	}
	r := t.next()
	*r = rec{} // then field by field (see eventQueue.add)
	r.t, r.kind, r.node, r.in, r.conn, r.peer = now, trInput, int32(node), in.Kind, uint32(in.Conn), int32(in.Peer)
	switch in.Kind {
	case InFrame:
		if !haveCRC {
			crc = wire.Checksum(in.Frame)
		}
		r.typ, r.len, r.crc = frameType(in.Frame), int32(len(in.Frame)), crc
	case InTimer:
		r.a = in.Timer
	case InWrite:
		r.s, r.doc = in.Write.Collection, in.Write.DocID
		r.crc = wire.Checksum(in.Write.Value)
		r.len = int32(len(in.Write.Value))
	}
	t.commit(r)
}

func (t *tracer) observation(now Time, node NodeID, wd *eventWords) {
	if !tracing {
		return
	}
	r := t.next()
	*r = rec{} // then field by field (see eventQueue.add)
	r.t, r.kind, r.node, r.ev, r.evID, r.a, r.b, r.c, r.s = now, trEvent, int32(node), wd.kind, wd.id, wd.a, wd.b, wd.c, wd.s
	t.commit(r)
}

func (t *tracer) flush() {
	if t.out != nil && t.err == nil {
		t.err = t.out.Flush()
	}
}

// RecordFault folds a fault decision into the trace, so a run's fault
// schedule is part of its hash and its trace file.
func (w *World) RecordFault(node, peer NodeID, conn ConnID, kind string, a, b uint64) {
	if !tracing {
		return
	}
	r := w.trace.next()
	*r = rec{} // then field by field (see eventQueue.add)
	r.t, r.kind, r.node, r.peer, r.conn, r.a, r.b, r.s = w.now, trFault, int32(node), int32(peer), uint32(conn), a, b, kind
	w.trace.commit(r)
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
		out = append(out, t.tail[i%TailLen].event())
	}
	return out
}

// TraceErr reports a failure writing the trace sink, if any.
func (w *World) TraceErr() error { return w.trace.err }
