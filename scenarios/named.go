package scenarios

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

func d(s string) Duration {
	v, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return Duration(v)
}

// named is the registry, in the order simrun list shows it.
var named = []Scenario{
	{Name: "baseline", Description: "3 Lites, 2 collections, writes everywhere, no faults",
		WriteFor: d("5s"), Budget: d("30s")},
	{Name: "lossy", Description: "3 Lites; 5% of frames dropped and 5% duplicated until heal",
		WriteFor: d("10s"), Budget: d("30s"), Faults: []FaultSpec{
			{Kind: "drop", Rate: 0.05, Target: "all"}, {Kind: "duplicate", Rate: 0.05, Target: "all"}},
		Require: map[string]float64{"resync-answered": 0.9, "dedup-skip": 0.9},
		Gates:   &Gates{ConvergeP99: d("3s"), ResyncRatio: 5}},
	{Name: "reorder", Description: "3 Lites; 10% of frames overtake others by up to 100 ms (as across reconnects or through a proxy)",
		WriteFor: d("10s"), Budget: d("30s"), Faults: []FaultSpec{{Kind: "reorder", Rate: 0.1, Target: "all", Arg: d("100ms")}},
		Require: map[string]float64{"gap-detected": 0.9, "resync-answered": 0.9}},
	{Name: "corruption", Description: "3 Lites; bit flips, bad type bytes, bad lengths and truncation hit the real decoder",
		WriteFor: d("10s"), Budget: d("30s"), Faults: []FaultSpec{
			{Kind: "bitflip", Rate: 0.03, Target: "all"}, {Kind: "bad-type", Rate: 0.01, Target: "all"},
			{Kind: "bad-length", Rate: 0.01, Target: "all"}, {Kind: "truncate", Rate: 0.01, Target: "all"}},
		Require: map[string]float64{"decode-error": 0.9, "checksum-mismatch-up": 0.9, "digest-mismatch-down": 0.9}},
	{Name: "partition-heal", Description: "3 Lites; Lites are cut off (both ways and one way) for up to 3 s at a time, then heal",
		WriteFor: d("15s"), Budget: d("30s"), RetainLog: 32, Faults: []FaultSpec{
			{Kind: "partition", Rate: 0.3, Target: "lites", Arg: d("3s")},
			{Kind: "partition-oneway", Rate: 0.2, Target: "lites", Arg: d("2s")}},
		Require: map[string]float64{"resync-answered": 0.9, "snapshot-fallback": 0.5}},
	{Name: "crash-restart", Description: "3 Lites; Lites and Origin crash and restart, Lite stores are torn, connections reset",
		WriteFor: d("15s"), Budget: d("30s"), Faults: []FaultSpec{
			{Kind: "crash", Rate: 0.2, Target: "all", Arg: d("1s")},
			{Kind: "corrupt-durable", Rate: 0.1, Target: "lites", Arg: d("500ms")},
			{Kind: "reset", Rate: 0.3, Target: "lites"}},
		Require: map[string]float64{"crash-recovery": 0.9, "reconnect": 0.9, "corrupted-state": 0.4}},
	{Name: "slow-consumer", Description: "1 Lite that drains 200 deltas/s while Origin commits 600/s, slowed further at times: the throttle loop",
		Lites: 1, Collections: 1, LiteRate: 5, OriginRate: 600, WriteFor: d("8s"), Budget: d("60s"), LiteDrainRate: 200,
		Faults:  []FaultSpec{{Kind: "slow-consumer", Rate: 0.3, Target: "lites", Arg: d("2s"), Factor: 0.2}},
		Require: map[string]float64{"throttle-engaged": 0.9, "throttle-released": 0.9},
		Gates:   &Gates{MaxStarve: d("1s")}},
	{Name: "lost-release", Description: "a consumer that keeps up except when slowed, and half of its Throttle frames are lost: only the lease ends a throttle whose release was dropped",
		Lites: 1, Collections: 1, LiteRate: 5, OriginRate: 150, WriteFor: d("15s"), Budget: d("60s"), LiteDrainRate: 200, LiteQueue: 256,
		Faults: []FaultSpec{{Kind: "slow-consumer", Rate: 0.3, Target: "lites", Arg: d("2s"), Factor: 0.2},
			{Kind: "drop", Rate: 0.5, Target: "lites", Type: "Throttle"}},
		Require: map[string]float64{"throttle-engaged": 0.9, "throttle-released": 0.6, "throttle-lease-expired": 0.4}},
	{Name: "fanout", Description: "1 Origin, 64 Lites, light writes, 1% drops",
		Lites: 64, LiteRate: 1, OriginRate: 50, WriteFor: d("5s"), Budget: d("30s"),
		Faults:  []FaultSpec{{Kind: "drop", Rate: 0.01, Target: "all"}},
		Require: map[string]float64{"resync-answered": 0.9},
		Gates:   &Gates{ResyncRatio: 5}},
	{Name: "swarm", Description: "3 Lites; the seed picks which fault kinds are on and how hard (swarm testing)",
		WriteFor: d("10s"), Budget: d("30s"), Swarm: true, Gates: &Gates{ConvergeP99: d("8s")}},
}

// Named returns the named scenarios in registry order (copies).
func Named() []Scenario {
	out := make([]Scenario, len(named))
	copy(out, named)
	return out
}

// Lookup returns the named scenario, or an error listing the names.
func Lookup(name string) (*Scenario, error) {
	for i := range named {
		if named[i].Name == name {
			s := named[i]
			return &s, nil
		}
	}
	names := make([]string, len(named))
	for i := range named {
		names[i] = named[i].Name
	}
	sort.Strings(names)
	return nil, fmt.Errorf("no scenario named %q (known: %s; or give a path to a .json file)", name, strings.Join(names, ", "))
}

// Resolve takes a scenario name or a path to a JSON file (anything ending
// in .json or containing a path separator).
func Resolve(nameOrFile string) (*Scenario, error) {
	if strings.HasSuffix(nameOrFile, ".json") || strings.ContainsRune(nameOrFile, '/') {
		return Load(nameOrFile)
	}
	return Lookup(nameOrFile)
}
