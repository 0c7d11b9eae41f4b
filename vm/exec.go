package vm

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// exec runs the decoded code until HLT, the end of the code, a fault, or
// the run has taken limit steps. With a limit, the run may take more: a
// fused instruction's steps all count, and the limit is checked at each
// jump taken and at the end of the straight run of code that began where
// the run began. That straight run ends after limit instructions' slots,
// or at most maxSlots-1 slots later to finish a fused instruction (see
// limitEnd); so a limit of 1 runs exactly one plain instruction.
//
// It alternates two loops. fast runs every instruction that needs no
// function call; it stops, without running it, at one that does (printing,
// growing the heap or a stack, a fault, an interrupted jump), and slow runs
// that one with every check. Keeping calls out of fast lets the compiler
// hold the program counter and the flag in registers.
func (m *VM) exec(code []inst, limit uint64) error {
	start := m.steps
	for {
		left := start + limit - m.steps
		end := limitEnd(code, m.pc, left)
		m.fast(code[:end], left)
		if m.halted || m.pc >= uint(len(code)) || m.steps-start >= limit {
			return nil
		}
		if m.pc >= end {
			continue // a straight run reached the limit's cut after a jump forward
		}
		if err := m.slow(code); err != nil {
			return err
		}
	}
}

// limitEnd returns where fast must cut code for a run from pc of at most
// limit steps: pc+limit, moved on past the last slot of any fused
// instruction that starts before it, so that every fused instruction in
// the cut code has all its slots there; or len(code) if the code ends
// first. Without a limit (Run) it is len(code), and fast's loop is the
// same.
func limitEnd(code []inst, pc uint, limit uint64) uint {
	n := uint(len(code))
	if pc >= n || limit >= uint64(n-pc) {
		return n
	}
	end := pc + uint(limit)
	// Only an instruction starting in the last maxSlots-1 slots before end
	// can reach past it. The loop also looks at the slots it moves end
	// over, in case one reaches further still (none does: the slots after
	// a fused instruction's first hold its tail).
	for j := end - min(end, maxSlots-1); j < end && j < n; j++ {
		end = max(end, j+slots(code[j].op()))
	}
	return min(end, n)
}

