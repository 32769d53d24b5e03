package runner

import (
	"context"
	"fmt"
	"strings"

	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/scenarios"
	"github.com/syncsim/syncsim/wire"
)

// Weakness is one of NodeDB's April 2026 weaknesses (docs/nodedb-2026.md)
// and how the report hunts it: a scenario whose nodes and faults reach its
// path, and the fault events a shrunk schedule must keep to count as
// showing it (so that a failure with another cause is not credited to it).
// A weakness no run can show says why instead.
type Weakness struct {
	ID, What, Fault string
	// Hunt is the scenario (a scenario file's JSON); "" when not exposed.
	Hunt string
	// Needs are the kinds (and frame types) the shrunk schedule keeps.
	Needs []Need
	// Expect is the property its failure breaks.
	Expect string
	// Why is the story of the failure, or why the row is not exposed.
	Why string
	// ShownBy names the test that shows a row no run can (e.g. a
	// transcript).
	ShownBy string
}

// Need is a fault event a shrunk schedule must keep.
type Need struct {
	Kind faults.Kind
	Type wire.MsgType // 0: any
}

func (n Need) String() string {
	if n.Type == 0 {
		return string(n.Kind)
	}
	return string(n.Kind) + " " + n.Type.String()
}

func (n Need) met(events []faults.Event) bool {
	for _, e := range events {
		if e.Kind == n.Kind && (n.Type == 0 || e.Type == n.Type) {
			return true
		}
	}
	return false
}

