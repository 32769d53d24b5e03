//go:build unix && !linux

package external

import "syscall"

func setDeathSignal(*syscall.SysProcAttr) {}
