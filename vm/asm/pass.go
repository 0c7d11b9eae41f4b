package asm

import (
	"math"
	"slices"

	"github.com/iridium-vm/iridium/vm"
)

// pass is one call to Assemble: the new program and symbols, kept apart
// from the parent until everything has assembled. It appends the code and
// data in place, past the parent's length.
type pass struct {
	Assembler
	parent *Assembler
	errs   *errorSink
	src    string
	base   int // the byte address where this pass's code starts
	// slots counts the instructions laid out so far. Each has a 4-byte
	// slot in code from base; a LOAD that takes two words gets its second
	// when the pass ends (see expand).
	slots int
	// The code labels this pass defines hold their instruction's slot as
	// their Value until relax makes it an address.
	fixups fixupList // operands that wait for the second pass, in slot order
	floats []float64 // the numbers of the LOADF64 fixups, in order
	wides  []wide    // the LOADs that take two words, by slot
}

// operand is where an operand that waits for the second pass is: its kind
// and its text as offsets into the source, not a copy.
type operand struct {
	kind      tokenKind
	off, end  int32 // the operand as written: src[off:end]
	line, col int32
}

// fixup is an operand of an instruction laid out in the first pass that
// the second pass resolves: a label, or a LOADF64 number kept in the
// read-only data (the number, as parsed in the first pass, is in
// pass.floats).
type fixup struct {
	op   vm.Opcode
	arg  uint8 // which operand
	at   uint8 // the operand's first byte in the instruction
	slot int32
	opd  operand
}

// fixupChunk is how many fixups a fixupList keeps in one allocation.
const fixupChunk = 4096

// fixupList holds fixups in chunks, so that it grows without copying
// what it holds.
type fixupList struct{ chunks [][]fixup }

func (l *fixupList) add(f fixup) {
	if n := len(l.chunks); n == 0 || len(l.chunks[n-1]) == fixupChunk {
		l.chunks = append(l.chunks, make([]fixup, 0, fixupChunk))
	}
	last := &l.chunks[len(l.chunks)-1]
	*last = append(*last, f)
}

// all calls fn with each fixup in the order added.
func (l *fixupList) all(fn func(*fixup)) {
	for _, c := range l.chunks {
		for i := range c {
			fn(&c[i])
		}
	}
}

// wide is a LOAD of a value outside 16 bits: LOAD of the high half, then
// LUI of the low half.
type wide struct {
	slot int32
	val  int32
}

func (a *Assembler) assemble(file, src string, inData bool) (codeStart int, err error) {
	p := &pass{
		Assembler: Assembler{
			ro:      a.ro,
			code:    a.code,
			symbols: map[string]entry{},
			files:   append(a.files, file), // in place, past what the parent reads
			pool:    map[uint64]int{},
			inData:  inData,
		},
		parent: a,
		errs:   &errorSink{file: file, src: src},
		src:    src,
		base:   len(a.code),
	}
	if len(src) > math.MaxInt32 {
		p.errs.add(Pos{Line: 1, Col: 1}, "the source is %d bytes, over the limit of %d", len(src), math.MaxInt32)
		return 0, p.errs.errs
	}
	p.layout()
	p.relax()
	floats := p.floats
	p.fixups.all(func(f *fixup) {
		var num float64
		if f.op == vm.LOADF64 && f.opd.kind == tokNumber {
			num, floats = floats[0], floats[1:]
		}
		p.resolve(f, num)
	})
	p.expand()
	if len(p.code) > vm.MaxSectionSize {
		p.errs.add(Pos{Line: 1, Col: 1}, "the code is %d bytes, over the limit of %d", len(p.code), vm.MaxSectionSize)
	}
	if len(p.errs.errs) > 0 {
		p.errs.sort()
		return 0, p.errs.errs
	}
	p.commit()
	return p.base, nil
}

