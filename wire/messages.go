package wire

// Message is one decoded frame body. Every modelled message is a pointer to
// one of the structs below; known but unmodelled types are *Opaque.
type Message interface {
	Type() MsgType
	encode(w *bodyWriter)
	decode(r *bodyReader)
}

// Bytes is a Vec<u8> field: bin on the wire, a JSON array of numbers in the
// CLI's JSON form (as serde writes it).
type Bytes []byte

// RawValue is one MessagePack value carried without interpretation (used
// for DeltaReject's compensation hint, whose layout the harness does not
// need). nil means the Option is absent.
type RawValue []byte

// Handshake (0x01, Lite → Origin).
type Handshake struct {
	JWTToken         string                       `json:"jwt_token"`
	VectorClock      map[string]map[string]uint64 `json:"vector_clock"`
	SubscribedShapes []string                     `json:"subscribed_shapes"`
	ClientVersion    string                       `json:"client_version"`
	LiteID           string                       `json:"lite_id"`
	Epoch            uint64                       `json:"epoch"`
	WireVersion      uint16                       `json:"wire_version"`
}

func (*Handshake) Type() MsgType { return TypeHandshake }

func (m *Handshake) encode(w *bodyWriter) {
	w.array(7)
	w.str(m.JWTToken)
	w.mapLen(len(m.VectorClock))
	keys, mark := pushSortedKeys(w, m.VectorClock)
	for _, k := range keys {
		w.str(k)
		w.strU64Map(m.VectorClock[k])
	}
	w.popKeys(mark)
	w.array(len(m.SubscribedShapes))
	for _, s := range m.SubscribedShapes {
		w.str(s)
	}
	w.str(m.ClientVersion)
	w.str(m.LiteID)
	w.uint(m.Epoch)
	w.uint(uint64(m.WireVersion))
}

func (m *Handshake) decode(r *bodyReader) {
	if !r.array("Handshake", 7) {
		return
	}
	m.JWTToken = r.str("jwt_token")
	if n, ok := r.mapLen("vector_clock"); ok {
		m.VectorClock = make(map[string]map[string]uint64, n)
		for i := 0; i < n && r.err == nil; i++ {
			k := r.str("vector_clock key")
			m.VectorClock[k] = r.strU64Map("vector_clock[" + k + "]")
		}
	}
	m.SubscribedShapes = r.strList("subscribed_shapes")
	m.ClientVersion = r.str("client_version")
	m.LiteID = r.str("lite_id")
	m.Epoch = r.u64("epoch")
	m.WireVersion = r.u16("wire_version")
}

// HandshakeAck (0x02, Origin → Lite).
type HandshakeAck struct {
	Success           bool              `json:"success"`
	SessionID         string            `json:"session_id"`
	ServerClock       map[string]uint64 `json:"server_clock"`
	Error             *string           `json:"error"`
	ForkDetected      bool              `json:"fork_detected"`
	ServerWireVersion uint16            `json:"server_wire_version"`
}

func (*HandshakeAck) Type() MsgType { return TypeHandshakeAck }

func (m *HandshakeAck) encode(w *bodyWriter) {
	w.array(6)
	w.boolean(m.Success)
	w.str(m.SessionID)
	w.strU64Map(m.ServerClock)
	w.optStr(m.Error)
	w.boolean(m.ForkDetected)
	w.uint(uint64(m.ServerWireVersion))
}

func (m *HandshakeAck) decode(r *bodyReader) {
	if !r.array("HandshakeAck", 6) {
		return
	}
	m.Success = r.boolean("success")
	m.SessionID = r.str("session_id")
	m.ServerClock = r.strU64Map("server_clock")
	m.Error = r.optStr("error")
	m.ForkDetected = r.boolean("fork_detected")
	m.ServerWireVersion = r.u16("server_wire_version")
}

// DeltaPush (0x10, Lite → Origin). Checksum is CRC32C of Delta, 0 from
// legacy clients.
type DeltaPush struct {
	Collection        string `json:"collection"`
	DocumentID        string `json:"document_id"`
	Delta             Bytes  `json:"delta"`
	PeerID            uint64 `json:"peer_id"`
	MutationID        uint64 `json:"mutation_id"`
	Checksum          uint32 `json:"checksum"`
	DeviceValidTimeMs *int64 `json:"device_valid_time_ms"`
}

func (*DeltaPush) Type() MsgType { return TypeDeltaPush }

func (m *DeltaPush) encode(w *bodyWriter) {
	w.array(7)
	w.str(m.Collection)
	w.str(m.DocumentID)
	w.bin(m.Delta)
	w.uint(m.PeerID)
	w.uint(m.MutationID)
	w.uint(uint64(m.Checksum))
	w.optInt(m.DeviceValidTimeMs)
}

