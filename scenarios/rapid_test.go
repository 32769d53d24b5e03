package scenarios

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/sim/cluster"
	"github.com/syncsim/syncsim/wire"
)

// Message types by direction: a frame fault is only meaningful on a type
// that actually travels that way.
var (
	upTypes   = []wire.MsgType{wire.TypeDeltaPush, wire.TypeHandshake, wire.TypeShapeSubscribe, wire.TypeResyncRequest, wire.TypeThrottle, wire.TypePingPong}
	downTypes = []wire.MsgType{wire.TypeShapeDelta, wire.TypeShapeSnapshot, wire.TypeDeltaAck, wire.TypeDeltaReject, wire.TypeHandshakeAck,
		wire.TypeVectorClockSync, wire.TypeResyncRequest, wire.TypePingPong}
	allKinds = append(append([]faults.Kind(nil), faults.FrameKinds...), faults.NodeKinds...)
)

// menu is what a schedule may draw from: fault kinds, and for some of them
// the one message type they hit (a scenario's "type" filter).
type menu struct {
	kinds []faults.Kind
	only  map[faults.Kind]wire.MsgType
}

// everything is the menu of every fault kind on every message type.
var everything = menu{kinds: allKinds}

// menuOf is the menu of scenario s's fault plan; everything for a swarm or
// a scenario without faults.
func menuOf(s *Scenario) (menu, error) {
	if s.Swarm || len(s.Faults) == 0 {
		return everything, nil
	}
	m := menu{only: map[faults.Kind]wire.MsgType{}}
	for _, f := range s.Faults {
		k := faults.Kind(f.Kind)
		m.kinds = append(m.kinds, k)
		if f.Type != "" {
			typ, err := frameType(f.Type)
			if err != nil {
				return m, err
			}
			m.only[k] = typ
		}
	}
	return m, nil
}

// genEvent draws one fault event of a schedule: rapid shrinks the list, and
// each event towards the first kind, time 0, Lite 1 and the smallest arg.
func genEvent(lites int, heal sim.Time, m menu) *rapid.Generator[faults.Event] {
	return rapid.Custom(func(t *rapid.T) faults.Event {
		e := faults.Event{Kind: rapid.SampledFrom(m.kinds).Draw(t, "kind"),
			At: sim.Time(rapid.Int64Range(0, int64(heal)-1).Draw(t, "at"))}
		if rapid.IntRange(0, 3).Draw(t, "late") == 3 {
			// Faults just before heal are the ones nothing after them
			// papers over: draw a good share there.
			e.At = heal - 1 - min(heal-1, sim.Time(rapid.Int64Range(0, int64(sim.Second)).Draw(t, "before heal")))
		}
		lite := sim.NodeID(rapid.IntRange(1, lites).Draw(t, "lite"))
		if typ, ok := m.only[e.Kind]; ok && e.Kind.IsFrame() {
			e.Node, e.Peer, e.Type = lite, 0, typ
			if !slices.Contains(upTypes, typ) {
				e.Node, e.Peer = 0, lite
			}
			e.Arg = sim.Time(rapid.Int64Range(1, 500).Draw(t, "ms")) * sim.Millisecond
			return e
		}
		if e.Kind.IsFrame() {
			if rapid.Bool().Draw(t, "downstream") {
				e.Node, e.Peer, e.Type = 0, lite, rapid.SampledFrom(downTypes).Draw(t, "type")
			} else {
				e.Node, e.Peer, e.Type = lite, 0, rapid.SampledFrom(upTypes).Draw(t, "type")
			}
			e.Arg = sim.Time(rapid.Int64Range(0, 1<<20).Draw(t, "arg")) // bit index, delay, length...: the fault clamps it
			switch e.Kind {
			case faults.Duplicate, faults.Delay, faults.Reorder:
				e.Arg = sim.Time(rapid.Int64Range(1, 500).Draw(t, "ms")) * sim.Millisecond
			case faults.BitFlip:
				e.Arg = sim.Time(rapid.Int64Range(int64(wire.HeaderLen*8), 400).Draw(t, "bit"))
			case faults.BadType:
				e.Arg = 0x99 // not a message type
			case faults.Truncate:
				e.Arg = sim.Time(rapid.Int64Range(0, 20).Draw(t, "len"))
			case faults.RewindLSN:
				e.Arg = sim.Time(rapid.Int64Range(1, 10).Draw(t, "by"))
			}
			return e
		}
		e.Node = lite
		if e.Kind == faults.Crash && rapid.Bool().Draw(t, "origin") {
			e.Node = 0
		}
		switch e.Kind {
		case faults.Burst:
			e.Arg = sim.Time(rapid.Int64Range(1, 300).Draw(t, "writes"))
		case faults.ClockSkew:
			e.Arg = sim.Time(rapid.Int64Range(-600, 600).Draw(t, "skew s")) * sim.Second
		default:
			e.Arg = sim.Time(rapid.Int64Range(1, 3000).Draw(t, "ms")) * sim.Millisecond
		}
		if e.Kind == faults.SlowConsumer {
			e.Factor = rapid.Float64Range(0.01, 0.5).Draw(t, "factor")
		}
		return e
	})
}

