package topology

import (
	"slices"
	"strings"
	"testing"

	"github.com/syncsim/syncsim/check"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// yesOrigin is a foreign Origin written against the contract alone: it
// welcomes every Lite and acks every push, and stores nothing.
type yesOrigin struct{ colls []string }

func (o *yesOrigin) Crash() {}
func (o *yesOrigin) Probe(p *sim.Probe) {
	for _, c := range o.colls {
		p.Collections = append(p.Collections, sim.CollectionState{Name: c})
	}
}
func (o *yesOrigin) Step(_ sim.Time, in *sim.Input, fx *sim.Effects) {
	if in.Kind != sim.InFrame {
		return
	}
	m, err := fx.Decode(in.Frame)
	if err != nil {
		return
	}
	switch m := m.(type) {
	case *wire.Handshake:
		fx.Send(in.Conn, &wire.HandshakeAck{Success: true, SessionID: "yes", ServerWireVersion: 1})
	case *wire.DeltaPush:
		fx.Send(in.Conn, &wire.DeltaAck{MutationID: m.MutationID})
	}
}

func yesImpl(claims ...string) sim.Impl {
	return sim.Impl{Name: "yes-origin", Claims: sim.Claims{Properties: claims},
		New: func(env sim.Env) (sim.Node, error) { return &yesOrigin{colls: env.Collections}, nil }}
}

// mute is a foreign Lite that never dials.
type mute struct{ colls []string }

func (m *mute) Crash()                                  {}
func (m *mute) Step(sim.Time, *sim.Input, *sim.Effects) {}
func (m *mute) Probe(p *sim.Probe) {
	for _, c := range m.colls {
		p.Collections = append(p.Collections, sim.CollectionState{Name: c})
	}
}

func muteImpl(claims ...string) sim.Impl {
	return sim.Impl{Name: "mute-lite", Claims: sim.Claims{Properties: claims},
		New: func(env sim.Env) (sim.Node, error) { return &mute{colls: env.Collections}, nil }}
}

// The seam: implementations other than the reference run under the same
// kernel, faults and checkers, judged on what they claim.
func TestForeignImplementations(t *testing.T) {
	t.Run("an origin that acks what it never applied", func(t *testing.T) {
		p := refDefaults()
		p.Seed, p.Origin = 2, yesImpl(check.AckedNotLost, check.Convergence)
		r, err := Run(p)
		if err != nil {
			t.Fatal(err)
		}
		if r.Violation == nil || r.Violation.Property != check.AckedNotLost || !strings.Contains(r.Violation.Message, "was acked but origin never applied it") {
			t.Fatalf("violation %v, want acked-not-lost", r.Violation)
		}
		if r.Impls.Origin != "yes-origin" || r.Impls.Lite != "reference" {
			t.Fatalf("impls %+v", r.Impls)
		}
	})
	t.Run("the same origin, claiming nothing, is not held to acked-not-lost", func(t *testing.T) {
		p := refDefaults()
		p.Seed, p.Origin = 2, yesImpl()
		r, err := Run(p)
		if err != nil {
			t.Fatal(err)
		}
		if !r.Pass() || r.Violation != nil {
			t.Fatalf("violation %v: an unclaimed property was checked", r.Violation)
		}
		if slices.Contains(r.Checked, check.AckedNotLost) || slices.Contains(r.Checked, check.Convergence) {
			t.Fatalf("checked %v", r.Checked)
		}
		why := map[string]string{}
		for _, u := range r.Unchecked {
			why[u.Property] = u.Why
		}
		if !strings.Contains(why[check.AckedNotLost], "not claimed by the origin (yes-origin)") ||
			!strings.Contains(why[check.Convergence], "the origin (yes-origin)") {
			t.Fatalf("unchecked %+v", r.Unchecked)
		}
		if !slices.Contains(r.Checked, check.InOrderApply) {
			t.Fatalf("the reference lites' own claims were dropped: checked %v", r.Checked)
		}
	})
	t.Run("a lite that never connects does not converge", func(t *testing.T) {
		p := refDefaults()
		p.Seed, p.Lite = 3, muteImpl(check.Convergence)
		r, err := Run(p)
		if err != nil {
			t.Fatal(err)
		}
		if r.Pass() || r.Violation == nil || r.Violation.Property != check.Convergence || !strings.Contains(r.Violation.Message, "lite1 is not connected") {
			t.Fatalf("violation %v, want convergence: lite1 is not connected", r.Violation)
		}
	})
	t.Run("an implementation that claims an unknown property is refused", func(t *testing.T) {
		p := refDefaults()
		p.Lite = muteImpl("converges-eventually")
		if _, err := New(p); err == nil || !strings.Contains(err.Error(), `claims "converges-eventually", which is not a property`) {
			t.Fatalf("err %v", err)
		}
	})
}
