package vm

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// exec runs the decoded code until it has run limit instructions (one more
// when the last is a fused pair), HLT, the end of the code or a fault.
//
// It alternates two loops. fast runs every instruction that needs no
// function call; it stops, without running it, at one that does (printing,
// growing the heap or a stack, a fault, an interrupted jump), and slow runs
// that one with every check. Keeping calls out of fast lets the compiler
// hold the program counter and the flag in registers.
func (m *VM) exec(code []inst, limit uint64) error {
	start := m.steps
	for {
		m.fast(code, start+limit-m.steps)
		if m.halted || m.pc >= uint(len(code)) || m.steps-start >= limit {
			return nil
		}
		if err := m.slow(code); err != nil {
			return err
		}
	}
}

// fast is the dispatch loop. Every operand in code was checked when the
// program was decoded (see inst), so it checks only what depends on
// run-time values. Register numbers are masked with &31, which changes
// nothing for decoded code and lets the compiler drop bounds checks. It
// must call no function.
func (m *VM) fast(code []inst, limit uint64) {
	n := uint(len(code))
	r := &m.regs
	f := &m.fregs
	pc, flag := m.pc, m.flag
	var steps uint64
loop:
	for pc < n && steps < limit {
		in := &code[pc]
		switch in.op {
		case LOAD:
			r[in.a&31] = in.imm
		case ADD:
			r[in.c&31] = r[in.a&31] + r[in.b&31]
		case SUB:
			r[in.c&31] = r[in.a&31] - r[in.b&31]
		case MUL:
			r[in.c&31] = r[in.a&31] * r[in.b&31]
		case DIV:
			d := r[in.b&31]
			if d == 0 {
				break loop
			}
			x := r[in.a&31]
			r[in.c&31], m.rem = x/d, x%d
		case HLT:
			m.halted = true
			pc++
			steps++
			break loop
		case EQ:
			flag = r[in.a&31] == r[in.b&31]
		case NEQ:
			flag = r[in.a&31] != r[in.b&31]
		case GTE:
			flag = r[in.a&31] >= r[in.b&31]
		case LTE:
			flag = r[in.a&31] <= r[in.b&31]
		case LT:
			flag = r[in.a&31] < r[in.b&31]
		case GT:
			flag = r[in.a&31] > r[in.b&31]
		case NOP:
		case INC:
			r[in.a&31]++
		case DEC:
			r[in.a&31]--
		case JMPE:
			if !flag {
				break
			}
			fallthrough
		case JMP:
			t := uint32(r[in.a&31])
			if t%InstructionSize != 0 || t/InstructionSize >= uint32(n) || m.interrupted.Load() {
				break loop // out of range (slow faults), or the end, or interrupted
			}
			pc = uint(t / InstructionSize)
			steps++
			continue
		case DJMPE:
			if flag {
				if m.interrupted.Load() {
					break loop
				}
				pc = uint(in.imm)
				steps++
				continue
			}
		case opEQJ:
			flag = r[in.a&31] == r[in.b&31]
			goto fusedJump
		case opNEQJ:
			flag = r[in.a&31] != r[in.b&31]
			goto fusedJump
		case opGTEJ:
			flag = r[in.a&31] >= r[in.b&31]
			goto fusedJump
		case opLTEJ:
			flag = r[in.a&31] <= r[in.b&31]
			goto fusedJump
		case opLTJ:
			flag = r[in.a&31] < r[in.b&31]
			goto fusedJump
		case opGTJ:
			flag = r[in.a&31] > r[in.b&31]
			goto fusedJump
		case LOADF64:
			f[in.a&31] = float64(in.imm)
		case ADDF64:
			f[in.c&31] = f[in.a&31] + f[in.b&31]
		case SUBF64:
			f[in.c&31] = f[in.a&31] - f[in.b&31]
		case MULF64:
			f[in.c&31] = f[in.a&31] * f[in.b&31]
		case DIVF64:
			f[in.c&31] = f[in.a&31] / f[in.b&31]
		case EQF64:
			flag = f[in.a&31] == f[in.b&31]
		case NEQF64:
			flag = f[in.a&31] != f[in.b&31]
		case GTF64:
			flag = f[in.a&31] > f[in.b&31]
		case GTEF64:
			flag = f[in.a&31] >= f[in.b&31]
		case LTF64:
			flag = f[in.a&31] < f[in.b&31]
		case LTEF64:
			flag = f[in.a&31] <= f[in.b&31]
		case SHL:
			r[in.a&31] <<= uint32(in.imm)
		case SHR:
			r[in.a&31] >>= uint32(in.imm)
		case AND:
			r[in.c&31] = r[in.a&31] & r[in.b&31]
		case OR:
			r[in.c&31] = r[in.a&31] | r[in.b&31]
		case XOR:
			r[in.c&31] = r[in.a&31] ^ r[in.b&31]
		case NOT:
			r[in.b&31] = ^r[in.a&31]
		case LUI:
			r[in.a&31] = r[in.a&31]<<16 | in.imm
		case CLOOP:
			m.count = uint32(in.imm)
		case LOOP:
			if m.count != 0 {
				if m.interrupted.Load() {
					break loop
				}
				m.count--
				pc = uint(in.imm)
				steps++
				continue
			}
		case LOADM:
			off := uint(uint32(r[in.a&31]))
			if off+4 > uint(len(m.heap)) {
				break loop
			}
			r[in.b&31] = int32(binary.LittleEndian.Uint32(m.heap[off:]))
		case SETM:
			off := uint(uint32(r[in.a&31]))
			if off+4 > uint(len(m.heap)) {
				break loop
			}
			binary.LittleEndian.PutUint32(m.heap[off:], uint32(r[in.b&31]))
		case PUSH:
			top := len(m.stack)
			if top == cap(m.stack) || top >= m.cfg.StackLimit {
				break loop // slow grows the stack, or faults
			}
			m.stack = m.stack[:top+1]
			m.stack[top] = r[in.a&31]
		case POP:
			top := len(m.stack) - 1
			if top < 0 {
				break loop
			}
			r[in.a&31] = m.stack[top]
			m.stack = m.stack[:top]
		case CALL:
			top := len(m.calls)
			if top == cap(m.calls) || top >= m.cfg.StackLimit || m.interrupted.Load() {
				break loop
			}
			m.calls = m.calls[:top+1]
			m.calls[top] = uint32(pc + 1)
			pc = uint(in.imm)
			steps++
			continue
		case RET:
			top := len(m.calls) - 1
			if top < 0 {
				break loop
			}
			pc = uint(m.calls[top])
			m.calls = m.calls[:top]
			steps++
			continue
		case MOV:
			r[in.b&31] = r[in.a&31]
		case MOVF64:
			f[in.b&31] = f[in.a&31]
		case ITOF:
			f[in.b&31] = float64(r[in.a&31])
		case REM:
			r[in.a&31] = m.rem
		default: // JMPF, JMPB, ALOC, PRTS, PRTI, PRTF64, FTOI, LDF64, opTrap
			break loop
		}
		pc++
		steps++
		continue
	fusedJump: // the DJMPE half of a fused comparison at pc
		if !flag {
			pc += 2
			steps += 2
			continue
		}
		if m.interrupted.Load() {
			break loop // slow stops at the DJMPE
		}
		pc = uint(code[pc].imm)
		steps += 2
	}
	m.pc, m.flag = pc, flag
	m.steps += steps
}

