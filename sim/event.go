package sim

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/syncsim/syncsim/internal/flatjson"
)

// Event is a fact a node reports about itself, for what no frame shows
// (Origin's commit, a Lite's apply). Each kind of fact is its own type
// with named fields; a node emits a pointer to one (Effects.Emit copies
// it, so a literal costs no allocation). The set is closed: the JSON form
// that external nodes print is the contract (MarshalEvent, ParseEvent).
//
// An Event handed to a Monitor is valid only during the call.
type Event interface {
	// EventName is the event's stable name in JSON and traces.
	EventName() string
	// fill writes the fields the trace hash folds into w, which is zero:
	// in place, so that keeping an event's words is a few stores, not a
	// record built on the stack and copied.
	fill(w *eventWords)
}

// wordsOf returns e's words (see Event.fill).
func wordsOf(e Event) (w eventWords) {
	e.fill(&w)
	return w
}

// eventWords is an event's fields as the trace hash folds them: a kind
// byte, three numbers and a string. The layout of each kind is fixed (it
// decides every trace hash), so a field added to an event must be folded
// in a way that moves the hash (TestEveryEventFieldIsHashedAndRoundTrips).
type eventWords struct {
	kind    uint8
	a, b, c uint64
	s       string
	id      eventID // which type: not hashed (the layout of kind decides the hash)
}

// eventID numbers the event types, for the trace tail to rebuild an event
// from its words; eventTypes[id-1] is the type.
type eventID uint8

const (
	idCommitted eventID = iota + 1
	idDeduped
	idApplied
	idSnapshotLoaded
	idResyncSent
	idResendAsked
	idResyncAnswered
	idResyncServed
	idThrottleOn
	idThrottleOff
	idReconnecting
	idAcked
	idRejected
	idChecksumFailed
	idQueueOverflow
	idDecodeError
	idDigestMismatch
	idCorruptedState
	idSnapshotFallback
	idResending
)

// The hash's event kinds. The numbers are fixed: they are in every trace
// hash pinned anywhere.
const (
	evwCommit uint8 = iota + 1
	evwDedup
	evwApply
	evwSnapshot
	evwResyncSent
	evwResyncAnswered
	evwResyncServed
	evwThrottleOn
	evwThrottleOff
	evwReconnect
	evwAcked
	evwChecksumBad
	evwQueueOverflow
	evwDecodeError
	evwDigestMismatch
	evwCorruptedState
	evwSnapshotFallback
	evwResend
)

// Committed: Origin committed a change to Collection at LSN. Peer and
// Mutation name the Lite's mutation it applied (Peer 0: a local write).
type Committed struct {
	Collection string `json:"collection"`
	LSN        uint64 `json:"lsn"`
	Peer       uint64 `json:"peer"`
	Mutation   uint64 `json:"mutation"`
}

// Deduped: Origin acked a copy of a mutation it had already applied,
// without applying it again.
type Deduped struct {
	Peer     uint64 `json:"peer"`
	Mutation uint64 `json:"mutation"`
}

// Applied: a Lite applied the change at LSN of Collection to its copy.
type Applied struct {
	Collection string `json:"collection"`
	LSN        uint64 `json:"lsn"`
}

// SnapshotLoaded: a Lite replaced its copy of Collection with a snapshot
// taken at LSN.
type SnapshotLoaded struct {
	Collection string `json:"collection"`
	LSN        uint64 `json:"lsn"`
}

// ResyncSent: a Lite sent a ResyncRequest for Collection from LSN From;
// Attempt counts the sends of the same request (1 is the first).
type ResyncSent struct {
	Collection string `json:"collection"`
	From       uint64 `json:"from"`
	Attempt    uint64 `json:"attempt"`
}

// ResendAsked: Origin asked a Lite to push its mutations again from
// mutation id From (Reason is the ResyncReason's name).
type ResendAsked struct {
	Reason string `json:"reason"`
	From   uint64 `json:"from"`
}

// ResyncAnswered: a resync this Lite asked for is satisfied: Collection
// has reached LSN.
type ResyncAnswered struct {
	Collection string `json:"collection"`
	LSN        uint64 `json:"lsn"`
}

// ResyncServed: Origin answered a ResyncRequest for Collection from From
// by re-sending Frames deltas, or (Frames 0) with a snapshot.
type ResyncServed struct {
	Collection string `json:"collection"`
	From       uint64 `json:"from"`
	Frames     uint64 `json:"frames"`
}

