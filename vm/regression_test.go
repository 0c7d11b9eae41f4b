package vm_test

// Regression tests: each was written as a failing test for a bug found
// while testing, and is named after it.

import (
	"bytes"
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/iridium-vm/iridium/vm"
	"github.com/iridium-vm/iridium/vm/asm"
)

// vm/asm: a LOADF64 of a negative whole number that fits 16 bits is
// assembled as LDF64 from a read-only offset (bit 31 of the operand value
// doubles as the "float constant" flag), so "loadf64 $0 #-3" becomes
// "ldf64 $f0 @Dfffd" and faults, or reads garbage from large data.
func TestBugAsmLoadF64NegativeBecomesLDF64(t *testing.T) {
	for _, tc := range []struct {
		src  string
		want []byte
		f0   float64
	}{
		{"loadf64 $0 #-3", []byte{byte(vm.LOADF64), 0, 0xff, 0xfd}, -3},
		{"loadf64 $0 #-1", []byte{byte(vm.LOADF64), 0, 0xff, 0xff}, -1},
		{"loadf64 $0 #-32768", []byte{byte(vm.LOADF64), 0, 0x80, 0x00}, -32768},
		{"loadf64 $0 #-2.0", []byte{byte(vm.LOADF64), 0, 0xff, 0xfe}, -2},
	} {
		p, err := asm.Assemble("t", tc.src)
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		if !bytes.Equal(p.Code, tc.want) {
			t.Errorf("%s assembles to % x (%s), want % x (%s)", tc.src, p.Code, vm.DisassembleInstruction(p.Code), tc.want, vm.DisassembleInstruction(tc.want))
		}
		m := vm.New(vm.Config{})
		m.Load(p)
		if err := m.Run(context.Background()); err != nil || m.FloatRegisters()[0] != tc.f0 {
			t.Errorf("%s: Run = %v, $f0 = %v; want nil, %v", tc.src, err, m.FloatRegisters()[0], tc.f0)
		}
	}
}

// vm/disasm.go writeData: where an instruction's target cuts a run of
// bytes that has no zero byte before the target, the bytes before it are
// only written as a hex comment (lost when the listing is assembled), or,
// when the target's first byte is 0, that byte is taken as the run's
// terminator and the target never gets its label. Both come from an
// assembled program with a .float that no LDF64 reads.
func TestBugDisassembleRoundTripUnusedFloat(t *testing.T) {
	for name, src := range map[string]string{
		"unused float before a string": ".data\npi: .float #3.14\nhi: .asciiz 'hi'\n.code\nprts @hi\n",
		"unused float before a float":  ".data\npi: .float #3.14\nhalf: .float #2.5\n.code\nloadf64 $f0 @half\n",
	} {
		t.Run(name, func(t *testing.T) {
			p, err := asm.Assemble(name, src)
			if err != nil {
				t.Fatal(err)
			}
			listing := vm.Disassemble(p, vm.Names{})
			q, err := asm.Assemble("listing", listing)
			if err != nil {
				t.Fatalf("the listing does not assemble: %v\n%s", err, listing)
			}
			if !bytes.Equal(q.Code, p.Code) || !bytes.Equal(q.ReadOnly, p.ReadOnly) {
				t.Errorf("round trip changed the program:\ncode % x -> % x\ndata % x -> % x\nlisting:\n%s", p.Code, q.Code, p.ReadOnly, q.ReadOnly, listing)
			}
		})
	}
}

// vm/disasm.go Names.instruction: the doc says bytes that are not a valid
// instruction come back as "igl ; ..." with the reason, but a register
// number over 31 is disassembled as if valid ("add $32 $0 $0", which the
// assembler refuses), though the VM traps it with ErrBadRegister.
func TestBugDisassembleBadRegisterNotIgl(t *testing.T) {
	for _, raw := range [][]byte{
		{byte(vm.ADD), 32, 0, 0},
		{byte(vm.ADDF64), 0, 0, 40},
		{byte(vm.PUSH), 255, 0, 0},
	} {
		got := vm.DisassembleInstruction(raw)
		if !strings.HasPrefix(got, "igl ; ") {
			t.Errorf("DisassembleInstruction(% x) = %q, want igl ; ... (register over 31)", raw, got)
		}
	}
}