func (p *pass) commit() {
	a := p.parent
	a.ro, a.code, a.inData = p.ro, p.code, p.inData
	if len(p.order) > 0 {
		a.files = p.files
	}
	if len(a.symbols) == 0 { // a whole file: take the tables as they are
		a.symbols, a.order = p.symbols, p.order
	} else {
		for _, name := range p.order {
			a.symbols[name] = p.symbols[name]
		}
		a.order = append(a.order, p.order...)
	}
	if len(a.pool) == 0 {
		a.pool = p.pool
		return
	}
	for bits, off := range p.pool {
		a.pool[bits] = off
	}
}

// lookup finds a symbol defined in this pass or an earlier one.
func (p *pass) lookup(name string) (Symbol, bool) {
	if e, ok := p.symbols[name]; ok {
		return p.makeSymbol(name, e), true
	}
	return p.parent.Lookup(name)
}

// define adds a symbol, refusing a second definition of a name.
func (p *pass) define(t token, kind SymbolKind, value int32) bool {
	if old, ok := p.lookup(t.val); ok {
		p.errs.add(t.pos, "label %q is already defined at %s:%d:%d", t.val, old.File, old.Pos.Line, old.Pos.Col)
		return false
	}
	p.symbols[t.val] = p.entry(t, kind, value)
	p.order = append(p.order, t.val)
	return true
}

// layout is the first pass, a line at a time: sections, data, labels, and
// each instruction.
func (p *pass) layout() {
	lx := newLexer(p.src)
	var st statement
	var pending []token // labels waiting for the statement they name
	for {
		line := lx.nextLine()
		if len(line) == 0 {
			break
		}
		if !parseLine(line, &st, p.errs) {
			continue
		}
		pending = append(pending, st.labels...)
		switch {
		case st.bad:
			p.poison(pending)
		case st.op.kind == tokEOF:
			continue
		case st.op.kind == tokDirective:
			pending = p.directive(&st, pending)
			continue
		default:
			p.instruction(&st, pending)
		}
		pending = pending[:0]
	}
	for _, t := range pending { // labels at the very end name the end of the code
		p.codeLabel(t, p.slots)
	}
}

// entry makes the table entry of a symbol this pass defines, in its file.
func (p *pass) entry(t token, kind SymbolKind, value int32) entry {
	return entry{kind: kind, value: value, line: int32(t.pos.Line), col: int32(t.pos.Col), file: int32(len(p.files) - 1)}
}

// poison defines labels of a line that failed, so their uses add no errors.
func (p *pass) poison(labels []token) {
	for _, t := range labels {
		if _, ok := p.lookup(t.val); !ok {
			p.symbols[t.val] = p.entry(t, poisoned, 0)
		}
	}
}

// codeLabel defines a label for the instruction in the slot; relax sets
// its address.
func (p *pass) codeLabel(t token, slot int) { p.define(t, CodeLabel, int32(slot)) }

// instruction lays out an instruction: it encodes its operands that need
// no label and keeps the others for the second pass.
func (p *pass) instruction(st *statement, labels []token) {
	errsBefore := len(p.errs.errs)
	info := vm.LookupName(st.op.val)
	switch {
	case info == nil:
		p.errs.add(st.op.pos, "unknown mnemonic %q%s", clip(st.op.val), didYouMean(st.op.val, st.args))
	case p.inData:
		p.errs.add(st.op.pos, "instruction %q in the .data section: put .code before it", st.op.val)
	case len(st.args) != len(info.Operands):
		p.errs.add(st.op.pos, "%s takes %s, got %d", info.Name, operandCount(info), len(st.args))
	}
	if len(p.errs.errs) > errsBefore {
		p.poison(labels)
		return
	}
	slot := p.slots
	for _, t := range labels {
		p.codeLabel(t, slot)
	}
	p.slots++
	var raw [vm.InstructionSize]byte
	raw[0] = byte(info.Op)
	at := 1
	for i, kind := range info.Operands {
		t := st.args[i]
		v, num, ok, later := p.operand(info, i, kind, t)
		switch {
		case later:
			p.fixups.add(fixup{op: info.Op, arg: uint8(i), at: uint8(at), slot: int32(slot),
				opd: operand{kind: t.kind, off: int32(t.off), end: int32(t.off + len(t.text)), line: int32(t.pos.Line), col: int32(t.pos.Col)}})
			if info.Op == vm.LOADF64 && t.kind == tokNumber {
				p.floats = append(p.floats, num)
			}
		case ok:
			put(raw[at:], kind, v)
		}
		at += kind.Size()
	}
	if info.Op == vm.LOAD {
		if v, ok := p.literalInt(st.args[1]); ok && !fitsInt16(v) {
			p.wides = append(p.wides, wide{slot: int32(slot), val: int32(v)})
		}
	}
	p.code = append(p.code, raw[:]...)
}

