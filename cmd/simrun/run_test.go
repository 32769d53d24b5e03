package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestRunPassPrintsHashAndReplays(t *testing.T) {
	dir := t.TempDir()
	res := simrun(t, nil, "run", "-seed", "7", "-chaos", "0.03", "-resets", "0.5", "-write-for", "10s",
		"-json", filepath.Join(dir, "r.json"), "-trace", filepath.Join(dir, "t.jsonl"))
	if res.code != 0 || !strings.HasPrefix(res.stdout, "PASS") {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	hash := regexp.MustCompile(`trace hash\s+([0-9a-f]{16})`).FindStringSubmatch(res.stdout)
	replay := regexp.MustCompile(`replay: simrun (.*)`).FindStringSubmatch(res.stdout)
	if hash == nil || replay == nil {
		t.Fatalf("no hash or replay line:\n%s", res.stdout)
	}
	// The printed replay command must reproduce the same trace hash.
	again := simrun(t, nil, strings.Fields(replay[1])...)
	if !strings.Contains(again.stdout, hash[1]) {
		t.Fatalf("replay %q gave\n%s\nwant hash %s", replay[1], again.stdout, hash[1])
	}
	var out struct {
		Pass      bool   `json:"pass"`
		TraceHash string `json:"trace_hash"`
		Series    []struct {
			Name   string       `json:"name"`
			Points [][2]float64 `json:"points"`
		} `json:"series"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "r.json"))
	if err != nil || json.Unmarshal(b, &out) != nil {
		t.Fatalf("result file: %v\n%s", err, b)
	}
	if !out.Pass || out.TraceHash != hash[1] || len(out.Series) == 0 || len(out.Series[0].Points) == 0 {
		t.Fatalf("result file: pass=%v hash=%s series=%d", out.Pass, out.TraceHash, len(out.Series))
	}
	trace, _ := os.ReadFile(filepath.Join(dir, "t.jsonl"))
	for i, line := range strings.Split(strings.TrimSpace(string(trace)), "\n")[:50] {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatalf("trace line %d is not JSON: %v: %s", i+1, err, line)
		}
	}
	if !strings.Contains(string(trace), `"ev":"fault"`) {
		t.Fatal("the trace records no fault decisions")
	}
}

func TestRunFailsWhenBudgetTooShort(t *testing.T) {
	// One simulated millisecond cannot converge 16 Lites: exit 1, FAIL,
	// and a replay command.
	res := simrun(t, nil, "run", "-lites", "16", "-budget", "1ms")
	if res.code != 1 || !strings.HasPrefix(res.stdout, "FAIL") || !strings.Contains(res.stdout, "replay: simrun run") {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

func TestRunAndSuiteErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "-chaos", "2"}, "-chaos 2"},
		{[]string{"run", "-lites", "0"}, "lites = 0"},
		{[]string{"run", "-write-for", "0s"}, "-write-for"},
		{[]string{"run", "-seed", "x"}, "invalid value"},
		{[]string{"run", "extra"}, `unexpected argument "extra"`},
		{[]string{"run", "-trace", "/nonexistent/dir/t"}, "no such file"},
		{[]string{"suite", "-seeds", "0"}, "-seeds 0"},
	} {
		res := simrun(t, nil, tc.args...)
		if res.code != 2 || strings.Count(res.stderr, "\n") != 1 || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want one line with %q", tc.args, res.code, res.stderr, tc.want)
		}
	}
}

func TestSuitePasses(t *testing.T) {
	res := simrun(t, nil, "suite", "-seeds", "2")
	if res.code != 0 || !strings.Contains(res.stdout, "all runs converged") {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	for _, e := range suite {
		if !regexp.MustCompile(`(?m)^\s*` + e.name + `\s+2\s+2\s+0\s`).MatchString(res.stdout) {
			t.Errorf("no passing row for %s in\n%s", e.name, res.stdout)
		}
	}
}
