// Package live runs syncsim on real WebSockets and the wall clock: nodes
// that meet the node contract (sim.Node) served as an Origin or run as a
// fleet of Lites, and a proxy that pairs every Lite connection with one to
// a real Origin and passes its frames through the simulator's fault
// injector and the frame-level checkers (check.Wire).
//
// A node here is stepped exactly as the kernel steps it, one input at a
// time on one goroutine, with time.AfterFunc in place of the event queue
// and sockets in place of links; nothing in this package is used by a
// simulated run, which keeps the wall clock out of the kernel. Live runs
// are not reproducible by seed: the proxy records the faults it applied
// as a script, which the simulator replays deterministically.
//
// Limits: connections (DefaultMaxConns), frame size (MaxFrameBytes, checked
// before a body is allocated), frames queued per peer, and series points
// are all bounded.
package live
