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
	InTimer                         // a timer set with Outbox.SetTimer fired
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
// bytes belong to the kernel and are valid only during the step.
type Input struct {
	Kind  InputKind
	Conn  ConnID
	Peer  NodeID
	Frame []byte
	Timer uint64
	Write Write
}

// Node is a pure state machine. It must keep durable state (what survives a
// crash) apart from volatile state; on InRestart only durable state may be
// used. Step must not retain in.Frame.
type Node interface {
	Step(now Time, in *Input, out *Outbox)
	// Crash drops volatile state. The kernel closes the node's connections
	// and discards its timers; no input follows until InRestart.
	Crash()
}

// Outbox collects what a node does in one step.
type Outbox struct {
	w    *World
	node NodeID
	dec  *wire.Scratch // made on first use
	// The input frame a Monitor already decoded this step (World.Peek),
	// handed to the node's own Decode of it instead of decoding twice.
	peeked    []byte
	peekedMsg wire.Message
	peekedErr error
}

// Send encodes m and sends it on conn. Sending on a dead or unknown
// connection is silently dropped, as a write to a reset socket is.
func (o *Outbox) Send(conn ConnID, m wire.Message) {
	o.w.send(o.node, conn, m)
}

// SendRaw sends already-encoded frame bytes (copied).
func (o *Outbox) SendRaw(conn ConnID, frame []byte) {
	o.w.sendRaw(o.node, conn, frame)
}

// SetTimer fires InTimer with tag after d. Timers cannot be cancelled; a
// node ignores stale ones (e.g. by putting a generation in the tag).
func (o *Outbox) SetTimer(d Time, tag uint64) { o.w.setTimer(o.node, d, tag) }

// Dial opens a connection to peer; InConnUp or InConnDown follows.
func (o *Outbox) Dial(peer NodeID) { o.w.dial(o.node, peer) }

// Close closes conn; the peer sees InConnDown.
func (o *Outbox) Close(conn ConnID) { o.w.closeConn(conn, o.node) }

// Observe records an observation for the checkers and the trace.
func (o *Outbox) Observe(ob Observation) {
	ob.Node = o.node
	o.w.observe(ob)
}

// Codec is the run's wire codec.
func (o *Outbox) Codec() *wire.Codec { return o.w.codec }

// Decode decodes one frame with the run's codec into a message the kernel
// keeps for this node and reuses: it is valid until the node's next Decode,
// so a node copies what it keeps. Strings and bin fields (copies of the
// frame's bytes, not views) survive a struct copy; an optional integer
// (*int64) does not: keep its value. Decoding this way allocates nothing
// for the message itself.
func (o *Outbox) Decode(frame []byte) (wire.Message, error) {
	if o.peeked != nil {
		m, err, same := o.peekedMsg, o.peekedErr, len(frame) == len(o.peeked) && &frame[0] == &o.peeked[0]
		o.unpeek()
		if same {
			return m, err
		}
	}
	if o.dec == nil {
		o.dec = o.w.codec.NewScratch()
	}
	return o.dec.Decode(frame)
}

func (o *Outbox) unpeek() { o.peeked, o.peekedMsg, o.peekedErr = nil, nil, nil }

// ObsKind names an observation.
type ObsKind uint8

// Observation kinds emitted by the reference nodes. A, B and C carry
// numbers whose meaning each kind documents; S a collection or reason.
const (
	ObsCommit           ObsKind = iota + 1 // Origin committed: A=LSN, B=peer (0 local), C=mutation id; S=collection
	ObsDedup                               // Origin skipped a duplicate: A=peer, C=mutation id
	ObsApply                               // Lite applied a delta: A=LSN; S=collection
	ObsSnapshot                            // Lite loaded a snapshot: A=snapshot LSN; S=collection
	ObsResyncSent                          // ResyncRequest sent: A=from, B=attempt; S=collection/reason
	ObsResyncAnswered                      // a resync this node asked for was satisfied: A=LSN reached; S=collection
	ObsResyncServed                        // Origin answered a resync: A=from, B=frames sent (0 = snapshot); S=collection
	ObsThrottleOn                          // Origin throttles a session: A=conn, B=rate, C=peer node
	ObsThrottleOff                         // Origin released a session's throttle: A=peer node, B=conn (C=1 when by lease expiry)
	ObsReconnect                           // Lite dialled again: A=attempt
	ObsAcked                               // Lite saw its mutation acked: C=mutation id, A=LSN
	ObsChecksumBad                         // a checksum failed: C=mutation id
	ObsQueueOverflow                       // Lite's incoming queue was full: A=LSN dropped; S=collection
	ObsDecodeError                         // a frame failed to decode; S=error
	ObsDigestMismatch                      // anti-entropy found divergent state; S=collection
	ObsCorruptedState                      // cold start found corrupted durable state
	ObsSnapshotFallback                    // Origin sends a snapshot because its log no longer reaches back to A (oldest kept: B); S=collection
	ObsResend                              // Origin is about to re-send a ShapeDelta it sent before on this session: A=LSN; S=collection
)

var obsNames = [...]string{ObsCommit: "commit", ObsDedup: "dedup", ObsApply: "apply", ObsSnapshot: "snapshot",
	ObsResyncSent: "resync-sent", ObsResyncAnswered: "resync-answered", ObsResyncServed: "resync-served",
	ObsThrottleOn: "throttle-on", ObsThrottleOff: "throttle-off", ObsReconnect: "reconnect", ObsAcked: "acked",
	ObsChecksumBad: "checksum-bad", ObsQueueOverflow: "queue-overflow", ObsDecodeError: "decode-error",
	ObsDigestMismatch: "digest-mismatch", ObsCorruptedState: "corrupted-state", ObsSnapshotFallback: "snapshot-fallback", ObsResend: "resend"}

func (k ObsKind) String() string {
	if int(k) < len(obsNames) && obsNames[k] != "" {
		return obsNames[k]
	}
	return "obs?"
}

// Observation is a fact a node reports about itself.
type Observation struct {
	Kind    ObsKind
	Node    NodeID
	A, B, C uint64
	S       string
}
