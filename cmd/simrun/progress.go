package main

import (
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"
)

func defaultParallel() int { return runtime.GOMAXPROCS(0) }

// progress reports a sweep's progress on stderr: a redrawn bar on a
// terminal, a plain line every 10% otherwise (CI logs), or nothing.
type progress struct {
	w          io.Writer
	mode       string
	total      int
	done, fail int
	start      time.Time
	last       time.Time
	nextLine   int
}

func newProgress(mode string, w io.Writer, total int) *progress {
	if mode == "auto" {
		mode = "lines"
		if f, ok := w.(*os.File); ok {
			if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
				mode = "bar"
			}
		}
	}
	return &progress{w: w, mode: mode, total: total, start: time.Now()}
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
			fmt.Fprintf(p.w, "\r%s", p.line(40))
		}
	case "lines":
		if p.done*10/max(p.total, 1) >= p.nextLine || p.done == p.total {
			p.nextLine = p.done*10/max(p.total, 1) + 1
			fmt.Fprintln(p.w, p.line(0))
		}
	}
}

func (p *progress) line(width int) string {
	elapsed := time.Since(p.start)
	rate := float64(p.done) / max(elapsed.Seconds(), 1e-9)
	eta := "?"
	if rate > 0 {
		eta = time.Duration(float64(p.total-p.done) / rate * float64(time.Second)).Round(time.Second).String()
	}
	s := fmt.Sprintf("%d/%d seeds, %d failed, %.0f runs/s, ETA %s", p.done, p.total, p.fail, rate, eta)
	if width > 0 {
		filled := width * p.done / max(p.total, 1)
		s = "[" + strings.Repeat("#", filled) + strings.Repeat(".", width-filled) + "] " + s
	}
	return s
}

func (p *progress) finish() {
	if p.mode == "bar" {
		fmt.Fprintln(p.w)
	}
}
