package vm

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"
)

// limitPrograms are small loops that the decoder fuses, one or more per
// family of fuse.go, for TestLimitedSlicesMatchRun; want lists the fused
// opcodes each must decode to, so that a change to the fuser cannot
// quietly leave a family untested.
var limitPrograms = []struct {
	name string
	src  string
	want []Opcode
}{
	{"inc compare jump", // 0 load; 4 inc; 8 lt; 12 djmpe; 16 hlt
		"load $1 #20; inc $0; lt $0 $1; djmpe @4; hlt",
		[]Opcode{opINCLTJ, opLTJ}},
	{"inc compare jump printing", // 4 prti; 8 inc; 12 neq; 16 djmpe
		"load $1 #7; prti $0; inc $0; neq $0 $1; djmpe @4; hlt",
		[]Opcode{opINCNEQJ, opNEQJ}},
	{"load compare jump", // 4 add; 8 load; 12 gte; 16 djmpe
		"load $3 #1; add $0 $3 $0; load $2 #15; gte $2 $0; djmpe @4; hlt",
		[]Opcode{opLOADGTEJ, opGTEJ}},
	{"add compare jump", // 8 add; 12 lte; 16 djmpe
		"load $3 #2; load $1 #30; add $0 $3 $0; lte $0 $1; djmpe @8; hlt",
		[]Opcode{opADDLTEJ, opLTEJ}},
	{"compare and jump", // 4 dec; 8 gt; 12 djmpe
		"load $1 #10; dec $1; gt $1 $0; djmpe @4; hlt",
		[]Opcode{opGTJ}},
	{"inc equal jump", // 4 inc; 8 eq; 12 djmpe; 16 load; 20 jmp
		"load $1 #12; inc $0; eq $0 $1; djmpe @24; load $9 #4; jmp $9; hlt",
		[]Opcode{opINCEQJ, opEQJ}},
	{"float compare and jump", // 8 addf64; 12 ltf64; 16 djmpe
		"loadf64 $1 #5; loadf64 $2 #1; addf64 $0 $2 $0; ltf64 $0 $1; djmpe @8; itof $3 $4; hlt",
		[]Opcode{opFLTJ}},
	{"load add, load sub", // 4 load; 8 add; 12 load; 16 sub; 20 gt; 24 djmpe
		"load $1 #10; load $2 #3; add $0 $2 $0; load $2 #1; sub $1 $2 $1; gt $1 $9; djmpe @4; hlt",
		[]Opcode{opLOADADD, opLOADSUB, opGTJ}},
	{"load mul", // 8 load; 12 mul; 16 dec; 20 gt; 24 djmpe
		"load $1 #6; load $0 #1; load $2 #2; mul $0 $2 $0; dec $1; gt $1 $9; djmpe @8; prti $0; hlt",
		[]Opcode{opLOADMUL, opGTJ}},
	{"pop push, pop add", // 8 pop; 12 push; 16 pop; 20 add; 24 push; 28 dec; 32 gt; 36 djmpe
		"load $1 #5; push $0; pop $2; push $2; pop $3; add $3 $1 $4; push $4; dec $1; gt $1 $9; djmpe @8; hlt",
		[]Opcode{opPOPPUSH, opPOPADD, opGTJ}},
	{"inc ret, add ret", // 4 call; 8 call; 12 dec; 16 gt; 20 djmpe; 24 hlt; 28 inc; 32 ret; 36 add; 40 ret
		"load $1 #6; call @28; call @36; dec $1; gt $1 $9; djmpe @4; hlt; inc $0; ret; add $0 $1 $0; ret",
		[]Opcode{opINCRET, opADDRET, opGTJ}},
}

// runWhole runs p with Run on a fresh VM and returns it and its output.
func runWhole(t *testing.T, p *Program) (*VM, string) {
	t.Helper()
	var out bytes.Buffer
	m := New(Config{Stdout: &out})
	m.Load(p)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := m.Run(ctx); err != nil {
		t.Fatalf("Run: %v", err)
	}
	return m, out.String()
}

// TestLimitedSlicesMatchRun runs each of limitPrograms in slices of k steps
// on the fused code, as FuzzExec's limited runs do, until it is done. No
// slice may panic or fault; each must keep exec's promise on the limit;
// each must leave the machine as that many single Steps of the plain code
// leave it; and the end must be that of one whole Run.
func TestLimitedSlicesMatchRun(t *testing.T) {
	for _, tt := range limitPrograms {
		p := &Program{Code: enc(t, tt.src)}
		fusedOps := map[Opcode]bool{}
		for _, in := range decodeProgram(p.Code, true) {
			fusedOps[in.op()] = true
		}
		for _, op := range tt.want {
			if !fusedOps[op] {
				t.Fatalf("does not decode to fused opcode %d", op)
			}
		}
		whole, wholeOut := runWhole(t, p)
		for _, k := range []uint64{1, 2, 3, 5} {
			t.Run(fmt.Sprintf("%s/%d", tt.name, k), func(t *testing.T) { checkSlices(t, p, k, whole, wholeOut) })
		}
	}
}

