package sim

import "testing"

// A flow hands its arrivals back in the order they went in, across growth,
// shrinking and wrap-around, and reuses the rings it gave back.
func TestFlowKeepsOrder(t *testing.T) {
	var f flow
	var spare spareRings
	next, want := uint64(1), uint64(1)
	push := func(n int) {
		for i := 0; i < n; i++ {
			*f.add(&spare) = arrival{at: Time(next), seq: next}
			next++
		}
	}
	take := func(n int) {
		for i := 0; i < n; i++ {
			if a := f.take(); a.seq != want || a.at != Time(want) {
				t.Fatalf("took seq %d at %d, want %d", a.seq, a.at, want)
			}
			want++
		}
	}
	push(1000) // a burst: 8, 16, ... 1024
	if len(f.ring) != 1024 || f.n != 1000 {
		t.Fatalf("ring %d holding %d, want 1024 holding 1000", len(f.ring), f.n)
	}
	take(990)
	big := &f.ring[0]
	f.resize(len(f.ring)/4, &spare) // as World.arrive does once a burst drains
	take(5)
	push(300) // wraps, and grows again from the spares
	if len(f.ring) != 512 {
		t.Fatalf("ring %d, want 512", len(f.ring))
	}
	push(400)
	if &f.ring[0] != big {
		t.Errorf("the ring given back at 1,024 was not reused")
	}
	take(f.n)
	if want != next {
		t.Fatalf("took up to %d, pushed up to %d", want-1, next-1)
	}
}
