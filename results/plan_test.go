package results

import (
	"math"
	"slices"
	"strings"
	"testing"
)

func TestPlan(t *testing.T) {
	for _, tc := range []struct {
		p    Plan
		want []uint64
	}{
		{Plan{From: 1, Count: 5, Shards: 1}, []uint64{1, 2, 3, 4, 5}},
		{Plan{From: 1, Count: 10, Shard: 2, Shards: 4}, []uint64{2, 6, 10}},
		{Plan{From: 1, Count: 10, Shard: 0, Shards: 4}, []uint64{4, 8}},
		{Plan{From: 7, Count: 2, Shard: 3, Shards: 5}, []uint64{8}},
		{Plan{From: 7, Count: 2, Shard: 4, Shards: 5}, nil},
		{Plan{From: math.MaxUint64 - 2, Count: 3, Shards: 1}, []uint64{math.MaxUint64 - 2, math.MaxUint64 - 1, math.MaxUint64}},
	} {
		if err := tc.p.Validate(); err != nil {
			t.Fatalf("%+v: %v", tc.p, err)
		}
		got := slices.Collect(tc.p.Seeds())
		if !slices.Equal(got, tc.want) || tc.p.Len() != uint64(len(tc.want)) {
			t.Errorf("%+v: seeds %v (len %d), want %v", tc.p, got, tc.p.Len(), tc.want)
		}
		for i, want := range tc.want {
			if s, ok := tc.p.Nth(uint64(i)); !ok || s != want {
				t.Errorf("%+v: Nth(%d) = %d, %v; want %d", tc.p, i, s, ok, want)
			}
		}
		if _, ok := tc.p.Nth(uint64(len(tc.want))); ok {
			t.Errorf("%+v: Nth past the end is ok", tc.p)
		}
	}
	// Every seed in exactly one shard.
	seen := map[uint64]int{}
	for k := uint64(0); k < 7; k++ {
		for s := range (Plan{From: 3, Count: 100, Shard: k, Shards: 7}).Seeds() {
			seen[s]++
		}
	}
	for s := uint64(3); s < 103; s++ {
		if seen[s] != 1 {
			t.Errorf("seed %d is in %d shards, want 1", s, seen[s])
		}
	}
	if len(seen) != 100 {
		t.Fatalf("%d seeds covered, want 3..102", len(seen))
	}
	for _, tc := range []struct {
		p   Plan
		err string
	}{
		{Plan{From: 1, Count: 0, Shards: 1}, "no seeds"},
		{Plan{From: math.MaxUint64, Count: 10, Shards: 1}, "past 18446744073709551615 (seeds do not wrap)"},
		{Plan{From: 1, Count: 1, Shard: 2, Shards: 2}, "shard 2/2"},
	} {
		if err := tc.p.Validate(); err == nil || !strings.Contains(err.Error(), tc.err) {
			t.Errorf("%+v: %v, want %q", tc.p, err, tc.err)
		}
	}
	// A plan of a hundred billion seeds costs nothing until it runs.
	huge := Plan{From: 1, Count: 99999999999, Shards: 1}
	if huge.Validate() != nil || huge.Len() != 99999999999 {
		t.Fatal("huge plan")
	}
}
