package wire

import "testing"

// A short string with 8 bytes of the body from its start gets its cache
// slot from one masked load: the slot of its bytes, so that the same
// string read at a body's end (byte by byte) shares it.
func TestShortWordSlotIsInternSlot(t *testing.T) {
	data := make([]byte, 96)
	for i := range data {
		data[i] = byte(i*37 + 11)
	}
	for at := 0; at+8 <= len(data); at++ {
		for n := 1; n < 8; n++ {
			if got, want := slotOf(shortWord(data[at:], n), n), internSlot(data[at:at+n]); got != want {
				t.Fatalf("string of %d bytes at %d: slot %d, want %d", n, at, got, want)
			}
		}
	}
}
