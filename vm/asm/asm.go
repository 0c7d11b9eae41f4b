// Package asm is Iridium's two-pass assembler. The lexer hands the source
// over a line at a time, as tokens that are slices of it; each line becomes
// a statement. The first pass lays out each statement as it comes: the
// read-only data, the labels and constants in a symbol table, and each
// instruction, encoded at once unless an operand waits for a label (or a
// float constant, which goes after the data). The second pass fills in
// those operands, with every label known.
// An Assembler keeps its program and symbol table between calls, so the
// REPL can feed it a line at a time; Assemble does a whole file.
package asm

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/iridium-vm/iridium/internal/sorted"
	"github.com/iridium-vm/iridium/vm"
)

// SymbolKind says what a symbol names.
type SymbolKind uint8

// The kinds of symbol.
const (
	CodeLabel   SymbolKind = iota + 1 // a code address: name: before an instruction
	StringConst                       // a read-only offset: name: .asciiz 'text'
	IntConst                          // a number: name: .integer #n (takes no space)
	FloatConst                        // a read-only offset: name: .float #1.5

	// poisoned marks a label declared on a line that failed. Uses of it
	// pass without a second error; the line's own error means no program
	// is made, so a poisoned symbol is never kept.
	poisoned SymbolKind = 255
)

// String names the kind of symbol as error messages show it.
func (k SymbolKind) String() string {
	switch k {
	case CodeLabel:
		return "code label"
	case StringConst:
		return "string"
	case IntConst:
		return "integer"
	case FloatConst:
		return "float"
	}
	return "symbol"
}

// Symbol is a label or constant. Value is the code address of a CodeLabel,
// the read-only offset of a StringConst or FloatConst, and the number of an
// IntConst.
type Symbol struct {
	Name  string
	Kind  SymbolKind
	Value int32
	File  string
	Pos   Pos
}

// entry is a symbol as the table keeps it: 20 bytes against a Symbol's
// 56 (with its name and file); the table makes Symbols on demand.
type entry struct {
	kind      SymbolKind
	value     int32
	line, col int32
	file      int32 // an index into files
}

// makeSymbol makes the Symbol of a table entry.
func (a *Assembler) makeSymbol(name string, e entry) Symbol {
	return Symbol{Name: name, Kind: e.kind, Value: e.value, File: a.files[e.file], Pos: Pos{Line: int(e.line), Col: int(e.col)}}
}

// Assembler assembles source into one growing program. Each call to
// Assemble appends to the program; labels and constants stay known for
// later calls. A call that fails changes nothing. A call costs what its
// own source costs, however large the program has grown: the code and
// data grow in place, and the symbols go into a map, a list in the order
// they were defined and an index sorted by name.
type Assembler struct {
	ro, code []byte
	symbols  map[string]entry
	files    []string       // the files symbols were defined in, by entry.file
	order    []string       // the names of symbols, in the order defined
	sorted   sorted.Strings // the names of order[:nSorted], sorted
	nSorted  int
	// codeAt and dataAt name the addresses of order[:nAddressed], as Names
	// does, for NamesIn; made on its first call.
	codeAt, dataAt map[int]string
	nAddressed     int
	pool           map[uint64]int // float bits -> read-only offset, to share constants
	inData         bool
}

// New returns an Assembler with an empty program.
func New() *Assembler {
	return &Assembler{symbols: map[string]entry{}, pool: map[uint64]int{}}
}

// Assemble assembles a whole source file into a program.
func Assemble(file, src string) (*vm.Program, error) {
	a := New()
	if _, err := a.Assemble(file, src); err != nil {
		return nil, err
	}
	return a.Program(), nil
}

// Program returns the program assembled so far, without copying it. Later
// calls to Assemble do not change what it holds: they write only past its
// end, which its slices cannot reach, so a program that grew in place
// shares its first bytes with the ones returned before (see
// vm.VM.AppendProgram).
func (a *Assembler) Program() *vm.Program {
	return &vm.Program{ReadOnly: a.ro[:len(a.ro):len(a.ro)], Code: a.code[:len(a.code):len(a.code)]}
}

// Symbols returns every symbol, sorted by name. The names defined since
// the last call go into the sorted index now, so that a file assembled
// for its program alone never builds one.
func (a *Assembler) Symbols() []Symbol {
	a.sorted.InsertAll(a.order[a.nSorted:])
	a.nSorted = len(a.order)
	out := make([]Symbol, 0, len(a.symbols))
	a.sorted.All(func(name string) bool {
		out = append(out, a.makeSymbol(name, a.symbols[name]))
		return true
	})
	return out
}

// NumSymbols returns the number of symbols defined so far.
func (a *Assembler) NumSymbols() int { return len(a.order) }

