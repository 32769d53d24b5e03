package reports

import (
	"testing"

	"github.com/syncsim/syncsim/topology"
	"github.com/syncsim/syncsim/wire"
)

// The reports read throttles from the text the witness writes: the two
// must agree, or live and simulated reports would miscount in silence.
func TestThrottleTextAsTheWitnessWritesIt(t *testing.T) {
	for _, tc := range []struct {
		m    wire.Throttle
		on   bool
		rate float64
	}{
		{wire.Throttle{Throttle: true, QueueDepth: 768, SuggestedRate: 40}, true, 40},
		{wire.Throttle{Throttle: true, QueueDepth: 9}, true, 0}, // the Origin's default
		{wire.Throttle{Throttle: false, QueueDepth: 3}, false, 0},
	} {
		text := topology.FrameText(&tc.m)
		if on, rate := throttleFrame(text); on != tc.on || rate != tc.rate {
			t.Errorf("%q read as on=%t rate=%g, want on=%t rate=%g", text, on, rate, tc.on, tc.rate)
		}
	}
}
