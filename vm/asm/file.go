package asm

import (
	"fmt"

	"github.com/iridium-vm/iridium/internal/safefile"
	"github.com/iridium-vm/iridium/vm"
)

// MaxFileSize bounds what ReadFile reads, so that a runaway file cannot
// exhaust memory.
const MaxFileSize = 64 << 20

// ReadFile reads a program file of at most MaxFileSize bytes. Only a
// regular file is read, and only after its size is checked: a directory,
// a FIFO (which would block the reader) or a device such as /dev/zero is
// refused at once. Errors name the path.
func ReadFile(path string) ([]byte, error) {
	data, _, err := safefile.Read(path, MaxFileSize)
	return data, err
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