// Weaknesses is the report's table, W1..W11.
func Weaknesses() []Weakness {
	return []Weakness{
		{ID: "W1", What: "single-shot resync gate, never retried", Fault: "a second gap while the first is answered (or the one ResyncRequest dropped)",
			Hunt: `{"name": "nodedb-W1", "description": "NodeDB's Lites against the reference Origin (which answers resyncs), one collection: a ShapeDelta lost now and then",
			  "nodes": {"lite": "nodedb-2026"}, "collections": 1, "write_for": "5s", "budget": "20s",
			  "faults": [{"kind": "drop", "rate": 0.01, "target": "origin", "type": "ShapeDelta"}]}`,
			Needs: []Need{{faults.Drop, wire.TypeShapeDelta}}, Expect: "convergence",
			Why: "the Lite's one request per connection closes the gate, and only a snapshot or a reconnect reopens it: the reference Origin answers the first gap by re-sending the deltas, so a later gap on that connection is never asked for (a lost ResyncRequest is never asked again either)"},
		{ID: "W2", What: "a snapshot for shape B wipes the request pending for A before the push tick", Fault: "gap on A, snapshot for B within 100 ms",
			Why:     "not exposed by a run: NodeDB's Lite subscribes once per shape and never again, so a ShapeSnapshot arrives only at start, before any delta can be missed; the wipe needs a snapshot later in a connection (a re-subscribe, which NodeDB's code does not send). Shown frame by frame instead",
			ShownBy: "nodes/nodedb/lite_test.go: TestLiteSnapshotOfAnotherShapeWipesRequest (go test ./nodes/nodedb -run TestLiteSnapshotOfAnotherShapeWipesRequest)"},
		{ID: "W3", What: "the tracker rewinds on a late or duplicate delta: a spurious gap uses up the gate", Fault: "reorder a ShapeDelta, then a real gap",
			Hunt: `{"name": "nodedb-W3", "description": "NodeDB's Lites against the reference Origin, one collection: ShapeDeltas overtake each other, and a few are lost",
			  "nodes": {"lite": "nodedb-2026"}, "collections": 1, "write_for": "5s", "budget": "20s",
			  "faults": [{"kind": "reorder", "rate": 0.03, "target": "origin", "type": "ShapeDelta", "arg": "30ms"},
			             {"kind": "drop", "rate": 0.003, "target": "origin", "type": "ShapeDelta"}]}`,
			Needs: []Need{{faults.Reorder, wire.TypeShapeDelta}, {faults.Drop, wire.TypeShapeDelta}}, Expect: "convergence",
			Why: "a delta that arrives late moves the tracker back, so the next in-order delta looks like a gap and takes the connection's one request; the real gap after it is never asked for"},
		{ID: "W4", What: "no replay after reconnect (the handshake LSN is computed, never used)", Fault: "reset while Origin commits",
			Hunt: `{"name": "nodedb-W4", "description": "NodeDB's Lites and Origin, one collection: connections reset while writes go on",
			  "nodes": "nodedb-2026", "collections": 1, "write_for": "5s", "budget": "20s",
			  "faults": [{"kind": "reset", "rate": 0.5, "target": "lites"}]}`,
			Needs: []Need{{faults.Reset, 0}}, Expect: "convergence",
			Why: "what Origin commits while a Lite reconnects is never sent to it: the handshake's vector clock gives Origin the Lite's position, and no code reads it"},
		{ID: "W5", What: "ShapeDelta has no checksum", Fault: "a delta's payload altered so that it still decodes",
			Hunt: `{"name": "nodedb-W5", "description": "NodeDB's Lites and Origin, one collection: a ShapeDelta's payload altered in transit, still decodable",
			  "nodes": "nodedb-2026", "collections": 1, "write_for": "5s", "budget": "20s",
			  "faults": [{"kind": "forge-delta", "rate": 0.01, "target": "origin", "type": "ShapeDelta"}]}`,
			Needs: []Need{{faults.ForgeDelta, wire.TypeShapeDelta}}, Expect: "convergence",
			Why: "the Lite applies the altered value: nothing in the frame can tell, and no digest exchange ever compares the states"},
		{ID: "W6", What: "Origin only logs ResyncRequest (and Throttle); the fan-out queue drops", Fault: "any gap",
			Hunt: `{"name": "nodedb-W6", "description": "NodeDB's Lites and Origin, one collection: a ShapeDelta lost now and then",
			  "nodes": "nodedb-2026", "collections": 1, "write_for": "5s", "budget": "20s",
			  "faults": [{"kind": "drop", "rate": 0.01, "target": "origin", "type": "ShapeDelta"}]}`,
			Needs: []Need{{faults.Drop, wire.TypeShapeDelta}}, Expect: "convergence",
			Why: "the Lite finds the gap and asks; Origin logs the ResyncRequest and does nothing, so one lost delta is lost for good. (The fan-out queue's drop is not shown: the simulated network accepts every frame at once, so no slow Lite backs Origin's queue up.)"},
		{ID: "W7", What: "throttle without a lease", Fault: "drop Throttle{false} (a Lite that throttles: the mixed topology)",
			Why:     "not exposed: NodeDB's Origin ignores Throttle altogether, so there is no throttle to outlive its release. The missing lease is a hole in the protocol for an Origin that honours Throttle; the reference Origin with its lease removed shows it (planted bug lost-release-no-lease, caught by convergence in lost-release)",
			ShownBy: "simrun catalogue -bug lost-release-no-lease"},
		{ID: "W8", What: "dedup mark max(mutation_id): a rate-limited or overtaken push is acked, never committed", Fault: "a burst over 200, or m2 before m1",
			Hunt: `{"name": "nodedb-W8", "description": "NodeDB's Lites and Origin, one collection: a Lite's pushes overtake each other",
			  "nodes": "nodedb-2026", "collections": 1, "write_for": "5s", "budget": "20s",
			  "faults": [{"kind": "reorder", "rate": 0.05, "target": "lites", "type": "DeltaPush", "arg": "50ms"}]}`,
			Needs: []Need{{faults.Reorder, wire.TypeDeltaPush}}, Expect: "acked-not-lost",
			Why: "push m2 overtakes m1: Origin commits m2 and moves the dedup mark to 2; m1 arrives, is at or below the mark, and is acked as a duplicate without ever being applied"},
		{ID: "W8b", What: "the same, through the rate limit", Fault: "a burst of 400 writes",
			Hunt: `{"name": "nodedb-W8b", "description": "NodeDB's Lites and Origin, one collection: a Lite writes 400 times at once",
			  "nodes": "nodedb-2026", "collections": 1, "write_for": "5s", "budget": "20s",
			  "faults": [{"kind": "burst", "rate": 0.5, "target": "lites", "arg_n": 400}]}`,
			Needs: []Need{{faults.Burst, 0}}, Expect: "acked-not-lost",
			Why: "past the bucket's 200, pushes are dropped without a reply; the later ones that get through move the dedup mark past them, so their re-sends are acked as duplicates and never committed"},
		{ID: "W9", What: "one WAL LSN for all collections against per-shape gap detection", Fault: "writes to another collection (no fault at all)",
			Hunt: `{"name": "nodedb-W9", "description": "NodeDB's Lites and Origin, two collections, no faults",
			  "nodes": "nodedb-2026", "collections": 2, "write_for": "5s", "budget": "20s"}`,
			Expect: "convergence",
			Why:    "a write to the other collection moves the WAL past this shape's last LSN: the Lite takes the jump for a gap and sends its one ResyncRequest, which Origin ignores; the contents agree, but the Lite waits for an answer that never comes and asks nothing more on that connection"},
		{ID: "W10", What: "DeltaAck's lsn is always 0; the skew warning only past 24 h", Fault: "a Lite that trusts the ack's LSN",
			Why:     "not exposed: NodeDB's own Lite does not read the ack's LSN, so nothing a run can observe depends on it; a Lite that did would mark every push as applied at LSN 0. The 24 h skew threshold is shown frame by frame",
			ShownBy: "nodes/nodedb/testdata/origin/push-checks.txt (go test ./nodes/nodedb -run TestOriginTranscripts): every DeltaAck has lsn 0, and clock_skew_warning_ms is set only past 24 h"},
		{ID: "W11", What: "an empty jwt_token authenticates as a ReadWrite identity", Fault: "a Handshake with an empty token",
			Why:     "not a convergence or safety property of sync: shown frame by frame (an empty token is answered HandshakeAck{success: true} and its pushes are committed)",
			ShownBy: "nodes/nodedb/testdata/origin/handshake.txt and TestOriginHandshake (go test ./nodes/nodedb -run 'TestOriginHandshake|TestOriginTranscripts')"},
	}
}

