package results

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// SweepWriter writes a sweep's result file as the runs finish, so that a
// sweep keeps no run in memory: the head (scenario, plan, ...), then each
// run, then the tail (how many, whether interrupted). It writes to a
// temporary file beside the destination, which Close renames into place:
// the destination is never half written.
type SweepWriter struct {
	path, tmp string
	f         *os.File
	w         *bufio.Writer
	full      bool
	n         uint64
	err       error
}

// CreateSweep starts the file at path with head (its Runs, Done and
// Interrupted are ignored). With full, passing runs are written whole;
// without, compact (see Compact). An error here means the path cannot be
// written: found before any run.
func CreateSweep(path string, head Sweep, full bool) (*SweepWriter, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", path, err)
	}
	sw := &SweepWriter{path: path, tmp: f.Name(), f: f, w: bufio.NewWriterSize(f, 64<<10), full: full}
	head.Runs, head.Done, head.Interrupted = nil, 0, false
	head.Detail = "compact"
	if full {
		head.Detail = "full"
	}
	b, err := json.Marshal(head)
	if err != nil {
		sw.abort()
		return nil, err
	}
	// The head's JSON, without its closing brace and its empty runs.
	b = b[:len(b)-1]
	const runs = `,"runs":null,"done":0`
	n := len(b) - len(runs)
	if n < 0 || string(b[n:]) != runs {
		sw.abort()
		return nil, fmt.Errorf("results: a sweep's head must end with its runs (legacy fields set?)")
	}
	b = b[:n]
	sw.write(b)
	sw.write([]byte(",\n \"runs\": ["))
	if sw.err != nil {
		sw.abort()
		return nil, fmt.Errorf("cannot write %s: %w", path, sw.err)
	}
	return sw, nil
}

func (sw *SweepWriter) write(b []byte) {
	if sw.err == nil {
		_, sw.err = sw.w.Write(b)
	}
}

// Add writes one run.
func (sw *SweepWriter) Add(r Run) error {
	if r.Pass && !sw.full {
		r = Compact(r)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	if sw.n > 0 {
		sw.write([]byte(","))
	}
	sw.write([]byte("\n  "))
	sw.write(b)
	sw.n++
	return sw.err
}

// Close writes the tail and puts the file in place.
func (sw *SweepWriter) Close(interrupted bool) error {
	sw.write([]byte(fmt.Sprintf("\n ],\n \"done\": %d,\n \"interrupted\": %t\n}\n", sw.n, interrupted)))
	if sw.err == nil {
		sw.err = sw.w.Flush()
	}
	if sw.err == nil {
		sw.err = sw.f.Close()
	} else {
		sw.f.Close()
	}
	if sw.err == nil {
		sw.err = os.Rename(sw.tmp, sw.path)
	}
	if sw.err != nil {
		os.Remove(sw.tmp)
		return fmt.Errorf("writing %s: %w", sw.path, sw.err)
	}
	return nil
}

func (sw *SweepWriter) abort() {
	sw.f.Close()
	os.Remove(sw.tmp)
}
