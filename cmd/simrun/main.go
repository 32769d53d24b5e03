// Command simrun is syncsim's command line: one binary, one subcommand per
// job (simrun wire; later run, sweep, replay, shrink, list, show, suite,
// merge).
//
// # Adding a subcommand
//
// Write, in its own file, a function
//
//	func runX(args []string, stdin io.Reader, stdout, stderr io.Writer) int
//
// and add one line for it to commands below. args are the arguments after
// the subcommand's name; the function returns the exit status. The
// conventions every subcommand follows (the helpers at the end of this file
// implement them; wire.go shows their use):
//
//   - "-h" (and -help, --help) prints the subcommand's usage to stdout,
//     explaining its arguments and giving an example, and exits 0;
//     "simrun help X" runs X with -h.
//   - Flags use a flag.FlagSet from newFlagSet and are parsed with
//     parseFlags, so they may come before or after the arguments.
//   - Every failure prints exactly one line on stderr, starting with
//     "simrun X: ", and exits with exitError (2); use fail or failf.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// command is one subcommand of simrun.
type command struct {
	name    string // what the user types after simrun
	summary string // one line for simrun -h
	run     func(args []string, stdin io.Reader, stdout, stderr io.Writer) int
}

// commands is the table simrun dispatches on, in the order simrun -h lists
// them. Adding a subcommand is adding a line here.
var commands = []command{
	{"list", "list the named scenarios", runList},
	{"show", "print a scenario as an editable scenario file", runShow},
	{"run", "run one scenario and seed; PASS/FAIL, trace hash, replay command", runRun},
	{"sweep", "run many seeds across cores; summary, percentiles, failures", runSweep},
	{"replay", "re-run a recorded run and confirm the trace hash matches", runReplay},
	{"shrink", "minimise a failing run's fault schedule to a scenario file", runShrink},
	{"plot", "draw a run's plots and HTML report from its -json result", runPlot},
	{"merge", "combine sweep shard results into one summary", runMerge},
	{"suite", "every named scenario with a few seeds (make run)", runSuite},
	{"marks", "list the coverage marks a sweep reports", runMarks},
	{"catalogue", "score the planted-bug catalogue: which checker catches each bug, how fast", runCatalogue},
	{"nodedb", "hunt NodeDB's April 2026 weaknesses in the model of its nodes; shrunk, replayable", runNodeDB},
	{"origin", "serve the reference Origin over real WebSockets (live mode, wall clock)", runOrigin},
	{"lites", "run reference Lites against a real Origin over WebSockets; did they converge?", runLites},
	{"proxy", "a fault-injecting, protocol-checking proxy between real Lites and a real Origin", runProxy},
	{"node", "serve a reference Lite or Origin over the external-node protocol (stdin/stdout)", runNode},
	{"wire", "encode a message to a frame in hex, or decode frames to JSON", runWire},
}

// Exit statuses. Every failure, a usage mistake or bad input, is 2.
const (
	exitOK    = 0
	exitError = 2
)

// run is simrun without the process: it dispatches args[0] to its
// subcommand and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stdout)
		return failf(stderr, "simrun", "no subcommand given; run simrun -h for help")
	}
	name, rest := args[0], args[1:]
	switch name {
	case "-h", "-help", "--help":
		usage(stdout)
		return exitOK
	case "help":
		switch {
		case len(rest) == 0:
			usage(stdout)
			return exitOK
		case len(rest) > 1:
			return failf(stderr, "simrun help", "want at most one subcommand name, got %d arguments", len(rest))
		}
		if c := lookup(rest[0]); c != nil {
			return c.run([]string{"-h"}, stdin, stdout, stderr)
		}
		return failf(stderr, "simrun help", "unknown subcommand %q; run simrun -h for the list", rest[0])
	}
	if c := lookup(name); c != nil {
		return c.run(rest, stdin, stdout, stderr)
	}
	if strings.HasPrefix(name, "-") {
		return failf(stderr, "simrun", "unknown flag %s: flags go after the subcommand; run simrun -h for help", name)
	}
	return failf(stderr, "simrun", "unknown subcommand %q; run simrun -h for the list", name)
}

func lookup(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

func usage(w io.Writer) {
	width := 0
	for _, c := range commands {
		width = max(width, len(c.name))
	}
	var b strings.Builder
	b.WriteString(`simrun: the syncsim command line (a simulator of NodeDB's sync protocol).

Usage:
  simrun COMMAND [flags] [arguments]
  simrun help COMMAND

Commands:
`)
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-*s  %s\n", width, c.name, c.summary)
	}
	b.WriteString(`
Run "simrun COMMAND -h" for a command's flags, arguments and examples.
Exit status: 0 success; 1 a run failed a property, or a sweep failed, missed
a requirement or was interrupted; 2 bad flags or input (one line on stderr).

Example:
  $ simrun wire encode Throttle '{"throttle":true,"queue_depth":1000,"suggested_rate":50}'
  520600000093c3cd03e832
`)
	io.WriteString(w, b.String())
}

// newFlagSet returns a FlagSet for the subcommand named name (the full
// words, e.g. "simrun wire decode"). It prints nothing itself: parseFlags
// reports errors in one line and prints the usage on -h.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args with fs, allowing flags before, between and after
// the positional arguments ("--" ends the flags; "-" is an argument). It
// returns the positional arguments. If done is true the caller returns code
// at once: after -h, usage has been written to stdout and code is 0; after
// a bad flag, one line has been written to stderr and code is 2.
func parseFlags(fs *flag.FlagSet, args []string, usage func(io.Writer), stdout, stderr io.Writer) (pos []string, code int, done bool) {
	for {
		err := fs.Parse(args)
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return nil, exitOK, true
		}
		if err != nil {
			return nil, failf(stderr, fs.Name(), "%v (run %s -h for help)", err, fs.Name()), true
		}
		rest := fs.Args()
		if used := len(args) - len(rest); used > 0 && args[used-1] == "--" {
			return append(pos, rest...), exitOK, false
		}
		if len(rest) == 0 {
			return pos, exitOK, false
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// printFlags writes fs's flags as the flag package formats them.
func printFlags(w io.Writer, fs *flag.FlagSet) {
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// failf writes "prefix: message" as one line on stderr and returns
// exitError.
func failf(stderr io.Writer, prefix, format string, args ...any) int {
	fmt.Fprintf(stderr, "%s: %s\n", prefix, oneLine(fmt.Sprintf(format, args...)))
	return exitError
}

// fail is failf for an error.
func fail(stderr io.Writer, prefix string, err error) int {
	return failf(stderr, prefix, "%s", err.Error())
}

var lineBreaks = strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\v", " ", "\f", " ")

// oneLine keeps a message on one line even when it quotes user input that
// spans several.
func oneLine(s string) string { return lineBreaks.Replace(s) }
