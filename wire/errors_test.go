package wire_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/syncsim/syncsim/wire"
)

// Hex of the variant names used below.
const (
	hexSequenceGap    = "ab53657175656e6365476170"        // fixstr(11) "SequenceGap"
	hexCorruptedState = "ae436f7272757074656453746174 65" // fixstr(14) "CorruptedState"
)

// codec100 refuses any length field over 100.
var codec100 = wire.NewCodec(wire.Zerompk04, 100)

type errCase struct {
	name   string
	codec  *wire.Codec // nil = wire.Default
	in     string      // the whole input, hex (spaces group fields)
	kind   wire.ErrorKind
	off    int64        // *wire.Error.Offset, from the start of in
	typ    wire.MsgType // *wire.Error.Type
	detail []string     // substrings the message must contain (field names)
}

// Offsets of body errors are 5 (the header) + the index in the body.
var decodeErrCases = []errCase{
	// ---- framing ----
	{name: "empty input", in: "", kind: wire.ErrShortHeader, off: 0, detail: []string{"0 bytes"}},
	{name: "four header bytes", in: "52 060000", kind: wire.ErrShortHeader, off: 0, detail: []string{"4 bytes"}},
	{name: "unknown type 0x03", in: "03 00000000", kind: wire.ErrUnknownType, off: 0, detail: []string{"0x03"}},
	{name: "unknown type 0x00", in: "00 00000000", kind: wire.ErrUnknownType, off: 0, detail: []string{"0x00"}},
	{name: "unknown type 0x98", in: "98 01000000 c0", kind: wire.ErrUnknownType, off: 0, detail: []string{"0x98"}},
	{name: "length 101 over limit 100", codec: codec100, in: "10 65000000", kind: wire.ErrTooLarge, off: 1,
		typ: wire.TypeDeltaPush, detail: []string{"101", "100"}},
	{name: "length 2^32-1 over default limit", in: "10 ffffffff", kind: wire.ErrTooLarge, off: 1,
		typ: wire.TypeDeltaPush, detail: []string{"4294967295"}},
	{name: "body cut short", in: "52 06000000 93 c3 cd", kind: wire.ErrTruncated, off: 5,
		typ: wire.TypeThrottle, detail: []string{"6 body bytes", "3 present"}},
	{name: "header only", in: "52 06000000", kind: wire.ErrTruncated, off: 5, typ: wire.TypeThrottle},
	{name: "byte after the frame", in: "52 06000000 93c3cd03e832 00", kind: wire.ErrTrailing, off: 11,
		typ: wire.TypeThrottle, detail: []string{"1 bytes after the frame"}},
	{name: "byte after the body value", in: "52 07000000 93c3cd03e832 00", kind: wire.ErrTrailing, off: 11,
		typ: wire.TypeThrottle, detail: []string{"after the body value"}},

	// ---- struct shape ----
	{name: "array of 2 for 3 fields", in: "52 03000000 92 c3 00", kind: wire.ErrBadBody, off: 5,
		typ: wire.TypeThrottle, detail: []string{"Throttle", "want an array of 3 fields, found 2"}},
	{name: "array of 4 for 3 fields", in: "52 05000000 94 c3 00 00 00", kind: wire.ErrBadBody, off: 5,
		typ: wire.TypeThrottle, detail: []string{"Throttle", "found 4"}},
	{name: "map instead of array", in: "52 01000000 80", kind: wire.ErrBadBody, off: 5,
		typ: wire.TypeThrottle, detail: []string{"Throttle", "want an array", "fixmap"}},
	{name: "empty body", in: "52 00000000", kind: wire.ErrBadBody, off: 5,
		typ: wire.TypeThrottle, detail: []string{"Throttle", "ends before"}},
	{name: "array count over the bytes left", in: "52 03000000 93 c3 00", kind: wire.ErrBadBody, off: 6,
		typ: wire.TypeThrottle, detail: []string{"Throttle", "array needs 3 more bytes but only 2 remain"}},
	{name: "body ends before last field", in: "52 05000000 93 c3 cd03e8", kind: wire.ErrBadBody, off: 10,
		typ: wire.TypeThrottle, detail: []string{"suggested_rate", "ends before"}},
	{name: "empty opaque body", in: "14 00000000", kind: wire.ErrBadBody, off: 5,
		typ: wire.TypeCollectionPurged, detail: []string{"CollectionPurged body"}},

	// ---- integer forms ----
	{name: "uint field as int8 d0", in: "52 05000000 93 c3 d005 00", kind: wire.ErrBadBody, off: 7,
		typ: wire.TypeThrottle, detail: []string{"queue_depth", "int8"}},
	{name: "uint field as negative fixint", in: "52 04000000 93 c3 ff 00", kind: wire.ErrBadBody, off: 7,
		typ: wire.TypeThrottle, detail: []string{"queue_depth", "negative fixint"}},
	{name: "uint field as float64", in: "52 0c000000 93 c3 cb3ff0000000000000 00", kind: wire.ErrBadBody, off: 7,
		typ: wire.TypeThrottle, detail: []string{"queue_depth", "float64"}},
	{name: "i64 field as uint8 cc", in: "11 05000000 93 01 02 ccc8", kind: wire.ErrBadBody, off: 8,
		typ: wire.TypeDeltaAck, detail: []string{"clock_skew_warning_ms", "uint8"}},
	{name: "i64 field as uint64 cf", in: "11 0c000000 93 01 02 cf0000000000000005", kind: wire.ErrBadBody, off: 8,
		typ: wire.TypeDeltaAck, detail: []string{"clock_skew_warning_ms", "uint64"}},
	{name: "i64 field cut inside its value", in: "11 06000000 93 01 02 d20000", kind: wire.ErrBadBody, off: 8,
		typ: wire.TypeDeltaAck, detail: []string{"clock_skew_warning_ms"}},
	{name: "u64 field cut inside its value", in: "52 04000000 93 c3 cd03", kind: wire.ErrBadBody, off: 7,
		typ: wire.TypeThrottle, detail: []string{"queue_depth"}},
	{name: "u16 wire_version 65536 (ce)", in: "01 0c000000 97 a0 80 90 a0 a0 00 ce00010000", kind: wire.ErrBadBody, off: 12,
		typ: wire.TypeHandshake, detail: []string{"wire_version", "65536"}},
	{name: "u16 server_wire_version 65536", in: "02 0b000000 96 c3 a0 80 c0 c2 ce00010000", kind: wire.ErrBadBody, off: 11,
		typ: wire.TypeHandshakeAck, detail: []string{"server_wire_version", "65536"}},
	{name: "u32 checksum 2^32", in: "10 13000000 97 a163 a164 c400 00 00 cf0000000100000000 c0", kind: wire.ErrBadBody, off: 14,
		typ: wire.TypeDeltaPush, detail: []string{"checksum", "4294967296"}},

	// ---- bool, str, bin, nil ----
	{name: "bool field as fixint", in: "52 04000000 93 01 00 00", kind: wire.ErrBadBody, off: 6,
		typ: wire.TypeThrottle, detail: []string{"throttle", "want a bool"}},
	{name: "str field as bin", in: "12 06000000 93 01 c40161 c0", kind: wire.ErrBadBody, off: 7,
		typ: wire.TypeDeltaReject, detail: []string{"reason", "want a string", "bin8"}},
	{name: "bin field as str", in: "10 0b000000 97 a163 a164 a178 00 00 00 c0", kind: wire.ErrBadBody, off: 10,
		typ: wire.TypeDeltaPush, detail: []string{"delta", "want bin", "fixstr"}},
	{name: "nil for u64", in: "52 04000000 93 c3 c0 00", kind: wire.ErrBadBody, off: 7,
		typ: wire.TypeThrottle, detail: []string{"queue_depth", "nil"}},
	{name: "nil for String", in: "10 0a000000 97 c0 a164 c400 00 00 00 c0", kind: wire.ErrBadBody, off: 6,
		typ: wire.TypeDeltaPush, detail: []string{"collection", "nil"}},
	{name: "nil for bin", in: "21 05000000 94 a0 c0 00 00", kind: wire.ErrBadBody, off: 7,
		typ: wire.TypeShapeSnapshot, detail: []string{"data", "nil"}},
	{name: "nil for bool", in: "ff 03000000 92 00 c0", kind: wire.ErrBadBody, off: 7,
		typ: wire.TypePingPong, detail: []string{"is_pong", "nil"}},
	{name: "nil for map", in: "30 03000000 92 c0 00", kind: wire.ErrBadBody, off: 6,
		typ: wire.TypeVectorClockSync, detail: []string{"clocks", "nil"}},
	{name: "nil for list", in: "01 08000000 97 a0 80 c0 a0 a0 00 00", kind: wire.ErrBadBody, off: 8,
		typ: wire.TypeHandshake, detail: []string{"subscribed_shapes", "nil"}},
	{name: "invalid UTF-8 string", in: "12 06000000 93 01 a2fffe c0", kind: wire.ErrBadBody, off: 7,
		typ: wire.TypeDeltaReject, detail: []string{"reason", "UTF-8"}},
	{name: "invalid UTF-8 map key", in: "30 06000000 92 81 a1ff 00 00", kind: wire.ErrBadBody, off: 7,
		typ: wire.TypeVectorClockSync, detail: []string{"clocks key", "UTF-8"}},
	{name: "invalid UTF-8 list element", in: "01 0a000000 97 a0 80 91 a1c0 a0 a0 00 00", kind: wire.ErrBadBody, off: 9,
		typ: wire.TypeHandshake, detail: []string{"subscribed_shapes[0]", "UTF-8"}},

	// ---- lengths that lie (refused before anything is sized from them) ----
	{name: "fixstr longer than the body", in: "12 05000000 93 01 a56162", kind: wire.ErrBadBody, off: 8,
		typ: wire.TypeDeltaReject, detail: []string{"reason"}},
	{name: "str8 without its length byte", in: "50 13000000 93 92 " + hexSequenceGap + " 92 02 05 02 d9", kind: wire.ErrBadBody, off: 24,
		typ: wire.TypeResyncRequest, detail: []string{"collection", "length prefix"}},
	{name: "bin32 of 2^32-1 bytes", in: "21 09000000 94 a0 c6ffffffff 00 00", kind: wire.ErrBadBody, off: 12,
		typ: wire.TypeShapeSnapshot, detail: []string{"data", "4294967295"}},
	{name: "array32 of 2^32-1 elements", in: "01 0c000000 97 a0 80 ddffffffff a0 a0 00 00", kind: wire.ErrBadBody, off: 13,
		typ: wire.TypeHandshake, detail: []string{"subscribed_shapes", "4294967295"}},
	{name: "map32 of 2^32-1 entries", in: "30 07000000 92 dfffffffff 00", kind: wire.ErrBadBody, off: 11,
		typ: wire.TypeVectorClockSync, detail: []string{"clocks"}},
	{name: "struct array16 longer than the body", in: "52 03000000 dc0003", kind: wire.ErrBadBody, off: 8,
		typ: wire.TypeThrottle, detail: []string{"Throttle"}},

	// ---- enums ----
	{name: "06 refuses unit variant as [name, nil]", codec: codec06,
		in: "50 14000000 93 92 " + hexCorruptedState + " c0 00 a0", kind: wire.ErrBadBody, off: 22,
		typ: wire.TypeResyncRequest, detail: []string{"reason", "CorruptedState", "zerompk-0.6"}},
	{name: "04 refuses unit variant as bare string",
		in: "50 12000000 93 " + hexCorruptedState + " 00 a0", kind: wire.ErrBadBody, off: 6,
		typ: wire.TypeResyncRequest, detail: []string{"reason", "want an array", "fixstr"}},
	{name: "unknown variant", in: "50 0a000000 93 92 a3466f6f 91 01 00 a0", kind: wire.ErrBadBody, off: 6,
		typ: wire.TypeResyncRequest, detail: []string{"reason", `unknown variant "Foo"`}},
	{name: "unknown bare variant under 06", codec: codec06, in: "50 07000000 93 a3466f6f 00 a0", kind: wire.ErrBadBody, off: 6,
		typ: wire.TypeResyncRequest, detail: []string{"reason", `"Foo"`}},
	{name: "SequenceGap with nil payload", in: "50 11000000 93 92 " + hexSequenceGap + " c0 00 a0", kind: wire.ErrBadBody, off: 6,
		typ: wire.TypeResyncRequest, detail: []string{"reason", "SequenceGap", "needs its fields"}},
	{name: "SequenceGap as bare string under 06", codec: codec06, in: "50 0f000000 93 " + hexSequenceGap + " 00 a0", kind: wire.ErrBadBody, off: 6,
		typ: wire.TypeResyncRequest, detail: []string{"reason", "SequenceGap"}},
	{name: "SequenceGap payload of 1", in: "50 12000000 93 92 " + hexSequenceGap + " 91 02 00 a0", kind: wire.ErrBadBody, off: 19,
		typ: wire.TypeResyncRequest, detail: []string{"reason.SequenceGap", "want an array of 2 fields, found 1"}},
	{name: "CorruptedState with a payload", in: "50 14000000 93 92 " + hexCorruptedState + " 90 00 a0", kind: wire.ErrBadBody, off: 6,
		typ: wire.TypeResyncRequest, detail: []string{"reason", "has no fields"}},
	{name: "enum header of 3", in: "50 0a000000 93 93 a3466f6f c0 c0 00 a0", kind: wire.ErrBadBody, off: 6,
		typ: wire.TypeResyncRequest, detail: []string{"reason", "want an array of 2"}},
	{name: "ChecksumMismatch field as int8", in: "50 18000000 93 92 b0436865636b73756d4d69736d61746368 91 d001 00 a0",
		kind: wire.ErrBadBody, off: 25, typ: wire.TypeResyncRequest, detail: []string{"reason.ChecksumMismatch.mutation_id"}},
	{name: "unknown shape type", in: "20 0f000000 91 95 a0 00 92 a55461626c65 91 a0 a0 90", kind: wire.ErrBadBody, off: 9,
		typ: wire.TypeShapeSubscribe, detail: []string{"shape.shape_type", `unknown variant "Table"`}},

	// ---- the raw compensation value ----
	{name: "compensation nested 65 deep", in: frameHex(0x12, "93 01 a0"+strings.Repeat("91", 65)+"00"),
		kind: wire.ErrBadBody, off: 72, typ: wire.TypeDeltaReject, detail: []string{"compensation", "nesting deeper than 64"}},
	{name: "compensation code c1", in: "12 04000000 93 01 a0 c1", kind: wire.ErrBadBody, off: 8,
		typ: wire.TypeDeltaReject, detail: []string{"compensation", "0xc1"}},
	{name: "compensation cut short", in: "12 05000000 93 01 a0 9201", kind: wire.ErrBadBody, off: 8,
		typ: wire.TypeDeltaReject, detail: []string{"compensation"}},
	{name: "compensation bin32 of 2^32-1 bytes", in: "12 08000000 93 01 a0 c6ffffffff", kind: wire.ErrBadBody, off: 8,
		typ: wire.TypeDeltaReject, detail: []string{"compensation", "4294967295"}},
	{name: "compensation array32 of 2^32-1 elements", in: "12 08000000 93 01 a0 ddffffffff", kind: wire.ErrBadBody, off: 8,
		typ: wire.TypeDeltaReject, detail: []string{"compensation", "4294967295"}},
	{name: "compensation ext32 of 2^32-1 bytes", in: "12 09000000 93 01 a0 c9ffffffff01", kind: wire.ErrBadBody, off: 8,
		typ: wire.TypeDeltaReject, detail: []string{"compensation"}},
	{name: "compensation str8 longer than the body", in: "12 06000000 93 01 a0 d9ff61", kind: wire.ErrBadBody, off: 8,
		typ: wire.TypeDeltaReject, detail: []string{"compensation", "255"}},
}