// slow runs the one instruction at m.pc that fast stopped at, with every
// check, or stops the run there if it was interrupted.
func (m *VM) slow(code []inst) error {
	pc := m.pc
	in := &code[pc]
	if m.interrupted.Load() {
		if in.op >= opEQJ && in.op <= opGTJ { // fast set the flag: stop at the DJMPE, as unfused code does
			pc++
			m.pc = pc
			m.steps++
		}
		return m.interruptFault(pc, nil)
	}
	next, err := m.slowStep(pc, in)
	if err != nil {
		return err
	}
	m.pc = next
	m.steps++
	return nil
}

// slowStep runs the instruction at index pc and returns the index of the
// next one.
func (m *VM) slowStep(pc uint, in *inst) (uint, error) {
	r := &m.regs
	switch in.op {
	case DIV: // fast stops here only with a zero divisor
		if r[in.b&31] == 0 {
			return 0, m.fault(pc, ErrDivisionByZero, fmt.Sprintf("$%d is 0", in.b))
		}
		return 0, m.fastDisagrees(pc)
	case JMP, JMPE, JMPF, JMPB:
		return m.registerJump(pc, in)
	case ALOC:
		return pc + 1, m.alloc(pc, r[in.a&31])
	case PRTS:
		return pc + 1, m.printString(pc, int(in.imm))
	case PRTI:
		m.buf = append(strconv.AppendInt(m.buf[:0], int64(r[in.a&31]), 10), '\n')
		return pc + 1, m.write(pc, m.buf)
	case PRTF64:
		m.buf = append(AppendFloat(m.buf[:0], m.fregs[in.a&31]), '\n')
		return pc + 1, m.write(pc, m.buf)
	case FTOI:
		v := math.Trunc(m.fregs[in.a&31])
		if !(v >= math.MinInt32 && v <= math.MaxInt32) {
			return 0, m.fault(pc, ErrFloatConversion, fmt.Sprintf("$f%d is %s", in.a, FormatFloat(m.fregs[in.a&31])))
		}
		r[in.b&31] = int32(v)
	case LDF64:
		off := int(in.imm)
		if off+8 > len(m.prog.ReadOnly) {
			return 0, m.fault(pc, ErrDataOutOfRange, fmt.Sprintf("8 bytes at offset %d, read-only data is %d bytes", off, len(m.prog.ReadOnly)))
		}
		m.fregs[in.a&31] = math.Float64frombits(binary.LittleEndian.Uint64(m.prog.ReadOnly[off:]))
	case LOADM, SETM: // fast stops here only out of range
		if _, err := m.heapWord(pc, r[in.a&31]); err != nil {
			return 0, err
		}
		return 0, m.fastDisagrees(pc)
	case PUSH:
		if len(m.stack) >= m.cfg.StackLimit {
			return 0, m.fault(pc, ErrStackOverflow, fmt.Sprintf("%d values", len(m.stack)))
		}
		m.stack = append(m.stack, r[in.a&31])
	case POP: // fast stops here only on an empty stack
		if len(m.stack) == 0 {
			return 0, m.fault(pc, ErrStackEmpty, "")
		}
		return 0, m.fastDisagrees(pc)
	case CALL:
		if len(m.calls) >= m.cfg.StackLimit {
			return 0, m.fault(pc, ErrStackOverflow, fmt.Sprintf("%d nested calls", len(m.calls)))
		}
		m.calls = append(m.calls, uint32(pc+1))
		return uint(in.imm), nil
	case RET: // fast stops here only with an empty call stack
		if len(m.calls) == 0 {
			return 0, m.fault(pc, ErrReturnWithoutCall, "the call stack is empty")
		}
		return 0, m.fastDisagrees(pc)
	case opTrap:
		// Never nil: the decoder made a trap because this check failed.
		return 0, checkInstruction(m.prog.Code, int(pc)*InstructionSize)
	default:
		return 0, m.fastDisagrees(pc)
	}
	return pc + 1, nil
}

