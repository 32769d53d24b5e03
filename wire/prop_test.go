package wire_test

import (
	"bytes"
	"encoding/binary"
	"io"
	"reflect"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/syncsim/syncsim/wire"
)

// Property tests. Comparisons of a generated message with its decoded copy
// go through sameMessage, which normalises nil slices and maps to empty
// ones: the wire has one form for both (c4 00, 90, 80) and the decoder
// always returns the empty, non-nil form.

func TestGeneratorsCoverEveryModelledType(t *testing.T) {
	for _, mt := range wire.KnownTypes() {
		if _, ok := messageGens[mt]; ok != mt.Modelled() {
			t.Errorf("type %v: modelled %v, has a generator %v", mt, mt.Modelled(), ok)
		}
	}
}

// forEachProfile runs prop under each profile's codec.
func forEachProfile(t *testing.T, prop func(*rapid.T, *wire.Codec)) {
	for _, c := range codecs {
		t.Run(c.Profile().Name, func(t *testing.T) {
			rapid.Check(t, func(rt *rapid.T) { prop(rt, c) })
		})
	}
}

// decode(encode(m)) == m, for frames and bare bodies.
func TestPropRoundTrip(t *testing.T) {
	forEachProfile(t, func(t *rapid.T, c *wire.Codec) {
		m := genMessage().Draw(t, "msg")
		frame, err := c.Encode(m)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		got, err := c.Decode(frame)
		if err != nil {
			t.Fatalf("Decode(% x): %v", frame, err)
		}
		if !sameMessage(got, m) {
			t.Fatalf("round trip differs:\n got: %#v\nwant: %#v", got, m)
		}
		if binary.LittleEndian.Uint32(frame[1:]) != uint32(len(frame)-wire.HeaderLen) || frame[0] != byte(m.Type()) {
			t.Fatalf("bad header % x for a %d-byte frame of %v", frame[:wire.HeaderLen], len(frame), m.Type())
		}
		body := c.AppendBody(nil, m)
		if !bytes.Equal(body, frame[wire.HeaderLen:]) {
			t.Fatalf("AppendBody differs from the frame's body")
		}
		got, err = c.DecodeBody(m.Type(), body)
		if err != nil || !sameMessage(got, m) {
			t.Fatalf("DecodeBody: %#v, %v; want %#v", got, err, m)
		}
	})
}

// Encoding is deterministic (maps are written in sorted key order) and
// AppendFrame leaves what is already in dst alone.
func TestPropEncodeDeterministic(t *testing.T) {
	forEachProfile(t, func(t *rapid.T, c *wire.Codec) {
		m := genMessage().Draw(t, "msg")
		prefix := rapid.SliceOfN(rapid.Byte(), 0, 16).Draw(t, "prefix")
		a, err1 := c.Encode(m)
		b, err2 := c.AppendFrame(slices.Clone(prefix), m)
		if err1 != nil || err2 != nil {
			t.Fatalf("encode: %v, %v", err1, err2)
		}
		if !bytes.Equal(b[:len(prefix)], prefix) || !bytes.Equal(b[len(prefix):], a) {
			t.Fatalf("AppendFrame after a prefix: % x, want % x + % x", b, prefix, a)
		}
		again, _ := c.Encode(normalize(m))
		if !bytes.Equal(a, again) {
			t.Fatalf("encoding is not deterministic:\n% x\n% x", a, again)
		}
	})
}

// Several frames back to back: DecodeAll and FrameReader give the messages
// back in order, at the right offsets.
func TestPropStream(t *testing.T) {
	forEachProfile(t, func(t *rapid.T, c *wire.Codec) {
		msgs := rapid.SliceOfN(genMessage(), 0, 8).Draw(t, "msgs")
		var stream []byte
		var offsets []int64
		for _, m := range msgs {
			offsets = append(offsets, int64(len(stream)))
			var err error
			if stream, err = c.AppendFrame(stream, m); err != nil {
				t.Fatalf("AppendFrame: %v", err)
			}
		}
		got, err := c.DecodeAll(stream)
		if err != nil || len(got) != len(msgs) {
			t.Fatalf("DecodeAll: %d messages, %v; want %d", len(got), err, len(msgs))
		}
		fr := c.NewFrameReader(bytes.NewReader(stream))
		for i, m := range msgs {
			if !sameMessage(got[i], m) {
				t.Fatalf("DecodeAll message %d: %#v, want %#v", i, got[i], m)
			}
			f, err := fr.Next()
			if err != nil {
				t.Fatalf("FrameReader frame %d: %v", i, err)
			}
			if f.Offset != offsets[i] || f.Type != m.Type() {
				t.Fatalf("frame %d at %d of type %v, want at %d of %v", i, f.Offset, f.Type, offsets[i], m.Type())
			}
			fm, err := c.DecodeBody(f.Type, f.Body)
			if err != nil || !sameMessage(fm, m) {
				t.Fatalf("frame %d body: %#v, %v", i, fm, err)
			}
		}
		if _, err := fr.Next(); err != io.EOF {
			t.Fatalf("after the last frame: %v, want io.EOF", err)
		}
	})
}

