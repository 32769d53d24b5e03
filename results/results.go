// Package results holds the JSON forms of simrun's results: one run
// (simrun run -json) and a sweep (simrun sweep -json, simrun merge). They
// live apart from the command and from the scenarios, so that reports/
// (plots, HTML) and tests read result files without the simulator: a
// scenario's definition is kept as the JSON it was.
//
// Decode reads either kind and says which one it was; the error for a
// file that is neither names what was expected.
package results

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/internal/jsonpos"
	"github.com/syncsim/syncsim/sim"
)

// Run is one run's result as written by -json and read by replay, merge,
// plot and the reports.
type Run struct {
	Scenario string `json:"scenario,omitempty"`
	// Definition is the scenario file's JSON, so the run replays even
	// when the named scenario has changed since.
	Definition json.RawMessage `json:"definition,omitempty"`
	// Implementations names the implementation of each role; Checked the
	// properties the run checked and Unchecked those it did not, and why.
	Implementations *Impls         `json:"implementations,omitempty"`
	Checked         []string       `json:"checked,omitempty"`
	Unchecked       []Unchecked    `json:"unchecked,omitempty"`
	Seed            uint64         `json:"seed"`
	Pass            bool           `json:"pass"`
	TraceHash       string         `json:"trace_hash"`
	HealS           float64        `json:"heal_s,omitempty"`
	BudgetS         float64        `json:"budget_s,omitempty"`
	ConvergeAfter   *float64       `json:"converge_after_heal_s"`
	Violation       *Violation     `json:"violation,omitempty"`
	EndS            float64        `json:"end_s"`
	Counters        *sim.Counters  `json:"counters,omitempty"`
	Faults          []faults.Event `json:"faults,omitempty"`
	// FaultKinds counts the faults by kind, in a compact record (which
	// leaves Faults out).
	FaultKinds map[string]int    `json:"fault_kinds,omitempty"`
	Marks      map[string]uint64 `json:"marks,omitempty"`
	Metrics    Metrics           `json:"metrics"`
	Replay     string            `json:"replay,omitempty"`
	Shrink     string            `json:"shrink,omitempty"`
	// Queue is the Lites' incoming queue geometry (written with series).
	Queue  *Queue   `json:"queue,omitempty"`
	Series []Series `json:"series,omitempty"`
	// Throttle is the pacing Origin claims, which throttle-rate holds it
	// to (written with series).
	Throttle *Throttle `json:"throttle_terms,omitempty"`
	// Wire holds the last frames sent and delivered, decoded, oldest
	// first; Control every Throttle, ResyncRequest, ShapeSnapshot and
	// handshake delivered in the run. Both are written with series and
	// are absent from older files, whose reports fall back to the series.
	Wire    []Frame `json:"wire,omitempty"`
	Control []Frame `json:"control_frames,omitempty"`
	// WireCounts counts the control frames of the whole run: Control
	// keeps at most the first ControlKept of them, which a fan-out of
	// 1,024 Lites fills with its handshakes. Absent from older files.
	WireCounts *WireCounts `json:"wire_counts,omitempty"`
	// WallS is the wall-clock time the run took (sweeps only): the one
	// figure in a result that is not a function of scenario and seed.
	WallS float64 `json:"wall_s,omitempty"`
	// Live is set for a live run (simrun proxy, simrun lites): real
	// endpoints on the wall clock, so nothing in it replays by seed.
	Live *Live `json:"live,omitempty"`
}

// Live is what a live run adds to a result: what it was between, what it
// saw, and the failures that are its own rather than the endpoints'.
type Live struct {
	Mode     string `json:"mode"` // "proxy" or "lites"
	Listen   string `json:"listen,omitempty"`
	Upstream string `json:"upstream,omitempty"`
	// Verdict is PASS, FAIL (a property was violated) or INCONCLUSIVE
	// (the run cannot vouch for the endpoints: see Why).
	Verdict     string `json:"verdict"`
	Why         string `json:"why,omitempty"`
	Connections int64  `json:"connections"`
	Refused     int64  `json:"refused,omitempty"`
	Malformed   int64  `json:"malformed,omitempty"`
	// Failures are the proxy's own (the upstream refused or died), not
	// protocol violations.
	Failures []string `json:"failures,omitempty"`
	// Violations lists every violation seen (up to 100 of Count).
	Violations []Violation `json:"violations,omitempty"`
	Count      int         `json:"violation_count"`
	// LiteIDs maps each Lite's lite_id to the node name faults and
	// reports use.
	LiteIDs map[string]string `json:"lite_ids,omitempty"`
	// Script is the file the faults applied were written to (simrun
	// proxy -script and simrun run -scenario read it).
	Script string `json:"script,omitempty"`
}

