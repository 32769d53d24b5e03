package results

import (
	"fmt"
	"math"

	"github.com/syncsim/syncsim/sim"
)

// Limits of a result file that a report will draw. A file outside them was
// not written by simrun (or was edited): drawing it could take minutes and
// gigabytes (a time axis to 1e300 s, a node id of 99999), so it is refused
// with the field named. They are the simulator's own bounds with room:
// runs end within two simulated days, Lites number at most 4,096 (node 0
// is Origin), a series keeps at most sim.MaxPoints points.
const (
	MaxEndS      = 2*86400.0 + 3600
	MaxNode      = 4096
	MaxSeries    = 8 * (MaxNode + 1)
	MaxQueue     = 1 << 24
	maxFaultsRun = 1 << 22
)

// Validate checks that r holds what a simrun run can have written; the
// error names the first field that does not.
func (r *Run) Validate() error {
	secs := func(field string, v, lo, hi float64) error {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < lo || v > hi {
			return fmt.Errorf("%s: %g: want %g..%g seconds", field, v, lo, hi)
		}
		return nil
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"end_s", r.EndS}, {"heal_s", r.HealS}, {"budget_s", r.BudgetS}, {"wall_s", r.WallS}, {"metrics.max_starve_s", r.Metrics.MaxStarveS}} {
		if err := secs(f.name, f.v, 0, MaxEndS); err != nil {
			return err
		}
	}
	if c := r.ConvergeAfter; c != nil {
		if err := secs("converge_after_heal_s", *c, 0, MaxEndS); err != nil {
			return err
		}
	}
	if m := r.Metrics.ResyncRatio; math.IsNaN(m) || math.IsInf(m, 0) || m < 0 {
		return fmt.Errorf("metrics.resync_ratio: %g: want a finite ratio, 0 or more", m)
	}
	if v := r.Violation; v != nil {
		if err := secs("violation.at_s", v.AtS, 0, MaxEndS); err != nil {
			return err
		}
	}
	if q := r.Queue; q != nil && (q.Capacity < 0 || q.Capacity > MaxQueue || q.High < 0 || q.High > q.Capacity || q.Low < 0 || q.Low > q.High) {
		return fmt.Errorf("queue: capacity %d, high %d, low %d: want 0 <= low <= high <= capacity <= %d", q.Capacity, q.High, q.Low, MaxQueue)
	}
	if c := r.WireCounts; c != nil {
		if c.ThrottleOn < 0 || c.ThrottleOff < 0 || c.Snapshots < 0 || c.ControlKept < 0 || c.ControlNotKept < 0 {
			return fmt.Errorf("wire_counts: %+v: want counts of 0 or more", *c)
		}
		if err := secs("wire_counts.control_full_s", c.ControlFullS, 0, r.EndS); err != nil {
			return err
		}
		if c.ControlKept > MaxControlFrames || len(r.Control) > c.ControlKept || c.ControlNotKept > 0 && len(r.Control) != c.ControlKept {
			return fmt.Errorf("wire_counts: %d control frames kept of at most %d (control_kept_max), %d not kept: want the record full before any is not kept, and at most %d",
				len(r.Control), c.ControlKept, c.ControlNotKept, MaxControlFrames)
		}
	}
	if len(r.Faults) > maxFaultsRun {
		return fmt.Errorf("faults: %d events: at most %d", len(r.Faults), maxFaultsRun)
	}
	end := sim.Time(MaxEndS * float64(sim.Second))
	for i, e := range r.Faults {
		switch {
		case e.At < 0 || e.At > end:
			return fmt.Errorf("faults[%d].at_ns: %d: want 0..%d", i, e.At, end)
		case e.For < 0 || e.For > end:
			return fmt.Errorf("faults[%d].for_ns: %d: want 0..%d", i, e.For, end)
		case e.Node < 0 || e.Node > MaxNode || e.Peer < 0 || e.Peer > MaxNode:
			return fmt.Errorf("faults[%d]: node %d, peer %d: want 0..%d", i, e.Node, e.Peer, MaxNode)
		}
	}
	if len(r.Series) > MaxSeries {
		return fmt.Errorf("series: %d series: at most %d", len(r.Series), MaxSeries)
	}
	for i, s := range r.Series {
		at := fmt.Sprintf("series[%d]", i)
		switch {
		case s.Name == "":
			return fmt.Errorf("%s.name: is empty", at)
		case s.Node < 0 || s.Node > MaxNode:
			return fmt.Errorf("%s.node: %d: want 0..%d (0 is Origin)", at, s.Node, MaxNode)
		case len(s.Points) > sim.MaxPoints:
			return fmt.Errorf("%s.points: %d points: a series keeps at most %d", at, len(s.Points), sim.MaxPoints)
		}
		if err := secs(at+".every_s", s.EveryS, 0, MaxEndS); err != nil {
			return err
		}
		for j, p := range s.Points {
			if err := secs(fmt.Sprintf("%s.points[%d] time", at, j), p[0], 0, MaxEndS); err != nil {
				return err
			}
			if math.IsNaN(p[1]) || math.IsInf(p[1], 0) {
				return fmt.Errorf("%s.points[%d] value: %g: want a finite number", at, j, p[1])
			}
		}
	}
	return nil
}

// Validate checks every run of s (see Run.Validate).
func (s *Sweep) Validate() error {
	for i := range s.Runs {
		if err := s.Runs[i].Validate(); err != nil {
			return fmt.Errorf("runs[%d] (seed %d): %w", i, s.Runs[i].Seed, err)
		}
	}
	return nil
}
