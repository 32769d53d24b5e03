package main

import (
	"strings"
	"testing"
)

// -nodes picks implementations per role, and the commands a run prints to
// replay it carry the choice.
func TestNodesFlag(t *testing.T) {
	t.Parallel()
	r := simrun(t, nil, "run", "-scenario", "baseline", "-nodes", "nodedb-2026")
	if r.code != 1 || !strings.Contains(r.stdout, "lite1 has 1 unanswered resync requests") ||
		!strings.Contains(r.stdout, "replay: simrun run -scenario baseline -seed 1 -nodes nodedb-2026") ||
		!strings.Contains(r.stdout, "origin nodedb-2026  lites nodedb-2026") {
		t.Errorf("nodedb-2026 on baseline: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	for _, nodes := range []string{"lite=nodedb-2026", "origin=nodedb-2026", "lite=nodedb-2026,origin=reference", "reference"} {
		if r := simrun(t, nil, "run", "-scenario", "baseline", "-nodes", nodes); r.code != 0 {
			t.Errorf("-nodes %s on baseline: exit %d\n%s%s", nodes, r.code, r.stdout, r.stderr)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "-nodes", "nodedb-2025"}, `no implementation named "nodedb-2025"`},
		{[]string{"run", "-nodes", "client=reference"}, "want NAME, or lite=NAME,origin=NAME"},
		{[]string{"run", "-nodes", "nodedb-2026", "-bug", "no-dedup"}, "no-dedup is planted in the reference Origin, and the Origin here is nodedb-2026"},
		{[]string{"run", "-bug", "nodedb-2026"}, "select it with -nodes nodedb-2026"},
		{[]string{"nodedb", "-w", "W99"}, `no weakness "W99"`},
	} {
		simrun(t, nil, tc.args...).oneLineError(t, tc.args, tc.want)
	}
}

func TestNodeDBReport(t *testing.T) {
	t.Parallel()
	r := simrun(t, nil, "nodedb", "-w", "W8,W9,W7")
	for _, want := range []string{
		"W8 dedup mark ... nodedb-2026 / nodedb-2026 1 acked-not-lost 1 -> 1 passes",
		"W9 one WAL LSN ... nodedb-2026 / nodedb-2026 1 convergence 0 -> 0 passes", "lite1 has 1 unanswered resync requests",
		"W7 throttle without a lease - - not exposed - -",
		"replay: simrun run -scenario testdata/nodedb/W8.json",
	} {
		if !shows(r.stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, r.stdout)
		}
	}
	if r.code != 0 {
		t.Errorf("exit %d\n%s", r.code, r.stderr)
	}
}
