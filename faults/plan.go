package faults

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// Kind names a fault. The names are stable: they appear in plans, traces
// and schedule scripts.
type Kind string

// Frame faults act on frames in flight; Rate is a probability per frame.
const (
	Drop      Kind = "drop"       // the frame is lost
	Duplicate Kind = "duplicate"  // a second copy arrives Arg later (default 3 ms)
	Delay     Kind = "delay"      // a latency spike of Arg; FIFO holds, so later frames wait too
	Reorder   Kind = "reorder"    // the frame may overtake others by up to Arg (default 50 ms)
	BitFlip   Kind = "bitflip"    // one bit of the body flips
	BadType   Kind = "bad-type"   // the type byte becomes one the protocol does not have
	BadLength Kind = "bad-length" // the length field changes
	Truncate  Kind = "truncate"   // the frame loses its tail
)

// Protocol-aware frame faults decode the real message, change one field the
// protocol relies on and re-encode a valid frame: the decoder cannot catch
// them, a protocol guard must (docs/faults.md says which). Rate is a
// probability per frame of the message type they act on.
const (
	ForgeDelta    Kind = "forge-delta"    // a delta's payload altered; a DeltaPush's checksum recomputed to match (a buggy sender)
	ReplayOld     Kind = "replay-old"     // an older frame of the same link is delivered again (stale replay after reconnect or restart)
	StaleClock    Kind = "stale-clock"    // a Handshake's vector clock is rewound
	RewindLSN     Kind = "rewind-lsn"     // a ShapeDelta's LSN is lowered by Arg (default 5)
	DelayEngage   Kind = "delay-engage"   // a Throttle{true} is held back until its release has gone out, and arrives after it
	ResyncAncient Kind = "resync-ancient" // a ResyncRequest asks from LSN 1, a range Origin may no longer keep
)

// ProtocolKinds lists the protocol-aware frame faults.
var ProtocolKinds = []Kind{ForgeDelta, ReplayOld, StaleClock, RewindLSN, DelayEngage, ResyncAncient}

// Node faults happen at times drawn from a Poisson process of Rate events
// per simulated second within the window.
const (
	Partition       Kind = "partition"        // the target is cut off for Arg (frames dropped, dials refused)
	PartitionOneWay Kind = "partition-oneway" // only frames from the target are lost, for Arg
	Reset           Kind = "reset"            // the target's connections reset
	Crash           Kind = "crash"            // the target crashes and restarts Arg later
	CorruptDurable  Kind = "corrupt-durable"  // a Lite crashes, its durable state is damaged, it restarts Arg later
	SlowConsumer    Kind = "slow-consumer"    // a Lite drains at Factor of its rate for Arg
	Burst           Kind = "burst"            // the target writes Arg extra times at once
	ClockSkew       Kind = "clock-skew"       // a Lite's device clock is off by Arg for a while
)

// FrameKinds and NodeKinds list every kind, in a fixed order.
var (
	FrameKinds = []Kind{Drop, Duplicate, Delay, Reorder, BitFlip, BadType, BadLength, Truncate,
		ForgeDelta, ReplayOld, StaleClock, RewindLSN, DelayEngage, ResyncAncient}
	NodeKinds = []Kind{Partition, PartitionOneWay, Reset, Crash, CorruptDurable, SlowConsumer, Burst, ClockSkew}
)

// IsFrame reports whether k acts on frames.
func (k Kind) IsFrame() bool {
	for _, f := range FrameKinds {
		if f == k {
			return true
		}
	}
	return false
}

func (k Kind) valid() bool {
	if k.IsFrame() {
		return true
	}
	for _, n := range NodeKinds {
		if n == k {
			return true
		}
	}
	return false
}

// Target says where a fault applies. Written as "all", "origin", "lites",
// "lite:N" (N from 1) or "link:A->B" with A and B node ids (0 is Origin).
type Target struct {
	Spec string
	kind targetKind
	a, b sim.NodeID
}

type targetKind uint8

const (
	tAll targetKind = iota
	tOrigin
	tLites
	tLite
	tLink
)

// ParseTarget reads a target.
func ParseTarget(s string) (Target, error) {
	t := Target{Spec: s}
	switch {
	case s == "" || s == "all":
		t.Spec, t.kind = "all", tAll
	case s == "origin":
		t.kind = tOrigin
	case s == "lites":
		t.kind = tLites
	case strings.HasPrefix(s, "lite:"):
		n, err := strconv.Atoi(s[5:])
		if err != nil || n < 1 {
			return t, fmt.Errorf("target %q: want lite:N with N >= 1", s)
		}
		t.kind, t.a = tLite, sim.NodeID(n)
	case strings.HasPrefix(s, "link:"):
		a, b, ok := strings.Cut(s[5:], "->")
		x, err1 := strconv.Atoi(a)
		y, err2 := strconv.Atoi(b)
		if !ok || err1 != nil || err2 != nil || x < 0 || y < 0 || x == y {
			return t, fmt.Errorf("target %q: want link:A->B with two different node ids", s)
		}
		t.kind, t.a, t.b = tLink, sim.NodeID(x), sim.NodeID(y)
	default:
		return t, fmt.Errorf("target %q: want all, origin, lites, lite:N or link:A->B", s)
	}
	return t, nil
}

