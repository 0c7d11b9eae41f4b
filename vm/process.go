package vm

import (
	"errors"
	"fmt"
	"io"
	"unsafe"
)

// MessageKind says what a message carries; RECV puts it in its first
// register.
type MessageKind int32

// The kinds of message.
const (
	MsgInt   MessageKind = 0 // an integer
	MsgPID   MessageKind = 1 // a PID
	MsgDown  MessageKind = 2 // a down notice: the value is the reason, From the process that ended
	MsgBytes MessageKind = 3 // bytes from a heap: the value is their length
)

// MaxMessageBytes is the most bytes SENDB sends in one message.
const MaxMessageBytes = 1 << 20

// Message is one message in a mailbox.
type Message struct {
	Kind  MessageKind
	Value int32
	From  int32  // the sender's PID
	Bytes []byte // the bytes of a MsgBytes message, owned by the message
}

// RecvStatus is what Runtime.Receive found.
type RecvStatus uint8

// The results of Runtime.Receive.
const (
	RecvWait    RecvStatus = iota // no message: the VM stops, to run RECV again when woken
	RecvGot                       // a message was taken
	RecvTimeout                   // RECVT's time ran out with no message
)

// Runtime is what the process instructions (SPAWN, SELF, SEND, SENDP,
// SENDB, RECV, RECVT, MONITOR, KILL) call: the scheduler that runs this
// VM as one of its processes. A VM without one faults on them with
// ErrNoRuntime. Its methods are called only from the VM's own RunSlice.
type Runtime interface {
	// Self returns this process's PID, which is never 0.
	Self() int32
	// Spawn starts child, made by this VM for SPAWN, as a new process
	// and returns its PID, or an error (such as a memory budget spent)
	// that faults the SPAWN.
	Spawn(child *VM) (int32, error)
	// Send puts msg (From already set) in the mailbox of the process to,
	// or drops it; it never waits. It reports whether the way to the
	// process is backlogged (a full outbox toward another node): the
	// message is sent, and RunSlice returns Backlogged at once, past the
	// send, so that the scheduler holds the process back until there is
	// room.
	Send(to int32, msg Message) (backlogged bool)
	// Receive takes the oldest message. With none it returns RecvWait,
	// having arranged to make the process runnable when one arrives or,
	// for timeoutMS >= 0, when that many milliseconds have passed since
	// the first Receive of this wait; it then returns RecvTimeout. After
	// RecvWait the VM calls nothing more: RunSlice returns Waiting at
	// once, and the RECV runs again when the process next runs.
	Receive(timeoutMS int32) (Message, RecvStatus)
	// Monitor asks for a down notice when the process pid ends.
	Monitor(pid int32)
	// Kill ends the process pid. It reports whether that is this
	// process, which then stops at once.
	Kill(pid int32) (self bool)
	// Register gives this process the name, for REG; an error (a bad
	// name, a name taken, a process named already) faults the REG.
	Register(name string) error
	// Whereis returns, for WHEREIS, the PID registered under name:
	// "NAME" on this node, "NAME@ALIAS" on the member ALIAS; 0 if there
	// is none. With done false the answer is not in yet and the process
	// waits as after RecvWait: the VM calls nothing more and runs the
	// WHEREIS again when the process next runs. An error (a bad name)
	// faults the WHEREIS.
	Whereis(name string) (pid int32, done bool, err error)
}

// ErrNoRuntime is the fault of a process instruction on a VM that is not
// a process of a scheduler.
var ErrNoRuntime = errors.New("process instruction outside a scheduler")

// ErrSpawn is the fault of a SPAWN the runtime refused.
var ErrSpawn = errors.New("cannot spawn")

// ErrBadMessage is the fault of a TAKEB when the last message taken holds
// no bytes.
var ErrBadMessage = errors.New("no bytes in the last message")

// errWait and errStop end a slice without a fault: the process waits for
// a message, or has been killed and stops.
var (
	errWait = errors.New("waiting for a message")
	errStop = errors.New("stopped")
	// errBacklog ends a slice after a print that left an OutputQueue
	// backlogged, or a send the runtime found backlogged; the print or
	// send is done and the program counter past it.
	errBacklog = errors.New("output backlogged")
)

// OutputQueue is what a Config.Stdout may also be: a bounded queue that
// another goroutine drains to the real destination. After a print that
// leaves it Backlogged, RunSlice returns Backlogged at once, past the print,
// so that the scheduler can hold the process back until the queue has
// room rather than block a thread on a slow terminal or socket. Run and
// Step carry on.
type OutputQueue interface {
	io.Writer
	// Backlogged reports whether the queue holds as much as it should.
	Backlogged() bool
}

// Stop says why RunSlice returned.
type Stop uint8

// The reasons RunSlice returns.
const (
	Yielded Stop = iota // the budget was spent: the process can run on
	Waiting             // at RECV or RECVT with no message: run again when the runtime wakes it
	Ended               // HLT or the end of the code
	Faulted             // a fault, returned as the error
	Killed              // the process killed itself
	// Backlogged: the process printed into a full OutputQueue; it can
	// run on once the queue has room.
	Backlogged
)

// String names the stop as a process state might.
func (s Stop) String() string {
	switch s {
	case Yielded:
		return "yielded"
	case Waiting:
		return "waiting"
	case Ended:
		return "ended"
	case Faulted:
		return "faulted"
	case Killed:
		return "killed"
	case Backlogged:
		return "backlogged"
	}
	return fmt.Sprintf("stop(%d)", uint8(s))
}

// SetRuntime makes rt the runtime of the VM's process instructions.
func (m *VM) SetRuntime(rt Runtime) { m.rt = rt }

