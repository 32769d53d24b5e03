// Package flatjson reads the one-line JSON objects of the external-node
// protocol fast: an object whose members are strings, numbers, booleans or
// null is scanned without reflection or allocation (beyond unescaping a
// string that has escapes); a member whose value is an object or an array
// is handed back raw, for encoding/json. It checks what it scans as
// strictly as encoding/json does.
package flatjson

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"unicode/utf8"
)

// Kind is a member value's JSON type.
type Kind uint8

// The kinds of value.
const (
	String Kind = iota + 1
	Number
	Bool
	Null
	Nested // an object or an array, in Raw as it was written
)

func (k Kind) String() string {
	switch k {
	case String:
		return "a string"
	case Number:
		return "a number"
	case Bool:
		return "a boolean"
	case Null:
		return "null"
	case Nested:
		return "an object or array"
	}
	return "?"
}

// Field is one member of an object. Key and Raw may point into the
// scanned bytes: valid while they are.
type Field struct {
	Key  []byte
	Kind Kind
	Raw  []byte // a string's contents, unescaped; a number's text; a nested value's JSON
	True bool   // a boolean's value
}

// Scan appends the members of the object b to fields, in order. A key
// given twice is an error (encoding/json would take the last silently).
func Scan(b []byte, fields []Field) ([]Field, error) {
	first := len(fields)
	s := scanner{b: b}
	s.space()
	if !s.eat('{') {
		return fields, s.errf("want a JSON object")
	}
	s.space()
	if s.eat('}') {
		return fields, s.end()
	}
	for {
		s.space()
		key, err := s.str()
		if err != nil {
			return fields, err
		}
		s.space()
		if !s.eat(':') {
			return fields, s.errf("want ':' after the key %q", key)
		}
		s.space()
		for _, g := range fields[first:] {
			if string(g.Key) == string(key) {
				return fields, s.errf("the key %q twice", key)
			}
		}
		f := Field{Key: key}
		if err := s.value(&f); err != nil {
			return fields, err
		}
		fields = append(fields, f)
		s.space()
		if s.eat(',') {
			continue
		}
		if s.eat('}') {
			return fields, s.end()
		}
		return fields, s.errf("want ',' or '}'")
	}
}

type scanner struct {
	b []byte
	i int
}

func (s *scanner) errf(format string, args ...any) error {
	return fmt.Errorf("at byte %d: %s", s.i, fmt.Sprintf(format, args...))
}

func (s *scanner) space() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\t' || s.b[s.i] == '\n' || s.b[s.i] == '\r') {
		s.i++
	}
}

func (s *scanner) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) end() error {
	s.space()
	if s.i != len(s.b) {
		return s.errf("data after the object")
	}
	return nil
}

// str reads a string, unescaping it only when it holds escapes.
func (s *scanner) str() ([]byte, error) {
	if !s.eat('"') {
		return nil, s.errf("want a string")
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			out := s.b[start:s.i]
			s.i++
			if !utf8.Valid(out) {
				return nil, s.errf("invalid UTF-8 in a string")
			}
			return out, nil
		case c == '\\':
			return s.unescape(start)
		case c < 0x20:
			return nil, s.errf("a control character in a string")
		}
		s.i++
	}
	return nil, s.errf("unterminated string")
}

func (s *scanner) unescape(start int) ([]byte, error) {
	out := append([]byte(nil), s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			if !utf8.Valid(out) {
				return nil, s.errf("invalid UTF-8 in a string")
			}
			return out, nil
		case c < 0x20:
			return nil, s.errf("a control character in a string")
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			break
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return nil, s.errf(`bad \u escape`)
			}
			if r >= 0xd800 && r < 0xdc00 && s.i+1 < len(s.b) && s.b[s.i] == '\\' && s.b[s.i+1] == 'u' {
				// A pair only with a low surrogate next, as encoding/json
				// reads it; otherwise the lone high one is U+FFFD and the
				// next escape stands alone.
				s.i += 2
				lo, ok := s.hex4()
				switch {
				case !ok:
					return nil, s.errf(`bad \u escape`)
				case lo >= 0xdc00 && lo < 0xe000:
					r = 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00)
				default:
					s.i -= 6
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, s.errf("bad escape \\%c", e)
		}
	}
	return nil, s.errf("unterminated string")
}

func (s *scanner) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	s.i += 4
	return r, true
}

func (s *scanner) value(f *Field) error {
	if s.i >= len(s.b) {
		return s.errf("want a value")
	}
	switch c := s.b[s.i]; {
	case c == '"':
		v, err := s.str()
		f.Kind, f.Raw = String, v
		return err
	case c == '{' || c == '[':
		start := s.i
		if err := s.skipNested(); err != nil {
			return err
		}
		f.Kind, f.Raw = Nested, s.b[start:s.i]
		return nil
	case c == 't' && s.lit("true"):
		f.Kind, f.True = Bool, true
	case c == 'f' && s.lit("false"):
		f.Kind = Bool
	case c == 'n' && s.lit("null"):
		f.Kind = Null
	case c == '-' || c >= '0' && c <= '9':
		start := s.i
		if err := s.number(); err != nil {
			return err
		}
		f.Kind, f.Raw = Number, s.b[start:s.i]
	default:
		return s.errf("want a value, not %q", c)
	}
	return nil
}

