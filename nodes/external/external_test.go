package external_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/syncsim/syncsim/check"
	"github.com/syncsim/syncsim/nodes/external"
	"github.com/syncsim/syncsim/nodes/lite"
	"github.com/syncsim/syncsim/nodes/reference"
	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/topology"
)

// The test binary doubles as the external nodes: with SYNCSIM_TEST_NODE
// set it serves a reference node on stdin/stdout, misbehaving as told.
func TestMain(m *testing.M) {
	if mode := os.Getenv("SYNCSIM_TEST_NODE"); mode != "" {
		os.Exit(serveAs(mode))
	}
	os.Exit(m.Run())
}

// serveAs serves the role in mode "ROLE[,HOW:N]": after N steps the node
// exits, writes garbage, hangs, or answers with an effect the contract
// does not allow.
func serveAs(mode string) int {
	role, how, _ := strings.Cut(mode, ",")
	ref := reference.Config{Lite: lite.Config{}}
	impl := ref.LiteImpl()
	if role == "origin" {
		impl = ref.OriginImpl()
	}
	w := &faulty{w: os.Stdout}
	if how != "" {
		what, n, _ := strings.Cut(how, ":")
		w.how, w.after = what, atoi(n)
	}
	if err := external.Serve(os.Stdin, w, impl); err != nil {
		fmt.Fprintln(os.Stderr, "serve:", err)
		return 2
	}
	return 0
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// faulty passes the node's output through, and misbehaves at the end of
// step after: the line that ends it is replaced.
type faulty struct {
	w     io.Writer
	how   string
	after int
	steps int
}

func (f *faulty) Write(p []byte) (int, error) {
	if f.how == "" || !bytes.Contains(p, []byte(`{"fx":"end"}`)) {
		return f.w.Write(p)
	}
	if f.steps++; f.steps < f.after {
		return f.w.Write(p)
	}
	fmt.Fprintln(os.Stderr, "faulty node: now", f.how)
	switch f.how {
	case "exit":
		os.Exit(3)
	case "garbage":
		f.w.Write([]byte("this is not JSON\n"))
	case "hang":
		time.Sleep(time.Hour)
	case "probe-in-step":
		f.w.Write([]byte(`{"fx":"probe","collections":[]}` + "\n" + `{"fx":"end"}` + "\n"))
	case "bad-frame":
		f.w.Write([]byte(`{"fx":"send","conn":1,"frame":"zz"}` + "\n"))
	case "unknown-effect":
		f.w.Write([]byte(`{"fx":"teleport","conn":1}` + "\n"))
	}
	return len(p), nil
}

// impl is the test binary as the implementation of a role.
func impl(t *testing.T, mode string, timeout time.Duration) sim.Impl {
	t.Helper()
	i, err := external.Impl(external.Spec{Command: []string{os.Args[0]}, Env: []string{"SYNCSIM_TEST_NODE=" + mode},
		StepTimeout: timeout, StateRoot: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return i
}

func implB(b *testing.B, mode string) sim.Impl {
	i, err := external.Impl(external.Spec{Command: []string{os.Args[0]}, Env: []string{"SYNCSIM_TEST_NODE=" + mode}})
	if err != nil {
		b.Fatal(err)
	}
	return i
}

func params(seed uint64) topology.Params {
	p := topology.Defaults()
	p.Seed, p.WriteFor = seed, 2*sim.Second
	var ref reference.Config
	p.Origin, p.Lite = ref.OriginImpl(), ref.LiteImpl()
	return p
}

// Lockstep determinism: the same run with the nodes as processes has the
// same trace hash as in-process, and the claims come from the hello.
func TestProcessesGiveTheInProcessHash(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		in, err := topology.Run(params(seed))
		if err != nil {
			t.Fatal(err)
		}
		p := params(seed)
		p.Origin, p.Lite = impl(t, "origin", 0), impl(t, "lite", 0)
		ex, err := topology.Run(p)
		if err != nil {
			t.Fatal(err)
		}
		if ex.Hash != in.Hash || !ex.Pass() {
			t.Fatalf("seed %d: hash %016x external, %016x in-process (violation %v)", seed, ex.Hash, in.Hash, ex.Violation)
		}
		if !strings.Contains(strings.Join(ex.Checked, " "), check.InOrderApply) || ex.LiteQueue == nil || ex.LiteQueue.Capacity != 1024 {
			t.Fatalf("claims from the hello: checked %v, queue %+v", ex.Checked, ex.LiteQueue)
		}
	}
}

// A node that misbehaves ends the run with a node error naming the node,
// the step and what it did, with its stderr; never a hang or a panic.
func TestMisbehavingNodes(t *testing.T) {
	for _, tc := range []struct {
		mode, want string
		timeout    time.Duration
	}{
		{"lite,exit:5", "the process exited (exit status 3)", 0},
		{"lite,garbage:5", "wrote a line the protocol does not allow: not a JSON object", 0},
		{"lite,hang:5", "did not finish within 300ms (wall clock)", 300 * time.Millisecond},
		{"lite,probe-in-step:5", `answered a step with "probe"`, 0},
		{"lite,bad-frame:5", "send: frame is not hex", 0},
		{"lite,unknown-effect:5", `unknown effect "teleport"`, 0},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			p := params(1)
			p.Lite = impl(t, tc.mode, tc.timeout)
			start := time.Now()
			r, err := topology.Run(p)
			if err != nil {
				t.Fatal(err)
			}
			v := r.Violation
			if v == nil || v.Property != check.NodeError {
				t.Fatalf("violation %v, want a node error", v)
			}
			for _, want := range []string{tc.want, "lite", "failed while handling", ": step ", "its stderr ended with:\n    faulty node: now"} {
				if !strings.Contains(v.Message, want) {
					t.Errorf("message lacks %q:\n%s", want, v.Message)
				}
			}
			if d := time.Since(start); d > 10*time.Second {
				t.Errorf("took %v", d)
			}
		})
	}
}

