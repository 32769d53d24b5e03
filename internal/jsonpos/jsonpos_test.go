package jsonpos

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestLineCol(t *testing.T) {
	data := []byte("{\n  \"a\": 1,\n  \"b\": x\n}")
	for _, tc := range []struct {
		off  int64
		want string
	}{{0, "1:1"}, {2, "2:1"}, {18, "3:7"}, {999, "4:2"}, {-5, "1:1"}} {
		if got := LineCol(data, tc.off); got != tc.want {
			t.Errorf("LineCol(%d) = %s, want %s", tc.off, got, tc.want)
		}
	}
}

// Describe names JSON kinds, never Go types, and the field as the file
// spells it.
func TestDescribe(t *testing.T) {
	type inner struct {
		N uint64 `json:"n"`
	}
	type doc struct {
		Name  string   `json:"name"`
		Count int      `json:"count"`
		On    bool     `json:"on"`
		List  []string `json:"list"`
		In    inner    `json:"in"`
	}
	for _, tc := range []struct{ in, want string }{
		{``, "empty: want a doc, a JSON object"},
		{`[]`, "want a doc as an object, got JSON array"},
		{`{"name": 3}`, `field "name": want a string, got JSON number`},
		{`{"count": "3"}`, `field "count": want a whole number, got JSON string`},
		{`{"count": 1.5}`, `field "count": want a whole number, got JSON number 1.5`},
		{`{"on": "yes"}`, `field "on": want true or false, got JSON string`},
		{`{"list": {}}`, `field "list": want an array, got JSON object`},
		{`{"in": {"n": -1}}`, `field "in.n": want a whole number, 0 or more, got JSON number -1`},
		{`{"name": "x"`, "the JSON ends inside a value"},
	} {
		var d doc
		err := json.NewDecoder(strings.NewReader(tc.in)).Decode(&d)
		_, msg := Describe(err, "a doc")
		if msg != tc.want {
			t.Errorf("%s: %q, want %q", tc.in, msg, tc.want)
		}
		if strings.Contains(msg, "jsonpos.") || strings.Contains(msg, "uint64") || strings.Contains(msg, "Go ") {
			t.Errorf("%s: %q names Go", tc.in, msg)
		}
	}
}

// Error points at the offending byte, whatever the kind of mistake.
func TestError(t *testing.T) {
	type doc struct {
		Name string `json:"name"`
	}
	for _, tc := range []struct{ in, want string }{
		{"{\n  \"name\": \"x\",,\n}", `f.json:2:15: invalid character ','`},
		{"{\n  \"nmae\": \"x\"\n}", `f.json:2:3: unknown field "nmae"`},
		{"{\n  \"name\": \"x\",\n", "f.json:2:15: the JSON ends inside a value"},
		{"", "f.json:1:1: empty: want a doc, a JSON object"},
		{`{"name": 3}`, `f.json:1:11: field "name": want a string, got JSON number`},
	} {
		dec := json.NewDecoder(strings.NewReader(tc.in))
		dec.DisallowUnknownFields()
		var d doc
		err := Error("f.json", []byte(tc.in), dec.Decode(&d), "a doc")
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("%q: %v, want %q", tc.in, err, tc.want)
		}
	}
}
