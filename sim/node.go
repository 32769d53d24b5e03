package sim

import "github.com/syncsim/syncsim/wire"

// NodeID names a node in a world; IDs are dense, starting at 0.
type NodeID int

// ConnID names one connection; IDs are never reused within a run.
type ConnID uint64

// InputKind says what happened to a node.
type InputKind uint8

// The inputs a node is stepped with.
const (
	InStart    InputKind = iota + 1 // first step of the run
	InRestart                       // after a crash: durable state kept, volatile lost
	InConnUp                        // a connection (Conn) to Peer opened
	InConnDown                      // a connection closed or reset; Conn is dead
	InFrame                         // frame bytes arrived on Conn
	InTimer                         // a timer set with Effects.SetTimer fired
	InWrite                         // the workload asks for a local write
)

var inputNames = [...]string{InStart: "start", InRestart: "restart", InConnUp: "conn-up", InConnDown: "conn-down",
	InFrame: "frame", InTimer: "timer", InWrite: "write"}

func (k InputKind) String() string {
	if int(k) < len(inputNames) && inputNames[k] != "" {
		return inputNames[k]
	}
	return "input?"
}

// Write is one local write the workload asks a node to make.
type Write struct {
	Collection string
	DocID      string
	Value      []byte // nil deletes the document
}

// Input is one step's stimulus. Only the fields of its Kind are set. Frame
// bytes belong to the kernel, are valid only during the step and must not
// be written: they may be a shared frame (Effects.SendShared) that other
// deliveries hold too.
type Input struct {
	Kind  InputKind
	Conn  ConnID
	Peer  NodeID
	Frame []byte
	Timer uint64
	Write Write
}

// Node is the contract every implementation under test meets, modelled on
// etcd raft's RawNode: a pure state machine. Step handles one input at the
// virtual time now and records what the node does in fx; the kernel
// applies those effects after Step returns, in the order recorded, so
// nothing outside the node (checkers, faults, counters) ever runs on its
// stack. A node owns no clock, no randomness it was not handed (Env.Rand)
// and no I/O.
//
// A node keeps durable state (what survives a crash) apart from volatile
// state. Crash drops the volatile part; the kernel then closes the node's
// connections and discards its timers, and no input follows until
// InRestart, which may use durable state only. Probe reports the node's
// state for convergence and sampling; it must not change the node, and is
// never called during a Step or on a crashed node.
type Node interface {
	Step(now Time, in *Input, fx *Effects)
	Crash()
	Probe(p *Probe)
}

// Probe is a node's answer to the harness's question "where are you?":
// per collection the LSN it has reached and the digest of its documents
// there (docs/digest.md specifies the digest), and what it still has
// pending. The harness judges convergence by comparing every Lite's
// answer with Origin's. Fields that do not apply to a role stay zero.
type Probe struct {
	// Collections: a Lite's subscribed collections, Origin's served ones,
	// in the order of Env.Collections.
	Collections []CollectionState
	// A Lite's pending work: connected means its handshake was accepted on
	// a live connection; Unacked counts mutations neither acked nor
	// rejected; Resyncing counts resync requests not yet answered;
	// QueueDepth is the incoming deltas not yet applied; Throttled says it
	// has asked Origin to slow down and not released it.
	Connected  bool
	Unacked    int
	Resyncing  int
	QueueDepth int
	Throttled  bool
	// Sessions: Origin's sessions, in accept order (with Conns, maybe only
	// those asked about, and then in any order).
	Sessions []SessionState
	// Conns, when not empty, is set by the caller, not the node: it wants
	// only the sessions on these connections. Origin may list only those
	// or list all: callers filter. It spares Origin counting the backlog
	// of a thousand sessions when a monitor wants a few.
	Conns []ConnID
}

// CollectionState is one collection in a Probe.
type CollectionState struct {
	Name   string
	LSN    uint64
	Digest uint64
}

// SessionState is one of Origin's sessions in a Probe: the connection,
// the Lite on it, whether Origin paces it and at what rate (deltas/s),
// and how many log entries it still owes it.
type SessionState struct {
	Conn      ConnID
	Peer      NodeID
	Throttled bool
	Rate      float64
	Backlog   uint64
}

