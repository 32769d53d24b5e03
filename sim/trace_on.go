//go:build !simbench_notrace

package sim

// tracing is false only under the simbench_notrace build tag, which exists
// to measure what the trace costs (make bench-ratio). Such a build folds
// nothing into the hash and keeps no tail, says so on stderr when it starts,
// and fails the pinned-hash tests, as it should.
const tracing = true
