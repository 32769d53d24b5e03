package runner

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/syncsim/syncsim/results"
)

// ErrInput marks an error in what was given to merge (a file that is not
// a sweep, a malformed one), as opposed to a shard set that is incomplete
// or inconsistent, which Merge reports as problems.
var ErrInput = errors.New("bad input")

// Merged is what Merge found: the sweep the shards make up (its head; the
// runs went to each), and what is wrong with the set, if anything.
type Merged struct {
	Head results.Sweep
	// Problems lists every way the shards are not one complete sweep:
	// missing or repeated shards, shards of different sweeps, interrupted
	// or short shards. A green verdict needs none.
	Problems []string
	Runs     uint64
}

// Merge reads the sweep files at paths (shards of one sweep, written by
// simrun sweep -shard K/N), checks that they are all the shards of the
// same sweep, each complete, then hands the merged head to head and every
// run to each in seed order. It streams: memory stays flat however many
// runs the files hold. An error wrapping ErrInput means a file is not a
// sweep result at all.
func Merge(paths []string, head func(results.Sweep), each func(results.Run)) (Merged, error) {
	var m Merged
	heads := make([]results.Sweep, len(paths))
	// Pass 1: every head and tail, and each file's runs checked against
	// its shard.
	for i, path := range paths {
		r, err := openSweep(path)
		if err != nil {
			return m, err
		}
		var n uint64
		var bad []uint64
		for {
			run, ok, err := r.next(true)
			if err != nil {
				r.close()
				return m, err
			}
			if !ok {
				break
			}
			n++
			if p := r.head.Plan; p != nil && (run.Seed < p.From || run.Seed > p.Last() || run.Seed%p.Shards != p.Shard) && len(bad) < 5 {
				bad = append(bad, run.Seed)
			}
		}
		if err := r.finish(); err != nil {
			return m, err
		}
		heads[i] = r.head
		if len(bad) > 0 {
			m.Problems = append(m.Problems, fmt.Sprintf("%s holds seeds outside its shard %s: %v", path, r.head.Plan.ShardString(), bad))
		}
		if n != r.head.Done {
			m.Problems = append(m.Problems, fmt.Sprintf("%s says it holds %d runs and holds %d", path, r.head.Done, n))
		}
	}
	if len(paths) == 0 {
		return m, fmt.Errorf("%w: no sweep files given", ErrInput)
	}
	m.Head, m.Problems = checkShards(paths, heads, m.Problems)
	head(m.Head)
	// Pass 2: the runs of every file, merged in seed order.
	readers := make(runHeap, 0, len(paths))
	defer func() {
		for _, r := range readers {
			r.close()
		}
	}()
	for _, path := range paths {
		r, err := openSweep(path)
		if err != nil {
			return m, err
		}
		if err := readers.pull(r); err != nil {
			return m, err
		}
	}
	heap.Init(&readers)
	var last uint64
	repeated := 0
	for readers.Len() > 0 {
		r := readers[0]
		run := r.cur
		if m.Runs > 0 && run.Seed == last {
			if repeated++; repeated <= 5 {
				m.Problems = append(m.Problems, fmt.Sprintf("seed %d appears in more than one file (overlapping shards?)", run.Seed))
			}
		}
		last = run.Seed
		m.Runs++
		each(run)
		if err := r.advance(); err != nil {
			return m, err
		}
		if r.done {
			r.close()
			heap.Pop(&readers)
		} else {
			heap.Fix(&readers, 0)
		}
	}
	if repeated > 5 {
		m.Problems = append(m.Problems, fmt.Sprintf("... and %d more repeated seeds", repeated-5))
	}
	return m, nil
}

