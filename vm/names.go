package vm

import (
	"bytes"
	"errors"
	"fmt"
)

// MaxNameText is the most bytes REG and WHEREIS read for a name at a
// label, its terminating zero byte not counted: room for a name and a
// member's alias, NAME@ALIAS, with more to spare than either allows, so
// that the runtime, not the VM, says what is wrong with a long one.
const MaxNameText = 255

// The faults of the name instructions; the runtime's error, which says
// what was wrong with the name, is the fault's Cause.
var (
	ErrRegister = errors.New("cannot register the name")
	ErrWhereis  = errors.New("cannot look the name up")
)

// nameStep runs REG or WHEREIS, the instructions of registered names, at
// index pc and returns the index of the next one.
func (m *VM) nameStep(pc uint, in *inst) (uint, error) {
	rt := m.rt
	if rt == nil {
		return 0, m.fault(pc, ErrNoRuntime, "run it with iridium FILE, or !spawn it in the shell")
	}
	name, err := m.nameAt(pc, int(in.imm))
	if err != nil {
		return 0, err
	}
	if in.op() == REG {
		if err := rt.Register(name); err != nil {
			f := m.fault(pc, ErrRegister, "")
			f.Cause = err
			return 0, f
		}
		return pc + 1, nil
	}
	pid, done, err := rt.Whereis(name)
	switch {
	case err != nil:
		f := m.fault(pc, ErrWhereis, "")
		f.Cause = err
		return 0, f
	case !done:
		return 0, errWait
	}
	m.regs[in.a()] = pid
	return pc + 1, nil
}

// nameAt returns the zero-terminated string at read-only offset off, of
// at most MaxNameText bytes.
func (m *VM) nameAt(pc uint, off int) (string, error) {
	ro := m.prog.ReadOnly
	if off >= len(ro) {
		return "", m.fault(pc, ErrDataOutOfRange, fmt.Sprintf("offset %d, read-only data is %d bytes", off, len(ro)))
	}
	n := bytes.IndexByte(ro[off:min(len(ro), off+MaxNameText+1)], 0)
	if n < 0 {
		return "", m.fault(pc, ErrDataOutOfRange, fmt.Sprintf("the name at offset %d has no terminating zero byte within %d bytes", off, MaxNameText+1))
	}
	return string(ro[off : off+n]), nil
}
