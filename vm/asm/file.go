package asm

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/iridium-vm/iridium/vm"
)

// MaxFileSize bounds what ReadFile reads, so that a path such as /dev/zero
// or a runaway file cannot exhaust memory.
const MaxFileSize = 64 << 20

// ReadFile reads a program file of at most MaxFileSize bytes. It refuses a
// directory; pipes and devices are read up to the limit. Errors name the
// path.
func ReadFile(path string) ([]byte, error) {
	var b bytes.Buffer
	if err := readFile(path, &b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// readString is ReadFile into a string, without a second copy of the
// bytes: an assembly file is assembled from a string.
func readString(path string) (string, error) {
	var b strings.Builder
	if err := readFile(path, &b); err != nil {
		return "", err
	}
	return b.String(), nil
}

// growWriter is a buffer that can be grown before it is written to.
type growWriter interface {
	io.Writer
	Grow(n int)
	Len() int
}

// readFile reads the file at path into b, as ReadFile says.
func readFile(path string, b growWriter) error {
	f, err := os.Open(path)
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return fmt.Errorf("%s: %w", path, pathErr.Err)
	} else if err != nil {
		return err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return fmt.Errorf("%s is a directory", path)
	} else if err == nil && fi.Mode().IsRegular() && fi.Size() <= MaxFileSize {
		b.Grow(int(fi.Size()) + 1) // +1: the read that finds the end
	}
	_, err = io.Copy(b, io.LimitReader(f, MaxFileSize+1))
	switch {
	case err != nil:
		return fmt.Errorf("read %s: %w", path, err)
	case b.Len() > MaxFileSize:
		return fmt.Errorf("%s is over the limit of %d bytes", path, MaxFileSize)
	}
	return nil
}

// LoadFile reads a program: bytecode if the file starts with the magic
// bytes (vm.Magic), assembly otherwise.
func LoadFile(path string) (*vm.Program, error) {
	src, err := readString(path)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(src, vm.Magic) {
		p, err := vm.DecodeProgram([]byte(src))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return p, nil
	}
	return Assemble(path, src)
}
