package wire_test

import (
	"bytes"
	"testing"

	"github.com/syncsim/syncsim/wire"
)

// benchPush is a typical upstream mutation: a 64-byte delta, sealed, with
// the optional valid-time set.
func benchPush() *wire.DeltaPush {
	m := &wire.DeltaPush{
		Collection:        "users",
		DocumentID:        "user-000042",
		Delta:             bytes.Repeat([]byte{0x5a}, 64),
		PeerID:            7,
		MutationID:        123456,
		DeviceValidTimeMs: ptr[int64](1732512000000),
	}
	m.Seal()
	return m
}

// TestEncodeAllocs: AppendFrame into a buffer of sufficient capacity
// allocates nothing, for every golden message under its profile.
func TestEncodeAllocs(t *testing.T) {
	cases := append([]goldenCase{{name: "bench DeltaPush", msg: benchPush()}}, goldenCases...)
	for _, gc := range cases {
		t.Run(gc.name, func(t *testing.T) {
			c := gc.codec()
			buf := make([]byte, 0, 4096)
			var err error
			allocs := testing.AllocsPerRun(100, func() {
				buf, err = c.AppendFrame(buf[:0], gc.msg)
			})
			if err != nil {
				t.Fatal(err)
			}
			if allocs != 0 {
				t.Errorf("AppendFrame allocated %v times per run, want 0", allocs)
			}
			allocs = testing.AllocsPerRun(100, func() { buf = c.AppendBody(buf[:0], gc.msg) })
			if allocs != 0 {
				t.Errorf("AppendBody allocated %v times per run, want 0", allocs)
			}
		})
	}
}

// TestDecodeAllocs pins the allocation count of decoding benchPush's frame
// (see BenchmarkDecodeDeltaPush for where each one comes from).
func TestDecodeAllocs(t *testing.T) {
	frame, err := wire.Default.Encode(benchPush())
	if err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() { _, err = wire.Default.Decode(frame) })
	if err != nil {
		t.Fatal(err)
	}
	// The message, its delta and the *int64 Option. Its two short strings
	// repeat from frame to frame and are interned after the first decode.
	if allocs != 3 {
		t.Errorf("decoding a DeltaPush allocated %v times, want 3 (message, delta, *int64)", allocs)
	}
}

func BenchmarkDeltaPushEncodeDecode(b *testing.B) {
	m := benchPush()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, err = wire.Default.AppendFrame(buf[:0], m)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := wire.Default.Decode(buf); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodeReusedBuffer(b *testing.B) {
	m := benchPush()
	buf := make([]byte, 0, 256)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = wire.Default.AppendFrame(buf[:0], m)
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkDecodeDeltaPush: 3 allocs/op, each part of the result and
// nothing else: the *DeltaPush itself, the delta byte slice, and the *int64
// of device_valid_time_ms. The collection and document_id strings are
// interned (they repeat), and the body reader comes from a pool.
func BenchmarkDecodeDeltaPush(b *testing.B) {
	frame, err := wire.Default.Encode(benchPush())
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := wire.Default.Decode(frame); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScratchDecodeDeltaPush: 1 alloc/op, the copied delta; the
// message and its Option's integer are the Scratch's own, reused.
func BenchmarkScratchDecodeDeltaPush(b *testing.B) {
	frame, err := wire.Default.Encode(benchPush())
	if err != nil {
		b.Fatal(err)
	}
	sc := wire.Default.NewScratch()
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := sc.Decode(frame); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkChecksum64KiB(b *testing.B) {
	data := make([]byte, 65536)
	for i := range data {
		data[i] = byte(i * 7)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	var sum uint32
	for b.Loop() {
		sum ^= wire.Checksum(data)
	}
	_ = sum
}