// frameHex builds a frame from a type byte and a body in hex, computing the
// length field; used only where the body is too long to count by eye.
func frameHex(t byte, body string) string {
	n := len(compactHex(body)) / 2
	return strings.Join([]string{
		hexByte(t), hexByte(byte(n)), hexByte(byte(n >> 8)), hexByte(byte(n >> 16)), hexByte(byte(n >> 24)), body,
	}, " ")
}

func hexByte(b byte) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[b>>4], digits[b&15]})
}

func TestDecodeErrors(t *testing.T) {
	for _, tc := range decodeErrCases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.codec
			if c == nil {
				c = wire.Default
			}
			in := unhex(t, tc.in)
			m, err := c.Decode(in)
			if err == nil {
				t.Fatalf("Decode(% x) = %#v, want an error", in, m)
			}
			if m != nil {
				t.Errorf("Decode returned a message %#v with the error", m)
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("errors.Is(err, %v) is false: %v", tc.kind, err)
			}
			we := checkErrorShape(t, err, len(in))
			if we.Offset != tc.off {
				t.Errorf("Offset = %d, want %d: %v", we.Offset, tc.off, err)
			}
			if we.Type != tc.typ {
				t.Errorf("Type = %v, want %v", we.Type, tc.typ)
			}
			msg := err.Error()
			for _, d := range tc.detail {
				if !strings.Contains(msg, d) {
					t.Errorf("message %q does not mention %q", msg, d)
				}
			}
			if !strings.HasPrefix(msg, "wire: "+tc.kind.Error()) {
				t.Errorf("message %q does not start with the kind %q", msg, tc.kind.Error())
			}

			// The same body through DecodeBody: same kind, offset shifted
			// by the header.
			if tc.kind == wire.ErrBadBody || tc.kind == wire.ErrTrailing && strings.Contains(tc.detail[0], "body value") {
				_, err := c.DecodeBody(wire.MsgType(in[0]), in[wire.HeaderLen:])
				if we := wireError(t, err); we.Kind != tc.kind || we.Offset != tc.off-wire.HeaderLen {
					t.Errorf("DecodeBody: %v (offset %d), want %v at %d", err, we.Offset, tc.kind, tc.off-wire.HeaderLen)
				}
			}
		})
	}
}