// fastDisagrees is the error for an instruction fast stopped at for no
// reason slowStep knows: a bug in the VM, reported rather than run wrong.
func (m *VM) fastDisagrees(pc uint) error {
	return fmt.Errorf("vm: internal error: the fast loop stopped at pc %d (%s)", pc*InstructionSize, m.instrText(pc))
}

// fault builds the error for the instruction at index pc.
func (m *VM) fault(pc uint, kind error, detail string) *Fault {
	return &Fault{Err: kind, PC: int(pc) * InstructionSize, Instr: m.instrText(pc), Detail: detail}
}

// instrText disassembles the instruction at index pc.
func (m *VM) instrText(pc uint) string {
	addr := int(pc) * InstructionSize
	if addr+InstructionSize > len(m.prog.Code) {
		return "end of code"
	}
	return DisassembleInstruction(m.prog.Code[addr : addr+InstructionSize])
}

// registerJump works out the target of JMP, JMPE, JMPF or JMPB at index pc.
func (m *VM) registerJump(pc uint, in *inst) (uint, error) {
	here := int64(pc) * InstructionSize
	v := int64(m.regs[in.a&31])
	target := v
	switch in.op {
	case JMPF:
		target = here + v
	case JMPB:
		target = here - v
	}
	if target < 0 || target%InstructionSize != 0 || target > int64(len(m.prog.Code)) {
		return 0, m.fault(pc, ErrJumpOutOfRange, jumpDetail(target, len(m.prog.Code)))
	}
	return uint(target / InstructionSize), nil
}

