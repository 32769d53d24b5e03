package main

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// example is one command shown in a -h text or the README: what it runs,
// the exit status the text gives it, and the output lines the text shows.
type example struct {
	where string // "simrun run -h", "README.md:34"
	cmd   string
	exit  int
	shows []string
}

var (
	exitNote    = regexp.MustCompile(`\(exit (\d)`)
	failedCount = regexp.MustCompile(`\b\d+ passed, [1-9]\d* failed`)
)

// expectedExit reads the exit status a text gives a command: the last
// "(exit N)" in its comment (a; b exits as b), else 1 when an output line
// shows a failure, else 0.
func expectedExit(comment string, shows []string) int {
	if m := exitNote.FindAllStringSubmatch(comment, -1); m != nil {
		return int(m[len(m)-1][1][0] - '0')
	}
	for _, l := range shows {
		if strings.HasPrefix(l, "FAIL ") || strings.HasPrefix(l, "DIFFERENT ") || failedCount.MatchString(l) {
			return 1
		}
	}
	return 0
}

// splitComment cuts a shell line's trailing "   # comment" (two spaces or
// more before the #, so that a # inside an argument stays).
func splitComment(line string) (cmd, comment string) {
	if i := strings.Index(line, "  #"); i >= 0 {
		return strings.TrimSpace(line[:i]), line[i:]
	}
	return strings.TrimSpace(line), ""
}

// helpExamples are the examples of every subcommand's -h: the indented
// lines of its last "Example:" or "Examples:" section; "$ cmd" lines are
// followed by the output they show.
func helpExamples(t *testing.T) []example {
	var out []example
	texts := map[string]string{"simrun -h": simrun(t, nil, "-h").ok(t, []string{"-h"})}
	names := []string{"simrun -h"}
	for _, c := range commands {
		args := []string{c.name, "-h"}
		texts["simrun "+c.name+" -h"] = simrun(t, nil, args...).ok(t, args)
		names = append(names, "simrun "+c.name+" -h")
	}
	for _, verb := range []string{"encode", "decode"} {
		args := []string{"wire", verb, "-h"}
		name := "simrun wire " + verb + " -h"
		texts[name] = simrun(t, nil, args...).ok(t, args)
		names = append(names, name)
	}
	for _, name := range names {
		text := texts[name]
		i := max(strings.LastIndex(text, "\nExamples:\n"), strings.LastIndex(text, "\nExample:\n"))
		if i < 0 {
			continue
		}
		lines := strings.Split(text[i+1:], "\n")[1:]
		for j := 0; j < len(lines); j++ {
			l := lines[j]
			if !strings.HasPrefix(l, "  ") {
				break
			}
			body := strings.TrimSpace(l)
			if c, ok := strings.CutPrefix(body, "$ "); ok {
				c, comment := splitComment(c)
				e := example{where: name, cmd: c, exit: expectedExit(comment, nil)}
				if j+1 < len(lines) && strings.HasPrefix(lines[j+1], "  ") && !strings.HasPrefix(strings.TrimSpace(lines[j+1]), "$ ") {
					e.shows = []string{strings.TrimSpace(lines[j+1])}
					j++
				}
				out = append(out, e)
				continue
			}
			cmd, comment := splitComment(body)
			out = append(out, example{where: name, cmd: cmd, exit: expectedExit(comment, nil)})
		}
	}
	return out
}

