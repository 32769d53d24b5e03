package main

import (
	"os"
	"runtime/debug"
)

// sweepGCPercent is the collector's target for a sweep of small worlds.
// Each run builds a world of a few megabytes, allocates several times that
// and drops it whole; at the default GOGC=100 the collector runs many
// times per run: a third of a swarm sweep's instructions. At 1000 a 3-Lite
// sweep on 2 cores peaks at about 200 MB of RSS instead of 60 MB.
const sweepGCPercent = 1000

// sweepGCMaxLites is the largest world sweepGCPercent is used for: a
// larger world's live heap is tens of megabytes per run (130 KB per Lite
// at 1,024 Lites), and eleven times that is not worth the time it saves.
const sweepGCMaxLites = 64

// tuneSweepGC sets the collector's target for a sweep of worlds of lites
// Lites, unless the user chose one with GOGC.
func tuneSweepGC(lites int) {
	if _, set := os.LookupEnv("GOGC"); set || lites > sweepGCMaxLites {
		return
	}
	debug.SetGCPercent(sweepGCPercent)
}
