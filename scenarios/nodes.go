package scenarios

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/syncsim/syncsim/nodes/lite"
	"github.com/syncsim/syncsim/nodes/nodedb"
	"github.com/syncsim/syncsim/nodes/origin"
	"github.com/syncsim/syncsim/nodes/reference"
	"github.com/syncsim/syncsim/sim"
)

// The built-in implementations a scenario can name for a role.
const (
	Reference = "reference"
	NodeDB    = nodedb.ImplName // "nodedb-2026"
)

// Implementations lists the built-in implementations with what each is.
func Implementations() [][2]string {
	return [][2]string{
		{Reference, "syncsim's reference Lite and Origin (nodes/lite, nodes/origin); planted bugs with -bug"},
		{NodeDB, "a model of NodeDB's April 2026 Lite and Origin (nodes/nodedb, docs/nodedb-2026.md)"},
	}
}

// Nodes names the built-in implementation of each role ("" is the
// reference). In a scenario file it is one name for both roles,
// "nodes": "nodedb-2026", or one per role,
// "nodes": {"lite": "nodedb-2026", "origin": "reference"}.
type Nodes struct {
	Lite   string `json:"lite,omitempty"`
	Origin string `json:"origin,omitempty"`
}

// ParseNodes reads the -nodes flag's form: NAME for both roles, or
// lite=NAME,origin=NAME (either may be left out).
func ParseNodes(s string) (Nodes, error) {
	if !strings.Contains(s, "=") {
		n := Nodes{Lite: s, Origin: s}
		return n, n.check()
	}
	var n Nodes
	for _, part := range strings.Split(s, ",") {
		role, name, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch role {
		case "lite":
			n.Lite = name
		case "origin":
			n.Origin = name
		default:
			return Nodes{}, fmt.Errorf("%q: want NAME, or lite=NAME,origin=NAME", s)
		}
	}
	return n, n.check()
}

func (n Nodes) check() error {
	for _, name := range []string{n.Lite, n.Origin} {
		if name != "" && name != Reference && name != NodeDB {
			return fmt.Errorf("no implementation named %q (built in: %s, %s; any program with -lite-exec / -origin-exec)", name, Reference, NodeDB)
		}
	}
	return nil
}

// String is the -nodes form of n.
func (n Nodes) String() string {
	l, o := n.lite(), n.origin()
	if l == o {
		return l
	}
	return "lite=" + l + ",origin=" + o
}

func (n Nodes) lite() string   { return or(n.Lite, Reference) }
func (n Nodes) origin() string { return or(n.Origin, Reference) }

func or(s, dflt string) string {
	if s == "" {
		return dflt
	}
	return s
}

// UnmarshalJSON reads one name for both roles or an object of two.
func (n *Nodes) UnmarshalJSON(b []byte) error {
	var name string
	if err := json.Unmarshal(b, &name); err == nil {
		*n = Nodes{Lite: name, Origin: name}
		return n.check()
	}
	type plain Nodes
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var p plain
	if err := dec.Decode(&p); err != nil {
		return fmt.Errorf(`want a name ("nodedb-2026") or {"lite": NAME, "origin": NAME}`)
	}
	*n = Nodes(p)
	return n.check()
}

// MarshalJSON writes one name when both roles have it.
func (n Nodes) MarshalJSON() ([]byte, error) {
	if n.lite() == n.origin() {
		return json.Marshal(n.lite())
	}
	type plain Nodes
	return json.Marshal(plain{Lite: n.lite(), Origin: n.origin()})
}

// roleNames are the implementations of a scenario's roles, as its fields
// choose them: a program, a built-in by name, or the reference.
func (s *Scenario) roleNames() (liteName, originName string) {
	var n Nodes
	if s.Nodes != nil {
		n = *s.Nodes
	}
	liteName, originName = n.lite(), n.origin()
	if s.Lite != nil {
		liteName = "exec"
	}
	if s.Origin != nil {
		originName = "exec"
	}
	return liteName, originName
}

// validNodes checks that the scenario's choice of implementations holds
// together with its bugs and programs.
func (s *Scenario) validNodes() error {
	if s.Nodes != nil {
		if err := s.Nodes.check(); err != nil {
			return fieldErr("nodes", "%v", err)
		}
		if s.Lite != nil && s.Nodes.Lite != "" {
			return fieldErr("nodes", "the Lite is both %q and the program of \"lite\": give one", s.Nodes.Lite)
		}
		if s.Origin != nil && s.Nodes.Origin != "" {
			return fieldErr("nodes", "the Origin is both %q and the program of \"origin\": give one", s.Nodes.Origin)
		}
	}
	if s.Bug == "" {
		return nil
	}
	l, o := s.roleNames()
	for _, name := range strings.Split(s.Bug, ",") {
		b, err := reference.Lookup(strings.TrimSpace(name))
		if err != nil {
			return fieldErr("bug", "%v", err)
		}
		var c reference.Config
		b.Configure(&c)
		if c.Lite.Bugs != (lite.Bugs{}) && l != Reference {
			return fieldErr("bug", "%s is planted in the reference Lite, and the Lite here is %s", b.Name, l)
		}
		if c.Origin.Bugs != (origin.Bugs{}) && o != Reference {
			return fieldErr("bug", "%s is planted in the reference Origin, and the Origin here is %s", b.Name, o)
		}
	}
	return nil
}

// BuiltIn is the built-in implementation called name (Reference or
// NodeDB) of role; ref configures the reference nodes (tuning and bugs).
func BuiltIn(name string, role sim.Role, ref reference.Config) (sim.Impl, error) {
	if err := (Nodes{Lite: name}).check(); err != nil {
		return sim.Impl{}, err
	}
	return builtIn(name, role, ref), nil
}

func builtIn(name string, role sim.Role, ref reference.Config) sim.Impl {
	switch {
	case name == NodeDB && role == sim.RoleLite:
		return nodedb.LiteImpl(nodedb.LiteConfig{})
	case name == NodeDB:
		return nodedb.OriginImpl(nodedb.OriginConfig{})
	case role == sim.RoleLite:
		return ref.LiteImpl()
	}
	return ref.OriginImpl()
}
