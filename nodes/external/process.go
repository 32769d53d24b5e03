package external

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/syncsim/syncsim/sim"
	"github.com/syncsim/syncsim/wire"
)

// Spec says how to run an implementation as a process, one per node.
type Spec struct {
	// Command is the program and its arguments, e.g. {"python3",
	// "examples/lite/lite.py"}. Env is added to the harness's environment.
	Command []string
	Env     []string
	// StepTimeout bounds the wall-clock time a process may take to finish
	// one step (default 10 s); past it the run ends with a node error.
	StepTimeout time.Duration
	// StateRoot is where each node's state directory is made (default:
	// the system's temporary directory). KeepState keeps the directories
	// after the run instead of removing them.
	StateRoot string
	KeepState bool
	// Wire is the run's wire profile (default: wire.Default's).
	Wire wire.Profile
}

// DefaultStepTimeout is how long a process may take over one step.
const DefaultStepTimeout = 10 * time.Second

// stderrLines is how many of a process's last stderr lines are kept for
// the failure report.
const stderrLines = 20

// Impl is the implementation that runs spec's command: each node is a
// process, started when the node is built and spoken to over its
// stdin/stdout (docs/external-nodes.md). Its claims are what the process
// declares in its hello reply. A command that cannot be found is an
// error here, before any run.
func Impl(spec Spec) (sim.Impl, error) {
	if len(spec.Command) == 0 || spec.Command[0] == "" {
		return sim.Impl{}, errors.New("external node: no command given")
	}
	if _, err := exec.LookPath(spec.Command[0]); err != nil {
		return sim.Impl{}, fmt.Errorf("external node: %w", err)
	}
	if spec.StepTimeout <= 0 {
		spec.StepTimeout = DefaultStepTimeout
	}
	if spec.Wire.Name == "" {
		spec.Wire = wire.Default.Profile()
	}
	return sim.Impl{Name: strings.Join(spec.Command, " "),
		New: func(env sim.Env) (sim.Node, error) { return start(spec, env) }}, nil
}

// proc is one node run as a process. It implements sim.Node (and Failer,
// Claimer, io.Closer, and the fault controls).
type proc struct {
	spec   Spec
	env    sim.Env
	dir    string
	hello  HelloReply
	cmd    *exec.Cmd
	waited chan struct{} // closed once the process has exited and its stderr is read
	stdin  *bufio.Writer
	stdout *os.File
	lines  *bufio.Reader
	stderr *tail
	err    error
	buf    []byte
	frame  []byte // a send's frame, decoded from hex: reused (SendRaw copies it)
	steps  uint64 // inputs sent, for error messages
	// corrupt is a durable-state corruption owed since the crash: given
	// to the next process before its restart input.
	corrupt *[2]uint64
	up      bool
}

func start(spec Spec, env sim.Env) (*proc, error) {
	root := spec.StateRoot
	if root == "" {
		root = os.TempDir()
	}
	dir, err := os.MkdirTemp(root, "syncsim-"+env.Name+"-")
	if err != nil {
		return nil, fmt.Errorf("state directory: %w", err)
	}
	p := &proc{spec: spec, env: env, dir: dir}
	if err := p.spawn(false); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// spawn starts the process and exchanges the hello.
func (p *proc) spawn(restart bool) error {
	cmd := exec.Command(p.spec.Command[0], p.spec.Command[1:]...)
	cmd.Env = append(os.Environ(), p.spec.Env...)
	cmd.SysProcAttr = sysProcAttr()
	in, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return err
	}
	cmd.Stdout = outW
	p.stderr = newTail(stderrLines)
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		outR.Close()
		outW.Close()
		return fmt.Errorf("starting %s: %w", p.spec.Command[0], err)
	}
	outW.Close()
	p.cmd, p.stdin, p.stdout, p.up = cmd, bufio.NewWriterSize(in, 64<<10), outR, true
	p.waited = make(chan struct{})
	go func(done chan struct{}) { cmd.Wait(); close(done) }(p.waited)
	p.lines = bufio.NewReaderSize(outR, 64<<10)
	h := Hello{In: "hello", Version: Version, Role: p.env.Role.String(), ID: int(p.env.ID), Name: p.env.Name,
		Origin: int(p.env.Origin), PeerID: p.env.PeerID, Collections: p.env.Collections, Seed: seedHex(p.env.Seed),
		StateDir: p.dir, Wire: p.spec.Wire.Name, Restart: restart}
	b, _ := json.Marshal(h)
	if err := p.send(append(b, '\n')); err != nil {
		return p.failed(doing{what: "hello"}, err)
	}
	l, err := p.read(doing{what: "hello"})
	if err != nil {
		return err
	}
	if l.Fx != "hello" {
		return p.failed(doing{what: "hello"}, fmt.Errorf("answered the hello with %q, want a hello reply", l.Fx))
	}
	if l.Hello.Version != Version {
		return p.failed(doing{what: "hello"}, fmt.Errorf("speaks protocol version %d, the harness %d", l.Hello.Version, Version))
	}
	p.hello = *l.Hello
	return nil
}