// fast is the dispatch loop. Every operand in code was checked when the
// program was decoded (see inst), so it checks only what depends on
// run-time values. Register numbers are masked with &31, which changes
// nothing for decoded code and lets the compiler drop bounds checks. It
// must call no function.
//
// Steps are counted per straight run of code, not per instruction: a
// taken jump adds the length of the run that ends with it, and the run
// stops once that reaches limit. A straight run stops at the end of code,
// which exec cuts short for a limit (see limitEnd); every fused
// instruction in code must have all its slots there.
func (m *VM) fast(code []inst, limit uint64) {
	pc := m.pc
	n := uint(len(code))
	r := &m.regs
	f := &m.fregs
	flag := m.flag
	interrupted := m.interrupted
	// steps taken so far = acc + pc
	acc, target := -uint64(pc), uint(0)
loop:
	for pc < n {
		in := code[pc]
		switch in.op() & 127 { // with a case 127, one jump table and no range check
		case LOAD:
			r[in.a()] = in.imm
		case ADD:
			r[in.c()] = r[in.a()] + r[in.b()]
		case SUB:
			r[in.c()] = r[in.a()] - r[in.b()]
		case MUL:
			r[in.c()] = r[in.a()] * r[in.b()]
		case HLT:
			m.halted = true
			pc++
			break loop
		case EQ:
			flag = r[in.a()] == r[in.b()]
		case NEQ:
			flag = r[in.a()] != r[in.b()]
		case GTE:
			flag = r[in.a()] >= r[in.b()]
		case LTE:
			flag = r[in.a()] <= r[in.b()]
		case LT:
			flag = r[in.a()] < r[in.b()]
		case GT:
			flag = r[in.a()] > r[in.b()]
		case NOP:
		case INC:
			r[in.a()]++
		case DEC:
			r[in.a()]--
		case JMPE:
			if !flag {
				break
			}
			fallthrough
		case JMP:
			t := uint32(r[in.a()])
			if t%InstructionSize != 0 || t/InstructionSize >= uint32(n) || interrupted.Load() {
				break loop // out of range (slow faults), or the end, or interrupted
			}
			target = uint(t / InstructionSize)
			pc++
			goto taken
		case DJMPE:
			if flag {
				if interrupted.Load() {
					break loop
				}
				target = uint(in.imm)
				pc++
				goto taken
			}
		case LOADF64:
			f[in.a()] = float64(in.imm)
		case ADDF64:
			f[in.c()] = f[in.a()] + f[in.b()]
		case SUBF64:
			f[in.c()] = f[in.a()] - f[in.b()]
		case MULF64:
			f[in.c()] = f[in.a()] * f[in.b()]
		case DIVF64:
			f[in.c()] = f[in.a()] / f[in.b()]
		case EQF64:
			flag = f[in.a()] == f[in.b()]
		case NEQF64:
			flag = f[in.a()] != f[in.b()]
		case GTF64:
			flag = f[in.a()] > f[in.b()]
		case GTEF64:
			flag = f[in.a()] >= f[in.b()]
		case LTF64:
			flag = f[in.a()] < f[in.b()]
		case LTEF64:
			flag = f[in.a()] <= f[in.b()]
		case SHL:
			r[in.a()] <<= uint32(in.imm)
		case SHR:
			r[in.a()] >>= uint32(in.imm)
		case AND:
			r[in.c()] = r[in.a()] & r[in.b()]
		case OR:
			r[in.c()] = r[in.a()] | r[in.b()]
		case XOR:
			r[in.c()] = r[in.a()] ^ r[in.b()]
		case NOT:
			r[in.b()] = ^r[in.a()]
		case LUI:
			r[in.a()] = r[in.a()]<<16 | in.imm
		case CLOOP:
			m.count = uint32(in.imm)
		case LOOP:
			if m.count != 0 {
				if interrupted.Load() {
					break loop
				}
				m.count--
				target = uint(in.imm)
				pc++
				goto taken
			}
		case LOADM:
			off := uint(uint32(r[in.a()]))
			if off+4 > uint(len(m.heap)) {
				break loop
			}
			r[in.b()] = int32(binary.LittleEndian.Uint32(m.heap[off:]))
		case SETM:
			off := uint(uint32(r[in.a()]))
			if off+4 > uint(len(m.heap)) {
				break loop
			}
			binary.LittleEndian.PutUint32(m.heap[off:], uint32(r[in.b()]))
		case PUSH:
			sp := m.sp
			if sp >= uint(len(m.stack)) {
				break loop // slow grows the stack, or faults
			}
			m.stack[sp] = r[in.a()]
			m.sp = sp + 1
		case POP:
			sp := m.sp - 1
			if sp >= uint(len(m.stack)) {
				break loop // empty
			}
			r[in.a()] = m.stack[sp]
			m.sp = sp
		case CALL:
			csp := m.csp
			if csp >= uint(len(m.calls)) || interrupted.Load() {
				break loop
			}
			pc++
			m.calls[csp] = uint32(pc)
			m.csp = csp + 1
			target = uint(in.imm)
			goto taken
		case RET:
			csp := m.csp - 1
			if csp >= uint(len(m.calls)) {
				break loop // empty
			}
			m.csp = csp
			target = uint(m.calls[csp])
			pc++
			goto taken
		case MOV:
			r[in.b()] = r[in.a()]
		case MOVF64:
			f[in.b()] = f[in.a()]
		case ITOF:
			f[in.b()] = float64(r[in.a()])
		case REM:
			r[in.a()] = m.rem
		case opEQJ:
			flag = r[in.a()] == r[in.b()]
			goto fused2
		case opNEQJ:
			flag = r[in.a()] != r[in.b()]
			goto fused2
		case opGTEJ:
			flag = r[in.a()] >= r[in.b()]
			goto fused2
		case opLTEJ:
			flag = r[in.a()] <= r[in.b()]
			goto fused2
		case opLTJ:
			flag = r[in.a()] < r[in.b()]
			goto fused2
		case opGTJ:
			flag = r[in.a()] > r[in.b()]
			goto fused2
		case opFEQJ:
			flag = f[in.a()] == f[in.b()]
			goto fused2
		case opFNEQJ:
			flag = f[in.a()] != f[in.b()]
			goto fused2
		case opFGTJ:
			flag = f[in.a()] > f[in.b()]
			goto fused2
		case opFGTEJ:
			flag = f[in.a()] >= f[in.b()]
			goto fused2
		case opFLTJ:
			flag = f[in.a()] < f[in.b()]
			goto fused2
		case opFLTEJ:
			flag = f[in.a()] <= f[in.b()]
			goto fused2
		case opINCEQJ:
			r[in.a()]++
			nx := code[pc+1]
			flag = r[nx.a()] == r[nx.b()]
			goto fused3
		case opINCNEQJ:
			r[in.a()]++
			nx := code[pc+1]
			flag = r[nx.a()] != r[nx.b()]
			goto fused3
		case opINCGTEJ:
			r[in.a()]++
			nx := code[pc+1]
			flag = r[nx.a()] >= r[nx.b()]
			goto fused3
		case opINCLTEJ:
			r[in.a()]++
			nx := code[pc+1]
			flag = r[nx.a()] <= r[nx.b()]
			goto fused3
		case opINCLTJ:
			r[in.a()]++
			nx := code[pc+1]
			flag = r[nx.a()] < r[nx.b()]
			goto fused3
		case opINCGTJ:
			r[in.a()]++
			nx := code[pc+1]
			flag = r[nx.a()] > r[nx.b()]
			goto fused3
		case opLOADEQJ:
			r[in.a()] = in.imm
			nx := code[pc+1]
			flag = r[nx.a()] == r[nx.b()]
			goto fused3
		case opLOADNEQJ:
			r[in.a()] = in.imm
			nx := code[pc+1]
			flag = r[nx.a()] != r[nx.b()]
			goto fused3
		case opLOADGTEJ:
			r[in.a()] = in.imm
			nx := code[pc+1]
			flag = r[nx.a()] >= r[nx.b()]
			goto fused3
		case opLOADLTEJ:
			r[in.a()] = in.imm
			nx := code[pc+1]
			flag = r[nx.a()] <= r[nx.b()]
			goto fused3
		case opLOADLTJ:
			r[in.a()] = in.imm
			nx := code[pc+1]
			flag = r[nx.a()] < r[nx.b()]
			goto fused3
		case opLOADGTJ:
			r[in.a()] = in.imm
			nx := code[pc+1]
			flag = r[nx.a()] > r[nx.b()]
			goto fused3
		case opADDEQJ:
			r[in.c()] = r[in.a()] + r[in.b()]
			nx := code[pc+1]
			flag = r[nx.a()] == r[nx.b()]
			goto fused3
		case opADDNEQJ:
			r[in.c()] = r[in.a()] + r[in.b()]
			nx := code[pc+1]
			flag = r[nx.a()] != r[nx.b()]
			goto fused3
		case opADDGTEJ:
			r[in.c()] = r[in.a()] + r[in.b()]
			nx := code[pc+1]
			flag = r[nx.a()] >= r[nx.b()]
			goto fused3
		case opADDLTEJ:
			r[in.c()] = r[in.a()] + r[in.b()]
			nx := code[pc+1]
			flag = r[nx.a()] <= r[nx.b()]
			goto fused3
		case opADDLTJ:
			r[in.c()] = r[in.a()] + r[in.b()]
			nx := code[pc+1]
			flag = r[nx.a()] < r[nx.b()]
			goto fused3
		case opADDGTJ:
			r[in.c()] = r[in.a()] + r[in.b()]
			nx := code[pc+1]
			flag = r[nx.a()] > r[nx.b()]
			goto fused3
		case opLOADADD:
			r[in.a()] = in.imm
			nx := code[pc+1]
			r[nx.c()] = r[nx.a()] + r[nx.b()]
			pc += 2
			continue
		case opLOADSUB:
			r[in.a()] = in.imm
			nx := code[pc+1]
			r[nx.c()] = r[nx.a()] - r[nx.b()]
			pc += 2
			continue
		case opLOADMUL:
			r[in.a()] = in.imm
			nx := code[pc+1]
			r[nx.c()] = r[nx.a()] * r[nx.b()]
			pc += 2
			continue
		case opPOPPUSH:
			sp := m.sp - 1
			if sp >= uint(len(m.stack)) {
				break loop // empty
			}
			r[in.a()] = m.stack[sp]
			m.stack[sp] = r[code[pc+1].a()]
			pc += 2
			continue
		case opPOPADD:
			sp := m.sp - 1
			if sp >= uint(len(m.stack)) {
				break loop // empty
			}
			r[in.a()] = m.stack[sp]
			m.sp = sp
			nx := code[pc+1]
			r[nx.c()] = r[nx.a()] + r[nx.b()]
			pc += 2
			continue
		case opINCRET:
			r[in.a()]++
			goto ret
		case opADDRET:
			r[in.c()] = r[in.a()] + r[in.b()]
			goto ret
		case 127: // no opcode: with &127 above, the jump table needs no range check
			break loop
		default: // DIV, JMPF, JMPB, ALOC, PRTS, PRTI, PRTF64, FTOI, LDF64, opTrap
			break loop
		}
		pc++
		continue
	ret: // the RET half of a pair at pc
		pc++
		if csp := m.csp - 1; csp < uint(len(m.calls)) {
			m.csp = csp
			target = uint(m.calls[csp])
			pc++
			goto taken
		}
		break loop // stop at the RET: the call stack is empty
	fused2: // the DJMPE half of a compare-and-jump at pc
		if !flag {
			pc += 2
			continue
		}
		if interrupted.Load() {
			pc++ // stop at the DJMPE, as plain code does
			break loop
		}
		pc += 2
		target = uint(in.imm)
		goto taken
	fused3: // the DJMPE third of a three-step fused instruction at pc
		if !flag {
			pc += 3
			continue
		}
		if interrupted.Load() {
			pc += 2
			break loop
		}
		target = uint(code[pc+1].imm)
		pc += 3
	taken: // a jump to target, pc past the jump
		acc += uint64(pc)
		if acc >= limit {
			pc = target
			acc -= uint64(pc)
			break loop
		}
		pc = target
		acc -= uint64(pc)
	}
	m.pc, m.flag = pc, flag
	m.steps += acc + uint64(pc)
}

