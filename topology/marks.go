package topology

import "github.com/syncsim/syncsim/sim"

// A Mark is a named interesting path through the protocol. A run counts how
// often each was taken; a sweep reports the fraction of seeds that took it,
// and a scenario can require a fraction (so a green sweep cannot hide
// faults that never pushed the protocol into the path under test).
type Mark uint8

// The marks, in report order.
const (
	MarkGapDetected Mark = iota
	MarkResyncSent
	MarkResyncRetried
	MarkResyncAnswered
	MarkResyncServedResend
	MarkResyncServedSnapshot
	MarkSnapshotFallback
	MarkChecksumMismatchUp
	MarkDigestMismatchDown
	MarkCorruptedStateColdStart
	MarkDedupSkip
	MarkThrottleEngaged
	MarkThrottleReleased
	MarkThrottleLeaseExpired
	MarkQueueOverflow
	MarkReconnect
	MarkCrashRecovery
	MarkDecodeError
	numMarks
)

// MarkInfo names and explains a mark.
type MarkInfo struct{ Name, What string }

var markInfo = [numMarks]MarkInfo{
	MarkGapDetected:             {"gap-detected", "a Lite found a gap in a shape's LSNs (delta or clock)"},
	MarkResyncSent:              {"resync-sent", "a Lite sent a ResyncRequest (first attempt)"},
	MarkResyncRetried:           {"resync-retried", "a Lite re-sent an unanswered ResyncRequest"},
	MarkResyncAnswered:          {"resync-answered", "a Lite's resync was satisfied"},
	MarkResyncServedResend:      {"resync-served-resend", "Origin answered a resync by re-sending from its log"},
	MarkResyncServedSnapshot:    {"resync-served-snapshot", "Origin answered a resync with a snapshot"},
	MarkSnapshotFallback:        {"snapshot-fallback", "Origin sent a snapshot because its log no longer reached back"},
	MarkChecksumMismatchUp:      {"checksum-mismatch-up", "Origin caught a DeltaPush whose CRC32C failed"},
	MarkDigestMismatchDown:      {"digest-mismatch-down", "a Lite's state digest disagreed with Origin's clock"},
	MarkCorruptedStateColdStart: {"corrupted-state", "a Lite found its durable state corrupted at restart"},
	MarkDedupSkip:               {"dedup-skip", "Origin acked a duplicate push without applying it"},
	MarkThrottleEngaged:         {"throttle-engaged", "Origin started pacing a peer"},
	MarkThrottleReleased:        {"throttle-released", "a peer released its throttle"},
	MarkThrottleLeaseExpired:    {"throttle-lease-expired", "a throttle ended by its lease"},
	MarkQueueOverflow:           {"queue-overflow", "a Lite's incoming queue was full"},
	MarkReconnect:               {"reconnect", "a Lite lost its connection and dialled again"},
	MarkCrashRecovery:           {"crash-recovery", "a node restarted after a crash"},
	MarkDecodeError:             {"decode-error", "a node received a frame that did not decode"},
}

// Marks lists every mark in report order.
func Marks() []MarkInfo { return markInfo[:] }

// LookupMark finds a mark by name.
func LookupMark(name string) (Mark, bool) {
	for i, m := range markInfo {
		if m.Name == name {
			return Mark(i), true
		}
	}
	return 0, false
}

func (k counter) mark(m Mark) { k.c.marks[m]++ }

// markEvent counts the marks of the events counter.Event leaves to it.
func (k counter) markEvent(ev sim.Event) {
	switch e := ev.(type) {
	case *sim.ResyncServed:
		if e.Frames == 0 {
			k.mark(MarkResyncServedSnapshot)
		} else {
			k.mark(MarkResyncServedResend)
		}
	case *sim.SnapshotFallback:
		k.mark(MarkSnapshotFallback)
	case *sim.ChecksumFailed:
		k.mark(MarkChecksumMismatchUp)
	case *sim.DigestMismatch:
		k.mark(MarkDigestMismatchDown)
	case *sim.CorruptedState:
		k.mark(MarkCorruptedStateColdStart)
	case *sim.Deduped:
		k.mark(MarkDedupSkip)
	case *sim.QueueOverflow:
		k.mark(MarkQueueOverflow)
	case *sim.Reconnecting:
		k.mark(MarkReconnect)
	case *sim.DecodeError:
		k.mark(MarkDecodeError)
	}
}
