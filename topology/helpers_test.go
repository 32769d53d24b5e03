package topology

import (
	"github.com/syncsim/syncsim/nodes/lite"
	"github.com/syncsim/syncsim/nodes/origin"
	"github.com/syncsim/syncsim/nodes/reference"
	"github.com/syncsim/syncsim/sim"
)

// refDefaults is Defaults with the reference nodes in both roles.
func refDefaults() Params { return withRef(Defaults(), reference.Config{}) }

// withRef puts the reference nodes, configured by ref, in both roles of p.
func withRef(p Params, ref reference.Config) Params {
	p.Origin, p.Lite = ref.OriginImpl(), ref.LiteImpl()
	return p
}

// liteNode is Lite i (from 0) of c, which must be a reference Lite.
func liteNode(c *Cluster, i int) *lite.Lite { return c.World.Node(LiteID(i)).(*lite.Lite) }

// originNode is c's Origin, which must be the reference Origin.
func originNode(c *Cluster) *origin.Origin { return c.World.Node(OriginID).(*origin.Origin) }

// probe is node n's probe answer.
func probe(c *Cluster, n sim.NodeID) sim.Probe {
	var p sim.Probe
	c.World.Probe(n, &p)
	return p
}
