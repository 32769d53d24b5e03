package reports

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/syncsim/syncsim/results"
)

// WriteRun writes a run's report into dir (created if need be): each
// figure as ID.png and ID.svg, and index.html with the figures inlined. It
// returns the paths written, index.html last.
func WriteRun(dir string, r *results.Run) ([]string, error) {
	figs, err := RunFigures(r)
	if err != nil {
		return nil, err
	}
	return write(dir, figs, RunPage(r, figs))
}

// WriteSweep writes a sweep's report into dir, as WriteRun does; links
// maps failed seeds to their own reports (relative to dir).
func WriteSweep(dir string, s *results.Sweep, links map[uint64]string) ([]string, error) {
	figs, err := SweepFigures(s)
	if err != nil {
		return nil, err
	}
	return write(dir, figs, SweepPage(s, figs, links))
}

func write(dir string, figs []Figure, p Page) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report directory: %w", err)
	}
	var paths []string
	for i := range figs {
		for _, format := range []string{"png", "svg"} {
			var b bytes.Buffer
			if err := Render(&figs[i], format, &b); err != nil {
				return paths, err
			}
			path := filepath.Join(dir, figs[i].ID+"."+format)
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				return paths, fmt.Errorf("writing report: %w", err)
			}
			paths = append(paths, path)
		}
	}
	if p.Sequence != nil {
		path := filepath.Join(dir, "sequence.svg")
		if err := os.WriteFile(path, []byte(p.Sequence.SVG()), 0o644); err != nil {
			return paths, fmt.Errorf("writing report: %w", err)
		}
		paths = append(paths, path)
	}
	var b bytes.Buffer
	if err := WriteHTML(&b, p, true); err != nil {
		return paths, err
	}
	path := filepath.Join(dir, "index.html")
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return paths, fmt.Errorf("writing report: %w", err)
	}
	return append(paths, path), nil
}
