package nodedb

import (
	"flag"
	"testing"

	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/sim/simtest"
)

var update = flag.Bool("update", false, "rewrite the expected outputs of testdata/*/*.txt from the models")

// TestLiteTranscripts runs the Lite model through testdata/lite (see
// simtest.RunTranscript for the format). The Lite dials Origin as node 0,
// is peer 7 and subscribes to c0; start's arguments change that:
//
//	collections=c0,c1  max-in-flight=N
func TestLiteTranscripts(t *testing.T) {
	simtest.RunTranscripts(t, "testdata/lite/*.txt", func(args []simtest.Arg) (sim.Node, error) {
		env := sim.Env{Origin: 0, PeerID: 7, Collections: []string{"c0"}}
		var cfg LiteConfig
		err := simtest.Setters{
			"collections":   simtest.SetList(&env.Collections),
			"max-in-flight": simtest.SetInt(&cfg.MaxInFlight),
		}.Apply(args)
		if err != nil {
			return nil, err
		}
		return NewLite(env, cfg), nil
	}, *update)
}

// TestOriginTranscripts runs the Origin model through testdata/origin. It
// serves c0 and c1; start's arguments change that:
//
//	collections=c0,c1  queue=N  drain-on-receive=true
func TestOriginTranscripts(t *testing.T) {
	simtest.RunTranscripts(t, "testdata/origin/*.txt", func(args []simtest.Arg) (sim.Node, error) {
		env := sim.Env{Collections: []string{"c0", "c1"}}
		var cfg OriginConfig
		err := simtest.Setters{
			"collections":      simtest.SetList(&env.Collections),
			"queue":            simtest.SetInt(&cfg.MaxQueuePerSession),
			"drain-on-receive": simtest.SetBool(&cfg.DrainOnReceive),
		}.Apply(args)
		if err != nil {
			return nil, err
		}
		return NewOrigin(env, cfg), nil
	}, *update)
}
