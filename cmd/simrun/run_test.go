package main

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var hashRE = regexp.MustCompile(`trace hash\s+([0-9a-f]{16})`)

func TestListAndShow(t *testing.T) {
	res := simrun(t, nil, "list")
	for _, n := range []string{"baseline", "lossy", "reorder", "corruption", "partition-heal", "crash-restart", "slow-consumer", "fanout", "swarm"} {
		if !regexp.MustCompile(`(?m)^` + n + `\s+\S`).MatchString(res.stdout) {
			t.Errorf("list lacks %s:\n%s", n, res.stdout)
		}
	}
	// show writes a file that runs to the same hash as the name does.
	dir := t.TempDir()
	shown := simrun(t, nil, "show", "lossy")
	path := filepath.Join(dir, "lossy.json")
	if err := os.WriteFile(path, []byte(shown.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	a := simrun(t, nil, "run", "-scenario", "lossy", "-seed", "4")
	b := simrun(t, nil, "run", "-scenario", path, "-seed", "4")
	ha, hb := hashRE.FindStringSubmatch(a.stdout), hashRE.FindStringSubmatch(b.stdout)
	if a.code != 0 || b.code != 0 || ha == nil || hb == nil || ha[1] != hb[1] {
		t.Fatalf("named and shown-file runs differ:\n%s\n%s%s", a.stdout, b.stdout, b.stderr)
	}
}

func TestRunPassReplayAndFiles(t *testing.T) {
	dir := t.TempDir()
	res := simrun(t, nil, "run", "-scenario", "swarm", "-seed", "7", "-json", filepath.Join(dir, "r.json"), "-trace", filepath.Join(dir, "t.jsonl"))
	if res.code != 0 || !strings.HasPrefix(res.stdout, "PASS") {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	hash := hashRE.FindStringSubmatch(res.stdout)
	replay := regexp.MustCompile(`replay: simrun (.*)`).FindStringSubmatch(res.stdout)
	if hash == nil || replay == nil {
		t.Fatalf("no hash or replay line:\n%s", res.stdout)
	}
	// The printed replay command reproduces the same trace hash.
	if again := simrun(t, nil, strings.Fields(replay[1])...); !strings.Contains(again.stdout, hash[1]) {
		t.Fatalf("replay %q gave\n%s\nwant hash %s", replay[1], again.stdout, hash[1])
	}
	// simrun replay confirms it from the result file.
	if rep := simrun(t, nil, "replay", "-result", filepath.Join(dir, "r.json")); rep.code != 0 || !strings.HasPrefix(rep.stdout, "IDENTICAL") {
		t.Fatalf("replay -result: exit %d %s%s", rep.code, rep.stdout, rep.stderr)
	}
	// ... and detects a different hash.
	if rep := simrun(t, nil, "replay", "-scenario", "swarm", "-seed", "7", "-hash", "0000000000000000"); rep.code != 1 || !strings.HasPrefix(rep.stdout, "DIFFERENT") {
		t.Fatalf("replay with a wrong hash: exit %d %s", rep.code, rep.stdout)
	}
	var out RunJSON
	b, _ := os.ReadFile(filepath.Join(dir, "r.json"))
	if err := json.Unmarshal(b, &out); err != nil || !out.Pass || out.TraceHash != hash[1] || len(out.Series) == 0 || len(out.Faults) == 0 {
		t.Fatalf("result file: %v pass=%v faults=%d series=%d", err, out.Pass, len(out.Faults), len(out.Series))
	}
	trace, _ := os.ReadFile(filepath.Join(dir, "t.jsonl"))
	if !strings.Contains(string(trace), `"ev":"fault"`) {
		t.Fatal("the trace records no fault decisions")
	}
	if d := simrun(t, nil, "run", "-scenario", "lossy", "-seed", "2", "-check-determinism"); d.code != 0 || !strings.Contains(d.stdout, "determinism: a second run gave the same trace hash") {
		t.Fatalf("check-determinism: exit %d %s", d.code, d.stdout)
	}
}

func TestRunFailsWithReport(t *testing.T) {
	dir := t.TempDir()
	// A scenario that cannot converge: 16 Lites, 1 ms of budget.
	path := filepath.Join(dir, "tight.json")
	os.WriteFile(path, []byte(`{"name": "tight", "lites": 16, "budget": "1ms"}`), 0o644)
	res := simrun(t, nil, "run", "-scenario", path)
	for _, want := range []string{"FAIL  tight seed 1: convergence violated", "property: convergence", "last ", "shrink: simrun shrink -scenario " + path, "replay: simrun run -scenario " + path + " -seed 1"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if res.code != 1 {
		t.Fatalf("exit %d\n%s", res.code, res.stdout)
	}
}

func TestSweepSummaryJSONJUnitAndShards(t *testing.T) {
	dir := t.TempDir()
	res := simrun(t, nil, "sweep", "-scenario", "lossy", "-seeds", "12", "-parallel", "2", "-progress", "lines",
		"-json", filepath.Join(dir, "all.json"), "-junit", filepath.Join(dir, "all.xml"))
	if res.code != 0 || !strings.Contains(res.stdout, "lossy: 12 runs, 12 passed, 0 failed") || !strings.Contains(res.stdout, "p50") {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(res.stderr, "12/12 seeds") {
		t.Errorf("no progress lines on stderr: %q", res.stderr)
	}
	var all SweepJSON
	b, _ := os.ReadFile(filepath.Join(dir, "all.json"))
	if json.Unmarshal(b, &all) != nil || len(all.Runs) != 12 {
		t.Fatalf("sweep json: %d runs", len(all.Runs))
	}
	var suite struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	x, _ := os.ReadFile(filepath.Join(dir, "all.xml"))
	if xml.Unmarshal(x, &suite) != nil || suite.Tests != 12 || suite.Failures != 0 {
		t.Fatalf("junit: %+v", suite)
	}
	// Three shards, one of them via JOB_COMPLETION_INDEX, merge to the
	// same runs (same hashes) as the unsharded sweep.
	var files []string
	for k := 0; k < 3; k++ {
		f := filepath.Join(dir, "s"+string(rune('0'+k))+".json")
		args := []string{"sweep", "-scenario", "lossy", "-seeds", "12", "-progress", "none", "-json", f}
		var env []string
		if k == 2 {
			args = append(args, "-shards", "3")
			env = []string{"JOB_COMPLETION_INDEX=2"}
		} else {
			args = append(args, "-shard", string(rune('0'+k))+"/3")
		}
		if r := simrunEnv(t, env, args...); r.code != 0 {
			t.Fatalf("shard %d: exit %d %s%s", k, r.code, r.stdout, r.stderr)
		}
		files = append(files, f)
	}
	m := simrun(t, nil, append([]string{"merge", "-json", filepath.Join(dir, "merged.json")}, files...)...)
	if m.code != 0 || !strings.Contains(m.stdout, "12 runs, 12 passed") {
		t.Fatalf("merge: exit %d\n%s%s", m.code, m.stdout, m.stderr)
	}
	var merged SweepJSON
	b, _ = os.ReadFile(filepath.Join(dir, "merged.json"))
	json.Unmarshal(b, &merged)
	for i := range all.Runs {
		if merged.Runs[i].Seed != all.Runs[i].Seed || merged.Runs[i].TraceHash != all.Runs[i].TraceHash {
			t.Fatalf("run %d: merged %d/%s, unsharded %d/%s", i, merged.Runs[i].Seed, merged.Runs[i].TraceHash, all.Runs[i].Seed, all.Runs[i].TraceHash)
		}
	}
	// An incomplete or overlapping shard set is never a green merge, and
	// says what is wrong; a file that is not a sweep is bad input.
	for _, tc := range []struct {
		files []string
		want  string
	}{
		{[]string{files[0], files[0], files[1], files[2]}, "seed 3 appears in more than one file"},
		{[]string{files[0], files[2]}, "shards missing: 1/3"},
	} {
		if m := simrun(t, nil, append([]string{"merge"}, tc.files...)...); m.code != 1 || !strings.Contains(m.stdout, "NOT ONE COMPLETE SWEEP") || !strings.Contains(m.stdout, tc.want) {
			t.Errorf("merge %v: exit %d, want 1 and %q\n%s%s", tc.files, m.code, tc.want, m.stdout, m.stderr)
		}
	}
	if m := simrun(t, nil, "merge", files[0], filepath.Join(dir, "all.xml")); m.code != 2 || !strings.Contains(m.stderr, "all.xml") {
		t.Errorf("merge of a non-sweep: exit %d %s", m.code, m.stderr)
	}
}

// A sweep of more seeds than could ever run starts at once (nothing is
// made per planned seed up front), and on Ctrl-C writes what ran and says
// what did not: in the summary, the JSON and the JUnit report. (Its memory
// per run is held to budget by BenchmarkSweepMemory.)
func TestSweepInterruptKeepsResults(t *testing.T) {
	dir := t.TempDir()
	out, junit := filepath.Join(dir, "partial.json"), filepath.Join(dir, "partial.xml")
	r := interrupted(t, after(2*time.Second), "sweep", "-scenario", "fanout", "-seeds", "99999999999", "-parallel", "2", "-progress", "none", "-json", out, "-junit", junit)
	if r.code != 1 || !strings.Contains(r.stderr, "interrupted after") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	var s SweepJSON
	b, err := os.ReadFile(out)
	if err != nil || json.Unmarshal(b, &s) != nil || !s.Interrupted || len(s.Runs) == 0 || s.Done != uint64(len(s.Runs)) {
		t.Fatalf("partial results: %v, %d runs, done %d, interrupted=%v", err, len(s.Runs), s.Done, s.Interrupted)
	}
	ran := len(s.Runs)
	if !strings.Contains(r.stdout, "passed") ||
		!strings.Contains(r.stdout, fmt.Sprintf("INTERRUPTED: %d of 99999999999 planned seeds ran; %d did not (seeds %d..99999999999)", ran, 99999999999-ran, ran+1)) {
		t.Fatalf("summary on interrupt: %q", r.stdout)
	}
	x, err := os.ReadFile(junit)
	if err != nil || !strings.Contains(string(x), fmt.Sprintf(`tests="%d" failures="0" errors="0" skipped="1"`, ran+1)) ||
		!strings.Contains(string(x), fmt.Sprintf("%d seeds not run (interrupted)", 99999999999-ran)) {
		t.Fatalf("junit on interrupt (%v):\n%s", err, x)
	}
}

// Ctrl-C during a sweep of long runs does not wait for them: the runs
// under way stop where they are and count as not run.
func TestSweepInterruptCutsLongRuns(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "cut.json")
	// Nothing says when the first run has started (a sweep prints its
	// first progress line after a tenth of its seeds); 1.5 s is well past
	// the set-up and well inside that run, which takes about 10 s.
	r := interrupted(t, after(1500*time.Millisecond), "sweep", "-scenario", "../../testdata/sweeps/fanout-1024.json", "-seeds", "3", "-parallel", "1", "-progress", "none", "-json", out)
	if r.code != 1 || !strings.Contains(r.stdout, "INTERRUPTED: 0 of 3 planned seeds ran; 3 did not (seeds 1..3)") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	var s SweepJSON
	if b, err := os.ReadFile(out); err != nil || json.Unmarshal(b, &s) != nil || !s.Interrupted || len(s.Runs) != 0 {
		t.Fatalf("partial results: %v, %d runs, interrupted=%v", err, len(s.Runs), s.Interrupted)
	}
}

// Ctrl-C during a run ends it where it is: the trace written is every
// event up to there, in whole lines, the profiles of what ran are written,
// no verdict is printed, and the exit status is 1.
func TestRunInterruptWritesTraceAndProfiles(t *testing.T) {
	dir := t.TempDir()
	cpu, mem, trace := filepath.Join(dir, "cpu.out"), filepath.Join(dir, "mem.out"), filepath.Join(dir, "trace.jsonl")
	// The run takes about 10 s; the trace's first buffer reaching the
	// file says it is under way.
	r := interrupted(t, func() bool { fi, err := os.Stat(trace); return err == nil && fi.Size() > 0 },
		"run", "-scenario", "../../testdata/sweeps/fanout-1024.json", "-cpuprofile", cpu, "-memprofile", mem, "-trace", trace)
	if r.code != 1 || !strings.Contains(r.stderr, "interrupted at simulated") ||
		!strings.Contains(r.stderr, "before the verdict: no result; the trace up to there is in "+trace+", the profiles of the part that ran are written") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if strings.Contains(r.stdout, "PASS") || strings.Contains(r.stdout, "trace hash") {
		t.Fatalf("a verdict after an interrupt: %q", r.stdout)
	}
	for _, f := range []string{cpu, mem} {
		b, err := os.ReadFile(f)
		if err != nil || len(b) < 64 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("%s: %d bytes, err %v: not a gzipped profile", filepath.Base(f), len(b), err)
		}
	}
	b, err := os.ReadFile(trace)
	if err != nil || len(b) == 0 || b[len(b)-1] != '\n' {
		t.Fatalf("trace: %d bytes, err %v: not whole lines", len(b), err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	for i, l := range lines {
		if !json.Valid([]byte(l)) {
			t.Fatalf("trace line %d of %d is not JSON: %.80q", i+1, len(lines), l)
		}
	}
}

// interrupted starts simrun with args, waits until ready says the work is
// under way (at most 30 s), sends it SIGINT and returns what it printed
// and its exit status.
func interrupted(t *testing.T, ready func() bool, args ...string) result {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); !ready(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("simrun %s: not under way after 30 s", strings.Join(args, " "))
		}
	}
	cmd.Process.Signal(syscall.SIGINT)
	cmd.Wait() // its error is the exit status, returned
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
}

// after is a ready condition for interrupted: d has passed since it was made.
func after(d time.Duration) func() bool {
	at := time.Now().Add(d)
	return func() bool { return !time.Now().Before(at) }
}

func TestShrinkWritesAReproducingScenario(t *testing.T) {
	dir := t.TempDir()
	// A scenario that fails under faults but not without: a tiny budget
	// that a clean network meets and a partitioned one does not.
	path := filepath.Join(dir, "fragile.json")
	os.WriteFile(path, []byte(`{"name": "fragile", "lites": 2, "write_for": "3s", "budget": "400ms",
	  "faults": [{"kind": "partition", "rate": 2, "target": "lites", "arg": "1s"}, {"kind": "drop", "rate": 0.02, "target": "all"}]}`), 0o644)
	var seed string
	for s := 1; s <= 20 && seed == ""; s++ {
		if r := simrun(t, nil, "run", "-scenario", path, "-seed", strconv.Itoa(s)); r.code == 1 {
			seed = strconv.Itoa(s)
		}
	}
	if seed == "" {
		t.Fatal("no failing seed in 1..20")
	}
	out := filepath.Join(dir, "shrunk.json")
	res := simrun(t, nil, "shrink", "-scenario", path, "-seed", seed, "-o", out)
	if res.code != 0 || !regexp.MustCompile(`fault events -> \d+`).MatchString(res.stdout) {
		t.Fatalf("shrink: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	// The written scenario reproduces the failure by itself (its seed is in it).
	again := simrun(t, nil, "run", "-scenario", out)
	if again.code != 1 || !strings.Contains(again.stdout, "convergence violated") {
		t.Fatalf("shrunk scenario: exit %d\n%s%s", again.code, again.stdout, again.stderr)
	}
	// A passing run has nothing to shrink.
	if r := simrun(t, nil, "shrink", "-scenario", "baseline", "-seed", "1"); r.code != 1 || !strings.Contains(r.stdout, "nothing to shrink") {
		t.Fatalf("shrink of a pass: exit %d %s", r.code, r.stdout)
	}
}

func TestScenarioCommandErrors(t *testing.T) {
	dir := t.TempDir()
	bad := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(body), 0o644)
		return p
	}
	link := filepath.Join(dir, "link.out") // the CPU profile's file by another name
	if err := os.Symlink(filepath.Join(dir, "p.out"), link); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "-scenario", "nope"}, `no scenario named "nope"`},
		{[]string{"run", "-scenario", filepath.Join(dir, "missing.json")}, "no such file"},
		{[]string{"run", "-scenario", bad("syntax.json", "{\n  \"name\": \"x\",\n  \"lites\": 3,,\n}")}, "syntax.json:3:14: invalid character ','"},
		{[]string{"run", "-scenario", bad("unknown.json", "{\n  \"name\": \"x\",\n  \"litez\": 3\n}")}, `unknown.json:3:3: unknown field "litez"`},
		{[]string{"run", "-scenario", bad("type.json", "{\"name\": \"x\", \"lites\": \"three\"}")}, `field "lites": want a whole number, got JSON string`},
		{[]string{"run", "-scenario", bad("noname.json", "{\"lites\": 3}")}, "name: is required"},
		{[]string{"run", "-scenario", bad("range.json", "{\"name\": \"x\",\n\"lites\": 5000}")}, "range.json:2:1: lites: 5000: want 1..4096"},
		{[]string{"run", "-scenario", bad("dur.json", "{\"name\": \"x\", \"budget\": \"soon\"}")}, `bad duration "soon"`},
		{[]string{"run", "-scenario", bad("kind.json", "{\"name\": \"x\", \"faults\": [{\"kind\": \"meteor\", \"rate\": 1}]}")}, `faults[0].kind: unknown kind "meteor"`},
		{[]string{"run", "-scenario", bad("rate.json", "{\"name\": \"x\", \"faults\": [{\"kind\": \"drop\", \"rate\": 2}]}")}, "faults[0].rate: probability 2"},
		{[]string{"run", "-scenario", bad("target.json", "{\"name\": \"x\", \"faults\": [{\"kind\": \"drop\", \"rate\": 0.1, \"target\": \"lite:9\"}]}")}, "faults[0].target"},
		{[]string{"run", "-scenario", bad("swarmfaults.json", "{\"name\": \"x\", \"swarm\": true, \"faults\": [{\"kind\": \"drop\", \"rate\": 0.1}]}")}, "swarm: swarm picks its own faults"},
		{[]string{"run", "-scenario", bad("expect.json", "{\"name\": \"x\", \"expect\": \"magic\"}")}, `expect: "magic"`},
		{[]string{"run", "-scenario", bad("two.json", "{\"name\": \"x\"} {}")}, "more than one JSON value"},
		{[]string{"show"}, "want one scenario"},
		{[]string{"show", "nope"}, `no scenario named "nope"`},
		{[]string{"list", "x"}, `unexpected argument "x"`},
		{[]string{"sweep", "-seeds", "0"}, "-seeds 0"},
		{[]string{"sweep", "-shard", "3/3"}, `-shard "3/3"`},
		{[]string{"sweep", "-progress", "loud"}, `-progress "loud"`},
		{[]string{"sweep", "-seeds", "1", "-cpuprofile", "/nonexistent/cpu.out"}, "-cpuprofile: open /nonexistent/cpu.out"},
		{[]string{"run", "-memprofile", "/nonexistent/mem.out"}, "-memprofile: open /nonexistent/mem.out"},
		{[]string{"run", "-cpuprofile", filepath.Join(dir, "p.out"), "-memprofile", dir + "/./p.out"}, "-cpuprofile and -memprofile both name " + filepath.Join(dir, "p.out")},
		{[]string{"run", "-cpuprofile", filepath.Join(dir, "p.out"), "-memprofile", link}, "-cpuprofile and -memprofile both name " + filepath.Join(dir, "p.out")},
		{[]string{"replay"}, "want -result FILE"},
		{[]string{"replay", "-result", bad("notresult.json", "[]")}, "want a run result as an object, got JSON array"},
		{[]string{"replay", "-result", bad("nohash.json", `{"scenario": "lossy"}`)}, "is not a result written by simrun run -json: it has no trace_hash"},
		{[]string{"replay", "-result", bad("badhash.json", `{"scenario": "lossy", "seed": 1, "trace_hash": "xyz"}`)}, `trace_hash "xyz": want 16 hex digits`},
		{[]string{"replay", "-result", bad("sweepresult.json", `{"scenario": "lossy", "runs": []}`)}, "is a sweep's result, not one run's"},
		{[]string{"replay", "-scenario", "lossy", "-hash", "12"}, `-hash "12": want 16 hex digits`},
		{[]string{"replay", "-scenario", "lossy", "-seed", "0", "-hash", "0123456789abcdef"}, "seed 0: seeds start at 1"},
		{[]string{"merge"}, "want one or more"},
		{[]string{"merge", bad("notsweep.json", "{}")}, "is not a sweep result"},
		{[]string{"merge", bad("onerun.json", `{"scenario": "lossy", "seed": 1, "pass": true, "trace_hash": "0123456789abcdef", "end_s": 5}`)}, "is one run's result, not a sweep's"},
		{[]string{"shrink"}, "-scenario is required"},
		{[]string{"suite", "-seeds", "0"}, "-seeds 0"},
		{[]string{"run", "-seed", "x"}, "invalid value"},
		{[]string{"run", "-seed", "0"}, "-seed 0: seeds start at 1"},
		{[]string{"shrink", "-scenario", "lossy", "-seed", "0"}, "-seed 0: seeds start at 1"},
		{[]string{"run", "-scenario", bad("empty.json", "")}, "empty.json:1:1: empty: want a scenario, a JSON object"},
		{[]string{"run", "-scenario", bad("array.json", "[]")}, "want a scenario as an object, got JSON array"},
		{[]string{"run", "-scenario", bad("cut.json", `{"name": "x",`)}, "cut.json:1:14: the JSON ends inside a value"},
		// Values the tool could not finish are refused, the limit named.
		{[]string{"run", "-scenario", bad("long.json", `{"name": "x", "write_for": "100000h"}`)}, "write_for: 360000000s: at most 86400s"},
		{[]string{"run", "-scenario", bad("budget.json", `{"name": "x", "budget": "2562047h"}`)}, "budget: 9223369200s: at most 86400s"},
		{[]string{"run", "-scenario", bad("many.json", `{"name": "x", "lites": 4096}`)}, "about 1.68e+09 deliveries (writes × lites), over the limit of 1e+09"},
		{[]string{"sweep", "-from", "18446744073709551615", "-seeds", "10"}, "seeds do not wrap"},
		{[]string{"sweep", "-parallel", "0"}, "-parallel 0: want 1..256"},
		{[]string{"sweep", "-parallel", "-1"}, "-parallel -1: want 1..256"},
		{[]string{"sweep", "-parallel", "100000"}, "-parallel 100000: want 1..256"},
		// Outputs are checked before any work.
		{[]string{"sweep", "-seeds", "100000", "-json", filepath.Join(dir, "no", "s.json")}, "-json: cannot write"},
		{[]string{"sweep", "-seeds", "100000", "-junit", filepath.Join(dir, "no", "s.xml")}, "-junit: cannot write"},
		{[]string{"run", "-json", filepath.Join(dir, "no", "r.json")}, "-json: cannot write"},
		{[]string{"run", "-trace", filepath.Join(dir, "no", "t.jsonl")}, "-trace: cannot write"},
		{[]string{"shrink", "-scenario", "lossy", "-o", filepath.Join(dir, "no", "s.json")}, "-o: cannot write"},
		{[]string{"wire", "decode", ""}, "no frame: the hex argument is empty"},
		{[]string{"wire", "encode", "Throttle", `{"throttle": true, "queue_depth": -1, "suggested_rate": 1}`}, `field "queue_depth": want a whole number, 0 or more, got JSON number -1`},
	} {
		res := simrun(t, nil, tc.args...)
		if res.code != 2 || strings.Count(res.stderr, "\n") != 1 || !strings.Contains(res.stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q, want one line with %q", tc.args, res.code, res.stderr, tc.want)
		}
		if res.maxRSSKB > 200<<10 {
			t.Errorf("%v: peak memory %d MB refusing bad input, want under 200 MB", tc.args, res.maxRSSKB>>10)
		}
	}
	// JOB_COMPLETION_INDEX without -shards is an error naming the fix.
	if r := simrunEnv(t, []string{"JOB_COMPLETION_INDEX=1"}, "sweep", "-seeds", "3"); r.code != 2 || !strings.Contains(r.stderr, "-shards N") {
		t.Errorf("JOB_COMPLETION_INDEX alone: exit %d %q", r.code, r.stderr)
	}
}

