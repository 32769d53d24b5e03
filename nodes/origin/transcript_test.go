package origin

import (
	"flag"
	"fmt"
	"strings"
	"testing"

	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/sim/simtest"
)

var update = flag.Bool("update", false, "rewrite the expected outputs of testdata/*.txt from Origin")

// TestTranscripts runs Origin through the transcripts in testdata (see
// simtest.RunTranscript for the format). Origin serves c0; start's
// arguments change its Config:
//
//	collections=c0,c1  retain-log=N  default-rate=R  throttle-burst=N
//	throttle-lease=D  sync-every=D  idle-timeout=D
func TestTranscripts(t *testing.T) {
	simtest.RunTranscripts(t, "testdata/*.txt", newTranscriptOrigin, *update)
}

func newTranscriptOrigin(args []simtest.Arg) (sim.Node, error) {
	cfg := Config{Collections: []string{"c0"}}
	for _, a := range args {
		var err error
		switch a.Key {
		case "collections":
			cfg.Collections = strings.Split(a.Val, ",")
		case "retain-log":
			cfg.RetainLog, err = a.Int()
		case "default-rate":
			cfg.DefaultRate, err = a.Float()
		case "throttle-burst":
			cfg.ThrottleBurst, err = a.Float()
		case "throttle-lease":
			cfg.ThrottleLease, err = a.Duration()
		case "sync-every":
			cfg.SyncEvery, err = a.Duration()
		case "idle-timeout":
			cfg.IdleTimeout, err = a.Duration()
		default:
			err = fmt.Errorf("unknown argument %s (want collections, retain-log, default-rate, throttle-burst, throttle-lease, sync-every or idle-timeout)", a.Key)
		}
		if err != nil {
			return nil, err
		}
	}
	return New(cfg), nil
}
