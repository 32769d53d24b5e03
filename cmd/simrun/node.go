package main

import (
	"fmt"
	"io"

	"github.com/syncsim/syncsim/nodes/external"
	"github.com/syncsim/syncsim/nodes/reference"
	"github.com/syncsim/syncsim/scenarios"
	"github.com/syncsim/syncsim/sim"
)

func runNode(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	const name = "simrun node"
	fs := newFlagSet(name)
	scen := fs.String("scenario", "", "tune the node as scenario `NAME|FILE` tunes the reference nodes (drain rate, queue, retained log)")
	bug := fs.String("bug", "", "switch on planted bugs in the reference node, comma-separated `NAMES` (simrun catalogue -list)")
	nodes := fs.String("nodes", scenarios.Reference, "the built-in implementation to serve: `NAME` (reference or nodedb-2026)")
	usage := func(w io.Writer) {
		fmt.Fprint(w, `Usage: simrun node lite|origin [-nodes NAME] [-scenario NAME|FILE] [-bug NAMES]

Serve a built-in node (the reference, or with -nodes nodedb-2026 the model
of NodeDB's) over the external-node protocol on stdin and stdout
(docs/external-nodes.md): the harness starts it as any other program, so the
protocol is exercised by a complete implementation, and a run with every
node served this way has the same trace hash as the same run in-process.
Durable state is a journal of its inputs in the state directory the hello
names; after a crash the new process replays it.

Flags:
`)
		printFlags(w, fs)
		fmt.Fprint(w, `
Examples:
  simrun run -scenario lossy -seed 3 -lite-exec 'simrun node lite' -origin-exec 'simrun node origin'
  simrun run -scenario lossy -seed 1 -lite-exec 'simrun node lite -bug no-push-retry'     # fails convergence (exit 1)
`)
	}
	pos, code, done := parseFlags(fs, args, usage, stdout, stderr)
	if done {
		return code
	}
	if len(pos) != 1 || pos[0] != "lite" && pos[0] != "origin" {
		return failf(stderr, name, "want one role, lite or origin (run %s -h for help)", name)
	}
	ref := reference.Config{}
	if *scen != "" {
		sc, err := scenarios.Resolve(*scen)
		if err != nil {
			return failf(stderr, name, "%v", err)
		}
		ref = sc.Reference()
	}
	if *bug != "" {
		if err := reference.Apply(*bug, &ref); err != nil {
			return failf(stderr, name, "-bug: %v", err)
		}
	}
	if *bug != "" && *nodes != scenarios.Reference {
		return failf(stderr, name, "-bug plants bugs in the reference nodes, not in %s", *nodes)
	}
	role := sim.RoleOrigin
	if pos[0] == "lite" {
		role = sim.RoleLite
	}
	impl, err := scenarios.BuiltIn(*nodes, role, ref)
	if err != nil {
		return failf(stderr, name, "-nodes: %v", err)
	}
	if err := external.Serve(stdin, stdout, impl); err != nil {
		return fail(stderr, name, err)
	}
	return exitOK
}