// vm/disasm.go Names.instruction, case Bits: a shift count byte of 0 means
// 16 (isa.go, decode.go), but it is disassembled as "#0", which reads as
// no shift and which the assembler refuses (1 to 31).
func TestBugDisassembleShiftZeroMeans16(t *testing.T) {
	for raw, want := range map[[4]byte]string{
		{byte(vm.SHL), 1, 0, 0}: "shl $1 #16",
		{byte(vm.SHR), 2, 0, 0}: "shr $2 #16",
	} {
		if got := vm.DisassembleInstruction(raw[:]); got != want {
			t.Errorf("DisassembleInstruction(% x) = %q, want %q", raw, got, want)
		}
		p, err := asm.Assemble("listing", vm.Disassemble(&vm.Program{Code: raw[:]}, vm.Names{}))
		if err != nil {
			t.Errorf("the listing of % x does not assemble: %v", raw, err)
			continue
		}
		m := vm.New(vm.Config{})
		if err := m.SetRegister(int(raw[1]), 3); err != nil {
			t.Fatal(err)
		}
		m.Load(p)
		if err := m.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got, want := m.Registers()[raw[1]], map[byte]int32{byte(vm.SHL): 3 << 16, byte(vm.SHR): 0}[raw[0]]; got != want {
			t.Errorf("reassembled % x computes %d, want %d", raw, got, want)
		}
	}
}

// vm/exec.go registerJump (and vm.go SetPC): the bound is the number of
// decoded instructions, rounded up, not the code's byte length, so with a
// truncated last instruction a jump to the next multiple of 4 past the
// end of the code is accepted and ends the run normally instead of
// faulting with ErrJumpOutOfRange.
func TestBugJumpPastTruncatedCodeEnd(t *testing.T) {
	// load $0 #12; jmp $0; then 2 stray bytes: the code is 10 bytes.
	code := []byte{byte(vm.LOAD), 0, 0, 12, byte(vm.JMP), 0, 0, 0, byte(vm.HLT), 0}
	m := vm.New(vm.Config{})
	m.Load(&vm.Program{Code: code})
	err := m.Run(context.Background())
	if !errors.Is(err, vm.ErrJumpOutOfRange) {
		t.Errorf("jmp to 12 in 10 bytes of code: Run = %v, want ErrJumpOutOfRange", err)
	}
	m.Load(&vm.Program{Code: code})
	if err := m.SetPC(12); !errors.Is(err, vm.ErrJumpOutOfRange) {
		t.Errorf("SetPC(12) in 10 bytes of code = %v, want ErrJumpOutOfRange", err)
	}
}

// vm/disasm.go writeData: a float constant that is NaN or ±Inf is listed
// as ".float #NaN" / ".float #+Inf", which the assembler cannot read, so
// the listing of such a program does not assemble ("Assembling the
// listing gives back the same code").
func TestBugDisassembleNonFiniteFloat(t *testing.T) {
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		ro := make([]byte, 8)
		bits := math.Float64bits(v)
		for i := range ro {
			ro[i] = byte(bits >> (8 * i))
		}
		p := &vm.Program{ReadOnly: ro, Code: []byte{byte(vm.LDF64), 0, 0, 0}}
		listing := vm.Disassemble(p, vm.Names{})
		q, err := asm.Assemble("listing", listing)
		if err != nil {
			t.Errorf("listing with %v does not assemble: %v", v, err)
			continue
		}
		if !bytes.Equal(q.Code, p.Code) || !bytes.Equal(q.ReadOnly, p.ReadOnly) {
			t.Errorf("round trip of %v changed the program", v)
		}
	}
}
