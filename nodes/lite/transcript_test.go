package lite

import (
	"flag"
	"testing"

	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/sim/simtest"
)

var update = flag.Bool("update", false, "rewrite the expected outputs of testdata/*.txt from the Lite")

// TestTranscripts runs the Lite through the transcripts in testdata (see
// simtest.RunTranscript for the format). The Lite dials Origin as node 0,
// is peer 7, subscribes to c0 and draws no reconnect jitter; start's
// arguments change its Config:
//
//	collections=c0,c1  queue-cap=N  high-water=N  low-water=N  drain-rate=R
//	max-in-flight=N  ack-timeout=D  dead-after=D
func TestTranscripts(t *testing.T) {
	simtest.RunTranscripts(t, "testdata/*.txt", newTranscriptLite, *update)
}

func newTranscriptLite(args []simtest.Arg) (sim.Node, error) {
	cfg := Config{Origin: 0, PeerID: 7, Collections: []string{"c0"}}
	err := simtest.Setters{
		"collections":   simtest.SetList(&cfg.Collections),
		"queue-cap":     simtest.SetInt(&cfg.QueueCap),
		"high-water":    simtest.SetInt(&cfg.HighWater),
		"low-water":     simtest.SetInt(&cfg.LowWater),
		"drain-rate":    simtest.SetFloat(&cfg.DrainRate),
		"max-in-flight": simtest.SetInt(&cfg.MaxInFlight),
		"ack-timeout":   simtest.SetDuration(&cfg.AckTimeout),
		"dead-after":    simtest.SetDuration(&cfg.DeadAfter),
	}.Apply(args)
	if err != nil {
		return nil, err
	}
	return New(cfg, zeroRNG{}), nil
}
