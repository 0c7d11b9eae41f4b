package vm

import "fmt"

// inst is an instruction decoded for the dispatch loop. Decoding once, when
// a program is loaded, keeps byte shuffling and operand checks out of the
// loop: every register number in an inst is below 32, and every label
// target is a valid instruction index. An instruction that is not valid
// decodes to opTrap, which faults with the reason only if it is reached.
//
// It is two words, so that the dispatch loop can copy one into registers:
// ops holds the opcode in its low byte and the register operands, in
// source order, in the bytes above it.
type inst struct {
	ops uint32
	imm int32 // immediate, shift count, label target (instruction index) or read-only offset
}

// op is the opcode; a, b and c the register operands, masked to 0-31 (which
// changes nothing for decoded code and lets the compiler drop bounds checks).
func (in inst) op() Opcode { return Opcode(in.ops) }
func (in inst) a() uint32  { return in.ops >> 8 & 31 }
func (in inst) b() uint32  { return in.ops >> 16 & 31 }
func (in inst) c() uint32  { return in.ops >> 24 & 31 }

// setOp replaces the opcode and keeps the operands.
func (in *inst) setOp(op Opcode) { in.ops = in.ops&^0xff | uint32(op) }

// opTrap is an instruction that faults when reached. It and the fused
// opcodes of fuse.go follow the last real opcode below IGL, so that the
// dispatch loop's switch stays one dense jump table (IGL itself never
// reaches the loop: it decodes to opTrap). TestInternalOpcodes checks that
// none collides with a real one.
const opTrap Opcode = LDF64 + 1

// decodeProgram decodes code for the dispatch loop; with fuse, common
// sequences become fused instructions (see fuseCode).
func decodeProgram(code []byte, fuse bool) []inst {
	n := (len(code) + InstructionSize - 1) / InstructionSize
	return decodeAppend(make([]inst, 0, n), code, 0, fuse)
}

// decodeAt decodes the instruction at byte address addr of code.
func decodeAt(code []byte, addr int) inst {
	if checkInstruction(code, addr) != nil {
		return inst{ops: uint32(opTrap)}
	}
	raw := code[addr : addr+InstructionSize]
	in := inst{ops: uint32(raw[0])}
	pos, nreg := 1, 0
	for _, kind := range Lookup(Opcode(raw[0])).Operands {
		switch kind {
		case IntReg, FloatReg:
			nreg++
			in.ops |= uint32(raw[pos]) << (8 * nreg)
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

// fuseReach is how far fusing looks ahead: whether an instruction is
// fused depends on at most the fuseReach instructions after it. The
// longest chain is a LOAD before an ADD: they pair only if the ADD does
// not fuse with the comparison and DJMPE after it. Fusing the
// instructions appended to a decoded program therefore starts this many
// before them, so that every fused form across the boundary is found as
// decoding the whole program finds it.
const fuseReach = 3

// decodeAppend decodes the instructions of code from byte address from
// on and appends them to out, which holds code[:from] decoded (with fuse
// if fuse is set); with fuse, common sequences become fused instructions
// (see fuseCode), across the boundary too. It returns out.
func decodeAppend(out []inst, code []byte, from int, fuse bool) []inst {
	first := len(out)
	for addr := from; addr < len(code); addr += InstructionSize {
		out = append(out, decodeAt(code, addr))
	}
	if fuse {
		start := max(first-fuseReach, 0)
		for i := start; i < first; i++ { // undo what fusing did there
			out[i] = decodeAt(code, i*InstructionSize)
		}
		// The instruction before start keeps its fused form; if it is the
		// first of a pair, start is its second and stays plain.
		fuseCode(out[start:], start > 0 && isPair(out[start-1].op()))
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
	if m.codeShared || len(old) == 0 || len(p.Code) < len(old) || len(old)%InstructionSize != 0 || &p.Code[0] != &old[0] {
		m.SetProgram(p)
		return
	}
	m.prog = p
	m.code = decodeAppend(m.code, p.Code, len(old), true)
	if m.cold != nil && m.cold.single != nil {
		m.cold.single = decodeAppend(m.cold.single, p.Code, len(old), false)
	}
}
