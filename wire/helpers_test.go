package wire_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"strings"

	"github.com/syncsim/syncsim/wire"
)

// codec04 and codec06 are the two profiles' codecs with the default limit.
var (
	codec04 = wire.Default
	codec06 = wire.NewCodec(wire.Zerompk06, 0)
	codecs  = []*wire.Codec{codec04, codec06}
)

// failer is what the helpers need from a test: *testing.T, *testing.B,
// *testing.F and *rapid.T all provide it.
type failer interface {
	Helper()
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// unhex turns a hand-written hex string into bytes. Spaces, newlines and
// tabs are ignored so that tables can group bytes by field.
func unhex(tb failer, s string) []byte {
	tb.Helper()
	b, err := hex.DecodeString(compactHex(s))
	if err != nil {
		tb.Fatalf("bad hex in test table %q: %v", s, err)
	}
	return b
}

// compactHex removes the grouping whitespace from a table's hex string.
func compactHex(s string) string {
	return strings.NewReplacer(" ", "", "\n", "", "\t", "").Replace(s)
}

func ptr[T any](v T) *T { return &v }

// normalize returns a deep copy of m in the form the decoder produces:
// the decoder always returns non-nil (possibly empty) slices and maps for
// bin, array and map fields, because an empty bin/array/map on the wire
// (c4 00, 90, 80) is indistinguishable from a Go nil. So nil and empty
// mean the same message, and comparisons are made on this form.
func normalize(m wire.Message) wire.Message {
	bytesOf := func(b wire.Bytes) wire.Bytes {
		if b == nil {
			return wire.Bytes{}
		}
		return append(wire.Bytes{}, b...)
	}
	strs := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return append([]string{}, s...)
	}
	u64map := func(m map[string]uint64) map[string]uint64 {
		if m == nil {
			return map[string]uint64{}
		}
		return maps.Clone(m)
	}
	switch v := m.(type) {
	case *wire.Handshake:
		c := *v
		c.VectorClock = make(map[string]map[string]uint64, len(v.VectorClock))
		for k, inner := range v.VectorClock {
			c.VectorClock[k] = u64map(inner)
		}
		c.SubscribedShapes = strs(v.SubscribedShapes)
		return &c
	case *wire.HandshakeAck:
		c := *v
		c.ServerClock = u64map(v.ServerClock)
		return &c
	case *wire.DeltaPush:
		c := *v
		c.Delta = bytesOf(v.Delta)
		return &c
	case *wire.DeltaAck:
		c := *v
		return &c
	case *wire.DeltaReject:
		c := *v
		return &c
	case *wire.ShapeSubscribe:
		c := *v
		c.Shape.FieldFilter = strs(v.Shape.FieldFilter)
		return &c
	case *wire.ShapeSnapshot:
		c := *v
		c.Data = bytesOf(v.Data)
		return &c
	case *wire.ShapeDelta:
		c := *v
		c.Delta = bytesOf(v.Delta)
		return &c
	case *wire.VectorClockSync:
		c := *v
		c.Clocks = u64map(v.Clocks)
		return &c
	case *wire.ResyncRequest:
		c := *v
		return &c
	case *wire.Throttle:
		c := *v
		return &c
	case *wire.PingPong:
		c := *v
		return &c
	case *wire.Opaque:
		c := *v
		return &c
	}
	panic(fmt.Sprintf("normalize: unexpected message type %T", m))
}

// sameMessage compares two messages after normalisation (see normalize).
func sameMessage(a, b wire.Message) bool {
	return reflect.DeepEqual(normalize(a), normalize(b))
}

// wireError asserts that err is a *wire.Error and returns it.
func wireError(tb failer, err error) *wire.Error {
	tb.Helper()
	var we *wire.Error
	if !errors.As(err, &we) {
		tb.Fatalf("error %v (%T) is not a *wire.Error", err, err)
	}
	return we
}

// checkErrorShape is the invariant every decode error must satisfy: it is a
// *wire.Error of a decode kind, whose offset lies within the input.
func checkErrorShape(tb failer, err error, inputLen int) *wire.Error {
	tb.Helper()
	we := wireError(tb, err)
	switch we.Kind {
	case wire.ErrShortHeader, wire.ErrUnknownType, wire.ErrTooLarge,
		wire.ErrTruncated, wire.ErrBadBody, wire.ErrTrailing:
	default:
		tb.Fatalf("decode returned error kind %v (%d), not a decode kind: %v", we.Kind, we.Kind, err)
	}
	if we.Offset < 0 || we.Offset > int64(inputLen) {
		tb.Fatalf("error offset %d outside the input of %d bytes: %v", we.Offset, inputLen, err)
	}
	if !errors.Is(err, we.Kind) {
		tb.Fatalf("errors.Is(err, %v) is false for %v", we.Kind, err)
	}
	return we
}

// checkDecodeResult is the invariant for any decode of any input of
// inputLen bytes (a frame, or a body when body is true): either a message
// and no error, or no message and a *wire.Error whose offset lies within
// the input; and a decoded message re-encodes to a frame (or body) that
// decodes to an equal message. Decoded messages are already in normal form
// (see normalize), so they are compared directly.
func checkDecodeResult(tb failer, c *wire.Codec, inputLen int, m wire.Message, err error, body bool) {
	tb.Helper()
	if err != nil {
		if m != nil {
			tb.Fatalf("decode returned both a message %#v and an error %v", m, err)
		}
		checkErrorShape(tb, err, inputLen)
		return
	}
	if m == nil {
		tb.Fatalf("decode returned neither a message nor an error")
	}
	var again wire.Message
	if body {
		again, err = c.DecodeBody(m.Type(), c.AppendBody(nil, m))
	} else {
		var frame []byte
		frame, err = c.Encode(m)
		if err != nil {
			tb.Fatalf("a decoded message does not encode: %v (%#v)", err, m)
		}
		again, err = c.Decode(frame)
	}
	if err != nil {
		tb.Fatalf("a decoded message re-encodes to something that does not decode: %v (%#v)", err, m)
	}
	if !reflect.DeepEqual(again, m) {
		tb.Fatalf("decode(encode(decode(x))) differs:\n got: %#v\nwant: %#v", again, m)
	}
}
