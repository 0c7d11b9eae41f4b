package asm

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/iridium-vm/iridium/vm"
)

// MaxFileSize bounds what ReadFile reads, so that a path such as /dev/zero
// or a runaway file cannot exhaust memory.
const MaxFileSize = 64 << 20

// ReadFile reads a program file of at most MaxFileSize bytes. It refuses a
// directory; pipes and devices are read up to the limit. Errors name the
// path.
func ReadFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	var pathErr *fs.PathError
	if errors.As(err, &pathErr) {
		return nil, fmt.Errorf("%s: %w", path, pathErr.Err)
	} else if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, fmt.Errorf("%s is a directory", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", path, err)
	case len(data) > MaxFileSize:
		return nil, fmt.Errorf("%s is over the limit of %d bytes", path, MaxFileSize)
	}
	return data, nil
}

// LoadFile reads a program: bytecode if the file starts with the magic
// bytes (vm.Magic), assembly otherwise.
func LoadFile(path string) (*vm.Program, error) {
	data, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	if vm.IsBytecode(data) {
		p, err := vm.DecodeProgram(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return p, nil
	}
	return Assemble(path, string(data))
}
