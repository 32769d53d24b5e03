package results

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
)

// file is an output written beside its destination and renamed into place
// by commit, so that the destination is never half written. It is made
// readable as a file os.WriteFile(path, b, 0o644) would be.
type file struct {
	path string
	f    *os.File
	w    *bufio.Writer
	err  error // the first write error
}

func createFile(path string) (*file, error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("cannot write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		os.Remove(f.Name())
		return nil, fmt.Errorf("cannot write %s: %w", path, err)
	}
	return &file{path: path, f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

func (f *file) write(b []byte) {
	if f.err == nil {
		_, f.err = f.w.Write(b)
	}
}

// commit puts the file in place, or removes it after any error.
func (f *file) commit() error {
	if f.err == nil {
		f.err = f.w.Flush()
	}
	if err := f.f.Close(); f.err == nil {
		f.err = err
	}
	if f.err == nil {
		f.err = os.Rename(f.f.Name(), f.path)
	}
	if f.err != nil {
		os.Remove(f.f.Name())
		return fmt.Errorf("writing %s: %w", f.path, f.err)
	}
	return nil
}

// abort removes the file.
func (f *file) abort() {
	f.f.Close()
	os.Remove(f.f.Name())
}

// WriteFile writes b to path through a file beside it renamed into place.
func WriteFile(path string, b []byte) error {
	f, err := createFile(path)
	if err != nil {
		return err
	}
	f.write(b)
	return f.commit()
}
