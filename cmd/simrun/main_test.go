package main

// End-to-end tests: TestMain builds the simrun binary once and every test
// runs it as a separate process, checking exit status, stdout and stderr.

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/syncsim/syncsim/wire"
)

var binPath string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "simrun-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "simrun tests:", err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "simrun")
	if runtime.GOOS == "windows" {
		binPath += ".exe"
	}
	if out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "simrun tests: go build: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
	maxRSSKB       int64 // peak resident memory of the process
}

// simrun runs the binary with args and stdin (nil: no input) and returns
// what it did. Whatever the input, it must never panic.
func simrun(t *testing.T, stdin []byte, args ...string) result {
	t.Helper()
	return simrunWith(t, nil, stdin, args...)
}

// simrunEnv runs the binary with extra environment variables.
func simrunEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	return simrunWith(t, env, nil, args...)
}

func simrunWith(t *testing.T, env []string, stdin []byte, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binPath, args...)
	cmd.Env = append(os.Environ(), env...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if cmd.ProcessState != nil {
		if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
			r.maxRSSKB = int64(ru.Maxrss) // kilobytes on Linux
		}
	}
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() < 0 {
			t.Fatalf("simrun %q: %v (stderr %q)", args, err, r.stderr)
		}
		r.code = ee.ExitCode()
	}
	if strings.Contains(r.stderr, "panic") || strings.Contains(r.stderr, "goroutine ") {
		t.Fatalf("simrun %q printed a panic or stack trace:\n%s", args, r.stderr)
	}
	return r
}

// ok checks that r succeeded silently on stderr and returns its stdout.
func (r result) ok(t *testing.T, args []string) string {
	t.Helper()
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("simrun %q: exit %d, stderr %q; want exit 0 and no stderr", args, r.code, r.stderr)
	}
	return r.stdout
}

// oneLineError checks exit status 2 and exactly one line on stderr that
// mentions simrun and contains phrase.
func (r result) oneLineError(t *testing.T, args []string, phrase string) {
	t.Helper()
	if r.code != 2 {
		t.Errorf("simrun %q: exit %d, want 2 (stderr %q)", args, r.code, r.stderr)
	}
	if strings.Count(r.stderr, "\n") != 1 || !strings.HasSuffix(r.stderr, "\n") {
		t.Errorf("simrun %q: stderr is not exactly one line: %q", args, r.stderr)
	}
	if !strings.HasPrefix(r.stderr, "simrun") {
		t.Errorf("simrun %q: stderr %q does not start with simrun", args, r.stderr)
	}
	if !strings.Contains(r.stderr, phrase) {
		t.Errorf("simrun %q: stderr %q does not contain %q", args, r.stderr, phrase)
	}
}

const (
	throttleJSON = `{"throttle":true,"queue_depth":1000,"suggested_rate":50}`
	throttleHex  = "520600000093c3cd03e832"
)

func TestEncode(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		args  []string
		stdin string
		want  string
	}{
		{"throttle by name (PROTOCOL.md worked example)",
			[]string{"wire", "encode", "Throttle", throttleJSON}, "", throttleHex},
		{"throttle by type byte",
			[]string{"wire", "encode", "0x52", throttleJSON}, "", throttleHex},
		{"type name in any case, decimal byte",
			[]string{"wire", "encode", "tHrOtTlE", throttleJSON}, "", throttleHex},
		{"type as decimal byte",
			[]string{"wire", "encode", "82", throttleJSON}, "", throttleHex},
		{"JSON from stdin",
			[]string{"wire", "encode", "Throttle", "-"}, " " + throttleJSON + "\n", throttleHex},
		{"flags after the arguments",
			[]string{"wire", "encode", "Throttle", throttleJSON, "-profile", "zerompk-0.6"}, "", throttleHex},
		// ResyncRequest{SequenceGap{2,5}, from 2, ""}: 93 [92 ab "SequenceGap"
		// 92 02 05] 02 a0 is 19 = 0x13 body bytes; the enum example is
		// PROTOCOL.md's.
		{"sequence gap",
			[]string{"wire", "encode", "ResyncRequest", `{"reason":{"SequenceGap":{"expected":2,"received":5}},"from_mutation_id":2,"collection":""}`}, "",
			"5013000000" + "93" + "92ab53657175656e6365476170920205" + "02" + "a0"},
		// DeltaAck{1, 200, Some(200)}: lsn is a u64, so 200 is cc c8; the skew
		// is an i64, so 200 is d1 00 c8 (PROTOCOL.md). Body 93 01 cc c8 d1 00 c8
		// is 7 bytes.
		{"signed and unsigned forms",
			[]string{"wire", "encode", "DeltaAck", `{"mutation_id":1,"lsn":200,"clock_skew_warning_ms":200}`}, "",
			"1107000000" + "9301ccc8d100c8"},
		// A known but unmodelled type: the JSON value is the body.
		{"unmodelled type",
			[]string{"wire", "encode", "CollectionPurged", `["orders",5]`}, "",
			"1409000000" + "92a66f726465727305"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			var stdin []byte
			if c.stdin != "" {
				stdin = []byte(c.stdin)
			}
			out := simrun(t, stdin, c.args...).ok(t, c.args)
			if out != c.want+"\n" {
				t.Errorf("simrun %q printed %q, want %q", c.args, out, c.want+"\n")
			}
		})
	}
}

