package flatjson

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestScan(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string // key=kind:raw ...
		err  string
	}{
		{`{"fx":"send","conn":3,"frame":"52ab"}`, `fx=1:send conn=2:3 frame=1:52ab`, ""},
		{` { "a" : true , "b":false,"c":null } `, `a=3: b=3: c=4:`, ""},
		{`{}`, ``, ""},
		{`{"s":"a\"b\\c\u00e9\n"}`, "s=1:a\"b\\cé\n", ""},
		{`{"s":"\ud83d\ude00"}`, "s=1:😀", ""},
		{`{"s":"\ud800\u0041"}`, "s=1:\uFFFDA", ""}, // a high surrogate without its low one
		{`{"s":"\ud800\ud800\udc00"}`, "s=1:\uFFFD\U00010000", ""},
		{`{"s":"\ud800x\udc00"}`, "s=1:\uFFFDx\uFFFD", ""},
		{`{"n":-1.5e+3,"z":0}`, `n=2:-1.5e+3 z=2:0`, ""},
		{`{"p":{"x":[1,"]}"]},"q":[{}]}`, `p=5:{"x":[1,"]}"]} q=5:[{}]`, ""},
		{`[1]`, "", "want a JSON object"},
		{`{"a":1,"a":2}`, "", `the key "a" twice`},
		{`{"a":1`, "", "want ',' or '}'"},
		{`{"a":01}`, "", "leading zero"},
		{`{"a":1.}`, "", "digits after '.'"},
		{`{"a":tru}`, "", "want a value"},
		{`{"a":"x}`, "", "unterminated string"},
		{`{"a":1} x`, "", "data after the object"},
		{`{a:1}`, "", "want a string"},
		{"{\"a\":\"\x01\"}", "", "control character"},
		{`{"a":"\x"}`, "", `bad escape`},
		{`{"a":"\u12"}`, "", `bad \u escape`},
		{"{\"a\":\"\xff\"}", "", "invalid UTF-8"},
		{`{"a":[1,2}`, "", "mismatched '}'"},
		{`{"a":[1,,2]}`, "", "invalid JSON in the value"},
		{`{"a":` + strings.Repeat("[", 70) + strings.Repeat("]", 70) + `}`, "", "nested too deep"},
	} {
		fs, err := Scan([]byte(tc.in), nil)
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
			t.Errorf("Scan(%s) = %v, want error %q", tc.in, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		var got []string
		for _, f := range fs {
			got = append(got, string(f.Key)+"="+string('0'+byte(f.Kind))+":"+string(f.Raw))
		}
		if strings.Join(got, " ") != tc.want {
			t.Errorf("Scan(%s) = %q, want %q", tc.in, strings.Join(got, " "), tc.want)
		}
	}
}

func TestAccessors(t *testing.T) {
	fs, err := Scan([]byte(`{"u":18446744073709551615,"o":18446744073709551616,"n":-3,"f":2.5,"s":"x","b":true}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := fs[0].Uint(64); err != nil || v != 1<<64-1 {
		t.Errorf("max uint: %d %v", v, err)
	}
	if _, err := fs[1].Uint(64); err == nil {
		t.Error("2^64 accepted as a uint64")
	}
	if _, err := fs[2].Uint(64); err == nil {
		t.Error("-3 accepted as unsigned")
	}
	if _, err := fs[0].Uint(32); err == nil {
		t.Error("2^64-1 accepted in 32 bits")
	}
	if v, err := fs[2].Int(); err != nil || v != -3 {
		t.Errorf("int %d %v", v, err)
	}
	if v, err := fs[3].Float(); err != nil || v != 2.5 {
		t.Errorf("float %v %v", v, err)
	}
	if v, err := fs[4].Str(); err != nil || v != "x" {
		t.Errorf("str %q %v", v, err)
	}
	if _, err := fs[4].Uint(64); err == nil || !strings.Contains(err.Error(), `"s" is a string`) {
		t.Errorf("string as a number: %v", err)
	}
	if v, err := fs[5].Bool(); err != nil || !v {
		t.Errorf("bool %v %v", v, err)
	}
}

// What Scan accepts, encoding/json reads as the same object.
func FuzzScanAgreesWithEncodingJSON(f *testing.F) {
	for _, s := range []string{`{"fx":"send","conn":3,"frame":"52ab"}`, `{"a":[1,{"b":"c"}],"d":null}`, `{"s":"\u00e9\\"}`, `{}`, `{"n":-0.5e3}`,
		`{"s":"\ud800\u0041"}`, `{"s":"\udc00\ud800"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		fs, err := Scan(b, nil)
		if err != nil {
			return
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("Scan accepted %q, encoding/json refuses it: %v", b, err)
		}
		if len(m) != len(fs) {
			t.Fatalf("%q: %d members, encoding/json sees %d", b, len(fs), len(m))
		}
		for _, fd := range fs {
			raw := m[string(fd.Key)]
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatal(err)
			}
			switch fd.Kind {
			case String:
				if s, ok := v.(string); !ok || s != string(fd.Raw) {
					t.Fatalf("%q: %q is %q, encoding/json reads %v", b, fd.Key, fd.Raw, v)
				}
			case Number:
				if _, ok := v.(float64); !ok {
					t.Fatalf("%q: %q is a number, encoding/json reads %v", b, fd.Key, v)
				}
			case Bool:
				if x, ok := v.(bool); !ok || x != fd.True {
					t.Fatalf("%q: %q is %v, encoding/json reads %v", b, fd.Key, fd.True, v)
				}
			case Null:
				if v != nil {
					t.Fatalf("%q: %q is null, encoding/json reads %v", b, fd.Key, v)
				}
			}
		}
	})
}

// AppendString writes what encoding/json writes.
func FuzzAppendStringIsEncodingJSON(f *testing.F) {
	for _, s := range []string{"c0", `a"b\c`, "<&>", "\u2028\u2029", "\xff\xfe", "tab\there\n", "é😀", "\x00\x1f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := AppendString(nil, s); string(got) != string(want) {
			t.Fatalf("AppendString(%q) = %s, encoding/json %s", s, got, want)
		}
	})
}
