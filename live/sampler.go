package live

import (
	"maps"
	"slices"

	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// maxPoints bounds a series: past it, every other point is dropped and
// the interval doubles, so a run of any length keeps bounded memory.
const maxPoints = 1 << 15

const sampleEvery = 100 * sim.Millisecond

// sampler turns what the proxy sees into the series the reports draw, per
// Lite, from frames alone: Origin's push rate, the lag of what reached the
// Lite behind what Origin sent anyone, whether the Lite asked for a
// throttle (and at what rate), and its resync requests.
type sampler struct {
	head  map[string]uint64 // per collection: the highest LSN Origin sent to anyone
	lites map[sim.NodeID]*liteWire
	names []string
	every sim.Time
	skip  int // record every skip-th sample
	n     int
	order []sim.NodeID
	out   map[string]map[sim.NodeID]*results.Series
	dec   *wire.Scratch
}

type liteWire struct {
	got      map[string]uint64 // per collection: the highest LSN delivered
	deltas   uint64            // ShapeDeltas Origin sent it since the last sample
	throttle bool
	rate     float64
	resyncs  uint64
}

var seriesNames = []string{"lag", "push_rate", "throttled", "throttle_rate", "resyncs_sent"}

// liteSeriesNames are the series a fleet of Lites records from their
// probes: the lag of each behind the furthest of them (Origin's own state
// is not visible), its queue, its unacked mutations, its throttle.
var liteSeriesNames = []string{"lag", "queue_depth", "unacked", "throttled"}

// newSampler records the series names, in that order in results.
func newSampler(names []string) *sampler {
	dec := wire.Default.NewScratch()
	dec.Alias = true
	return &sampler{names: names, head: map[string]uint64{}, lites: map[sim.NodeID]*liteWire{}, every: sampleEvery, skip: 1,
		out: map[string]map[sim.NodeID]*results.Series{}, dec: dec}
}

func (s *sampler) lite(n sim.NodeID) *liteWire {
	l := s.lites[n]
	if l == nil {
		l = &liteWire{got: map[string]uint64{}}
		s.lites[n] = l
		s.order = append(s.order, n)
	}
	return l
}

// sent sees a frame as sent.
func (s *sampler) sent(_ sim.Time, p *sim.Packet) {
	if p.From != OriginNode || p.Type != wire.TypeShapeDelta {
		return
	}
	if m, err := s.dec.Decode(p.Bytes); err == nil {
		d := m.(*wire.ShapeDelta)
		s.head[d.Collection] = max(s.head[d.Collection], d.LSN)
		s.lite(p.To).deltas++
	}
}

// delivered sees a frame arrive.
func (s *sampler) delivered(_ sim.Time, pr *pair, toOrigin bool, b []byte, altered bool) {
	if altered || len(b) == 0 || pr.lite == 0 {
		return
	}
	l := s.lite(pr.lite)
	t := wire.MsgType(b[0])
	switch {
	case toOrigin && t == wire.TypeThrottle:
		if m, err := s.dec.Decode(b); err == nil {
			th := m.(*wire.Throttle)
			l.throttle, l.rate = th.Throttle, float64(th.SuggestedRate)
		}
	case toOrigin && t == wire.TypeResyncRequest:
		l.resyncs++
	case !toOrigin && t == wire.TypeShapeDelta:
		if m, err := s.dec.Decode(b); err == nil {
			d := m.(*wire.ShapeDelta)
			l.got[d.Collection] = max(l.got[d.Collection], d.LSN)
		}
	case !toOrigin && t == wire.TypeShapeSnapshot:
		// A snapshot's collection is named by its shape; the lag catches
		// up with the deltas that follow it.
	}
}

// sample records one point of every series.
func (s *sampler) sample(now sim.Time) {
	if !s.due() {
		return // deltas keep counting until the sample that records them
	}
	for _, n := range s.order {
		l := s.lites[n]
		var lag uint64
		for c, h := range s.head {
			lag += h - min(h, l.got[c])
		}
		rate := float64(l.deltas) / s.every.Seconds() / float64(s.skip)
		l.deltas = 0
		vals := [...]float64{float64(lag), rate, b2f(l.throttle), l.rate, float64(l.resyncs)}
		for i, name := range seriesNames {
			s.record(name, n, now, vals[i])
		}
	}
}

// due counts a sample tick and reports whether it is recorded (every
// skip-th is, once series have been thinned).
func (s *sampler) due() bool {
	s.n++
	return s.n%s.skip == 0
}

func (s *sampler) record(name string, n sim.NodeID, now sim.Time, v float64) {
	m := s.out[name]
	if m == nil {
		m = map[sim.NodeID]*results.Series{}
		s.out[name] = m
	}
	sr := m[n]
	if sr == nil {
		sr = &results.Series{Name: name, Node: int(n), EveryS: (s.every * sim.Time(s.skip)).Seconds()}
		m[n] = sr
	}
	sr.Points = append(sr.Points, [2]float64{now.Seconds(), v})
	if len(sr.Points) >= maxPoints {
		s.thin()
	}
}

// thin halves every series and doubles the interval.
func (s *sampler) thin() {
	s.skip *= 2
	for _, m := range s.out {
		for _, sr := range m {
			kept := sr.Points[:0]
			for i, p := range sr.Points {
				if i%2 == 0 {
					kept = append(kept, p)
				}
			}
			sr.Points = kept
			sr.EveryS *= 2
		}
	}
}

// series returns every series, by name then node.
func (s *sampler) series() []results.Series {
	var out []results.Series
	for _, name := range s.names {
		for _, n := range slices.Sorted(maps.Keys(s.out[name])) {
			out = append(out, *s.out[name][n])
		}
	}
	return out
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