// Finding is what the hunt of one weakness found.
type Finding struct {
	Weakness
	Found    bool
	Seed     uint64
	Property string
	Message  string             // the violation's sentence
	From, To []faults.Event     // the recorded and the shrunk schedule
	Scenario scenarios.Scenario // the shrunk scenario (a regression file)
	Note     string             // why a found failure did not count, when none did
}

// MaxShrunk is the largest shrunk schedule a finding may have.
const MaxShrunk = 5

// HuntWeakness hunts w over seeds 1..seeds: the first seed whose run breaks w's
// property, whose schedule shrinks to at most MaxShrunk events that keep
// w's needs, and whose shrunk schedule the reference nodes pass.
func HuntWeakness(ctx context.Context, w Weakness, seeds, shrinkRuns int) (Finding, error) {
	f := Finding{Weakness: w}
	if w.Hunt == "" {
		return f, nil
	}
	sc, err := scenarios.Parse(w.ID, []byte(w.Hunt))
	if err != nil {
		return f, fmt.Errorf("%s's hunt: %w", w.ID, err)
	}
	for seed := uint64(1); seed <= uint64(seeds); seed++ {
		if err := ctx.Err(); err != nil {
			return f, err
		}
		r, err := sc.Run(seed)
		if err != nil {
			return f, fmt.Errorf("%s seed %d: %w", w.ID, seed, err)
		}
		if r.Violation == nil || r.Violation.Property != w.Expect {
			if r.Violation != nil && f.Note == "" {
				f.Note = fmt.Sprintf("seed %d broke %s, not %s", seed, r.Violation.Property, w.Expect)
			}
			continue
		}
		small := r.Schedule
		if len(r.Schedule) > 0 {
			sh, err := scenarios.Shrink(*sc, seed, r, shrinkRuns)
			if err != nil {
				return f, fmt.Errorf("%s seed %d: %w", w.ID, seed, err)
			}
			small = sh.To
		}
		var missing []string
		for _, n := range w.Needs {
			if !n.met(small) {
				missing = append(missing, n.String())
			}
		}
		if len(missing) > 0 || len(small) > MaxShrunk {
			if f.Note == "" {
				f.Note = fmt.Sprintf("seed %d shrank to %d events without %s", seed, len(small), strings.Join(missing, ", "))
			}
			continue
		}
		out := sc.Scripted(small)
		out.Seed, out.Expect = seed, w.Expect
		out.Description = fmt.Sprintf("%s (%s): %s. Found at seed %d, shrunk from %d to %d fault events; the reference nodes pass it (nodes: reference).",
			w.ID, w.What, w.Why, seed, len(r.Schedule), len(small))
		ref := out
		ref.Nodes = nil
		rr, err := ref.Run(seed)
		if err != nil {
			return f, fmt.Errorf("%s seed %d on the reference nodes: %w", w.ID, seed, err)
		}
		if !rr.Pass() {
			if f.Note == "" {
				f.Note = fmt.Sprintf("seed %d: the reference nodes fail the shrunk schedule too (%v)", seed, rr.Violation)
			}
			continue
		}
		f.Found, f.Seed, f.Property, f.Message = true, seed, r.Violation.Property, r.Violation.Message
		f.From, f.To, f.Scenario = r.Schedule, small, out
		return f, nil
	}
	return f, nil
}
