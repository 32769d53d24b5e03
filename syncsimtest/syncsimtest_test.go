package syncsimtest_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/syncsim/syncsim/scenarios"
	"github.com/syncsim/syncsim/syncsimtest"
)

// The reference nodes keep every property under loss and duplication: the
// call a NodeDB team would put in its own go test.
func TestReferenceUnderLoss(t *testing.T) {
	syncsimtest.Check(t, "lossy", 1, 2, 3)
}

// A scenario built in Go.
func TestScenarioBuiltInGo(t *testing.T) {
	syncsimtest.Check(t, scenarios.Scenario{Name: "two-lites-reorder", Lites: 2, WriteFor: scenarios.Duration(3e9),
		Faults: []scenarios.FaultSpec{{Kind: "reorder", Rate: 0.1, Arg: scenarios.Duration(50e6)}}}, 4)
}

// recorder is a testing.TB that keeps what Check reports.
type recorder struct {
	testing.TB
	errors []string
	fatal  string
}

func (r *recorder) Helper() {}
func (r *recorder) Error(args ...any) {
	r.errors = append(r.errors, fmt.Sprint(args...))
}
func (r *recorder) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }

// Check fails when it should: a planted bug is reported with the property,
// the trace events and the command that replays it; bad input fails at once.
func TestCheckReportsFailures(t *testing.T) {
	rec := &recorder{TB: t}
	sc, err := scenarios.Lookup("lossy")
	if err != nil {
		t.Fatal(err)
	}
	sc.Bug = "dedup-before-apply"
	syncsimtest.Check(rec, sc, 1)
	if len(rec.errors) != 1 {
		t.Fatalf("%d failures reported, want 1: %q", len(rec.errors), rec.errors)
	}
	for _, want := range []string{"lossy seed 1 failed", "property: acked-not-lost", "last 30 trace events", "simrun run -scenario FILE.json -seed 1", `"bug": "dedup-before-apply"`} {
		if !strings.Contains(rec.errors[0], want) {
			t.Errorf("report lacks %q:\n%s", want, rec.errors[0])
		}
	}
	rec = &recorder{TB: t}
	syncsimtest.Check(rec, "no-such-scenario")
	if !strings.Contains(rec.fatal, `no scenario named "no-such-scenario"`) {
		t.Errorf("bad name: %q", rec.fatal)
	}
	rec = &recorder{TB: t}
	syncsimtest.Check(rec, 42)
	if !strings.Contains(rec.fatal, "scenario of type int") {
		t.Errorf("bad type: %q", rec.fatal)
	}
	rec = &recorder{TB: t}
	syncsimtest.Check(rec, scenarios.Scenario{Name: "x", Lites: -1})
	if !strings.Contains(rec.fatal, "lites: -1") {
		t.Errorf("bad scenario: %q", rec.fatal)
	}
}