// Reset empties p for reuse, keeping the capacity of its slices and what
// the caller asked for (Conns itself: a caller reusing p for a question
// about every session clears Conns first).
func (p *Probe) Reset() {
	*p = Probe{Collections: p.Collections[:0], Sessions: p.Sessions[:0], Conns: p.Conns}
}

// Collection returns the state of collection name, if p has it.
func (p *Probe) Collection(name string) (CollectionState, bool) {
	for _, c := range p.Collections {
		if c.Name == name {
			return c, true
		}
	}
	return CollectionState{}, false
}

// EffectKind says what an effect does.
type EffectKind uint8

// The effects a step can record.
const (
	EffectSend  EffectKind = iota + 1 // Frame goes out on Conn
	EffectTimer                       // InTimer with Tag fires After from now
	EffectDial                        // open a connection to Peer; InConnUp or InConnDown follows
	EffectClose                       // close Conn; the peer sees InConnDown
	EffectEvent                       // Event is reported
)

var effectNames = [...]string{EffectSend: "send", EffectTimer: "timer", EffectDial: "dial", EffectClose: "close", EffectEvent: "event"}

func (k EffectKind) String() string {
	if int(k) < len(effectNames) && effectNames[k] != "" {
		return effectNames[k]
	}
	return "effect?"
}

// Effect is one thing a step did. Only the fields of its Kind are set.
type Effect struct {
	Kind  EffectKind
	Conn  ConnID // send, close
	Peer  NodeID // dial
	After Time   // timer
	Tag   uint64 // timer
	Frame []byte // send: the frame's bytes, valid until the next Reset
	Event Event  // event: valid until the next Reset
	words int    // event: where Effects keeps its trace words
	// shared: Frame came from SendShared; it is never recycled.
	shared bool
}

// Effects records what a node does in one step; see Node. The kernel owns
// one and resets it before every step. A test or a tool that drives a node
// by hand makes one with NewEffects, calls Reset before each step and
// reads List after it.
type Effects struct {
	list  []Effect
	codec *wire.Codec
	dec   *wire.Scratch // made on first use
	pool  *framePool
	ev    events
	// The input frame a Monitor already decoded this step (World.Peek),
	// handed to the node's own Decode of it instead of decoding twice.
	peeked    []byte
	peekedMsg wire.Message
	peekedErr error
	// The step's input frame when it is a shared frame (SendShared), which
	// nothing ever writes or recycles: its bin fields decode as views.
	sharedIn []byte
}

// NewEffects returns an empty recorder whose Send encodes with codec (nil:
// wire.Default).
func NewEffects(codec *wire.Codec) *Effects {
	if codec == nil {
		codec = wire.Default
	}
	return &Effects{codec: codec, pool: &framePool{}}
}

// List is what the step recorded, in order.
func (fx *Effects) List() []Effect { return fx.list }

// Reset forgets the recorded effects, recycling their frame buffers.
func (fx *Effects) Reset() {
	for i := range fx.list {
		if f := fx.list[i].Frame; f != nil {
			if !fx.list[i].shared {
				fx.pool.put(f)
			}
			fx.list[i].Frame = nil
		}
	}
	fx.reuse()
}

// reuse empties the recorder for the next step; the kernel calls it once it
// has taken every frame. Stale pointers left in the backing arrays point
// into this recorder's own storage, so nothing is cleared.
func (fx *Effects) reuse() {
	fx.list = fx.list[:0]
	fx.sharedIn = nil
	if len(fx.ev.words) != 0 {
		fx.ev.reset()
	}
	if fx.peeked != nil {
		fx.unpeek()
	}
}

// Send encodes m and sends it on conn. Sending on a dead or unknown
// connection is silently dropped, as a write to a reset socket is. A
// message that does not encode is reported as a DecodeError event (a bug
// in the node worth a loud, replayable report) and not sent.
func (fx *Effects) Send(conn ConnID, m wire.Message) {
	b, err := fx.codec.AppendFrame(fx.pool.get(), m)
	if err != nil {
		fx.pool.put(b)
		fx.Emit(&DecodeError{Error: "encode: " + err.Error()})
		return
	}
	e := fx.add(EffectSend)
	e.Conn, e.Frame = conn, b
}