// TestEncodeProfiles: the unit variant CorruptedState is where the two
// profiles differ.
func TestEncodeProfiles(t *testing.T) {
	t.Parallel()
	const msg = `{"reason":"CorruptedState","from_mutation_id":0,"collection":""}`
	// "CorruptedState" is 14 bytes: fixstr ae, then
	// 43 6f 72 72 75 70 74 65 64 53 74 61 74 65.
	const name = "ae" + "436f727275707465645374617465"
	// zerompk-0.4 (default): the unit variant is [name, nil].
	// Body: 93 (3 fields) | 92 ae "CorruptedState" c0 | 00 | a0 (empty str)
	// = 1 + (1+15+1) + 1 + 1 = 20 = 0x14 bytes.
	const v04 = "50" + "14000000" + "93" + "92" + name + "c0" + "00" + "a0"
	// zerompk-0.6: the unit variant is the bare name.
	// Body: 93 | ae "CorruptedState" | 00 | a0 = 1 + 15 + 1 + 1 = 18 = 0x12.
	const v06 = "50" + "12000000" + "93" + name + "00" + "a0"
	for _, c := range []struct {
		flags []string
		want  string
	}{
		{nil, v04},
		{[]string{"-profile", "zerompk-0.4"}, v04},
		{[]string{"-profile", "zerompk-0.6"}, v06},
		{[]string{"-profile=zerompk-0.6"}, v06},
	} {
		args := append(append([]string{"wire", "encode"}, c.flags...), "ResyncRequest", msg)
		if out := simrun(t, nil, args...).ok(t, args); out != c.want+"\n" {
			t.Errorf("simrun %q printed %q, want %q", args, out, c.want+"\n")
		}
	}
	if v04 == v06 {
		t.Fatal("the profiles should differ")
	}
	// Each profile reads its own form and refuses the other's.
	r := simrun(t, nil, "wire", "decode", "-profile", "zerompk-0.6", v06)
	checkDecoded(t, r.ok(t, nil), []string{"ResyncRequest " + msg})
	simrun(t, nil, "wire", "decode", v06).oneLineError(t, []string{"decode", v06}, "byte 6")
	simrun(t, nil, "wire", "decode", "-profile", "zerompk-0.6", v04).oneLineError(t, []string{"decode 0.6", v04}, "does not read")
}

