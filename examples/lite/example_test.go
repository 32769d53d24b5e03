package example_test

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/syncsim/syncsim/check"
	"github.com/syncsim/syncsim/runner"
	"github.com/syncsim/syncsim/scenarios"
	"github.com/syncsim/syncsim/topology"
)

// liteCmd is lite.py as a user runs it, from the repository root: the
// replay commands in failure messages name it.
const liteCmd = "python3 examples/lite/lite.py"

// python3 finds a python3 of version 3.8 or later, or fails the test:
// this test is the proof that the example works, so it does not skip.
func python3(t *testing.T) string {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		t.Fatalf("python3 is not on PATH (%v): run .ci/ensure-python3 to install it", err)
	}
	if out, err := exec.Command(py, "-c", "import sys; sys.exit(sys.version_info < (3, 8))").CombinedOutput(); err != nil {
		t.Fatalf("%s is older than Python 3.8 (%v %s): run .ci/ensure-python3 to install a newer one", py, err, out)
	}
	return py
}

// job is one run: a scenario and seed with lite.py as every Lite, under
// an optional LITE_DEFECT.
type job struct {
	scenario string
	seed     uint64
	defect   string
}

func (j job) String() string {
	s := fmt.Sprintf("%s seed %d", j.scenario, j.seed)
	if j.defect != "" {
		s += " with LITE_DEFECT=" + j.defect
	}
	return s
}

// outcome is a job's result, or why it could not run.
type outcome struct {
	r      topology.Result
	err    error
	replay string
}

// runAll runs the jobs, as many at once as there are CPUs (each run is
// single-threaded; its node processes run in lockstep with it).
func runAll(t *testing.T, py string, jobs []job) []outcome {
	t.Helper()
	script, err := filepath.Abs("lite.py")
	if err != nil {
		t.Fatal(err)
	}
	out := make([]outcome, len(jobs))
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	for i, j := range jobs {
		tg, err := runner.Resolve(j.scenario, runner.Options{LiteExec: liteCmd})
		if err != nil {
			t.Fatalf("%v: %v", j, err)
		}
		// The words of the command as exec sees them: an absolute path,
		// since the test runs in this directory (and may contain spaces).
		tg.Sc.Lite = &scenarios.ImplSpec{Exec: []string{py, script}}
		replay := tg.Replay(j.seed)
		if j.defect != "" {
			tg.Sc.Lite.Env = []string{"LITE_DEFECT=" + j.defect}
			replay = "LITE_DEFECT=" + j.defect + " " + replay
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			r, err := tg.Run(j.seed, nil)
			out[i] = outcome{r: r, err: err, replay: replay}
		}()
	}
	wg.Wait()
	for i, o := range out {
		if o.err != nil {
			t.Fatalf("%v: %v", jobs[i], o.err)
		}
		if !strings.Contains(o.r.Impls.Lite, "lite.py") {
			t.Fatalf("%v: the Lites were %q, not lite.py", jobs[i], o.r.Impls.Lite)
		}
	}
	return out
}

// property is the property a run violated, "" when it passed.
func property(r topology.Result) string {
	switch {
	case r.Violation != nil:
		return r.Violation.Property
	case !r.Pass():
		return "(failed without a violation: " + r.Divergence + ")"
	}
	return ""
}

func report(j job, o outcome) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v: ", j)
	if o.r.Violation != nil {
		b.WriteString(o.r.Violation.Report(10))
	} else {
		fmt.Fprintf(&b, "did not pass: %s\n", o.r.Divergence)
	}
	fmt.Fprintf(&b, "replay from the repository root: %s", o.replay)
	return b.String()
}

// TestLitePy holds lite.py to syncsim's checks against the reference
// Origin: it passes baseline and lossy, deterministically, and each
// planted defect is caught by the property it breaks.
func TestLitePy(t *testing.T) {
	py := python3(t)
	var jobs []job
	jobs = append(jobs, job{scenario: "baseline", seed: 1})
	for seed := uint64(1); seed <= 20; seed++ {
		jobs = append(jobs, job{scenario: "lossy", seed: seed})
	}
	const again = 3 // a lossy seed run a second time: the same trace hash
	jobs = append(jobs, job{scenario: "lossy", seed: again})
	// Each defect must be caught on one of a few seeds (lossy seeds that
	// pass above without it), by its own property and not by a node error.
	defects := map[string]string{"skip-gap": check.InOrderApply, "no-retry": check.Convergence}
	for _, d := range []string{"skip-gap", "no-retry"} {
		for seed := uint64(1); seed <= 3; seed++ {
			jobs = append(jobs, job{scenario: "lossy", seed: seed, defect: d})
		}
	}

	out := runAll(t, py, jobs)

	hashes := map[job]uint64{}
	caught, seen := map[string][]string{}, map[string][]string{}
	for i, j := range jobs {
		o := out[i]
		got := property(o.r)
		if j.defect == "" {
			if got != "" {
				t.Errorf("%s", report(j, o))
			}
			if h, ok := hashes[j]; ok && h != o.r.Hash {
				t.Errorf("%v is not deterministic: trace hash %016x, then %016x on a second run", j, h, o.r.Hash)
			}
			hashes[j] = o.r.Hash
			continue
		}
		if got == check.NodeError {
			t.Errorf("%s", report(j, o))
		}
		if got == "" {
			got = "passed"
		}
		seen[j.defect] = append(seen[j.defect], fmt.Sprintf("seed %d %s", j.seed, got))
		if got == defects[j.defect] {
			caught[j.defect] = append(caught[j.defect], fmt.Sprintf("seed %d", j.seed))
		}
	}
	for _, d := range []string{"skip-gap", "no-retry"} {
		if len(caught[d]) == 0 {
			t.Errorf("LITE_DEFECT=%s was not caught: no lossy seed in 1..3 violated %s (%s)", d, defects[d], strings.Join(seen[d], ", "))
			continue
		}
		t.Logf("LITE_DEFECT=%s caught by %s on lossy %s", d, defects[d], strings.Join(caught[d], ", "))
	}
}
