package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/syncsim/syncsim/results"
)

// liveProc is a live command running as its own process, on loopback.
type liveProc struct {
	cmd    *exec.Cmd
	stdout *bytes.Buffer
	stderr *bytes.Buffer
	addr   string // the ws:// address it printed on its first line
	done   chan error
}

var wsAddr = regexp.MustCompile(`ws://(127\.0\.0\.1:[0-9]+)`)

// startLive starts simrun with args and waits for its first line, which
// names the address it listens on.
func startLive(t *testing.T, ctx context.Context, args ...string) *liveProc {
	t.Helper()
	cmd := exec.CommandContext(ctx, binPath, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &liveProc{cmd: cmd, stdout: &bytes.Buffer{}, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(out)
	first, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("simrun %q: no first line: %v (stderr %s)", args, err, p.stderr)
	}
	p.stdout.WriteString(first)
	if m := wsAddr.FindStringSubmatch(first); m != nil {
		p.addr = m[1]
	}
	go func() {
		_, err := p.stdout.ReadFrom(r)
		if err == nil {
			err = cmd.Wait()
		}
		p.done <- err
	}()
	return p
}

// stop sends sig and returns the exit status.
func (p *liveProc) stop(t *testing.T, sig os.Signal) int {
	t.Helper()
	if sig != nil {
		if err := p.cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-p.done:
		var ee *exec.ExitError
		switch {
		case err == nil:
			return 0
		case errors.As(err, &ee):
			return ee.ExitCode()
		}
		t.Fatalf("wait: %v", err)
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		t.Fatalf("%v did not stop within 20 s of %v; stdout:\n%s", p.cmd.Args, sig, p.stdout)
	}
	return -1
}

func TestLiveSIGINTWritesValidResults(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dir := t.TempDir()
	origin := startLive(t, ctx, "origin", "-listen", "127.0.0.1:0", "-quiet", "-status", "0")
	proxyJSON, litesJSON := filepath.Join(dir, "proxy.json"), filepath.Join(dir, "lites.json")
	proxy := startLive(t, ctx, "proxy", "-listen", "127.0.0.1:0", "-upstream", "ws://"+origin.addr, "-scenario", "lossy",
		"-json", proxyJSON, "-record", filepath.Join(dir, "script.json"), "-quiet", "-status", "0")
	lites := startLive(t, ctx, "lites", "-connect", "ws://"+proxy.addr, "-scenario", "lossy", "-json", litesJSON, "-quiet", "-status", "0")
	time.Sleep(1500 * time.Millisecond) // mid-run: lossy writes for 10 s
	if code := lites.stop(t, syscall.SIGINT); code != exitInconclusive {
		t.Errorf("lites stopped by SIGINT mid-run exit %d, want %d (no verdict)\n%s", code, exitInconclusive, lites.stdout)
	}
	if code := proxy.stop(t, syscall.SIGINT); code != exitInconclusive {
		t.Errorf("proxy stopped by SIGINT before heal exit %d, want %d\n%s\n%s", code, exitInconclusive, proxy.stdout, proxy.stderr)
	}
	if code := origin.stop(t, syscall.SIGTERM); code != 0 {
		t.Errorf("origin stopped by SIGTERM exit %d, want 0\n%s", code, origin.stderr)
	}
	for _, f := range []string{proxyJSON, litesJSON} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r, _, err := results.Decode(b)
		if err != nil || r == nil {
			t.Fatalf("%s: not a run result: %v\n%s", f, err, b)
		}
		if r.Live == nil || r.Live.Verdict != "INCONCLUSIVE" || r.Pass || r.Counters == nil || r.Counters.FramesSent == 0 {
			t.Errorf("%s: live %+v, pass %t, counters %+v: want an INCONCLUSIVE result of a run that moved frames", f, r.Live, r.Pass, r.Counters)
		}
		if len(r.Series) == 0 {
			t.Errorf("%s: no series: simrun plot would draw nothing", f)
		}
	}
	// The recorded script is a scenario the simulator runs.
	if res := simrun(t, nil, "run", "-scenario", filepath.Join(dir, "script.json")); res.code != 0 {
		t.Errorf("simrun run of the recorded script: exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
	if !strings.Contains(origin.stdout.String(), "origin stopped: conns 0 open") {
		t.Errorf("origin's closing line: %s", origin.stdout)
	}
}

func TestLiveFlagErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args   []string
		phrase string
	}{
		{[]string{"proxy"}, "-upstream is required"},
		{[]string{"proxy", "-upstream", "http://127.0.0.1:9090"}, "want a ws:// or wss:// URL"},
		{[]string{"proxy", "-upstream", "ws://127.0.0.1:9090", "-listen", "9091"}, "-listen \"9091\": want HOST:PORT"},
		{[]string{"proxy", "-upstream", "ws://127.0.0.1:9090", "-scenario", "crash-restart"}, "a proxy cannot apply it to real endpoints"},
		{[]string{"proxy", "-upstream", "ws://127.0.0.1:9090", "-script", "x.json", "-scenario", "lossy"}, "not both"},
		{[]string{"proxy", "-upstream", "ws://127.0.0.1:9090", "-script", "lossy"}, "has no \"script\""},
		{[]string{"lites"}, "-connect is required"},
		{[]string{"lites", "-connect", "ws://127.0.0.1:9090", "-n", "-1"}, "-n -1"},
		{[]string{"origin", "-max-conns", "0"}, "-max-conns 0"},
		{[]string{"origin", "-listen", "127.0.0.1:1", "-bug", "no-such-bug"}, "no planted bug named"},
	} {
		simrun(t, nil, tc.args...).oneLineError(t, tc.args, tc.phrase)
	}
}