// ThrottleOn: Origin paces the session on Conn, to Peer, at Rate deltas
// per second.
type ThrottleOn struct {
	Conn ConnID `json:"conn"`
	Peer NodeID `json:"peer"`
	Rate uint64 `json:"rate"`
}

// ThrottleOff: Origin stopped pacing the session on Conn, released by the
// Lite or (ByLease) because the throttle was not renewed in time.
type ThrottleOff struct {
	Conn    ConnID `json:"conn"`
	Peer    NodeID `json:"peer"`
	ByLease bool   `json:"by_lease"`
}

// Reconnecting: a Lite lost its connection and will dial again; Attempt
// counts the attempts since the last connection that opened.
type Reconnecting struct {
	Attempt uint64 `json:"attempt"`
}

// Acked: a Lite took its mutation as applied by Origin (at LSN; 0 when
// the ack gave none).
type Acked struct {
	Mutation uint64 `json:"mutation"`
	LSN      uint64 `json:"lsn"`
}

// Rejected: a Lite took Origin's rejection of its mutation as final.
type Rejected struct {
	Mutation uint64 `json:"mutation"`
}

// ChecksumFailed: Origin refused a push whose CRC32C did not match its
// delta.
type ChecksumFailed struct {
	Collection string `json:"collection"`
	Mutation   uint64 `json:"mutation"`
}

// QueueOverflow: a Lite's incoming queue was full and the delta at LSN of
// Collection was dropped.
type QueueOverflow struct {
	Collection string `json:"collection"`
	LSN        uint64 `json:"lsn"`
}

// DecodeError: a frame did not decode, or decoded to something the node
// cannot accept on its session; the node dropped it. Error says why.
type DecodeError struct {
	Error string `json:"error"`
}

// DigestMismatch: a Lite's copy of Collection at LSN differs from what
// Origin's clock says it holds there.
type DigestMismatch struct {
	Collection string `json:"collection"`
	LSN        uint64 `json:"lsn"`
}

// CorruptedState: at restart a Lite found its durable state corrupted and
// wiped it.
type CorruptedState struct{}

// SnapshotFallback: Origin sends Collection as a snapshot because its log
// no longer reaches back to From (Oldest is the oldest LSN it keeps).
type SnapshotFallback struct {
	Collection string `json:"collection"`
	From       uint64 `json:"from"`
	Oldest     uint64 `json:"oldest"`
}

// Resending: Origin's next frame re-sends the delta at LSN of Collection,
// which it sent before on this session.
type Resending struct {
	Collection string `json:"collection"`
	LSN        uint64 `json:"lsn"`
}

func (*Committed) EventName() string        { return "committed" }
func (*Deduped) EventName() string          { return "deduped" }
func (*Applied) EventName() string          { return "applied" }
func (*SnapshotLoaded) EventName() string   { return "snapshot-loaded" }
func (*ResyncSent) EventName() string       { return "resync-sent" }
func (*ResendAsked) EventName() string      { return "resend-asked" }
func (*ResyncAnswered) EventName() string   { return "resync-answered" }
func (*ResyncServed) EventName() string     { return "resync-served" }
func (*ThrottleOn) EventName() string       { return "throttle-on" }
func (*ThrottleOff) EventName() string      { return "throttle-off" }
func (*Reconnecting) EventName() string     { return "reconnecting" }
func (*Acked) EventName() string            { return "acked" }
func (*Rejected) EventName() string         { return "rejected" }
func (*ChecksumFailed) EventName() string   { return "checksum-failed" }
func (*QueueOverflow) EventName() string    { return "queue-overflow" }
func (*DecodeError) EventName() string      { return "decode-error" }
func (*DigestMismatch) EventName() string   { return "digest-mismatch" }
func (*CorruptedState) EventName() string   { return "corrupted-state" }
func (*SnapshotFallback) EventName() string { return "snapshot-fallback" }
func (*Resending) EventName() string        { return "resending" }

