package vm

import "fmt"

// inst is an instruction decoded for the dispatch loop. Decoding once, when
// a program is loaded, keeps byte shuffling and operand checks out of the
// loop: every register number in an inst is below 32, and every label
// target is a valid instruction index. An instruction that is not valid
// decodes to opTrap, which faults with the reason only if it is reached.
type inst struct {
	op      Opcode
	a, b, c uint8 // register operands, in source order
	imm     int32 // immediate, shift count, label target (instruction index) or read-only offset
}

// Internal opcodes, which have no instruction of their own in the table.
// They follow the last real opcode below IGL, so that the dispatch loop's
// switch stays one dense jump table (IGL itself never reaches the loop: it
// decodes to opTrap). TestInternalOpcodes checks that none collides with a
// real one.
const (
	// opTrap is an instruction that faults when reached.
	opTrap Opcode = LDF64 + 1 + iota
	// opEQJ to opGTJ are a comparison fused with the DJMPE after it: one
	// dispatch sets the flag and jumps if it is set. The DJMPE keeps its
	// own slot, so a jump to it still runs it alone.
	opEQJ
	opNEQJ
	opGTEJ
	opLTEJ
	opLTJ
	opGTJ
)

// fused returns the fused form of a comparison, or false.
func fused(op Opcode) (Opcode, bool) {
	switch op {
	case EQ:
		return opEQJ, true
	case NEQ:
		return opNEQJ, true
	case GTE:
		return opGTEJ, true
	case LTE:
		return opLTEJ, true
	case LT:
		return opLTJ, true
	case GT:
		return opGTJ, true
	}
	return 0, false
}

// decodeProgram decodes code for the dispatch loop; with fuse, a
// comparison followed by DJMPE becomes one fused instruction.
func decodeProgram(code []byte, fuse bool) []inst {
	n := (len(code) + InstructionSize - 1) / InstructionSize
	return decodeAppend(make([]inst, 0, n), code, 0, fuse)
}

// decodeAt decodes the instruction at byte address addr of code.
func decodeAt(code []byte, addr int) inst {
	if checkInstruction(code, addr) != nil {
		return inst{op: opTrap}
	}
	raw := code[addr : addr+InstructionSize]
	in := inst{op: Opcode(raw[0])}
	pos, nreg := 1, 0
	for _, kind := range Lookup(in.op).Operands {
		switch kind {
		case IntReg, FloatReg:
			switch nreg {
			case 0:
				in.a = raw[pos]
			case 1:
				in.b = raw[pos]
			default:
				in.c = raw[pos]
			}
			nreg++
		case Bits:
			in.imm = int32(raw[pos])
			if in.imm == 0 {
				in.imm = 16
			}
		case Int16:
			in.imm = int32(int16(uint16(raw[pos])<<8 | uint16(raw[pos+1])))
		case Uint16, DataAddr16:
			in.imm = int32(uint16(raw[pos])<<8 | uint16(raw[pos+1]))
		case DataAddr:
			in.imm = int32(uint24(raw[pos:]))
		case CodeAddr:
			in.imm = int32(uint24(raw[pos:]) / InstructionSize)
		}
		pos += kind.Size()
	}
	return in
}

func uint24(b []byte) uint32 { return uint32(b[0])<<16 | uint32(b[1])<<8 | uint32(b[2]) }

// checkInstruction says why the instruction at byte address addr cannot
// run, or returns nil. It is the one place that decides validity, so that
// loading and faulting agree.
func checkInstruction(code []byte, addr int) *Fault {
	if addr+InstructionSize > len(code) {
		return &Fault{Err: ErrTruncatedInstruction, PC: addr, Instr: fmt.Sprintf("% x", code[addr:]),
			Detail: fmt.Sprintf("%d of %d bytes", len(code)-addr, InstructionSize)}
	}
	raw := code[addr : addr+InstructionSize]
	if Opcode(raw[0]) == IGL {
		return &Fault{Err: ErrIllegalInstruction, PC: addr, Instr: "igl"}
	}
	if kind, detail := checkEncoding(raw); kind != nil {
		return &Fault{Err: kind, PC: addr, Instr: fmt.Sprintf("% x", raw), Detail: detail}
	}
	info := Lookup(Opcode(raw[0]))
	if len(info.Operands) == 1 && info.Operands[0] == CodeAddr {
		if target := uint24(raw[1:]); target%InstructionSize != 0 || int(target) > len(code) {
			return &Fault{Err: ErrJumpOutOfRange, PC: addr, Instr: DisassembleInstruction(raw),
				Detail: jumpDetail(int64(target), len(code))}
		}
	}
	return nil
}

// checkEncoding says what is wrong with the 4 bytes of an instruction on
// their own: an unknown opcode, a register over 31 or a shift count over
// 31. It returns a nil error for bytes that are an instruction.
func checkEncoding(raw []byte) (error, string) {
	info := Lookup(Opcode(raw[0]))
	if info == nil {
		return ErrUnknownOpcode, fmt.Sprintf("opcode %d", raw[0])
	}
	pos := 1
	for i, kind := range info.Operands {
		switch {
		case (kind == IntReg || kind == FloatReg) && raw[pos] >= NumRegisters:
			return ErrBadRegister, fmt.Sprintf("%s operand %d is register %d", info.Name, i+1, raw[pos])
		case kind == Bits && raw[pos] >= 32:
			return ErrBadOperand, fmt.Sprintf("%s shift count %d is over 31", info.Name, raw[pos])
		}
		pos += kind.Size()
	}
	return nil, ""
}

// fuseSpan is the most instructions one fused instruction stands for.
// Fusing the instructions appended to a decoded program starts this many
// minus one before them, so that a fused form across the boundary is
// found as decoding the whole program finds it.
const fuseSpan = 2

// decodeAppend decodes the instructions of code from byte address from
// on and appends them to out, which holds code[:from] decoded (with fuse
// if fuse is set); with fuse, a comparison followed by DJMPE becomes one
// fused instruction, across the boundary too. It returns out.
func decodeAppend(out []inst, code []byte, from int, fuse bool) []inst {
	first := len(out)
	for addr := from; addr < len(code); addr += InstructionSize {
		out = append(out, decodeAt(code, addr))
	}
	if fuse {
		for i := max(first-(fuseSpan-1), 0); i+1 < len(out); i++ {
			if op, ok := fused(out[i].op); ok && out[i+1].op == DJMPE {
				out[i].op, out[i].imm = op, out[i+1].imm
			}
		}
	}
	return out
}

// AppendProgram makes p the VM's program, as SetProgram does, decoding
// only what p has past the end of the loaded program's code when p grew
// from it in place: p's code starts at the same byte in memory as the
// loaded code, which is whole instructions, so its first part is the
// loaded code itself (the assembler's Program grows so; vm does not check
// the bytes). A REPL that appends a line at a time thus decodes each line
// once. p's old code must not jump past the old end, as assembled code
// never does (such a jump was decoded as a trap). Otherwise it decodes
// the whole program, as SetProgram does.
func (m *VM) AppendProgram(p *Program) {
	old := m.prog.Code
	if len(old) == 0 || len(p.Code) < len(old) || len(old)%InstructionSize != 0 || &p.Code[0] != &old[0] {
		m.SetProgram(p)
		return
	}
	m.prog = p
	m.code = decodeAppend(m.code, p.Code, len(old), true)
	if m.single != nil {
		m.single = decodeAppend(m.single, p.Code, len(old), false)
	}
}