// TestDecodeAccepts lists inputs that are not what the encoder writes but
// that the Rust reader accepts, so the decoder must too.
func TestDecodeAccepts(t *testing.T) {
	tests := []struct {
		name  string
		codec *wire.Codec
		in    string
		want  wire.Message
	}{
		{"uint64 form for 50", nil, "52 0d000000 93 c3 cf0000000000000032 cc05",
			&wire.Throttle{Throttle: true, QueueDepth: 50, SuggestedRate: 5}},
		{"uint32 and uint16 forms for small values", nil, "52 0a000000 93 c2 ce00000001 cd0002",
			&wire.Throttle{QueueDepth: 1, SuggestedRate: 2}},
		{"u16 written as uint32 65535", nil, "01 0c000000 97 a0 80 90 a0 a0 00 ce0000ffff",
			&wire.Handshake{VectorClock: map[string]map[string]uint64{}, SubscribedShapes: []string{}, WireVersion: 65535}},
		{"u32 checksum written as uint64", nil, "10 13000000 97 a163 a164 c400 00 00 cf00000000ffffffff c0",
			&wire.DeltaPush{Collection: "c", DocumentID: "d", Delta: wire.Bytes{}, Checksum: 0xffffffff}},
		{"i64 5 written as int64", nil, "11 0c000000 93 01 02 d30000000000000005",
			&wire.DeltaAck{MutationID: 1, LSN: 2, ClockSkewWarningMs: ptr[int64](5)}},
		{"i64 -1 written as int16", nil, "11 06000000 93 01 02 d1ffff",
			&wire.DeltaAck{MutationID: 1, LSN: 2, ClockSkewWarningMs: ptr[int64](-1)}},
		{"i64 5 written as int8", nil, "11 05000000 93 01 02 d005",
			&wire.DeltaAck{MutationID: 1, LSN: 2, ClockSkewWarningMs: ptr[int64](5)}},
		{"struct as array16", nil, "52 06000000 dc0003 c3 00 00",
			&wire.Throttle{Throttle: true}},
		{"short string as str8", nil, "12 07000000 93 01 d9026f6b c0",
			&wire.DeltaReject{MutationID: 1, Reason: "ok"}},
		{"short string as str16", nil, "12 08000000 93 01 da00026f6b c0",
			&wire.DeltaReject{MutationID: 1, Reason: "ok"}},
		{"short bin as bin16", nil, "21 08000000 94 a0 c5000107 00 00",
			&wire.ShapeSnapshot{Data: wire.Bytes{7}}},
		{"map as map16", nil, "30 08000000 92 de0001 a161 01 00",
			&wire.VectorClockSync{Clocks: map[string]uint64{"a": 1}}},
		{"duplicate map key: last wins", nil, "30 09000000 92 82 a161 01 a161 02 00",
			&wire.VectorClockSync{Clocks: map[string]uint64{"a": 2}}},
		{"compensation nested 64 deep", nil, frameHex(0x12, "93 01 a0"+strings.Repeat("91", 64)+"00"),
			&wire.DeltaReject{MutationID: 1, Compensation: wire.RawValue(unhex(t, strings.Repeat("91", 64)+"00"))}},
		{"compensation with ext and float", nil, "12 13000000 93 01 a0 92 d60102030405 cb3ff0000000000000",
			&wire.DeltaReject{MutationID: 1, Compensation: wire.RawValue(unhex(t, "92 d60102030405 cb3ff0000000000000"))}},
		{"length exactly at the limit", codec100, frameHex(0x14, "c462"+strings.Repeat("00", 98)),
			&wire.Opaque{T: wire.TypeCollectionPurged, Body: wire.RawValue(unhex(t, "c462"+strings.Repeat("00", 98)))}},
		{"06 reads a variant with fields", codec06, "50 13000000 93 92 " + hexSequenceGap + " 92 02 05 02 a0",
			&wire.ResyncRequest{Reason: wire.ResyncReason{Kind: wire.SequenceGap, Expected: 2, Received: 5}, FromMutationID: 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.codec
			if c == nil {
				c = wire.Default
			}
			m, err := c.Decode(unhex(t, tt.in))
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(m, tt.want) {
				t.Errorf("Decode = %#v, want %#v", m, tt.want)
			}
		})
	}
}

