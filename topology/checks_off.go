//go:build simbench_nocheck

package topology

import (
	"fmt"
	"os"
)

// checking: see checks_on.go.
const checking = false

// No program built this way may pass its runs off as checked.
func init() {
	fmt.Fprintln(os.Stderr, "syncsim: built with the simbench_nocheck tag: no safety property is checked (convergence still is) and marks and metrics read 0; for measurement only")
}