// failed records the first failure (with the process's last stderr
// lines) and stops the process.
// doing is the exchange in progress, put into words only for an error.
type doing struct {
	what string // "hello", "probe", "control slow", or "" for a step
	step uint64
	kind sim.InputKind
	at   sim.Time
}

func (d doing) String() string {
	if d.what != "" {
		return d.what
	}
	return fmt.Sprintf("step %d (%s at %v)", d.step, d.kind, d.at)
}

func (p *proc) failed(d doing, err error) error {
	// Stopped first: Wait returns once its stderr has been read to the
	// end, so the last lines are all there.
	p.kill()
	if p.err == nil {
		msg := fmt.Sprintf("%v: %v", d, err)
		if t := p.stderr.String(); t != "" {
			msg += "\n  its stderr ended with:\n" + indent(t, "    ")
		}
		p.err = errors.New(msg)
	}
	return p.err
}

func indent(s, pre string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i := range lines {
		lines[i] = pre + lines[i]
	}
	return strings.Join(lines, "\n")
}

// send writes one line and starts the clock on the answer: every line of
// it must come within the step timeout.
func (p *proc) send(line []byte) error {
	p.stdout.SetReadDeadline(time.Now().Add(p.spec.StepTimeout))
	if _, err := p.stdin.Write(line); err != nil {
		return p.exited(err)
	}
	if err := p.stdin.Flush(); err != nil {
		return p.exited(err)
	}
	return nil
}

// exited explains a broken pipe: the process has exited, with its status.
func (p *proc) exited(err error) error {
	if p.cmd == nil {
		return err
	}
	select {
	case <-p.waited:
		return fmt.Errorf("the process exited (%v)", p.cmd.ProcessState)
	case <-time.After(time.Second):
		return err
	}
}

// read reads one line, within the step timeout (set by send).
func (p *proc) read(d doing) (Line, error) {
	b, err := readLine(p.lines)
	switch {
	case errors.Is(err, os.ErrDeadlineExceeded):
		return Line{}, p.failed(d, fmt.Errorf("did not finish within %v (wall clock)", p.spec.StepTimeout))
	case err == io.EOF:
		return Line{}, p.failed(d, p.exited(errors.New("closed its stdout")))
	case err != nil:
		return Line{}, p.failed(d, fmt.Errorf("wrote %w", err))
	}
	l, perr := parseLine(b, p.frame)
	if perr != nil {
		return Line{}, p.failed(d, fmt.Errorf("wrote a line the protocol does not allow: %v\n  the line: %s", perr, abbreviate(b)))
	}
	return l, nil
}

func abbreviate(b []byte) string {
	b = bytes.TrimRight(b, "\n")
	if len(b) > 200 {
		return string(b[:200]) + fmt.Sprintf("... (%d bytes)", len(b))
	}
	return string(b)
}

// Step implements sim.Node: the input goes to the process, its effects
// come back until its end line, and are recorded in fx.
func (p *proc) Step(now sim.Time, in *sim.Input, fx *sim.Effects) {
	if p.err != nil {
		return
	}
	if in.Kind == sim.InRestart {
		if err := p.spawn(true); err != nil {
			return
		}
		if p.corrupt != nil {
			c := *p.corrupt
			p.corrupt = nil
			if !p.control(now, input{In: "control", Control: ControlCorrupt, Seed: seedHex(c)}) {
				return
			}
		}
	}
	if !p.up {
		return
	}
	p.steps++
	d := doing{step: p.steps, kind: in.Kind, at: now}
	p.buf = appendInput(p.buf[:0], now, in)
	if err := p.send(p.buf); err != nil {
		p.failed(d, err)
		return
	}
	for {
		l, err := p.read(d)
		if err != nil {
			return
		}
		switch l.Fx {
		case "end":
			return
		case "send":
			fx.SendRaw(l.Conn, l.Frame)
			p.frame = l.Frame
		case "timer":
			fx.SetTimer(l.After, l.Tag)
		case "dial":
			fx.Dial(l.Peer)
		case "close":
			fx.Close(l.Conn)
		case "event":
			fx.Emit(l.Event)
		default:
			p.failed(d, fmt.Errorf("answered a step with %q, which only answers a probe or the hello", l.Fx))
			return
		}
	}
}

