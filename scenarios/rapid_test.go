package scenarios

import (
	"cmp"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"testing"

	"pgregory.net/rapid"

	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/nodes/reference"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/topology"
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

// menu is what a schedule may draw from: fault kinds with their weights,
// and for some of them the one message type they hit (a scenario's "type"
// filter).
type menu struct {
	kinds   []faults.Kind
	weights []int // of kinds; nil: all alike
	only    map[faults.Kind]wire.MsgType
}

// everything is the menu of every fault kind on every message type.
var everything = menu{kinds: allKinds}

// menuOf is the menu of scenario s's fault plan (everything for a swarm or
// a scenario without faults). Kinds are weighted as the plan mixes them:
// frame kinds by their rates, node kinds by theirs, and the two classes
// alike (their rates are in different units).
func menuOf(s *Scenario) (menu, error) {
	if s.Swarm || len(s.Faults) == 0 {
		return everything, nil
	}
	m := menu{only: map[faults.Kind]wire.MsgType{}}
	var sum [2]float64 // frame, node
	class := func(k faults.Kind) int {
		if k.IsFrame() {
			return 0
		}
		return 1
	}
	for _, f := range s.Faults {
		k := faults.Kind(f.Kind)
		m.kinds = append(m.kinds, k)
		sum[class(k)] += f.Rate
		if f.Type != "" {
			typ, err := frameType(f.Type)
			if err != nil {
				return m, err
			}
			m.only[k] = typ
		}
	}
	for i, f := range s.Faults {
		m.weights = append(m.weights, max(1, int(1000*f.Rate/sum[class(m.kinds[i])]+0.5)))
	}
	return m, nil
}

// kind draws a kind of the menu.
func (m menu) kind(t *rapid.T) faults.Kind {
	if m.weights == nil {
		return m.kinds[uniform(t, int64(len(m.kinds)))]
	}
	return m.kinds[weighted(t, m.weights)]
}

var bit = rapid.Bool() // one unbiased bit

// uniform draws an integer in [0, n), every value about equally likely.
// rapid's integer generators favour small values: four draws in five of
// Int64Range over a 10 s write period (in ns) land in its first
// millisecond, which kept most faults of the old schedules at time 0. This
// draws unbiased bits instead, which rapid still shrinks towards 0.
func uniform(t *rapid.T, n int64) int64 {
	if n <= 1 {
		return 0
	}
	w := bits.Len64(uint64(n - 1))
	var v uint64
	for range w {
		v <<= 1
		if bit.Draw(t, "bit") {
			v |= 1
		}
	}
	// Scale the w bits onto [0, n): no rejection loop, so a shrunk
	// (all-zero) bitstream still ends, at 0.
	hi, _ := bits.Mul64(v<<(64-w), uint64(n))
	return int64(hi)
}

// weighted draws an index of weights, each in proportion to its weight
// (index 0 is what rapid shrinks towards).
func weighted(t *rapid.T, weights []int) int {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := int(uniform(t, int64(total)))
	for i, w := range weights {
		if x < w {
			return i
		}
		x -= w
	}
	return len(weights) - 1
}

// Weights of downTypes and upTypes (index by index), by how much of the
// traffic each type is: a fault on the wire hits a ShapeDelta or a
// DeltaPush far more often than a handshake.
var (
	downWeights = []int{8, 1, 2, 1, 1, 2, 1, 1} // ShapeDelta, ShapeSnapshot, DeltaAck, DeltaReject, HandshakeAck, VectorClockSync, ResyncRequest, PingPong
	upWeights   = []int{6, 1, 1, 2, 1, 1}       // DeltaPush, Handshake, ShapeSubscribe, ResyncRequest, Throttle, PingPong
)

// focus is what the events of one schedule share. The failures that take
// several faults take them on one Lite within a short while (a gap, its
// repair lost, a snapshot for another shape arriving meanwhile), and most
// often in the last moments before writes stop, where no later write
// reveals what went wrong: a schedule draws a window and a Lite, and most
// of its events fall in that window and on that Lite.
type focus struct {
	heal  sim.Time
	start sim.Time // the window is [start, start+span), within [0, heal)
	span  sim.Time
	lite  sim.NodeID
}

// spanWeights weights the window's lengths, 250 ms·2^i: short windows
// most, as the faults of a race fall close together; 4 s still holds a
// slow consumer's throttle and the release that ends it.
var spanWeights = []int{4, 2, 1, 1, 1} // 250 ms, 500 ms, 1 s, 2 s, 4 s

// maxEvents bounds a schedule's length (rapid draws 5 on average).
const maxEvents = 20

// genFocus draws a schedule's window and Lite. The window ends at heal
// three times in four, else it lies anywhere before heal.
func genFocus(t *rapid.T, lites int, heal sim.Time) focus {
	f := focus{heal: heal, lite: sim.NodeID(1 + uniform(t, int64(lites)))}
	f.span = min(heal, 250*sim.Millisecond<<weighted(t, spanWeights))
	f.start = heal - f.span
	if uniform(t, 4) == 3 {
		f.start = sim.Time(uniform(t, int64((heal-f.span)/sim.Millisecond)+1)) * sim.Millisecond
	}
	return f
}

// at draws an event's instant, to the millisecond (an event hits the first
// matching frame at or after its instant): in the window three times in
// four, else anywhere before heal.
func (f focus) at(t *rapid.T) sim.Time {
	if uniform(t, 4) < 3 {
		return f.start + sim.Time(uniform(t, int64(f.span/sim.Millisecond)))*sim.Millisecond
	}
	return sim.Time(uniform(t, int64(f.heal/sim.Millisecond))) * sim.Millisecond
}

// node draws an event's Lite: the focus seven times in eight.
func (f focus) node(t *rapid.T, lites int) sim.NodeID {
	if uniform(t, 8) < 7 {
		return f.lite
	}
	return sim.NodeID(1 + uniform(t, int64(lites)))
}

// ms draws a duration of lo..hi milliseconds.
func ms(t *rapid.T, lo, hi int64) sim.Time {
	return sim.Time(lo+uniform(t, hi-lo+1)) * sim.Millisecond
}

// genEvent draws one fault event of a schedule around f: rapid shrinks the
// list, and each event towards the first kind, the window's start, the
// focus Lite, the most common frame type and the smallest arg.
func genEvent(lites int, f focus, m menu) *rapid.Generator[faults.Event] {
	return rapid.Custom(func(t *rapid.T) faults.Event {
		e := drawEvent(t, lites, f, m)
		// What was drawn is a duration or a count, as the kind says.
		if e.Kind.Counts() {
			e.N, e.For = int64(e.For), 0
		}
		return e
	})
}

// drawEvent draws an event's fields, its argument in For whatever its
// kind (genEvent moves a count to N): the draws stay those the saved
// counterexamples under testdata/rapid replay.
func drawEvent(t *rapid.T, lites int, f focus, m menu) faults.Event {
	e := faults.Event{Kind: m.kind(t), At: f.at(t)}
	lite := f.node(t, lites)
	if typ, ok := m.only[e.Kind]; ok && e.Kind.IsFrame() {
		e.Node, e.Peer, e.Type = lite, 0, typ
		if !slices.Contains(upTypes, typ) {
			e.Node, e.Peer = 0, lite
		}
		e.For = ms(t, 1, 500)
		return e
	}
	if e.Kind.IsFrame() {
		if bit.Draw(t, "upstream") {
			e.Node, e.Peer, e.Type = lite, 0, upTypes[weighted(t, upWeights)]
		} else {
			e.Node, e.Peer, e.Type = 0, lite, downTypes[weighted(t, downWeights)]
		}
		e.For = sim.Time(uniform(t, 1<<10)) // bit index, delay, length...: the fault clamps it
		switch e.Kind {
		case faults.Duplicate, faults.Delay, faults.Reorder:
			e.For = ms(t, 1, 500)
		case faults.BitFlip:
			e.For = sim.Time(int64(wire.HeaderLen*8) + uniform(t, 400-int64(wire.HeaderLen*8)+1))
		case faults.BadType:
			e.For = 0x99 // not a message type
		case faults.Truncate:
			e.For = sim.Time(uniform(t, 21))
		case faults.RewindLSN:
			e.For = sim.Time(1 + uniform(t, 10))
		}
		return e
	}
	e.Node = lite
	if e.Kind == faults.Crash && bit.Draw(t, "origin") {
		e.Node = 0
	}
	switch e.Kind {
	case faults.Burst:
		e.For = sim.Time(1 + uniform(t, 300))
	case faults.ClockSkew:
		e.For = sim.Time(uniform(t, 601)) * sim.Second
		if bit.Draw(t, "behind") {
			e.For = -e.For
		}
	default:
		e.For = ms(t, 1, 3000)
	}
	if e.Kind == faults.SlowConsumer {
		e.Factor = float64(1+uniform(t, 50)) / 100 // 0.01..0.5
	}
	return e
}

// genSchedule draws a fault schedule (sorted by time, as a recorded one
// is): a focus, then up to maxEvents events around it.
func genSchedule(lites int, heal sim.Time, m menu) *rapid.Generator[[]faults.Event] {
	return rapid.Custom(func(t *rapid.T) []faults.Event {
		f := genFocus(t, lites, heal)
		evs := rapid.SliceOfN(genEvent(lites, f, m), 0, maxEvents).Draw(t, "schedule")
		slices.SortStableFunc(evs, func(a, b faults.Event) int { return cmp.Compare(a.At, b.At) })
		return evs
	})
}

// genParams draws a workload and topology and attaches a drawn schedule.
func genParams(t *rapid.T) topology.Params {
	p := defaults()
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

func describe(p topology.Params) string {
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
		r, err := topology.Run(p)
		if err != nil {
			t.Fatalf("%v", err)
		}
		if !r.Pass() {
			t.Fatalf("%v\n%s", r.Violation, describe(p))
		}
	})
}

// defaults is topology.Defaults with the reference nodes in both roles.
func defaults() topology.Params {
	p := topology.Defaults()
	var ref reference.Config
	p.Origin, p.Lite = ref.OriginImpl(), ref.LiteImpl()
	return p
}
