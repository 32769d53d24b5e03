package main

import (
	"os"
	"runtime/debug"
	"testing"
)

// A sweep of small worlds collects less often, unless the user chose GOGC
// or the worlds are large.
func TestTuneSweepGC(t *testing.T) {
	for _, tc := range []struct {
		name  string
		gogc  string // "" unset
		lites int
		want  int
	}{
		{"3 Lites", "", 3, 1000}, // the figure docs/sharding.md states
		{"64 Lites", "", 64, 1000},
		{"65 Lites", "", 65, 100},
		{"GOGC set", "100", 3, 100},
		{"GOGC=off set", "off", 3, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("GOGC", tc.gogc) // restored after the test
			if tc.gogc == "" {
				os.Unsetenv("GOGC")
			}
			prev := debug.SetGCPercent(100)
			defer debug.SetGCPercent(prev)
			tuneSweepGC(tc.lites)
			if got := debug.SetGCPercent(100); got != tc.want {
				t.Fatalf("GC percent %d, want %d", got, tc.want)
			}
		})
	}
}