func (m *DeltaPush) decode(r *bodyReader) {
	if !r.array("DeltaPush", 7) {
		return
	}
	m.Collection = r.str("collection")
	m.DocumentID = r.str("document_id")
	m.Delta = r.bin("delta")
	m.PeerID = r.u64("peer_id")
	m.MutationID = r.u64("mutation_id")
	m.Checksum = r.u32("checksum")
	m.DeviceValidTimeMs = r.optInt("device_valid_time_ms")
}

// DeltaAck (0x11, Origin → Lite).
type DeltaAck struct {
	MutationID         uint64 `json:"mutation_id"`
	LSN                uint64 `json:"lsn"`
	ClockSkewWarningMs *int64 `json:"clock_skew_warning_ms"`
}

func (*DeltaAck) Type() MsgType { return TypeDeltaAck }

func (m *DeltaAck) encode(w *bodyWriter) {
	w.array(3)
	w.uint(m.MutationID)
	w.uint(m.LSN)
	w.optInt(m.ClockSkewWarningMs)
}

func (m *DeltaAck) decode(r *bodyReader) {
	if !r.array("DeltaAck", 3) {
		return
	}
	m.MutationID = r.u64("mutation_id")
	m.LSN = r.u64("lsn")
	m.ClockSkewWarningMs = r.optInt("clock_skew_warning_ms")
}

// DeltaReject (0x12, Origin → Lite).
type DeltaReject struct {
	MutationID   uint64   `json:"mutation_id"`
	Reason       string   `json:"reason"`
	Compensation RawValue `json:"compensation"`
}

func (*DeltaReject) Type() MsgType { return TypeDeltaReject }

func (m *DeltaReject) encode(w *bodyWriter) {
	w.array(3)
	w.uint(m.MutationID)
	w.str(m.Reason)
	if m.Compensation == nil {
		w.null()
	} else {
		_, _ = w.Write(m.Compensation)
	}
}

func (m *DeltaReject) decode(r *bodyReader) {
	if !r.array("DeltaReject", 3) {
		return
	}
	m.MutationID = r.u64("mutation_id")
	m.Reason = r.str("reason")
	if !r.isNil() {
		m.Compensation = r.raw("compensation")
	}
}

// ShapeDefinition is the shape a Lite subscribes to. PROTOCOL.md names its
// parts (shape id, tenant id, a shape type carrying the collection, a
// description, a field filter) but not their exact layout; this is the
// harness's model of it, in that order.
type ShapeDefinition struct {
	ShapeID     string    `json:"shape_id"`
	TenantID    uint64    `json:"tenant_id"`
	ShapeType   ShapeType `json:"shape_type"`
	Description string    `json:"description"`
	FieldFilter []string  `json:"field_filter"`
}

// ShapeType is an enum with one modelled variant, Document{collection}.
type ShapeType struct {
	Collection string
}

func (s *ShapeDefinition) encode(w *bodyWriter) {
	w.array(5)
	w.str(s.ShapeID)
	w.uint(s.TenantID)
	w.variant("Document", 1)
	w.str(s.ShapeType.Collection)
	w.str(s.Description)
	w.array(len(s.FieldFilter))
	for _, f := range s.FieldFilter {
		w.str(f)
	}
}

func (s *ShapeDefinition) decode(r *bodyReader) {
	if !r.array("shape", 5) {
		return
	}
	s.ShapeID = r.str("shape.shape_id")
	s.TenantID = r.u64("shape.tenant_id")
	at := r.pos
	name, hasFields, ok := r.variant("shape.shape_type")
	if ok {
		if name != "Document" || !hasFields {
			r.fail(at, "shape.shape_type", "unknown variant %q (want Document)", name)
		} else if r.array("shape.shape_type.Document", 1) {
			s.ShapeType.Collection = r.str("shape.shape_type.Document.collection")
		}
	}
	s.Description = r.str("shape.description")
	s.FieldFilter = r.strList("shape.field_filter")
}

// ShapeSubscribe (0x20, Lite → Origin).
type ShapeSubscribe struct {
	Shape ShapeDefinition `json:"shape"`
}

func (*ShapeSubscribe) Type() MsgType { return TypeShapeSubscribe }

func (m *ShapeSubscribe) encode(w *bodyWriter) {
	w.array(1)
	m.Shape.encode(w)
}

func (m *ShapeSubscribe) decode(r *bodyReader) {
	if r.array("ShapeSubscribe", 1) {
		m.Shape.decode(r)
	}
}