func TestSweepFailsOnMissedCoverage(t *testing.T) {
	dir := t.TempDir()
	// No faults, yet the scenario demands resyncs: the sweep must fail.
	path := filepath.Join(dir, "vacuous.json")
	os.WriteFile(path, []byte(`{"name": "vacuous", "require": {"resync-answered": 0.5}}`), 0o644)
	res := simrun(t, nil, "sweep", "-scenario", path, "-seeds", "4", "-progress", "none")
	if res.code != 1 || !strings.Contains(res.stdout, "MISSED") || !strings.Contains(res.stdout, "1 required marks missed") {
		t.Fatalf("exit %d\n%s", res.code, res.stdout)
	}
	if m := simrun(t, nil, "marks"); m.code != 0 || !strings.Contains(m.stdout, "throttle-lease-expired") {
		t.Fatalf("marks: %d %s", m.code, m.stdout)
	}
}

func TestSweepFailsOnABrokenGate(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "strict.json")
	os.WriteFile(path, []byte(`{"name": "strict", "faults": [{"kind": "drop", "rate": 0.05}],
	  "gates": {"converge_p99": "1ms", "resync_ratio": 0.01}}`), 0o644)
	res := simrun(t, nil, "sweep", "-scenario", path, "-seeds", "3", "-progress", "none")
	if res.code != 1 || !strings.Contains(res.stdout, "GATE  p99 time to converge") ||
		!regexp.MustCompile(`GATE  seed \d+: resync spent [\d.]+x the bytes it repaired \(bound 0.0x\): simrun run -scenario`).MatchString(res.stdout) {
		t.Fatalf("exit %d\n%s", res.code, res.stdout)
	}
}

