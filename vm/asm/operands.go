package asm

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/iridium-vm/iridium/vm"
)

// directive handles a line with a directive. It returns the labels it did
// not use, which then name the next statement.
func (p *pass) directive(st *statement, labels []token) []token {
	errsBefore := len(p.errs.errs)
	defer func() {
		if len(p.errs.errs) > errsBefore {
			p.poison(labels)
		}
	}()
	name := strings.ToLower(st.op.val)
	switch name {
	case "data", "code":
		if len(st.args) > 0 {
			p.errs.add(st.args[0].pos, ".%s takes no operands", name)
		}
		p.inData = name == "data"
		return labels
	case "asciiz", "ascii":
		if t, ok := p.directiveArg(st, tokString, "a string, as in ."+name+" 'text'"); ok {
			p.defineAll(labels, StringConst, int32(len(p.ro)))
			p.ro = append(p.ro, t.val...)
			if name == "asciiz" {
				p.ro = append(p.ro, 0)
			}
		}
	case "integer":
		if t, ok := p.directiveArg(st, tokNumber, "a number, as in .integer #42"); ok {
			if v, ok := p.intInRange(t, math.MinInt32, math.MaxInt32, ".integer"); ok {
				p.defineAll(labels, IntConst, int32(v))
			}
		}
	case "float":
		if t, ok := p.directiveArg(st, tokNumber, "a number, as in .float #1.5"); ok {
			if v, ok := p.number(t); ok {
				p.defineAll(labels, FloatConst, int32(len(p.ro)))
				p.ro = binary.LittleEndian.AppendUint64(p.ro, math.Float64bits(v))
			}
		}
	default:
		p.errs.add(st.op.pos, "unknown directive .%s (known: .data .code .asciiz .ascii .integer .float)", st.op.val)
	}
	if len(p.ro) > vm.MaxSectionSize {
		p.errs.add(st.op.pos, "the read-only data is over the limit of %d bytes", vm.MaxSectionSize)
	}
	return nil
}

func (p *pass) defineAll(labels []token, kind SymbolKind, value int32) {
	for _, t := range labels {
		p.define(t, kind, value)
	}
}

// directiveArg checks that a directive has one operand of the kind.
func (p *pass) directiveArg(st *statement, kind tokenKind, want string) (token, bool) {
	if len(st.args) != 1 || st.args[0].kind != kind {
		pos := st.op.pos
		if len(st.args) > 0 {
			pos = st.args[0].pos
		}
		p.errs.add(pos, ".%s takes %s", st.op.val, want)
		return token{}, false
	}
	return st.args[0], true
}

// operand resolves operand i of an instruction in the first pass, to the
// value that put writes. It says later for an operand that must wait for
// the second pass: a label, whose value may not be known yet, or a
// LOADF64 number that goes in the read-only data after the data of the
// source, whose value it returns as num.
func (p *pass) operand(info *vm.Instruction, i int, kind vm.OperandKind, t token) (v uint32, num float64, ok, later bool) {
	switch kind {
	case vm.IntReg, vm.FloatReg:
		v, ok := p.register(info, t, kind)
		return v, 0, ok, false
	case vm.CodeAddr, vm.DataAddr, vm.DataAddr16:
		if t.kind != tokLabelRef {
			p.errs.add(t.pos, "%s wants %s like @name here, not %s %s", info.Name, article(labelNoun(labelWanted(kind))), t.kind, t.text)
			return 0, 0, false, false
		}
		return 0, 0, false, true
	}
	switch {
	case t.kind == tokLabelRef:
		return 0, 0, false, true
	case t.kind != tokNumber:
		p.errs.add(t.pos, "operand %d of %s must be a number (#n) or a label (@name), not %s %s", i+1, info.Name, t.kind, t.text)
		return 0, 0, false, false
	case info.Op == vm.LOADF64:
		f, ok := p.number(t)
		if !ok {
			return 0, 0, false, false
		}
		if v, ok := inlineFloat(f); ok {
			return v, 0, true, false
		}
		return 0, f, false, true
	case kind == vm.Int16: // LOAD: any 32-bit value; expand splits it
		v, ok := p.intInRange(t, math.MinInt32, math.MaxInt32, info.Name)
		return uint32(int32(v)), 0, ok, false
	case kind == vm.Uint16:
		v, ok := p.intInRange(t, 0, math.MaxUint16, info.Name)
		return uint32(v), 0, ok, false
	default: // vm.Bits
		v, ok := p.intInRange(t, 1, 31, info.Name+" shift count")
		return uint32(v), 0, ok, false
	}
}

// labelWanted is the kind of symbol a label operand names.
func labelWanted(kind vm.OperandKind) SymbolKind {
	switch kind {
	case vm.CodeAddr:
		return CodeLabel
	case vm.DataAddr:
		return StringConst
	}
	return FloatConst
}

