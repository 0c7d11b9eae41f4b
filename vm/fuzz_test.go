package vm

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// FuzzExec runs arbitrary bytes as code, with the first byte choosing how
// many of the rest are read-only data. The machine must end every run with
// nil or a *Fault, never a panic, within the step budget; and the code
// that Run uses (with fused instructions, see fuse.go) must end in the
// same state as the plain code that Step uses. The seeds hold every fused
// form (TestFuzzSeedsFuseEverything).
func FuzzExec(f *testing.F) {
	for _, seed := range fuzzSeeds(f) {
		f.Add(seed)
	}
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
		// A limit is checked at jumps and at the end of the first straight
		// run, and a fused instruction counts whole (see exec).
		if budget := 10_000 + uint64(len(p.Code))/InstructionSize + 2; m.Steps() > budget {
			t.Fatalf("%d steps, over the budget of %d", m.Steps(), budget)
		}
	})
}

// TestLimitCutAfterJumpForward: with a step limit, a jump forward can end
// a straight run at the limit's cut before the limit is reached; the run
// must carry on there, fused or not, and stop once past the limit.
func TestLimitCutAfterJumpForward(t *testing.T) {
	src := "eq $0 $0; djmpe @200" + strings.Repeat("; inc $0", 198)
	p := &Program{Code: enc(t, src)}
	for _, fuse := range []bool{true, false} {
		m := New(Config{})
		m.Load(p)
		code := m.code
		if !fuse {
			code = decodeProgram(p.Code, false)
		}
		if err := m.exec(code, 100); err != nil {
			t.Fatalf("fused %v: %v", fuse, err)
		}
		if m.Steps() < 100 || m.Steps() > 102 || m.Registers()[0] != int32(m.Steps()-2) {
			t.Errorf("fused %v: %d steps, $0 = %d; want 100 to 102 steps, $0 two less", fuse, m.Steps(), m.Registers()[0])
		}
	}
}

// fuzzSeeds are FuzzExec's seeds: a few programs, and for each fused
// instruction a loop that decodes to it. The first byte of each is the
// length of the read-only data.
func fuzzSeeds(tb testing.TB) [][]byte {
	seeds := [][]byte{
		{0, 0, 0, 0, 1, 0, 1, 2, 5, 0, 0, 0},                // load, add, hlt
		{0, 18, 0, 0, 0, 10, 0, 1, 0, 20, 0, 0, 0},          // an endless loop
		{4, 'h', 'i', 0, 0, 21, 0, 0, 0, 45, 0, 0, 0},       // prts, pop on empty
		{0, 0, 0, 0x10, 0, 17, 0, 0, 0, 43, 1, 0, 0, 42, 1}, // aloc, setm, truncated loadm
	}
	// load $1 #5; load $2 #1; top: PRE; CMP $0 $1; djmpe @top; hlt
	pres := [][]byte{
		{byte(DEC), 3, 0, 0},  // not fused: a plain compare-and-jump
		{byte(INC), 0, 0, 0},  // inc $0
		{byte(LOAD), 0, 0, 9}, // load $0 #9
		{byte(ADD), 0, 2, 0},  // add $0 $2 $0
	}
	for _, cmp := range intCompare {
		for _, pre := range pres {
			seeds = append(seeds, cat([]byte{0, byte(LOAD), 1, 0, 5, byte(LOAD), 2, 0, 1}, pre,
				[]byte{byte(cmp), 0, 1, 0, byte(DJMPE), 0, 0, 8, byte(HLT), 0, 0, 0}))
		}
	}
	// loadf64 $1 #5; loadf64 $2 #1; top: addf64 $0 $2 $0; CMP $0 $1; djmpe @top; hlt
	for _, cmp := range floatCompare {
		seeds = append(seeds, []byte{0, byte(LOADF64), 1, 0, 5, byte(LOADF64), 2, 0, 1, byte(ADDF64), 0, 2, 0,
			byte(cmp), 0, 1, 0, byte(DJMPE), 0, 0, 8, byte(HLT), 0, 0, 0})
	}
	// Pairs, and their faults.
	for _, code := range []string{
		"load $2 #5; add $2 $1 $3; load $2 #5; sub $2 $1 $3; load $2 #5; mul $2 $1 $3; hlt",
		"load $1 #3; push $1; pop $2; push $3; pop $4; add $4 $2 $5; pop $2; push $3",
		"pop $2; add $2 $1 $3",
		"call @12; call @20; hlt; inc $0; ret; add $0 $1 $0; ret; inc $0; ret",
		"add $0 $1 $0; ret",
	} {
		seeds = append(seeds, append([]byte{0}, enc(tb, code)...))
	}
	return seeds
}

// TestFuzzSeedsFuseEverything checks that FuzzExec's seeds, decoded as Run
// decodes them, hold every fused opcode, so that the fuzzer compares each
// with the plain instructions it stands for.
func TestFuzzSeedsFuseEverything(t *testing.T) {
	seen := map[Opcode]bool{}
	for _, seed := range fuzzSeeds(t) {
		split := min(int(seed[0]), len(seed)-1)
		for _, in := range decodeProgram(seed[1+split:], true) {
			seen[in.op()] = true
		}
	}
	for op := opEQJ; op <= opLast; op++ {
		if !seen[op] {
			t.Errorf("no seed of FuzzExec decodes to fused opcode %d", op)
		}
	}
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