func TestDecodeBodyUnknownType(t *testing.T) {
	_, err := wire.Default.DecodeBody(0x03, []byte{0xc0})
	if we := wireError(t, err); we.Kind != wire.ErrUnknownType || we.Offset != 0 {
		t.Errorf("DecodeBody(0x03) = %v, want ErrUnknownType at 0", err)
	}
}

// allocatedBytes reports how many bytes the heap grew by while f ran.
func allocatedBytes(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// TestNoAllocationForLies checks that a length field (frame or body) that
// claims more than the input holds is refused before anything is sized
// from it.
func TestNoAllocationForLies(t *testing.T) {
	const limit = 1 << 20 // far below any of the claimed sizes
	tests := []struct {
		name string
		run  func() error
	}{
		{"Decode length 101, limit 100", func() error { _, err := codec100.Decode(unhex(t, "10 65000000")); return err }},
		{"FrameReader length 101, limit 100", func() error {
			_, err := codec100.NewFrameReader(bytes.NewReader(unhex(t, "10 65000000"))).Next()
			return err
		}},
		{"FrameReader length 2^32-1", func() error {
			_, err := wire.Default.NewFrameReader(bytes.NewReader(unhex(t, "10 ffffffff"))).Next()
			return err
		}},
		{"array32 count 2^32-1", func() error {
			_, err := wire.Default.Decode(unhex(t, "01 0c000000 97 a0 80 ddffffffff a0 a0 00 00"))
			return err
		}},
		{"map32 count 2^32-1", func() error { _, err := wire.Default.Decode(unhex(t, "30 07000000 92 dfffffffff 00")); return err }},
		{"bin32 length 2^32-1", func() error {
			_, err := wire.Default.Decode(unhex(t, "21 09000000 94 a0 c6ffffffff 00 00"))
			return err
		}},
		{"str32 length 2^32-1", func() error {
			_, err := wire.Default.Decode(unhex(t, "12 08000000 93 01 dbffffffff c0"))
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			n := allocatedBytes(func() { err = tt.run() })
			if err == nil {
				t.Fatal("no error")
			}
			if n > limit {
				t.Errorf("allocated %d bytes refusing the input (limit %d): %v", n, limit, err)
			}
		})
	}
	_, err := codec100.Decode(unhex(t, "10 65000000"))
	if we := wireError(t, err); we.Kind != wire.ErrTooLarge || we.Offset != 1 {
		t.Errorf("codec100: %v, want ErrTooLarge at offset 1", err)
	}
}

func TestEncodeErrors(t *testing.T) {
	big := &wire.DeltaPush{Delta: make(wire.Bytes, 200)}
	tests := []struct {
		name  string
		codec *wire.Codec
		msg   wire.Message
		want  string
	}{
		{"nil message", wire.Default, nil, "nil message"},
		{"unknown type byte", wire.Default, &wire.Opaque{T: 0x03, Body: wire.RawValue{0xc0}}, "unknown type"},
		{"body over the limit", codec100, big, "exceeds the limit of 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst := []byte{1, 2, 3}
			out, err := tt.codec.AppendFrame(dst, tt.msg)
			we := wireError(t, err)
			if we.Kind != wire.ErrEncode || !errors.Is(err, wire.ErrEncode) {
				t.Errorf("kind %v, want ErrEncode: %v", we.Kind, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("message %q does not mention %q", err, tt.want)
			}
			if !bytes.Equal(out, []byte{1, 2, 3}) {
				t.Errorf("AppendFrame returned % x on error, want dst unchanged", out)
			}
		})
	}
	if _, err := wire.Default.Encode(big); err != nil {
		t.Errorf("200-byte delta under the default limit: %v", err)
	}
}

// stream is three golden frames back to back: throttle (11 bytes, at 0),
// pingpong_pong (8 bytes, at 11), deltaack_skew_200 (11 bytes, at 19).
const streamHex = "52 06000000 93c3cd03e832" + "ff 03000000 9200c3" + "11 06000000 930102d100c8"

var streamMsgs = []wire.Message{
	&wire.Throttle{Throttle: true, QueueDepth: 1000, SuggestedRate: 50},
	&wire.PingPong{IsPong: true},
	&wire.DeltaAck{MutationID: 1, LSN: 2, ClockSkewWarningMs: ptr[int64](200)},
}

func TestFrameReaderStream(t *testing.T) {
	data := unhex(t, streamHex)
	readers := map[string]func() io.Reader{
		"bytes.Reader":  func() io.Reader { return bytes.NewReader(data) },
		"one byte/read": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) },
		"half reads":    func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
		"EOF with data": func() io.Reader { return iotest.DataErrReader(bytes.NewReader(data)) },
	}
	wantOffsets := []int64{0, 11, 19}
	for name, mk := range readers {
		t.Run(name, func(t *testing.T) {
			fr := wire.Default.NewFrameReader(mk())
			for i, want := range streamMsgs {
				f, err := fr.Next()
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if f.Offset != wantOffsets[i] || f.Type != want.Type() {
					t.Errorf("frame %d at %d type %v, want at %d type %v", i, f.Offset, f.Type, wantOffsets[i], want.Type())
				}
				m, err := wire.Default.DecodeBody(f.Type, f.Body)
				if err != nil || !reflect.DeepEqual(m, want) {
					t.Errorf("frame %d decodes to %#v, %v; want %#v", i, m, err, want)
				}
			}
			if _, err := fr.Next(); err != io.EOF {
				t.Errorf("after the last frame: %v, want io.EOF", err)
			}
		})
	}

	got, err := wire.Default.DecodeAll(data)
	if err != nil || !reflect.DeepEqual(got, streamMsgs) {
		t.Errorf("DecodeAll = %#v, %v", got, err)
	}
	if got, err := wire.Default.DecodeAll(nil); err != nil || len(got) != 0 {
		t.Errorf("DecodeAll(nil) = %v, %v", got, err)
	}
}

