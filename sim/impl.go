package sim

import (
	"fmt"
	"math/rand/v2"
)

// Role is the part a node plays in a topology.
type Role uint8

// The roles.
const (
	RoleOrigin Role = iota + 1
	RoleLite
)

func (r Role) String() string {
	switch r {
	case RoleOrigin:
		return "origin"
	case RoleLite:
		return "lite"
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// Env is what a node is told when it is built: who it is, whom it talks to
// and what it serves. The topology fills it in.
type Env struct {
	ID   NodeID
	Name string // "origin", "lite1", ...: the node's name in traces and reports
	Role Role
	// Origin is the node a Lite dials.
	Origin NodeID
	// PeerID is a Lite's peer id on the wire (DeltaPush.peer_id; its
	// lite_id is the same number in decimal).
	PeerID uint64
	// Collections are those Origin serves, or those a Lite subscribes to
	// (one shape each), in a fixed order.
	Collections []string
	// Seed is the node's own 128-bit seed, derived from the run's root
	// seed and the node's name (NodeSeed), and Rand the stream it keys
	// (rand.NewPCG(Seed[0], Seed[1])): a Go node draws from Rand, an
	// implementation elsewhere (a process) seeds its generator with Seed.
	Seed [2]uint64
	Rand *rand.Rand
}

// NodeSeed is the seed of the node called name in a run with root seed
// root: Stream(root, "node/"+name) is the stream it keys.
func NodeSeed(root uint64, name string) [2]uint64 { return StreamSeed(root, "node/"+name) }

// Failer is a node that can break down for reasons outside the protocol:
// an external process that exits, hangs or writes what the contract does
// not allow. After each of its steps and probes the kernel asks; a failure
// ends the run (World.Failure), reported as a node error, not as a
// property the node broke.
type Failer interface {
	Failure() error
}

// Claimer is a node that knows its claims only once it runs (an external
// process declares them when it starts); the topology takes them in place
// of its Impl's.
type Claimer interface {
	Claims() Claims
}

// Impl is one implementation of a role: how to build a node of it, and
// what it promises. The topology takes one per role, so any mix runs:
// reference Lites against another Origin, or the reverse.
type Impl struct {
	// Name says which implementation this is in reports ("reference",
	// "reference+no-dedup", ...).
	Name   string
	Claims Claims
	New    func(env Env) (Node, error)
}

// Claims are what an implementation promises; a property it does not
// claim is not checked on it, and reports say so.
type Claims struct {
	// Properties names the properties it claims (package check's names).
	Properties []string
	// Throttle is how an Origin paces a session after Throttle{true}: the
	// terms the throttle-rate property holds it to.
	Throttle *ThrottleTerms
	// Queue is a Lite's incoming queue: the capacity queue-capacity holds
	// it to, and the depths at which it asks for and releases a throttle
	// (drawn in reports).
	Queue *QueueTerms
	// SharedLSN says an Origin's LSNs are positions in one log of all
	// collections (NodeDB's WAL), so a snapshot of a collection carries a
	// position past its last commit: a Lite holding the same contents at a
	// higher LSN than the Origin's probe reports for it has converged.
	// Without it, LSNs count each collection's commits and must be equal.
	SharedLSN bool
}

// Claims reports whether c claims property.
func (c Claims) Claims(property string) bool {
	for _, p := range c.Properties {
		if p == property {
			return true
		}
	}
	return false
}

// ThrottleTerms are an Origin's pacing promise.
type ThrottleTerms struct {
	DefaultRate float64 // deltas/s that a Throttle suggesting 0 stands for
	Burst       float64 // deltas Origin may send at once when pacing starts (its bucket's depth)
	Lease       Time    // a throttle not renewed for this long may end by itself
}

// QueueTerms describe a Lite's bounded incoming queue.
type QueueTerms struct {
	Capacity  int // deltas it holds at most
	HighWater int // it asks for a throttle at this depth
	LowWater  int // and releases it at this depth
}
