package faults

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// Targets resolve through the topology's roles: nothing here assumes that
// node 0 is the Origin.
func TestTargetsFollowTheRoles(t *testing.T) {
	r := Roles{Origin: 3, Lites: []sim.NodeID{0, 1, 2}}
	must := func(s string) Target {
		tg, err := ParseTarget(s)
		if err != nil {
			t.Fatal(err)
		}
		return tg
	}
	if got := must("origin").nodes(r); !slices.Equal(got, []sim.NodeID{3}) {
		t.Errorf("origin: %v", got)
	}
	if got := must("lite:1").nodes(r); !slices.Equal(got, []sim.NodeID{0}) {
		t.Errorf("lite:1: %v", got)
	}
	if got := must("lites").nodes(r); !slices.Equal(got, []sim.NodeID{0, 1, 2}) {
		t.Errorf("lites: %v", got)
	}
	if got := must("all").nodes(r); !slices.Equal(got, []sim.NodeID{3, 0, 1, 2}) {
		t.Errorf("all: %v (the Origin first)", got)
	}
	if !must("origin").matchesFrame(r, 1, 3) || must("origin").matchesFrame(r, 1, 0) {
		t.Error("origin matches the wrong frames")
	}
	if !must("lite:2").matchesFrame(r, 3, 1) || must("lite:2").matchesFrame(r, 3, 0) {
		t.Error("lite:2 matches the wrong frames")
	}
	if err := (Plan{Heal: sim.Second, Specs: []Spec{{Kind: Crash, PerSecond: 1, Target: must("lite:4")}}}).Validate(r); err == nil ||
		!strings.Contains(err.Error(), "names Lite 4, the run has 3 Lites") {
		t.Errorf("lite:4 of 3: %v", err)
	}
}

// One form of a fault event: JSON with for_ns for durations and n for
// counts, and the older single "arg" still read, by kind.
func TestEventJSON(t *testing.T) {
	e := Event{At: 5, Kind: BitFlip, Node: 1, Peer: 0, Type: wire.TypeShapeDelta, Nth: 2, N: 77}
	b, err := json.Marshal(e)
	if err != nil || string(b) != `{"at_ns":5,"kind":"bitflip","node":1,"type":34,"nth":2,"n":77}` {
		t.Fatalf("marshal: %s %v", b, err)
	}
	var back Event
	if err := json.Unmarshal(b, &back); err != nil || back != e {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	for _, tc := range []struct {
		in   string
		want Event
		err  string
	}{
		{`{"at_ns":1,"kind":"partition","node":2,"arg":3000000}`, Event{At: 1, Kind: Partition, Node: 2, For: 3 * sim.Millisecond}, ""},
		{`{"at_ns":1,"kind":"burst","node":2,"arg":40}`, Event{At: 1, Kind: Burst, Node: 2, N: 40}, ""},
		{`{"at_ns":1,"kind":"burst","node":2,"arg":40,"n":40}`, Event{}, "not both"},
		{`{"at_ns":1,"kind":"burst","node":2,"bogus":1}`, Event{}, `unknown field "bogus"`},
	} {
		var got Event
		err := json.Unmarshal([]byte(tc.in), &got)
		if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) || err == nil && got != tc.want {
			t.Errorf("%s: %+v, %v; want %+v, error %q", tc.in, got, err, tc.want, tc.err)
		}
	}
	if s := (Event{At: sim.Second, Kind: Burst, Node: 2, N: 400}).String(); s != "1s burst node 2 n=400" {
		t.Errorf("String() = %q", s)
	}
}
