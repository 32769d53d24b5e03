// Package faults holds fault injectors that sit on the sim kernel's network
// (sim.Interceptor) and act on its nodes (crash, restart, reset). Every
// decision draws from the injector's own random stream and is recorded in
// the trace, so a run's faults are part of its hash.
//
// This first injector, Chaos, mixes frame faults at one intensity; the
// composable fault plans of issue 4 build on the same interception point.
package faults

import (
	"math/rand/v2"

	"github.com/syncsim/syncsim/sim"
)

// Chaos drops, duplicates, reorders and bit-flips frames, each with
// probability P, and refuses dials with probability 0.3, until Heal; after
// Heal it lets everything through.
type Chaos struct {
	P    float64
	Heal sim.Time
	rng  *rand.Rand
	w    *sim.World
}

// NewChaos returns a Chaos injector drawing from the "faults/chaos" stream
// of seed.
func NewChaos(seed uint64, p float64, heal sim.Time) *Chaos {
	return &Chaos{P: p, Heal: heal, rng: sim.Stream(seed, "faults/chaos")}
}

// Attach lets the injector record its decisions in w's trace.
func (c *Chaos) Attach(w *sim.World) { c.w = w }

func (c *Chaos) record(p *sim.Packet, kind string, a uint64) {
	if c.w != nil {
		c.w.RecordFault(p.From, p.To, p.Conn, kind, a, uint64(p.Type))
	}
}

// Intercept implements sim.Interceptor.
func (c *Chaos) Intercept(now sim.Time, p *sim.Packet, out []sim.Delivery) []sim.Delivery {
	if now >= c.Heal {
		return append(out, sim.Delivery{Bytes: p.Bytes})
	}
	switch x := c.rng.Float64(); {
	case x < c.P:
		c.record(p, "drop", 0)
		return out
	case x < 2*c.P:
		c.record(p, "duplicate", 0)
		return append(out, sim.Delivery{Bytes: p.Bytes}, sim.Delivery{Bytes: p.Bytes, Delay: 3 * sim.Millisecond})
	case x < 3*c.P:
		d := sim.Time(c.rng.Int64N(int64(50 * sim.Millisecond)))
		c.record(p, "reorder", uint64(d))
		return append(out, sim.Delivery{Bytes: p.Bytes, Delay: d, Unordered: true})
	case x < 4*c.P:
		b := append([]byte(nil), p.Bytes...)
		bit := c.rng.IntN(8 * len(b))
		b[bit/8] ^= 1 << (bit % 8)
		c.record(p, "bitflip", uint64(bit))
		return append(out, sim.Delivery{Bytes: b, Altered: true})
	}
	return append(out, sim.Delivery{Bytes: p.Bytes})
}

// AllowDial implements sim.Interceptor.
func (c *Chaos) AllowDial(now sim.Time, from, to sim.NodeID) bool {
	if now >= c.Heal || c.rng.Float64() > 0.3 {
		return true
	}
	if c.w != nil {
		c.w.RecordFault(from, to, 0, "refuse-dial", 0, 0)
	}
	return false
}

// ScheduleDisruptions schedules, before heal, `resets` connection resets of
// random nodes among 1..lites and one crash of a random node (0..lites)
// restarted within a second, drawing from the "faults/schedule" stream.
func ScheduleDisruptions(w *sim.World, seed uint64, lites, resets int, heal sim.Time) {
	r := sim.Stream(seed, "faults/schedule")
	span := max(int64(heal)-int64(sim.Second), 1)
	for k := 0; k < resets; k++ {
		at := sim.Time(r.Int64N(span))
		n := sim.NodeID(1 + r.IntN(lites))
		w.At(at, func(w *sim.World) {
			for _, c := range append([]sim.ConnID(nil), w.Conns(n)...) {
				w.RecordFault(n, 0, c, "reset", 0, 0)
				w.ResetConn(c)
			}
		})
	}
	at := sim.Time(r.Int64N(span))
	n := sim.NodeID(r.IntN(lites + 1))
	back := at + sim.Time(r.Int64N(int64(sim.Second)))
	w.At(at, func(w *sim.World) { w.RecordFault(n, 0, 0, "crash", 0, 0); w.Crash(n) })
	w.At(back, func(w *sim.World) { w.RecordFault(n, 0, 0, "restart", 0, 0); w.Restart(n) })
}
