package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/syncsim/syncsim/nodes/reference"
	"github.com/syncsim/syncsim/scenarios"
)

var traceHashRE = regexp.MustCompile(`trace hash\s+([0-9a-f]{16})`)

func hashOf(t *testing.T, r result) string {
	t.Helper()
	m := traceHashRE.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no trace hash in:\n%s%s", r.stdout, r.stderr)
	}
	return m[1]
}

var nodesRE = regexp.MustCompile(`(?m)^nodes\s+origin (.*?)\s+lites (.*)$`)

// ranAs checks, from a run's "nodes" line, which implementation each role
// had: the proof that -lite-exec and -origin-exec were not ignored (an
// ignored flag would run in-process and give the same hash).
func ranAs(t *testing.T, r result, origin, lite string) {
	t.Helper()
	m := nodesRE.FindStringSubmatch(r.stdout)
	if m == nil || m[1] != origin || m[2] != lite {
		t.Fatalf("nodes %q, want origin %q and lites %q\n%s", m, origin, lite, r.stdout)
	}
}

// served is the flags that serve both roles with `simrun node` itself,
// tuned as scenario sc tunes the reference nodes, with planted bugs.
func served(sc, bug string) []string {
	node := func(role string) string {
		s := binPath + " node " + role + " -scenario " + sc
		if bug != "" {
			s += " -bug " + bug
		}
		return s
	}
	return []string{"-lite-exec", node("lite"), "-origin-exec", node("origin")}
}

// Lockstep determinism, the proof: for every named scenario, three seeds
// each, every node served as a process by `simrun node` gives the trace
// hash of the same run in-process.
func TestExternalReferenceSameHash(t *testing.T) {
	for _, sc := range scenarios.Named() {
		t.Run(sc.Name, func(t *testing.T) {
			t.Parallel()
			for _, seed := range []string{"1", "2", "3"} {
				args := []string{"run", "-scenario", sc.Name, "-seed", seed}
				in := simrun(t, nil, args...)
				flags := served(sc.Name, "")
				ex := simrun(t, nil, append(args, flags...)...)
				ranAs(t, ex, flags[3], flags[1])
				if in.code != ex.code || hashOf(t, in) != hashOf(t, ex) {
					t.Fatalf("seed %s: in-process exit %d hash %s, served exit %d hash %s\n%s", seed, in.code, hashOf(t, in), ex.code, hashOf(t, ex), ex.stdout)
				}
			}
		})
	}
}

// The model of NodeDB's nodes served as processes gives the in-process
// trace hash and verdict too, alone and in both mixed pairs: every
// regression file of simrun nodedb, and lossy. A program given for a role
// replaces the file's or -nodes' choice for it.
func TestExternalNodeDBSameHash(t *testing.T) {
	files, err := filepath.Glob("../../testdata/nodedb/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no testdata/nodedb files: %v", err)
	}
	serve := func(lite, origin bool) []string {
		var args []string
		if lite {
			args = append(args, "-lite-exec", binPath+" node lite -nodes nodedb-2026")
		}
		if origin {
			args = append(args, "-origin-exec", binPath+" node origin -nodes nodedb-2026")
		}
		return args
	}
	type pair struct {
		name       string
		args       []string
		lite, orig bool
	}
	var cases []pair
	for _, f := range files {
		sc, err := scenarios.Load(f)
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, pair{filepath.Base(f), []string{"run", "-scenario", f},
			sc.Nodes.Lite == "nodedb-2026", sc.Nodes.Origin == "nodedb-2026"})
	}
	cases = append(cases,
		pair{"lossy both", []string{"run", "-scenario", "lossy", "-nodes", "nodedb-2026"}, true, true},
		pair{"lossy lite", []string{"run", "-scenario", "lossy", "-nodes", "lite=nodedb-2026"}, true, false},
		pair{"lossy origin", []string{"run", "-scenario", "lossy", "-nodes", "origin=nodedb-2026"}, false, true})
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			in := simrun(t, nil, c.args...)
			ex := simrun(t, nil, append(slices.Clone(c.args), serve(c.lite, c.orig)...)...)
			m := nodesRE.FindStringSubmatch(in.stdout)
			if m == nil {
				t.Fatalf("no nodes line:\n%s", in.stdout)
			}
			origin, lite := m[1], m[2] // a role not served keeps its in-process name
			if c.orig {
				origin = binPath + " node origin -nodes nodedb-2026"
			}
			if c.lite {
				lite = binPath + " node lite -nodes nodedb-2026"
			}
			ranAs(t, ex, origin, lite)
			if in.code != ex.code || hashOf(t, in) != hashOf(t, ex) {
				t.Fatalf("in-process exit %d hash %s, served exit %d hash %s\n%s%s", in.code, hashOf(t, in), ex.code, hashOf(t, ex), ex.stdout, ex.stderr)
			}
		})
	}
}

