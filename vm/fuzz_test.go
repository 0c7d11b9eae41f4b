package vm

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// FuzzExec runs arbitrary bytes as code, with the first byte choosing how
// many of the rest are read-only data. The machine must end every run with
// nil or a *Fault, never a panic, within the step budget; and the code
// that Run uses (with fused compare-and-jump pairs) must end in the same
// state as the code that Step uses.
func FuzzExec(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 1, 0, 1, 2, 5, 0, 0, 0})                // load, add, hlt
	f.Add([]byte{0, 18, 0, 0, 0, 10, 0, 1, 0, 20, 0, 0, 0})          // an endless loop
	f.Add([]byte{4, 'h', 'i', 0, 0, 21, 0, 0, 0, 45, 0, 0, 0})       // prts, pop on empty
	f.Add([]byte{0, 0, 0, 0x10, 0, 17, 0, 0, 0, 43, 1, 0, 0, 42, 1}) // aloc, setm, truncated loadm
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		split := min(int(data[0]), len(data)-1)
		p := &Program{ReadOnly: data[1 : 1+split], Code: data[1+split:]}
		m, out, err := fuzzRun(p, true)
		single, singleOut, singleErr := fuzzRun(p, false)
		if m.Steps() < 10_000 && (fmt.Sprint(err) != fmt.Sprint(singleErr) || out != singleOut ||
			m.regs != single.regs || m.flag != single.flag || m.pc != single.pc || m.Steps() != single.Steps()) {
			t.Fatalf("fused and single code differ:\nfused:  %v, pc %d, steps %d, regs %v\nsingle: %v, pc %d, steps %d, regs %v",
				err, m.pc, m.Steps(), m.regs, singleErr, single.pc, single.Steps(), single.regs)
		}
		var fault *Fault
		if err != nil && !errors.As(err, &fault) {
			t.Fatalf("run ended with %T %v, want a *Fault", err, err)
		}
		if fault != nil && (fault.PC < 0 || fault.PC > len(p.Code) || fault.Instr == "") {
			t.Fatalf("fault %q has pc %d or no instruction, code is %d bytes", fault, fault.PC, len(p.Code))
		}
		if m.Steps() > 10_001 {
			t.Fatalf("%d steps, over the budget of 10000 (and one for a fused pair)", m.Steps())
		}
	})
}

// fuzzRun runs p for at most 10000 instructions on a fresh VM with small
// limits, on fused or single code.
func fuzzRun(p *Program, fuse bool) (*VM, string, error) {
	var out bytes.Buffer
	m := New(Config{Stdout: &out, StackLimit: 64, HeapLimit: 1 << 12})
	m.Load(p)
	code := m.code
	if !fuse {
		code = decodeProgram(p.Code, false)
	}
	err := m.exec(code, 10_000)
	return m, out.String(), err
}

// FuzzDecodeProgram feeds arbitrary bytes to the bytecode file decoder: it
// must refuse or accept without panicking, and what it accepts must encode
// back to the same bytes.
func FuzzDecodeProgram(f *testing.F) {
	good, _ := (&Program{ReadOnly: []byte("hi\x00"), Code: []byte{21, 0, 0, 0, 5, 0, 0, 0}}).MarshalBinary()
	f.Add(good)
	f.Add(good[:HeaderSize])
	f.Add([]byte("EPIE"))
	f.Add([]byte("not bytecode at all"))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := DecodeProgram(data)
		if err != nil {
			if p != nil {
				t.Fatal("a refused file also returned a program")
			}
			return
		}
		again, err := p.MarshalBinary()
		if err != nil || !bytes.Equal(again, data) {
			t.Fatalf("accepted file does not encode back to itself: %v", err)
		}
	})
}
