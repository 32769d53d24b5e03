package results

import (
	"encoding/xml"
	"fmt"
)

type junitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name    string        `xml:"name,attr"`
	Class   string        `xml:"classname,attr"`
	Time    string        `xml:"time,attr"`
	Failure *junitFailure `xml:"failure,omitempty"`
}

type junitFailure struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

// JUnit renders a sweep as a JUnit XML report: one test case per seed.
func JUnit(s Sweep) ([]byte, error) {
	js := junitSuite{Name: "simrun sweep " + s.Scenario, Tests: len(s.Runs)}
	var total float64
	for _, r := range s.Runs {
		c := junitCase{Name: fmt.Sprintf("seed %d", r.Seed), Class: "syncsim." + s.Scenario, Time: fmt.Sprintf("%.3f", r.WallS)}
		total += r.WallS
		if !r.Pass {
			js.Failures++
			msg, typ := "did not pass", "failure"
			if r.Violation != nil {
				msg, typ = r.Violation.Message, r.Violation.Property
			}
			c.Failure = &junitFailure{Message: msg, Type: typ, Body: "replay: " + r.Replay}
		}
		js.Cases = append(js.Cases, c)
	}
	js.Time = fmt.Sprintf("%.3f", total)
	b, err := xml.MarshalIndent(js, "", "  ")
	if err != nil {
		return nil, err
	}
	return append([]byte(xml.Header), append(b, '\n')...), nil
}