func (e *Committed) fill(w *eventWords) {
	w.id, w.kind, w.a, w.b, w.c, w.s = idCommitted, evwCommit, e.LSN, e.Peer, e.Mutation, e.Collection
}
func (e *Deduped) fill(w *eventWords) {
	w.id, w.kind, w.a, w.c = idDeduped, evwDedup, e.Peer, e.Mutation
}
func (e *Applied) fill(w *eventWords) {
	w.id, w.kind, w.a, w.s = idApplied, evwApply, e.LSN, e.Collection
}
func (e *SnapshotLoaded) fill(w *eventWords) {
	w.id, w.kind, w.a, w.s = idSnapshotLoaded, evwSnapshot, e.LSN, e.Collection
}
func (e *ResyncSent) fill(w *eventWords) {
	w.id, w.kind, w.a, w.b, w.s = idResyncSent, evwResyncSent, e.From, e.Attempt, e.Collection
}

// A Lite's request names a collection, Origin's a reason; both count as
// resync requests and share the hash's kind.
func (e *ResendAsked) fill(w *eventWords) {
	w.id, w.kind, w.a, w.s = idResendAsked, evwResyncSent, e.From, e.Reason
}
func (e *ResyncAnswered) fill(w *eventWords) {
	w.id, w.kind, w.a, w.s = idResyncAnswered, evwResyncAnswered, e.LSN, e.Collection
}
func (e *ResyncServed) fill(w *eventWords) {
	w.id, w.kind, w.a, w.b, w.s = idResyncServed, evwResyncServed, e.From, e.Frames, e.Collection
}
func (e *ThrottleOn) fill(w *eventWords) {
	w.id, w.kind, w.a, w.b, w.c = idThrottleOn, evwThrottleOn, uint64(e.Conn), e.Rate, uint64(e.Peer)
}
func (e *ThrottleOff) fill(w *eventWords) {
	w.id, w.kind, w.a, w.b, w.c = idThrottleOff, evwThrottleOff, uint64(e.Peer), uint64(e.Conn), b2u(e.ByLease)
}
func (e *Reconnecting) fill(w *eventWords) {
	w.id, w.kind, w.a = idReconnecting, evwReconnect, e.Attempt
}
func (e *Acked) fill(w *eventWords) {
	w.id, w.kind, w.a, w.c = idAcked, evwAcked, e.LSN, e.Mutation
}
func (e *Rejected) fill(w *eventWords) {
	w.id, w.kind, w.b, w.c = idRejected, evwAcked, 1, e.Mutation
}
func (e *ChecksumFailed) fill(w *eventWords) {
	w.id, w.kind, w.c, w.s = idChecksumFailed, evwChecksumBad, e.Mutation, e.Collection
}
func (e *QueueOverflow) fill(w *eventWords) {
	w.id, w.kind, w.a, w.s = idQueueOverflow, evwQueueOverflow, e.LSN, e.Collection
}
func (e *DecodeError) fill(w *eventWords) {
	w.id, w.kind, w.s = idDecodeError, evwDecodeError, e.Error
}
func (e *DigestMismatch) fill(w *eventWords) {
	w.id, w.kind, w.a, w.s = idDigestMismatch, evwDigestMismatch, e.LSN, e.Collection
}
func (*CorruptedState) fill(w *eventWords) {
	w.id, w.kind = idCorruptedState, evwCorruptedState
}
func (e *SnapshotFallback) fill(w *eventWords) {
	w.id, w.kind, w.a, w.b, w.s = idSnapshotFallback, evwSnapshotFallback, e.From, e.Oldest, e.Collection
}
func (e *Resending) fill(w *eventWords) {
	w.id, w.kind, w.a, w.s = idResending, evwResend, e.LSN, e.Collection
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

// eventFromWords rebuilds an event from its words (for the trace tail,
// which keeps only those).
func eventFromWords(w eventWords) Event {
	switch w.id {
	case idCommitted:
		return &Committed{Collection: w.s, LSN: w.a, Peer: w.b, Mutation: w.c}
	case idDeduped:
		return &Deduped{Peer: w.a, Mutation: w.c}
	case idApplied:
		return &Applied{Collection: w.s, LSN: w.a}
	case idSnapshotLoaded:
		return &SnapshotLoaded{Collection: w.s, LSN: w.a}
	case idResyncSent:
		return &ResyncSent{Collection: w.s, From: w.a, Attempt: w.b}
	case idResendAsked:
		return &ResendAsked{Reason: w.s, From: w.a}
	case idResyncAnswered:
		return &ResyncAnswered{Collection: w.s, LSN: w.a}
	case idResyncServed:
		return &ResyncServed{Collection: w.s, From: w.a, Frames: w.b}
	case idThrottleOn:
		return &ThrottleOn{Conn: ConnID(w.a), Rate: w.b, Peer: NodeID(w.c)}
	case idThrottleOff:
		return &ThrottleOff{Peer: NodeID(w.a), Conn: ConnID(w.b), ByLease: w.c == 1}
	case idReconnecting:
		return &Reconnecting{Attempt: w.a}
	case idAcked:
		return &Acked{Mutation: w.c, LSN: w.a}
	case idRejected:
		return &Rejected{Mutation: w.c}
	case idChecksumFailed:
		return &ChecksumFailed{Collection: w.s, Mutation: w.c}
	case idQueueOverflow:
		return &QueueOverflow{Collection: w.s, LSN: w.a}
	case idDecodeError:
		return &DecodeError{Error: w.s}
	case idDigestMismatch:
		return &DigestMismatch{Collection: w.s, LSN: w.a}
	case idCorruptedState:
		return &CorruptedState{}
	case idSnapshotFallback:
		return &SnapshotFallback{Collection: w.s, From: w.a, Oldest: w.b}
	case idResending:
		return &Resending{Collection: w.s, LSN: w.a}
	}
	return nil
}

// eventTypes lists one zero value of every event, in a fixed order: the
// registry ParseEvent and EventNames read.
var eventTypes = []Event{&Committed{}, &Deduped{}, &Applied{}, &SnapshotLoaded{}, &ResyncSent{}, &ResendAsked{},
	&ResyncAnswered{}, &ResyncServed{}, &ThrottleOn{}, &ThrottleOff{}, &Reconnecting{}, &Acked{}, &Rejected{},
	&ChecksumFailed{}, &QueueOverflow{}, &DecodeError{}, &DigestMismatch{}, &CorruptedState{}, &SnapshotFallback{},
	&Resending{}}

// EventNames lists every event's name, in a fixed order.
func EventNames() []string {
	out := make([]string, len(eventTypes))
	for i, e := range eventTypes {
		out[i] = e.EventName()
	}
	return out
}

// eventIDs maps each event's name to its id (external nodes' events are
// parsed by name, one per line).
var eventIDs = func() map[string]eventID {
	m := make(map[string]eventID, len(eventTypes))
	for i, e := range eventTypes {
		m[e.EventName()] = eventID(i + 1)
	}
	return m
}()

// MarshalEvent writes e in its stable JSON form: an object whose "event"
// member is the event's name, followed by its fields in declaration order,
// e.g. {"event":"applied","collection":"c0","lsn":5}, byte for byte what
// encoding/json would write for them.
func MarshalEvent(e Event) []byte { return AppendEvent(nil, e) }

// AppendEvent appends MarshalEvent's form of e to b.
func AppendEvent(b []byte, e Event) []byte {
	b = append(b, '{')
	return append(AppendEventMembers(b, e), '}')
}

// AppendEventMembers appends the members of MarshalEvent's form of e,
// without the braces: for a line that holds other members too.
func AppendEventMembers(b []byte, e Event) []byte {
	b = append(b, `"event":"`...)
	b = append(b, e.EventName()...)
	b = append(b, '"')
	v := reflect.ValueOf(e).Elem()
	for i, name := range fieldNames[eventIndex(e)] {
		b = append(b, ',', '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			b = flatjson.AppendString(b, f.String())
		case reflect.Bool:
			b = strconv.AppendBool(b, f.Bool())
		case reflect.Uint64, reflect.Uint32, reflect.Uint16, reflect.Uint8:
			b = strconv.AppendUint(b, f.Uint(), 10)
		case reflect.Int, reflect.Int64:
			b = strconv.AppendInt(b, f.Int(), 10)
		}
	}
	return b
}

// eventIndex is e's place in eventTypes.
func eventIndex(e Event) int { return int(wordsOf(e).id) - 1 }

// fieldNames lists each event type's JSON field names, by eventTypes index.
var fieldNames = func() [][]string {
	out := make([][]string, len(eventTypes))
	for i, e := range eventTypes {
		t := reflect.TypeOf(e).Elem()
		for j := 0; j < t.NumField(); j++ {
			name, _, _ := strings.Cut(t.Field(j).Tag.Get("json"), ",")
			out[i] = append(out[i], name)
		}
	}
	return out
}()

// ParseEvent reads an event in the form MarshalEvent writes. It is strict:
// an unknown event name, an unknown field, a field given twice or a value
// of the wrong type is an error that names it. Absent fields are zero.
func ParseEvent(data []byte) (Event, error) { return ParseEventWith(data) }

// ParseEventWith is ParseEvent for an object that may also hold the
// members named in other (e.g. an external node's "fx"), which it ignores.
func ParseEventWith(data []byte, other ...string) (Event, error) {
	var buf [8]flatjson.Field
	fields, err := flatjson.Scan(data, buf[:0])
	if err != nil {
		return nil, fmt.Errorf("event: %w", err)
	}
	return ParseEventFields(fields, other...)
}

// ParseEventFields is ParseEventWith for an object already scanned.
func ParseEventFields(fields []flatjson.Field, other ...string) (Event, error) {
	var id eventID
	found := false
	for i := range fields {
		f := &fields[i]
		if string(f.Key) != "event" {
			continue
		}
		if f.Kind != flatjson.String {
			return nil, fmt.Errorf(`event: "event" is %s, want a string`, f.Kind)
		}
		if id, found = eventIDs[string(f.Raw)]; !found {
			return nil, fmt.Errorf("event %q: unknown (known: %s)", f.Raw, strings.Join(EventNames(), ", "))
		}
	}
	if !found {
		return nil, errors.New(`event: no "event" member naming the event`)
	}
	e := eventFromWords(eventWords{id: id})
	name := e.EventName()
	v := reflect.ValueOf(e).Elem()
	tab := fieldTables[id-1]
next:
	for i := range fields {
		f := &fields[i]
		if string(f.Key) == "event" {
			continue
		}
		for _, o := range other {
			if string(f.Key) == o {
				continue next
			}
		}
		idx, ok := tab[string(f.Key)]
		if !ok {
			return nil, fmt.Errorf("event %s: unknown field %q", name, f.Key)
		}
		if err := setField(v.Field(idx), f); err != nil {
			return nil, fmt.Errorf("event %s: %w", name, err)
		}
	}
	return e, nil
}

// fieldTables maps each event's JSON field names to its struct fields, by
// eventTypes index.
var fieldTables = func() []map[string]int {
	out := make([]map[string]int, len(eventTypes))
	for i, names := range fieldNames {
		out[i] = map[string]int{}
		for j, n := range names {
			out[i][n] = j
		}
	}
	return out
}()

func setField(v reflect.Value, f *flatjson.Field) error {
	switch v.Kind() {
	case reflect.String:
		s, err := f.Str()
		v.SetString(s)
		return err
	case reflect.Bool:
		b, err := f.Bool()
		v.SetBool(b)
		return err
	case reflect.Uint64, reflect.Uint32, reflect.Uint16, reflect.Uint8:
		n, err := f.Uint(v.Type().Bits())
		v.SetUint(n)
		return err
	case reflect.Int, reflect.Int64:
		n, err := f.Int()
		v.SetInt(n)
		return err
	}
	return fmt.Errorf("field %q: no reader for %s", f.Key, v.Kind())
}

// events keeps copies of the events of one step, one slice per type, so
// that emitting one allocates nothing once the slices have grown. A
// pointer into a slice stays valid when a later append moves it (the old
// array keeps the copied value), and until the next step resets it.
type events struct {
	committed      []Committed
	deduped        []Deduped
	applied        []Applied
	snapshotLoaded []SnapshotLoaded
	resyncSent     []ResyncSent
	resendAsked    []ResendAsked
	resyncAnswered []ResyncAnswered
	resyncServed   []ResyncServed
	throttleOn     []ThrottleOn
	throttleOff    []ThrottleOff
	reconnecting   []Reconnecting
	acked          []Acked
	rejected       []Rejected
	checksumFailed []ChecksumFailed
	queueOverflow  []QueueOverflow
	decodeError    []DecodeError
	digestMismatch []DigestMismatch
	corrupted      []CorruptedState
	fallback       []SnapshotFallback
	resending      []Resending
	words          []eventWords // of every event kept, in order
}

func keep[T any](s *[]T, v *T) *T {
	*s = append(*s, *v)
	return &(*s)[len(*s)-1]
}

// slot appends a zero word record for an event and returns it and its
// index; the caller fills it with the event's fill, called on its type.
func (k *events) slot() (*eventWords, int) {
	k.words = append(k.words, eventWords{})
	i := len(k.words) - 1
	return &k.words[i], i
}

// keep copies e into the step's storage and returns the copy, with the
// index of its trace words, filled in place in the step's slot for them:
// the kernel reads them there rather than through the interface. The type
// switch, not a method of e, does the copy: e then does not escape, so
// the caller's &Applied{...} stays on its stack.
func (k *events) keep(e Event) (Event, int) {
	w, i := k.slot()
	// The three a run emits most (a delta applied, a commit, an ack) come
	// first, their words filled by a direct call: a type assertion is one
	// comparison, the switch a search.
	if a, ok := e.(*Applied); ok {
		x := keep(&k.applied, a)
		x.fill(w)
		return x, i
	}
	if c, ok := e.(*Committed); ok {
		x := keep(&k.committed, c)
		x.fill(w)
		return x, i
	}
	if a, ok := e.(*Acked); ok {
		x := keep(&k.acked, a)
		x.fill(w)
		return x, i
	}
	var x Event
	switch e := e.(type) { // the three above are not repeated here
	case *Deduped:
		x = keep(&k.deduped, e)
	case *SnapshotLoaded:
		x = keep(&k.snapshotLoaded, e)
	case *ResyncSent:
		x = keep(&k.resyncSent, e)
	case *ResendAsked:
		x = keep(&k.resendAsked, e)
	case *ResyncAnswered:
		x = keep(&k.resyncAnswered, e)
	case *ResyncServed:
		x = keep(&k.resyncServed, e)
	case *ThrottleOn:
		x = keep(&k.throttleOn, e)
	case *ThrottleOff:
		x = keep(&k.throttleOff, e)
	case *Reconnecting:
		x = keep(&k.reconnecting, e)
	case *Rejected:
		x = keep(&k.rejected, e)
	case *ChecksumFailed:
		x = keep(&k.checksumFailed, e)
	case *QueueOverflow:
		x = keep(&k.queueOverflow, e)
	case *DecodeError:
		x = keep(&k.decodeError, e)
	case *DigestMismatch:
		x = keep(&k.digestMismatch, e)
	case *CorruptedState:
		x = keep(&k.corrupted, e)
	case *SnapshotFallback:
		x = keep(&k.fallback, e)
	case *Resending:
		x = keep(&k.resending, e)
	default:
		panic("sim: Emit of a nil event") // the interface is sealed: every other case is above
	}
	x.fill(w)
	return x, i
}

// reset empties the slices that hold events, keeping their capacity.
func (k *events) reset() {
	var u uint32 // a bit per slice above that holds events (by eventID)
	for i := range k.words {
		u |= 1 << k.words[i].id
	}
	k.words = k.words[:0]
	if u&(1<<idApplied) != 0 {
		k.applied = k.applied[:0]
	}
	if u&(1<<idCommitted) != 0 {
		k.committed = k.committed[:0]
	}
	if u&(1<<idAcked) != 0 {
		k.acked = k.acked[:0]
	}
	if u&^(1<<idApplied|1<<idCommitted|1<<idAcked) == 0 {
		return
	}
	k.deduped, k.snapshotLoaded, k.resyncSent, k.resendAsked = k.deduped[:0], k.snapshotLoaded[:0], k.resyncSent[:0], k.resendAsked[:0]
	k.resyncAnswered, k.resyncServed = k.resyncAnswered[:0], k.resyncServed[:0]
	k.throttleOn, k.throttleOff, k.reconnecting = k.throttleOn[:0], k.throttleOff[:0], k.reconnecting[:0]
	k.rejected, k.checksumFailed = k.rejected[:0], k.checksumFailed[:0]
	k.queueOverflow, k.decodeError, k.digestMismatch = k.queueOverflow[:0], k.decodeError[:0], k.digestMismatch[:0]
	k.corrupted, k.fallback, k.resending = k.corrupted[:0], k.fallback[:0], k.resending[:0]
}

// CloneEvent returns a copy of e that outlives the step (a Monitor that
// keeps events copies them).
func CloneEvent(e Event) Event { return eventFromWords(wordsOf(e)) }
