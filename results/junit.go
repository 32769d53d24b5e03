package results

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The JUnit XML shape the CI servers read (Jenkins's and Ant's schema):
// testsuites > testsuite > testcase > failure | error | skipped.
type junitCase struct {
	XMLName   xml.Name      `xml:"testcase"`
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	Skipped   *junitSkipped `xml:"skipped,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

type junitSkipped struct {
	Message string `xml:"message,attr"`
}

// JUnitWriter writes a sweep as a JUnit XML report, one test case per
// seed, as the runs finish: the cases go to a temporary file, and Close
// writes the report (whose header counts them) in place.
type JUnitWriter struct {
	path, suite, class string
	cases              *os.File
	w                  *bufio.Writer
	start              time.Time
	tests, failures    int
	errors             int
	seconds            float64
	err                error
}

// CreateJUnit starts a report at path for the sweep of scenario (its name:
// the class of every case is "syncsim." + name). start is the wall time the
// sweep began, the report's timestamp. An error means the path cannot be
// written: found before any run.
func CreateJUnit(path, scenario string, start time.Time) (*JUnitWriter, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.cases")
	if err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", path, err)
	}
	class := "syncsim." + strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ' ' {
			return '_'
		}
		return r
	}, strings.TrimSuffix(filepath.Base(scenario), ".json"))
	return &JUnitWriter{path: path, suite: "simrun sweep " + scenario, class: class, cases: f,
		w: bufio.NewWriterSize(f, 64<<10), start: start}, nil
}

func (j *JUnitWriter) add(c junitCase) {
	if j.err != nil {
		return
	}
	b, err := xml.MarshalIndent(c, "    ", "  ")
	if err != nil {
		j.err = err
		return
	}
	j.w.WriteString("\n    ")
	_, j.err = j.w.Write(b)
	j.tests++
}

// Add writes the case of one run: a failure for a broken property, an
// error for a run that could not be made (its scenario did not build, a
// node broke down).
func (j *JUnitWriter) Add(r Run) error {
	c := junitCase{Name: fmt.Sprintf("seed %d", r.Seed), ClassName: j.class, Time: fmt.Sprintf("%.3f", r.WallS)}
	j.seconds += r.WallS
	if !r.Pass {
		msg, typ := "did not pass", "failure"
		if r.Violation != nil {
			msg, typ = r.Violation.Message, r.Violation.Property
		}
		p := &junitProblem{Message: msg, Type: typ, Body: "replay: " + r.Replay}
		if typ == "error" || typ == "node-error" {
			c.Error = p
			j.errors++
		} else {
			c.Failure = p
			j.failures++
		}
	}
	j.add(c)
	return j.err
}

// Close writes the report. notRun is the number of planned seeds that
// did not run (an interrupted sweep), listed as one skipped case, so that
// a report never looks complete when it is not; ranges describes them.
func (j *JUnitWriter) Close(notRun uint64, ranges string) error {
	skipped := 0
	if notRun > 0 {
		j.add(junitCase{Name: fmt.Sprintf("%d seeds not run (interrupted)", notRun), ClassName: j.class, Time: "0",
			Skipped: &junitSkipped{Message: "the sweep was interrupted before seeds " + ranges + " ran"}})
		skipped = 1
	}
	defer func() {
		j.cases.Close()
		os.Remove(j.cases.Name())
	}()
	if j.err == nil {
		j.err = j.w.Flush()
	}
	if j.err == nil {
		_, j.err = j.cases.Seek(0, io.SeekStart)
	}
	if j.err != nil {
		return fmt.Errorf("writing %s: %w", j.path, j.err)
	}
	out, err := createFile(j.path)
	if err != nil {
		return err
	}
	attrs := fmt.Sprintf(`tests="%d" failures="%d" errors="%d" skipped="%d" time="%.3f"`, j.tests, j.failures, j.errors, skipped, j.seconds)
	name, _ := xmlAttr(j.suite)
	out.write(fmt.Appendf(nil, "%s<testsuites name=%s %s>\n  <testsuite name=%s %s timestamp=\"%s\">", xml.Header, name, attrs, name, attrs,
		j.start.UTC().Format("2006-01-02T15:04:05")))
	if out.err == nil {
		_, out.err = io.Copy(out.w, j.cases)
	}
	out.write([]byte("\n  </testsuite>\n</testsuites>\n"))
	return out.commit()
}

// xmlAttr quotes s as an XML attribute value.
func xmlAttr(s string) (string, error) {
	var b strings.Builder
	b.WriteByte('"')
	err := xml.EscapeText(&b, []byte(s))
	b.WriteByte('"')
	return b.String(), err
}