func TestSuitePasses(t *testing.T) {
	res := simrun(t, nil, "suite", "-seeds", "2")
	if res.code != 0 || !strings.Contains(res.stdout, "all runs passed every property") {
		t.Fatalf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}

// -cpuprofile and -memprofile write profiles pprof reads (gzipped
// protocol buffers) and leave the run itself as it was: same hash.
func TestProfilesAreWrittenAndChangeNothing(t *testing.T) {
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.out"), filepath.Join(dir, "mem.out")
	plain := simrun(t, nil, "run", "-scenario", "lossy", "-seed", "4")
	profiled := simrun(t, nil, "run", "-scenario", "lossy", "-seed", "4", "-cpuprofile", cpu, "-memprofile", mem)
	if plain.code != 0 || profiled.code != 0 {
		t.Fatalf("exit %d and %d: %s %s", plain.code, profiled.code, plain.stderr, profiled.stderr)
	}
	hash := func(out string) string {
		for _, l := range strings.Split(out, "\n") {
			if strings.HasPrefix(l, "trace hash") {
				return l
			}
		}
		t.Fatalf("no trace hash in %q", out)
		return ""
	}
	if hash(plain.stdout) != hash(profiled.stdout) {
		t.Errorf("profiling changed the run: %q, %q", hash(plain.stdout), hash(profiled.stdout))
	}
	scpu, smem := filepath.Join(dir, "sweep-cpu.out"), filepath.Join(dir, "sweep-mem.out")
	sw := simrun(t, nil, "sweep", "-scenario", "lossy", "-seeds", "4", "-progress", "none", "-cpuprofile", scpu, "-memprofile", smem)
	if sw.code != 0 {
		t.Fatalf("sweep: exit %d: %s", sw.code, sw.stderr)
	}
	for _, f := range []string{cpu, mem, scpu, smem} {
		b, err := os.ReadFile(f)
		if err != nil || len(b) < 64 || b[0] != 0x1f || b[1] != 0x8b {
			t.Errorf("%s: %d bytes, err %v: not a gzipped profile", filepath.Base(f), len(b), err)
		}
	}
	// pprof itself reads them, as the help says.
	out, err := exec.Command("go", "tool", "pprof", "-top", binPath, mem).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "flat") {
		t.Errorf("go tool pprof -top: %v\n%s", err, out)
	}
}

