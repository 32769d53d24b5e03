package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/syncsim/syncsim/runner"
	"github.com/syncsim/syncsim/sim"
	"golang.org/x/sys/unix"
)

func defaultParallel() int { return min(runtime.GOMAXPROCS(0), runner.MaxWorkers) }

// progress reports a sweep's progress on stderr: a bar redrawn in place on
// a terminal (fitted to its width), a plain line every 10% otherwise (CI
// logs), or nothing.
type progress struct {
	w          io.Writer
	mode       string
	width      int // of the terminal, for the bar
	total      uint64
	done, fail uint64
	start      time.Time
	last       time.Time
	nextLine   uint64
}

// terminalWidth is the width of the terminal w is, or ok false if w is
// not a terminal.
func terminalWidth(w io.Writer) (width int, ok bool) {
	f, isFile := w.(*os.File)
	if !isFile {
		return 0, false
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0, false
	}
	if ws.Col == 0 {
		return 80, true
	}
	return int(ws.Col), true
}

func newProgress(mode string, w io.Writer, total uint64) *progress {
	p := &progress{w: w, mode: mode, total: total, start: time.Now(), width: 80}
	width, terminal := terminalWidth(w)
	if terminal {
		p.width = width
	}
	if mode == "auto" {
		p.mode = "lines"
		if terminal {
			p.mode = "bar"
		}
	}
	return p
}

func (p *progress) add(r RunJSON) {
	p.done++
	if !r.Pass {
		p.fail++
	}
	switch p.mode {
	case "bar":
		if now := time.Now(); now.Sub(p.last) > 100*time.Millisecond || p.done == p.total {
			p.last = now
			// \r then erase to the end of the line: a shorter line leaves
			// nothing of the longer one before it.
			fmt.Fprintf(p.w, "\r%s\x1b[K", p.bar(p.width-1))
		}
	case "lines":
		if p.done*10/max(p.total, 1) >= p.nextLine || p.done == p.total {
			p.nextLine = p.done*10/max(p.total, 1) + 1
			fmt.Fprintln(p.w, p.text())
		}
	}
}

func (p *progress) text() string {
	elapsed := time.Since(p.start)
	rate := float64(p.done) / max(elapsed.Seconds(), 1e-9)
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(p.total-p.done)/rate) * time.Second).Round(time.Second).String()
	}
	return fmt.Sprintf("%d/%d seeds, %d failed, %.0f runs/s, ETA %s", p.done, p.total, p.fail, rate, eta)
}

// bar is the text with a bar in front, in at most width columns (the bar
// goes first when there is no room).
func (p *progress) bar(width int) string {
	s := p.text()
	room := width - len(s) - 3
	if room < 10 {
		if len(s) > width {
			s = s[:max(width, 0)]
		}
		return s
	}
	filled := int(uint64(room) * p.done / max(p.total, 1))
	return "[" + strings.Repeat("#", filled) + strings.Repeat(".", room-filled) + "] " + s
}

func (p *progress) finish() {
	if p.mode == "bar" {
		fmt.Fprintln(p.w)
	}
}

// runTicker shows a single run's simulated time on a terminal, redrawn at
// most 10 times a second once the run has taken half a second: short runs
// print nothing. It reads the clock the kernel hands it, so it cannot
// change the run.
type runTicker struct {
	w           io.Writer
	width       int
	end         sim.Time
	start, last time.Time
	shown       bool
	name        string
}

func runProgress(w io.Writer, t target, seed uint64) *runTicker {
	width, ok := terminalWidth(w)
	if !ok {
		return nil
	}
	s := &runTicker{w: w, width: width, start: time.Now(), name: fmt.Sprintf("%s seed %d", t.Sc.Name, seed)}
	writeFor, budget := t.Sc.Timing()
	s.end = writeFor + budget
	return s
}

func (s *runTicker) at(now sim.Time) {
	if s == nil {
		return
	}
	wall := time.Now()
	if wall.Sub(s.start) < 500*time.Millisecond || wall.Sub(s.last) < 100*time.Millisecond {
		return
	}
	s.last, s.shown = wall, true
	now -= now % (100 * sim.Millisecond)
	line := fmt.Sprintf("%s: simulated %s of at most %s (%.0f%%), %s elapsed", s.name, now, s.end,
		100*now.Seconds()/max(s.end.Seconds(), 1e-9), wall.Sub(s.start).Round(time.Second))
	if len(line) > s.width-1 {
		line = line[:s.width-1]
	}
	fmt.Fprintf(s.w, "\r%s\x1b[K", line)
}

func (s *runTicker) done() {
	if s != nil && s.shown {
		fmt.Fprint(s.w, "\r\x1b[K")
	}
}
