//go:build !simbench_nocheck

package topology

// checking is false only under the simbench_nocheck build tag, which exists
// to measure what the property checkers and the cluster's counters cost
// (make bench-ratio). Such a build checks no safety property and counts no
// marks or metrics, says so on stderr when it starts, and fails the
// planted-bug tests (nodes/reference, scenarios, faults).
const checking = true