// matchesFrame reports whether a frame from→to is targeted.
func (t Target) matchesFrame(from, to sim.NodeID) bool {
	switch t.kind {
	case tOrigin:
		return from == 0 || to == 0
	case tLite:
		return from == t.a || to == t.a
	case tLink:
		return from == t.a && to == t.b
	}
	return true // all, lites: every frame has a Lite end
}

// nodes returns the candidate nodes of a node fault among n nodes (0 is
// Origin); an event picks one of them.
func (t Target) nodes(n int) []sim.NodeID {
	switch t.kind {
	case tOrigin:
		return []sim.NodeID{0}
	case tLite:
		return []sim.NodeID{t.a}
	case tLink:
		return []sim.NodeID{t.a}
	case tLites:
		out := make([]sim.NodeID, 0, n-1)
		for i := 1; i < n; i++ {
			out = append(out, sim.NodeID(i))
		}
		return out
	}
	out := make([]sim.NodeID, n)
	for i := range out {
		out[i] = sim.NodeID(i)
	}
	return out
}

// Spec is one injector: a kind, an intensity, a window and a target.
type Spec struct {
	Kind   Kind
	Rate   float64  // frame kinds: probability per frame (0..1]; node kinds: events per simulated second
	Start  sim.Time // window start
	End    sim.Time // window end; 0 means the plan's heal time
	Target Target
	Arg    sim.Time // magnitude: delay, downtime, duration, skew; writes for Burst
	Factor float64  // SlowConsumer: fraction of the drain rate kept (0..1)
	// Type limits a frame fault to frames of one message type (0: any),
	// e.g. dropping only Throttle frames to lose a release.
	Type wire.MsgType
}

// Plan composes injectors. No fault fires at or after Heal.
type Plan struct {
	Specs []Spec
	Heal  sim.Time
}

// Validate reports the first spec that makes no sense, naming it.
func (p Plan) Validate(nodes int) error {
	if p.Heal <= 0 {
		return fmt.Errorf("heal time %v: must be positive", p.Heal)
	}
	for i, s := range p.Specs {
		where := fmt.Sprintf("fault %d (%s)", i+1, s.Kind)
		switch {
		case !s.Kind.valid():
			return fmt.Errorf("fault %d: unknown kind %q", i+1, s.Kind)
		case s.Rate <= 0 || s.Kind.IsFrame() && s.Rate > 1:
			return fmt.Errorf("%s: rate %g: want a probability in (0, 1] for frame faults, events/s > 0 for node faults", where, s.Rate)
		case s.Start < 0 || s.End < 0 || s.End != 0 && s.End <= s.Start:
			return fmt.Errorf("%s: window [%v, %v) is empty or negative", where, s.Start, s.End)
		case s.Start >= p.Heal:
			return fmt.Errorf("%s: starts at %v, at or after heal (%v)", where, s.Start, p.Heal)
		case s.Arg < 0:
			return fmt.Errorf("%s: arg %v must not be negative", where, s.Arg)
		case s.Kind == SlowConsumer && (s.Factor <= 0 || s.Factor >= 1):
			return fmt.Errorf("%s: factor %g: want 0 < factor < 1", where, s.Factor)
		case s.Type != 0 && !s.Kind.IsFrame():
			return fmt.Errorf("%s: type applies to frame faults only", where)
		case s.Type != 0 && !s.Type.Known():
			return fmt.Errorf("%s: type 0x%02x is not a message type", where, byte(s.Type))
		}
		for _, n := range s.Target.nodes(nodes) {
			if int(n) >= nodes {
				return fmt.Errorf("%s: target %s names node %d, the run has %d nodes (0..%d)", where, s.Target.Spec, n, nodes, nodes-1)
			}
		}
		if s.Target.kind == tLink && int(s.Target.b) >= nodes {
			return fmt.Errorf("%s: target %s names node %d, the run has %d nodes", where, s.Target.Spec, s.Target.b, nodes)
		}
	}
	return nil
}

func (s Spec) end(heal sim.Time) sim.Time {
	if s.End == 0 || s.End > heal {
		return heal
	}
	return s.End
}

// Kinds lists the distinct kinds a plan uses, in plan order.
func (p Plan) Kinds() []Kind {
	var out []Kind
	seen := map[Kind]bool{}
	for _, s := range p.Specs {
		if !seen[s.Kind] {
			seen[s.Kind] = true
			out = append(out, s.Kind)
		}
	}
	return out
}
