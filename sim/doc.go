// Package sim is syncsim's deterministic kernel: a virtual clock, one event
// queue totally ordered by (time, sequence), seeded random streams, a
// virtual network of connections carrying real wire frames, and the trace
// hash that proves a run is a pure function of (config, seed).
//
// A run is single-threaded. Nodes are state machines (see Node): the kernel
// steps them with one Input at a time and they answer through an Outbox.
// Nodes never read a clock or a global random source; they get time as an
// argument and randomness as a stream handed to them at construction.
package sim
