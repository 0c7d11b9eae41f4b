package asm

import (
	"fmt"
	"strings"

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

// readString is ReadFile into a string, without a second copy of the
// bytes: an assembly file is assembled from a string.
func readString(path string) (string, error) {
	src, _, err := safefile.ReadString(path, MaxFileSize)
	return src, err
}

// LoadFile reads a program: bytecode if the file starts with the magic
// bytes (vm.Magic), assembly otherwise.
func LoadFile(path string) (*vm.Program, error) {
	src, err := readString(path)
	if err != nil {
		return nil, err
	}
	return Load(path, src)
}

// Load is LoadFile for a program already read (from a pipe, a network
// session): bytecode if src starts with the magic bytes, assembly
// otherwise. name names it in errors.
func Load(name, src string) (*vm.Program, error) {
	if strings.HasPrefix(src, vm.Magic) {
		p, err := vm.DecodeProgram([]byte(src))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return p, nil
	}
	return Assemble(name, src)
}