// checkSlices runs p in slices of k steps for TestLimitedSlicesMatchRun;
// whole and wholeOut are the VM and output of a whole Run.
func checkSlices(t *testing.T, p *Program, k uint64, whole *VM, wholeOut string) {
	var out, shadowOut bytes.Buffer
	m := New(Config{Stdout: &out})
	m.Load(p)
	shadow := New(Config{Stdout: &shadowOut}) // runs the plain code a Step at a time
	shadow.Load(p)
	for slice := 0; !m.Done(); slice++ {
		if slice > 10_000 {
			t.Fatalf("not done after %d slices", slice)
		}
		pc, before := m.pc, m.steps
		plain := m.code[pc].op() < opEQJ
		if err := execNoPanic(m, k); err != nil {
			t.Fatalf("slice %d at pc %d: %v", slice, pc*InstructionSize, err)
		}
		took := m.steps - before
		straight := true // no jump in the first k steps
		for i := uint64(0); shadow.Steps() < m.Steps() && !shadow.Done(); i++ {
			from := shadow.pc
			if err := shadow.Step(); err != nil {
				t.Fatalf("Step: %v", err)
			}
			if i < k && shadow.pc != from+1 {
				straight = false
			}
		}
		if shadow.pc != m.pc || shadow.regs != m.regs || shadow.fregs != m.fregs || shadow.flag != m.flag ||
			shadow.Steps() != m.Steps() || shadowOut.String() != out.String() {
			t.Fatalf("after slice %d from pc %d: pc %d, %d steps, regs %v; Step: pc %d, %d steps, regs %v",
				slice, pc*InstructionSize, m.PC(), m.Steps(), m.regs, shadow.PC(), shadow.Steps(), shadow.regs)
		}
		switch {
		case !m.Done() && took < k:
			t.Fatalf("slice %d at pc %d took %d steps, short of the limit", slice, pc*InstructionSize, took)
		case k == 1 && plain && took != 1:
			t.Fatalf("a limit of 1 at the plain instruction at pc %d took %d steps, want 1", pc*InstructionSize, took)
		case straight && took > k+2:
			t.Fatalf("slice %d at pc %d took %d steps with no jump in the first %d", slice, pc*InstructionSize, took, k)
		}
	}
	if m.regs != whole.regs || m.fregs != whole.fregs || m.Steps() != whole.Steps() || out.String() != wholeOut {
		t.Errorf("ended with %d steps, regs %v, output %q; Run: %d steps, regs %v, output %q",
			m.Steps(), m.regs, out.String(), whole.Steps(), whole.regs, wholeOut)
	}
}

// execNoPanic runs one slice of at most limit steps of m's fused code and
// turns a panic into an error, so that the test reports the program.
func execNoPanic(m *VM, limit uint64) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	return m.exec(m.code, limit)
}

// TestSlotsMatchFuser checks slots against fuseCode: at each fused
// instruction in FuzzExec's seeds (which hold every fused opcode), the
// plain instructions from there fuse to the same opcode once slots of
// them are given to fuseCode and not with fewer; and each slot of its
// tail spans no further than the fused instruction, as limitEnd needs.
func TestSlotsMatchFuser(t *testing.T) {
	checked := map[Opcode]bool{}
	for _, seed := range fuzzSeeds(t) {
		split := min(int(seed[0]), len(seed)-1)
		fused, plain := decodeProgram(seed[1+split:], true), decodeProgram(seed[1+split:], false)
		for i, in := range fused {
			op := in.op()
			if op < opEQJ || op > opLast {
				if slots(op) != 1 {
					t.Errorf("plain opcode %v spans %d slots, want 1", op, slots(op))
				}
				continue
			}
			checked[op] = true
			needed := 0
			for n := 1; n <= maxSlots && i+n <= len(plain); n++ {
				part := append([]inst(nil), plain[i:i+n]...)
				fuseCode(part, false)
				if part[0].op() == op {
					needed = n
					break
				}
			}
			if uint(needed) != slots(op) {
				t.Errorf("fused opcode %d (%v first) needs %d plain instructions, slots says %d", op, firstOp(op), needed, slots(op))
			}
			for k := uint(1); k < slots(op) && i+int(k) < len(fused); k++ {
				if tail := slots(fused[i+int(k)].op()); k+tail > slots(op) {
					t.Errorf("slot %d of fused opcode %d spans %d slots, past its end", k, op, tail)
				}
			}
		}
	}
	for op := opEQJ; op <= opLast; op++ {
		if !checked[op] {
			t.Errorf("fused opcode %d not checked", op)
		}
	}
}