// roundTrips holds one JSON value per modelled type (some types several),
// with edge values: u64 max, negative and large i64, empty and full byte
// arrays, non-ASCII strings, nested maps, absent and present Options.
var roundTrips = []struct {
	typ  string
	json string
}{
	{"Handshake", `{"jwt_token":"eyJhbGciOi.x.y","vector_clock":{"orders":{"lite-1":5,"origin":18446744073709551615},"users":{}},"subscribed_shapes":["s1","s2"],"client_version":"0.1.0","lite_id":"lite-ü-1","epoch":3,"wire_version":65535}`},
	{"Handshake", `{"jwt_token":"","vector_clock":{},"subscribed_shapes":[],"client_version":"","lite_id":"","epoch":0,"wire_version":0}`},
	{"HandshakeAck", `{"success":false,"session_id":"sess-1","server_clock":{"orders":42,"users":0},"error":"bad token","fork_detected":true,"server_wire_version":1}`},
	{"HandshakeAck", `{"success":true,"session_id":"","server_clock":{},"error":null,"fork_detected":false,"server_wire_version":256}`},
	{"DeltaPush", `{"collection":"orders","document_id":"o1","delta":[0,1,127,128,255],"peer_id":7,"mutation_id":128,"checksum":4294967295,"device_valid_time_ms":-200}`},
	{"DeltaPush", `{"collection":"c","document_id":"","delta":[],"peer_id":18446744073709551615,"mutation_id":0,"checksum":0,"device_valid_time_ms":null}`},
	{"DeltaAck", `{"mutation_id":1,"lsn":200,"clock_skew_warning_ms":-9223372036854775808}`},
	{"DeltaAck", `{"mutation_id":65536,"lsn":4294967296,"clock_skew_warning_ms":null}`},
	{"DeltaReject", `{"mutation_id":9,"reason":"checksum mismatch","compensation":{"IntegrityViolation":{"expected":1,"got":[1,-2,"x"]}}}`},
	{"DeltaReject", `{"mutation_id":10,"reason":"","compensation":null}`},
	{"ShapeSubscribe", `{"shape":{"shape_id":"s1","tenant_id":3,"shape_type":{"Document":{"collection":"orders"}},"description":"all orders","field_filter":["status","total"]}}`},
	{"ShapeSnapshot", `{"shape_id":"s1","data":[1,2,3],"snapshot_lsn":100,"doc_count":3}`},
	{"ShapeDelta", `{"shape_id":"s1","collection":"orders","document_id":"o1","operation":"UPDATE","delta":[9],"lsn":101}`},
	{"VectorClockSync", `{"clocks":{"a":1,"b":300},"sender_id":65536}`},
	{"ResyncRequest", `{"reason":{"SequenceGap":{"expected":2,"received":5}},"from_mutation_id":2,"collection":"orders"}`},
	{"ResyncRequest", `{"reason":{"ChecksumMismatch":{"mutation_id":77}},"from_mutation_id":0,"collection":""}`},
	{"ResyncRequest", `{"reason":"CorruptedState","from_mutation_id":0,"collection":""}`},
	{"Throttle", throttleJSON},
	{"Throttle", `{"throttle":false,"queue_depth":0,"suggested_rate":0}`},
	{"PingPong", `{"timestamp_ms":1764000000000,"is_pong":true}`},
}

// TestRoundTrip encodes each message, decodes the frame, and checks the
// decoder prints the type name and the same JSON (compared as parsed JSON).
// Then it decodes all the frames at once, as hex and as raw bytes on stdin.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	covered := map[string]bool{}
	for _, c := range roundTrips {
		covered[c.typ] = true
	}
	for _, mt := range wire.KnownTypes() {
		if mt.Modelled() && !covered[mt.String()] {
			t.Errorf("modelled type %s has no round-trip case", mt)
		}
	}

	frames := make([]string, len(roundTrips))
	var want []string
	for i, c := range roundTrips {
		args := []string{"wire", "encode", c.typ, c.json}
		frames[i] = strings.TrimSuffix(simrun(t, nil, args...).ok(t, args), "\n")
		want = append(want, c.typ+" "+c.json)
		args = []string{"wire", "decode", frames[i]}
		checkDecoded(t, simrun(t, nil, args...).ok(t, args), want[i:i+1])
	}

	all := strings.Join(frames, "")
	t.Run("all frames as hex", func(t *testing.T) {
		t.Parallel()
		args := []string{"wire", "decode", all}
		checkDecoded(t, simrun(t, nil, args...).ok(t, args), want)
	})
	t.Run("all frames as hex with spaces and 0x", func(t *testing.T) {
		t.Parallel()
		args := []string{"wire", "decode", "0x" + strings.Join(frames, "\n  ") + "\n"}
		checkDecoded(t, simrun(t, nil, args...).ok(t, args), want)
	})
	t.Run("all frames raw on stdin", func(t *testing.T) {
		t.Parallel()
		raw, err := hex.DecodeString(all)
		if err != nil {
			t.Fatal(err)
		}
		args := []string{"wire", "decode", "-"}
		checkDecoded(t, simrun(t, raw, args...).ok(t, args), want)
	})
}

