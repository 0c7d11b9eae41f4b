// Package asm is Iridium's two-pass assembler. The first pass lays out the
// read-only data and the code and collects labels and constants into a
// symbol table; the second encodes each instruction, with every label known.
// An Assembler keeps its program and symbol table between calls, so the
// REPL can feed it a line at a time; Assemble does a whole file.
package asm

import (
	"encoding/binary"
	"fmt"
	"math"
	"strings"

	"github.com/iridium-vm/iridium/internal/sorted"
	"github.com/iridium-vm/iridium/internal/suggest"
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

// Assembler assembles source into one growing program. Each call to
// Assemble appends to the program; labels and constants stay known for
// later calls. A call that fails changes nothing. A call costs what its
// own source costs, however large the program has grown: the code and
// data grow in place, and the symbols go into a map, a list in the order
// they were defined and an index sorted by name.
type Assembler struct {
	ro, code []byte
	symbols  map[string]Symbol
	order    []string       // the names of symbols, in the order defined
	sorted   sorted.Strings // the names of symbols, sorted
	floats   map[uint64]int // float bits -> read-only offset, to share constants
	inData   bool
}

// New returns an Assembler with an empty program.
func New() *Assembler {
	return &Assembler{symbols: map[string]Symbol{}, floats: map[uint64]int{}}
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

// Symbols returns every symbol, sorted by name.
func (a *Assembler) Symbols() []Symbol {
	out := make([]Symbol, 0, len(a.symbols))
	a.sorted.All(func(name string) bool {
		out = append(out, a.symbols[name])
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
		out = append(out, a.symbols[name])
	}
	return out
}

// Lookup returns the symbol with the name.
func (a *Assembler) Lookup(name string) (Symbol, bool) {
	s, ok := a.symbols[name]
	return s, ok
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

func (a *Assembler) assemble(file, src string, inData bool) (codeStart int, err error) {
	p := &pass{
		Assembler: Assembler{
			// The pass appends in place, past the parent's length: the
			// parent and every Program it returned end before that.
			ro:      a.ro,
			code:    a.code,
			symbols: map[string]Symbol{},
			floats:  map[uint64]int{},
			inData:  inData,
		},
		parent: a,
		errs:   &errorSink{file: file, lines: strings.Split(src, "\n")},
	}
	p.layout(parse(lex(src), p.errs))
	p.relax()
	p.encode()
	if len(p.code) > vm.MaxSectionSize {
		p.errs.add(Pos{Line: 1, Col: 1}, "the code is %d bytes, over the limit of %d", len(p.code), vm.MaxSectionSize)
	}
	if len(p.errs.errs) > 0 {
		p.errs.sort()
		return 0, p.errs.errs
	}
	p.commit()
	return len(a.code) - len(p.out), nil
}

// Reset empties the program and forgets every symbol.
func (a *Assembler) Reset() { *a = *New() }

// instr is an instruction of the source being assembled.
type instr struct {
	info  *vm.Instruction
	args  []token
	op    token
	words int // 1, or 2 for a LOAD split into LOAD and LUI
	// fromData is set on a LOADF64 whose number is kept in the read-only
	// data; it is emitted as LDF64.
	fromData bool
}

// pass is one call to Assemble: the new program and symbols, kept apart
// from the parent until everything has assembled.
type pass struct {
	Assembler
	parent  *Assembler
	errs    *errorSink
	instrs  []*instr
	labels  map[string]int // code label -> index in instrs (len(instrs) for the end)
	codeAdr []int          // byte address of each instr, set by relax
	out     []byte         // the new code
}

func (p *pass) commit() {
	a := p.parent
	a.ro, a.code, a.inData = p.ro, p.code, p.inData
	for _, name := range p.order {
		a.symbols[name] = p.symbols[name]
		a.order = append(a.order, name)
		a.sorted.Insert(name)
	}
	for bits, off := range p.floats {
		a.floats[bits] = off
	}
}

// lookup finds a symbol defined in this pass or an earlier one.
func (p *pass) lookup(name string) (Symbol, bool) {
	if s, ok := p.symbols[name]; ok {
		return s, true
	}
	return p.parent.Lookup(name)
}

// define adds a symbol, refusing a second definition of a name.
func (p *pass) define(t token, kind SymbolKind, value int32) bool {
	if old, ok := p.lookup(t.val); ok {
		p.errs.add(t.pos, "label %q is already defined at %s:%d:%d", t.val, old.File, old.Pos.Line, old.Pos.Col)
		return false
	}
	p.symbols[t.val] = Symbol{Name: t.val, Kind: kind, Value: value, File: p.errs.file, Pos: t.pos}
	p.order = append(p.order, t.val)
	return true
}

// layout is the first pass: sections, data, labels, and the size of each
// instruction as far as it is known before labels are.
func (p *pass) layout(stmts []statement) {
	p.labels = map[string]int{}
	var pending []token // labels waiting for the statement they name
	for _, st := range stmts {
		pending = append(pending, st.labels...)
		switch {
		case st.bad:
			p.poison(pending)
		case st.op.kind == tokEOF:
			continue
		case st.op.kind == tokDirective:
			pending = p.directive(st, pending)
			continue
		default:
			p.instruction(st, pending)
		}
		pending = nil
	}
	for _, t := range pending { // labels at the very end name the end of the code
		p.codeLabel(t, len(p.instrs))
	}
}

// poison defines labels of a line that failed, so their uses add no errors.
func (p *pass) poison(labels []token) {
	for _, t := range labels {
		if _, ok := p.lookup(t.val); !ok {
			p.symbols[t.val] = Symbol{Name: t.val, Kind: poisoned, File: p.errs.file, Pos: t.pos}
		}
	}
}

// codeLabel defines a label for the instruction with the index; relax
// sets its address.
func (p *pass) codeLabel(t token, index int) {
	if p.define(t, CodeLabel, 0) {
		p.labels[t.val] = index
	}
}

func (p *pass) instruction(st statement, labels []token) {
	errsBefore := len(p.errs.errs)
	info := vm.LookupName(st.op.val)
	switch {
	case info == nil:
		p.errs.add(st.op.pos, "unknown mnemonic %q%s", clip(st.op.val), didYouMean(st.op.val))
	case p.inData:
		p.errs.add(st.op.pos, "instruction %q in the .data section: put .code before it", st.op.val)
	case len(st.args) != len(info.Operands):
		p.errs.add(st.op.pos, "%s takes %s, got %d", info.Name, operandCount(info), len(st.args))
	}
	if len(p.errs.errs) > errsBefore {
		p.poison(labels)
		return
	}
	for _, t := range labels {
		p.codeLabel(t, len(p.instrs))
	}
	in := &instr{info: info, args: st.args, op: st.op, words: 1}
	if info.Op == vm.LOAD {
		if v, ok := p.literalInt(st.args[1]); ok && !fitsInt16(v) {
			in.words = 2
		}
	}
	p.instrs = append(p.instrs, in)
}

// relax works out each instruction's address. A LOAD of a label whose
// value does not fit 16 bits needs two words, which moves the labels after
// it, so it repeats until nothing changes; words only grow, so it ends.
func (p *pass) relax() {
	base := len(p.code)
	for changed := true; changed; {
		changed = false
		p.codeAdr = make([]int, len(p.instrs)+1)
		addr := base
		for i, in := range p.instrs {
			p.codeAdr[i] = addr
			addr += in.words * vm.InstructionSize
		}
		p.codeAdr[len(p.instrs)] = addr
		for name, idx := range p.labels {
			s := p.symbols[name]
			s.Value = int32(min(p.codeAdr[idx], math.MaxInt32))
			p.symbols[name] = s
		}
		for _, in := range p.instrs {
			if in.info.Op != vm.LOAD || in.words == 2 || in.args[1].kind != tokLabelRef {
				continue
			}
			if s, ok := p.lookup(in.args[1].val); ok && !fitsInt16(int64(s.Value)) {
				in.words, changed = 2, true
			}
		}
	}
}

// encode is the second pass: every operand resolved and every instruction
// written.
func (p *pass) encode() {
	for _, in := range p.instrs {
		p.out = append(p.out, p.encodeInstr(in)...)
	}
	p.code = append(p.code, p.out...)
}

func (p *pass) encodeInstr(in *instr) []byte {
	vals := make([]uint32, len(in.args))
	ok := true
	for i, kind := range in.info.Operands {
		v, good := p.operand(in, i, kind)
		vals[i], ok = v, ok && good
	}
	if !ok {
		return make([]byte, in.words*vm.InstructionSize)
	}
	switch {
	case in.info.Op == vm.LOAD && in.words == 2:
		v := int32(vals[1])
		hi := encode(vm.Lookup(vm.LOAD), []uint32{vals[0], uint32(uint16(v >> 16))})
		lo := encode(vm.Lookup(vm.LUI), []uint32{vals[0], uint32(uint16(v))})
		return append(hi, lo...)
	case in.fromData:
		return encode(vm.Lookup(vm.LDF64), vals)
	}
	return encode(in.info, vals)
}

// encode lays out an instruction's opcode and operand values in 4 bytes, as
// the table's operand kinds say.
func encode(info *vm.Instruction, vals []uint32) []byte {
	b := make([]byte, vm.InstructionSize)
	b[0] = byte(info.Op)
	pos := 1
	for i, kind := range info.Operands {
		v := vals[i]
		switch kind.Size() {
		case 1:
			b[pos] = byte(v)
		case 2:
			binary.BigEndian.PutUint16(b[pos:], uint16(v))
		case 3:
			b[pos], b[pos+1], b[pos+2] = byte(v>>16), byte(v>>8), byte(v)
		}
		pos += kind.Size()
	}
	return b
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

// didYouMean names a mnemonic close to name, if there is one. A name much
// longer than any mnemonic has none, and is not compared.
func didYouMean(name string) string {
	if len(name) > 16 {
		return ""
	}
	names := make([]string, 0, len(vm.Instructions()))
	for _, in := range vm.Instructions() {
		names = append(names, in.Name)
	}
	if best := suggest.Closest(strings.ToLower(name), names, 3); best != "" {
		return "; did you mean " + best + "?"
	}
	return ""
}
