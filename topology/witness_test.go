package topology

import (
	"testing"

	"github.com/syncsim/syncsim/wire"
)

func TestFrameText(t *testing.T) {
	errText := "incompatible wire version: 9"
	for _, tc := range []struct {
		m    wire.Message
		want string
	}{
		{&wire.Throttle{Throttle: true, QueueDepth: 1000, SuggestedRate: 50}, "Throttle{on, queue 1000, rate 50}"},
		{&wire.Throttle{Throttle: true, QueueDepth: 9}, "Throttle{on, queue 9, rate server default}"},
		{&wire.Throttle{QueueDepth: 3}, "Throttle{off, queue 3}"},
		{&wire.ResyncRequest{Reason: wire.ResyncReason{Kind: wire.SequenceGap, Expected: 2, Received: 5}, FromMutationID: 2, Collection: "c0"},
			"ResyncRequest{c0 from 2, gap: expected 2, got 5}"},
		{&wire.ResyncRequest{Reason: wire.ResyncReason{Kind: wire.CorruptedState}}, "ResyncRequest{all from 0, CorruptedState}"},
		{&wire.ShapeSnapshot{ShapeID: "s0", SnapshotLSN: 41, DocCount: 3}, "ShapeSnapshot{s0 at lsn 41, 3 docs}"},
		{&wire.ShapeDelta{Collection: "c0", DocumentID: "d3", Operation: "UPDATE", LSN: 42}, "ShapeDelta{c0/d3 UPDATE lsn 42}"},
		{&wire.DeltaPush{Collection: "c1", DocumentID: "d9", MutationID: 7}, "DeltaPush{c1/d9 mutation 7}"},
		{&wire.DeltaAck{MutationID: 7, LSN: 12}, "DeltaAck{mutation 7, lsn 12}"},
		{&wire.HandshakeAck{Error: &errText}, "HandshakeAck{refused: incompatible wire version: 9}"},
		{&wire.PingPong{IsPong: true}, "Pong"},
	} {
		if got := FrameText(tc.m); got != tc.want {
			t.Errorf("%T: %q, want %q", tc.m, got, tc.want)
		}
	}
}
