package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/syncsim/syncsim/nodes/reference"
)

func TestCatalogueList(t *testing.T) {
	t.Parallel()
	args := []string{"catalogue", "-list"}
	out := simrun(t, nil, args...).ok(t, args)
	for _, b := range reference.Catalogue() {
		if !regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(b.Name) + `\s+(yes|no)\s+\S+\s+` + regexp.QuoteMeta(b.Hunt) + `\s`).MatchString(out) {
			t.Errorf("catalogue -list lacks a row for %s:\n%s", b.Name, out)
		}
	}
}

// TestCatalogueScoresABug scores two bugs end to end: each is caught in its
// own scenario, the JSON agrees with the table, and the replay command it
// prints reproduces the failure.
func TestCatalogueScoresABug(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	js := filepath.Join(dir, "cat.json")
	res := simrun(t, nil, "catalogue", "-bug", "dedup-before-apply", "-seeds", "5", "-starts", "2", "-json", js)
	if res.code != 0 {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if !regexp.MustCompile(`(?m)^dedup-before-apply\s+yes\s+swarm\s+2/2\s+\d+\s+acked-not-lost`).MatchString(res.stdout) ||
		!regexp.MustCompile(`(?m)^\s+lossy\s+2/2\s+\d+\s+acked-not-lost\s+\d+ -> [1-5]\s`).MatchString(res.stdout) ||
		!strings.Contains(res.stdout, "1 of 1 caught") {
		t.Errorf("unexpected table:\n%s", res.stdout)
	}
	data, err := os.ReadFile(js)
	if err != nil {
		t.Fatal(err)
	}
	var rows []CatalogueRowJSON
	if err := json.Unmarshal(data, &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || len(rows[0].Hunts) != 2 || !rows[0].Hunts[1].Detected || rows[0].Hunts[1].Replay == "" {
		t.Fatalf("JSON: %+v", rows)
	}
	replay := strings.Fields(strings.TrimPrefix(rows[0].Hunts[1].Replay, "simrun "))
	if r := simrun(t, nil, replay...); r.code != 1 || !strings.Contains(r.stdout, "acked-not-lost violated") || !strings.Contains(r.stdout, "-bug dedup-before-apply") {
		t.Errorf("replay %q: exit %d\n%s", replay, r.code, r.stdout)
	}
}

// TestBugFlag: -bug switches a planted bug on for run, sweep and shrink;
// the replay commands carry it; a bad name is a one-line error.
func TestBugFlag(t *testing.T) {
	t.Parallel()
	if r := simrun(t, nil, "run", "-scenario", "lossy", "-seed", "1"); r.code != 0 {
		t.Fatalf("lossy seed 1 without a bug: exit %d\n%s", r.code, r.stdout)
	}
	r := simrun(t, nil, "run", "-scenario", "lossy", "-seed", "1", "-bug", "no-dedup")
	if r.code != 1 || !strings.Contains(r.stdout, "applied-at-most-once violated") ||
		!strings.Contains(r.stdout, "simrun run -scenario lossy -seed 1 -bug no-dedup") {
		t.Fatalf("run -bug no-dedup: exit %d\n%s", r.code, r.stdout)
	}
	s := simrun(t, nil, "sweep", "-scenario", "lossy", "-seeds", "3", "-bug", "no-dedup", "-progress", "lines")
	if s.code != 1 || !strings.Contains(s.stdout, "-bug no-dedup") {
		t.Fatalf("sweep -bug: exit %d\n%s", s.code, s.stdout)
	}
	out := filepath.Join(t.TempDir(), "s.json")
	if sh := simrun(t, nil, "shrink", "-scenario", "lossy", "-seed", "1", "-bug", "no-dedup", "-o", out); sh.code != 0 {
		t.Fatalf("shrink -bug: exit %d\n%s%s", sh.code, sh.stdout, sh.stderr)
	}
	// The shrunk file carries the bug: it fails without -bug.
	if again := simrun(t, nil, "run", "-scenario", out); again.code != 1 || !strings.Contains(again.stdout, "applied-at-most-once") {
		t.Errorf("shrunk file: exit %d\n%s", again.code, again.stdout)
	}
	// -bug none switches off the bug a file names, and the replay keeps it.
	if off := simrun(t, nil, "run", "-scenario", out, "-bug", "none"); off.code != 0 ||
		!strings.Contains(off.stdout, "-bug none") {
		t.Errorf("shrunk file with -bug none: exit %d\n%s", off.code, off.stdout)
	}
	for _, args := range [][]string{
		{"run", "-scenario", "lossy", "-bug", "no-such-bug"},
		{"sweep", "-scenario", "lossy", "-seeds", "2", "-bug", "no-such-bug"},
		{"catalogue", "-bug", "no-such-bug"},
	} {
		simrun(t, nil, args...).oneLineError(t, args, `no planted bug named "no-such-bug"`)
	}
	args := []string{"run", "-scenario", "lossy", "-bug", "none,no-dedup"}
	simrun(t, nil, args...).oneLineError(t, args, "none switches every bug off and goes alone")
	args = []string{"catalogue", "-seeds", "0"}
	simrun(t, nil, args...).oneLineError(t, args, "must be at least 1")
}