// checkDecoded compares decode's output lines with "TYPENAME JSON" lines,
// the JSON compared as values.
func checkDecoded(t *testing.T, out string, want []string) {
	t.Helper()
	got := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if out == "" {
		got = nil
	}
	if len(got) != len(want) {
		t.Fatalf("decode printed %d lines, want %d:\n%s", len(got), len(want), out)
	}
	for i := range want {
		gName, gJSON, _ := strings.Cut(got[i], " ")
		wName, wJSON, _ := strings.Cut(want[i], " ")
		if gName != wName {
			t.Errorf("line %d: type %q, want %q (line %q)", i, gName, wName, got[i])
			continue
		}
		if !sameJSON(t, gJSON, wJSON) {
			t.Errorf("line %d: %s JSON\n got %s\nwant %s", i, gName, gJSON, wJSON)
		}
	}
}

func sameJSON(t *testing.T, a, b string) bool {
	t.Helper()
	parse := func(s string) any {
		dec := json.NewDecoder(strings.NewReader(s))
		dec.UseNumber() // u64 and i64 extremes compare exactly
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("not JSON: %q: %v", s, err)
		}
		return v
	}
	return reflect.DeepEqual(parse(a), parse(b))
}

func TestDecode(t *testing.T) {
	t.Parallel()
	const purged = "1409000000" + "92a66f726465727305" // CollectionPurged ["orders",5]
	raw := func(h string) []byte {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cases := []struct {
		name  string
		args  []string
		stdin []byte
		want  []string
	}{
		{"worked example", []string{"wire", "decode", throttleHex}, nil,
			[]string{"Throttle " + throttleJSON}},
		{"uppercase hex, 0X prefix, whitespace", []string{"wire", "decode", " 0X5206 0000 00\t93C3CD03E832\n"}, nil,
			[]string{"Throttle " + throttleJSON}},
		{"two frames as hex", []string{"wire", "decode", throttleHex + purged}, nil,
			[]string{"Throttle " + throttleJSON, `CollectionPurged ["orders",5]`}},
		{"two frames raw on stdin", []string{"wire", "decode", "-"}, raw(purged + throttleHex),
			[]string{`CollectionPurged ["orders",5]`, "Throttle " + throttleJSON}},
		{"known but unmodelled type", []string{"wire", "decode", purged}, nil,
			[]string{`CollectionPurged ["orders",5]`}},
		{"-max-body exactly the body", []string{"wire", "decode", "-max-body", "6", throttleHex}, nil,
			[]string{"Throttle " + throttleJSON}},
		{"-- ends the flags", []string{"wire", "decode", "--", throttleHex}, nil,
			[]string{"Throttle " + throttleJSON}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			checkDecoded(t, simrun(t, c.stdin, c.args...).ok(t, c.args), c.want)
		})
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	bin := func(h string) []byte {
		b, err := hex.DecodeString(h)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	resync := func(reason string) string {
		return `{"reason":` + reason + `,"from_mutation_id":0,"collection":""}`
	}
	cases := []struct {
		name   string
		args   []string
		stdin  []byte
		phrase string
		stdout string // the frames printed before the bad one, if any
	}{
		{"no args", nil, nil, "no subcommand", ""},
		{"unknown subcommand", []string{"frobnicate"}, nil, `unknown subcommand "frobnicate"`, ""},
		{"unknown subcommand hints -h", []string{"frobnicate"}, nil, "simrun -h", ""},
		{"flag before subcommand", []string{"-v"}, nil, "unknown flag -v", ""},
		{"help for unknown subcommand", []string{"help", "frobnicate"}, nil, `unknown subcommand "frobnicate"`, ""},
		{"wire without verb", []string{"wire"}, nil, "missing verb", ""},
		{"decode of empty stdin", []string{"wire", "decode", "-"}, []byte{}, "no frame: stdin ended before the first byte", ""},
		{"unknown verb", []string{"wire", "transcode"}, nil, `unknown verb "transcode"`, ""},
		{"flag before verb", []string{"wire", "-profile", "zerompk-0.6", "decode", "52"}, nil, "flags go after encode or decode", ""},
		{"encode, one argument", []string{"wire", "encode", "Throttle"}, nil, "want 2 arguments", ""},
		{"encode, three arguments", []string{"wire", "encode", "Throttle", "{", "}"}, nil, "quote the JSON", ""},
		{"decode, no argument", []string{"wire", "decode"}, nil, "want 1 argument", ""},
		{"decode, two arguments", []string{"wire", "decode", "52", "06"}, nil, "want 1 argument", ""},
		{"unknown type name", []string{"wire", "encode", "Throttel", throttleJSON}, nil, `unknown message type "Throttel"`, ""},
		{"unknown type byte", []string{"wire", "encode", "0x99", "{}"}, nil, "0x99 is not a NodeDB sync type", ""},
		{"type byte out of range", []string{"wire", "encode", "0x100", "{}"}, nil, "not a byte", ""},
		{"malformed JSON", []string{"wire", "encode", "Throttle", `{"throttle" true}`}, nil, "malformed JSON at byte 12", ""},
		{"truncated JSON", []string{"wire", "encode", "Throttle", `{"throttle":tru`}, nil, "ends inside a value", ""},
		{"empty JSON on stdin", []string{"wire", "encode", "Throttle", "-"}, []byte(" \n"), "input is empty", ""},
		{"data after the JSON", []string{"wire", "encode", "CollectionPurged", `[1] [2]`}, nil, "more data after the JSON value", ""},
		{"multi-line JSON error stays one line", []string{"wire", "encode", "Throttle", "-"}, []byte("{\n\"throttle\":\ntrue,\n}"), "malformed JSON at byte 20", ""},
		{"JSON not an object", []string{"wire", "encode", "Throttle", `[true,1,2]`}, nil, "want a JSON object", ""},
		{"missing field", []string{"wire", "encode", "Throttle", `{"throttle":true,"queue_depth":1}`}, nil, `missing field "suggested_rate"`, ""},
		{"missing nested field", []string{"wire", "encode", "ResyncRequest", resync(`{"SequenceGap":{"expected":2}}`)}, nil, `missing field "received"`, ""},
		{"unknown field", []string{"wire", "encode", "Throttle", `{"throttle":true,"queue_depth":1,"suggested_rate":2,"bogus":0}`}, nil, `unknown field "bogus"`, ""},
		{"wrong field type", []string{"wire", "encode", "Throttle", `{"throttle":true,"queue_depth":-1,"suggested_rate":2}`}, nil, "queue_depth", ""},
		{"bad enum variant", []string{"wire", "encode", "ResyncRequest", resync(`"Bogus"`)}, nil, `unknown variant "Bogus"`, ""},
		{"unit variant given fields", []string{"wire", "encode", "ResyncRequest", resync(`{"CorruptedState":{"x":1}}`)}, nil, "has no fields", ""},
		{"odd-length hex", []string{"wire", "decode", "520"}, nil, "odd number of hex digits", ""},
		{"non-hex character", []string{"wire", "decode", "5206zz"}, nil, "'z' at position 4", ""},
		{"non-hex character after prefix and space", []string{"wire", "decode", "0x52 0g"}, nil, "'g' at position 6", ""},
		{"short header", []string{"wire", "decode", "520600"}, nil, "short header at byte 0", ""},
		{"short header after a frame", []string{"wire", "decode", throttleHex + "52"}, nil, "short header at byte 11",
			"Throttle " + throttleJSON + "\n"},
		{"short header on stdin", []string{"wire", "decode", "-"}, bin(throttleHex + "5206"), "short header at byte 11",
			"Throttle " + throttleJSON + "\n"},
		{"unknown type byte in frame", []string{"wire", "decode", "9900000000"}, nil, "unknown type byte at byte 0", ""},
		{"unknown type byte names it", []string{"wire", "decode", "9900000000"}, nil, "0x99", ""},
		{"unknown type byte after a frame", []string{"wire", "decode", throttleHex + "0000000000"}, nil, "unknown type byte at byte 11",
			"Throttle " + throttleJSON + "\n"},
		{"truncated body", []string{"wire", "decode", "520600000093c3"}, nil, "truncated body at byte 5", ""},
		{"truncated body on stdin", []string{"wire", "decode", "-"}, bin(throttleHex + "520600000093c3"), "truncated body at byte 16",
			"Throttle " + throttleJSON + "\n"},
		{"trailing bytes in body", []string{"wire", "decode", "520700000093c3cd03e83200"}, nil, "trailing bytes at byte 11", ""},
		{"trailing bytes in body on stdin", []string{"wire", "decode", "-"}, bin(throttleHex + "520700000093c3cd03e83200"), "trailing bytes at byte 22",
			"Throttle " + throttleJSON + "\n"},
		{"bad body field", []string{"wire", "decode", throttleHex + "520600000093c3cd03e8c2"}, nil, "byte 21",
			"Throttle " + throttleJSON + "\n"},
		{"bad body field names it", []string{"wire", "decode", "-"}, bin(throttleHex + "520600000093c3cd03e8c2"), "suggested_rate",
			"Throttle " + throttleJSON + "\n"},
		{"length over -max-body", []string{"wire", "decode", "-max-body", "5", throttleHex}, nil, "length over the limit at byte 1", ""},
		{"length over -max-body on stdin", []string{"wire", "decode", "-max-body", "5", "-"}, bin(throttleHex), "length over the limit at byte 1", ""},
		{"length over the default limit", []string{"wire", "decode", "52ffffffff"}, nil, "length over the limit", ""},
		{"hex text on stdin", []string{"wire", "decode", "-"}, []byte(throttleHex + "\n"), "looks like hex text", ""},
		{"bad -max-body", []string{"wire", "decode", "-max-body", "0", throttleHex}, nil, "-max-body 0", ""},
		{"non-numeric -max-body", []string{"wire", "decode", "-max-body", "lots", throttleHex}, nil, `invalid value "lots" for flag -max-body`, ""},
		{"bad profile name", []string{"wire", "decode", "-profile", "zerompk-0.5", throttleHex}, nil, "zerompk-0.4, zerompk-0.6", ""},
		{"bad profile name on encode", []string{"wire", "encode", "-profile", "nodedb-new", "Throttle", throttleJSON}, nil, `invalid value "nodedb-new" for flag -profile`, ""},
		{"bad flag", []string{"wire", "encode", "-bogus", "Throttle", throttleJSON}, nil, "flag provided but not defined: -bogus", ""},
		{"flag without value", []string{"wire", "decode", throttleHex, "-profile"}, nil, "flag needs an argument", ""},
		{"-max-body is not an encode flag", []string{"wire", "encode", "-max-body", "5", "Throttle", throttleJSON}, nil, "-max-body", ""},
		{"unrenderable opaque body", []string{"wire", "decode", "1409000000cb7ff8000000000001"}, nil, "cannot be shown as JSON", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := simrun(t, c.stdin, c.args...)
			r.oneLineError(t, c.args, c.phrase)
			if c.stdout != "" && r.stdout != c.stdout {
				t.Errorf("simrun %q: stdout %q, want %q", c.args, r.stdout, c.stdout)
			}
		})
	}
}

// TestUsage: -h and help print usage on stdout and exit 0; plain simrun
// prints it too but exits 2.
func TestUsage(t *testing.T) {
	t.Parallel()
	const example = `simrun wire encode Throttle '` + throttleJSON + `'`
	cases := []struct {
		args     []string
		contains []string
	}{
		{[]string{"-h"}, []string{"Commands:", "wire ", example, "520600000093c3cd03e832"}},
		{[]string{"--help"}, []string{"Commands:", example}},
		{[]string{"help"}, []string{"Commands:", example}},
		{[]string{"wire", "-h"}, []string{"simrun wire encode", "simrun wire decode", "-profile", "-max-body", example, "ResyncRequest(0x50)", "zerompk-0.6"}},
		{[]string{"wire", "help"}, []string{"simrun wire decode", example}},
		{[]string{"help", "wire"}, []string{"simrun wire decode", example}},
		{[]string{"wire", "encode", "-h"}, []string{"TYPE", "JSON", "-profile", example}},
		{[]string{"wire", "encode", "Throttle", "-h"}, []string{"TYPE", example}},
		{[]string{"wire", "decode", "-help"}, []string{"HEX", "-max-body", "simrun wire decode 520600000093c3cd03e832"}},
	}
	for _, c := range cases {
		out := simrun(t, nil, c.args...).ok(t, c.args)
		for _, s := range c.contains {
			if !strings.Contains(out, s) {
				t.Errorf("simrun %q: usage does not mention %q:\n%s", c.args, s, out)
			}
		}
	}
	r := simrun(t, nil)
	if !strings.Contains(r.stdout, "Commands:") {
		t.Errorf("simrun with no arguments: no usage on stdout: %q", r.stdout)
	}
	r = simrun(t, nil, "wire")
	if !strings.Contains(r.stdout, "simrun wire decode") {
		t.Errorf("simrun wire: no usage on stdout: %q", r.stdout)
	}
}
