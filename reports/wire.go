package reports

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/syncsim/syncsim/results"
)

// throttleEpisode is one stretch in which, by the Throttle frames Origin
// received, Origin owed a Lite a slower push rate: from a Throttle{on}
// until a Throttle{off}, the lease running out, or the end of the run.
// It is what the throttle-rate checker holds Origin to, whatever Origin
// says about itself.
type throttleEpisode struct {
	from, to float64
	rates    [][2]float64 // (arrival, rate asked for) of each Throttle{on}
	end      string       // "release", "lease" or "end"
}

// throttleFrame reads a delivered Throttle frame's text: on, and the rate
// asked for (0: the server default).
func throttleFrame(text string) (on bool, rate float64) {
	if !strings.HasPrefix(text, "Throttle{on") {
		return false, 0
	}
	if i := strings.Index(text, "rate "); i >= 0 {
		v, err := strconv.ParseFloat(strings.TrimRight(text[i+5:], "}"), 64)
		if err == nil {
			return true, v
		}
	}
	return true, 0
}

// ThrottleCounts counts the Throttle frames delivered to Origin over the
// whole run: engages or renewals, and releases. ok is false when the
// result has no wire record. A result of a build before wire_counts is
// counted from its control frames, which may stop short of the run's end
// (ControlNote says when they may have).
func ThrottleCounts(r *results.Run) (on, off int, ok bool) {
	if c := r.WireCounts; c != nil {
		return c.ThrottleOn, c.ThrottleOff, true
	}
	for _, f := range r.Control {
		if f.Dir == "recv" && f.Type == "Throttle" && f.To == 0 {
			if yes, _ := throttleFrame(f.Text); yes {
				on++
			} else if strings.HasPrefix(f.Text, "Throttle{off") {
				off++
			}
		}
	}
	return on, off, len(r.Control) > 0
}

// SnapshotCount counts the ShapeSnapshot frames delivered to Lites over the
// whole run, as ThrottleCounts counts Throttle frames.
func SnapshotCount(r *results.Run) (n int, ok bool) {
	if c := r.WireCounts; c != nil {
		return c.Snapshots, true
	}
	for _, f := range r.Control {
		if f.Dir == "recv" && f.Type == "ShapeSnapshot" {
			n++
		}
	}
	return n, len(r.Control) > 0
}

// ControlNote says, when the result's control frames stop short of the
// run's end, or may, where ("" when they do not).
func ControlNote(r *results.Run) string {
	end, ok := controlEnd(r)
	switch c := r.WireCounts; {
	case !ok:
		return ""
	case c != nil:
		return fmt.Sprintf("the wire record keeps the first %d control frames, to %s; %d more were delivered and not kept (the counts of Throttle and ShapeSnapshot frames include them)",
			c.ControlKept, secs(end), c.ControlNotKept)
	default:
		return fmt.Sprintf("the wire record holds %d control frames, to %s, the most it keeps, and this result's simrun did not count any after: counts and marks from it may stop there",
			len(r.Control), secs(end))
	}
}

// controlEnd is where the result's control frames stop short of the run's
// end; ok is false when they do not. A file from before wire_counts whose
// record is full may stop at its last frame: nothing says it does not.
func controlEnd(r *results.Run) (at float64, ok bool) {
	if c := r.WireCounts; c != nil {
		return c.ControlFullS, c.ControlNotKept > 0
	}
	if n := len(r.Control); n >= results.MaxControlFrames {
		return r.Control[n-1].AtS, true
	}
	return 0, false
}

// truncated reports whether the result's control frames stop short of the
// run's end, or may.
func truncated(r *results.Run) bool { _, ok := controlEnd(r); return ok }

// wireThrottles are the throttle episodes per Lite node, from the Throttle
// frames delivered to Origin (nil when the result has no wire record).
func (d *runData) wireThrottles() map[int][]throttleEpisode {
	if !d.episodesDone {
		d.episodes, d.episodesDone = d.throttleEpisodes(), true
	}
	return d.episodes
}

func (d *runData) throttleEpisodes() map[int][]throttleEpisode {
	r := d.r
	if len(r.Control) == 0 || truncated(r) {
		return nil // no record of the wire, or one that stops short: the series instead
	}
	lease, def := 0.0, 0.0
	if th := r.Throttle; th != nil {
		lease, def = th.LeaseS, th.DefaultRate
	}
	// By connection, as the checker keeps them: a throttle belongs to one
	// session, and a Lite's next connection starts unthrottled.
	out := map[int][]throttleEpisode{}
	open := map[uint64]*throttleEpisode{}
	lite := map[uint64]int{}
	asked := map[uint64]float64{}
	closeAt := func(conn uint64, at float64, why string) {
		ep := open[conn]
		ep.to, ep.end = at, why
		out[lite[conn]] = append(out[lite[conn]], *ep)
		delete(open, conn)
	}
	expire := func(conn uint64, now float64) {
		if ep := open[conn]; ep != nil && lease > 0 && now-asked[conn] >= lease {
			closeAt(conn, asked[conn]+lease, "lease")
		}
	}
	for _, f := range r.Control {
		if f.Dir != "recv" || f.To != 0 || f.Type != "Throttle" {
			continue
		}
		conn := f.Conn
		lite[conn] = f.From
		expire(conn, f.AtS)
		on, rate := throttleFrame(f.Text)
		if !on {
			if open[conn] != nil {
				closeAt(conn, f.AtS, "release")
			}
			continue
		}
		if rate == 0 {
			rate = def
		}
		if open[conn] == nil {
			open[conn] = &throttleEpisode{from: f.AtS}
		}
		open[conn].rates = append(open[conn].rates, [2]float64{f.AtS, rate})
		asked[conn] = f.AtS
	}
	for _, conn := range slices.Sorted(maps.Keys(open)) {
		expire(conn, d.end)
		if open[conn] != nil {
			closeAt(conn, math.Max(d.end, open[conn].from), "end")
		}
	}
	for id := range out { // episodes of one Lite on several connections, in time order
		slices.SortStableFunc(out[id], func(a, b throttleEpisode) int { return cmp.Compare(a.from, b.from) })
	}
	return out
}

// snapshots are the times ShapeSnapshot frames reached each Lite.
func (d *runData) snapshots() map[int][]float64 {
	out := map[int][]float64{}
	for _, f := range d.r.Control {
		if f.Dir == "recv" && f.Type == "ShapeSnapshot" && f.To != 0 {
			out[f.To] = append(out[f.To], f.AtS)
		}
	}
	return out
}

// faultParams are a fault's drawn or given values, in words.
func faultParams(kind string, forS float64, n int64, factor float64) string {
	var parts []string
	switch kind {
	case "slow-consumer":
		if factor > 0 {
			parts = append(parts, fmt.Sprintf("drains ×%s", num(factor)))
		}
	case "clock-skew":
		return "offset " + secs(forS)
	}
	if forS > 0 {
		parts = append(parts, secs(forS))
	}
	if n != 0 && kind != "slow-consumer" {
		parts = append(parts, fmt.Sprintf("n %d", n))
	}
	return strings.Join(parts, ", ")
}

// eventParams is faultParams of a scheduled fault.
func eventParams(e *results.Run, i int) string {
	ev := e.Faults[i]
	return faultParams(string(ev.Kind), ev.For.Seconds(), ev.N, ev.Factor)
}