// Arbitrary bytes: Decode never panics and returns a message or a
// *wire.Error; what decodes re-encodes to something that decodes to the
// same message.
func TestPropArbitraryBytes(t *testing.T) {
	forEachProfile(t, func(t *rapid.T, c *wire.Codec) {
		data := rapid.SliceOf(rapid.Byte()).Draw(t, "data")
		m, err := c.Decode(data)
		checkDecodeResult(t, c, len(data), m, err, false)
		msgs, err := c.DecodeAll(data)
		if err != nil {
			checkErrorShape(t, err, len(data))
		}
		for _, m := range msgs {
			checkDecodeResult(t, c, 0, m, nil, false)
		}
	})
}

// Arbitrary bodies behind a valid header, so that the body decoders (not
// just the header check) see the noise.
func TestPropArbitraryBodies(t *testing.T) {
	forEachProfile(t, func(t *rapid.T, c *wire.Codec) {
		mt := rapid.SampledFrom(wire.KnownTypes()).Draw(t, "type")
		body := rapid.SliceOf(rapid.Byte()).Draw(t, "body")
		m, err := c.DecodeBody(mt, body)
		checkDecodeResult(t, c, len(body), m, err, true)
		if err == nil && m.Type() != mt {
			t.Fatalf("DecodeBody(%v) returned a %v", mt, m.Type())
		}
		frame := binary.LittleEndian.AppendUint32([]byte{byte(mt)}, uint32(len(body)))
		frame = append(frame, body...)
		m2, err2 := c.Decode(frame)
		checkDecodeResult(t, c, len(frame), m2, err2, false)
		if (err == nil) != (err2 == nil) || err == nil && !reflect.DeepEqual(m, m2) {
			t.Fatalf("DecodeBody and Decode disagree: %v / %v", err, err2)
		}
		if err != nil && wireError(t, err).Offset+wire.HeaderLen != wireError(t, err2).Offset {
			t.Fatalf("DecodeBody offset %d + 5 != Decode offset %d", wireError(t, err).Offset, wireError(t, err2).Offset)
		}
	})
}

// interestingBytes are MessagePack codes that change how the rest of the
// input is read.
var interestingBytes = []byte{0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3,
	0xc4, 0xc5, 0xc6, 0xcc, 0xcd, 0xce, 0xcf, 0xd0, 0xd1, 0xd2, 0xd3, 0xd9, 0xda, 0xdb,
	0xdc, 0xdd, 0xde, 0xdf, 0xe0, 0xff}

// Valid frames with a few bytes flipped, replaced, inserted or removed, or
// cut short; the length field is fixed up half of the time so that the
// body decoders see the damage.
func TestPropMutatedFrames(t *testing.T) {
	forEachProfile(t, func(t *rapid.T, c *wire.Codec) {
		m := genMessage().Draw(t, "msg")
		frame, err := c.Encode(m)
		if err != nil {
			t.Fatalf("Encode: %v", err)
		}
		n := rapid.IntRange(1, 4).Draw(t, "mutations")
		for i := 0; i < n && len(frame) > 0; i++ {
			pos := rapid.IntRange(0, len(frame)-1).Draw(t, "pos")
			switch rapid.IntRange(0, 4).Draw(t, "op") {
			case 0:
				frame[pos] ^= byte(rapid.IntRange(1, 255).Draw(t, "xor"))
			case 1:
				frame[pos] = rapid.SampledFrom(interestingBytes).Draw(t, "code")
			case 2:
				frame = slices.Insert(frame, pos, rapid.SampledFrom(interestingBytes).Draw(t, "code"))
			case 3:
				frame = slices.Delete(frame, pos, pos+1)
			case 4:
				frame = frame[:pos]
			}
		}
		if len(frame) >= wire.HeaderLen && rapid.Bool().Draw(t, "fix_length") {
			binary.LittleEndian.PutUint32(frame[1:], uint32(len(frame)-wire.HeaderLen))
		}
		got, err := c.Decode(frame)
		checkDecodeResult(t, c, len(frame), got, err, false)
		if len(frame) >= wire.HeaderLen {
			got, err := c.DecodeBody(wire.MsgType(frame[0]), frame[wire.HeaderLen:])
			checkDecodeResult(t, c, len(frame)-wire.HeaderLen, got, err, true)
		}
	})
}
