package wire_test

import (
	"bytes"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/syncsim/syncsim/wire"
)

// -update rewrites testdata/golden/*.hex from the encoder. It cannot bless
// a regression: TestGolden still compares every file with the hand-derived
// hex kept in goldenCases below, so a changed encoder fails the test even
// after -update (and the file diff shows what changed).
var update = flag.Bool("update", false, "rewrite testdata/golden/*.hex from the encoder")

const goldenDir = "testdata/golden"

type goldenCase struct {
	name    string
	profile wire.Profile
	msg     wire.Message
	// hex is the full frame, derived by hand from the MessagePack spec and
	// the PROTOCOL.md rules (never copied from the encoder's output).
	// Spaces only group bytes by field.
	hex string
}

// Abbreviations in the derivations: fixarray(n) = 0x90|n, fixmap(n) =
// 0x80|n, fixstr(n) = 0xa0|n followed by n UTF-8 bytes, fixint = one byte
// 0x00-0x7f (or 0xe0-0xff for -32..-1). The header is the type byte, then
// the body length as a little-endian u32. Multi-byte integers in the body
// are big-endian, as MessagePack says.
var goldenCases = []goldenCase{
	// ---- Throttle (0x52) and unsigned integer widths ----
	{
		// PROTOCOL.md worked example.
		// 52 type Throttle; 06 00 00 00 = length 6
		// 93 = fixarray(3); c3 = true; cd 03 e8 = uint16 1000; 32 = fixint 50
		name: "throttle",
		msg:  &wire.Throttle{Throttle: true, QueueDepth: 1000, SuggestedRate: 50},
		hex:  "52 06000000 93 c3 cd03e8 32",
	},
	{
		// 93 = fixarray(3); c2 = false; 00 = fixint 0; 00 = fixint 0 → 4 bytes
		name: "throttle_release",
		msg:  &wire.Throttle{},
		hex:  "52 04000000 93 c2 00 00",
	},
	{
		// 127 is the largest positive fixint (7f); 128 needs uint8: cc 80.
		// 93 c3 7f cc80 → 5 bytes
		name: "u64_127_128",
		msg:  &wire.Throttle{Throttle: true, QueueDepth: 127, SuggestedRate: 128},
		hex:  "52 05000000 93 c3 7f cc80",
	},
	{
		// 255 is the largest uint8 (cc ff); 256 needs uint16: cd 01 00.
		// 93 c2 ccff cd0100 → 7 bytes
		name: "u64_255_256",
		msg:  &wire.Throttle{QueueDepth: 255, SuggestedRate: 256},
		hex:  "52 07000000 93 c2 ccff cd0100",
	},
	{
		// 65535 is the largest uint16 (cd ff ff); 65536 = 0x00010000 needs
		// uint32: ce 00 01 00 00. 93 c3 cdffff ce00010000 → 10 = 0x0a bytes
		name: "u64_65535_65536",
		msg:  &wire.Throttle{Throttle: true, QueueDepth: 65535, SuggestedRate: 65536},
		hex:  "52 0a000000 93 c3 cdffff ce00010000",
	},
	{
		// 2^32-1 is the largest uint32 (ce ff ff ff ff); 2^32 needs uint64:
		// cf 00 00 00 01 00 00 00 00. 1+1+5+9 = 16 = 0x10 bytes
		name: "u64_2p32m1_2p32",
		msg:  &wire.Throttle{Throttle: true, QueueDepth: 1<<32 - 1, SuggestedRate: 1 << 32},
		hex:  "52 10000000 93 c3 ceffffffff cf0000000100000000",
	},

	// ---- PingPong (0xff) ----
	{
		// 92 = fixarray(2); 2^64-1 = cf ff ff ff ff ff ff ff ff; c3 = true
		// 1+9+1 = 11 = 0x0b bytes
		name: "pingpong_u64_max",
		msg:  &wire.PingPong{TimestampMs: 1<<64 - 1, IsPong: true},
		hex:  "ff 0b000000 92 cfffffffffffffffff c3",
	},
	{
		// 1732512000000 = 403·2^32 + 1640179712 = 0x193_61c32800 > 2^32-1,
		// so uint64: cf 00 00 01 93 61 c3 28 00; c2 = false. 11 bytes
		name: "pingpong_ping",
		msg:  &wire.PingPong{TimestampMs: 1732512000000},
		hex:  "ff 0b000000 92 cf0000019361c32800 c2",
	},
	{
		// 92 = fixarray(2); 00 = fixint 0; c3 = true → 3 bytes
		name: "pingpong_pong",
		msg:  &wire.PingPong{IsPong: true},
		hex:  "ff 03000000 92 00 c3",
	},

	// ---- DeltaAck (0x11): Option<i64> absent and every signed width ----
	{
		// 93 = fixarray(3); 1000 = cd 03 e8; 70000 = 0x11170 → uint32
		// ce 00 01 11 70; c0 = None. 1+3+5+1 = 10 = 0x0a bytes
		name: "deltaack_skew_absent",
		msg:  &wire.DeltaAck{MutationID: 1000, LSN: 70000},
		hex:  "11 0a000000 93 cd03e8 ce00011170 c0",
	},
	{
		// i64 200 > 127 and > MaxInt8, so int16: d1 00 c8 (never cc c8).
		// 93 01 02 d100c8 → 6 bytes
		name: "deltaack_skew_200",
		msg:  &wire.DeltaAck{MutationID: 1, LSN: 2, ClockSkewWarningMs: ptr[int64](200)},
		hex:  "11 06000000 93 01 02 d100c8",
	},
	{
		// i64 127: positive fixint 7f. 4 bytes
		name: "deltaack_skew_127",
		msg:  &wire.DeltaAck{MutationID: 1, LSN: 2, ClockSkewWarningMs: ptr[int64](127)},
		hex:  "11 04000000 93 01 02 7f",
	},
	{
		// i64 128 > MaxInt8 → int16 d1 00 80. 6 bytes
		name: "deltaack_skew_128",
		msg:  &wire.DeltaAck{MutationID: 1, LSN: 2, ClockSkewWarningMs: ptr[int64](128)},
		hex:  "11 06000000 93 01 02 d10080",
	},
	{
		// i64 0 → fixint 00 (Some(0), not None). 4 bytes
		name: "deltaack_skew_0",
		msg:  &wire.DeltaAck{MutationID: 1, LSN: 2, ClockSkewWarningMs: ptr[int64](0)},
		hex:  "11 04000000 93 01 02 00",
	},
	{
		// i64 -1 → negative fixint ff. 4 bytes
		name: "deltaack_skew_m1",
		msg:  &wire.DeltaAck{MutationID: 1, LSN: 2, ClockSkewWarningMs: ptr[int64](-1)},
		hex:  "11 04000000 93 01 02 ff",
	},
	{
		// i64 -32 → negative fixint e0 (the smallest). 4 bytes
		name: "deltaack_skew_m32",
		msg:  &wire.DeltaAck{MutationID: 1, LSN: 2, ClockSkewWarningMs: ptr[int64](-32)},
		hex:  "11 04000000 93 01 02 e0",
	},
	{
		// i64 -33 → int8 d0 df (0xdf = -33 two's complement). 5 bytes
		name: "deltaack_skew_m33",
		msg:  &wire.DeltaAck{MutationID: 1, LSN: 2, ClockSkewWarningMs: ptr[int64](-33)},
		hex:  "11 05000000 93 01 02 d0df",
	},
	{
		// i64 -128 → int8 d0 80. 5 bytes
		name: "deltaack_skew_m128",
		msg:  &wire.DeltaAck{MutationID: 1, LSN: 2, ClockSkewWarningMs: ptr[int64](-128)},
		hex:  "11 05000000 93 01 02 d080",
	},
	{
		// i64 -129 → int16 d1 ff 7f (0xff7f = -129). 6 bytes
		name: "deltaack_skew_m129",
		msg:  &wire.DeltaAck{MutationID: 1, LSN: 2, ClockSkewWarningMs: ptr[int64](-129)},
		hex:  "11 06000000 93 01 02 d1ff7f",
	},
	{
		// i64 -32769 < MinInt16 → int32 d2 ff ff 7f ff. 8 bytes
		name: "deltaack_skew_m32769",
		msg:  &wire.DeltaAck{MutationID: 1, LSN: 2, ClockSkewWarningMs: ptr[int64](-32769)},
		hex:  "11 08000000 93 01 02 d2ffff7fff",
	},
	{
		// i64 2^31 > MaxInt32 → int64 d3 00 00 00 00 80 00 00 00. 12 bytes
		name: "deltaack_skew_2p31",
		msg:  &wire.DeltaAck{MutationID: 1, LSN: 2, ClockSkewWarningMs: ptr[int64](1 << 31)},
		hex:  "11 0c000000 93 01 02 d30000000080000000",
	},
	{
		// i64 MinInt64 (large negative) → int64 d3 80 00 00 00 00 00 00 00.
		// 12 = 0x0c bytes
		name: "deltaack_skew_min_i64",
		msg:  &wire.DeltaAck{MutationID: 1, LSN: 2, ClockSkewWarningMs: ptr[int64](-1 << 63)},
		hex:  "11 0c000000 93 01 02 d38000000000000000",
	},

	// ---- DeltaPush (0x10) ----
	{
		// 97 = fixarray(7)
		// a5 75 73 65 72 73 = fixstr(5) "users"
		// a2 75 31 = fixstr(2) "u1"
		// c4 03 01 02 03 = bin8, 3 bytes
		// 07 = peer_id 7; 2a = mutation_id 42
		// ce de ad be ef = checksum uint32 0xdeadbeef
		// d3 00 00 01 8b cf e5 68 00 = Some(i64 1700000000000 = 0x18bcfe56800,
		//   > MaxInt32, so int64)
		// 1+6+3+5+1+1+5+9 = 31 = 0x1f bytes
		name: "deltapush",
		msg: &wire.DeltaPush{Collection: "users", DocumentID: "u1", Delta: wire.Bytes{1, 2, 3},
			PeerID: 7, MutationID: 42, Checksum: 0xdeadbeef, DeviceValidTimeMs: ptr[int64](1700000000000)},
		hex: "10 1f000000 97 a57573657273 a27531 c403010203 07 2a cedeadbeef d30000018bcfe56800",
	},
	{
		// 97; a1 63 = "c"; a1 64 = "d"; c4 00 = empty bin; 00 00 00 = three
		// zero unsigned fields; c0 = device_valid_time_ms None.
		// 1+2+2+2+3+1 = 11 = 0x0b bytes
		name: "deltapush_empty_delta",
		msg:  &wire.DeltaPush{Collection: "c", DocumentID: "d", Delta: wire.Bytes{}},
		hex:  "10 0b000000 97 a163 a164 c400 00 00 00 c0",
	},
	{
		// collection is 32 chars: too long for fixstr (max 31), so str8:
		//   d9 20 then the 32 ASCII bytes
		// a1 64 = "d"
		// 300-byte delta: > 255, so bin16: c5 01 2c (300 = 0x012c), then 300 × ab
		// 01 02 00 = peer 1, mutation 2, checksum 0; c0 = None
		// 1+34+2+303+3+1 = 344 = 0x158 → length 58 01 00 00
		name: "deltapush_str8_bin16",
		msg: &wire.DeltaPush{Collection: "abcdefghijklmnopqrstuvwxyz012345", DocumentID: "d",
			Delta: wire.Bytes(bytes.Repeat([]byte{0xab}, 300)), PeerID: 1, MutationID: 2},
		hex: "10 58010000 97 d920 6162636465666768696a6b6c6d6e6f707172737475767778797a303132333435 a164 c5012c" +
			strings.Repeat("ab", 300) + " 01 02 00 c0",
	},

	// ---- DeltaReject (0x12): Option<CompensationHint> absent and present ----
	{
		// 93; 09; "café" is 5 UTF-8 bytes (é = c3 a9): a5 63 61 66 c3 a9;
		// c0 = compensation None. 1+1+6+1 = 9 bytes
		name: "deltareject_no_compensation",
		msg:  &wire.DeltaReject{MutationID: 9, Reason: "café"},
		hex:  "12 09000000 93 09 a5636166c3a9 c0",
	},
	{
		// 93; 0a = 10; a9 "integrity"; compensation is carried raw:
		// 81 = fixmap(1), a5 "retry", c3 = true.
		// 1+1+10+8 = 20 = 0x14 bytes
		name: "deltareject_compensation",
		msg: &wire.DeltaReject{MutationID: 10, Reason: "integrity",
			Compensation: wire.RawValue{0x81, 0xa5, 'r', 'e', 't', 'r', 'y', 0xc3}},
		hex: "12 14000000 93 0a a9696e74656772697479 81a57265747279c3",
	},

	// ---- HandshakeAck (0x02): Option<String> absent and present ----
	{
		// 96 = fixarray(6); c3 = success; a2 73 31 = "s1"
		// 82 = fixmap(2), keys in sorted order: a1 61 "a" → 01; a1 62 "b" → cd 01 2c (300)
		// c0 = error None; c2 = fork_detected false; 01 = server_wire_version 1
		// 1+1+3+1+2+1+2+3+1+1+1 = 17 = 0x11 bytes
		name: "handshakeack_ok",
		msg: &wire.HandshakeAck{Success: true, SessionID: "s1",
			ServerClock: map[string]uint64{"b": 300, "a": 1}, ServerWireVersion: 1},
		hex: "02 11000000 96 c3 a27331 82 a161 01 a162 cd012c c0 c2 01",
	},
	{
		// 96; c2 = false; a0 = ""; 80 = empty map; a9 "bad token" = Some;
		// c3 = fork_detected; cd ff ff = u16 65535.
		// 1+1+1+1+10+1+3 = 18 = 0x12 bytes
		name: "handshakeack_error",
		msg: &wire.HandshakeAck{ServerClock: map[string]uint64{}, Error: ptr("bad token"),
			ForkDetected: true, ServerWireVersion: 65535},
		hex: "02 12000000 96 c2 a0 80 a962616420746f6b656e c3 cdffff",
	},

	// ---- Handshake (0x01) ----
	{
		// 97 = fixarray(7); a3 6a 77 74 = "jwt"
		// vector_clock, keys sorted: 82 = fixmap(2)
		//   a6 "orders" → 80 (empty map)
		//   a5 "users" → 82: a2 "p1" → 05, a2 "p2" → 07
		// 92 = fixarray(2) a2 "s1" a2 "s2"
		// a5 "0.1.0"; a6 "lite-1"; 03 = epoch; 01 = wire_version
		// 5 + 24 + 7 + 6 + 7 + 1 + 1 = 51 = 0x33 bytes
		name: "handshake",
		msg: &wire.Handshake{JWTToken: "jwt",
			VectorClock: map[string]map[string]uint64{
				"users":  {"p2": 7, "p1": 5},
				"orders": {},
			},
			SubscribedShapes: []string{"s1", "s2"}, ClientVersion: "0.1.0", LiteID: "lite-1",
			Epoch: 3, WireVersion: 1},
		hex: "01 33000000 97 a36a7774 82 a66f7264657273 80 a57573657273 82 a27031 05 a27032 07" +
			" 92 a27331 a27332 a5302e312e30 a66c6974652d31 03 01",
	},
	{
		// 97; a0 = ""; 80 = empty map; 90 = empty array; a0; a0; 00 = epoch 0;
		// cd ff ff = wire_version 65535 (u16 max). 10 = 0x0a bytes
		name: "handshake_empty",
		msg: &wire.Handshake{VectorClock: map[string]map[string]uint64{},
			SubscribedShapes: []string{}, WireVersion: 65535},
		hex: "01 0a000000 97 a0 80 90 a0 a0 00 cdffff",
	},

	// ---- ShapeSubscribe (0x20) ----
	{
		// 91 = fixarray(1) (ShapeSubscribe{shape})
		// 95 = fixarray(5) (ShapeDefinition)
		// a3 "sh1"; 07 = tenant_id
		// shape_type Document{collection}: 92 a8 "Document" 91 a5 "users"
		// a9 "all users"
		// field_filter: 92 a4 "name" a3 "age"
		// 1+1+4+1+17+10+10 = 44 = 0x2c bytes
		name: "shapesubscribe",
		msg: &wire.ShapeSubscribe{Shape: wire.ShapeDefinition{ShapeID: "sh1", TenantID: 7,
			ShapeType: wire.ShapeType{Collection: "users"}, Description: "all users",
			FieldFilter: []string{"name", "age"}}},
		hex: "20 2c000000 91 95 a3736831 07 92 a8446f63756d656e74 91 a57573657273" +
			" a9616c6c207573657273 92 a46e616d65 a3616765",
	},

	// ---- ShapeSnapshot (0x21) ----
	{
		// 94 = fixarray(4); a3 "sh1"; c4 02 de ad = bin8(2);
		// 65536 = ce 00 01 00 00; 02 = doc_count. 1+4+4+5+1 = 15 = 0x0f bytes
		name: "shapesnapshot",
		msg:  &wire.ShapeSnapshot{ShapeID: "sh1", Data: wire.Bytes{0xde, 0xad}, SnapshotLSN: 65536, DocCount: 2},
		hex:  "21 0f000000 94 a3736831 c402dead ce00010000 02",
	},
	{
		// 94; a0 = ""; c4 00 = empty bin (not nil, not fixarray); 00; 00 → 6 bytes
		name: "shapesnapshot_empty",
		msg:  &wire.ShapeSnapshot{Data: wire.Bytes{}},
		hex:  "21 06000000 94 a0 c400 00 00",
	},

	// ---- ShapeDelta (0x22) ----
	{
		// 96 = fixarray(6); a3 "sh1"; a5 "users"; a2 "u1"; a6 "UPDATE";
		// c4 01 01 = bin8(1); 256 = cd 01 00.
		// 1+4+6+3+7+3+3 = 27 = 0x1b bytes
		name: "shapedelta",
		msg: &wire.ShapeDelta{ShapeID: "sh1", Collection: "users", DocumentID: "u1",
			Operation: wire.OpUpdate, Delta: wire.Bytes{1}, LSN: 256},
		hex: "22 1b000000 96 a3736831 a57573657273 a27531 a6555044415445 c40101 cd0100",
	},

	// ---- VectorClockSync (0x30) ----
	{
		// 92 = fixarray(2); 82 = fixmap(2), keys sorted:
		//   a6 "orders" → 2^32 = cf 00 00 00 01 00 00 00 00
		//   a5 "users" → 0a
		// sender_id 255 = cc ff. 1+1+7+9+6+1+2 = 27 = 0x1b bytes
		name: "vectorclocksync",
		msg:  &wire.VectorClockSync{Clocks: map[string]uint64{"users": 10, "orders": 1 << 32}, SenderID: 255},
		hex:  "30 1b000000 92 82 a66f7264657273 cf0000000100000000 a57573657273 0a ccff",
	},
	{
		// 92; 80 = empty map; 00 → 3 bytes
		name: "vectorclocksync_empty",
		msg:  &wire.VectorClockSync{Clocks: map[string]uint64{}},
		hex:  "30 03000000 92 80 00",
	},

	// ---- ResyncRequest (0x50): every ResyncReason variant ----
	{
		// 93 = fixarray(3)
		// reason, PROTOCOL.md's example: 92 ab "SequenceGap" 92 02 05
		//   (variant with fields = [name, [expected, received]])
		// 02 = from_mutation_id; a0 = collection "" (all collections)
		// 1+16+1+1 = 19 = 0x13 bytes
		name: "resync_sequence_gap",
		msg:  &wire.ResyncRequest{Reason: wire.ResyncReason{Kind: wire.SequenceGap, Expected: 2, Received: 5}, FromMutationID: 2},
		hex:  "50 13000000 93 92 ab53657175656e6365476170 92 02 05 02 a0",
	},
	{
		// The same under Zerompk06: only unit variants changed, so a variant
		// with fields is written exactly as above.
		name:    "resync_sequence_gap_06",
		profile: wire.Zerompk06,
		msg:     &wire.ResyncRequest{Reason: wire.ResyncReason{Kind: wire.SequenceGap, Expected: 2, Received: 5}, FromMutationID: 2},
		hex:     "50 13000000 93 92 ab53657175656e6365476170 92 02 05 02 a0",
	},
	{
		// 93; reason: 92 b0 "ChecksumMismatch" (16 chars → fixstr b0)
		//   91 cd 03 e8 (payload [mutation_id 1000]);
		// 00 = from 0 (full re-sync); a5 "users".
		// 1+1+17+1+3+1+6 = 30 = 0x1e bytes
		name: "resync_checksum_mismatch",
		msg:  &wire.ResyncRequest{Reason: wire.ResyncReason{Kind: wire.ChecksumMismatch, MutationID: 1000}, Collection: "users"},
		hex:  "50 1e000000 93 92 b0436865636b73756d4d69736d61746368 91 cd03e8 00 a57573657273",
	},
	{
		// Zerompk04: unit variant = [name, nil]:
		// 93; 92 ae "CorruptedState" (14 chars) c0; 00; a0.
		// 1+1+15+1+1+1 = 20 = 0x14 bytes
		name: "resync_corrupted_state_04",
		msg:  &wire.ResyncRequest{Reason: wire.ResyncReason{Kind: wire.CorruptedState}},
		hex:  "50 14000000 93 92 ae436f7272757074656453746174 65 c0 00 a0",
	},
	{
		// Zerompk06: unit variant = bare name string:
		// 93; ae "CorruptedState"; 00; a0. 1+15+1+1 = 18 = 0x12 bytes
		name:    "resync_corrupted_state_06",
		profile: wire.Zerompk06,
		msg:     &wire.ResyncRequest{Reason: wire.ResyncReason{Kind: wire.CorruptedState}},
		hex:     "50 12000000 93 ae436f7272757074656453746174 65 00 a0",
	},

	// ---- A known type the harness does not model: carried raw ----
	{
		// 14 = CollectionPurged; body is one value: 91 a5 "users". 7 bytes
		name: "opaque_collection_purged",
		msg:  &wire.Opaque{T: wire.TypeCollectionPurged, Body: wire.RawValue{0x91, 0xa5, 'u', 's', 'e', 'r', 's'}},
		hex:  "14 07000000 91 a57573657273",
	},
}

