package results

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// SweepWriter writes a sweep's result file as the runs finish, so that a
// sweep keeps no run in memory: the head (scenario, plan, ...), then each
// run, then the tail (how many, whether interrupted). It writes to a
// temporary file beside the destination, which Close renames into place:
// the destination is never half written.
type SweepWriter struct {
	out  *file
	full bool
	n    uint64
}

// CreateSweep starts the file at path with head (its Runs, Done and
// Interrupted are ignored). With full, passing runs are written whole;
// without, compact (see Compact). An error here means the path cannot be
// written: found before any run.
func CreateSweep(path string, head Sweep, full bool) (*SweepWriter, error) {
	head.Runs, head.Done, head.Interrupted = nil, 0, false
	head.Detail = "compact"
	if full {
		head.Detail = "full"
	}
	b, err := json.Marshal(head)
	if err != nil {
		return nil, err
	}
	// The head's JSON without its empty runs and closing brace: the runs,
	// written as they come, and the tail follow.
	const runs = `,"runs":null,"done":0}`
	if !bytes.HasSuffix(b, []byte(runs)) {
		return nil, fmt.Errorf("results: a sweep's JSON must end with its runs and count")
	}
	out, err := createFile(path)
	if err != nil {
		return nil, err
	}
	out.write(b[:len(b)-len(runs)])
	out.write([]byte(",\n \"runs\": ["))
	if out.err != nil {
		out.abort()
		return nil, fmt.Errorf("cannot write %s: %w", path, out.err)
	}
	return &SweepWriter{out: out, full: full}, nil
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
		sw.out.write([]byte(","))
	}
	sw.out.write([]byte("\n  "))
	sw.out.write(b)
	sw.n++
	return sw.out.err
}

// Abort removes the file: nothing is put in place.
func (sw *SweepWriter) Abort() { sw.out.abort() }

// Close writes the tail and puts the file in place.
func (sw *SweepWriter) Close(interrupted bool) error {
	sw.out.write([]byte(fmt.Sprintf("\n ],\n \"done\": %d,\n \"interrupted\": %t\n}\n", sw.n, interrupted)))
	return sw.out.commit()
}
