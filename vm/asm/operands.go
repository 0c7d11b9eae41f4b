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
func (p *pass) directive(st statement, labels []token) []token {
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
func (p *pass) directiveArg(st statement, kind tokenKind, want string) (token, bool) {
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

// operand resolves operand i of an instruction to the value encode writes.
func (p *pass) operand(in *instr, i int, kind vm.OperandKind) (uint32, bool) {
	t := in.args[i]
	switch kind {
	case vm.IntReg, vm.FloatReg:
		return p.register(in, t, kind)
	case vm.CodeAddr:
		return p.labelOperand(in, t, CodeLabel)
	case vm.DataAddr:
		return p.labelOperand(in, t, StringConst)
	case vm.DataAddr16: // LDF64 reads 8 bytes at any read-only offset
		v, ok := p.labelOperand(in, t, FloatConst, StringConst)
		return v, ok && p.floatOffsetFits(t, int(v))
	}
	if t.kind != tokNumber && t.kind != tokLabelRef {
		p.errs.add(t.pos, "operand %d of %s must be a number (#n) or a label (@name), not %s %s", i+1, in.info.Name, t.kind, t.text)
		return 0, false
	}
	switch {
	case in.info.Op == vm.LOADF64:
		return p.floatImmediate(in, t)
	case kind == vm.Int16: // LOAD: any 32-bit value; encodeInstr splits it
		v, ok := p.immediate(t, math.MinInt32, math.MaxInt32, in.info.Name)
		return uint32(int32(v)), ok
	case kind == vm.Uint16:
		v, ok := p.immediate(t, 0, math.MaxUint16, in.info.Name)
		return uint32(v), ok
	default: // vm.Bits
		v, ok := p.immediate(t, 1, 31, in.info.Name+" shift count")
		return uint32(v), ok
	}
}

func (p *pass) register(in *instr, t token, kind vm.OperandKind) (uint32, bool) {
	if t.kind != tokRegister {
		p.errs.add(t.pos, "%s wants %s like $0 here, not %s %s", in.info.Name, article(kind.String()), t.kind, t.text)
		return 0, false
	}
	digits, isFloat := strings.CutPrefix(t.val, "f")
	if isFloat && kind == vm.IntReg {
		p.errs.add(t.pos, "%s is a float register; %s wants an integer register here", t.text, in.info.Name)
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
func (p *pass) labelOperand(in *instr, t token, want SymbolKind, also ...SymbolKind) (uint32, bool) {
	if t.kind != tokLabelRef {
		p.errs.add(t.pos, "%s wants %s like @name here, not %s %s", in.info.Name, article(labelNoun(want)), t.kind, t.text)
		return 0, false
	}
	s, ok := p.symbol(t)
	if !ok {
		return 0, false
	}
	if s.Kind != want && !slices.Contains(also, s.Kind) {
		p.errs.add(t.pos, "@%s is %s; %s wants %s", t.val, article(s.Kind.String()), in.info.Name, article(want.String()))
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

// floatImmediate resolves the number of LOADF64: a whole number that fits
// 16 bits is encoded in the instruction; anything else is kept in the
// read-only data, and the instruction becomes LDF64 of its offset.
func (p *pass) floatImmediate(in *instr, t token) (uint32, bool) {
	if t.kind == tokLabelRef {
		s, ok := p.symbol(t)
		if !ok {
			return 0, false
		}
		if s.Kind == FloatConst {
			in.fromData = true
			return uint32(s.Value), p.floatOffsetFits(t, int(s.Value))
		}
		return p.floatConstant(in, t, float64(s.Value))
	}
	v, ok := p.number(t)
	if !ok {
		return 0, false
	}
	return p.floatConstant(in, t, v)
}

func (p *pass) floatConstant(in *instr, t token, v float64) (uint32, bool) {
	if v == math.Trunc(v) && fitsInt16(int64(v)) && !(v == 0 && math.Signbit(v)) {
		return uint32(uint16(int16(v))), true
	}
	in.fromData = true
	bits := math.Float64bits(v)
	off, ok := p.floats[bits]
	if !ok {
		if off, ok = p.parent.floats[bits]; !ok {
			off = len(p.ro)
			p.ro = binary.LittleEndian.AppendUint64(p.ro, bits)
			p.floats[bits] = off
		}
	}
	if off > math.MaxUint16 {
		p.errs.add(t.pos, "no room for the float #%s in the first 64 KiB of read-only data, which LDF64 reaches: %d bytes of data come before it; define it with .float before the large strings", t.val, off)
		return 0, false
	}
	return uint32(off), true
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