// resolve is the second pass for one operand: it resolves a label, or
// places a LOADF64 number in the read-only data, and writes the value
// into the instruction's slot (or the wide LOAD's record).
func (p *pass) resolve(f *fixup, num float64) {
	info := vm.Lookup(f.op)
	kind := info.Operands[f.arg]
	t := p.token(f.opd)
	raw := p.code[p.base+int(f.slot)*vm.InstructionSize:][:vm.InstructionSize]
	var v uint32
	var ok bool
	switch {
	case kind == vm.CodeAddr || kind == vm.DataAddr:
		v, ok = p.labelOperand(info, t, labelWanted(kind))
	case kind == vm.DataAddr16: // LDF64 reads 8 bytes at any read-only offset
		v, ok = p.labelOperand(info, t, FloatConst, StringConst)
		ok = ok && p.floatOffsetFits(t, int(v))
	case f.op == vm.LOADF64:
		var fromData bool
		if t.kind == tokNumber {
			v, ok, fromData = p.floatConstant(t, num)
		} else {
			v, ok, fromData = p.floatLabel(t)
		}
		if fromData {
			raw[0] = byte(vm.LDF64)
		}
	case kind == vm.Int16: // LOAD of a label
		var n int64
		n, ok = p.immediate(t, math.MinInt32, math.MaxInt32, info.Name)
		v = uint32(int32(n))
		if w := p.wideAt(f.slot); w != nil {
			w.val = int32(n)
			return
		}
	case kind == vm.Uint16:
		var n int64
		n, ok = p.immediate(t, 0, math.MaxUint16, info.Name)
		v = uint32(n)
	default: // vm.Bits
		var n int64
		n, ok = p.immediate(t, 1, 31, info.Name+" shift count")
		v = uint32(n)
	}
	if ok {
		put(raw[f.at:], kind, v)
	}
}

func (p *pass) register(info *vm.Instruction, t token, kind vm.OperandKind) (uint32, bool) {
	if t.kind != tokRegister {
		p.errs.add(t.pos, "%s wants %s like $0 here, not %s %s", info.Name, article(kind.String()), t.kind, t.text)
		return 0, false
	}
	digits, isFloat := strings.CutPrefix(t.val, "f")
	if isFloat && kind == vm.IntReg {
		p.errs.add(t.pos, "%s is a float register; %s wants an integer register here", t.text, info.Name)
		return 0, false
	}
	n, err := strconv.Atoi(digits)
	if err != nil {
		p.errs.add(t.pos, "bad register %s: registers are written $0 to $31 (float ones also $f0 to $f31)", t.text)
		return 0, false
	}
	if n < 0 || n >= vm.NumRegisters {
		p.errs.add(t.pos, "register %s out of range: registers are $0 to $31", t.text)
		return 0, false
	}
	return uint32(n), true
}

// labelOperand resolves @name, which must be a symbol of the first kind
// or one of the others.
func (p *pass) labelOperand(info *vm.Instruction, t token, want SymbolKind, also ...SymbolKind) (uint32, bool) {
	s, ok := p.symbol(t)
	if !ok {
		return 0, false
	}
	if s.Kind != want && !slices.Contains(also, s.Kind) {
		p.errs.add(t.pos, "@%s is %s; %s wants %s", t.val, article(s.Kind.String()), info.Name, article(want.String()))
		return 0, false
	}
	return uint32(s.Value), true
}

func (p *pass) symbol(t token) (Symbol, bool) {
	s, ok := p.lookup(t.val)
	if !ok {
		p.errs.add(t.pos, "undefined label %q", t.val)
	}
	return s, ok && s.Kind != poisoned
}

// immediate resolves #n or @name to an integer in [lo, hi].
func (p *pass) immediate(t token, lo, hi int64, what string) (int64, bool) {
	if t.kind == tokNumber {
		return p.intInRange(t, lo, hi, what)
	}
	s, ok := p.symbol(t)
	if !ok {
		return 0, false
	}
	if s.Kind == FloatConst {
		p.errs.add(t.pos, "@%s is a float; %s wants an integer", t.val, what)
		return 0, false
	}
	if v := int64(s.Value); v < lo || v > hi {
		p.errs.add(t.pos, "@%s is %d, out of range for %s (%d to %d)", t.val, v, what, lo, hi)
		return 0, false
	}
	return int64(s.Value), true
}

// inlineFloat returns the encoding of a LOADF64 number that fits in the
// instruction: a whole number in 16 bits (not -0).
func inlineFloat(v float64) (uint32, bool) {
	if v == math.Trunc(v) && fitsInt16(int64(v)) && !(v == 0 && math.Signbit(v)) {
		return uint32(uint16(int16(v))), true
	}
	return 0, false
}