// ShapeSnapshot (0x21, Origin → Lite). Deltas after SnapshotLSN follow.
type ShapeSnapshot struct {
	ShapeID     string `json:"shape_id"`
	Data        Bytes  `json:"data"`
	SnapshotLSN uint64 `json:"snapshot_lsn"`
	DocCount    uint64 `json:"doc_count"`
}

func (*ShapeSnapshot) Type() MsgType { return TypeShapeSnapshot }

func (m *ShapeSnapshot) encode(w *bodyWriter) {
	w.array(4)
	w.str(m.ShapeID)
	w.bin(m.Data)
	w.uint(m.SnapshotLSN)
	w.uint(m.DocCount)
}

func (m *ShapeSnapshot) decode(r *bodyReader) {
	if !r.array("ShapeSnapshot", 4) {
		return
	}
	m.ShapeID = r.str("shape_id")
	m.Data = r.bin("data")
	m.SnapshotLSN = r.u64("snapshot_lsn")
	m.DocCount = r.u64("doc_count")
}

// ShapeDelta (0x22, Origin → Lite). It has no checksum field.
type ShapeDelta struct {
	ShapeID    string `json:"shape_id"`
	Collection string `json:"collection"`
	DocumentID string `json:"document_id"`
	Operation  string `json:"operation"`
	Delta      Bytes  `json:"delta"`
	LSN        uint64 `json:"lsn"`
}

// The operations a ShapeDelta carries.
const (
	OpInsert = "INSERT"
	OpUpdate = "UPDATE"
	OpDelete = "DELETE"
)

func (*ShapeDelta) Type() MsgType { return TypeShapeDelta }

func (m *ShapeDelta) encode(w *bodyWriter) {
	w.array(6)
	w.str(m.ShapeID)
	w.str(m.Collection)
	w.str(m.DocumentID)
	w.str(m.Operation)
	w.bin(m.Delta)
	w.uint(m.LSN)
}

func (m *ShapeDelta) decode(r *bodyReader) {
	if !r.array("ShapeDelta", 6) {
		return
	}
	m.ShapeID = r.str("shape_id")
	m.Collection = r.str("collection")
	m.DocumentID = r.str("document_id")
	m.Operation = r.str("operation")
	m.Delta = r.bin("delta")
	m.LSN = r.u64("lsn")
}

// VectorClockSync (0x30, both directions): collection → max LSN.
type VectorClockSync struct {
	Clocks   map[string]uint64 `json:"clocks"`
	SenderID uint64            `json:"sender_id"`
}

func (*VectorClockSync) Type() MsgType { return TypeVectorClockSync }

func (m *VectorClockSync) encode(w *bodyWriter) {
	w.array(2)
	w.strU64Map(m.Clocks)
	w.uint(m.SenderID)
}

func (m *VectorClockSync) decode(r *bodyReader) {
	if !r.array("VectorClockSync", 2) {
		return
	}
	m.Clocks = r.strU64Map("clocks")
	m.SenderID = r.u64("sender_id")
}

// ReasonKind selects the ResyncReason variant.
type ReasonKind uint8

// The ResyncReason variants, in declaration order.
const (
	SequenceGap ReasonKind = iota
	ChecksumMismatch
	CorruptedState
)

var reasonNames = [...]string{SequenceGap: "SequenceGap", ChecksumMismatch: "ChecksumMismatch", CorruptedState: "CorruptedState"}

func (k ReasonKind) String() string {
	if int(k) < len(reasonNames) {
		return reasonNames[k]
	}
	return "ReasonKind(?)"
}

// ResyncReason is the enum: SequenceGap{expected, received} |
// ChecksumMismatch{mutation_id} | CorruptedState. Only the fields of Kind
// are meaningful.
type ResyncReason struct {
	Kind       ReasonKind
	Expected   uint64
	Received   uint64
	MutationID uint64
}

func (m *ResyncReason) encode(w *bodyWriter) {
	switch m.Kind {
	case SequenceGap:
		w.variant("SequenceGap", 2)
		w.uint(m.Expected)
		w.uint(m.Received)
	case ChecksumMismatch:
		w.variant("ChecksumMismatch", 1)
		w.uint(m.MutationID)
	default:
		w.unitVariant("CorruptedState")
	}
}

