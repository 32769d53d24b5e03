// Package faults injects faults into a sim run: frame faults through the
// kernel's one interception point (drop, duplicate, delay, reorder, bit
// flip, bad type byte, bad length, truncation) and node faults through the
// World (partitions, resets, crashes, durable-state corruption, slow
// consumers, write bursts, clock skew).
//
// A Plan composes Specs (kind, intensity, window, target) and has a heal
// time after which no fault fires and every fault in progress has ended.
// Swarm draws a plan from a seed. Every fault that fires is recorded in the
// trace and as an Event; Replay applies a recorded schedule as a script,
// which is what shrinking minimises. Each spec draws from its own random
// stream, so adding a spec changes nothing the others do.
package faults
