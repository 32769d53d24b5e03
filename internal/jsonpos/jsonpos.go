// Package jsonpos turns the byte offsets of encoding/json's errors into
// the line:column a person looks for in a file.
package jsonpos

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
)

// LineCol names byte offset off of data as "line:column", both from 1.
func LineCol(data []byte, off int64) string {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	line, col := 1, 1
	for _, c := range data[:max(off, 0)] {
		if c == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fmt.Sprintf("%d:%d", line, col)
}

// Offset is the byte offset of what a decoding error of encoding/json is
// about, or -1 when it has none.
func Offset(err error) int64 {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return max(syn.Offset-1, 0) // encoding/json's is just past the bad byte
	case errors.As(err, &typ):
		return typ.Offset
	}
	return -1
}

// want describes what a value of Go type t looks like in JSON, for an
// error message a person reads without knowing the Go side: "a whole
// number", "an array", "an object".
func want(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return want(t.Elem())
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "a string"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "a value"
}

// Describe rewrites a decoding error of encoding/json for a person: the
// field path as the file spells it and the JSON kinds wanted and found,
// with no Go type names. It returns the byte offset the error points at
// (-1 when it has none) and the message; what names the whole document
// when the error is about it ("the scenario").
func Describe(err error, what string) (int64, string) {
	var typ *json.UnmarshalTypeError
	var syn *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF):
		return 0, fmt.Sprintf("empty: want %s, a JSON object", what)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return -1, "the JSON ends inside a value"
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return typ.Offset, fmt.Sprintf("want %s as %s, got JSON %s", what, want(typ.Type), typ.Value)
		}
		return typ.Offset, fmt.Sprintf("field %q: want %s, got JSON %s", field, want(typ.Type), typ.Value)
	case errors.As(err, &syn):
		return Offset(err), syn.Error()
	}
	return -1, err.Error()
}

// Error is a decoding error of encoding/json on data (a document called
// name, e.g. its path) as a person reads it: "name:line:col: message",
// the position at the offending byte (for an unknown field, its key; for
// input that ends too soon, its end) and the message from Describe.
func Error(name string, data []byte, err error, what string) error {
	off, msg := Describe(err, what)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		off = int64(len(bytes.TrimRight(data, " \t\r\n")))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		key := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		off, msg = KeyOffset(data, key), fmt.Sprintf("unknown field %q", key)
	}
	return fmt.Errorf("%s:%s: %s", name, LineCol(data, max(off, 0)), msg)
}

// KeyOffset is where "key" first appears as an object key in data (the
// best position encoding/json lets a caller name for a semantic error), or
// 0.
func KeyOffset(data []byte, key string) int64 {
	if i := bytes.Index(data, []byte(`"`+key+`"`)); i >= 0 {
		return int64(i)
	}
	return 0
}