func jumpDetail(target int64, codeLen int) string {
	if target >= 0 && target%InstructionSize != 0 {
		return fmt.Sprintf("target %d is not a multiple of %d", target, InstructionSize)
	}
	return fmt.Sprintf("target %d, code is %d bytes", target, codeLen)
}

func (m *VM) alloc(pc uint, n int32) error {
	if n < 0 {
		return m.fault(pc, ErrHeapLimit, fmt.Sprintf("cannot grow the heap by %d bytes", n))
	}
	if len(m.heap)+int(n) > m.cfg.HeapLimit {
		return m.fault(pc, ErrHeapLimit, fmt.Sprintf("%d + %d bytes is over the limit of %d", len(m.heap), n, m.cfg.HeapLimit))
	}
	m.heap = append(m.heap, make([]byte, n)...)
	return nil
}

// heapWord checks that a 4-byte word at offset off lies in the heap.
func (m *VM) heapWord(pc uint, off int32) (int, error) {
	if off < 0 || int(off)+4 > len(m.heap) {
		return 0, m.fault(pc, ErrHeapOutOfRange, fmt.Sprintf("4 bytes at offset %d, heap is %d bytes", off, len(m.heap)))
	}
	return int(off), nil
}

func (m *VM) printString(pc uint, off int) error {
	ro := m.prog.ReadOnly
	if off >= len(ro) {
		return m.fault(pc, ErrDataOutOfRange, fmt.Sprintf("offset %d, read-only data is %d bytes", off, len(ro)))
	}
	end := off
	for end < len(ro) && ro[end] != 0 {
		end++
	}
	if end == len(ro) {
		return m.fault(pc, ErrDataOutOfRange, fmt.Sprintf("the string at offset %d has no terminating zero byte", off))
	}
	return m.write(pc, ro[off:end])
}

func (m *VM) write(pc uint, b []byte) error {
	if _, err := m.out.Write(b); err != nil {
		f := m.fault(pc, ErrOutput, "")
		f.Cause = err
		return f
	}
	return nil
}

// FormatFloat formats a float register's value as Iridium shows it: the
// shortest decimal that reads back to the same value, with ".0" added to a
// whole number so that it reads as a float ("2.0", "1.5", "1e+21", "NaN",
// "+Inf").
func FormatFloat(v float64) string { return string(AppendFloat(nil, v)) }

// AppendFloat appends FormatFloat(v) to b.
func AppendFloat(b []byte, v float64) []byte {
	start := len(b)
	b = strconv.AppendFloat(b, v, 'g', -1, 64)
	for _, c := range b[start:] {
		if c == '.' || c == 'e' || c == 'N' || c == 'I' {
			return b
		}
	}
	return append(b, '.', '0')
}
