package scenarios

import (
	"fmt"

	"github.com/syncsim/syncsim/sim/cluster"
)

// applyBug switches on a planted bug or profile by name. It is replaced
// when the catalogue lands (sim/bugs).
var applyBug = func(name string, _ *cluster.Params) error {
	return fmt.Errorf("unknown bug %q", name)
}