// floatLabel resolves the @label of LOADF64: a float constant is read
// from the read-only data (fromData: the instruction becomes LDF64);
// an integer is a number, as floatConstant takes it.
func (p *pass) floatLabel(t token) (v uint32, ok, fromData bool) {
	s, ok := p.symbol(t)
	if !ok {
		return 0, false, false
	}
	if s.Kind == FloatConst {
		return uint32(s.Value), p.floatOffsetFits(t, int(s.Value)), true
	}
	return p.floatConstant(t, float64(s.Value))
}

// floatConstant encodes a LOADF64 number: in the instruction when it fits
// there, else kept in the read-only data (shared by equal numbers) and
// read with LDF64 (fromData).
func (p *pass) floatConstant(t token, v float64) (enc uint32, ok, fromData bool) {
	if enc, ok := inlineFloat(v); ok {
		return enc, true, false
	}
	bits := math.Float64bits(v)
	off, ok := p.pool[bits]
	if !ok {
		if off, ok = p.parent.pool[bits]; !ok {
			off = len(p.ro)
			p.ro = binary.LittleEndian.AppendUint64(p.ro, bits)
			p.pool[bits] = off
		}
	}
	if off > math.MaxUint16 {
		p.errs.add(t.pos, "no room for the float #%s in the first 64 KiB of read-only data, which LDF64 reaches: %d bytes of data come before it; define it with .float before the large strings", t.val, off)
		return 0, false, true
	}
	return uint32(off), true, true
}

func (p *pass) floatOffsetFits(t token, off int) bool {
	if off > math.MaxUint16 {
		p.errs.add(t.pos, "@%s is at read-only offset %d, beyond the 64 KiB LDF64 reaches: define float constants before large strings", t.val, off)
		return false
	}
	return true
}

// number parses #n as a float64 (integers too).
func (p *pass) number(t token) (float64, bool) {
	if hasBasePrefix(t.val) {
		i, err := parseInteger(t.val)
		if err != nil {
			p.errs.add(t.pos, "bad number #%s", t.val)
		}
		return float64(i), err == nil
	}
	f, err := strconv.ParseFloat(t.val, 64)
	if err != nil || strings.ContainsAny(t.val, "xXpP_") {
		p.errs.add(t.pos, "bad number #%s", t.val)
		return 0, false
	}
	return f, true
}

// intInRange parses #n as an integer in [lo, hi].
func (p *pass) intInRange(t token, lo, hi int64, what string) (int64, bool) {
	v, err := parseInteger(t.val)
	switch {
	case errors.Is(err, strconv.ErrRange):
		p.errs.add(t.pos, "number #%s out of range for %s (%d to %d)", t.val, what, lo, hi)
		return 0, false
	case errors.Is(err, errFraction):
		p.errs.add(t.pos, "%s wants a whole number, not #%s", what, t.val)
		return 0, false
	case err != nil:
		p.errs.add(t.pos, "bad number #%s", t.val)
		return 0, false
	case v < lo || v > hi:
		p.errs.add(t.pos, "number #%s out of range for %s (%d to %d)", t.val, what, lo, hi)
		return 0, false
	}
	return v, true
}

var errFraction = errors.New("not a whole number")

// hasBasePrefix reports whether a number is written with 0x, 0b or 0o.
func hasBasePrefix(s string) bool {
	digits := strings.TrimLeft(s, "+-")
	return len(digits) > 1 && digits[0] == '0' && strings.ContainsRune("xXbBoO", rune(digits[1]))
}

// parseInteger reads a whole number: decimal (leading zeros allowed, so
// #010 is ten), or with a 0x, 0b or 0o prefix; a float literal counts if
// its value is whole (#1e3). It fails with strconv.ErrRange past 64 bits
// and with errFraction for a fraction.
func parseInteger(s string) (int64, error) {
	base := 10
	if hasBasePrefix(s) {
		base = 0
	}
	v, err := strconv.ParseInt(s, base, 64)
	if err == nil || base == 0 || errors.Is(err, strconv.ErrRange) {
		return v, err
	}
	f, ferr := strconv.ParseFloat(s, 64)
	switch {
	case ferr != nil:
		return 0, err
	case f != math.Trunc(f) || math.IsInf(f, 0):
		return 0, errFraction
	case f < math.MinInt64 || f >= math.MaxInt64:
		return 0, strconv.ErrRange
	}
	return int64(f), nil
}

// literalInt returns the value of an integer literal, for sizing a LOAD in
// the first pass.
func (p *pass) literalInt(t token) (int64, bool) {
	if t.kind != tokNumber {
		return 0, false
	}
	v, err := parseInteger(t.val)
	return v, err == nil
}

// labelNoun names a label of the kind: "code label", "string label".
func labelNoun(k SymbolKind) string {
	if k == CodeLabel {
		return k.String()
	}
	return k.String() + " label"
}

// article puts "a" or "an" before a noun phrase.
func article(s string) string {
	if s != "" && strings.ContainsRune("aeiou", rune(s[0])) {
		return "an " + s
	}
	return "a " + s
}
