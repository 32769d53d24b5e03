package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/syncsim/syncsim/nodes/reference"
	"github.com/syncsim/syncsim/runner"
	"github.com/syncsim/syncsim/scenarios"
)

// CatalogueRowJSON is one planted bug's score, as -json writes it.
type CatalogueRowJSON = runner.CatalogueRow

func runCatalogue(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const name = "simrun catalogue"
	fs := newFlagSet(name)
	scen := fs.String("scenario", "", "hunt every bug in this scenario `NAME` only (default: in swarm and in the bug's own scenario)")
	limit := fs.Int("seeds", 100, "give up on a starting point after `N` seeds")
	starts := fs.Int("starts", 5, "`K` starting points (seed 1, 10001, 20001, ...) for the median seeds-to-detection")
	only := fs.String("bug", "", "score only this bug `NAME` (default: the whole catalogue and the nodedb-2026 profile)")
	shrinkRuns := fs.Int("shrink-runs", 300, "trial runs allowed to shrink each bug's first failure")
	parallel := fs.Int("parallel", defaultParallel(), "bugs scored at once (each run stays single-threaded)")
	jsonFile := fs.String("json", "", "also write the scores as JSON to `FILE`")
	list := fs.Bool("list", false, "list the planted bugs and exit")
	usage := func(w io.Writer) {
		fmt.Fprint(w, `Usage: simrun catalogue [-seeds N] [-starts K] [-bug NAME] [-scenario NAME] [-json FILE]
       simrun catalogue -list

The harness's own mutation score. For each planted bug in the catalogue
(and NodeDB's 2026 behaviour as the nodedb-2026 profile), run seeds with the
bug switched on, in the swarm scenario and in the scenario aimed at the
bug's path, and report: whether a property failed within N seeds, the median
number of seeds to the first failure over K starting points, the property
that failed, the first failure's fault schedule shrunk as simrun shrink
does (events before -> after) and the wall time spent. Exit status 1 when a bug
escapes every hunt. A bug can also be switched on in any scenario file
("bug": "no-dedup") to watch it fail with simrun run.

Flags:
`)
		printFlags(w, fs)
		fmt.Fprint(w, "\nExamples:\n  simrun catalogue -list\n  simrun catalogue -seeds 20 -starts 2\n  simrun catalogue -bug dedup-before-apply\n")
	}
	if code, done := parseFlagsNoArgs(name, fs, args, usage, stdout, stderr); done {
		return code
	}
	all := reference.Catalogue()
	if *list {
		rows := [][]string{{"bug", "nodedb-2026", "caught by", "hunted in", "what it does"}}
		for _, b := range all {
			rows = append(rows, []string{b.Name, yesNo(b.NodeDB2026), dash(b.Property), b.Hunt, b.Summary})
		}
		printTable(stdout, rows)
		return exitOK
	}
	if *limit < 1 || *starts < 1 || *parallel < 1 || *shrinkRuns < 1 {
		return failf(stderr, name, "-seeds, -starts, -parallel and -shrink-runs must be at least 1")
	}
	if *only != "" {
		b, err := reference.Lookup(*only)
		if err != nil {
			return failf(stderr, name, "-bug: %v", err)
		}
		all = []reference.Bug{b}
	}
	var fixed *scenarios.Scenario
	if *scen != "" {
		s, err := scenarios.Resolve(*scen)
		if err != nil {
			return failf(stderr, name, "-scenario: %v", err)
		}
		fixed = s
	}
	plan := make([][]scenarios.Scenario, len(all))
	for i, b := range all {
		h, err := runner.HuntsFor(b, fixed)
		if err != nil {
			return failf(stderr, name, "%v", err)
		}
		plan[i] = h
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rows := make([]*CatalogueRowJSON, len(all))
	var mu sync.Mutex
	scoredN := 0
	jobs := make(chan int)
	var wg sync.WaitGroup
	var firstErr error
	for w := 0; w < min(*parallel, len(all)); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				row, err := runner.Score(ctx, all[i], plan[i], *limit, *starts, *shrinkRuns)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = fmt.Errorf("bug %s: %w", all[i].Name, err)
				}
				rows[i] = row
				scoredN++
				if row != nil {
					fmt.Fprintf(stderr, "scored %s (%d/%d)\n", all[i].Name, scoredN, len(all))
				}
				mu.Unlock()
			}
		}()
	}
	for i := range all {
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return failf(stderr, name, "%v", firstErr)
	}
	interrupted := ctx.Err() != nil

	var scored []CatalogueRowJSON
	for _, r := range rows {
		if r != nil {
			scored = append(scored, *r)
		}
	}
	escaped := printCatalogue(stdout, scored, *limit, *starts)
	if *jsonFile != "" {
		if err := writeJSON(*jsonFile, scored); err != nil {
			return fail(stderr, name, err)
		}
	}
	if interrupted {
		fmt.Fprintf(stdout, "interrupted: %d of %d bugs scored\n", len(scored), len(all))
		return exitFail
	}
	if escaped > 0 {
		return exitFail
	}
	return exitOK
}

// printCatalogue prints the score table and returns how many bugs escaped
// every hunt.
func printCatalogue(w io.Writer, rows []CatalogueRowJSON, limit, starts int) int {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "bug\tnodedb\thunt\tcaught\tmedian seeds\tproperty\tshrunk events\twall")
	escaped := 0
	for _, r := range rows {
		for i, h := range r.Hunts {
			bug, nodedb, shrunk, wall := r.Bug, yesNo(r.NodeDB2026), "", ""
			if i > 0 {
				bug, nodedb = "", ""
			}
			if i == len(r.Hunts)-1 {
				wall = fmt.Sprintf("%.1fs", r.WallS)
			}
			if h.Detected {
				shrunk = fmt.Sprintf("%d -> %d", h.ShrunkFrom, h.ShrunkTo)
			}
			got := fmt.Sprintf("%d/%d", hits(h.SeedsToHit), len(h.SeedsToHit))
			med := "-"
			if h.Median > 0 {
				med = fmt.Sprint(h.Median)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", bug, nodedb, h.Scenario, got, med, dash(h.Property), dash(shrunk), wall)
		}
		if !r.Caught() {
			escaped++
		}
	}
	tw.Flush()
	fmt.Fprintf(w, "\n%d of %d caught; \"caught\" counts starting points (of %d) with a failure within %d seeds\n",
		len(rows)-escaped, len(rows), starts, limit)
	return escaped
}

func hits(v []int) int {
	n := 0
	for _, x := range v {
		if x > 0 {
			n++
		}
	}
	return n
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func dash(s string) string {
	if strings.TrimSpace(s) == "" {
		return "-"
	}
	return s
}
