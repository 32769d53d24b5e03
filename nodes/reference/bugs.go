package reference

import (
	"fmt"
	"sort"
	"strings"

	"github.com/syncsim/syncsim/check"
	"github.com/syncsim/syncsim/nodes/lite"
	"github.com/syncsim/syncsim/nodes/origin"
)

// Bug is one planted bug.
type Bug struct {
	Name    string
	Summary string
	// Property is the property expected to catch it first.
	Property string
	// Hunt is the named scenario whose faults reach the bug's path.
	Hunt string
	// NodeDB2026 says the bug is one of NodeDB's 2026 behaviours, grafted
	// onto the reference (the nodedb-2026 nodes have it as NodeDB does).
	NodeDB2026 bool
	// on switches the bug's flags on in the nodes' configurations.
	on func(*lite.Bugs, *origin.Bugs)
}

// Configure switches the bug on in c's nodes (adding to any already on).
func (b Bug) Configure(c *Config) {
	b.on(&c.Lite.Bugs, &c.Origin.Bugs)
	c.Bugs = append(c.Bugs, b.Name)
}

var catalogue = []Bug{
	{Name: "no-dedup", Summary: "Origin applies a re-sent mutation again",
		Property: check.AppliedOnce, Hunt: "lossy", on: func(_ *lite.Bugs, o *origin.Bugs) { o.NoDedup = true }},
	{Name: "skip-crc-check", Summary: "Origin applies a push whose CRC32C does not match its delta",
		Property: check.NoBadChecksum, Hunt: "corruption", on: func(_ *lite.Bugs, o *origin.Bugs) { o.SkipCRCCheck = true }},
	{Name: "ignore-throttle", Summary: "Origin only logs Throttle and keeps pushing at full speed",
		Property: check.ThrottleRate, Hunt: "slow-consumer", NodeDB2026: true, on: func(_ *lite.Bugs, o *origin.Bugs) { o.IgnoreThrottle = true }},
	{Name: "lost-release-no-lease", Summary: "a throttle has no lease: a lost release stalls the peer for good",
		Property: check.Convergence, Hunt: "lost-release", NodeDB2026: true, on: func(_ *lite.Bugs, o *origin.Bugs) { o.NoLease = true }},
	{Name: "single-shot-resync-gate", Summary: "one resync gate per connection, never retried, reopened only by a snapshot or reconnect",
		Property: check.Convergence, Hunt: "lossy", NodeDB2026: true, on: func(l *lite.Bugs, _ *origin.Bugs) { l.SingleShotGate = true }},
	{Name: "rewind-on-reorder", Summary: "a Lite applies a late or duplicate delta, moving its tracker backwards",
		Property: check.InOrderApply, Hunt: "reorder", NodeDB2026: true, on: func(l *lite.Bugs, _ *origin.Bugs) { l.RewindOnReorder = true }},
	{Name: "apply-past-gap", Summary: "a Lite applies a delta beyond a gap at once, skipping the missing LSNs",
		Property: check.InOrderApply, Hunt: "lossy", NodeDB2026: true, on: func(l *lite.Bugs, _ *origin.Bugs) { l.ApplyPastGap = true }},
	{Name: "snapshot-clears-other-gap", Summary: "a snapshot for one shape wipes the other shapes' pending resyncs and held deltas and takes those as received",
		Property: check.Convergence, Hunt: "corruption", NodeDB2026: true, on: func(l *lite.Bugs, _ *origin.Bugs) { l.SnapshotClearsGap = true }},
	{Name: "dedup-before-apply", Summary: "Origin's dedup mark jumps to the highest id seen, so an overtaken push is acked but never applied",
		Property: check.AckedNotLost, Hunt: "lossy", NodeDB2026: true, on: func(_ *lite.Bugs, o *origin.Bugs) { o.DedupBeforeApply = true }},
	{Name: "no-replay-after-reconnect", Summary: "a reconnecting Lite's stream starts at Origin's head, and no clock sync reveals the missed range",
		Property: check.Convergence, Hunt: "crash-restart", NodeDB2026: true, on: func(_ *lite.Bugs, o *origin.Bugs) { o.NoReplay = true; o.NoAntiEntropy = true }},
	{Name: "no-snapshot-fallback", Summary: "a stream behind the retained log resumes at the log's oldest entry instead of a snapshot",
		Property: check.Convergence, Hunt: "partition-heal", on: func(_ *lite.Bugs, o *origin.Bugs) { o.NoSnapshotFallback = true }},
	{Name: "no-push-retry", Summary: "a Lite sends each push once: never again after a timeout, a reconnect or a restart",
		Property: check.Convergence, Hunt: "lossy", on: func(l *lite.Bugs, _ *origin.Bugs) { l.NoPushRetry = true }},
	{Name: "ignore-resync", Summary: "Origin only logs ResyncRequest: gaps are never repaired",
		Property: check.Convergence, Hunt: "lossy", NodeDB2026: true, on: func(_ *lite.Bugs, o *origin.Bugs) { o.IgnoreResync = true }},
}

// ModelName is the name of NodeDB's modelled implementation, which was a
// profile of these bugs before it became nodes of its own: asked for as a
// bug, it is an error that says where it went.
const ModelName = "nodedb-2026"

// Catalogue returns the planted bugs in catalogue order.
func Catalogue() []Bug { return append([]Bug(nil), catalogue...) }

// Lookup returns the bug called name, or an error listing the names.
func Lookup(name string) (Bug, error) {
	if name == ModelName {
		return Bug{}, fmt.Errorf("%s is no longer a set of bugs in the reference nodes but an implementation of its own: select it with -nodes %s (or \"nodes\" in a scenario file)", name, name)
	}
	for _, b := range catalogue {
		if b.Name == name {
			return b, nil
		}
	}
	return Bug{}, fmt.Errorf("no planted bug named %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Names lists the bug names, sorted.
func Names() []string {
	var names []string
	for _, b := range catalogue {
		names = append(names, b.Name)
	}
	sort.Strings(names)
	return names
}

// Apply switches on the bugs named in a comma-separated list.
func Apply(list string, c *Config) error {
	for _, name := range strings.Split(list, ",") {
		b, err := Lookup(strings.TrimSpace(name))
		if err != nil {
			return err
		}
		b.Configure(c)
	}
	return nil
}
