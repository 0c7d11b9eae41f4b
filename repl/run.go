package repl

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/iridium-vm/iridium/vm"
	"github.com/iridium-vm/iridium/vm/asm"
)

// runAssembly assembles a typed line, appends it to the program and runs
// it. A line that does not assemble changes nothing.
func (s *Shell) runAssembly(ctx context.Context, src string) error {
	start, err := s.asm.Assemble(fmt.Sprintf("line %d", s.lineNo), src)
	if err != nil {
		return &lineAsmError{err: err, hint: s.forwardLabelHint(err)}
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
	s.vm.AppendProgram(p) // decodes only the new code

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
		raw := p.Code[f.PC : f.PC+vm.InstructionSize]
		f.Instr = s.asm.NamesIn(raw).Instruction(raw) // with the user's labels
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
			b.WriteString(vm.RegisterLine(i, v) + "\n")
		}
	}
	for i, v := range s.vm.FloatRegisters() {
		if v != fregs[i] && !(math.IsNaN(v) && math.IsNaN(fregs[i])) {
			b.WriteString(vm.FloatRegisterLine(i, v) + "\n")
		}
	}
	if b.Len() > 0 {
		s.con.print(s.con.result, b.String())
	}
}

// updateWords adds the labels defined since the last call to the ones
// that Tab completes, or starts again after the program was cleared. It
// costs what the new labels cost, however many there are.
func (s *Shell) updateWords() {
	since := s.wordsFrom
	if s.asm.NumSymbols() < since {
		since = 0
	}
	syms := s.asm.SymbolsSince(since)
	s.mu.Lock()
	defer s.mu.Unlock()
	if since == 0 {
		s.words.Clear()
	}
	for _, sym := range syms {
		s.words.Insert(sym.Name)
	}
	s.wordsFrom = since + len(syms)
}

// forwardLabelHint explains, the first time a line uses a label not
// defined yet, that lines are assembled one by one: a program file with
// forward references (fib.iasm piped into the shell) needs iridium FILE or
// !load_file, which read the whole file first.
func (s *Shell) forwardLabelHint(err error) string {
	if s.labelHintGiven || !strings.Contains(err.Error(), "undefined label") {
		return ""
	}
	s.labelHintGiven = true
	return "(the shell assembles each line as it comes, so a label must be defined\n" +
		"before a line uses it; a file that uses labels before their definition\n" +
		"runs with iridium FILE or !load_file FILE, which read the whole file first)"
}

// lineAsmError is the assembly error of a typed line. The line number is
// the input's, so each error shows only its column, the line and a caret.
type lineAsmError struct {
	err  error  // an asm.ErrorList, or another error from the assembler
	hint string // a last line of advice, or ""
}

func (e *lineAsmError) Error() string {
	var list asm.ErrorList
	if !errors.As(e.err, &list) {
		return e.err.Error()
	}
	parts := make([]string, len(list), len(list)+1)
	for i, ae := range list {
		parts[i] = fmt.Sprintf("col %d: %s%s", ae.Pos.Col, ae.Msg, ae.Snippet())
	}
	if e.hint != "" {
		parts = append(parts, e.hint)
	}
	return strings.Join(parts, "\n")
}

func (e *lineAsmError) Unwrap() error { return e.err }