// Probe implements sim.Node.
func (p *proc) Probe(pr *sim.Probe) {
	if p.err != nil || !p.up {
		return
	}
	d := doing{what: "probe"}
	p.buf = append(p.buf[:0], `{"in":"probe"}`+"\n"...)
	if err := p.send(p.buf); err != nil {
		p.failed(d, err)
		return
	}
	got := false
	for {
		l, err := p.read(d)
		if err != nil {
			return
		}
		switch {
		case l.Fx == "end" && got:
			return
		case l.Fx == "end":
			p.failed(d, errors.New(`ended its answer to a probe without a "probe" line`))
			return
		case l.Fx == "probe" && !got:
			got = true
			pr.Collections = append(pr.Collections, l.Probe.Collections...)
			pr.Sessions = append(pr.Sessions, l.Probe.Sessions...)
			pr.Connected, pr.Unacked, pr.Resyncing = l.Probe.Connected, l.Probe.Unacked, l.Probe.Resyncing
			pr.QueueDepth, pr.Throttled = l.Probe.QueueDepth, l.Probe.Throttled
		default:
			p.failed(d, fmt.Errorf("answered a probe with %q: only one probe line and an end are allowed", l.Fx))
			return
		}
	}
}

// control sends a control and waits for its end line.
func (p *proc) control(now sim.Time, c input) bool {
	if p.err != nil || !p.up {
		return false
	}
	c.T = int64(now)
	b, _ := json.Marshal(c)
	d := doing{what: "control " + c.Control}
	if err := p.send(append(b, '\n')); err != nil {
		p.failed(d, err)
		return false
	}
	l, err := p.read(d)
	if err != nil {
		return false
	}
	if l.Fx != "end" {
		p.failed(d, fmt.Errorf("answered a control with %q, want only an end", l.Fx))
		return false
	}
	return true
}

func (p *proc) honours(control string) bool { return slices.Contains(p.hello.Controls, control) }

// SlowDown implements the slow-consumer fault through the "slow" control.
func (p *proc) SlowDown(factor float64) {
	if p.honours(ControlSlow) {
		p.control(0, input{In: "control", Control: ControlSlow, Factor: factor})
	}
}

// SetClockSkew implements the clock-skew fault through the "skew" control.
func (p *proc) SetClockSkew(d sim.Time) {
	if p.honours(ControlSkew) {
		p.control(0, input{In: "control", Control: ControlSkew, OffsetNs: int64(d)})
	}
}

// CorruptDurable implements the corrupt-durable fault, between the crash
// and the restart: a node that honours "corrupt" damages its own state
// when it restarts; for any other, one byte of one file of its state
// directory is flipped now, as a torn write would.
func (p *proc) CorruptDurable(seed [2]uint64) {
	if p.honours(ControlCorrupt) {
		p.corrupt = &seed
		return
	}
	rng := rand.New(rand.NewPCG(seed[0], seed[1]))
	var files []string
	filepath.WalkDir(p.dir, func(path string, d os.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, path)
		}
		return nil
	})
	slices.Sort(files)
	for len(files) > 0 {
		i := rng.IntN(len(files))
		b, err := os.ReadFile(files[i])
		if err != nil || len(b) == 0 {
			files = slices.Delete(files, i, i+1)
			continue
		}
		b[rng.IntN(len(b))] ^= 0x20
		os.WriteFile(files[i], b, 0o644)
		return
	}
}

// Crash implements sim.Node: the process is killed (SIGKILL).
func (p *proc) Crash() { p.kill() }

func (p *proc) kill() {
	if p.cmd == nil || !p.up {
		return
	}
	p.up = false
	killGroup(p.cmd.Process)
	<-p.waited
	p.stdout.Close()
}

// Failure implements sim.Failer.
func (p *proc) Failure() error { return p.err }

// Claims implements sim.Claimer: what the process declared in its hello.
func (p *proc) Claims() sim.Claims { return p.hello.claims() }

// Close stops the process and removes its state directory (unless the
// spec keeps it).
func (p *proc) Close() error {
	p.kill()
	if !p.spec.KeepState {
		os.RemoveAll(p.dir)
	}
	return nil
}

// StateDir is where the node keeps its durable state.
func (p *proc) StateDir() string { return p.dir }

// tail keeps the last lines written to it.
type tail struct {
	mu    sync.Mutex
	lines []string
	part  []byte
	max   int
}

func newTail(n int) *tail { return &tail{max: n} }

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.part = append(t.part, b...)
	for {
		i := bytes.IndexByte(t.part, '\n')
		if i < 0 {
			break
		}
		t.push(string(t.part[:i]))
		t.part = t.part[i+1:]
	}
	if len(t.part) > 4096 { // a line without end: keep its start
		t.push(string(t.part[:4096]) + "...")
		t.part = t.part[:0]
	}
	return len(b), nil
}

func (t *tail) push(s string) {
	if len(s) > 500 {
		s = s[:500] + "..."
	}
	t.lines = append(t.lines, s)
	if len(t.lines) > t.max {
		t.lines = t.lines[1:]
	}
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := strings.Join(t.lines, "\n")
	if len(t.part) > 0 {
		s += "\n" + string(t.part)
	}
	return strings.TrimLeft(s, "\n")
}

// PID is the process's id (0 when none runs).
func (p *proc) PID() int {
	if p.cmd == nil || p.cmd.Process == nil || !p.up {
		return 0
	}
	return p.cmd.Process.Pid
}
