// Package vm is the Iridium machine: 32 integer and 32 float registers, a
// heap, a stack, a call stack and read-only data, running fixed-width 4-byte
// instructions. It also holds the instruction table, the bytecode file
// format and the disassembler. It imports nothing of the assembler, the
// REPL, the cluster or the command.
package vm

import (
	"context"
	"fmt"
	"io"
	"sync/atomic"
)

// NumRegisters is the number of integer registers and of float registers.
const NumRegisters = 32

// Config sets the limits and the output of a VM. The zero value of each
// field means its default.
type Config struct {
	// Stdout receives what PRTS, PRTI and PRTF64 print. Default: discarded.
	Stdout io.Writer
	// StackLimit is the most values the stack holds, and the most return
	// addresses the call stack holds; one more faults with stack overflow.
	// Default 1<<20.
	StackLimit int
	// HeapLimit is the most bytes ALOC may grow the heap to. Default 64 MiB.
	HeapLimit int
	// HeapBudget, if not nil, is a budget shared with other VMs that every
	// growth of the heap reserves from; an ALOC it cannot cover faults
	// with ErrHeapBudget. Default: none.
	HeapBudget *HeapBudget
}

// Defaults of Config.
const (
	DefaultStackLimit = 1 << 20
	DefaultHeapLimit  = 64 << 20
)

// VM is one Iridium machine. A VM is not safe for use by several goroutines
// at once, but separate VMs share nothing and may run side by side; Run's
// context may be cancelled from any goroutine.
type VM struct {
	regs       [NumRegisters]int32
	fregs      [NumRegisters]float64
	pc         uint // index of the next instruction (its byte address / 4)
	flag       bool // the equal flag, set by comparisons
	halted     bool
	codeShared bool // code is shared with SPAWNed VMs: never change it in place
	rem        int32
	count      uint32   // the loop counter of CLOOP and LOOP
	from       int32    // the sender of the last message taken
	heap       []byte   // in cold.mem
	stack      []int32  // the stack's memory; the values are stack[:sp]
	calls      []uint32 // the call stack's memory: return addresses, as instruction indexes, calls[:csp]
	sp         uint
	csp        uint
	rt         Runtime // the runtime of the process instructions
	prog       *Program
	code       []inst // decoded with fused instructions, for Run
	steps      uint64
	// interrupted is set when the context of the run in progress is
	// cancelled. Each Run gets a flag of its own, so that the cancel of
	// an earlier run, arriving late, cannot stop a later one; Step and
	// RunSlice point it at settings.never, which nothing sets.
	interrupted *atomic.Bool
	set         *settings // shared with the VMs it SPAWNs
	cold        *coldState
}

// settings is what a VM shares with the VMs it SPAWNs; nothing changes
// it after New.
type settings struct {
	cfg Config
	out io.Writer // cfg.Stdout, or io.Discard
	// backlog is cfg.Stdout if it is an OutputQueue, else nil.
	backlog OutputQueue
	never   atomic.Bool
	// afterFunc is context.AfterFunc; tests replace it to call the
	// function when they choose, as a late goroutine would.
	afterFunc func(context.Context, func()) func() bool
}

// coldState is what a VM uses rarely, made on first use, to keep a VM
// that waits as a process small.
type coldState struct {
	single    []inst      // the code decoded without fused instructions, for Step
	buf       []byte      // scratch for printing numbers
	mem       *heapMemory // where heap lives; made by the first ALOC
	lastBytes []byte      // the bytes of the last message taken, if it had any
}

// coldPart returns the VM's coldState, making it if need be.
func (m *VM) coldPart() *coldState {
	if m.cold == nil {
		m.cold = &coldState{}
	}
	return m.cold
}

// New returns a VM with no program and every register zero.
func New(cfg Config) *VM {
	if cfg.StackLimit <= 0 {
		cfg.StackLimit = DefaultStackLimit
	}
	if cfg.HeapLimit <= 0 {
		cfg.HeapLimit = DefaultHeapLimit
	}
	out := cfg.Stdout
	if out == nil {
		out = io.Discard
	}
	m := &VM{prog: &Program{}, set: &settings{cfg: cfg, out: out, afterFunc: context.AfterFunc}}
	m.set.backlog, _ = out.(OutputQueue)
	m.interrupted = &m.set.never
	return m
}

// Load makes p the VM's program and sets the program counter to 0. The
// registers, heap and stacks are kept (Reset clears them). The VM keeps p
// and does not modify it; neither may the caller while the VM has it.
func (m *VM) Load(p *Program) {
	m.SetProgram(p)
	m.pc = 0
	m.halted = false
}

// SetProgram makes p the VM's program and keeps the program counter, so a
// program that has grown at its end (as in the REPL) carries on where it
// stopped.
func (m *VM) SetProgram(p *Program) {
	m.prog = p
	m.code = decodeProgram(p.Code, true)
	m.codeShared = false
	if m.cold != nil {
		m.cold.single = nil
	}
}