// slow runs the one instruction at m.pc that fast stopped at, with every
// check, or stops the run there if it was interrupted.
func (m *VM) slow(code []inst) error {
	pc := m.pc
	if m.interrupted.Load() {
		return m.interruptFault(pc, nil)
	}
	in := code[pc]
	in.setOp(firstOp(in.op()))
	next, err := m.slowStep(pc, &in)
	if err != nil && err != errBacklog {
		return err
	}
	m.pc = next
	m.steps++
	return err // nil, or errBacklog after a print: the slice ends here
}

// slowStep runs the instruction at index pc and returns the index of the
// next one.
func (m *VM) slowStep(pc uint, in *inst) (uint, error) {
	r := &m.regs
	switch in.op() {
	case DIV: // fast leaves DIV here: IDIV's fixed registers cost fast a shuffle on every dispatch
		d := r[in.b()]
		if d == 0 {
			return 0, m.fault(pc, ErrDivisionByZero, fmt.Sprintf("$%d is 0", in.b()))
		}
		x := r[in.a()]
		r[in.c()], m.rem = x/d, x%d
	case JMP, JMPE, JMPF, JMPB:
		return m.registerJump(pc, in)
	case ALOC:
		return pc + 1, m.alloc(pc, r[in.a()])
	case PRTS:
		return pc + 1, m.printString(pc, int(in.imm))
	case PRTI:
		c := m.coldPart()
		c.buf = append(strconv.AppendInt(c.buf[:0], int64(r[in.a()]), 10), '\n')
		return pc + 1, m.write(pc, c.buf)
	case PRTF64:
		c := m.coldPart()
		c.buf = append(AppendFloat(c.buf[:0], m.fregs[in.a()]), '\n')
		return pc + 1, m.write(pc, c.buf)
	case FTOI:
		v := math.Trunc(m.fregs[in.a()])
		if !(v >= math.MinInt32 && v <= math.MaxInt32) {
			return 0, m.fault(pc, ErrFloatConversion, fmt.Sprintf("$f%d is %s", in.a(), FormatFloat(m.fregs[in.a()])))
		}
		r[in.b()] = int32(v)
	case LDF64:
		off := int(in.imm)
		if off+8 > len(m.prog.ReadOnly) {
			return 0, m.fault(pc, ErrDataOutOfRange, fmt.Sprintf("8 bytes at offset %d, read-only data is %d bytes", off, len(m.prog.ReadOnly)))
		}
		m.fregs[in.a()] = math.Float64frombits(binary.LittleEndian.Uint64(m.prog.ReadOnly[off:]))
	case LOADM, SETM: // fast stops here only out of range
		if _, err := m.heapWord(pc, r[in.a()]); err != nil {
			return 0, err
		}
		return 0, m.fastDisagrees(pc)
	case PUSH: // fast stops here only with the stack's memory full
		if m.sp >= uint(m.set.cfg.StackLimit) {
			return 0, m.fault(pc, ErrStackOverflow, fmt.Sprintf("%d values", m.sp))
		}
		m.stack = grow(m.stack, m.set.cfg.StackLimit)
		m.stack[m.sp] = r[in.a()]
		m.sp++
	case POP: // fast stops here only on an empty stack
		if m.sp == 0 {
			return 0, m.fault(pc, ErrStackEmpty, "")
		}
		return 0, m.fastDisagrees(pc)
	case CALL: // fast stops here with the call stack's memory full, or interrupted
		if m.csp >= uint(m.set.cfg.StackLimit) {
			return 0, m.fault(pc, ErrStackOverflow, fmt.Sprintf("%d nested calls", m.csp))
		}
		m.calls = grow(m.calls, m.set.cfg.StackLimit)
		m.calls[m.csp] = uint32(pc + 1)
		m.csp++
		return uint(in.imm), nil
	case RET: // fast stops here only with an empty call stack
		if m.csp == 0 {
			return 0, m.fault(pc, ErrReturnWithoutCall, "the call stack is empty")
		}
		return 0, m.fastDisagrees(pc)
	case SPAWN, SELF, SEND, SENDP, RECV, RECVT, FROM, MONITOR, KILL, SENDB, TAKEB:
		return m.processStep(pc, in)
	case REG, WHEREIS:
		return m.nameStep(pc, in)
	case opTrap:
		// Never nil: the decoder made a trap because this check failed.
		return 0, checkInstruction(m.prog.Code, int(pc)*InstructionSize)
	default:
		return 0, m.fastDisagrees(pc)
	}
	return pc + 1, nil
}

// grow returns s with more room when it is full: twice the length, at
// least 64 and at most limit. Values past the stack's top are garbage.
func grow[T int32 | uint32](s []T, limit int) []T {
	n := min(max(2*len(s), 64), limit)
	if n <= len(s) {
		return s
	}
	bigger := make([]T, n)
	copy(bigger, s)
	return bigger
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
	v := int64(m.regs[in.a()])
	target := v
	switch in.op() {
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
	if _, err := m.set.out.Write(b); err != nil {
		f := m.fault(pc, ErrOutput, "")
		f.Cause = err
		return f
	}
	if q := m.set.backlog; q != nil && q.Backlogged() {
		return errBacklog
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