// TestBrokenStreams runs the same broken streams through FrameReader and
// DecodeAll: both stop at the same place, with offsets counted from the
// start of the stream.
func TestBrokenStreams(t *testing.T) {
	good := "52 06000000 93c3cd03e832" + "ff 03000000 9200c3" // 19 bytes, two frames
	tests := []struct {
		name  string
		codec *wire.Codec
		tail  string
		kind  wire.ErrorKind
		off   int64
		body  bool // the error is in a body (FrameReader does not decode bodies)
	}{
		{"truncated body", nil, "11 06000000 9301", wire.ErrTruncated, 24, false},
		{"header only", nil, "11 06000000", wire.ErrTruncated, 24, false},
		{"partial header", nil, "11 0600", wire.ErrShortHeader, 19, false},
		{"one stray byte", nil, "11", wire.ErrShortHeader, 19, false},
		{"unknown type", nil, "03 00000000", wire.ErrUnknownType, 19, false},
		{"length over the limit", codec100, "10 65000000", wire.ErrTooLarge, 20, false},
		{"bad body", nil, "52 03000000 92c300", wire.ErrBadBody, 24, true},
		{"bad field", nil, "52 04000000 93c3d005", wire.ErrBadBody, 26, true},
		{"trailing byte in body", nil, "52 07000000 93c3cd03e832 00", wire.ErrTrailing, 30, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.codec
			if c == nil {
				c = wire.Default
			}
			data := unhex(t, good+tt.tail)

			msgs, err := c.DecodeAll(data)
			if len(msgs) != 2 || !reflect.DeepEqual(msgs, streamMsgs[:2]) {
				t.Errorf("DecodeAll returned %d messages before the error, want the 2 good ones", len(msgs))
			}
			we := checkErrorShape(t, err, len(data))
			if we.Kind != tt.kind || we.Offset != tt.off {
				t.Errorf("DecodeAll: %v, want %v at %d", err, tt.kind, tt.off)
			}

			fr := c.NewFrameReader(iotest.OneByteReader(bytes.NewReader(data)))
			var frames []wire.Frame
			for {
				f, err := fr.Next()
				if err == nil {
					frames = append(frames, f)
					continue
				}
				if tt.body {
					if err != io.EOF {
						t.Fatalf("FrameReader: %v, want io.EOF (the framing is sound)", err)
					}
					if len(frames) != 3 {
						t.Fatalf("FrameReader: %d frames, want 3", len(frames))
					}
					_, err := c.DecodeBody(frames[2].Type, frames[2].Body)
					we := wireError(t, err)
					if we.Kind != tt.kind || frames[2].Offset+wire.HeaderLen+we.Offset != tt.off {
						t.Errorf("third body: %v at stream offset %d, want %v at %d", err, frames[2].Offset+wire.HeaderLen+we.Offset, tt.kind, tt.off)
					}
					break
				}
				if len(frames) != 2 {
					t.Errorf("FrameReader: %d frames before the error, want 2", len(frames))
				}
				we := checkErrorShape(t, err, len(data))
				if we.Kind != tt.kind || we.Offset != tt.off {
					t.Errorf("FrameReader: %v, want %v at %d", err, tt.kind, tt.off)
				}
				break
			}
		})
	}
}

