// Package runner is the library under simrun: what a command does once its
// flags are read, and what a Go test calls through syncsimtest.
//
// A Target is a scenario (named, from a file, or built in Go) with the
// planted bugs a user switched on; it runs one seed, and names the commands
// that replay and shrink that seed. Sweep runs many seeds on a worker pool,
// interruptible, each run single-threaded, results in seed order, with an
// optional determinism check that names the first differing trace event.
// Result turns a run into its file form (package results). A Tally takes a
// sweep's runs one at a time and gives its verdicts (summary, coverage,
// gates) in flat memory; Merge combines shards; Score is the planted-bug
// catalogue's mutation score; HuntWeakness is simrun nodedb's hunt.
//
// Nothing here prints: cmd/simrun formats what these return.
package runner