func (s *scanner) lit(w string) bool {
	if len(s.b)-s.i >= len(w) && string(s.b[s.i:s.i+len(w)]) == w {
		s.i += len(w)
		return true
	}
	return false
}

func (s *scanner) digits() int {
	n := 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
		s.i++
		n++
	}
	return n
}

// number reads a JSON number (RFC 8259 grammar).
func (s *scanner) number() error {
	s.eat('-')
	if s.eat('0') {
		if s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' {
			return s.errf("a number with a leading zero")
		}
	} else if s.digits() == 0 {
		return s.errf("want digits")
	}
	if s.eat('.') && s.digits() == 0 {
		return s.errf("want digits after '.'")
	}
	if s.eat('e') || s.eat('E') {
		if !s.eat('+') {
			s.eat('-')
		}
		if s.digits() == 0 {
			return s.errf("want digits in the exponent")
		}
	}
	return nil
}

// skipNested skips an object or array, strings and all, checking that it
// is valid JSON (encoding/json decodes it later).
func (s *scanner) skipNested() error {
	start := s.i
	var closers [64]byte // on the stack: probe lines come often
	n := 0
	for s.i < len(s.b) {
		switch c := s.b[s.i]; c {
		case '{', '[':
			if n == len(closers) {
				return s.errf("nested too deep")
			}
			closers[n] = c + 2 // '}' and ']' are '{'+2 and '['+2
			n++
		case '}', ']':
			if n == 0 || closers[n-1] != c {
				return s.errf("mismatched %q", c)
			}
			n--
			if n == 0 {
				s.i++
				if !json.Valid(s.b[start:s.i]) {
					return s.errf("invalid JSON in the value that starts at byte %d", start)
				}
				return nil
			}
		case '"':
			if _, err := s.str(); err != nil {
				return err
			}
			continue
		}
		s.i++
	}
	return s.errf("unterminated object or array")
}

// ErrType is wrapped by the errors of the typed accessors.
var ErrType = errors.New("wrong type")

// Uint reads f as an unsigned integer that fits bits.
func (f *Field) Uint(bits int) (uint64, error) {
	if f.Kind != Number {
		return 0, fmt.Errorf("%q is %s, want an unsigned integer: %w", f.Key, f.Kind, ErrType)
	}
	var v uint64
	for _, c := range f.Raw {
		d := uint64(c - '0')
		if c < '0' || c > '9' || v > (math.MaxUint64-d)/10 {
			return 0, fmt.Errorf("%q is %s, want an unsigned integer that fits 64 bits: %w", f.Key, f.Raw, ErrType)
		}
		v = v*10 + d
	}
	if bits < 64 && v >= 1<<bits {
		return 0, fmt.Errorf("%q is %d, more than %d bits: %w", f.Key, v, bits, ErrType)
	}
	return v, nil
}

// Int reads f as a signed integer.
func (f *Field) Int() (int64, error) {
	if f.Kind != Number {
		return 0, fmt.Errorf("%q is %s, want an integer: %w", f.Key, f.Kind, ErrType)
	}
	v, err := strconv.ParseInt(string(f.Raw), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is %s, want an integer: %w", f.Key, f.Raw, ErrType)
	}
	return v, nil
}

// Float reads f as a number.
func (f *Field) Float() (float64, error) {
	if f.Kind != Number {
		return 0, fmt.Errorf("%q is %s, want a number: %w", f.Key, f.Kind, ErrType)
	}
	v, err := strconv.ParseFloat(string(f.Raw), 64)
	if err != nil {
		return 0, fmt.Errorf("%q is %s, want a number: %w", f.Key, f.Raw, ErrType)
	}
	return v, nil
}

// Str reads f as a string.
func (f *Field) Str() (string, error) {
	if f.Kind != String {
		return "", fmt.Errorf("%q is %s, want a string: %w", f.Key, f.Kind, ErrType)
	}
	return string(f.Raw), nil
}

// Bool reads f as a boolean.
func (f *Field) Bool() (bool, error) {
	if f.Kind != Bool {
		return false, fmt.Errorf("%q is %s, want true or false: %w", f.Key, f.Kind, ErrType)
	}
	return f.True, nil
}

// AppendString appends s as a JSON string, escaped exactly as
// encoding/json escapes it (so that a line reads the same whichever wrote
// it): quotes, backslashes and control characters, the HTML-sensitive
// <, > and &, U+2028 and U+2029; invalid UTF-8 becomes U+FFFD.
func AppendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