// TestFrameReaderPassesReadErrors: an error from the underlying reader that
// is not an end of stream comes back as itself.
func TestFrameReaderPassesReadErrors(t *testing.T) {
	boom := errors.New("boom")
	for _, prefix := range []string{"", "52 06", "52 06000000 93c3"} {
		r := io.MultiReader(bytes.NewReader(unhex(t, prefix)), iotest.ErrReader(boom))
		if _, err := wire.Default.NewFrameReader(r).Next(); !errors.Is(err, boom) {
			t.Errorf("after %q: %v, want boom", prefix, err)
		}
	}
}

func TestErrorString(t *testing.T) {
	_, err := wire.Default.Decode(unhex(t, "52 04000000 93 c3 d005"))
	want := "wire: body does not decode at byte 7 in Throttle frame: queue_depth: want an unsigned integer, found int8 (0xd0)"
	if err == nil || err.Error() != want {
		t.Errorf("Error() = %q\nwant      %q", err, want)
	}
	_, err = wire.Default.Decode(nil)
	if want := "wire: short header at byte 0: have 0 bytes, a header is 5"; err == nil || err.Error() != want {
		t.Errorf("Error() = %q, want %q", err, want)
	}
}

func TestScratchAlias(t *testing.T) {
	dv := int64(-3)
	want := &wire.DeltaPush{Collection: "c", DocumentID: "d", Delta: []byte{1, 2, 3}, PeerID: 9, MutationID: 4, DeviceValidTimeMs: &dv}
	want.Seal()
	frame, err := wire.Default.Encode(want)
	if err != nil {
		t.Fatal(err)
	}
	for _, alias := range []bool{false, true} {
		sc := wire.Default.NewScratch()
		sc.Alias = alias
		m, err := sc.Decode(slices.Clone(frame))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(m, want) {
			t.Fatalf("alias=%v: got %+v, want %+v", alias, m, want)
		}
		// A byte of the delta changes in the frame: only a view sees it.
		f := slices.Clone(frame)
		got, _ := sc.Decode(f)
		f[bytes.Index(f, []byte{0xc4, 3, 1, 2, 3})+2] ^= 0xff
		if seen := !got.(*wire.DeltaPush).ChecksumOK(); seen != alias {
			t.Fatalf("alias=%v: a change to the frame seen by the message: %v", alias, seen)
		}
		// Decoding reuses the message: nothing is allocated beyond the
		// copied delta, and the Option's integer has a reusable slot.
		wantAllocs := 1.0
		if alias {
			wantAllocs = 0
		}
		if allocs := testing.AllocsPerRun(100, func() { _, _ = sc.Decode(frame) }); allocs != wantAllocs {
			t.Fatalf("alias=%v: %v allocations per decode, want %v", alias, allocs, wantAllocs)
		}
	}
}

