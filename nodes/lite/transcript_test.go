package lite

import (
	"flag"
	"fmt"
	"strings"
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
	for _, a := range args {
		var err error
		switch a.Key {
		case "collections":
			cfg.Collections = strings.Split(a.Val, ",")
		case "queue-cap":
			cfg.QueueCap, err = a.Int()
		case "high-water":
			cfg.HighWater, err = a.Int()
		case "low-water":
			cfg.LowWater, err = a.Int()
		case "drain-rate":
			cfg.DrainRate, err = a.Float()
		case "max-in-flight":
			cfg.MaxInFlight, err = a.Int()
		case "ack-timeout":
			cfg.AckTimeout, err = a.Duration()
		case "dead-after":
			cfg.DeadAfter, err = a.Duration()
		default:
			err = fmt.Errorf("unknown argument %s (want collections, queue-cap, high-water, low-water, drain-rate, max-in-flight, ack-timeout or dead-after)", a.Key)
		}
		if err != nil {
			return nil, err
		}
	}
	return New(cfg, zeroRNG{}), nil
}
