package wire_test

import (
	"strings"

	"github.com/vmihailenco/msgpack/v5"
	"pgregory.net/rapid"

	"github.com/syncsim/syncsim/wire"
)

// Generators for every modelled message. Strings are valid UTF-8 (Rust's
// String cannot hold anything else, and the decoder refuses it), drawn
// from any runes, with extra weight on the lengths where MessagePack's
// forms change; integers get extra weight on the boundaries of their
// forms.

var u64Edges = []uint64{0, 1, 127, 128, 255, 256, 65535, 65536, 1<<32 - 1, 1 << 32, 1<<63 - 1, 1 << 63, 1<<64 - 1}

var i64Edges = []int64{0, 1, -1, 127, 128, -32, -33, 200, -128, -129, 32767, 32768, -32768, -32769,
	1<<31 - 1, 1 << 31, -1 << 31, -1<<31 - 1, 1<<63 - 1, -1 << 63}

func genU64() *rapid.Generator[uint64] {
	return rapid.OneOf(rapid.Uint64(), rapid.SampledFrom(u64Edges))
}

func genI64() *rapid.Generator[int64] {
	return rapid.OneOf(rapid.Int64(), rapid.SampledFrom(i64Edges))
}

func genU16() *rapid.Generator[uint16] {
	return rapid.OneOf(rapid.Uint16(), rapid.SampledFrom([]uint16{0, 127, 128, 255, 256, 65535}))
}

func genU32() *rapid.Generator[uint32] {
	return rapid.OneOf(rapid.Uint32(), rapid.SampledFrom([]uint32{0, 127, 128, 65535, 65536, 1<<32 - 1}))
}

func genString() *rapid.Generator[string] {
	return rapid.OneOf(
		rapid.String(),           // any runes, mostly short
		rapid.StringN(0, 40, -1), // around the fixstr/str8 boundary (31/32 bytes)
		rapid.SampledFrom([]string{"", "users", "café", "日本語", "🙂", "a\x00b",
			strings.Repeat("x", 31), strings.Repeat("y", 32), strings.Repeat("z", 255), strings.Repeat("w", 256)}),
	)
}

func genBytes() *rapid.Generator[wire.Bytes] {
	return rapid.Map(rapid.OneOf(
		rapid.SliceOf(rapid.Byte()),
		rapid.SliceOfN(rapid.Byte(), 250, 300), // bin8/bin16 boundary
		rapid.Just[[]byte](nil),
	), func(b []byte) wire.Bytes { return b })
}

func genStrings() *rapid.Generator[[]string] {
	return rapid.OneOf(rapid.SliceOfN(genString(), 0, 20), rapid.Just[[]string](nil))
}

func genClock() *rapid.Generator[map[string]uint64] {
	return rapid.OneOf(rapid.MapOfN(genString(), genU64(), 0, 20), rapid.Just[map[string]uint64](nil))
}

// genCompensation draws an absent hint (nil) or an arbitrary MessagePack
// value other than a top-level nil (a present hint that is nil would read
// back as absent: the wire cannot tell them apart).
func genCompensation() *rapid.Generator[wire.RawValue] {
	return rapid.OneOf(
		rapid.Just[wire.RawValue](nil),
		rapid.Custom(func(t *rapid.T) wire.RawValue {
			v := genAnyValue(3, false).Draw(t, "value")
			b, err := msgpack.Marshal(v)
			if err != nil {
				t.Fatalf("msgpack.Marshal(%#v): %v", v, err)
			}
			return b
		}),
	)
}

// genAnyValue draws a generic value for msgpack.Marshal, nested up to depth.
func genAnyValue(depth int, allowNil bool) *rapid.Generator[any] {
	scalars := []*rapid.Generator[any]{
		rapid.Map(rapid.Int64(), func(v int64) any { return v }),
		rapid.Map(rapid.Uint64(), func(v uint64) any { return v }),
		rapid.Map(rapid.Bool(), func(v bool) any { return v }),
		rapid.Map(rapid.Float64(), func(v float64) any { return v }),
		rapid.Map(rapid.String(), func(v string) any { return v }),
		rapid.Map(rapid.SliceOf(rapid.Byte()), func(v []byte) any { return v }),
	}
	if allowNil {
		scalars = append(scalars, rapid.Just[any](nil))
	}
	if depth == 0 {
		return rapid.OneOf(scalars...)
	}
	return rapid.OneOf(append(scalars,
		rapid.Map(rapid.SliceOfN(genAnyValue(depth-1, true), 0, 4), func(v []any) any { return v }),
		rapid.Map(rapid.MapOfN(rapid.String(), genAnyValue(depth-1, true), 0, 4), func(v map[string]any) any { return v }),
	)...)
}

func genReason() *rapid.Generator[wire.ResyncReason] {
	return rapid.OneOf(
		rapid.Custom(func(t *rapid.T) wire.ResyncReason {
			return wire.ResyncReason{Kind: wire.SequenceGap, Expected: genU64().Draw(t, "expected"), Received: genU64().Draw(t, "received")}
		}),
		rapid.Custom(func(t *rapid.T) wire.ResyncReason {
			return wire.ResyncReason{Kind: wire.ChecksumMismatch, MutationID: genU64().Draw(t, "mutation_id")}
		}),
		rapid.Just(wire.ResyncReason{Kind: wire.CorruptedState}),
	)
}

