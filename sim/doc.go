// Package sim is syncsim's deterministic kernel and the contract every
// implementation under test meets.
//
// The kernel: a virtual clock, one event queue totally ordered by (time,
// sequence), seeded random streams, a virtual network of connections
// carrying real wire frames, and the trace hash that proves a run is a
// pure function of (config, seed). A run is single-threaded.
//
// The contract (node.go, event.go, impl.go): a Node is a state machine the
// kernel steps with one Input at a time; it records its effects (sends,
// timers, dials, closes, typed events) in an Effects, which the kernel
// applies after the step returns; it answers a Probe with its state. Nodes
// never read a clock or a global random source: they get time as an
// argument and randomness as a stream handed over in their Env. An Impl is
// a factory for a role together with the properties it claims.
package sim