// add appends an effect of kind k for the caller to fill in place (see
// eventQueue.add).
func (fx *Effects) add(k EffectKind) *Effect {
	fx.list = append(fx.list, Effect{})
	e := &fx.list[len(fx.list)-1]
	e.Kind = k
	return e
}

// SendRaw sends already-encoded frame bytes (copied: the caller may reuse
// frame at once). An empty frame is not sent.
func (fx *Effects) SendRaw(conn ConnID, frame []byte) {
	if len(frame) == 0 {
		return
	}
	e := fx.add(EffectSend)
	e.Conn, e.Frame = conn, append(fx.pool.get(), frame...)
}

// SendShared sends frame without copying it: the kernel and every
// delivery of it keep frame itself until they are done with it, so the
// caller must never modify it again (a fresh buffer per frame, the node's
// own: never an Input's Frame or bytes the kernel handed out, which it
// recycles). For bytes sent to many peers: Origin's log entry, encoded
// once and sent to every session, is then one buffer in memory, not a copy
// per session. An empty frame is not sent.
func (fx *Effects) SendShared(conn ConnID, frame []byte) {
	if len(frame) == 0 {
		return
	}
	e := fx.add(EffectSend)
	e.Conn, e.Frame, e.shared = conn, frame, true
}

// SetTimer fires InTimer with tag after d. Timers cannot be cancelled; a
// node ignores stale ones (e.g. by putting a generation in the tag).
func (fx *Effects) SetTimer(d Time, tag uint64) {
	e := fx.add(EffectTimer)
	e.After, e.Tag = d, tag
}

// Dial opens a connection to peer; InConnUp or InConnDown follows.
func (fx *Effects) Dial(peer NodeID) { fx.list = append(fx.list, Effect{Kind: EffectDial, Peer: peer}) }

// Close closes conn; the peer sees InConnDown.
func (fx *Effects) Close(conn ConnID) {
	fx.list = append(fx.list, Effect{Kind: EffectClose, Conn: conn})
}

// Emit reports an event. e is copied (pass a pointer to a literal:
// fx.Emit(&sim.Applied{Collection: c, LSN: n}) allocates nothing).
func (fx *Effects) Emit(e Event) {
	ev, words := fx.ev.keep(e)
	x := fx.add(EffectEvent)
	x.Event, x.words = ev, words
}

// Codec is the run's wire codec.
func (fx *Effects) Codec() *wire.Codec { return fx.codec }

// Decode decodes one frame with the run's codec into a message that is
// reused: it is valid until the next Decode, so a node copies what it
// keeps. Strings and bin fields survive a struct copy; an optional integer
// (*int64) does not: keep its value. Decoding this way allocates nothing
// for the message itself. A bin field is the node's to keep but never to
// write: it is a copy of the frame's bytes, or, when the frame is a shared
// one (Effects.SendShared) that other nodes receive too, a view of it.
func (fx *Effects) Decode(frame []byte) (wire.Message, error) {
	if fx.peeked != nil {
		m, err, same := fx.peekedMsg, fx.peekedErr, len(frame) == len(fx.peeked) && &frame[0] == &fx.peeked[0]
		fx.unpeek()
		if same {
			return m, err
		}
	}
	if fx.dec == nil {
		fx.dec = fx.codec.NewScratch()
	}
	// A view of a shared frame stays valid (the frame is never recycled)
	// and saves a copy per receiver: at 1,024 Lites, 1,024 per entry.
	fx.dec.Alias = fx.sharedIn != nil && sameBytes(frame, fx.sharedIn)
	return fx.dec.Decode(frame)
}

func (fx *Effects) unpeek() { fx.peeked, fx.peekedMsg, fx.peekedErr = nil, nil, nil }

// framePool recycles frame buffers: a sent frame's bytes live until its
// delivery has been stepped, then hold the next frame.
type framePool struct{ bufs [][]byte }

func (p *framePool) get() []byte {
	if n := len(p.bufs); n > 0 {
		b := p.bufs[n-1]
		p.bufs = p.bufs[:n-1]
		return b[:0]
	}
	return make([]byte, 0, 128)
}

func (p *framePool) put(b []byte) {
	if cap(b) <= 64<<10 && len(p.bufs) < 4096 {
		p.bufs = append(p.bufs, b)
	}
}
