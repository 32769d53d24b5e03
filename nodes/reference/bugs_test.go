package reference_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/syncsim/syncsim/check"
	"github.com/syncsim/syncsim/nodes/lite"
	"github.com/syncsim/syncsim/nodes/origin"
	"github.com/syncsim/syncsim/nodes/reference"
	"github.com/syncsim/syncsim/sim"
)

// Every bug switches something on, and no two switch on the same.
func TestBugsAreDistinct(t *testing.T) {
	seen := map[string]string{}
	for _, b := range reference.Catalogue() {
		var p reference.Config
		b.Configure(&p)
		if p.Lite.Bugs == (lite.Bugs{}) && p.Origin.Bugs == (origin.Bugs{}) {
			t.Errorf("%s switches nothing on", b.Name)
		}
		key := fmt.Sprintf("%+v %+v", p.Lite.Bugs, p.Origin.Bugs)
		if other, ok := seen[key]; ok {
			t.Errorf("%s and %s switch on the same flags", b.Name, other)
		}
		seen[key] = b.Name
	}
}

func TestLookupAndApply(t *testing.T) {
	for _, tc := range []struct {
		list    string
		wantErr string
	}{
		{"no-dedup", ""},
		{"nodedb-2026", "an implementation of its own: select it with -nodes nodedb-2026"},
		{"no-dedup, skip-crc-check", ""},
		{"no-such-bug", `no planted bug named "no-such-bug" (known: apply-past-gap,`},
		{"no-dedup,", `no planted bug named ""`},
	} {
		var p reference.Config
		err := reference.Apply(tc.list, &p)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("Apply(%q): %v", tc.list, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("Apply(%q) = %v, want an error containing %q", tc.list, err, tc.wantErr)
		}
	}
	var p reference.Config
	if err := reference.Apply("no-dedup,skip-crc-check", &p); err != nil {
		t.Fatal(err)
	}
	if got := p.Name(); got != "reference+no-dedup,skip-crc-check" {
		t.Errorf("name %q", got)
	}
	if want := (origin.Bugs{NoDedup: true, SkipCRCCheck: true}); p.Origin.Bugs != want || p.Lite.Bugs != (lite.Bugs{}) {
		t.Errorf("two bugs: origin %+v lite %+v, want origin %+v only", p.Origin.Bugs, p.Lite.Bugs, want)
	}
	names := reference.Names()
	if !slices.IsSorted(names) {
		t.Errorf("Names() = %v: not sorted", names)
	}
	for _, n := range names {
		if b, err := reference.Lookup(n); err != nil || b.Name != n {
			t.Errorf("Names() lists %q, which Lookup gives as %q, %v", n, b.Name, err)
		}
	}
}

// The reference nodes claim what they are built to keep, on the terms of
// their configuration, and say so in their name when bugs are planted.
func TestImplsClaimTheirProperties(t *testing.T) {
	var c reference.Config
	c.Origin.ThrottleBurst, c.Lite.QueueCap = 12, 64
	o, l := c.OriginImpl(), c.LiteImpl()
	for _, p := range []string{check.AckedNotLost, check.AppliedOnce, check.NoBadChecksum, check.ThrottleRate, check.Convergence} {
		if !o.Claims.Claims(p) {
			t.Errorf("origin does not claim %s", p)
		}
	}
	for _, p := range []string{check.InOrderApply, check.QueueCapacity, check.Convergence} {
		if !l.Claims.Claims(p) {
			t.Errorf("lite does not claim %s", p)
		}
	}
	if want := (sim.ThrottleTerms{DefaultRate: 50, Burst: 12, Lease: 5 * sim.Second}); o.Claims.Throttle == nil || *o.Claims.Throttle != want {
		t.Errorf("throttle terms %+v, want %+v", o.Claims.Throttle, want)
	}
	if want := (sim.QueueTerms{Capacity: 64, HighWater: 48, LowWater: 16}); l.Claims.Queue == nil || *l.Claims.Queue != want {
		t.Errorf("queue terms %+v, want %+v", l.Claims.Queue, want)
	}
	if o.Name != "reference" {
		t.Errorf("name %q", o.Name)
	}
	// The factory builds a node from the Env.
	n, err := l.New(sim.Env{ID: 2, Name: "lite2", Role: sim.RoleLite, Origin: 0, PeerID: 2, Collections: []string{"c0"}, Rand: sim.Stream(1, "x")})
	if err != nil || n == nil {
		t.Fatalf("New: %v %v", n, err)
	}
	var p sim.Probe
	n.Probe(&p)
	if len(p.Collections) != 1 || p.Collections[0].Name != "c0" || p.Connected {
		t.Fatalf("probe of a fresh lite: %+v", p)
	}
}
