// Package jsonpos turns the byte offsets of encoding/json's errors into
// the line:column a person looks for in a file.
package jsonpos

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
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

// Offset is the byte offset a decoding error of encoding/json points at,
// or -1 when it has none.
func Offset(err error) int64 {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return syn.Offset
	case errors.As(err, &typ):
		return typ.Offset
	}
	return -1
}

// Want describes what a value of Go type t looks like in JSON, for an
// error message a person reads without knowing the Go side: "a whole
// number", "an array", "an object".
func Want(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	switch t.Kind() {
	case reflect.Pointer:
		return Want(t.Elem())
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
			return typ.Offset, fmt.Sprintf("want %s as %s, got JSON %s", what, Want(typ.Type), typ.Value)
		}
		return typ.Offset, fmt.Sprintf("field %q: want %s, got JSON %s", field, Want(typ.Type), typ.Value)
	case errors.As(err, &syn):
		return syn.Offset, syn.Error()
	}
	return -1, err.Error()
}
