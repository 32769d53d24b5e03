package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"text/tabwriter"

	"github.com/syncsim/syncsim/runner"
	"github.com/syncsim/syncsim/scenarios"
)

// runNodeDB hunts each of NodeDB's April 2026 weaknesses under the model
// (and the mixed topologies that isolate one) and prints what it found.
func runNodeDB(args []string, _ io.Reader, stdout, stderr io.Writer) int {
	const name = "simrun nodedb"
	fs := newFlagSet(name)
	seeds := fs.Int("seeds", 50, "seeds tried per weakness, from 1")
	shrinkRuns := fs.Int("shrink-runs", 300, "trial runs allowed to shrink each failure")
	only := fs.String("w", "", "hunt only these weaknesses, comma-separated `IDS` (e.g. W1,W8)")
	outDir := fs.String("o", "", "write each finding's shrunk schedule as a regression scenario file `DIR`/W#.json")
	parallel := fs.Int("parallel", defaultParallel(), "weaknesses hunted at once (each run stays single-threaded)")
	usage := func(w io.Writer) {
		fmt.Fprintf(w, `Usage: simrun nodedb [-seeds N] [-w IDS] [-o DIR]

Where NodeDB's April 2026 sync fails. For each weakness of the model of
NodeDB's Lite and Origin (nodes/nodedb; docs/nodedb-2026.md), run its hunt:
a scenario whose nodes (NodeDB's, or NodeDB's Lite or Origin against the
reference, to isolate one side) and faults reach the weakness's path. The
first seed counts whose run breaks the expected property, whose fault
schedule shrinks to at most %d events that keep the faults the weakness
needs, and whose shrunk schedule the reference nodes pass. For each: the
seed, the property, the shrunk schedule and the command that replays it;
a weakness no run can show says why. Exit status: 0 every weakness is
shown or explained, 1 a hunt found nothing, 2 bad flags.

Flags:
`, runner.MaxShrunk)
		printFlags(w, fs)
		fmt.Fprint(w, `
Examples:
  simrun nodedb -w W4,W8
  simrun nodedb -o testdata/nodedb     # rewrite the regression files go test replays
`)
	}
	if code, done := parseFlagsNoArgs(name, fs, args, usage, stdout, stderr); done {
		return code
	}
	if *seeds < 1 || *shrinkRuns < 1 || *parallel < 1 || *parallel > runner.MaxWorkers {
		return failf(stderr, name, "-seeds and -shrink-runs must be at least 1, -parallel 1..%d", runner.MaxWorkers)
	}
	all := runner.Weaknesses()
	if *only != "" {
		var pick []runner.Weakness
		for _, id := range strings.Split(*only, ",") {
			id = strings.TrimSpace(id)
			found := false
			for _, w := range all {
				if strings.EqualFold(w.ID, id) {
					pick, found = append(pick, w), true
				}
			}
			if !found {
				var ids []string
				for _, w := range all {
					ids = append(ids, w.ID)
				}
				return failf(stderr, name, "-w: no weakness %q (known: %s)", id, strings.Join(ids, ", "))
			}
		}
		all = pick
	}
	if *outDir != "" {
		if err := checkDir(*outDir); err != nil {
			return failf(stderr, name, "-o: %v", err)
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	found := make([]runner.Finding, len(all))
	errs := make([]error, len(all))
	var wg sync.WaitGroup
	sem := make(chan struct{}, *parallel)
	for i := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			found[i], errs[i] = runner.HuntWeakness(ctx, all[i], *seeds, *shrinkRuns)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			return failf(stderr, name, "%s: %v", all[i].ID, err)
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintf(stderr, "%s: interrupted; nothing printed\n", name)
		return exitFail
	}
	kept := "testdata/nodedb" // where go test keeps this build's findings
	if *outDir != "" {
		kept = *outDir
	}
	missed := printFindings(stdout, found, *seeds, kept)
	if *outDir != "" {
		for _, f := range found {
			if !f.Found {
				continue
			}
			path := filepath.Join(*outDir, f.ID+".json")
			if err := os.WriteFile(path, scenarios.Marshal(&f.Scenario), 0o644); err != nil {
				return fail(stderr, name, err)
			}
			fmt.Fprintf(stdout, "wrote %s\n", path)
		}
	}
	if missed > 0 {
		return exitFail
	}
	return exitOK
}

// printFindings prints the table and each finding's schedule; it returns
// how many hunts found nothing.
func printFindings(w io.Writer, found []runner.Finding, seeds int, dir string) int {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "#\tweakness\tnodes (lite / origin)\tseed\tproperty\tshrunk events\treference")
	missed := 0
	for _, f := range found {
		nodes := "-"
		if f.Hunt != "" {
			if sc, err := scenarios.Parse(f.ID, []byte(f.Hunt)); err == nil {
				p, _ := sc.Params(1)
				nodes = p.Lite.Name + " / " + p.Origin.Name
			}
		}
		switch {
		case f.Hunt == "" && strings.Contains(f.ShownBy, "nodes/nodedb"):
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\tframe by frame\t-\t-\n", f.ID, f.What, nodes)
		case f.Hunt == "":
			fmt.Fprintf(tw, "%s\t%s\t%s\t-\tnot exposed\t-\t-\n", f.ID, f.What, nodes)
		case !f.Found:
			missed++
			fmt.Fprintf(tw, "%s\t%s\t%s\tnone of %d\t-\t-\t-\n", f.ID, f.What, nodes, seeds)
		default:
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d -> %d\tpasses\n", f.ID, f.What, nodes, f.Seed, f.Property, len(f.From), len(f.To))
		}
	}
	tw.Flush()
	for _, f := range found {
		fmt.Fprintf(w, "\n%s  %s (%s)\n", f.ID, f.What, f.Fault)
		switch {
		case f.Hunt == "":
			fmt.Fprintf(w, "  %s\n  shown by: %s\n", f.Why, f.ShownBy)
		case !f.Found:
			fmt.Fprintf(w, "  NOT FOUND in seeds 1..%d", seeds)
			if f.Note != "" {
				fmt.Fprintf(w, " (%s)", f.Note)
			}
			fmt.Fprintln(w)
		default:
			fmt.Fprintf(w, "  %s\n  %s\n", f.Message, f.Why)
			for _, e := range f.To {
				fmt.Fprintf(w, "    %s\n", e)
			}
			replay := runner.Target{Arg: filepath.Join(dir, f.ID+".json")}.Replay(f.Seed)
			fmt.Fprintf(w, "  replay: %s   (the reference passes it: add -nodes reference)\n", replay)
		}
	}
	return missed
}
