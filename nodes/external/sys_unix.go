//go:build unix

package external

import (
	"os"
	"syscall"
)

// sysProcAttr puts a node in its own process group, so that a Ctrl-C at
// the terminal reaches the harness (which stops its nodes between steps)
// and not a node mid-step; on Linux the node is also killed if the harness
// dies. A node whose parent is gone sees its stdin end and exits anyway.
func sysProcAttr() *syscall.SysProcAttr {
	a := &syscall.SysProcAttr{Setpgid: true}
	setDeathSignal(a)
	return a
}

// killGroup kills the node and anything it started (its process group).
func killGroup(p *os.Process) {
	if syscall.Kill(-p.Pid, syscall.SIGKILL) != nil {
		p.Kill()
	}
}