// Program returns the loaded program.
func (m *VM) Program() *Program { return m.prog }

// Reset clears the registers, the flag, the remainder, the loop counter,
// the heap and both stacks, and sets the program counter to 0. The heap's
// memory goes back to the system and its bytes to the HeapBudget at once;
// a VM no longer used should be Reset (else that happens when the garbage
// collector finds it).
func (m *VM) Reset() {
	m.ResetRegisters()
	if c := m.cold; c != nil {
		if c.mem != nil {
			c.mem.free()
		}
		c.lastBytes = nil
	}
	m.heap, m.stack, m.calls = nil, nil, nil
	m.sp, m.csp = 0, 0
	m.pc, m.halted, m.steps = 0, false, 0
}

// ResetRegisters clears the integer and float registers, the flag, the
// remainder and the loop counter.
func (m *VM) ResetRegisters() {
	m.regs, m.fregs = [NumRegisters]int32{}, [NumRegisters]float64{}
	m.flag, m.rem, m.count = false, 0, 0
}

// Registers returns the integer registers.
func (m *VM) Registers() [NumRegisters]int32 { return m.regs }

// FloatRegisters returns the float registers.
func (m *VM) FloatRegisters() [NumRegisters]float64 { return m.fregs }

// SetRegister sets integer register i, which must be 0 to 31.
func (m *VM) SetRegister(i int, v int32) error {
	if i < 0 || i >= NumRegisters {
		return fmt.Errorf("register %d: registers are 0 to %d", i, NumRegisters-1)
	}
	m.regs[i] = v
	return nil
}

// PC returns the byte address of the next instruction.
func (m *VM) PC() int { return int(m.pc) * InstructionSize }

// SetPC moves the program counter to the byte address addr, which must be
// an instruction boundary within the code or its end.
func (m *VM) SetPC(addr int) error {
	if addr < 0 || addr%InstructionSize != 0 || addr > len(m.prog.Code) {
		return &Fault{Err: ErrJumpOutOfRange, PC: m.PC(), Instr: "set pc",
			Detail: jumpDetail(int64(addr), len(m.prog.Code))}
	}
	m.pc = uint(addr / InstructionSize)
	m.halted = false
	return nil
}

// Flag reports the equal flag.
func (m *VM) Flag() bool { return m.flag }

// Remainder returns the remainder of the last DIV.
func (m *VM) Remainder() int32 { return m.rem }

// HeapSize returns the number of bytes ALOC has given the heap.
func (m *VM) HeapSize() int { return len(m.heap) }

// StackDepth returns the number of values on the stack.
func (m *VM) StackDepth() int { return int(m.sp) }

// Steps returns how many instructions the VM has executed since New or Reset.
func (m *VM) Steps() uint64 { return m.steps }

// Done reports whether the program has halted or run off the end of its
// code, so that Run and Step have nothing to execute.
func (m *VM) Done() bool { return m.halted || m.pc >= uint(len(m.code)) }

// Run executes from the program counter until HLT, the end of the code, a
// fault or the cancellation of ctx. It returns nil on HLT or at the end of
// the code, and a *Fault otherwise (ErrInterrupted, wrapping the context's
// cause, when ctx was cancelled). After HLT, Run carries on from the
// instruction after it; after an interruption, from the instruction it
// stopped at, which has not run.
func (m *VM) Run(ctx context.Context) error {
	if err := context.Cause(ctx); err != nil {
		return m.interruptFault(m.pc, err)
	}
	interrupted := new(atomic.Bool)
	m.interrupted = interrupted
	defer func() { m.interrupted = &m.set.never }()
	stop := m.set.afterFunc(ctx, func() { interrupted.Store(true) })
	defer stop()
	m.halted = false
	err := m.exec(m.code, ^uint64(0))
	for err == errBacklog { // Run has no slice to end: it carries on
		err = m.exec(m.code, ^uint64(0))
	}
	if err == errWait || err == errStop {
		err = m.fault(m.pc, ErrNoRuntime, "Run cannot wait for a message or stop a process; a scheduler runs processes with RunSlice")
	}
	if err != nil && interrupted.Load() {
		if f, ok := err.(*Fault); ok && f.Err == ErrInterrupted {
			f.Cause = context.Cause(ctx)
		}
	}
	return err
}

// Step executes one instruction. It does nothing when Done.
func (m *VM) Step() error {
	if m.Done() {
		return nil
	}
	c := m.coldPart()
	if c.single == nil {
		c.single = decodeProgram(m.prog.Code, false)
	}
	if err := m.exec(c.single, 1); err != errBacklog {
		return err
	}
	return nil
}

func (m *VM) interruptFault(pc uint, cause error) *Fault {
	return &Fault{Err: ErrInterrupted, PC: int(pc) * InstructionSize, Instr: m.instrText(pc), Cause: cause}
}