// readmeExamples are the commands of README.md's sh blocks, with the "# "
// output lines after each. make and go build lines are the set-up the
// test has done already.
func readmeExamples(t *testing.T, path string) []example {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []example
	var comments []string // each command's trailing comments
	in, heredoc := false, ""
	cur := -1 // the command that lines belong to
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		switch {
		case strings.HasPrefix(l, "```sh"):
			in = true
			continue
		case strings.HasPrefix(l, "```"):
			in, cur = false, -1
			continue
		case !in:
			continue
		}
		if heredoc != "" {
			out[cur].cmd += "\n" + l
			if l == heredoc {
				heredoc = ""
			}
			continue
		}
		if shown, ok := strings.CutPrefix(l, "# "); ok {
			if cur >= 0 {
				out[cur].shows = append(out[cur].shows, shown)
			}
			continue
		}
		if strings.TrimSpace(l) == "" || strings.HasPrefix(l, "#") {
			continue
		}
		c, comment := splitComment(l)
		if cur >= 0 && strings.HasSuffix(out[cur].cmd, "\\") {
			out[cur].cmd = strings.TrimSuffix(out[cur].cmd, "\\") + " " + c
			comments[cur] += comment
			continue
		}
		if strings.HasPrefix(c, "make ") || strings.HasPrefix(c, "go build ") {
			cur = -1
			continue
		}
		out = append(out, example{where: filepath.Base(path) + ":" + strconv.Itoa(n), cmd: c})
		comments = append(comments, comment)
		cur = len(out) - 1
		if m := heredocRE.FindStringSubmatch(c); m != nil {
			heredoc = m[1]
		}
	}
	for i := range out {
		out[i].exit = expectedExit(comments[i], out[i].shows)
	}
	return out
}

var heredocRE = regexp.MustCompile(`<<'(\w+)'$`)

// shows reports whether out holds the shown line: whitespace runs count
// as one space, and "..." stands for anything.
func shows(out, line string) bool {
	norm := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	o := norm(out)
	for _, part := range strings.Split(norm(line), "...") {
		part = strings.TrimSpace(part)
		i := strings.Index(o, part)
		if i < 0 {
			return false
		}
		o = o[i+len(part):]
	}
	return true
}

// runExamples runs each example with sh in dir, simrun on the PATH, and
// checks its exit status and the output lines the text shows.
func runExamples(t *testing.T, dir string, examples []example, rewrite func(string) string) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Fatalf("no sh to run the examples: %v", err)
	}
	for _, e := range examples {
		cmdline := rewrite(e.cmd)
		start := time.Now()
		cmd := exec.Command(sh, "-c", cmdline)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(binPath)+string(os.PathListSeparator)+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		code := 0
		if err != nil {
			ee, ok := err.(*exec.ExitError)
			if !ok {
				t.Errorf("%s: %q: %v", e.where, e.cmd, err)
				continue
			}
			code = ee.ExitCode()
		}
		if code != e.exit {
			t.Errorf("%s: %q exits %d, the text says %d\n%s", e.where, e.cmd, code, e.exit, tail(string(out), 10))
			continue
		}
		for _, l := range e.shows {
			if l = rewrite(l); !shows(string(out), l) {
				t.Errorf("%s: %q does not print what the text shows:\n  shown:   %s\n  printed: %s", e.where, e.cmd, l, tail(string(out), 12))
			}
		}
		if testing.Verbose() {
			t.Logf("%s: %q: exit %d in %v", e.where, e.cmd, code, time.Since(start).Round(time.Millisecond))
		}
	}
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n  ")
}

// Every example in every -h text runs, exits as the text says, and prints
// what the text shows.
func TestHelpExamplesRun(t *testing.T) {
	examples := helpExamples(t)
	if len(examples) < 25 {
		t.Fatalf("found only %d examples in the -h texts", len(examples))
	}
	runExamples(t, t.TempDir(), examples, func(s string) string { return s })
}

// Every command of the shell blocks of the README (and of the docs a user
// pastes from most) runs, exits as the text says, and prints the lines the
// text shows (its hashes and figures are this build's).
func TestReadmeCommandsRun(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	examples := readmeExamples(t, filepath.Join(root, "README.md"))
	if len(examples) < 15 {
		t.Fatalf("found only %d commands in README.md", len(examples))
	}
	for _, doc := range []string{"nodedb-2026.md", "external-nodes.md"} {
		more := readmeExamples(t, filepath.Join(root, "docs", doc))
		if len(more) < 3 {
			t.Fatalf("found only %d commands in docs/%s", len(more), doc)
		}
		examples = append(examples, more...)
	}
	dir := t.TempDir()
	rewrite := strings.NewReplacer("bin/simrun", "simrun", "/tmp/", dir+"/", "examples/", filepath.Join(root, "examples")+"/",
		" testdata/", " "+filepath.Join(root, "testdata")+"/").Replace
	runExamples(t, dir, examples, rewrite)
}
