// Package reference offers syncsim's reference nodes as implementations
// under test (sim.Impl): the Lite of nodes/lite and the Origin of
// nodes/origin, with the properties they claim, and the planted-bug
// catalogue: named defects switched on in their configuration, so that the
// harness can show which checker catches each one and how fast (its own
// mutation score). Several are NodeDB's real 2026 behaviours grafted onto
// the reference; NodeDB's nodes themselves are modelled in nodes/nodedb.
package reference

import (
	"strings"

	"github.com/syncsim/syncsim/check"
	"github.com/syncsim/syncsim/nodes/lite"
	"github.com/syncsim/syncsim/nodes/origin"
	"github.com/syncsim/syncsim/sim"
)

// Config is the reference nodes' configuration: one for the Origin, one
// every Lite shares, and the planted bugs switched on in them (by name,
// for reports).
type Config struct {
	Lite   lite.Config
	Origin origin.Config
	Bugs   []string
}

// Name is the implementation's name in reports: "reference", or
// "reference+BUG,..." with planted bugs.
func (c Config) Name() string {
	if len(c.Bugs) == 0 {
		return "reference"
	}
	return "reference+" + strings.Join(c.Bugs, ",")
}

// The properties each reference node claims.
var (
	originClaims = []string{check.AckedNotLost, check.AppliedOnce, check.NoBadChecksum, check.ThrottleRate, check.Convergence}
	liteClaims   = []string{check.InOrderApply, check.QueueCapacity, check.Convergence}
)

// OriginImpl is the reference Origin built with c.Origin (its Collections
// come from the Env). It claims the Origin's properties, on the throttle
// terms of its configuration: the one place their defaults live.
func (c Config) OriginImpl() sim.Impl {
	cfg := c.Origin.WithDefaults()
	return sim.Impl{Name: c.Name(),
		Claims: sim.Claims{Properties: originClaims,
			Throttle: &sim.ThrottleTerms{DefaultRate: cfg.DefaultRate, Burst: cfg.ThrottleBurst, Lease: cfg.ThrottleLease}},
		New: func(env sim.Env) (sim.Node, error) {
			oc := cfg
			oc.Collections = env.Collections
			return origin.New(oc), nil
		}}
}

// LiteImpl is the reference Lite built with c.Lite (Origin, PeerID and
// Collections come from the Env, its random stream too).
func (c Config) LiteImpl() sim.Impl {
	cfg := c.Lite.WithDefaults()
	return sim.Impl{Name: c.Name(),
		Claims: sim.Claims{Properties: liteClaims,
			Queue: &sim.QueueTerms{Capacity: cfg.QueueCap, HighWater: cfg.HighWater, LowWater: cfg.LowWater}},
		New: func(env sim.Env) (sim.Node, error) {
			lc := cfg
			lc.Origin, lc.PeerID, lc.Collections = env.Origin, env.PeerID, env.Collections
			return lite.New(lc, env.Rand), nil
		}}
}
