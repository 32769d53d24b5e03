package origin

import (
	"flag"
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
	err := simtest.Setters{
		"collections":    simtest.SetList(&cfg.Collections),
		"retain-log":     simtest.SetInt(&cfg.RetainLog),
		"default-rate":   simtest.SetFloat(&cfg.DefaultRate),
		"throttle-burst": simtest.SetFloat(&cfg.ThrottleBurst),
		"throttle-lease": simtest.SetDuration(&cfg.ThrottleLease),
		"sync-every":     simtest.SetDuration(&cfg.SyncEvery),
		"idle-timeout":   simtest.SetDuration(&cfg.IdleTimeout),
	}.Apply(args)
	if err != nil {
		return nil, err
	}
	return New(cfg), nil
}
