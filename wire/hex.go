package wire

import (
	"fmt"
	"unicode/utf8"
)

// ParseHex decodes frames written as hex text: pairs of hex digits,
// whitespace anywhere ignored, an optional 0x (or 0X) before the first
// digit. Errors name the position in s, counting bytes from 0.
func ParseHex(s string) ([]byte, error) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i+1 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') {
		i += 2
	}
	out := make([]byte, 0, (len(s)-i)/2)
	var hi byte
	digits, last := 0, 0
	for ; i < len(s); i++ {
		c := s[i]
		if isSpace(c) {
			continue
		}
		v, ok := hexDigit(c)
		if !ok {
			r, _ := utf8.DecodeRuneInString(s[i:])
			return nil, fmt.Errorf("invalid hex: %q at position %d (counting from 0) is not a hex digit", r, i)
		}
		if digits%2 == 0 {
			hi = v
		} else {
			out = append(out, hi<<4|v)
		}
		digits++
		last = i
	}
	if digits%2 != 0 {
		return nil, fmt.Errorf("invalid hex: odd number of hex digits (%d); the digit at position %d (counting from 0) has no partner", digits, last)
	}
	return out, nil
}

// LooksLikeHex reports whether b reads as hex text rather than frame bytes
// (to tell a user who piped hex where raw bytes were expected).
func LooksLikeHex(b []byte) bool {
	if len(b) < 2 {
		return false
	}
	for _, c := range b {
		if _, ok := hexDigit(c); !ok && !isSpace(c) && c != 'x' && c != 'X' {
			return false
		}
	}
	return true
}

func hexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}
