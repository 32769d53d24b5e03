package lite

import (
	"testing"
	"unsafe"

	"github.com/syncsim/syncsim/wire"
)

// The incoming queue is a FIFO that grows to its capacity and no further,
// however often it wraps (the slice it replaces reached twice the capacity).
func TestDeltaQueueBounded(t *testing.T) {
	const capLen = 100
	var q deltaQueue
	in, out := uint64(0), uint64(0)
	for round := 0; round < 50; round++ {
		for q.n < capLen {
			in++
			*q.add(capLen) = queued{d: heldDelta{lsn: in}}
		}
		for i := 0; i < 37; i++ {
			out++
			if got := q.pop().d.lsn; got != out {
				t.Fatalf("round %d: popped LSN %d, want %d", round, got, out)
			}
		}
		if len(q.ring) > capLen {
			t.Fatalf("round %d: ring of %d for a capacity of %d", round, len(q.ring), capLen)
		}
	}
	for i := 0; i < q.n; i++ {
		if got := q.at(i).d.lsn; got != out+uint64(i)+1 {
			t.Fatalf("at(%d) = LSN %d, want %d", i, got, out+uint64(i)+1)
		}
	}
}

// TestQueuedDeltaIsAppliedAsSent covers what a queued delta keeps: its
// shape (by index), document and value, through the queue and the drain.
// An update with an empty or nil delta removes the document, as it did
// when the queue held the decoded slice itself (Origin rejects empty
// deltas, so none is ever committed).
func TestQueuedDeltaIsAppliedAsSent(t *testing.T) {
	for _, tc := range []struct {
		name  string
		coll  string
		op    string
		value []byte
		want  string // doc "a" of coll after; the other collection's stays "before"
	}{
		{"update, first shape", "c0", wire.OpUpdate, []byte("x"), "x"},
		{"update, second shape", "c1", wire.OpUpdate, []byte("y"), "y"},
		{"empty update", "c1", wire.OpUpdate, []byte{}, "<absent>"},
		{"nil update", "c0", wire.OpUpdate, nil, "<absent>"},
		{"delete", "c1", wire.OpDelete, []byte("ignored"), "<absent>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, r := newLite(t, Config{Collections: []string{"c0", "c1"}})
			conn := connect(t, l, r)
			for _, c := range []string{"c0", "c1"} {
				r.Deliver(conn, delta(c, 1, "a", "before"))
			}
			d := delta(tc.coll, 2, "a", "")
			d.Operation, d.Delta = tc.op, tc.value
			r.Deliver(conn, d) // Deliver scribbles over the frame after the step
			r.Advance(10 * ms)
			for _, c := range []string{"c0", "c1"} {
				want := tc.want
				if c != tc.coll {
					want = "before"
				}
				if got := doc(t, l, c, "a"); got != want {
					t.Errorf("%s/a = %q, want %q", c, got, want)
				}
			}
		})
	}
}

// TestQueuedDeltaSize keeps a queued delta at 48 bytes: at 1,024 Lites
// the full queues hold a million of them, and each byte more is a
// megabyte more for the collector to scan and the drain to read back.
func TestQueuedDeltaSize(t *testing.T) {
	if n := unsafe.Sizeof(queued{}); n > 48 {
		t.Fatalf("a queued delta is %d bytes, budget 48", n)
	}
}