// token rebuilds the token of an operand from the source.
func (p *pass) token(o operand) token {
	text := p.src[o.off:o.end]
	t := token{kind: o.kind, pos: Pos{Line: int(o.line), Col: int(o.col)}, text: text, off: int(o.off), val: text}
	if o.kind == tokLabelRef || o.kind == tokNumber {
		t.val = text[1:]
	}
	return t
}

// wideIndex returns how many wide LOADs come before the slot, and whether
// the LOAD in the slot is wide (it is then p.wides at that index).
func (p *pass) wideIndex(slot int32) (int, bool) {
	return slices.BinarySearchFunc(p.wides, slot, func(w wide, s int32) int { return int(w.slot - s) })
}

// addr returns the byte address of the instruction in the slot, counting
// the second words of the wide LOADs before it.
func (p *pass) addr(slot int) int {
	n, _ := p.wideIndex(int32(slot))
	return p.base + (slot+n)*vm.InstructionSize
}

// wideAt returns the wide LOAD in the slot, or nil.
func (p *pass) wideAt(slot int32) *wide {
	i, ok := p.wideIndex(slot)
	if !ok {
		return nil
	}
	return &p.wides[i]
}

// relax works out which LOADs of a label need two words: those whose
// label's value does not fit 16 bits. That moves the labels after them, so
// it repeats until nothing changes; LOADs only grow, so it ends. Then it
// gives each code label its address.
func (p *pass) relax() {
	for changed := true; changed; {
		changed = false
		p.fixups.all(func(f *fixup) {
			if f.op != vm.LOAD || f.opd.kind != tokLabelRef {
				return
			}
			n, isWide := p.wideIndex(f.slot)
			if isWide {
				return
			}
			if v, ok := p.labelValue(p.token(f.opd).val); ok && !fitsInt16(v) {
				p.wides = slices.Insert(p.wides, n, wide{slot: f.slot})
				changed = true
			}
		})
	}
	for _, name := range p.order {
		if e := p.symbols[name]; e.kind == CodeLabel {
			e.value = int32(min(p.addr(int(e.value)), math.MaxInt32))
			p.symbols[name] = e
		}
	}
}

// labelValue is the value of a symbol during relax, when this pass's code
// labels still hold their slot.
func (p *pass) labelValue(name string) (int64, bool) {
	if e, ok := p.symbols[name]; ok && e.kind == CodeLabel {
		return int64(min(p.addr(int(e.value)), math.MaxInt32)), true
	}
	s, ok := p.lookup(name)
	return int64(s.Value), ok
}

// expand gives each wide LOAD its second word, moving the instructions
// after it, in place: LOAD of the high half, then LUI of the low half.
func (p *pass) expand() {
	if len(p.wides) == 0 {
		return
	}
	const size = vm.InstructionSize
	end := len(p.code)
	p.code = append(p.code, make([]byte, len(p.wides)*size)...)
	for i := len(p.wides) - 1; i >= 0; i-- {
		w := p.wides[i]
		from := p.base + int(w.slot)*size // the wide LOAD's slot
		to := from + (i+1)*size           // where the instructions after it go
		copy(p.code[to+size:], p.code[from+size:end])
		end = from
		reg := p.code[from+1]
		dst := p.code[from+i*size:]
		dst[0], dst[1] = byte(vm.LOAD), reg
		put(dst[2:], vm.Int16, uint32(uint16(w.val>>16)))
		dst[4], dst[5] = byte(vm.LUI), reg
		put(dst[6:], vm.Uint16, uint32(uint16(w.val)))
	}
}
