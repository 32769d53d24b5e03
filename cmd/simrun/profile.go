package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
)

// profiles are the -cpuprofile and -memprofile flags of run and sweep: a
// user who finds a scenario slow profiles the binary they already have,
// and `go tool pprof simrun FILE` reads what it writes.
type profiles struct {
	cpu, mem    *string
	cpuFile     *os.File
	heapWritten bool
}

func profileFlags(fs *flag.FlagSet) *profiles {
	return &profiles{
		cpu: fs.String("cpuprofile", "", "write a CPU profile of the simulation (the runs, not the reports written after) to `FILE`, also when interrupted (read it with go tool pprof)"),
		mem: fs.String("memprofile", "", "write a heap profile (allocations since start, live at the end) to `FILE` when the command ends or is interrupted"),
	}
}

// start creates both files before any work, so a bad path fails at once,
// and starts the CPU profile. One file for both (by any path or link) is
// refused: the heap profile would overwrite the CPU profile.
func (p *profiles) start() error {
	if *p.cpu != "" {
		f, err := os.Create(*p.cpu)
		if err != nil {
			return fmt.Errorf("-cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return fmt.Errorf("-cpuprofile %s: %w", *p.cpu, err)
		}
		p.cpuFile = f
	}
	if *p.mem != "" {
		f, err := os.Create(*p.mem)
		if err != nil {
			p.stopCPU()
			return fmt.Errorf("-memprofile: %w", err)
		}
		same := false
		if p.cpuFile != nil {
			fc, err1 := p.cpuFile.Stat()
			fm, err2 := f.Stat()
			same = err1 == nil && err2 == nil && os.SameFile(fc, fm)
		}
		f.Close()
		if same {
			p.stopCPU()
			return fmt.Errorf("-cpuprofile and -memprofile both name %s: give each its own file", *p.cpu)
		}
	}
	return nil
}

func (p *profiles) stopCPU() error {
	if p.cpuFile == nil {
		return nil
	}
	pprof.StopCPUProfile()
	err := p.cpuFile.Close()
	p.cpuFile = nil
	if err != nil {
		return fmt.Errorf("-cpuprofile %s: %w", *p.cpu, err)
	}
	return nil
}

// stop ends the CPU profile and writes the heap profile. It is safe to
// call more than once (the heap profile is written once), and after a
// failed start.
func (p *profiles) stop() error {
	err := p.stopCPU()
	if *p.mem == "" || p.heapWritten {
		return err
	}
	p.heapWritten = true
	runtime.GC() // the profile's live figures are as of the last collection
	f, ferr := os.Create(*p.mem)
	if ferr == nil {
		ferr = pprof.Lookup("allocs").WriteTo(f, 0)
		if cerr := f.Close(); ferr == nil {
			ferr = cerr
		}
	}
	if ferr != nil && err == nil {
		err = fmt.Errorf("-memprofile: %w", ferr)
	}
	return err
}