// TestScratchReuse pins what a Scratch's reuse means for a receiver: a
// struct copy keeps strings and bin fields, but an optional integer points
// into the Scratch and changes with the next frame. A zero Scratch decodes
// with Default.
func TestScratchReuse(t *testing.T) {
	var sc wire.Scratch // zero value: must work, not panic
	a, b := int64(111), int64(222)
	f1, _ := wire.Default.Encode(&wire.DeltaAck{MutationID: 1, ClockSkewWarningMs: &a})
	f2, _ := wire.Default.Encode(&wire.DeltaPush{Collection: "c", DocumentID: "d", Delta: []byte{9}, DeviceValidTimeMs: &b})
	f3, _ := wire.Default.Encode(&wire.DeltaPush{Collection: "x", DocumentID: "y", Delta: []byte{7}})
	m, err := sc.Decode(f1)
	if err != nil {
		t.Fatal(err)
	}
	kept := *m.(*wire.DeltaAck)
	m, _ = sc.Decode(f2)
	push := *m.(*wire.DeltaPush)
	if _, err := sc.Decode(f3); err != nil {
		t.Fatal(err)
	}
	if push.Collection != "c" || push.DocumentID != "d" || !bytes.Equal(push.Delta, []byte{9}) {
		t.Fatalf("a struct copy lost its strings or bytes: %+v", push)
	}
	if *kept.ClockSkewWarningMs != 222 {
		t.Fatalf("the kept copy's option reads %d: the documented hazard (it points into the Scratch) is gone; update the docs of Scratch and sim.Effects.Decode", *kept.ClockSkewWarningMs)
	}
}