func (gc goldenCase) codec() *wire.Codec {
	if gc.profile.Name == "" {
		return wire.Default
	}
	return wire.NewCodec(gc.profile, 0)
}

func TestGolden(t *testing.T) {
	if *update {
		if err := os.MkdirAll(goldenDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, gc := range goldenCases {
		t.Run(gc.name, func(t *testing.T) {
			c := gc.codec()
			want := unhex(t, gc.hex)
			path := filepath.Join(goldenDir, gc.name+".hex")

			got, err := c.Encode(gc.msg)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if *update {
				if err := os.WriteFile(path, []byte(hex.EncodeToString(got)+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}

			// The checked-in file must be exactly the hand-derived bytes.
			file, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("golden file: %v", err)
			}
			fileHex := strings.TrimSuffix(string(file), "\n")
			if fileHex != compactHex(gc.hex) {
				t.Errorf("%s does not hold the hand-derived frame\n file: %s\ntable: %s", path, fileHex, compactHex(gc.hex))
			}

			// encode(value) == golden bytes
			if !bytes.Equal(got, want) {
				t.Errorf("Encode mismatch\n got: % x\nwant: % x", got, want)
			}
			// The header is consistent with the hand-written body.
			if want[0] != byte(gc.msg.Type()) || int(want[1])|int(want[2])<<8|int(want[3])<<16|int(want[4])<<24 != len(want)-wire.HeaderLen {
				t.Errorf("hand-written header % x does not match type %v and body length %d", want[:5], gc.msg.Type(), len(want)-wire.HeaderLen)
			}

			// decode(golden) == value
			m, err := c.Decode(want)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(m, gc.msg) {
				t.Errorf("Decode mismatch\n got: %#v\nwant: %#v", m, gc.msg)
			}

			// The body alone goes through AppendBody/DecodeBody the same way.
			body := c.AppendBody(nil, gc.msg)
			if !bytes.Equal(body, want[wire.HeaderLen:]) {
				t.Errorf("AppendBody mismatch\n got: % x\nwant: % x", body, want[wire.HeaderLen:])
			}
			mb, err := c.DecodeBody(gc.msg.Type(), want[wire.HeaderLen:])
			if err != nil || !reflect.DeepEqual(mb, gc.msg) {
				t.Errorf("DecodeBody = %#v, %v; want %#v", mb, err, gc.msg)
			}
		})
	}
}

// TestGoldenCoverage keeps the table honest: every modelled message type,
// every ResyncReason variant (CorruptedState under both profiles), both
// states of every Option, and the PROTOCOL.md worked examples are present,
// and no .hex file lacks a table entry.
func TestGoldenCoverage(t *testing.T) {
	types := map[wire.MsgType]bool{}
	type reasonKey struct {
		kind    wire.ReasonKind
		profile string
	}
	reasons := map[reasonKey]bool{}
	options := map[string]bool{}
	names := map[string]bool{}
	var all strings.Builder
	for _, gc := range goldenCases {
		if names[gc.name] {
			t.Errorf("duplicate golden case %q", gc.name)
		}
		names[gc.name] = true
		types[gc.msg.Type()] = true
		all.WriteString(compactHex(gc.hex) + "|")
		profile := gc.codec().Profile().Name
		switch m := gc.msg.(type) {
		case *wire.ResyncRequest:
			reasons[reasonKey{m.Reason.Kind, profile}] = true
		case *wire.DeltaPush:
			options["DeltaPush.device_valid_time_ms:"+presence(m.DeviceValidTimeMs != nil)] = true
		case *wire.DeltaAck:
			options["DeltaAck.clock_skew_warning_ms:"+presence(m.ClockSkewWarningMs != nil)] = true
		case *wire.HandshakeAck:
			options["HandshakeAck.error:"+presence(m.Error != nil)] = true
		case *wire.DeltaReject:
			options["DeltaReject.compensation:"+presence(m.Compensation != nil)] = true
		}
	}
	for _, mt := range wire.KnownTypes() {
		if mt.Modelled() && !types[mt] {
			t.Errorf("no golden vector for modelled type %v", mt)
		}
	}
	for _, k := range []reasonKey{
		{wire.SequenceGap, wire.Zerompk04.Name},
		{wire.ChecksumMismatch, wire.Zerompk04.Name},
		{wire.CorruptedState, wire.Zerompk04.Name},
		{wire.CorruptedState, wire.Zerompk06.Name},
	} {
		if !reasons[k] {
			t.Errorf("no golden vector for %v under %s", k.kind, k.profile)
		}
	}
	for _, o := range []string{"DeltaPush.device_valid_time_ms", "DeltaAck.clock_skew_warning_ms", "HandshakeAck.error", "DeltaReject.compensation"} {
		for _, p := range []string{"present", "absent"} {
			if !options[o+":"+p] {
				t.Errorf("no golden vector with %s %s", o, p)
			}
		}
	}
	for _, want := range []string{
		"520600000093c3cd03e832",           // PROTOCOL.md Throttle frame
		"92ab53657175656e6365476170920205", // PROTOCOL.md SequenceGap{2,5}
		"d100c8",                           // i64 200
		"c400",                             // empty bin
	} {
		if !strings.Contains(all.String(), want) {
			t.Errorf("no golden vector contains %s", want)
		}
	}

	files, err := filepath.Glob(filepath.Join(goldenDir, "*.hex"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if name := strings.TrimSuffix(filepath.Base(f), ".hex"); !names[name] {
			t.Errorf("%s has no entry in goldenCases", f)
		}
	}
	if len(files) != len(goldenCases) {
		t.Errorf("%d golden files for %d cases", len(files), len(goldenCases))
	}
}

func presence(b bool) string {
	if b {
		return "present"
	}
	return "absent"
}

// TestNilAndEmptyEncodeAlike pins that a nil slice or map is written like
// an empty one (c4 00, 90, 80), never as nil (c0), which the Rust reader
// would refuse for a non-Option field; and that it decodes to the empty
// (non-nil) form, which is why the property tests normalise nil to empty.
func TestNilAndEmptyEncodeAlike(t *testing.T) {
	tests := []struct {
		name       string
		nil, empty wire.Message
	}{
		{"DeltaPush.delta", &wire.DeltaPush{}, &wire.DeltaPush{Delta: wire.Bytes{}}},
		{"ShapeSnapshot.data", &wire.ShapeSnapshot{}, &wire.ShapeSnapshot{Data: wire.Bytes{}}},
		{"ShapeDelta.delta", &wire.ShapeDelta{}, &wire.ShapeDelta{Delta: wire.Bytes{}}},
		{"Handshake", &wire.Handshake{}, &wire.Handshake{VectorClock: map[string]map[string]uint64{}, SubscribedShapes: []string{}}},
		{"HandshakeAck.server_clock", &wire.HandshakeAck{}, &wire.HandshakeAck{ServerClock: map[string]uint64{}}},
		{"VectorClockSync.clocks", &wire.VectorClockSync{}, &wire.VectorClockSync{Clocks: map[string]uint64{}}},
		{"ShapeSubscribe.field_filter", &wire.ShapeSubscribe{}, &wire.ShapeSubscribe{Shape: wire.ShapeDefinition{FieldFilter: []string{}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err1 := wire.Default.Encode(tt.nil)
			b, err2 := wire.Default.Encode(tt.empty)
			if err1 != nil || err2 != nil {
				t.Fatal(err1, err2)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("nil encodes as % x, empty as % x", a, b)
			}
			m, err := wire.Default.Decode(a)
			if err != nil || !reflect.DeepEqual(m, tt.empty) {
				t.Errorf("decoding the nil form gives %#v, %v; want the empty form %#v", m, err, tt.empty)
			}
		})
	}
}

func TestChecksum(t *testing.T) {
	tests := []struct {
		in   string
		want uint32
	}{
		{"123456789", 0xE3069283}, // PROTOCOL.md check value
		{"", 0},
	}
	for _, tt := range tests {
		if got := wire.Checksum([]byte(tt.in)); got != tt.want {
			t.Errorf("Checksum(%q) = %#08x, want %#08x", tt.in, got, tt.want)
		}
	}

	m := &wire.DeltaPush{Delta: wire.Bytes("123456789")}
	if !m.ChecksumOK() {
		t.Error("a zero checksum (legacy client) must be accepted")
	}
	m.Seal()
	if m.Checksum != 0xE3069283 || !m.ChecksumOK() {
		t.Errorf("after Seal checksum = %#08x, ChecksumOK = %v", m.Checksum, m.ChecksumOK())
	}
	m.Delta = slices.Concat(m.Delta, wire.Bytes{0})
	if m.ChecksumOK() {
		t.Error("ChecksumOK true after the delta changed")
	}
}
