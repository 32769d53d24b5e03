package wire

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"
)

func TestParseHex(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []byte
		err  string
	}{
		{"520600000093c3cd03e832", []byte{0x52, 6, 0, 0, 0, 0x93, 0xc3, 0xcd, 3, 0xe8, 0x32}, ""},
		{"  0x52 06\n00", []byte{0x52, 6, 0}, ""},
		{"0X5A", []byte{0x5a}, ""},
		{"", []byte{}, ""},
		{"52 0", nil, "odd number of hex digits (3); the digit at position 3"},
		{"52g0", nil, `'g' at position 2`},
		{"5é", nil, `'é' at position 1`},
	} {
		got, err := ParseHex(tc.in)
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) || err == nil && !bytes.Equal(got, tc.want) {
			t.Errorf("ParseHex(%q) = %x, %v; want %x, error %q", tc.in, got, err, tc.want, tc.err)
		}
	}
	if !LooksLikeHex([]byte("52 06\n")) || LooksLikeHex([]byte{0x52, 6, 0}) || LooksLikeHex([]byte("5")) {
		t.Error("LooksLikeHex")
	}
}

// What MessageToJSON writes, MessageFromJSON reads, also for a message
// built in Go with nil lists.
func TestJSONOfNilLists(t *testing.T) {
	for _, m := range []Message{&ShapeSubscribe{Shape: ShapeDefinition{ShapeID: "s"}}, &Handshake{JWTToken: "t"}} {
		js, err := MessageToJSON(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := MessageFromJSON(m.Type(), js); err != nil {
			t.Errorf("%s: %s does not read back: %v", m.Type(), js, err)
		}
	}
}

func TestUnitVariant(t *testing.T) {
	long := strings.Repeat("x", 40) // past fixstr's 31 bytes: str8
	for _, tc := range []struct {
		p    Profile
		name string
		want string
	}{
		{Zerompk04, "PermissionDenied", "92b0" + hex.EncodeToString([]byte("PermissionDenied")) + "c0"},
		{Zerompk06, "PermissionDenied", "b0" + hex.EncodeToString([]byte("PermissionDenied"))},
		{Zerompk06, long, "d928" + hex.EncodeToString([]byte(long))},
	} {
		if got := hex.EncodeToString(UnitVariant(tc.p, tc.name)); got != tc.want {
			t.Errorf("%s %q: %s, want %s", tc.p.Name, tc.name, got, tc.want)
		}
	}
}