// Clock says whose time a run's times are: "simulated", or "wall-clock"
// for a live run (seconds since the live command started).
func (r *Run) Clock() string {
	if r.Live != nil {
		return "wall-clock"
	}
	return "simulated"
}

// Impls names the implementation of each role.
type Impls struct {
	Origin string `json:"origin"`
	Lite   string `json:"lite"`
}

// Unchecked is a property a run did not check, and why.
type Unchecked struct {
	Property string `json:"property"`
	Why      string `json:"why"`
}

// DefinitionName is the name in the run's scenario definition ("" if none).
func (r *Run) DefinitionName() string { return definitionName(r.Definition) }

func definitionName(def json.RawMessage) string {
	var d struct {
		Name string `json:"name"`
	}
	if len(def) == 0 || json.Unmarshal(def, &d) != nil {
		return ""
	}
	return d.Name
}

// Metrics is a run's measured costs of converging.
type Metrics struct {
	ResyncBytes   uint64  `json:"resync_bytes"`
	RepairedBytes uint64  `json:"repaired_bytes"`
	ResyncRatio   float64 `json:"resync_ratio"`
	MaxStarveS    float64 `json:"max_starve_s"`
}

// Violation is a violation in a result file.
type Violation struct {
	Property string   `json:"property"`
	AtS      float64  `json:"at_s"`
	Node     string   `json:"node"`
	Message  string   `json:"message"`
	Tail     []string `json:"tail,omitempty"`
}

// Series is one time series in a result file: samples of one quantity of
// one node (Lites are 1..N, Origin 0), Points as [t_s, value].
type Series struct {
	Name   string       `json:"name"`
	Node   int          `json:"node"`
	EveryS float64      `json:"every_s"`
	Points [][2]float64 `json:"points"`
}

// Throttle is an Origin's pacing promise: the rate a Throttle suggesting
// 0 stands for, the token bucket's depth, and the lease after which a
// throttle not renewed may end by itself (0: none).
type Throttle struct {
	DefaultRate float64 `json:"default_rate"`
	Burst       float64 `json:"burst"`
	LeaseS      float64 `json:"lease_s,omitempty"`
	// Slack is the checker's tolerance in frames on top of the burst
	// (0: the simulator's 1).
	Slack float64 `json:"slack,omitempty"`
}

// SlackFrames is t's tolerance in frames.
func (t *Throttle) SlackFrames() float64 {
	if t == nil || t.Slack == 0 {
		return 1
	}
	return t.Slack
}

// Frame is one frame seen on the wire: sent by From ("send") or delivered
// to To ("recv"), with its decoded text.
type Frame struct {
	AtS     float64 `json:"t_s"`
	Dir     string  `json:"dir"` // "send" or "recv"
	From    int     `json:"from"`
	To      int     `json:"to"`
	Conn    uint64  `json:"conn"`
	Type    string  `json:"type"`
	Len     int     `json:"len"`
	CRC     uint32  `json:"crc"`
	Altered bool    `json:"altered,omitempty"`
	Text    string  `json:"text"`
}

// MaxControlFrames is the most control frames a run's Control record
// keeps (simrun's witness keeps the first ones).
const MaxControlFrames = 4096