// checkShards checks that the heads are the shards of one sweep, each
// once and complete; it returns the merged head.
func checkShards(paths []string, heads []results.Sweep, problems []string) (results.Sweep, []string) {
	first := heads[0]
	merged := results.Sweep{Scenario: first.Scenario, Definition: first.Definition, Implementations: first.Implementations,
		Version: first.Version, Detail: first.Detail}
	same := func(what string, get func(results.Sweep) string) {
		for i := 1; i < len(heads); i++ {
			if a, b := get(first), get(heads[i]); a != b {
				problems = append(problems, fmt.Sprintf("%s and %s are of different sweeps: %s %s, %s", paths[0], paths[i], what, show(a), show(b)))
				return
			}
		}
	}
	same("scenario", func(s results.Sweep) string { return s.Scenario })
	same("definition", func(s results.Sweep) string { return compactJSON(s.Definition) })
	same("implementations", func(s results.Sweep) string {
		if s.Implementations == nil {
			return ""
		}
		return s.Implementations.Origin + " / " + s.Implementations.Lite
	})
	same("simrun version", func(s results.Sweep) string { return s.Version })
	if first.Plan == nil {
		problems = append(problems, fmt.Sprintf("%s has no plan (written before plans, or not by simrun sweep): cannot tell whether the shard set is complete", paths[0]))
		return merged, problems
	}
	same("seeds", func(s results.Sweep) string {
		if s.Plan == nil {
			return "none"
		}
		return fmt.Sprintf("%d..%d in %d shards", s.Plan.From, s.Plan.Last(), s.Plan.Shards)
	})
	p := *first.Plan
	merged.Plan = &results.Plan{From: p.From, Count: p.Count, Shard: 0, Shards: 1}
	have := map[uint64]string{}
	for i, h := range heads {
		switch {
		case h.Plan == nil:
			continue
		case h.Interrupted:
			problems = append(problems, fmt.Sprintf("%s (shard %s) was interrupted: %d of its %d seeds ran", paths[i], h.Plan.ShardString(), h.Done, h.Plan.Len()))
		case h.Done < h.Plan.Len():
			problems = append(problems, fmt.Sprintf("%s (shard %s) holds %d of its %d seeds", paths[i], h.Plan.ShardString(), h.Done, h.Plan.Len()))
		}
		merged.Interrupted = merged.Interrupted || h.Interrupted
		merged.Done += h.Done
		if prev, ok := have[h.Plan.Shard]; ok {
			problems = append(problems, fmt.Sprintf("shard %s is given twice: %s and %s", h.Plan.ShardString(), prev, paths[i]))
		}
		have[h.Plan.Shard] = paths[i]
	}
	var missing []string
	for k := uint64(0); k < p.Shards && len(missing) < 20; k++ {
		if _, ok := have[k]; !ok {
			missing = append(missing, fmt.Sprintf("%d/%d", k, p.Shards))
		}
	}
	if len(missing) > 0 {
		problems = append(problems, fmt.Sprintf("shards missing: %s (the sweep has %d shards, %d given)", strings.Join(missing, ", "), p.Shards, len(have)))
	}
	return merged, problems
}

func show(s string) string {
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	return fmt.Sprintf("%q", s)
}

func compactJSON(b json.RawMessage) string {
	var out bytes.Buffer
	if json.Compact(&out, b) != nil {
		return string(b)
	}
	return out.String()
}

// sweepReader streams one sweep file: its members other than the runs
// (which may come before or after them) and the runs one at a time.
type sweepReader struct {
	path   string
	f      *os.File
	dec    *json.Decoder
	fields map[string]json.RawMessage
	head   results.Sweep
	inRuns bool
	cur    results.Run
	done   bool
}