// Planted bugs switched on in `simrun node` are caught exactly as
// in-process: same seed, same property, same trace hash.
func TestExternalPlantedBugsCaughtAlike(t *testing.T) {
	for _, b := range reference.Catalogue() {
		t.Run(b.Name, func(t *testing.T) {
			t.Parallel()
			// The first failing seed in-process (the catalogue's own test
			// proves there is one within 100).
			var in result
			seed := ""
			for s := 1; s <= 100 && seed == ""; s++ {
				in = simrun(t, nil, "run", "-scenario", b.Hunt, "-seed", strconv.Itoa(s), "-bug", b.Name)
				if in.code == 1 {
					seed = strconv.Itoa(s)
				}
			}
			if seed == "" {
				t.Fatalf("%s: no failure in 100 seeds of %s in-process", b.Name, b.Hunt)
			}
			flags := served(b.Hunt, b.Name)
			ex := simrun(t, nil, append([]string{"run", "-scenario", b.Hunt, "-seed", seed}, flags...)...)
			ranAs(t, ex, flags[3], flags[1])
			prop := regexp.MustCompile(`FAIL .*?: (\S+) violated`)
			pi, pe := prop.FindStringSubmatch(in.stdout), prop.FindStringSubmatch(ex.stdout)
			if pi == nil {
				t.Fatalf("seed %s failed in-process without a violation line:\n%s", seed, in.stdout)
			}
			if ex.code != 1 || pe == nil || pi[1] != pe[1] || hashOf(t, in) != hashOf(t, ex) {
				t.Fatalf("seed %s: in-process %v %s, served exit %d %v %s\n%s", seed, pi, hashOf(t, in), ex.code, pe, hashOf(t, ex), ex.stdout)
			}
			if !strings.Contains(ex.stdout, "-lite-exec") {
				t.Errorf("the replay command lacks the exec flags:\n%s", ex.stdout)
			}
		})
	}
}

func TestExternalErrors(t *testing.T) {
	t.Parallel()
	args := []string{"run", "-scenario", "baseline", "-lite-exec", "/no/such/program"}
	simrun(t, nil, args...).oneLineError(t, args, "lite.exec: external node: exec: \"/no/such/program\"")
	args = []string{"run", "-scenario", "baseline", "-step-timeout", "-1s", "-lite-exec", "sh"}
	simrun(t, nil, args...).oneLineError(t, args, "-step-timeout -1s: must not be negative")
	args = []string{"node", "gateway"}
	simrun(t, nil, args...).oneLineError(t, args, "want one role, lite or origin")
	// A node that exits before its hello cannot be started: exit 2, its
	// stderr in the one line.
	dir := t.TempDir()
	script := func(name, body string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
		return path
	}
	dies := script("dies.sh", "echo 'cannot open the database' >&2\nexit 7\n")
	args = []string{"run", "-scenario", "baseline", "-lite-exec", dies}
	simrun(t, nil, args...).oneLineError(t, args, "lite1 ("+dies+"): hello: the process exited (exit status 7)   its stderr ended with:     cannot open the database")
	// One that exits mid-run: a node error, exit 1, with the step, its
	// stderr and the replay command.
	mortal := script("mortal.sh", `read hello
echo '{"fx":"hello","version":1,"name":"mortal","claims":["convergence"]}'
read first
echo 'about to die' >&2
exit 5
`)
	r := simrun(t, nil, "run", "-scenario", "baseline", "-lite-exec", mortal)
	for _, want := range []string{"FAIL  baseline seed 1: node-error violated at 0s on lite1", "lite1 (" + mortal + ") failed while handling start: step 1 (start at 0s): the process exited (exit status 5)",
		"its stderr ended with:", "about to die", "replay: simrun run -scenario baseline -seed 1 -lite-exec " + mortal} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("output lacks %q (exit %d):\n%s%s", want, r.code, r.stdout, r.stderr)
		}
	}
	if r.code != 1 {
		t.Errorf("exit %d, want 1", r.code)
	}
}

// Ctrl-C of a sweep of external nodes leaves no process behind.
func TestExternalNoProcessLeftOnInterrupt(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cmd := exec.Command(binPath, append([]string{"sweep", "-scenario", "lossy", "-seeds", "1000", "-parallel", "2", "-progress", "none",
		"-json", filepath.Join(dir, "s.json")}, served("lossy", "")...)...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for len(nodesOf(binPath)) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if len(nodesOf(binPath)) == 0 {
		cmd.Process.Kill()
		t.Fatal("no node process ever started")
	}
	time.Sleep(500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-ctx.Done():
		cmd.Process.Kill()
		t.Fatal("the sweep did not stop within 30 s of SIGINT")
	}
	if code := cmd.ProcessState.ExitCode(); code != 1 {
		t.Errorf("exit %d, want 1 (interrupted)", code)
	}
	if left := nodesOf(binPath); len(left) > 0 {
		for _, pid := range left {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		t.Fatalf("%d node processes left after the sweep ended: %v", len(left), left)
	}
}

// nodesOf lists the running `BIN node ...` processes.
func nodesOf(bin string) []int {
	var pids []int
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if strings.HasPrefix(strings.ReplaceAll(string(b), "\x00", " "), bin+" node ") {
			pids = append(pids, pid)
		}
	}
	return pids
}
