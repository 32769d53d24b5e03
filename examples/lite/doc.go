// Package example is the non-Go example of syncsim's external-node
// protocol (docs/external-nodes.md): lite.py, a NodeDB Lite written in
// Python 3 with only the standard library, which syncsim runs as one
// process per Lite against the reference Origin.
//
// The package holds no Go code. Its test finds python3 (.ci/ensure-python3
// installs it), runs the baseline scenario and twenty seeds of lossy with
// lite.py as every Lite, requires each run to pass and a rerun to give the
// same trace hash, and checks that the defects lite.py can plant
// (LITE_DEFECT=skip-gap, no-retry) are caught by the property each one
// breaks. README.md says how to run lite.py by hand.
package example
