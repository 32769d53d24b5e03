package lite

import "testing"

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