// The resync ratio is shown only for runs that lost something to a fault:
// a sweep of runs that lost nothing says so, and says what their resync
// traffic was, instead of printing a ratio of 0.00x as if repair were free.
func TestSweepResyncRatioNeedsALoss(t *testing.T) {
	quiet := simrun(t, nil, "sweep", "-scenario", "baseline", "-seeds", "3", "-progress", "none")
	if quiet.code != 0 || !strings.Contains(quiet.stdout, "resync bytes / bytes lost      (no run lost a delta or snapshot to a fault)") ||
		strings.Contains(quiet.stdout, "0.00x") ||
		!regexp.MustCompile(`3 of 3 runs spent [\d.]+ (bytes|KB|MB) on resync traffic .* with no delta or snapshot lost to a fault: not in the ratio`).MatchString(quiet.stdout) {
		t.Fatalf("baseline: exit %d\n%s", quiet.code, quiet.stdout)
	}
	lossy := simrun(t, nil, "sweep", "-scenario", "lossy", "-seeds", "3", "-progress", "none")
	if !regexp.MustCompile(`resync bytes / bytes lost +[1-9]\d*\.\d\dx`).MatchString(lossy.stdout) {
		t.Fatalf("lossy: exit %d\n%s", lossy.code, lossy.stdout)
	}
}