// RunSlice runs the VM as a process for about budget instructions (as a
// step limit, see exec) and says why it stopped. HLT ends the process, as
// does running off the end of the code. It does not watch a context:
// the scheduler that calls it bounds each run by the budget.
func (m *VM) RunSlice(budget uint64) (Stop, error) {
	err := m.exec(m.code, budget)
	switch {
	case err == errBacklog && !m.halted && m.pc < uint(len(m.code)):
		return Backlogged, nil
	case err == errWait:
		return Waiting, nil
	case err == errStop:
		return Killed, nil
	case err != nil && err != errBacklog:
		return Faulted, err
	case m.halted || m.pc >= uint(len(m.code)):
		return Ended, nil
	}
	return Yielded, nil
}

// fork returns a new VM for SPAWN: the same program and configuration,
// a copy of the registers, the program counter at instruction index pc,
// and nothing else. The decoded code is shared, so it is marked so that
// AppendProgram copies it rather than change it in place.
func (m *VM) fork(pc uint) *VM {
	m.codeShared = true
	c := &VM{regs: m.regs, fregs: m.fregs, pc: pc, prog: m.prog, code: m.code, codeShared: true,
		set: m.set}
	c.interrupted = &m.set.never
	return c
}

// processStep runs the process instruction in at index pc and returns the
// index of the next one.
func (m *VM) processStep(pc uint, in *inst) (uint, error) {
	rt := m.rt
	if rt == nil {
		return 0, m.fault(pc, ErrNoRuntime, "run it with iridium FILE, or !spawn it in the shell")
	}
	r := &m.regs
	switch in.op() {
	case SPAWN:
		target := int64(r[in.a()])
		if target < 0 || target%InstructionSize != 0 || target > int64(len(m.prog.Code)) {
			return 0, m.fault(pc, ErrJumpOutOfRange, jumpDetail(target, len(m.prog.Code)))
		}
		pid, err := rt.Spawn(m.fork(uint(target / InstructionSize)))
		if err != nil {
			f := m.fault(pc, ErrSpawn, "")
			f.Cause = err
			return 0, f
		}
		r[in.b()] = pid
	case SELF:
		r[in.a()] = rt.Self()
	case SEND:
		if rt.Send(r[in.a()], Message{Kind: MsgInt, Value: r[in.b()], From: rt.Self()}) {
			return pc + 1, errBacklog
		}
	case SENDP:
		if rt.Send(r[in.a()], Message{Kind: MsgPID, Value: r[in.b()], From: rt.Self()}) {
			return pc + 1, errBacklog
		}
	case SENDB:
		off, n := r[in.b()], r[in.c()]
		if n < 0 || n > MaxMessageBytes {
			return 0, m.fault(pc, ErrBadOperand, fmt.Sprintf("%d bytes: a message holds 0 to %d", n, MaxMessageBytes))
		}
		if off < 0 || int(off)+int(n) > len(m.heap) {
			return 0, m.fault(pc, ErrHeapOutOfRange, fmt.Sprintf("%d bytes at offset %d, heap is %d bytes", n, off, len(m.heap)))
		}
		data := make([]byte, n) // not nil, even empty: TAKEB tells bytes by it
		copy(data, m.heap[off:])
		if rt.Send(r[in.a()], Message{Kind: MsgBytes, Value: n, From: rt.Self(), Bytes: data}) {
			return pc + 1, errBacklog
		}
	case RECV, RECVT:
		timeout, kind, value := int32(-1), in.a(), in.b()
		if in.op() == RECVT {
			timeout, kind, value = max(r[in.a()], 0), in.b(), in.c()
		}
		msg, status := rt.Receive(timeout)
		switch status {
		case RecvWait:
			return 0, errWait
		case RecvTimeout:
			r[kind] = -1
			return pc + 1, nil
		}
		r[kind], r[value] = int32(msg.Kind), msg.Value
		m.from = msg.From
		if msg.Bytes != nil || m.cold != nil {
			m.coldPart().lastBytes = msg.Bytes
		}
	case FROM:
		r[in.a()] = m.from
	case MONITOR:
		rt.Monitor(r[in.a()])
	case KILL:
		if rt.Kill(r[in.a()]) {
			return 0, errStop
		}
	case TAKEB:
		var data []byte
		if m.cold != nil {
			data = m.cold.lastBytes
		}
		if data == nil {
			return 0, m.fault(pc, ErrBadMessage, "")
		}
		off, n := r[in.a()], len(data)
		if off < 0 || int(off)+n > len(m.heap) {
			return 0, m.fault(pc, ErrHeapOutOfRange, fmt.Sprintf("%d bytes at offset %d, heap is %d bytes", n, off, len(m.heap)))
		}
		copy(m.heap[off:], data)
	default:
		return 0, m.fastDisagrees(pc)
	}
	return pc + 1, nil
}

// Footprint estimates the bytes of memory the VM holds: itself, its heap,
// its stack and its call stack.
func (m *VM) Footprint() int {
	n := int(unsafe.Sizeof(*m)) + len(m.heap) + 4*cap(m.stack) + 4*cap(m.calls)
	if c := m.cold; c != nil {
		n += int(unsafe.Sizeof(*c)) + cap(c.buf) + len(c.lastBytes)
	}
	return n
}

// InterruptFault returns the fault of a run stopped from outside at the
// instruction the VM stands at, with cause; a scheduler's owner uses it
// for a process it stopped.
func (m *VM) InterruptFault(cause error) *Fault { return m.interruptFault(m.pc, cause) }
