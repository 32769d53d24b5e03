package wire_test

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"slices"
	"testing"

	"github.com/syncsim/syncsim/wire"
)

// Native fuzz targets. `make fuzz` runs every target whose name starts with
// Fuzz; without -fuzz, `go test` runs each on its seed corpus (the f.Add
// entries below plus testdata/fuzz/<Target>/ if present).
//
// The invariants, for both profiles: no panic; a failure is a *wire.Error
// of a decode kind whose Offset lies in [0, len(input)]; a success
// re-encodes to a frame (or body) that decodes to an equal message (see
// checkDecodeResult).

// goldenFrames returns the golden frames (hand-derived bytes), optionally
// only those of type mt (0 = all).
func goldenFrames(tb failer, mt wire.MsgType) [][]byte {
	var out [][]byte
	for _, gc := range goldenCases {
		if mt == 0 || gc.msg.Type() == mt {
			out = append(out, unhex(tb, gc.hex))
		}
	}
	return out
}

// broken returns damaged copies of a valid input: cut short at a few
// places, one byte flipped, one byte appended.
func broken(b []byte) [][]byte {
	out := [][]byte{b[:len(b)/2], b[:len(b)-1]}
	flipped := slices.Clone(b)
	flipped[len(b)/2] ^= 0xff
	out = append(out, flipped, append(slices.Clone(b), 0))
	return out
}

func FuzzDecode(f *testing.F) {
	for _, fr := range goldenFrames(f, 0) {
		f.Add(fr)
		for _, b := range broken(fr) {
			f.Add(b)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0x03, 0, 0, 0, 0})
	f.Add([]byte{0x10, 0xff, 0xff, 0xff, 0xff})
	// One Scratch per codec for the whole run: whatever it decoded
	// before must not show through.
	var scratches []*wire.Scratch
	for _, c := range codecs {
		scratches = append(scratches, c.NewScratch())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for i, c := range codecs {
			m, err := c.Decode(data)
			checkDecodeResult(t, c, len(data), m, err, false)
			sameDecode(t, "Scratch", c, scratches[i], data)
		}
	})
}

// fuzzStreamCodec has a small limit: FrameReader allocates a body of the
// declared size (up to the limit) before reading it, and a 16 MiB
// allocation per input would make the fuzzer crawl without finding more.
var fuzzStreamCodec = wire.NewCodec(wire.Zerompk04, 1<<16)

// FuzzFrameReader cuts the input into frames with FrameReader (one byte per
// read, the hardest case for its buffering) and checks it against DecodeAll:
// the same messages, then the same error kind at the same offset.
func FuzzFrameReader(f *testing.F) {
	frames := goldenFrames(f, 0)
	f.Add(bytes.Join(frames, nil))
	f.Add(bytes.Join(frames[:3], nil))
	for _, b := range broken(bytes.Join(frames[:4], nil)) {
		f.Add(b)
	}
	f.Add(append(slices.Clone(frames[0]), 0x10, 0x00, 0x00, 0x01, 0x00)) // length over 1<<16
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := fuzzStreamCodec
		want, wantErr := c.DecodeAll(data)
		if wantErr != nil {
			checkErrorShape(t, wantErr, len(data))
		}
		for _, m := range want {
			checkDecodeResult(t, c, 0, m, nil, false)
		}

		fr := c.NewFrameReader(onlyOneByteReader{bytes.NewReader(data)})
		var got []wire.Message
		var gotErr error
		var next int64 // where the next frame must start
		for {
			frm, err := fr.Next()
			if err == io.EOF {
				if next != int64(len(data)) {
					t.Fatalf("io.EOF at %d of %d bytes", next, len(data))
				}
				break
			}
			if err != nil {
				gotErr = err
				break
			}
			if frm.Offset != next || !frm.Type.Known() {
				t.Fatalf("frame at %d (type %v), want at %d", frm.Offset, frm.Type, next)
			}
			next = frm.Offset + wire.HeaderLen + int64(len(frm.Body))
			m, err := c.DecodeBody(frm.Type, frm.Body)
			if err != nil {
				// Shift the body-relative offset to the stream, as DecodeAll does.
				we := wireError(t, err)
				gotErr = &wire.Error{Kind: we.Kind, Offset: frm.Offset + wire.HeaderLen + we.Offset, Type: we.Type, Detail: we.Detail}
				break
			}
			got = append(got, m)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("FrameReader decoded %d messages, DecodeAll %d", len(got), len(want))
		}
		if (gotErr == nil) != (wantErr == nil) {
			t.Fatalf("FrameReader error %v, DecodeAll error %v", gotErr, wantErr)
		}
		if gotErr != nil {
			g, w := checkErrorShape(t, gotErr, len(data)), wireError(t, wantErr)
			if g.Kind != w.Kind || g.Offset != w.Offset {
				t.Fatalf("FrameReader: %v\n DecodeAll: %v", gotErr, wantErr)
			}
		}
	})
}

// onlyOneByteReader returns one byte per Read, and never data with io.EOF.
type onlyOneByteReader struct{ r io.Reader }

func (o onlyOneByteReader) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	return o.r.Read(p[:1])
}

// fuzzBody is the shared body of the per-type targets: DecodeBody(mt, data)
// under both profiles.
func fuzzBody(f *testing.F, mt wire.MsgType) {
	frames := goldenFrames(f, mt)
	if len(frames) == 0 {
		f.Fatalf("no golden frame of type %v to seed from", mt)
	}
	for _, fr := range frames {
		body := fr[wire.HeaderLen:]
		f.Add(body)
		for _, b := range broken(body) {
			f.Add(b)
		}
	}
	for _, b := range [][]byte{{}, {0xc0}, {0x90}, {0x80}, {0xdd, 0xff, 0xff, 0xff, 0xff}} {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, c := range codecs {
			m, err := c.DecodeBody(mt, data)
			checkDecodeResult(t, c, len(data), m, err, true)
			if err == nil && m.Type() != mt {
				t.Fatalf("DecodeBody(%v) returned a %v", mt, m.Type())
			}
			if err != nil && errors.Is(err, wire.ErrUnknownType) {
				t.Fatalf("DecodeBody(%v): %v", mt, err)
			}
		}
	})
}

func FuzzBodyHandshake(f *testing.F)       { fuzzBody(f, wire.TypeHandshake) }
func FuzzBodyHandshakeAck(f *testing.F)    { fuzzBody(f, wire.TypeHandshakeAck) }
func FuzzBodyDeltaPush(f *testing.F)       { fuzzBody(f, wire.TypeDeltaPush) }
func FuzzBodyDeltaAck(f *testing.F)        { fuzzBody(f, wire.TypeDeltaAck) }
func FuzzBodyDeltaReject(f *testing.F)     { fuzzBody(f, wire.TypeDeltaReject) }
func FuzzBodyShapeSubscribe(f *testing.F)  { fuzzBody(f, wire.TypeShapeSubscribe) }
func FuzzBodyShapeSnapshot(f *testing.F)   { fuzzBody(f, wire.TypeShapeSnapshot) }
func FuzzBodyShapeDelta(f *testing.F)      { fuzzBody(f, wire.TypeShapeDelta) }
func FuzzBodyVectorClockSync(f *testing.F) { fuzzBody(f, wire.TypeVectorClockSync) }
func FuzzBodyResyncRequest(f *testing.F)   { fuzzBody(f, wire.TypeResyncRequest) }
func FuzzBodyThrottle(f *testing.F)        { fuzzBody(f, wire.TypeThrottle) }
func FuzzBodyPingPong(f *testing.F)        { fuzzBody(f, wire.TypePingPong) }
