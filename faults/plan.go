package faults

import (
	"fmt"
	"slices"
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

// Counts reports whether k's argument is a count (a bit index, a byte, a
// length, a number of writes or LSNs) rather than a duration.
func (k Kind) Counts() bool {
	switch k {
	case BitFlip, BadType, BadLength, Truncate, ForgeDelta, RewindLSN, Burst:
		return true
	}
	return false
}

// Roles says which node is the Origin and which are the Lites: the
// topology's numbering, through which targets and node faults resolve.
type Roles struct {
	Origin sim.NodeID
	Lites  []sim.NodeID // Lite i (from 0) is Lites[i]
}

// Nodes lists every node: the Origin, then the Lites.
func (r Roles) Nodes() []sim.NodeID { return append([]sim.NodeID{r.Origin}, r.Lites...) }

// has reports whether n is a node of the run.
func (r Roles) has(n sim.NodeID) bool { return n == r.Origin || slices.Contains(r.Lites, n) }

// Target says where a fault applies. Written as "all", "origin", "lites",
// "lite:N" (the Nth Lite, from 1) or "link:A->B" with A and B node ids.
type Target struct {
	Spec string
	kind targetKind
	n    int        // lite:N
	a, b sim.NodeID // link:A->B
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
		t.kind, t.n = tLite, n
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

// lite is the node of lite:N (-1 when the run has fewer Lites).
func (t Target) lite(r Roles) sim.NodeID {
	if t.n < 1 || t.n > len(r.Lites) {
		return -1
	}
	return r.Lites[t.n-1]
}

// matchesFrame reports whether a frame from→to is targeted.
func (t Target) matchesFrame(r Roles, from, to sim.NodeID) bool {
	switch t.kind {
	case tOrigin:
		return from == r.Origin || to == r.Origin
	case tLite:
		l := t.lite(r)
		return from == l || to == l
	case tLink:
		return from == t.a && to == t.b
	}
	return true // all, lites: every frame has a Lite end
}

// nodes returns the candidate nodes of a node fault (an event picks one
// of them), the Origin first where it is one.
func (t Target) nodes(r Roles) []sim.NodeID {
	switch t.kind {
	case tOrigin:
		return []sim.NodeID{r.Origin}
	case tLite:
		return []sim.NodeID{t.lite(r)}
	case tLink:
		return []sim.NodeID{t.a}
	case tLites:
		return append([]sim.NodeID(nil), r.Lites...)
	}
	return r.Nodes()
}

// Spec is one injector: a kind, an intensity, a window and a target.
type Spec struct {
	Kind Kind
	// Probability is a frame fault's chance per frame, in (0, 1].
	Probability float64
	// PerSecond is a node fault's mean rate, in events per simulated
	// second (a Poisson process within the window).
	PerSecond float64
	Start     sim.Time // window start
	End       sim.Time // window end; 0 means the plan's heal time
	Target    Target
	// For is how long: a delay, a reorder's bound, a duplicate's lag, a
	// partition, a downtime, a slow-down, a clock's offset.
	For sim.Time
	// N is a count: a burst's writes, a rewind's LSNs.
	N int
	// Factor is SlowConsumer's fraction of the drain rate kept (0..1).
	Factor float64
	// Type limits a frame fault to frames of one message type (0: any),
	// e.g. dropping only Throttle frames to lose a release.
	Type wire.MsgType
}

// Plan composes injectors. No fault fires at or after Heal.
type Plan struct {
	Specs []Spec
	Heal  sim.Time
}

// Validate reports the first spec that makes no sense, naming it, for a
// run whose nodes play roles r.
func (p Plan) Validate(r Roles) error {
	if p.Heal <= 0 {
		return fmt.Errorf("heal time %v: must be positive", p.Heal)
	}
	for i, s := range p.Specs {
		if err := s.validate(p.Heal, r); err != nil {
			return fmt.Errorf("fault %d (%s): %w", i+1, s.Kind, err)
		}
	}
	return nil
}

// SpecError is a problem with one field of a Spec.
type SpecError struct {
	Field string // kind, probability, per_second, start, target, for, n, factor, type
	Msg   string
}

func (e *SpecError) Error() string { return e.Msg }

func specErr(field, format string, args ...any) error {
	return &SpecError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

func (s Spec) validate(heal sim.Time, r Roles) error {
	frame := s.Kind.IsFrame()
	switch {
	case !s.Kind.valid():
		return specErr("kind", "unknown kind %q", s.Kind)
	case frame && (s.Probability <= 0 || s.Probability > 1):
		return specErr("probability", "probability %g: want a probability per frame in (0, 1]", s.Probability)
	case frame && s.PerSecond != 0:
		return specErr("per_second", "a frame fault has a probability per frame, not a rate per second")
	case !frame && s.PerSecond <= 0:
		return specErr("per_second", "rate %g: want events per second > 0", s.PerSecond)
	case !frame && s.Probability != 0:
		return specErr("probability", "a node fault has a rate per second, not a probability per frame")
	case s.Start < 0 || s.End < 0 || s.End != 0 && s.End <= s.Start:
		return specErr("start", "window [%v, %v) is empty or negative", s.Start, s.End)
	case s.Start >= heal:
		return specErr("start", "starts at %v, at or after heal (%v)", s.Start, heal)
	case s.For < 0:
		return specErr("for", "duration %v must not be negative", s.For)
	case s.N < 0:
		return specErr("n", "count %d must not be negative", s.N)
	case s.Kind == SlowConsumer && (s.Factor <= 0 || s.Factor >= 1):
		return specErr("factor", "factor %g: want 0 < factor < 1", s.Factor)
	case s.Type != 0 && !frame:
		return specErr("type", "a message type applies to frame faults only, not %s", s.Kind)
	case s.Type != 0 && !s.Type.Known():
		return specErr("type", "type 0x%02x is not a message type", byte(s.Type))
	}
	n := len(r.Lites) + 1
	switch s.Target.kind {
	case tLite:
		if s.Target.lite(r) < 0 {
			return specErr("target", "target %s names Lite %d, the run has %d Lites", s.Target.Spec, s.Target.n, len(r.Lites))
		}
	case tLink:
		for _, x := range []sim.NodeID{s.Target.a, s.Target.b} {
			if !r.has(x) {
				return specErr("target", "target %s names node %d, the run has %d nodes (0..%d)", s.Target.Spec, x, n, n-1)
			}
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
