package nodedb

import "github.com/syncsim/syncsim/sim"

// ImplName is both roles' implementation name in reports.
const ImplName = "nodedb-2026"

// The properties each role claims. The Lite claims convergence only: its
// deltas merge whatever their order (no in-order-apply), and it has no
// bounded incoming queue (no queue-capacity). The Origin does not claim
// throttle-rate: it ignores Throttle. The names are package check's
// (spelled out: a node imports sim and wire, not the checkers; TestImpls
// holds them to check's constants, and the topology refuses an unknown
// one).
var (
	liteClaims   = []string{"convergence"}
	originClaims = []string{"acked-not-lost", "applied-at-most-once", "no-bad-checksum", "convergence"}
)

// LiteImpl is the Lite model as an implementation of the lite role; the
// zero LiteConfig is NodeDB's defaults. Whom it dials, its peer id and its
// collections come from the Env.
func LiteImpl(cfg LiteConfig) sim.Impl {
	cfg = cfg.WithDefaults()
	return sim.Impl{Name: ImplName, Claims: sim.Claims{Properties: liteClaims},
		New: func(env sim.Env) (sim.Node, error) { return NewLite(env, cfg), nil }}
}

// OriginImpl is the Origin model as an implementation of the origin role;
// the zero OriginConfig is NodeDB's defaults. Its collections come from
// the Env.
func OriginImpl(cfg OriginConfig) sim.Impl {
	cfg = cfg.WithDefaults()
	return sim.Impl{Name: ImplName, Claims: sim.Claims{Properties: originClaims, SharedLSN: true},
		New: func(env sim.Env) (sim.Node, error) { return NewOrigin(env, cfg), nil }}
}