// TestScratchMatchesDecode decodes every golden frame (and broken copies of
// it), in turn, with one Scratch and with Codec.Decode: the same message or
// the same error, whatever the Scratch decoded before.
func TestScratchMatchesDecode(t *testing.T) {
	for _, c := range codecs {
		sc := c.NewScratch()
		view := c.NewScratch()
		view.Alias = true
		var inputs [][]byte
		for _, fr := range goldenFrames(t, 0) {
			inputs = append(inputs, fr)
			inputs = append(inputs, broken(fr)...)
		}
		for i, in := range inputs {
			sameDecode(t, fmt.Sprintf("input %d", i), c, sc, in)
			sameDecode(t, fmt.Sprintf("input %d (view)", i), c, view, in)
		}
	}
}

// sameDecode checks that sc decodes in as c.Decode does.
func sameDecode(t testing.TB, name string, c *wire.Codec, sc *wire.Scratch, in []byte) {
	t.Helper()
	want, wantErr := c.Decode(in)
	got, gotErr := sc.Decode(in)
	if fmt.Sprint(gotErr) != fmt.Sprint(wantErr) {
		t.Fatalf("%s: Scratch error %v, Decode error %v", name, gotErr, wantErr)
	}
	if wantErr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: Scratch decoded %#v, Decode %#v", name, got, want)
	}
}