func TestMissingProgramIsAnErrorBeforeTheRun(t *testing.T) {
	_, err := external.Impl(external.Spec{Command: []string{"/no/such/lite"}})
	if err == nil || !strings.Contains(err.Error(), "/no/such/lite") {
		t.Fatalf("err %v", err)
	}
	if _, err := external.Impl(external.Spec{}); err == nil {
		t.Fatal("no command accepted")
	}
}

// Crash kills the process; restart starts a new one on the same state
// directory; Close leaves no process and no directory behind.
func TestCrashRestartAndCleanUp(t *testing.T) {
	i := impl(t, "lite", 0)
	n, err := i.New(sim.Env{ID: 1, Name: "lite1", Role: sim.RoleLite, PeerID: 1, Collections: []string{"c0"},
		Seed: sim.NodeSeed(1, "lite1")})
	if err != nil {
		t.Fatal(err)
	}
	type pids interface{ PID() int }
	dir := n.(interface{ StateDir() string }).StateDir()
	fx := sim.NewEffects(nil)
	n.Step(0, &sim.Input{Kind: sim.InStart}, fx)
	if len(fx.List()) != 2 { // the tick and the dial
		t.Fatalf("start: %d effects", len(fx.List()))
	}
	first := n.(pids).PID()
	n.Crash()
	if alive(first) {
		t.Fatal("the process survived its crash")
	}
	fx.Reset()
	n.Step(sim.Second, &sim.Input{Kind: sim.InRestart}, fx)
	second := n.(pids).PID()
	if second == first || !alive(second) || len(fx.List()) != 2 {
		t.Fatalf("restart: pid %d -> %d, %d effects", first, second, len(fx.List()))
	}
	if _, err := os.Stat(dir + "/journal.jsonl"); err != nil {
		t.Fatalf("no journal in the state directory: %v", err)
	}
	if err := n.(io.Closer).Close(); err != nil {
		t.Fatal(err)
	}
	if alive(second) {
		t.Fatal("the process survived Close")
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("state directory left behind: %v", err)
	}
}

func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }
