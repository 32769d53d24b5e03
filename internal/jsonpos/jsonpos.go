// Package jsonpos turns the byte offsets of encoding/json's errors into
// the line:column a person looks for in a file.
package jsonpos

import (
	"encoding/json"
	"errors"
	"fmt"
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
