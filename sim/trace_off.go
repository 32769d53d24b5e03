//go:build simbench_notrace

package sim

import (
	"fmt"
	"os"
)

// tracing: see trace_on.go.
const tracing = false

// No program built this way may pass its runs off as traced.
func init() {
	fmt.Fprintln(os.Stderr, "syncsim: built with the simbench_notrace tag: runs are not traced and every hash is the same; for measurement only")
}
