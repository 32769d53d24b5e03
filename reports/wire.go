package reports

import (
	"fmt"
	"math"
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

// wireThrottles are the throttle episodes per Lite node, from the Throttle
// frames delivered to Origin (nil when the result has no wire record).
func (d *runData) wireThrottles() map[int][]throttleEpisode {
	r := d.r
	if len(r.Control) == 0 {
		return nil
	}
	lease, def := 0.0, 0.0
	if th := r.Throttle; th != nil {
		lease, def = th.LeaseS, th.DefaultRate
	}
	out := map[int][]throttleEpisode{}
	open := map[int]*throttleEpisode{}
	asked := map[int]float64{}
	closeAt := func(lite int, at float64, why string) {
		ep := open[lite]
		ep.to, ep.end = at, why
		out[lite] = append(out[lite], *ep)
		delete(open, lite)
	}
	expire := func(lite int, now float64) {
		if ep := open[lite]; ep != nil && lease > 0 && now-asked[lite] >= lease {
			closeAt(lite, asked[lite]+lease, "lease")
		}
	}
	for _, f := range r.Control {
		if f.Dir != "recv" || f.To != 0 || f.Type != "Throttle" {
			continue
		}
		lite := f.From
		expire(lite, f.AtS)
		on, rate := throttleFrame(f.Text)
		if !on {
			if open[lite] != nil {
				closeAt(lite, f.AtS, "release")
			}
			continue
		}
		if rate == 0 {
			rate = def
		}
		if open[lite] == nil {
			open[lite] = &throttleEpisode{from: f.AtS}
		}
		open[lite].rates = append(open[lite].rates, [2]float64{f.AtS, rate})
		asked[lite] = f.AtS
	}
	for _, lite := range d.lites {
		expire(lite, d.end)
		if open[lite] != nil {
			closeAt(lite, math.Max(d.end, open[lite].from), "end")
		}
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
