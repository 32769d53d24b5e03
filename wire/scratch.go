package wire

// Scratch decodes frame after frame into messages it owns and reuses, so a
// receiver that handles a message and moves on allocates nothing for the
// message itself. It is what the simulated nodes decode with: a run
// decodes every delivered frame, and a fresh message per frame was most of
// a run's garbage.
//
// A message returned by Decode is valid only until the next Decode on the
// same Scratch: a receiver copies what it keeps. Strings are immutable and
// bin fields are copies of the frame's bytes (unless Alias is set), so a
// struct copy keeps those; but an optional integer (*int64) points into the
// Scratch and is overwritten by the next Decode: keep its value, not the
// pointer. Make a Scratch with Codec.NewScratch (a zero Scratch decodes with
// Default). It is not safe for concurrent use.
type Scratch struct {
	c *Codec
	// Alias makes bin and raw fields sub-slices of the frame instead of
	// copies: then the message is valid only as long as the frame too.
	// For observers that look at every frame and keep nothing.
	Alias bool
	r     bodyReader
	ints  [2]int64 // backing for optional integers (one per message today; more fall back to the heap)

	handshake    Handshake
	handshakeAck HandshakeAck
	push         DeltaPush
	ack          DeltaAck
	reject       DeltaReject
	subscribe    ShapeSubscribe
	snapshot     ShapeSnapshot
	delta        ShapeDelta
	clock        VectorClockSync
	resync       ResyncRequest
	throttle     Throttle
	ping         PingPong
	opaque       Opaque
}

// NewScratch returns a Scratch decoding with c's limits.
func (c *Codec) NewScratch() *Scratch {
	return &Scratch{c: c}
}

// Decode decodes exactly one frame into the Scratch's message of its type.
// Errors are those of Codec.Decode.
func (s *Scratch) Decode(frame []byte) (Message, error) {
	if s.c == nil {
		s.c = Default
	}
	t, body, size, err := s.c.SplitFrame(frame)
	if err != nil {
		return nil, err
	}
	if size != len(frame) {
		return nil, errorf(ErrTrailing, int64(size), t, "%d bytes after the frame", len(frame)-size)
	}
	m := s.message(t)
	r := &s.r
	r.data, r.pos, r.base, r.t, r.p, r.err, r.alias, r.ints = body, 0, HeaderLen, t, &s.c.profile, nil, s.Alias, s.ints[:0]
	m.decode(r)
	bad, pos := r.err, r.pos
	r.data, r.ints = nil, nil
	if bad != nil {
		return nil, bad
	}
	if pos != len(body) {
		return nil, errorf(ErrTrailing, HeaderLen+int64(pos), t, "%d bytes after the body value", len(body)-pos)
	}
	return m, nil
}

// message returns the Scratch's message of type t, reset to its zero value
// (a decode sets every field, but an error part-way must not leave the
// previous frame's values behind).
func (s *Scratch) message(t MsgType) Message {
	switch t {
	case TypeHandshake:
		s.handshake = Handshake{}
		return &s.handshake
	case TypeHandshakeAck:
		s.handshakeAck = HandshakeAck{}
		return &s.handshakeAck
	case TypeDeltaPush:
		s.push = DeltaPush{}
		return &s.push
	case TypeDeltaAck:
		s.ack = DeltaAck{}
		return &s.ack
	case TypeDeltaReject:
		s.reject = DeltaReject{}
		return &s.reject
	case TypeShapeSubscribe:
		s.subscribe = ShapeSubscribe{}
		return &s.subscribe
	case TypeShapeSnapshot:
		s.snapshot = ShapeSnapshot{}
		return &s.snapshot
	case TypeShapeDelta:
		s.delta = ShapeDelta{}
		return &s.delta
	case TypeVectorClockSync:
		s.clock = VectorClockSync{}
		return &s.clock
	case TypeResyncRequest:
		s.resync = ResyncRequest{}
		return &s.resync
	case TypeThrottle:
		s.throttle = Throttle{}
		return &s.throttle
	case TypePingPong:
		s.ping = PingPong{}
		return &s.ping
	}
	// SplitFrame refuses unknown type bytes, so t is a known type without
	// a typed message of its own.
	s.opaque = Opaque{T: t}
	return &s.opaque
}