// WireCounts counts the control frames delivered in a run, including
// those its Control record had no room for.
type WireCounts struct {
	ThrottleOn  int `json:"throttle_on"`  // Throttle{on} frames delivered to Origin (engages and renewals)
	ThrottleOff int `json:"throttle_off"` // Throttle{off} frames delivered to Origin
	Snapshots   int `json:"snapshots"`    // ShapeSnapshot frames delivered to Lites
	// ControlKept is the most control frames the record keeps;
	// ControlNotKept those delivered after it was full, the first at
	// ControlFullS.
	ControlKept    int     `json:"control_kept_max"`
	ControlNotKept int     `json:"control_not_kept"`
	ControlFullS   float64 `json:"control_full_s,omitempty"`
}

// Queue is a Lite's incoming ShapeDelta queue: its capacity and the depths
// at which the Lite asks Origin to throttle (High) and releases it (Low).
type Queue struct {
	Capacity int `json:"capacity"`
	High     int `json:"high"`
	Low      int `json:"low"`
}

// Sweep is a sweep's (or a shard's) result file; merge reads several.
// simrun sweep writes it as the runs finish (Done counts them), so a
// file is complete when Done is the plan's length and it was not
// interrupted.
type Sweep struct {
	Scenario   string          `json:"scenario"`
	Definition json.RawMessage `json:"definition,omitempty"`
	// What ran: the implementation of each role (planted bugs in the
	// name), and the build of simrun that ran it.
	Implementations *Impls `json:"implementations,omitempty"`
	Version         string `json:"version,omitempty"`
	Plan            *Plan  `json:"plan,omitempty"`
	// Detail is "compact" (the default: passing runs keep their seed,
	// hash, costs, marks and fault counts) or "full" (every run whole).
	Detail      string `json:"detail,omitempty"`
	Runs        []Run  `json:"runs"`
	Done        uint64 `json:"done"`
	Interrupted bool   `json:"interrupted,omitempty"`
}

// Compact is r as a sweep keeps a passing run by default: what the
// verdicts and the reports need (about 500 bytes), not its fault list,
// counters or commands, which its seed replays.
func Compact(r Run) Run {
	c := Run{Seed: r.Seed, Pass: r.Pass, TraceHash: r.TraceHash, ConvergeAfter: r.ConvergeAfter, EndS: r.EndS,
		Metrics: r.Metrics, Marks: r.Marks, WallS: r.WallS, FaultKinds: r.FaultCounts()}
	return c
}

// FaultCounts counts r's faults by kind.
func (r *Run) FaultCounts() map[string]int {
	if r.FaultKinds != nil || len(r.Faults) == 0 {
		return r.FaultKinds
	}
	m := map[string]int{}
	for _, e := range r.Faults {
		m[string(e.Kind)]++
	}
	return m
}

// ErrNotResult is returned (wrapped) by Decode for JSON that is neither a
// run nor a sweep result.
var ErrNotResult = errors.New("not a simrun result")

// Decode reads a run or a sweep result; exactly one of the returned
// pointers is set when err is nil. A sweep is told apart by its "runs"
// field, a run by its "trace_hash".
func Decode(data []byte) (*Run, *Sweep, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, nil, fmt.Errorf("%w: the file is empty", ErrNotResult)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return nil, nil, jsonError(data, err)
	}
	switch {
	case fields["runs"] != nil:
		var s Sweep
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, nil, jsonError(data, err)
		}
		return nil, &s, nil
	case fields["trace_hash"] != nil:
		var r Run
		if err := json.Unmarshal(data, &r); err != nil {
			return nil, nil, jsonError(data, err)
		}
		return &r, nil, nil
	}
	return nil, nil, fmt.Errorf("%w: no \"trace_hash\" (a run) or \"runs\" (a sweep) field", ErrNotResult)
}

// jsonError adds the line and column to a decoding error that has an
// offset.
func jsonError(data []byte, err error) error {
	off := jsonpos.Offset(err)
	if off < 0 || off > int64(len(data)) {
		return fmt.Errorf("malformed JSON: %w", err)
	}
	return fmt.Errorf("line %s: malformed JSON: %w", jsonpos.LineCol(data, off), err)
}

// Totals is the run's counters (zero for a compact record).
func (r *Run) Totals() sim.Counters {
	if r.Counters == nil {
		return sim.Counters{}
	}
	return *r.Counters
}
