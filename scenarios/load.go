package scenarios

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/syncsim/syncsim/check"
	"github.com/syncsim/syncsim/faults"
	"github.com/syncsim/syncsim/internal/jsonpos"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/topology"
)

// FieldError is a validation failure of one field.
type FieldError struct {
	Field string // JSON path, e.g. "faults[1].rate"
	Msg   string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks every field and returns the first problem, naming it.
func (s *Scenario) Validate() error {
	switch {
	case s.Name == "":
		return fieldErr("name", "is required")
	case s.Lites < 0 || s.Lites > topology.MaxLites:
		return fieldErr("lites", "%d: want 1..%d (0 for the default)", s.Lites, topology.MaxLites)
	case s.Collections < 0 || s.Collections > topology.MaxCollections:
		return fieldErr("collections", "%d: want 1..%d (0 for the default)", s.Collections, topology.MaxCollections)
	case s.Docs < 0:
		return fieldErr("docs", "%d: must not be negative", s.Docs)
	case s.LiteRate < 0:
		return fieldErr("lite_rate", "%g: must not be negative", s.LiteRate)
	case s.OriginRate < 0:
		return fieldErr("origin_rate", "%g: must not be negative", s.OriginRate)
	case s.WriteFor < 0:
		return fieldErr("write_for", "must not be negative")
	case sim.Time(s.WriteFor) > topology.MaxSimulated:
		return fieldErr("write_for", "%s: at most %s", sim.Time(s.WriteFor), topology.MaxSimulated)
	case s.Budget < 0:
		return fieldErr("budget", "must not be negative")
	case sim.Time(s.Budget) > topology.MaxSimulated:
		return fieldErr("budget", "%s: at most %s", sim.Time(s.Budget), topology.MaxSimulated)
	case s.LiteDrainRate < 0:
		return fieldErr("lite_drain_rate", "must not be negative")
	case s.RetainLog < 0:
		return fieldErr("retain_log", "must not be negative")
	case s.LiteQueue < 0 || s.LiteQueue > 0 && s.LiteQueue < 4:
		return fieldErr("lite_queue", "%d: want at least 4 (0 for the default 1024)", s.LiteQueue)
	case s.Swarm && len(s.Faults) > 0:
		return fieldErr("swarm", "swarm picks its own faults: remove \"faults\" or set swarm to false")
	}
	for _, r := range []struct {
		spec *ImplSpec
		name string
	}{{s.Origin, "origin"}, {s.Lite, "lite"}} {
		switch {
		case r.spec == nil:
		case len(r.spec.Exec) == 0 || r.spec.Exec[0] == "":
			return fieldErr(r.name+".exec", "is required: the program and its arguments, e.g. [\"python3\", \"lite.py\"]")
		case r.spec.StepTimeout < 0:
			return fieldErr(r.name+".step_timeout", "must not be negative")
		}
	}
	if err := s.validNodes(); err != nil {
		return err
	}
	if _, ok := check.Lookup(s.Expect); !ok && s.Expect != "" && s.Expect != "pass" && s.Expect != check.NodeError {
		return fieldErr("expect", "%q: want \"pass\" or a property name (%s)", s.Expect, strings.Join(check.Names(), ", "))
	}
	p := s.sizing()
	heal, lites := p.WriteFor, p.Lites
	if err := p.CheckWork(); err != nil {
		return fieldErr("write_for", "%v", err)
	}
	roles := topology.Roles(lites)
	for i, f := range s.Faults {
		at := fmt.Sprintf("faults[%d]", i)
		if f.Kind == "" {
			return fieldErr(at+".kind", "is required")
		}
		k := faults.Kind(f.Kind)
		sp, err := f.spec()
		if err != nil {
			return prefixField(at, err)
		}
		switch {
		case f.Arg != 0 && k.Counts():
			return fieldErr(at+".arg", "%s takes a count, not a duration: use arg_n", f.Kind)
		case f.ArgN != 0 && !k.Counts():
			return fieldErr(at+".arg_n", "%s takes a duration, not a count: use arg", f.Kind)
		}
		if err := (faults.Plan{Heal: heal, Specs: []faults.Spec{sp}}).Validate(roles); err != nil {
			var se *faults.SpecError
			if !errors.As(err, &se) {
				return fieldErr(at, "%v", err)
			}
			msg := se.Msg
			field := at + "." + fileField(se.Field)
			if se.Field == "kind" {
				msg += " (kinds: " + kindList() + ")"
			}
			return fieldErr(field, "%s", msg)
		}
	}
	if g := s.Gates; g != nil && (g.ConvergeP99 < 0 || g.ResyncRatio < 0 || g.MaxStarve < 0) {
		return fieldErr("gates", "bounds must not be negative")
	}
	for _, m := range sortedMarks(s.Require) {
		if _, ok := topology.LookupMark(m); !ok {
			return fieldErr("require", "unknown mark %q (simrun marks lists them)", m)
		}
		if f := s.Require[m]; f <= 0 || f > 1 {
			return fieldErr("require", "%s: fraction %g: want 0 < fraction <= 1", m, f)
		}
	}
	for i, e := range s.Script {
		at := fmt.Sprintf("script[%d]", i)
		k := e.Kind
		if !k.IsFrame() && !isNodeKind(k) {
			return fieldErr(at+".kind", "unknown kind %q (kinds: %s)", e.Kind, kindList())
		}
		if e.At < 0 || (s.WriteFor != 0 && e.At >= sim.Time(s.WriteFor)) {
			return fieldErr(at+".at_ns", "%d is outside [0, write_for)", e.At)
		}
		if e.Node < 0 || int(e.Node) > lites || e.Peer < 0 || int(e.Peer) > lites {
			return fieldErr(at+".node", "node %d / peer %d: the run has nodes 0..%d", e.Node, e.Peer, lites)
		}
		if k.IsFrame() && !e.Type.Known() {
			return fieldErr(at+".type", "%d is not a message type byte", e.Type)
		}
	}
	return nil
}

func sortedMarks(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func isNodeKind(k faults.Kind) bool {
	for _, n := range faults.NodeKinds {
		if n == k {
			return true
		}
	}
	return false
}

func kindList() string {
	var out []string
	for _, k := range append(append([]faults.Kind(nil), faults.FrameKinds...), faults.NodeKinds...) {
		out = append(out, string(k))
	}
	return strings.Join(out, ", ")
}

// fileField is the scenario file's name for a faults.Spec field.
func fileField(f string) string {
	switch f {
	case "probability", "per_second":
		return "rate"
	case "for":
		return "arg"
	case "n":
		return "arg_n"
	}
	return f
}

// prefixField puts a FaultSpec field error under its place in the file.
func prefixField(at string, err error) error {
	var fe *FieldError
	if errors.As(err, &fe) {
		return &FieldError{Field: at + "." + fe.Field, Msg: fe.Msg}
	}
	return fieldErr(at, "%v", err)
}

// Parse reads a scenario from JSON; errors name the file, the line and
// column where the format allows, and the field.
func Parse(name string, data []byte) (*Scenario, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Scenario
	if err := dec.Decode(&s); err != nil {
		return nil, jsonpos.Error(name, data, err, "a scenario")
	}
	if dec.More() {
		return nil, fmt.Errorf("%s:%s: more than one JSON value", name, jsonpos.LineCol(data, dec.InputOffset()))
	}
	if err := s.Validate(); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			return nil, fmt.Errorf("%s:%s: %v", name, jsonpos.LineCol(data, jsonpos.KeyOffset(data, lastKey(fe.Field))), err)
		}
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &s, nil
}

// Load reads a scenario file.
func Load(path string) (*Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading scenario: %w", err)
	}
	return Parse(path, data)
}

// Marshal writes a scenario as indented JSON (what simrun show prints).
func Marshal(s *Scenario) []byte {
	b, _ := json.MarshalIndent(s, "", "  ")
	return append(b, '\n')
}

// lastKey is the last object key of a path like "faults[1].rate".
func lastKey(path string) string {
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		path = path[i+1:]
	}
	if i := strings.IndexByte(path, '['); i >= 0 {
		path = path[:i]
	}
	return path
}