func (m *ResyncReason) decode(r *bodyReader) {
	at := r.pos
	name, hasFields, ok := r.variant("reason")
	if !ok {
		return
	}
	*m = ResyncReason{}
	switch {
	case name == "SequenceGap" && hasFields:
		if r.array("reason.SequenceGap", 2) {
			m.Kind = SequenceGap
			m.Expected = r.u64("reason.SequenceGap.expected")
			m.Received = r.u64("reason.SequenceGap.received")
		}
	case name == "ChecksumMismatch" && hasFields:
		if r.array("reason.ChecksumMismatch", 1) {
			m.Kind = ChecksumMismatch
			m.MutationID = r.u64("reason.ChecksumMismatch.mutation_id")
		}
	case name == "CorruptedState" && !hasFields:
		m.Kind = CorruptedState
	case name == "SequenceGap" || name == "ChecksumMismatch":
		r.fail(at, "reason", "variant %s needs its fields, found nil", name)
	case name == "CorruptedState":
		r.fail(at, "reason", "variant CorruptedState has no fields, found a payload")
	default:
		r.fail(at, "reason", "unknown variant %q (want SequenceGap, ChecksumMismatch or CorruptedState)", name)
	}
}

// ResyncRequest (0x50, both directions). FromMutationID 0 asks for a full
// re-sync; an empty Collection means all collections.
type ResyncRequest struct {
	Reason         ResyncReason `json:"reason"`
	FromMutationID uint64       `json:"from_mutation_id"`
	Collection     string       `json:"collection"`
}

func (*ResyncRequest) Type() MsgType { return TypeResyncRequest }

func (m *ResyncRequest) encode(w *bodyWriter) {
	w.array(3)
	m.Reason.encode(w)
	w.uint(m.FromMutationID)
	w.str(m.Collection)
}

func (m *ResyncRequest) decode(r *bodyReader) {
	if !r.array("ResyncRequest", 3) {
		return
	}
	m.Reason.decode(r)
	m.FromMutationID = r.u64("from_mutation_id")
	m.Collection = r.str("collection")
}

// Throttle (0x52, Lite → Origin). SuggestedRate is deltas per second, 0 for
// the server default.
type Throttle struct {
	Throttle      bool   `json:"throttle"`
	QueueDepth    uint64 `json:"queue_depth"`
	SuggestedRate uint64 `json:"suggested_rate"`
}

func (*Throttle) Type() MsgType { return TypeThrottle }

func (m *Throttle) encode(w *bodyWriter) {
	w.array(3)
	w.boolean(m.Throttle)
	w.uint(m.QueueDepth)
	w.uint(m.SuggestedRate)
}

func (m *Throttle) decode(r *bodyReader) {
	if !r.array("Throttle", 3) {
		return
	}
	m.Throttle = r.boolean("throttle")
	m.QueueDepth = r.u64("queue_depth")
	m.SuggestedRate = r.u64("suggested_rate")
}

// PingPong (0xFF, both directions).
type PingPong struct {
	TimestampMs uint64 `json:"timestamp_ms"`
	IsPong      bool   `json:"is_pong"`
}

func (*PingPong) Type() MsgType { return TypePingPong }

func (m *PingPong) encode(w *bodyWriter) {
	w.array(2)
	w.uint(m.TimestampMs)
	w.boolean(m.IsPong)
}

func (m *PingPong) decode(r *bodyReader) {
	if !r.array("PingPong", 2) {
		return
	}
	m.TimestampMs = r.u64("timestamp_ms")
	m.IsPong = r.boolean("is_pong")
}

// Opaque is a frame of a known type that the harness does not model: its
// body is kept as one raw MessagePack value.
type Opaque struct {
	T    MsgType
	Body RawValue
}

func (m *Opaque) Type() MsgType        { return m.T }
func (m *Opaque) encode(w *bodyWriter) { _, _ = w.Write(m.Body) }
func (m *Opaque) decode(r *bodyReader) { m.Body = r.raw(m.T.String() + " body") }

// newMessage returns an empty message for a known type byte.
func newMessage(t MsgType) Message {
	switch t {
	case TypeHandshake:
		return &Handshake{}
	case TypeHandshakeAck:
		return &HandshakeAck{}
	case TypeDeltaPush:
		return &DeltaPush{}
	case TypeDeltaAck:
		return &DeltaAck{}
	case TypeDeltaReject:
		return &DeltaReject{}
	case TypeShapeSubscribe:
		return &ShapeSubscribe{}
	case TypeShapeSnapshot:
		return &ShapeSnapshot{}
	case TypeShapeDelta:
		return &ShapeDelta{}
	case TypeVectorClockSync:
		return &VectorClockSync{}
	case TypeResyncRequest:
		return &ResyncRequest{}
	case TypeThrottle:
		return &Throttle{}
	case TypePingPong:
		return &PingPong{}
	}
	if t.Known() {
		return &Opaque{T: t}
	}
	return nil
}