// SymbolsSince returns the symbols defined after the first n, in the order
// they were defined, so that a caller can follow the table as it grows.
func (a *Assembler) SymbolsSince(n int) []Symbol {
	if n < 0 || n > len(a.order) {
		n = len(a.order)
	}
	out := make([]Symbol, 0, len(a.order)-n)
	for _, name := range a.order[n:] {
		out = append(out, a.makeSymbol(name, a.symbols[name]))
	}
	return out
}

// Lookup returns the symbol with the name.
func (a *Assembler) Lookup(name string) (Symbol, bool) {
	e, ok := a.symbols[name]
	if !ok {
		return Symbol{}, false
	}
	return a.makeSymbol(name, e), true
}

// Names returns the labels of the program by address, for the disassembler.
func (a *Assembler) Names() vm.Names {
	n := vm.Names{Code: map[int]string{}, Data: map[int]string{}}
	for _, s := range a.Symbols() {
		switch s.Kind {
		case CodeLabel:
			n.Code[int(s.Value)] = s.Name
		case StringConst, FloatConst:
			n.Data[int(s.Value)] = s.Name
		}
	}
	return n
}

// NamesIn returns the labels of the addresses that the instruction raw
// refers to, as Names would give them, for naming one instruction (in a
// fault) without building the names of the whole program. It costs what
// the symbols defined since the last call cost.
func (a *Assembler) NamesIn(raw []byte) vm.Names {
	if a.codeAt == nil {
		a.codeAt, a.dataAt = map[int]string{}, map[int]string{}
	}
	for _, name := range a.order[a.nAddressed:] {
		e := a.symbols[name]
		at := a.dataAt
		switch e.kind {
		case CodeLabel:
			at = a.codeAt
		case StringConst, FloatConst:
		default:
			continue
		}
		if old, ok := at[int(e.value)]; !ok || name > old { // Names keeps the last by name
			at[int(e.value)] = name
		}
	}
	a.nAddressed = len(a.order)
	n := vm.Names{Code: map[int]string{}, Data: map[int]string{}}
	if len(raw) < vm.InstructionSize || vm.Lookup(vm.Opcode(raw[0])) == nil {
		return n
	}
	pos := 1
	for _, kind := range vm.Lookup(vm.Opcode(raw[0])).Operands {
		switch kind {
		case vm.CodeAddr, vm.DataAddr, vm.DataAddr16:
			addr := int(binary.BigEndian.Uint16(raw[pos:]))
			if kind.Size() == 3 {
				addr = addr<<8 | int(raw[pos+2])
			}
			if name, ok := a.codeAt[addr]; ok && kind == vm.CodeAddr {
				n.Code[addr] = name
			} else if name, ok := a.dataAt[addr]; ok && kind != vm.CodeAddr {
				n.Data[addr] = name
			}
		}
		pos += kind.Size()
	}
	return n
}

// Assemble appends the source to the program. It returns the byte address
// where the new code starts. On error it returns an ErrorList with every
// error in src, and the Assembler is as it was. The source starts in the
// section where the last call left off, as lines typed one by one do.
func (a *Assembler) Assemble(file, src string) (codeStart int, err error) {
	return a.assemble(file, src, a.inData)
}

// AssembleFile is Assemble for a whole file: it starts in the .code section,
// as a file on its own does, and leaves the section as it was.
func (a *Assembler) AssembleFile(file, src string) (codeStart int, err error) {
	inData := a.inData
	start, err := a.assemble(file, src, false)
	a.inData = inData
	return start, err
}

// Reset empties the program and forgets every symbol.
func (a *Assembler) Reset() { *a = *New() }

// put writes an operand value into b, the operand's bytes in an
// instruction, as the operand kind says: high byte first.
func put(b []byte, kind vm.OperandKind, v uint32) {
	switch kind.Size() {
	case 1:
		b[0] = byte(v)
	case 2:
		binary.BigEndian.PutUint16(b, uint16(v))
	case 3:
		b[0], b[1], b[2] = byte(v>>16), byte(v>>8), byte(v)
	}
}

func fitsInt16(v int64) bool { return v >= math.MinInt16 && v <= math.MaxInt16 }

func operandCount(info *vm.Instruction) string {
	switch len(info.Operands) {
	case 0:
		return "no operands"
	case 1:
		return "1 operand (" + info.Syntax()[len(info.Name)+1:] + ")"
	}
	return fmt.Sprintf("%d operands (%s)", len(info.Operands), info.Syntax()[len(info.Name)+1:])
}

// clip shortens a word from the source for an error message.
func clip(word string) string {
	if len(word) > 40 {
		return word[:40] + "..."
	}
	return word
}
