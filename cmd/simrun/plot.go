package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/syncsim/syncsim/reports"
	"github.com/syncsim/syncsim/results"
	"github.com/syncsim/syncsim/runner"
)

func runPlot(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const name = "simrun plot"
	fs := newFlagSet(name)
	out := fs.String("o", "report", "write the plots and index.html into `DIR` (created if need be)")
	usage := func(w io.Writer) {
		fmt.Fprint(w, `Usage: simrun plot RESULT.json [-o DIR]

Draw the plots of one run from its saved result (simrun run -json FILE):
lag per Lite with fault windows, resyncs, throttle bands, heal and
convergence; queue depth against the capacity and the throttle marks;
Origin's push rate against the suggested rate while throttled; the fault
timeline. Writes each as PNG and SVG, and index.html: one self-contained
page (plots inlined, nothing fetched) with the summary and, for a failure,
the violation, the last trace events and the replay and shrink commands.
A sweep's report comes from simrun sweep -report DIR. See docs/plots.md.
Exit status: 0 written, 2 bad flags or input.

Flags:
`)
		printFlags(w, fs)
		fmt.Fprint(w, `
Example:
  simrun run -scenario slow-consumer -seed 1 -json r.json
  simrun plot r.json -o report     # then open report/index.html in a browser
`)
	}
	pos, code, done := parseFlags(fs, args, usage, stdout, stderr)
	if done {
		return code
	}
	if len(pos) != 1 {
		return failf(stderr, name, "want one result file written by simrun run -json, got %d arguments (run %s -h for help)", len(pos), name)
	}
	r, err := readRun(pos[0])
	if err != nil {
		return fail(stderr, name, err)
	}
	if _, err := reports.WriteRun(*out, r); err != nil {
		return failf(stderr, name, "%s: %v", pos[0], err)
	}
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(*out, "index.html"))
	return exitOK
}

// readRun reads one run's result file, refusing a sweep's.
func readRun(path string) (*results.Run, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, s, err := results.Decode(b)
	switch {
	case errors.Is(err, results.ErrNotResult):
		return nil, fmt.Errorf("%s is not a result written by simrun run -json (%w)", path, err)
	case err != nil:
		return nil, fmt.Errorf("%s: %w", path, err)
	case s != nil:
		return nil, fmt.Errorf("%s is a sweep result (%d runs), not one run's: for a sweep's report use simrun sweep -report DIR; to plot one of its runs, replay it with simrun run -scenario S -seed N -report DIR", path, len(s.Runs))
	case len(r.Series) == 0:
		return nil, fmt.Errorf("%s: %w (a sweep's runs keep none); write one with simrun run -json FILE", path, reports.ErrNoSeries)
	}
	return r, nil
}

// writeRunReport writes the report of a run just made into dir and says
// where it is.
func writeRunReport(dir string, rj RunJSON, stdout io.Writer) error {
	if _, err := reports.WriteRun(dir, &rj); err != nil {
		return fmt.Errorf("-report %s: %w", dir, err)
	}
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(dir, "index.html"))
	return nil
}

// failureReports is how many failed runs of a sweep get a report of their
// own (each is run again, with its series).
const failureReports = 3

// writeSweepReport writes a sweep's report into dir, with the reports of
// its first failed runs in dir/seed-N, linked from it.
func writeSweepReport(dir string, t target, s SweepJSON, stdout io.Writer) error {
	links := map[uint64]string{}
	for _, r := range s.Runs {
		if r.Pass || len(links) == failureReports || r.Violation == nil || r.Violation.Property == "error" {
			continue
		}
		res, err := t.RunWitnessed(context.Background(), r.Seed, nil, nil) // whole runs, also after an interrupted sweep
		if err != nil {
			return fmt.Errorf("-report: seed %d: %w", r.Seed, err)
		}
		sub := fmt.Sprintf("seed-%d", r.Seed)
		rj := runner.Result(t, r.Seed, res, true)
		if _, err := reports.WriteRun(filepath.Join(dir, sub), &rj); err != nil {
			return fmt.Errorf("-report %s: seed %d: %w", dir, r.Seed, err)
		}
		links[r.Seed] = sub + "/index.html"
	}
	if _, err := reports.WriteSweep(dir, &s, links); err != nil {
		return fmt.Errorf("-report %s: %w", dir, err)
	}
	fmt.Fprintf(stdout, "report: %s\n", filepath.Join(dir, "index.html"))
	return nil
}
