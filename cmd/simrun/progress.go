package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

func defaultParallel() int { return min(runtime.GOMAXPROCS(0), 256) }

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

func newProgress(mode string, w io.Writer, total uint64) *progress {
	p := &progress{w: w, mode: mode, total: total, start: time.Now(), width: 80}
	f, isFile := w.(*os.File)
	terminal := false
	if isFile {
		if ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ); err == nil {
			terminal = true
			if ws.Col > 0 {
				p.width = int(ws.Col)
			}
		}
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
