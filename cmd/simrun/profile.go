package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"sync"
	"syscall"
)

// profiles are the -cpuprofile and -memprofile flags of run and sweep: a
// user who finds a scenario slow profiles the binary they already have,
// and `go tool pprof simrun FILE` reads what it writes.
type profiles struct {
	mu       sync.Mutex // stop may be called from an interrupt's goroutine
	cpu, mem *string
	cpuFile  *os.File
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
// call more than once, and after a failed start.
func (p *profiles) stop() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	err := p.stopCPU()
	if *p.mem == "" {
		return err
	}
	runtime.GC() // the profile's live figures are as of the last collection
	f, ferr := os.Create(*p.mem)
	if ferr == nil {
		ferr = pprof.Lookup("allocs").WriteTo(f, 0)
		if cerr := f.Close(); ferr == nil {
			ferr = cerr
		}
	}
	*p.mem = ""
	if ferr != nil && err == nil {
		err = fmt.Errorf("-memprofile: %w", ferr)
	}
	return err
}

// onInterrupt makes an interrupt (Ctrl-C, SIGTERM) before the returned
// function is called write the profiles of what ran, say so on stderr and
// exit 1: a run too long to wait for can still be profiled. A second
// interrupt while the profiles are written kills the process. Without
// profiles it does nothing, and an interrupt kills the run as before.
// done waits for an interrupt already taken, so no verdict is printed
// after "interrupted".
func (p *profiles) onInterrupt(stderr io.Writer, name string) (done func()) {
	if *p.cpu == "" && *p.mem == "" {
		return func() {}
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt, syscall.SIGTERM)
	quit, exited := make(chan struct{}), make(chan struct{})
	go func() {
		select {
		case <-sig:
		case <-quit:
			close(exited)
			return
		}
		signal.Stop(sig) // a second interrupt kills at once
		clearLine := ""
		if _, ok := terminalWidth(stderr); ok {
			clearLine = "\r\x1b[K" // the progress line
		}
		if err := p.stop(); err != nil {
			fmt.Fprintf(stderr, "%s%s: interrupted before the verdict; %v\n", clearLine, name, err)
		} else {
			fmt.Fprintf(stderr, "%s%s: interrupted before the verdict; the profiles of the part that ran are written\n", clearLine, name)
		}
		os.Exit(exitFail)
	}()
	return func() {
		close(quit)
		<-exited // never, if the interrupt came first: the goroutine exits the process
		signal.Stop(sig)
	}
}
