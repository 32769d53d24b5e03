package sim

import "bytes"

// Divergence is where two traces of what should be the same run first
// differ.
type Divergence struct {
	Index int    // 0-based event index
	A, B  string // the two versions of that event ("" when a trace ended)
}

// FirstDivergence compares two JSON-lines traces event by event and
// returns the first difference, or nil when they are identical.
func FirstDivergence(a, b []byte) *Divergence {
	for i := 0; ; i++ {
		la, ra, okA := cutLine(a)
		lb, rb, okB := cutLine(b)
		if !okA && !okB {
			return nil
		}
		if !okA || !okB || !bytes.Equal(la, lb) {
			return &Divergence{Index: i, A: string(la), B: string(lb)}
		}
		a, b = ra, rb
	}
}

func cutLine(b []byte) (line, rest []byte, ok bool) {
	if len(b) == 0 {
		return nil, nil, false
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[:i], b[i+1:], true
	}
	return b, nil, true
}