func openSweep(path string) (*sweepReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInput, err)
	}
	r := &sweepReader{path: path, f: f, dec: json.NewDecoder(f), fields: map[string]json.RawMessage{}}
	if tok, err := r.dec.Token(); err != nil || tok != json.Delim('{') {
		f.Close()
		if err == io.EOF {
			return nil, fmt.Errorf("%w: %s is empty, not a sweep result", ErrInput, path)
		}
		return nil, fmt.Errorf("%w: %s is not a sweep result written by simrun sweep -json (not a JSON object)", ErrInput, path)
	}
	if err := r.members(); err != nil {
		f.Close()
		return nil, err
	}
	if !r.inRuns {
		f.Close()
		if _, ok := r.fields["trace_hash"]; ok {
			return nil, fmt.Errorf("%w: %s is one run's result, not a sweep's: merge takes the -json files of simrun sweep", ErrInput, path)
		}
		return nil, fmt.Errorf("%w: %s is not a sweep result written by simrun sweep -json (no \"runs\")", ErrInput, path)
	}
	return r, nil
}

// members reads members until the runs array starts (inRuns) or the object
// ends.
func (r *sweepReader) members() error {
	for r.dec.More() {
		tok, err := r.dec.Token()
		if err != nil {
			return r.malformed(err)
		}
		key, _ := tok.(string)
		if key == "runs" {
			if tok, err := r.dec.Token(); err != nil || tok != json.Delim('[') {
				if tok == nil && err == nil {
					continue // "runs": null
				}
				return r.malformed(fmt.Errorf(`"runs" is not a list`))
			}
			r.inRuns = true
			return nil
		}
		var v json.RawMessage
		if err := r.dec.Decode(&v); err != nil {
			return r.malformed(err)
		}
		r.fields[key] = v
	}
	return nil
}

func (r *sweepReader) malformed(err error) error {
	return fmt.Errorf("%w: %s: malformed sweep result at byte %d: %v", ErrInput, r.path, r.dec.InputOffset(), err)
}

// next reads the next run (only its seed when seedOnly).
func (r *sweepReader) next(seedOnly bool) (results.Run, bool, error) {
	if !r.inRuns || !r.dec.More() {
		if r.inRuns {
			if _, err := r.dec.Token(); err != nil { // the closing ]
				return results.Run{}, false, r.malformed(err)
			}
			r.inRuns = false
		}
		return results.Run{}, false, nil
	}
	var run results.Run
	var err error
	if seedOnly {
		var s struct {
			Seed uint64 `json:"seed"`
		}
		err = r.dec.Decode(&s)
		run.Seed = s.Seed
	} else {
		err = r.dec.Decode(&run)
	}
	if err != nil {
		return run, false, r.malformed(err)
	}
	return run, true, nil
}

// finish reads the members after the runs and decodes the head.
func (r *sweepReader) finish() error {
	defer r.close()
	if err := r.members(); err != nil {
		return err
	}
	b, _ := json.Marshal(r.fields)
	if err := json.Unmarshal(b, &r.head); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInput, r.path, err)
	}
	if r.head.Scenario == "" {
		return fmt.Errorf("%w: %s is not a sweep result written by simrun sweep -json (no scenario)", ErrInput, r.path)
	}
	if p := r.head.Plan; p != nil {
		if err := p.Validate(); err != nil {
			return fmt.Errorf("%w: %s: plan: %v", ErrInput, r.path, err)
		}
	}
	return nil
}

func (r *sweepReader) advance() error {
	run, ok, err := r.next(false)
	r.cur, r.done = run, !ok
	return err
}

func (r *sweepReader) close() { r.f.Close() }

// runHeap orders the readers by their current run's seed.
type runHeap []*sweepReader

func (h runHeap) Len() int           { return len(h) }
func (h runHeap) Less(i, j int) bool { return h[i].cur.Seed < h[j].cur.Seed }
func (h runHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *runHeap) Push(x any)        { *h = append(*h, x.(*sweepReader)) }
func (h *runHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	*h = old[:len(old)-1]
	return r
}

// pull adds r to the heap with its first run, or closes it when it has
// none.
func (h *runHeap) pull(r *sweepReader) error {
	if err := r.advance(); err != nil {
		r.close()
		return err
	}
	if r.done {
		r.close()
		return nil
	}
	*h = append(*h, r)
	return nil
}