// genSchedule draws a fault schedule (sorted by time, as a recorded one is).
func genSchedule(lites int, heal sim.Time, m menu) *rapid.Generator[[]faults.Event] {
	return rapid.Custom(func(t *rapid.T) []faults.Event {
		evs := rapid.SliceOfN(genEvent(lites, heal, m), 0, 12).Draw(t, "schedule")
		for i := 1; i < len(evs); i++ { // insertion sort by time: stable and short
			for j := i; j > 0 && evs[j].At < evs[j-1].At; j-- {
				evs[j], evs[j-1] = evs[j-1], evs[j]
			}
		}
		return evs
	})
}

// genParams draws a workload and topology and attaches a drawn schedule.
func genParams(t *rapid.T) cluster.Params {
	p := cluster.Defaults()
	p.Seed = rapid.Uint64().Draw(t, "seed")
	p.Lites = rapid.IntRange(1, 4).Draw(t, "lites")
	p.Collections = rapid.IntRange(1, 3).Draw(t, "collections")
	p.Docs = rapid.IntRange(1, 50).Draw(t, "docs")
	p.LiteRate = float64(rapid.IntRange(0, 50).Draw(t, "lite rate"))
	p.OriginRate = float64(rapid.IntRange(0, 100).Draw(t, "origin rate"))
	p.WriteFor = sim.Time(rapid.IntRange(1, 8).Draw(t, "write for s")) * sim.Second
	p.Budget = 30 * sim.Second
	p.Faults = faults.Plan{Heal: p.WriteFor}
	p.Script = genSchedule(p.Lites, p.WriteFor, everything).Draw(t, "faults")
	return p
}

func describe(p cluster.Params) string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d, %d lites, %d collections, %d docs, writes %g/s at lites and %g/s at origin for %v; %d fault events:",
		p.Seed, p.Lites, p.Collections, p.Docs, p.LiteRate, p.OriginRate, p.WriteFor, len(p.Script))
	for _, e := range p.Script {
		b.WriteString("\n  " + e.String())
	}
	return b.String()
}

// TestRapidReferenceConverges: under any generated workload and fault
// schedule, the reference nodes keep every safety property and converge
// within the budget. `make test` runs rapid's default 100 checks; `make
// sweep` runs many more (-rapid.checks). A counterexample is shrunk and
// saved under testdata/rapid/, where later runs replay it first.
func TestRapidReferenceConverges(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		p := genParams(t)
		r, err := cluster.Run(p)
		if err != nil {
			t.Fatalf("%v", err)
		}
		if !r.Pass() {
			t.Fatalf("%v\n%s", r.Violation, describe(p))
		}
	})
}
