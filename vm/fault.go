package vm

import (
	"errors"
	"fmt"
)

// The faults a run can end with. A run's error wraps one of them in a
// *Fault; test with errors.Is.
var (
	ErrDivisionByZero       = errors.New("division by zero")
	ErrHeapOutOfRange       = errors.New("heap access out of range")
	ErrHeapLimit            = errors.New("heap limit exceeded")
	ErrStackOverflow        = errors.New("stack overflow")
	ErrStackEmpty           = errors.New("pop on an empty stack")
	ErrReturnWithoutCall    = errors.New("ret without call")
	ErrJumpOutOfRange       = errors.New("jump outside the code")
	ErrUnknownOpcode        = errors.New("unknown opcode")
	ErrIllegalInstruction   = errors.New("illegal instruction")
	ErrTruncatedInstruction = errors.New("truncated instruction")
	ErrBadRegister          = errors.New("register number over 31")
	ErrBadOperand           = errors.New("operand out of range")
	ErrDataOutOfRange       = errors.New("read-only data access out of range")
	ErrFloatConversion      = errors.New("float does not fit an integer register")
	ErrOutput               = errors.New("cannot write output")
	ErrInterrupted          = errors.New("interrupted")
)

// Fault is the error that ends a run: what went wrong, where, and in which
// instruction.
type Fault struct {
	Err    error  // one of the Err* values above
	PC     int    // byte address of the instruction
	Instr  string // the instruction, disassembled, or its bytes in hex if it does not decode
	Detail string // more about the cause, may be empty
	Cause  error  // an underlying error (a write error, a context's cause), may be nil
}

// Error reads like "pc 12: div $0 $1 $2: division by zero ($1 is 0)".
func (f *Fault) Error() string {
	msg := fmt.Sprintf("pc %d: %s: %v", f.PC, f.Instr, f.Err)
	if f.Detail != "" {
		msg += " (" + f.Detail + ")"
	}
	if f.Cause != nil {
		msg += ": " + f.Cause.Error()
	}
	return msg
}

// Unwrap gives errors.Is and errors.As both the fault kind and the cause.
func (f *Fault) Unwrap() []error {
	if f.Cause != nil {
		return []error{f.Err, f.Cause}
	}
	return []error{f.Err}
}
