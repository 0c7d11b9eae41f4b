package repl

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"strings"

	"github.com/iridium-vm/iridium/vm"
	"github.com/iridium-vm/iridium/vm/asm"
)

// runAssembly assembles a typed line, appends it to the program and runs
// it. A line that does not assemble changes nothing.
func (s *Shell) runAssembly(ctx context.Context, src string) error {
	start, err := s.asm.Assemble(fmt.Sprintf("line %d", s.lineNo), src)
	if err != nil {
		return &lineAsmError{err: err}
	}
	s.updateWords()
	return s.runFrom(ctx, start)
}

// runFrom runs the program from the code address start, where new code
// begins. After a fault or an interruption the program counter moves to
// the end of the code, so the next line does not run the failed code
// again; the registers stay as they were when it stopped.
func (s *Shell) runFrom(ctx context.Context, start int) error {
	p := s.asm.Program()
	s.vm.SetProgram(p)
	if start >= len(p.Code) {
		return nil
	}
	if err := s.vm.SetPC(start); err != nil {
		return fmt.Errorf("start at %d: %w", start, err)
	}
	regs, fregs := s.vm.Registers(), s.vm.FloatRegisters()
	err := s.vm.Run(ctx)
	if err == nil {
		s.showChanges(regs, fregs)
		return nil
	}
	if perr := s.vm.SetPC(len(p.Code)); perr != nil {
		return errors.Join(err, perr)
	}
	var f *vm.Fault
	if errors.As(err, &f) && f.PC+vm.InstructionSize <= len(p.Code) && !errors.Is(err, vm.ErrTruncatedInstruction) {
		f.Instr = s.asm.Names().Instruction(p.Code[f.PC : f.PC+vm.InstructionSize]) // with the user's labels
	}
	if errors.Is(err, errInterrupted) && f != nil {
		return fmt.Errorf("%w at pc %d (%s)", errInterrupted, f.PC, f.Instr)
	}
	return fmt.Errorf("fault: %w", err)
}

// showChanges prints, on a terminal, the registers the last run changed.
func (s *Shell) showChanges(regs [vm.NumRegisters]int32, fregs [vm.NumRegisters]float64) {
	if !s.opts.Interactive {
		return
	}
	var b strings.Builder
	for i, v := range s.vm.Registers() {
		if v != regs[i] {
			fmt.Fprintf(&b, "$%d = %d\n", i, v)
		}
	}
	for i, v := range s.vm.FloatRegisters() {
		if v != fregs[i] && !(math.IsNaN(v) && math.IsNaN(fregs[i])) {
			fmt.Fprintf(&b, "$f%d = %s\n", i, vm.FormatFloat(v))
		}
	}
	if b.Len() > 0 {
		s.con.print(s.con.result, b.String())
	}
}

// updateWords refreshes the labels that Tab completes.
func (s *Shell) updateWords() {
	syms := s.asm.Symbols()
	words := make([]string, len(syms))
	for i, sym := range syms {
		words[i] = sym.Name
	}
	s.mu.Lock()
	s.words = words
	s.mu.Unlock()
}

// lineAsmError is the assembly error of a typed line. The line number is
// the input's, so each error shows only its column, the line and a caret.
type lineAsmError struct {
	err error // an asm.ErrorList, or another error from the assembler
}

func (e *lineAsmError) Error() string {
	var list asm.ErrorList
	if !errors.As(e.err, &list) {
		return e.err.Error()
	}
	parts := make([]string, len(list))
	for i, ae := range list {
		parts[i] = fmt.Sprintf("col %d: %s%s", ae.Pos.Col, ae.Msg, ae.Snippet())
	}
	return strings.Join(parts, "\n")
}

func (e *lineAsmError) Unwrap() error { return e.err }

// maxSourceSize bounds the files !load_file and !spawn read, so that a
// path such as /dev/zero cannot exhaust memory.
const maxSourceSize = 64 << 20

// readSource reads a program file: a regular file of at most
// maxSourceSize bytes.
func readSource(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	var pathErr *fs.PathError
	switch {
	case errors.As(err, &pathErr):
		return nil, fmt.Errorf("%s: %w", path, pathErr.Err)
	case err != nil:
		return nil, err
	case !fi.Mode().IsRegular():
		return nil, fmt.Errorf("%s is not a regular file", path)
	case fi.Size() > maxSourceSize:
		return nil, fmt.Errorf("%s is %d bytes, over the limit of %d", path, fi.Size(), maxSourceSize)
	}
	return os.ReadFile(path)
}

// loadProgram reads a file for !spawn: bytecode if it starts with the
// magic bytes, assembly otherwise.
func loadProgram(path string) (*vm.Program, error) {
	data, err := readSource(path)
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
	return asm.Assemble(path, string(data))
}