// messageGens has one generator per modelled type.
var messageGens = map[wire.MsgType]*rapid.Generator[wire.Message]{
	wire.TypeHandshake: rapid.Custom(func(t *rapid.T) wire.Message {
		var vc map[string]map[string]uint64
		if rapid.Bool().Draw(t, "has_vector_clock") {
			vc = rapid.MapOfN(genString(), genClock(), 0, 5).Draw(t, "vector_clock")
		}
		return &wire.Handshake{
			JWTToken:         genString().Draw(t, "jwt_token"),
			VectorClock:      vc,
			SubscribedShapes: genStrings().Draw(t, "subscribed_shapes"),
			ClientVersion:    genString().Draw(t, "client_version"),
			LiteID:           genString().Draw(t, "lite_id"),
			Epoch:            genU64().Draw(t, "epoch"),
			WireVersion:      genU16().Draw(t, "wire_version"),
		}
	}),
	wire.TypeHandshakeAck: rapid.Custom(func(t *rapid.T) wire.Message {
		return &wire.HandshakeAck{
			Success:           rapid.Bool().Draw(t, "success"),
			SessionID:         genString().Draw(t, "session_id"),
			ServerClock:       genClock().Draw(t, "server_clock"),
			Error:             rapid.Ptr(genString(), true).Draw(t, "error"),
			ForkDetected:      rapid.Bool().Draw(t, "fork_detected"),
			ServerWireVersion: genU16().Draw(t, "server_wire_version"),
		}
	}),
	wire.TypeDeltaPush: rapid.Custom(func(t *rapid.T) wire.Message {
		return &wire.DeltaPush{
			Collection:        genString().Draw(t, "collection"),
			DocumentID:        genString().Draw(t, "document_id"),
			Delta:             genBytes().Draw(t, "delta"),
			PeerID:            genU64().Draw(t, "peer_id"),
			MutationID:        genU64().Draw(t, "mutation_id"),
			Checksum:          genU32().Draw(t, "checksum"),
			DeviceValidTimeMs: rapid.Ptr(genI64(), true).Draw(t, "device_valid_time_ms"),
		}
	}),
	wire.TypeDeltaAck: rapid.Custom(func(t *rapid.T) wire.Message {
		return &wire.DeltaAck{
			MutationID:         genU64().Draw(t, "mutation_id"),
			LSN:                genU64().Draw(t, "lsn"),
			ClockSkewWarningMs: rapid.Ptr(genI64(), true).Draw(t, "clock_skew_warning_ms"),
		}
	}),
	wire.TypeDeltaReject: rapid.Custom(func(t *rapid.T) wire.Message {
		return &wire.DeltaReject{
			MutationID:   genU64().Draw(t, "mutation_id"),
			Reason:       genString().Draw(t, "reason"),
			Compensation: genCompensation().Draw(t, "compensation"),
		}
	}),
	wire.TypeShapeSubscribe: rapid.Custom(func(t *rapid.T) wire.Message {
		return &wire.ShapeSubscribe{Shape: wire.ShapeDefinition{
			ShapeID:     genString().Draw(t, "shape_id"),
			TenantID:    genU64().Draw(t, "tenant_id"),
			ShapeType:   wire.ShapeType{Collection: genString().Draw(t, "collection")},
			Description: genString().Draw(t, "description"),
			FieldFilter: genStrings().Draw(t, "field_filter"),
		}}
	}),
	wire.TypeShapeSnapshot: rapid.Custom(func(t *rapid.T) wire.Message {
		return &wire.ShapeSnapshot{
			ShapeID:     genString().Draw(t, "shape_id"),
			Data:        genBytes().Draw(t, "data"),
			SnapshotLSN: genU64().Draw(t, "snapshot_lsn"),
			DocCount:    genU64().Draw(t, "doc_count"),
		}
	}),
	wire.TypeShapeDelta: rapid.Custom(func(t *rapid.T) wire.Message {
		return &wire.ShapeDelta{
			ShapeID:    genString().Draw(t, "shape_id"),
			Collection: genString().Draw(t, "collection"),
			DocumentID: genString().Draw(t, "document_id"),
			Operation:  rapid.OneOf(rapid.SampledFrom([]string{wire.OpInsert, wire.OpUpdate, wire.OpDelete}), genString()).Draw(t, "operation"),
			Delta:      genBytes().Draw(t, "delta"),
			LSN:        genU64().Draw(t, "lsn"),
		}
	}),
	wire.TypeVectorClockSync: rapid.Custom(func(t *rapid.T) wire.Message {
		return &wire.VectorClockSync{Clocks: genClock().Draw(t, "clocks"), SenderID: genU64().Draw(t, "sender_id")}
	}),
	wire.TypeResyncRequest: rapid.Custom(func(t *rapid.T) wire.Message {
		return &wire.ResyncRequest{
			Reason:         genReason().Draw(t, "reason"),
			FromMutationID: genU64().Draw(t, "from_mutation_id"),
			Collection:     genString().Draw(t, "collection"),
		}
	}),
	wire.TypeThrottle: rapid.Custom(func(t *rapid.T) wire.Message {
		return &wire.Throttle{
			Throttle:      rapid.Bool().Draw(t, "throttle"),
			QueueDepth:    genU64().Draw(t, "queue_depth"),
			SuggestedRate: genU64().Draw(t, "suggested_rate"),
		}
	}),
	wire.TypePingPong: rapid.Custom(func(t *rapid.T) wire.Message {
		return &wire.PingPong{TimestampMs: genU64().Draw(t, "timestamp_ms"), IsPong: rapid.Bool().Draw(t, "is_pong")}
	}),
}

// genMessage draws a message of any modelled type.
func genMessage() *rapid.Generator[wire.Message] {
	var gens []*rapid.Generator[wire.Message]
	for _, mt := range wire.KnownTypes() { // fixed order: reproducible draws
		if g, ok := messageGens[mt]; ok {
			gens = append(gens, g)
		}
	}
	return rapid.OneOf(gens...)
}
