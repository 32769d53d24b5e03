package live

import (
	"fmt"
	"sync/atomic"

	"github.com/syncsim/syncsim/sim"
)

// Stats are a live command's running totals, safe to read from any
// goroutine (the status line reads them while the loop writes).
type Stats struct {
	Connections    atomic.Int64 // connections opened (accepted or dialled)
	Open           atomic.Int64 // connections open now
	Refused        atomic.Int64 // connections refused: over -max-conns, or cut by a partition
	FramesReceived atomic.Int64
	FramesSent     atomic.Int64
	// Malformed counts messages that were not one well-formed frame: text
	// messages, short or oversized frames, unknown type bytes, length
	// fields that disagree with the message.
	Malformed    atomic.Int64
	Dropped      atomic.Int64 // peers disconnected for falling behind
	DialFailures atomic.Int64
	Writes       atomic.Int64 // workload writes made
	ThrottleOn   atomic.Int64 // throttles engaged (events of the nodes)
	ThrottleOff  atomic.Int64
	Resyncs      atomic.Int64 // resync requests sent by the nodes
}

func (s *Stats) event(ev sim.Event) {
	switch ev.(type) {
	case *sim.ThrottleOn:
		s.ThrottleOn.Add(1)
	case *sim.ThrottleOff:
		s.ThrottleOff.Add(1)
	case *sim.ResyncSent:
		s.Resyncs.Add(1)
	}
}

// Line is the status line: connections and frames.
func (s *Stats) Line() string {
	line := fmt.Sprintf("conns %d open (%d in all, %d refused)  frames in %d out %d", s.Open.Load(), s.Connections.Load(),
		s.Refused.Load(), s.FramesReceived.Load(), s.FramesSent.Load())
	if n := s.Malformed.Load(); n > 0 {
		line += fmt.Sprintf("  malformed %d", n)
	}
	if n := s.Dropped.Load(); n > 0 {
		line += fmt.Sprintf("  slow peers disconnected %d", n)
	}
	if n := s.DialFailures.Load(); n > 0 {
		line += fmt.Sprintf("  dial failures %d", n)
	}
	if n := s.Writes.Load(); n > 0 {
		line += fmt.Sprintf("  writes %d", n)
	}
	return line
}
