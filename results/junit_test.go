package results

import (
	"encoding/xml"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The rules of the JUnit schema Jenkins and Ant read (junit-4.xsd, the
// one the Jenkins JUnit plugin documents), written out as a checker: which
// element holds which, which attributes each may have and must have, and
// their types. encoding/xml has no XSD validation, and the rules are few.
var junitSchema = map[string]struct {
	children       []string
	required, opts []string
}{
	"testsuites": {children: []string{"testsuite"}, opts: []string{"name", "time", "tests", "failures", "errors", "disabled", "skipped"}},
	"testsuite": {children: []string{"properties", "testcase", "system-out", "system-err"}, required: []string{"name", "tests"},
		opts: []string{"failures", "errors", "disabled", "skipped", "time", "timestamp", "hostname", "id", "package"}},
	"testcase": {children: []string{"skipped", "error", "failure", "system-out", "system-err"}, required: []string{"name"},
		opts: []string{"classname", "time", "assertions", "status"}},
	"failure": {opts: []string{"message", "type"}},
	"error":   {opts: []string{"message", "type"}},
	"skipped": {opts: []string{"message"}},
}

var (
	xsdDecimal  = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?$`)
	xsdInt      = regexp.MustCompile(`^[0-9]+$`)
	xsdDateTime = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}$`) // no zone, as the schema's pattern
)

type xmlNode struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []xmlNode  `xml:",any"`
	Text     string     `xml:",chardata"`
}

func (n *xmlNode) attr(name string) (string, bool) {
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// validateJUnit checks doc against the schema's rules and that every
// suite's counts are those of its cases.
func validateJUnit(doc []byte) error {
	var root xmlNode
	if err := xml.Unmarshal(doc, &root); err != nil {
		return err
	}
	if root.XMLName.Local != "testsuites" {
		return fmt.Errorf("root is <%s>, want <testsuites>", root.XMLName.Local)
	}
	var walk func(n *xmlNode, path string) error
	walk = func(n *xmlNode, path string) error {
		rule, ok := junitSchema[n.XMLName.Local]
		if !ok {
			return fmt.Errorf("%s: element not in the schema", path)
		}
		for _, a := range n.Attrs {
			if !slices.Contains(rule.required, a.Name.Local) && !slices.Contains(rule.opts, a.Name.Local) {
				return fmt.Errorf("%s: attribute %q not in the schema", path, a.Name.Local)
			}
			switch a.Name.Local {
			case "time":
				if !xsdDecimal.MatchString(a.Value) {
					return fmt.Errorf("%s: time %q is not a decimal", path, a.Value)
				}
			case "tests", "failures", "errors", "skipped", "disabled":
				if !xsdInt.MatchString(a.Value) {
					return fmt.Errorf("%s: %s %q is not an integer", path, a.Name.Local, a.Value)
				}
			case "timestamp":
				if !xsdDateTime.MatchString(a.Value) {
					return fmt.Errorf("%s: timestamp %q is not an ISO 8601 date-time without zone", path, a.Value)
				}
			}
		}
		for _, r := range rule.required {
			if _, ok := n.attr(r); !ok {
				return fmt.Errorf("%s: required attribute %q missing", path, r)
			}
		}
		for i := range n.Children {
			c := &n.Children[i]
			if !slices.Contains(rule.children, c.XMLName.Local) {
				return fmt.Errorf("%s: <%s> may not hold <%s>", path, n.XMLName.Local, c.XMLName.Local)
			}
			if err := walk(c, fmt.Sprintf("%s/%s[%d]", path, c.XMLName.Local, i)); err != nil {
				return err
			}
		}
		if n.XMLName.Local == "testsuite" {
			count := map[string]int{}
			for _, c := range n.Children {
				if c.XMLName.Local != "testcase" {
					continue
				}
				count["tests"]++
				for _, p := range c.Children {
					count[p.XMLName.Local]++
				}
			}
			for attr, what := range map[string]string{"tests": "tests", "failures": "failure", "errors": "error", "skipped": "skipped"} {
				v, _ := n.attr(attr)
				if got, _ := strconv.Atoi(v); v != "" && got != count[what] {
					return fmt.Errorf("%s: %s=%q but it holds %d", path, attr, v, count[what])
				}
			}
		}
		return nil
	}
	return walk(&root, "testsuites")
}

func TestJUnitMatchesTheSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.xml")
	j, err := CreateJUnit(path, "/tmp/my scenarios/fragile.json", time.Date(2026, 12, 1, 9, 30, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []Run{
		{Seed: 1, Pass: true, WallS: 0.25},
		{Seed: 2, Replay: "simrun run -seed 2", Violation: &Violation{Property: "convergence", Message: `lite1 has <3> & "more" unacked`}},
		{Seed: 3, Violation: &Violation{Property: "node-error", Message: "lite2 exited"}},
	} {
		if err := j.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Close(997, "seeds 4..1000"); err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode %v (%v), want -rw-r--r--", st.Mode(), err)
	}
	if err := validateJUnit(doc); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
	for _, want := range []string{
		`<testsuite name="simrun sweep /tmp/my scenarios/fragile.json" tests="4" failures="1" errors="1" skipped="1" time="0.250" timestamp="2026-12-01T09:30:00">`,
		`classname="syncsim.fragile"`,
		`<failure message="lite1 has &lt;3&gt; &amp; &#34;more&#34; unacked" type="convergence">replay: simrun run -seed 2</failure>`,
		`<error message="lite2 exited" type="node-error">`,
		`name="997 seeds not run (interrupted)"`,
	} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("report lacks %s\n%s", want, doc)
		}
	}
	if matches, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*")); len(matches) > 0 {
		t.Errorf("temporary files left: %v", matches)
	}
}

// The checker is proven by reports it must refuse.
func TestJUnitSchemaCheckerRefuses(t *testing.T) {
	for _, tc := range []struct{ name, doc, want string }{
		{"bare suite", `<testsuite name="a" tests="0"></testsuite>`, "want <testsuites>"},
		{"no tests attr", `<testsuites><testsuite name="a"></testsuite></testsuites>`, `"tests" missing`},
		{"count off", `<testsuites><testsuite name="a" tests="2"><testcase name="x"/></testsuite></testsuites>`, "holds 1"},
		{"failures off", `<testsuites><testsuite name="a" tests="1" failures="0"><testcase name="x"><failure/></testcase></testsuite></testsuites>`, "failures"},
		{"bad time", `<testsuites><testsuite name="a" tests="1" time="1,5"><testcase name="x"/></testsuite></testsuites>`, "not a decimal"},
		{"zoned timestamp", `<testsuites><testsuite name="a" tests="0" timestamp="2026-12-01T09:30:00Z"></testsuite></testsuites>`, "timestamp"},
		{"unknown attr", `<testsuites><testsuite name="a" tests="1"><testcase name="x" file="y"/></testsuite></testsuites>`, `"file"`},
		{"misplaced", `<testsuites><testsuite name="a" tests="0"><failure/></testsuite></testsuites>`, "may not hold <failure>"},
	} {
		if err := validateJUnit([]byte(tc.doc)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}
