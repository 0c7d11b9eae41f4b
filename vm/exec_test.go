package vm

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// enc is a tiny assembler for the tests of package vm, which cannot import
// vm/asm. Statements are separated by newlines or ';'. Each is an optional
// "label:" and then either an instruction written as the table says
// ("add $0 $1 $2", "ldf64 $f0 @8", "djmpe @top", "call @12") or
// "raw HH HH ..." for bytes as they are. Every encoding is read from the
// operand kinds of the instruction table: registers and shift counts one
// byte, 16-bit numbers two bytes high first, labels three bytes high first
// (a read-only label of LDF64 two). Register numbers and counts are not
// range-checked, so that invalid instructions can be written.
func enc(t testing.TB, src string) []byte {
	t.Helper()
	stmts := strings.FieldsFunc(src, func(r rune) bool { return r == '\n' || r == ';' })
	labels := map[string]int{}
	type stmt struct{ fields []string }
	var list []stmt
	addr := 0
	for _, s := range stmts {
		f := strings.Fields(s)
		for len(f) > 0 && strings.HasSuffix(f[0], ":") {
			labels[strings.TrimSuffix(f[0], ":")] = addr
			f = f[1:]
		}
		if len(f) == 0 {
			continue
		}
		if f[0] == "raw" {
			addr += len(f) - 1
		} else {
			addr += InstructionSize
		}
		list = append(list, stmt{f})
	}
	var code []byte
	for _, s := range list {
		f := s.fields
		if f[0] == "raw" {
			b, err := hex.DecodeString(strings.Join(f[1:], ""))
			if err != nil {
				t.Fatalf("enc: raw %v: %v", f[1:], err)
			}
			code = append(code, b...)
			continue
		}
		info := LookupName(f[0])
		if info == nil {
			t.Fatalf("enc: unknown mnemonic %q", f[0])
		}
		if len(f)-1 != len(info.Operands) {
			t.Fatalf("enc: %q takes %d operands", s, len(info.Operands))
		}
		raw := []byte{byte(info.Op)}
		for i, kind := range info.Operands {
			arg := f[1+i]
			num := func(prefix string) int64 {
				body, ok := strings.CutPrefix(arg, prefix)
				if !ok {
					t.Fatalf("enc: operand %q of %q wants %q", arg, f[0], prefix)
				}
				if kind == CodeAddr {
					if a, ok := labels[body]; ok {
						return int64(a)
					}
				}
				v, err := strconv.ParseInt(body, 0, 64)
				if err != nil {
					t.Fatalf("enc: operand %q of %q: %v", arg, f[0], err)
				}
				return v
			}
			switch kind {
			case IntReg:
				raw = append(raw, byte(num("$")))
			case FloatReg:
				arg = strings.Replace(arg, "$f", "$", 1)
				raw = append(raw, byte(num("$")))
			case Bits:
				raw = append(raw, byte(num("#")))
			case Int16, Uint16:
				raw = binary.BigEndian.AppendUint16(raw, uint16(num("#")))
			case DataAddr16:
				raw = binary.BigEndian.AppendUint16(raw, uint16(num("@")))
			case CodeAddr, DataAddr:
				v := num("@")
				raw = append(raw, byte(v>>16), byte(v>>8), byte(v))
			}
		}
		for len(raw) < InstructionSize {
			raw = append(raw, 0)
		}
		code = append(code, raw...)
	}
	return code
}

// f64 is the 8 little-endian bytes of a float, as LDF64 reads them.
func f64(vs ...float64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

func cat(bs ...[]byte) []byte { return bytes.Join(bs, nil) }

var (
	nan    = math.NaN()
	inf    = math.Inf(1)
	negZro = math.Copysign(0, -1)
)

// end stands for the byte length of the code in state.pc.
const end = -1

// state is everything a program can change.
type state struct {
	regs  map[int]int32
	fregs map[int]float64
	flag  bool
	rem   int32
	count uint32 // loop counter
	heap  []byte
	stack []int32
	calls int // depth of the call stack
	out   string
	pc    int // byte address of the next instruction, or end
}

func sameFloat(a, b float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Float64bits(a) == math.Float64bits(b)
}

// checkState compares every register and every part of the machine with
// want; registers want does not name must be 0.
func checkState(t *testing.T, m *VM, out string, want state) {
	t.Helper()
	for i, v := range m.Registers() {
		if v != want.regs[i] {
			t.Errorf("$%d = %d, want %d", i, v, want.regs[i])
		}
	}
	for i, v := range m.FloatRegisters() {
		if !sameFloat(v, want.fregs[i]) {
			t.Errorf("$f%d = %v, want %v", i, v, want.fregs[i])
		}
	}
	if m.Flag() != want.flag {
		t.Errorf("flag = %v, want %v", m.Flag(), want.flag)
	}
	if m.Remainder() != want.rem {
		t.Errorf("remainder = %d, want %d", m.Remainder(), want.rem)
	}
	if m.count != want.count {
		t.Errorf("loop counter = %d, want %d", m.count, want.count)
	}
	if !bytes.Equal(m.heap, want.heap) || m.HeapSize() != len(want.heap) {
		t.Errorf("heap = % x (size %d), want % x", m.heap, m.HeapSize(), want.heap)
	}
	if !slices.Equal(m.stack[:m.sp], want.stack) || m.StackDepth() != len(want.stack) {
		t.Errorf("stack = %v (depth %d), want %v", m.stack[:m.sp], m.StackDepth(), want.stack)
	}
	if int(m.csp) != want.calls {
		t.Errorf("call stack depth = %d, want %d", int(m.csp), want.calls)
	}
	if out != want.out {
		t.Errorf("output = %q, want %q", out, want.out)
	}
	pc := want.pc
	if pc == end {
		pc = len(m.Program().Code)
	}
	if m.PC() != pc {
		t.Errorf("pc = %d, want %d", m.PC(), pc)
	}
}

// newVM loads a program into a new VM whose output goes to the buffer.
func newVM(t testing.TB, cfg Config, ro []byte, src string) (*VM, *bytes.Buffer) {
	t.Helper()
	var out bytes.Buffer
	if cfg.Stdout == nil {
		cfg.Stdout = &out
	}
	m := New(cfg)
	m.Load(&Program{ReadOnly: ro, Code: enc(t, src)})
	return m, &out
}

// run runs with a timeout, so that a wrong jump that loops forever fails
// the test instead of hanging it.
func run(m *VM) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return m.Run(ctx)
}

const (
	maxI32 = "load $%d #0x7fff; lui $%d #0xffff" // the register = MaxInt32
	minI32 = "load $%d #-32768; lui $%d #0"      // the register = MinInt32
	word   = "load $%d #0x1234; lui $%d #0x5678" // the register = 0x12345678
	negBig = "load $%d #-2; lui $%d #0x7960"     // the register = -100000
)

func reg(format string, r int) string { return fmt.Sprintf(format, r, r) }

type execCase struct {
	name string
	op   Opcode // the instruction under test
	ro   []byte
	src  string
	want state
	err  error // the fault the run ends with, or nil
}

type (
	R = map[int]int32
	F = map[int]float64
)

func execCases() []execCase {
	cs := []execCase{
		// LOAD
		{"load", LOAD, nil, "load $0 #100", state{regs: R{0: 100}, pc: end}, nil},
		{"load extremes", LOAD, nil, "load $31 #-32768; load $30 #32767", state{regs: R{31: math.MinInt16, 30: math.MaxInt16}, pc: end}, nil},
		{"load overwrites", LOAD, nil, "load $2 #5; load $2 #-1", state{regs: R{2: -1}, pc: end}, nil},

		// ADD SUB MUL DIV
		{"add", ADD, nil, "load $0 #2; load $1 #3; add $0 $1 $2", state{regs: R{0: 2, 1: 3, 2: 5}, pc: end}, nil},
		{"add same register", ADD, nil, "load $0 #21; add $0 $0 $0", state{regs: R{0: 42}, pc: end}, nil},
		{"add wraps MaxInt32+1", ADD, nil, reg(maxI32, 0) + "; load $1 #1; add $0 $1 $2", state{regs: R{0: math.MaxInt32, 1: 1, 2: math.MinInt32}, pc: end}, nil},
		{"sub", SUB, nil, "load $0 #5; load $1 #7; sub $0 $1 $2", state{regs: R{0: 5, 1: 7, 2: -2}, pc: end}, nil},
		{"sub wraps MinInt32-1", SUB, nil, reg(minI32, 0) + "; load $1 #1; sub $0 $1 $2", state{regs: R{0: math.MinInt32, 1: 1, 2: math.MaxInt32}, pc: end}, nil},
		{"mul", MUL, nil, "load $0 #6; load $1 #-7; mul $0 $1 $2", state{regs: R{0: 6, 1: -7, 2: -42}, pc: end}, nil},
		{"mul overflow MaxInt32*2", MUL, nil, reg(maxI32, 0) + "; load $1 #2; mul $0 $1 $2", state{regs: R{0: math.MaxInt32, 1: 2, 2: -2}, pc: end}, nil},
		{"mul overflow 65536*65536", MUL, nil, "load $0 #1; lui $0 #0; mul $0 $0 $1", state{regs: R{0: 65536, 1: 0}, pc: end}, nil},
		{"div", DIV, nil, "load $0 #7; load $1 #2; div $0 $1 $2", state{regs: R{0: 7, 1: 2, 2: 3}, rem: 1, pc: end}, nil},
		{"div negative dividend", DIV, nil, "load $0 #-7; load $1 #2; div $0 $1 $2", state{regs: R{0: -7, 1: 2, 2: -3}, rem: -1, pc: end}, nil},
		{"div negative divisor", DIV, nil, "load $0 #7; load $1 #-2; div $0 $1 $2", state{regs: R{0: 7, 1: -2, 2: -3}, rem: 1, pc: end}, nil},
		{"div both negative", DIV, nil, "load $0 #-7; load $1 #-2; div $0 $1 $2", state{regs: R{0: -7, 1: -2, 2: 3}, rem: -1, pc: end}, nil},
		{"div MinInt32 by -1 wraps", DIV, nil, reg(minI32, 0) + "; load $1 #-1; div $0 $1 $2", state{regs: R{0: math.MinInt32, 1: -1, 2: math.MinInt32}, rem: 0, pc: end}, nil},
		{"div exact clears remainder", DIV, nil, "load $0 #7; load $1 #2; div $0 $1 $2; load $0 #6; load $1 #3; div $0 $1 $2", state{regs: R{0: 6, 1: 3, 2: 2}, rem: 0, pc: end}, nil},

		// HLT
		{"hlt stops", HLT, nil, "load $0 #1; hlt; load $0 #2", state{regs: R{0: 1}, pc: 8}, nil},
		{"hlt first", HLT, nil, "hlt; inc $0", state{pc: 4}, nil},

		// JMP JMPF JMPB
		{"jmp", JMP, nil, "load $0 #12; jmp $0; load $1 #1; load $2 #2", state{regs: R{0: 12, 2: 2}, pc: end}, nil},
		{"jmp to the end", JMP, nil, "load $0 #12; jmp $0; load $1 #1", state{regs: R{0: 12}, pc: 12}, nil},
		{"jmp backward", JMP, nil, "load $0 #16; jmp $0; hlt; hlt; load $1 #8; jmp $1", state{regs: R{0: 16, 1: 8}, pc: 12}, nil},
		// jmpf at 4 goes to 4+16 = 20; jmpb at 24 goes to 24-16 = 8, the
		// hlt. Relative to the next instruction they would land on $5.
		{"jmpf and jmpb from their own address", JMPB, nil, "load $0 #16; jmpf $0; hlt; load $5 #5; hlt; load $1 #16; jmpb $1; load $4 #4",
			state{regs: R{0: 16, 1: 16}, pc: 12}, nil},
		{"jmpf", JMPF, nil, "load $0 #8; jmpf $0; load $1 #1; load $2 #2", state{regs: R{0: 8, 2: 2}, pc: end}, nil},
		{"jmpf 4 is the next instruction", JMPF, nil, "load $0 #4; jmpf $0; load $1 #1", state{regs: R{0: 4, 1: 1}, pc: end}, nil},
		{"jmpf to the end", JMPF, nil, "load $0 #8; jmpf $0; load $1 #1", state{regs: R{0: 8}, pc: 12}, nil},
		// While $1 < 3, jmpe goes to 24 and jmpb at 28 back 28 bytes to 0.
		{"jmpb to the start", JMPB, nil, "inc $1; load $0 #3; lt $1 $0; load $2 #24; jmpe $2; hlt; load $3 #28; jmpb $3",
			state{regs: R{0: 3, 1: 3, 2: 24, 3: 28}, pc: 24}, nil},

		// JMPE
		{"jmpe taken", JMPE, nil, "load $0 #1; load $1 #1; eq $0 $1; load $2 #24; jmpe $2; load $3 #3; load $4 #4",
			state{regs: R{0: 1, 1: 1, 2: 24, 4: 4}, flag: true, pc: end}, nil},
		{"jmpe not taken runs the next instruction", JMPE, nil, "load $0 #1; load $1 #2; eq $0 $1; load $2 #24; jmpe $2; load $3 #3; load $4 #4",
			state{regs: R{0: 1, 1: 2, 2: 24, 3: 3, 4: 4}, pc: end}, nil},
		{"jmpe not taken ignores a bad target", JMPE, nil, "load $2 #1001; jmpe $2; inc $3",
			state{regs: R{2: 1001, 3: 1}, pc: end}, nil},

		// NOP
		{"nop", NOP, nil, "nop; nop", state{pc: 8}, nil},
		{"nop between", NOP, nil, "load $0 #1; nop; inc $0", state{regs: R{0: 2}, pc: end}, nil},

		// ALOC
		{"aloc", ALOC, nil, "load $0 #10; aloc $0", state{regs: R{0: 10}, heap: make([]byte, 10), pc: end}, nil},
		{"aloc grows", ALOC, nil, "load $0 #3; aloc $0; aloc $0", state{regs: R{0: 3}, heap: make([]byte, 6), pc: end}, nil},
		{"aloc 0", ALOC, nil, "aloc $0", state{pc: end}, nil},

		// INC DEC
		{"inc", INC, nil, "inc $7; inc $7", state{regs: R{7: 2}, pc: end}, nil},
		{"inc wraps", INC, nil, reg(maxI32, 0) + "; inc $0", state{regs: R{0: math.MinInt32}, pc: end}, nil},
		{"dec", DEC, nil, "dec $7", state{regs: R{7: -1}, pc: end}, nil},
		{"dec wraps", DEC, nil, reg(minI32, 0) + "; dec $0", state{regs: R{0: math.MaxInt32}, pc: end}, nil},

		// DJMPE
		{"djmpe taken", DJMPE, nil, "eq $0 $0; djmpe @skip; load $1 #1; skip: load $2 #2", state{regs: R{2: 2}, flag: true, pc: end}, nil},
		{"djmpe not taken", DJMPE, nil, "neq $0 $0; djmpe @skip; load $1 #1; skip: load $2 #2", state{regs: R{1: 1, 2: 2}, pc: end}, nil},
		{"djmpe loop", DJMPE, nil, "load $0 #5; top: inc $1; dec $0; neq $0 $2; djmpe @top", state{regs: R{1: 5}, pc: end}, nil},
		{"djmpe to the end", DJMPE, nil, "eq $0 $0; djmpe @12; inc $1", state{flag: true, pc: 12}, nil},

		// PRTS
		{"prts", PRTS, []byte("Hello\x00World\x00"), "prts @0; prts @6", state{out: "HelloWorld", pc: end}, nil},
		{"prts middle of a string", PRTS, []byte("Hello\x00"), "prts @3", state{out: "lo", pc: end}, nil},
		{"prts empty string", PRTS, []byte("\x00"), "prts @0", state{out: "", pc: end}, nil},
		{"prts bytes as they are", PRTS, []byte("a\n\xffb\x00"), "prts @0", state{out: "a\n\xffb", pc: end}, nil},

		// LOADF64
		{"loadf64", LOADF64, nil, "loadf64 $f0 #2", state{fregs: F{0: 2}, pc: end}, nil},
		{"loadf64 sign extends", LOADF64, nil, "loadf64 $f31 #-3; loadf64 $f1 #-32768; loadf64 $f2 #32767",
			state{fregs: F{31: -3, 1: -32768, 2: 32767}, pc: end}, nil},

		// float arithmetic
		{"addf64", ADDF64, f64(1.5, 2.25), "ldf64 $f0 @0; ldf64 $f1 @8; addf64 $f0 $f1 $f2", state{fregs: F{0: 1.5, 1: 2.25, 2: 3.75}, pc: end}, nil},
		{"subf64", SUBF64, f64(1.5, 2.25), "ldf64 $f0 @0; ldf64 $f1 @8; subf64 $f0 $f1 $f2", state{fregs: F{0: 1.5, 1: 2.25, 2: -0.75}, pc: end}, nil},
		{"mulf64", MULF64, f64(1.5), "ldf64 $f0 @0; loadf64 $f1 #-2; mulf64 $f0 $f1 $f2", state{fregs: F{0: 1.5, 1: -2, 2: -3}, pc: end}, nil},
		{"divf64", DIVF64, nil, "loadf64 $f0 #3; loadf64 $f1 #2; divf64 $f0 $f1 $f2", state{fregs: F{0: 3, 1: 2, 2: 1.5}, pc: end}, nil},
		{"divf64 by zero is +Inf", DIVF64, nil, "loadf64 $f0 #1; divf64 $f0 $f1 $f2", state{fregs: F{0: 1, 2: inf}, pc: end}, nil},
		{"divf64 negative by zero is -Inf", DIVF64, nil, "loadf64 $f0 #-1; divf64 $f0 $f1 $f2", state{fregs: F{0: -1, 2: math.Inf(-1)}, pc: end}, nil},
		{"divf64 by -0 is -Inf", DIVF64, f64(negZro), "loadf64 $f0 #1; ldf64 $f1 @0; divf64 $f0 $f1 $f2", state{fregs: F{0: 1, 1: negZro, 2: math.Inf(-1)}, pc: end}, nil},
		{"divf64 zero by zero is NaN", DIVF64, nil, "divf64 $f0 $f1 $f2", state{fregs: F{2: nan}, pc: end}, nil},

		// SHL SHR
		{"shl 1", SHL, nil, "load $0 #3; shl $0 #1", state{regs: R{0: 6}, pc: end}, nil},
		{"shl 31", SHL, nil, "load $0 #1; shl $0 #31", state{regs: R{0: math.MinInt32}, pc: end}, nil},
		{"shl encoded 0 means 16", SHL, nil, "load $0 #3; shl $0 #0", state{regs: R{0: 3 << 16}, pc: end}, nil},
		{"shl negative", SHL, nil, "load $0 #-1; shl $0 #4", state{regs: R{0: -16}, pc: end}, nil},
		{"shr 1", SHR, nil, "load $0 #7; shr $0 #1", state{regs: R{0: 3}, pc: end}, nil},
		{"shr keeps the sign", SHR, nil, "load $0 #-8; shr $0 #1", state{regs: R{0: -4}, pc: end}, nil},
		{"shr 31 of MinInt32", SHR, nil, reg(minI32, 0) + "; shr $0 #31", state{regs: R{0: -1}, pc: end}, nil},
		{"shr 31 of MaxInt32", SHR, nil, reg(maxI32, 0) + "; shr $0 #31", state{regs: R{0: 0}, pc: end}, nil},
		{"shr encoded 0 means 16", SHR, nil, "load $0 #0x4000; lui $0 #0; shr $0 #0", state{regs: R{0: 0x4000}, pc: end}, nil},

		// AND OR XOR NOT
		{"and", AND, nil, "load $0 #12; load $1 #10; and $0 $1 $2", state{regs: R{0: 12, 1: 10, 2: 8}, pc: end}, nil},
		{"and negative", AND, nil, "load $0 #-1; load $1 #0x0f0f; and $0 $1 $2", state{regs: R{0: -1, 1: 0x0f0f, 2: 0x0f0f}, pc: end}, nil},
		{"or", OR, nil, "load $0 #12; load $1 #10; or $0 $1 $2", state{regs: R{0: 12, 1: 10, 2: 14}, pc: end}, nil},
		{"xor", XOR, nil, "load $0 #12; load $1 #10; xor $0 $1 $2", state{regs: R{0: 12, 1: 10, 2: 6}, pc: end}, nil},
		{"xor self is 0", XOR, nil, "load $0 #-5; xor $0 $0 $0", state{pc: end}, nil},
		{"not 0", NOT, nil, "not $0 $1", state{regs: R{1: -1}, pc: end}, nil},
		{"not 5", NOT, nil, "load $0 #5; not $0 $1", state{regs: R{0: 5, 1: -6}, pc: end}, nil},

		// LUI
		{"lui 0x12345678", LUI, nil, reg(word, 3), state{regs: R{3: 0x12345678}, pc: end}, nil},
		{"load lui -100000", LUI, nil, reg(negBig, 3), state{regs: R{3: -100000}, pc: end}, nil},
		{"load lui -1", LUI, nil, "load $0 #-1; lui $0 #65535", state{regs: R{0: -1}, pc: end}, nil},
		{"lui shifts the high half out", LUI, nil, "load $0 #0x1234; lui $0 #0; lui $0 #5", state{regs: R{0: 5}, pc: end}, nil},

		// CLOOP LOOP
		{"cloop", CLOOP, nil, "cloop #5", state{count: 5, pc: end}, nil},
		{"cloop unsigned", CLOOP, nil, "cloop #65535", state{count: 65535, pc: end}, nil},
		{"original loop test", LOOP, nil, "load $1 #20; cloop #10; top: inc $1; loop @top", state{regs: R{1: 31}, pc: end}, nil},
		{"loop with counter 0 falls through", LOOP, nil, "inc $1; loop @0; inc $2", state{regs: R{1: 1, 2: 1}, pc: end}, nil},
		{"loop then more", LOOP, nil, "cloop #3; top: inc $1; loop @top; inc $2", state{regs: R{1: 4, 2: 1}, pc: end}, nil},

		// LOADM SETM
		{"setm loadm round trip", SETM, nil, "load $0 #8; aloc $0; " + reg(word, 2) + "; load $1 #4; setm $1 $2; loadm $1 $3",
			state{regs: R{0: 8, 1: 4, 2: 0x12345678, 3: 0x12345678}, heap: []byte{0, 0, 0, 0, 0x78, 0x56, 0x34, 0x12}, pc: end}, nil},
		{"setm negative", SETM, nil, "load $0 #4; aloc $0; load $2 #-2; setm $1 $2", state{regs: R{0: 4, 2: -2}, heap: []byte{0xfe, 0xff, 0xff, 0xff}, pc: end}, nil},
		{"loadm is little-endian", LOADM, nil, "load $0 #8; aloc $0; " + reg(word, 2) + "; setm $1 $2; load $1 #1; loadm $1 $3",
			state{regs: R{0: 8, 1: 1, 2: 0x12345678, 3: 0x00123456}, heap: []byte{0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0}, pc: end}, nil},
		{"loadm last word", LOADM, nil, "load $0 #6; aloc $0; load $1 #2; loadm $1 $3", state{regs: R{0: 6, 1: 2}, heap: make([]byte, 6), pc: end}, nil},

		// PUSH POP
		{"push pop order", POP, nil, "load $0 #1; load $1 #2; load $2 #3; push $0; push $1; push $2; pop $3; pop $4",
			state{regs: R{0: 1, 1: 2, 2: 3, 3: 3, 4: 2}, stack: []int32{1}, pc: end}, nil},
		{"push copies", PUSH, nil, "load $0 #5; push $0; load $0 #6; pop $1", state{regs: R{0: 6, 1: 5}, pc: end}, nil},
		{"push", PUSH, nil, "load $0 #-9; push $0; push $1", state{regs: R{0: -9}, stack: []int32{-9, 0}, pc: end}, nil},

		// CALL RET
		{"original call test", CALL, nil, "load $0 #400; call @test; hlt; test: load $0 #500; ret", state{regs: R{0: 500}, pc: 12}, nil},
		{"nested calls", RET, nil, "call @f; inc $9; hlt; f: inc $1; call @g; inc $2; ret; g: inc $3; ret",
			state{regs: R{1: 1, 2: 1, 3: 1, 9: 1}, pc: 12}, nil},
		{"call keeps the value stack", CALL, nil, "load $0 #7; push $0; call @f; hlt; f: pop $1; ret", state{regs: R{0: 7, 1: 7}, pc: 16}, nil},
		{"call without ret", CALL, nil, "call @f; inc $1; f: inc $2", state{regs: R{2: 1}, calls: 1, pc: end}, nil},

		// MOV MOVF64
		{"mov", MOV, nil, "load $0 #-9; mov $0 $31", state{regs: R{0: -9, 31: -9}, pc: end}, nil},
		{"movf64", MOVF64, f64(2.5), "ldf64 $f0 @0; movf64 $f0 $f31", state{fregs: F{0: 2.5, 31: 2.5}, pc: end}, nil},

		// PRTI PRTF64
		{"prti", PRTI, nil, "load $0 #-42; prti $0; prti $1", state{regs: R{0: -42}, out: "-42\n0\n", pc: end}, nil},
		{"prti MinInt32", PRTI, nil, reg(minI32, 0) + "; prti $0", state{regs: R{0: math.MinInt32}, out: "-2147483648\n", pc: end}, nil},
		{"prtf64", PRTF64, f64(1.5), "ldf64 $f0 @0; prtf64 $f0; loadf64 $f1 #2; prtf64 $f1", state{fregs: F{0: 1.5, 1: 2}, out: "1.5\n2.0\n", pc: end}, nil},
		{"prtf64 specials", PRTF64, f64(negZro), "ldf64 $f0 @0; prtf64 $f0; loadf64 $f1 #1; divf64 $f1 $f2 $f3; prtf64 $f3; divf64 $f2 $f2 $f4; prtf64 $f4",
			state{fregs: F{0: negZro, 1: 1, 3: inf, 4: nan}, out: "-0.0\n+Inf\nNaN\n", pc: end}, nil},

		// ITOF FTOI
		{"itof", ITOF, nil, "load $0 #-7; itof $0 $f3", state{regs: R{0: -7}, fregs: F{3: -7}, pc: end}, nil},
		{"itof MaxInt32", ITOF, nil, reg(maxI32, 0) + "; itof $0 $f0", state{regs: R{0: math.MaxInt32}, fregs: F{0: math.MaxInt32}, pc: end}, nil},
		{"ftoi truncates toward zero", FTOI, f64(2.9, -2.9, -0.5), "ldf64 $f0 @0; ldf64 $f1 @8; ldf64 $f2 @16; load $2 #9; ftoi $f0 $0; ftoi $f1 $1; ftoi $f2 $2",
			state{regs: R{0: 2, 1: -2, 2: 0}, fregs: F{0: 2.9, 1: -2.9, 2: -0.5}, pc: end}, nil},
		{"ftoi limits", FTOI, f64(2147483647.9, -2147483648.9), "ldf64 $f0 @0; ldf64 $f1 @8; ftoi $f0 $0; ftoi $f1 $1",
			state{regs: R{0: math.MaxInt32, 1: math.MinInt32}, fregs: F{0: 2147483647.9, 1: -2147483648.9}, pc: end}, nil},

		// REM
		{"rem", REM, nil, "load $0 #17; load $1 #5; div $0 $1 $2; rem $3", state{regs: R{0: 17, 1: 5, 2: 3, 3: 2}, rem: 2, pc: end}, nil},
		{"rem negative", REM, nil, "load $0 #-17; load $1 #5; div $0 $1 $2; rem $3", state{regs: R{0: -17, 1: 5, 2: -3, 3: -2}, rem: -2, pc: end}, nil},
		{"rem before div", REM, nil, "load $0 #3; rem $0", state{pc: end}, nil},

		// LDF64
		{"ldf64 after a string", LDF64, cat([]byte("abc\x00"), f64(3.25)), "ldf64 $f2 @4", state{fregs: F{2: 3.25}, pc: end}, nil},
		{"ldf64 negative", LDF64, f64(-1e300, 0.1), "ldf64 $f0 @0; ldf64 $f1 @8", state{fregs: F{0: -1e300, 1: 0.1}, pc: end}, nil},
		{"ldf64 -0", LDF64, f64(negZro), "loadf64 $f0 #1; ldf64 $f0 @0", state{fregs: F{0: negZro}, pc: end}, nil},

		// IGL
		{"igl faults", IGL, nil, "load $0 #1; igl; load $0 #2", state{regs: R{0: 1}, pc: 4}, ErrIllegalInstruction},
	}
	// The process instructions fault on a VM that no scheduler runs
	// (process_test.go runs them with a runtime).
	for _, pc := range []struct {
		op  Opcode
		src string
	}{{SPAWN, "spawn $0 $1"}, {SELF, "self $0"}, {SEND, "send $0 $1"}, {SENDP, "sendp $0 $1"}, {RECV, "recv $0 $1"},
		{RECVT, "recvt $0 $1 $2"}, {FROM, "from $0"}, {MONITOR, "monitor $0"}, {KILL, "kill $0"},
		{SENDB, "sendb $0 $1 $2"}, {TAKEB, "takeb $0"}, {REG, "reg @0"}, {WHEREIS, "whereis $0 @0"}} {
		cs = append(cs, execCase{pc.src + " without a runtime", pc.op, nil, "load $0 #1; " + pc.src, state{regs: R{0: 1}, pc: 4}, ErrNoRuntime})
	}

	// Integer comparisons. The flag is first set to the opposite of the
	// expected result, so a comparison that leaves it alone fails.
	type cmp struct {
		op   Opcode
		want func(a, b int32) bool
	}
	pairs := [][2]int32{{1, 2}, {2, 2}, {3, 2}, {-1, 1}, {1, -1}, {-5, -5}}
	for _, c := range []cmp{
		{EQ, func(a, b int32) bool { return a == b }},
		{NEQ, func(a, b int32) bool { return a != b }},
		{GTE, func(a, b int32) bool { return a >= b }},
		{LTE, func(a, b int32) bool { return a <= b }},
		{LT, func(a, b int32) bool { return a < b }},
		{GT, func(a, b int32) bool { return a > b }},
	} {
		for _, p := range pairs {
			w := c.want(p[0], p[1])
			pre := "eq $9 $9" // flag true
			if w {
				pre = "neq $9 $9" // flag false
			}
			cs = append(cs, execCase{
				name: fmt.Sprintf("%v %d %d", c.op, p[0], p[1]), op: c.op,
				src:  fmt.Sprintf("load $0 #%d; load $1 #%d; %s; %v $0 $1", p[0], p[1], pre, c.op),
				want: state{regs: R{0: p[0], 1: p[1]}, flag: w, pc: end},
			})
		}
	}
	type fcmp struct {
		op   Opcode
		want func(a, b float64) bool
	}
	fpairs := [][2]float64{{1.5, 2.5}, {2.5, 2.5}, {2.5, 1.5}, {nan, 1}, {1, nan}, {nan, nan}, {negZro, 0}, {math.Inf(-1), inf}}
	for _, c := range []fcmp{
		{EQF64, func(a, b float64) bool { return a == b }},
		{NEQF64, func(a, b float64) bool { return a != b }},
		{GTF64, func(a, b float64) bool { return a > b }},
		{GTEF64, func(a, b float64) bool { return a >= b }},
		{LTF64, func(a, b float64) bool { return a < b }},
		{LTEF64, func(a, b float64) bool { return a <= b }},
	} {
		for _, p := range fpairs {
			w := c.want(p[0], p[1])
			pre := "eq $9 $9"
			if w {
				pre = "neq $9 $9"
			}
			cs = append(cs, execCase{
				name: fmt.Sprintf("%v %v %v", c.op, p[0], p[1]), op: c.op, ro: f64(p[0], p[1]),
				src:  fmt.Sprintf("ldf64 $f0 @0; ldf64 $f1 @8; %s; %v $f0 $f1", pre, c.op),
				want: state{fregs: F{0: p[0], 1: p[1]}, flag: w, pc: end},
			})
		}
	}
	return cs
}

func TestExec(t *testing.T) {
	for _, tc := range execCases() {
		t.Run(tc.name, func(t *testing.T) {
			m, out := newVM(t, Config{}, tc.ro, tc.src)
			if !containsOp(m.Program().Code, tc.op) {
				t.Fatalf("the program does not use %v", tc.op)
			}
			err := run(m)
			if tc.err == nil && err != nil {
				t.Fatalf("Run: %v", err)
			}
			if tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("Run = %v, want %v", err, tc.err)
			}
			checkState(t, m, out.String(), tc.want)
			if !m.Done() && tc.err == nil {
				t.Errorf("Done() = false after Run")
			}
		})
	}
}

func containsOp(code []byte, op Opcode) bool {
	for i := 0; i+InstructionSize <= len(code); i += InstructionSize {
		if Opcode(code[i]) == op {
			return true
		}
	}
	return false
}

// TestExecCoversEveryInstruction fails when an instruction of the table has
// no case in TestExec.
func TestExecCoversEveryInstruction(t *testing.T) {
	have := map[Opcode]int{}
	for _, tc := range execCases() {
		have[tc.op]++
	}
	for _, in := range Instructions() {
		if have[in.Op] == 0 {
			t.Errorf("no TestExec case for %s (opcode %d)", in.Name, in.Op)
		}
	}
	if len(Instructions()) < 57 {
		t.Errorf("the table has %d instructions, want the 56 of 0-55 and IGL", len(Instructions()))
	}
}

func TestHaltThenRunCarriesOn(t *testing.T) {
	m, out := newVM(t, Config{}, nil, "load $0 #1; prti $0; hlt; load $0 #2; prti $0; hlt; load $0 #3")
	steps := []struct {
		r0   int32
		pc   int
		out  string
		done bool
	}{
		{1, 12, "1\n", true},
		{2, 24, "1\n2\n", true},
		{3, 28, "1\n2\n", true},
		{3, 28, "1\n2\n", true}, // at the end: nothing more to run
	}
	for i, s := range steps {
		if err := run(m); err != nil {
			t.Fatalf("Run %d: %v", i, err)
		}
		if r := m.Registers()[0]; r != s.r0 || m.PC() != s.pc || out.String() != s.out || m.Done() != s.done {
			t.Errorf("after Run %d: $0 = %d, pc = %d, out = %q, done = %v; want %d, %d, %q, %v",
				i, r, m.PC(), out.String(), m.Done(), s.r0, s.pc, s.out, s.done)
		}
	}
}

func TestRunOffTheEnd(t *testing.T) {
	for _, src := range []string{"", "nop", "load $0 #1; inc $0"} {
		m, _ := newVM(t, Config{}, nil, src)
		if err := run(m); err != nil {
			t.Errorf("%q: Run = %v, want nil", src, err)
		}
		if m.PC() != len(m.Program().Code) || !m.Done() {
			t.Errorf("%q: pc = %d, done = %v; want %d, true", src, m.PC(), m.Done(), len(m.Program().Code))
		}
	}
}

// TestInvalidUnreached: an invalid instruction faults only when reached.
func TestInvalidUnreached(t *testing.T) {
	for _, src := range []string{
		"inc $0; hlt; add $32 $0 $0",
		"inc $0; hlt; raw 63 00 00 00",
		"inc $0; hlt; igl",
		"inc $0; hlt; djmpe @400",
		"inc $0; hlt; raw 05 00",
		"inc $0; load $1 #16; jmp $1; raw ff ff ff ff",
	} {
		m, _ := newVM(t, Config{}, nil, src)
		if err := run(m); err != nil {
			t.Errorf("%q: Run = %v, want nil", src, err)
		}
		if m.Registers()[0] != 1 {
			t.Errorf("%q: $0 = %d, want 1", src, m.Registers()[0])
		}
	}
}

// failWriter fails every write.
type failWriter struct{ err error }

func (w failWriter) Write(p []byte) (int, error) { return 0, w.err }

var errDiskFull = errors.New("disk full")

type faultCase struct {
	name   string
	cfg    Config
	ro     []byte
	src    string
	kind   error
	pc     int
	instr  []string // the text the fault must give, any of these
	detail string   // a part of the message, or ""
	check  func(t *testing.T, m *VM)
}

func faultCases() []faultCase {
	regs := func(want R) func(*testing.T, *VM) {
		return func(t *testing.T, m *VM) {
			t.Helper()
			for i, v := range want {
				if got := m.Registers()[i]; got != v {
					t.Errorf("$%d = %d, want %d", i, got, v)
				}
			}
		}
	}
	return []faultCase{
		{name: "div by zero", src: "load $0 #5; load $2 #9; div $0 $1 $2", kind: ErrDivisionByZero, pc: 8, instr: []string{"div $0 $1 $2"}, detail: "$1 is 0",
			check: func(t *testing.T, m *VM) {
				regs(R{0: 5, 2: 9})(t, m) // the destination is left alone
				if m.Remainder() != 0 {
					t.Errorf("remainder = %d, want 0", m.Remainder())
				}
			}},
		{name: "div by zero register", src: "load $7 #-3; div $7 $7 $3; div $3 $4 $5", kind: ErrDivisionByZero, pc: 8, instr: []string{"div $3 $4 $5"}, detail: "$4 is 0"},

		{name: "loadm negative offset", src: "load $0 #8; aloc $0; load $1 #-1; loadm $1 $2", kind: ErrHeapOutOfRange, pc: 12, instr: []string{"loadm $1 $2"}},
		{name: "setm negative offset", src: "load $0 #8; aloc $0; load $1 #-4; setm $1 $2", kind: ErrHeapOutOfRange, pc: 12, instr: []string{"setm $1 $2"}},
		{name: "setm at the end", src: "load $0 #8; aloc $0; load $1 #8; setm $1 $2", kind: ErrHeapOutOfRange, pc: 12, instr: []string{"setm $1 $2"},
			check: func(t *testing.T, m *VM) {
				if !bytes.Equal(m.heap, make([]byte, 8)) {
					t.Errorf("heap = % x, want 8 zero bytes", m.heap)
				}
			}},
		{name: "loadm across the end", src: "load $0 #8; aloc $0; load $1 #5; loadm $1 $2", kind: ErrHeapOutOfRange, pc: 12, instr: []string{"loadm $1 $2"}},
		{name: "loadm without aloc", src: "loadm $0 $1", kind: ErrHeapOutOfRange, pc: 0, instr: []string{"loadm $0 $1"}},
		{name: "after aloc", src: "load $0 #4; aloc $0; setm $1 $0; load $1 #4; loadm $1 $2", kind: ErrHeapOutOfRange, pc: 16, instr: []string{"loadm $1 $2"}},
		{name: "aloc over the heap limit", cfg: Config{HeapLimit: 16}, src: "load $0 #10; aloc $0; aloc $0", kind: ErrHeapLimit, pc: 8, instr: []string{"aloc $0"},
			check: func(t *testing.T, m *VM) {
				if m.HeapSize() != 10 {
					t.Errorf("heap size = %d, want 10", m.HeapSize())
				}
			}},
		{name: "aloc negative", src: "load $0 #-1; aloc $0", kind: ErrHeapLimit, pc: 4, instr: []string{"aloc $0"}},
		{name: "aloc MinInt32", src: reg(minI32, 3) + "; aloc $3", kind: ErrHeapLimit, pc: 8, instr: []string{"aloc $3"}},
		{name: "aloc over the default limit", src: "load $0 #0x400; lui $0 #1; aloc $0", kind: ErrHeapLimit, pc: 8, instr: []string{"aloc $0"}},

		{name: "push overflow", cfg: Config{StackLimit: 3}, src: "push $0; push $0; push $0; push $0", kind: ErrStackOverflow, pc: 12, instr: []string{"push $0"},
			check: func(t *testing.T, m *VM) {
				if m.StackDepth() != 3 {
					t.Errorf("stack depth = %d, want 3", m.StackDepth())
				}
			}},
		{name: "recursive call overflow", cfg: Config{StackLimit: 3}, src: "nop; f: inc $0; call @f", kind: ErrStackOverflow, pc: 8, instr: []string{"call @L0004"},
			check: func(t *testing.T, m *VM) {
				regs(R{0: 4})(t, m)
				if int(m.csp) != 3 {
					t.Errorf("call depth = %d, want 3", int(m.csp))
				}
			}},
		{name: "pop empty", src: "pop $0", kind: ErrStackEmpty, pc: 0, instr: []string{"pop $0"}},
		{name: "pop one too many", src: "load $0 #1; push $0; pop $1; pop $2", kind: ErrStackEmpty, pc: 12, instr: []string{"pop $2"}, check: regs(R{0: 1, 1: 1})},
		{name: "pop does not pop return addresses", src: "call @f; f: pop $0", kind: ErrStackEmpty, pc: 4, instr: []string{"pop $0"}},
		{name: "ret without call", src: "ret", kind: ErrReturnWithoutCall, pc: 0, instr: []string{"ret"}},
		{name: "ret once too often", src: "call @f; ret; f: ret", kind: ErrReturnWithoutCall, pc: 4, instr: []string{"ret"}},
		{name: "ret does not use the value stack", src: "load $0 #8; push $0; ret", kind: ErrReturnWithoutCall, pc: 8, instr: []string{"ret"}},

		{name: "jmp negative", src: "load $0 #-4; jmp $0", kind: ErrJumpOutOfRange, pc: 4, instr: []string{"jmp $0"}},
		{name: "jmp misaligned", src: "load $0 #2; jmp $0; nop", kind: ErrJumpOutOfRange, pc: 4, instr: []string{"jmp $0"}, detail: "multiple of 4"},
		{name: "jmp too far", src: "load $0 #12; jmp $0", kind: ErrJumpOutOfRange, pc: 4, instr: []string{"jmp $0"}},
		{name: "jmp MaxInt32", src: reg(maxI32, 5) + "; jmp $5", kind: ErrJumpOutOfRange, pc: 8, instr: []string{"jmp $5"}},
		{name: "jmpe taken too far", src: "load $1 #100; eq $0 $0; jmpe $1", kind: ErrJumpOutOfRange, pc: 8, instr: []string{"jmpe $1"}},
		{name: "jmpf beyond the end", src: "load $0 #8; jmpf $0", kind: ErrJumpOutOfRange, pc: 4, instr: []string{"jmpf $0"}},
		{name: "jmpf misaligned", src: "load $0 #6; jmpf $0; nop; nop", kind: ErrJumpOutOfRange, pc: 4, instr: []string{"jmpf $0"}},
		{name: "jmpb before the start", src: "load $0 #8; jmpb $0", kind: ErrJumpOutOfRange, pc: 4, instr: []string{"jmpb $0"}},
		{name: "jmpb negative beyond the end", src: "load $0 #-8; jmpb $0", kind: ErrJumpOutOfRange, pc: 4, instr: []string{"jmpb $0"}},
		{name: "djmpe label beyond the code", src: "eq $0 $0; djmpe @100", kind: ErrJumpOutOfRange, pc: 4, instr: []string{"djmpe @L0064"}},
		{name: "call misaligned label", src: "call @2; nop", kind: ErrJumpOutOfRange, pc: 0, instr: []string{"call @L0002"}},
		{name: "loop label beyond the code", src: "cloop #1; loop @64", kind: ErrJumpOutOfRange, pc: 4, instr: []string{"loop @L0040"}},

		{name: "unknown opcode 99", src: "inc $0; raw 63 00 00 00", kind: ErrUnknownOpcode, pc: 4, instr: []string{"63 00 00 00", "igl ; 63 00 00 00 (unknown opcode 99)"}, detail: "99", check: regs(R{0: 1})},
		{name: "unknown opcode 200", src: "raw c8 01 02 03", kind: ErrUnknownOpcode, pc: 0, instr: []string{"c8 01 02 03", "igl ; c8 01 02 03 (unknown opcode 200)"}, detail: "200"},
		{name: "unknown opcode 56", src: "raw 38 00 00 00", kind: ErrUnknownOpcode, pc: 0, instr: []string{"38 00 00 00", "igl ; 38 00 00 00 (unknown opcode 56)"}, detail: "56"},
		{name: "unknown opcode 255", src: "raw ff 00 00 00", kind: ErrUnknownOpcode, pc: 0, instr: []string{"ff 00 00 00", "igl ; ff 00 00 00 (unknown opcode 255)"}, detail: "255"},
		{name: "igl", src: "nop; igl", kind: ErrIllegalInstruction, pc: 4, instr: []string{"igl"}},
		{name: "igl with operand bytes", src: "raw 64 01 02 03", kind: ErrIllegalInstruction, pc: 0, instr: []string{"igl"}},

		{name: "truncated 2 bytes", src: "load $0 #1; raw 05 00", kind: ErrTruncatedInstruction, pc: 4, instr: []string{"05 00", "igl ; 05 00 (truncated)"}, detail: "2 of 4", check: regs(R{0: 1})},
		{name: "truncated 1 byte", src: "raw 10", kind: ErrTruncatedInstruction, pc: 0, instr: []string{"10", "igl ; 10 (truncated)"}, detail: "1 of 4"},
		{name: "truncated 3 bytes", src: "nop; nop; raw 01 02 03", kind: ErrTruncatedInstruction, pc: 8, instr: []string{"01 02 03", "igl ; 01 02 03 (truncated)"}, detail: "3 of 4"},

		{name: "bad register a", src: "add $32 $0 $0", kind: ErrBadRegister, pc: 0, instr: []string{"01 20 00 00", "add $32 $0 $0"}, detail: "32"},
		{name: "bad register b", src: "nop; add $0 $33 $0", kind: ErrBadRegister, pc: 4, instr: []string{"01 00 21 00", "add $0 $33 $0"}, detail: "33"},
		{name: "bad register c", src: "add $0 $0 $255", kind: ErrBadRegister, pc: 0, instr: []string{"01 00 00 ff", "add $0 $0 $255"}, detail: "255"},
		{name: "bad float register c", src: "addf64 $f0 $f1 $f40", kind: ErrBadRegister, pc: 0, instr: []string{"17 00 01 28", "addf64 $f0 $f1 $f40"}, detail: "40"},
		{name: "bad register of load", src: "load $32 #1", kind: ErrBadRegister, pc: 0, instr: []string{"00 20 00 01", "load $32 #1"}},
		{name: "bad register of not b", src: "not $0 $32", kind: ErrBadRegister, pc: 0, instr: []string{"26 00 20 00", "not $0 $32"}},
		{name: "bad float register of itof", src: "itof $0 $f32", kind: ErrBadRegister, pc: 0, instr: []string{"34 00 20 00", "itof $0 $f32"}},
		{name: "bad float register of ftoi", src: "ftoi $f32 $0", kind: ErrBadRegister, pc: 0, instr: []string{"35 20 00 00", "ftoi $f32 $0"}},
		{name: "bad register of push", src: "push $99", kind: ErrBadRegister, pc: 0, instr: []string{"2c 63 00 00", "push $99"}},
		{name: "bad register of ldf64", ro: f64(1), src: "ldf64 $f32 @0", kind: ErrBadRegister, pc: 0, instr: []string{"37 20 00 00", "ldf64 $f32 @D0000"}},

		{name: "prts past the end", ro: []byte("hi\x00"), src: "prts @100", kind: ErrDataOutOfRange, pc: 0, instr: []string{"prts @D0064"}},
		{name: "prts at the end", ro: []byte("hi\x00"), src: "prts @3", kind: ErrDataOutOfRange, pc: 0, instr: []string{"prts @D0003"}},
		{name: "prts with no data", src: "prts @0", kind: ErrDataOutOfRange, pc: 0, instr: []string{"prts @D0000"}},
		{name: "prts with no terminator", ro: []byte("hi\x00abc"), src: "prts @0; prts @3", kind: ErrDataOutOfRange, pc: 4, instr: []string{"prts @D0003"}, detail: "zero"},
		{name: "ldf64 past the end", ro: []byte("abcd"), src: "ldf64 $f0 @0", kind: ErrDataOutOfRange, pc: 0, instr: []string{"ldf64 $f0 @D0000"}},
		{name: "ldf64 partly past the end", ro: make([]byte, 12), src: "ldf64 $f1 @4; ldf64 $f1 @5", kind: ErrDataOutOfRange, pc: 4, instr: []string{"ldf64 $f1 @D0005"}},
		{name: "ldf64 at 65535", ro: make([]byte, 16), src: "ldf64 $f1 @65535", kind: ErrDataOutOfRange, pc: 0, instr: []string{"ldf64 $f1 @Dffff"}},

		{name: "ftoi NaN", src: "divf64 $f1 $f1 $f0; load $0 #7; ftoi $f0 $0", kind: ErrFloatConversion, pc: 8, instr: []string{"ftoi $f0 $0"}, detail: "NaN", check: regs(R{0: 7})},
		{name: "ftoi +Inf", src: "loadf64 $f1 #1; divf64 $f1 $f2 $f3; ftoi $f3 $4", kind: ErrFloatConversion, pc: 8, instr: []string{"ftoi $f3 $4"}, detail: "+Inf"},
		{name: "ftoi -Inf", src: "loadf64 $f1 #-1; divf64 $f1 $f2 $f3; ftoi $f3 $4", kind: ErrFloatConversion, pc: 8, instr: []string{"ftoi $f3 $4"}},
		{name: "ftoi 3e9", ro: f64(3e9), src: "ldf64 $f0 @0; ftoi $f0 $1", kind: ErrFloatConversion, pc: 4, instr: []string{"ftoi $f0 $1"}},
		{name: "ftoi 2^31", ro: f64(2147483648), src: "ldf64 $f0 @0; ftoi $f0 $1", kind: ErrFloatConversion, pc: 4, instr: []string{"ftoi $f0 $1"}},
		{name: "ftoi -2^31-1", ro: f64(-2147483649), src: "ldf64 $f0 @0; ftoi $f0 $1", kind: ErrFloatConversion, pc: 4, instr: []string{"ftoi $f0 $1"}},

		{name: "prts output error", cfg: Config{Stdout: failWriter{errDiskFull}}, ro: []byte("x\x00"), src: "prts @0", kind: ErrOutput, pc: 0, instr: []string{"prts @D0000"}, detail: "disk full"},
		{name: "prti output error", cfg: Config{Stdout: failWriter{errDiskFull}}, src: "nop; prti $0", kind: ErrOutput, pc: 4, instr: []string{"prti $0"}, detail: "disk full"},
		{name: "prtf64 output error", cfg: Config{Stdout: failWriter{errDiskFull}}, src: "prtf64 $f3", kind: ErrOutput, pc: 0, instr: []string{"prtf64 $f3"}, detail: "disk full"},
	}
}

func TestFaults(t *testing.T) {
	for _, tc := range faultCases() {
		t.Run(tc.name, func(t *testing.T) {
			m, _ := newVM(t, tc.cfg, tc.ro, tc.src)
			err := run(m)
			checkFault(t, err, tc.kind, tc.pc, tc.instr, tc.detail)
			if m.PC() != tc.pc {
				t.Errorf("pc after the fault = %d, want %d", m.PC(), tc.pc)
			}
			if m.Done() {
				t.Errorf("Done() = true after a fault")
			}
			if tc.kind == ErrOutput && !errors.Is(err, errDiskFull) {
				t.Errorf("errors.Is(err, the write error) = false")
			}
			if tc.check != nil {
				tc.check(t, m)
			}
			// Running again faults again at the same place.
			err2 := run(m)
			checkFault(t, err2, tc.kind, tc.pc, tc.instr, tc.detail)
			checkUsable(t, m)
		})
	}
}

// checkFault checks that err is a *Fault of the kind, at pc, for the
// instruction.
func checkFault(t *testing.T, err, kind error, pc int, instr []string, detail string) {
	t.Helper()
	if err == nil {
		t.Fatalf("Run = nil, want %v", kind)
	}
	if !errors.Is(err, kind) {
		t.Errorf("errors.Is(%v, %v) = false", err, kind)
	}
	var f *Fault
	if !errors.As(err, &f) {
		t.Fatalf("errors.As(%v, *Fault) = false", err)
	}
	if f.Err != kind {
		t.Errorf("Fault.Err = %v, want %v", f.Err, kind)
	}
	if f.PC != pc {
		t.Errorf("Fault.PC = %d, want %d", f.PC, pc)
	}
	if instr != nil && !slices.Contains(instr, f.Instr) {
		t.Errorf("Fault.Instr = %q, want one of %q", f.Instr, instr)
	}
	msg := err.Error()
	if !strings.Contains(msg, kind.Error()) || !strings.HasPrefix(msg, fmt.Sprintf("pc %d: ", pc)) || !strings.Contains(msg, f.Instr) {
		t.Errorf("message %q does not give pc %d, the instruction %q and %q", msg, pc, f.Instr, kind)
	}
	if detail != "" && !strings.Contains(msg, detail) {
		t.Errorf("message %q does not say %q", msg, detail)
	}
}

// checkUsable resets the VM, loads another program and runs it.
func checkUsable(t *testing.T, m *VM) {
	t.Helper()
	m.Reset()
	if m.PC() != 0 || m.HeapSize() != 0 || m.StackDepth() != 0 || m.Registers() != ([NumRegisters]int32{}) || m.Flag() {
		t.Errorf("Reset left state behind")
	}
	// It has a loop, a call and a jump, where an interruption is noticed.
	m.Load(&Program{Code: enc(t, "load $0 #7; cloop #5; top: nop; loop @top; call @f; load $4 #40; jmp $4; f: load $1 #6; mul $0 $1 $2; ret; push $2; pop $3")})
	if err := run(m); err != nil {
		t.Fatalf("Run after the fault: %v", err)
	}
	if got := m.Registers()[3]; got != 42 {
		t.Errorf("after the fault a new program computed %d, want 42", got)
	}
}

func TestHeapLimitExact(t *testing.T) {
	m, _ := newVM(t, Config{HeapLimit: 16}, nil, "load $0 #8; aloc $0; aloc $0; load $1 #12; setm $1 $0; loadm $1 $2")
	if err := run(m); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if m.HeapSize() != 16 || m.Registers()[2] != 8 {
		t.Errorf("heap size %d, $2 = %d; want 16, 8", m.HeapSize(), m.Registers()[2])
	}
}

func TestStackLimitExact(t *testing.T) {
	// Three values and three return addresses fit a limit of 3.
	m, _ := newVM(t, Config{StackLimit: 3}, nil, "push $0; push $0; push $0; call @a; hlt; a: call @b; ret; b: call @c; ret; c: inc $1; ret")
	if err := run(m); err != nil {
		t.Fatalf("Run: %v", err)
	}
	if m.StackDepth() != 3 || m.Registers()[1] != 1 || int(m.csp) != 0 {
		t.Errorf("stack depth %d, $1 = %d, calls %d; want 3, 1, 0", m.StackDepth(), m.Registers()[1], int(m.csp))
	}
}

func TestInterruptBeforeRun(t *testing.T) {
	m, _ := newVM(t, Config{}, nil, "load $0 #1; hlt")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := m.Run(ctx)
	checkFault(t, err, ErrInterrupted, 0, []string{"load $0 #1"}, "")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("errors.Is(%v, context.Canceled) = false", err)
	}
	if m.Registers()[0] != 0 || m.PC() != 0 {
		t.Errorf("a cancelled Run executed something: $0 = %d, pc = %d", m.Registers()[0], m.PC())
	}
	// A live context runs it.
	if err := run(m); err != nil || m.Registers()[0] != 1 {
		t.Errorf("Run after the cancelled Run = %v, $0 = %d", err, m.Registers()[0])
	}
	checkUsable(t, m)
}

// signalWriter closes started at its first write.
type signalWriter struct {
	once    sync.Once
	started chan struct{}
}

func (w *signalWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.started) })
	return len(p), nil
}

func TestInterruptEndlessLoop(t *testing.T) {
	// Each program prints once, then loops forever on a different kind of
	// jump; the fault must be at one of the loop's instructions.
	cases := []struct {
		name  string
		limit int
		src   string
		pc    int
	}{
		{"djmpe to itself", 0, "prti $0; eq $0 $0; l: djmpe @l", 8},
		{"jmp to itself", 0, "prti $0; load $1 #8; jmp $1", 8},
		{"jmpb 0", 0, "prti $0; jmpb $1", 4},
		{"jmpf 0", 0, "prti $0; jmpf $1", 4},
		{"jmpe", 0, "prti $0; eq $0 $0; load $1 #12; jmpe $1", 12},
		{"loop", 0, "prti $0; top: cloop #1; loop @top", 8},
		{"endless recursion", math.MaxInt, "prti $0; f: call @f", 4},
		{"busy loop", 0, "prti $0; top: inc $0; add $0 $1 $2; neq $0 $5; djmpe @top", 16},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := &signalWriter{started: make(chan struct{})}
			m, _ := newVM(t, Config{Stdout: w, StackLimit: tc.limit}, nil, tc.src)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan error, 1)
			go func() { done <- m.Run(ctx) }()
			deadline := time.After(10 * time.Second)
			select {
			case <-w.started:
			case err := <-done:
				t.Fatalf("Run ended before it was cancelled: %v", err)
			case <-deadline:
				t.Fatal("the program did not start within 10s")
			}
			cancel()
			var err error
			select {
			case err = <-done:
			case <-deadline:
				t.Fatal("Run did not stop within 10s of the cancellation")
			}
			var f *Fault
			if !errors.As(err, &f) {
				t.Fatalf("Run = %v, want a *Fault", err)
			}
			checkFault(t, err, ErrInterrupted, f.PC, nil, "")
			if !errors.Is(err, context.Canceled) {
				t.Errorf("errors.Is(%v, context.Canceled) = false", err)
			}
			if f.PC != tc.pc || m.PC() != f.PC {
				t.Errorf("interrupted at pc %d (VM pc %d), want %d", f.PC, m.PC(), tc.pc)
			}
			if want := DisassembleInstruction(m.Program().Code[f.PC : f.PC+4]); f.Instr != want {
				t.Errorf("Fault.Instr = %q, want %q", f.Instr, want)
			}
			checkUsable(t, m)
		})
	}
}

func TestInterruptCause(t *testing.T) {
	m, _ := newVM(t, Config{}, nil, "l: djmpe @l")
	why := errors.New("shutting down")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(why)
	err := m.Run(ctx)
	if !errors.Is(err, ErrInterrupted) || !errors.Is(err, why) || !strings.Contains(err.Error(), "shutting down") {
		t.Errorf("Run = %v, want interrupted with the cause", err)
	}
}

// TestLateCancelOfEarlierRun: the cancel of one run's context may run
// its function on another goroutine late, after that run has ended and
// the next has begun; it must not interrupt the next run.
func TestLateCancelOfEarlierRun(t *testing.T) {
	m, _ := newVM(t, Config{}, nil, "load $1 #1000; top: inc $0; neq $0 $1; djmpe @top; hlt")
	var kept []func()
	m.set.afterFunc = func(_ context.Context, f func()) func() bool {
		kept = append(kept, f)
		if len(kept) == 2 {
			kept[0]() // the first run's cancel lands as the second run starts
		}
		return func() bool { return false } // as if f had already started
	}
	for run := 1; run <= 2; run++ {
		m.Reset()
		if err := m.Run(context.Background()); err != nil {
			t.Fatalf("run %d = %v, want nil", run, err)
		}
		if got := m.Registers()[0]; got != 1000 {
			t.Errorf("run %d: $0 = %d, want 1000", run, got)
		}
	}
	// A run's own cancel still interrupts it.
	m.Reset()
	m.set.afterFunc = func(_ context.Context, f func()) func() bool { f(); return func() bool { return false } }
	if err := m.Run(context.Background()); !errors.Is(err, ErrInterrupted) {
		t.Errorf("Run = %v, want interrupted by its own context", err)
	}
}

// The step test program: arithmetic, a loop, a call, the stack, the heap,
// floats and output.
const stepSrc = `
	load $0 #3
	load $1 #0
	top: add $1 $0 $1
	dec $0
	neq $0 $2
	djmpe @top
	call @f
	prti $1
	hlt
	f: push $1
	pop $4
	load $5 #4
	aloc $5
	setm $2 $4
	loadm $2 $6
	itof $6 $f0
	loadf64 $f1 #4
	divf64 $f0 $f1 $f2
	prtf64 $f2
	ret
`

func TestStepMatchesRun(t *testing.T) {
	ran, ranOut := newVM(t, Config{}, nil, stepSrc)
	if err := run(ran); err != nil {
		t.Fatalf("Run: %v", err)
	}
	stepped, stepOut := newVM(t, Config{}, nil, stepSrc)
	// The expected path: 0 4, then the loop body 8 12 16 20 three times,
	// then call (24) into f (36..76), ret back to 28, prti, hlt at 32.
	var path []int
	path = append(path, 0, 4)
	for range 3 {
		path = append(path, 8, 12, 16, 20)
	}
	path = append(path, 24)
	for a := 36; a <= 76; a += 4 {
		path = append(path, a)
	}
	path = append(path, 28, 32)
	for i, at := range path {
		if stepped.Done() {
			t.Fatalf("Done() before step %d", i)
		}
		if stepped.PC() != at {
			t.Fatalf("step %d: pc = %d, want %d", i, stepped.PC(), at)
		}
		if err := stepped.Step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if stepped.Steps() != uint64(i+1) {
			t.Errorf("Steps() = %d after %d steps", stepped.Steps(), i+1)
		}
	}
	if !stepped.Done() || stepped.PC() != 36 {
		t.Errorf("after the hlt: Done() = %v, pc = %d; want true, 36", stepped.Done(), stepped.PC())
	}
	// Step when done does nothing.
	if err := stepped.Step(); err != nil || stepped.PC() != 36 || stepped.Steps() != uint64(len(path)) {
		t.Errorf("Step when done: %v, pc %d, steps %d", err, stepped.PC(), stepped.Steps())
	}
	want := state{
		regs:  R{1: 6, 4: 6, 5: 4, 6: 6},
		fregs: F{0: 6, 1: 4, 2: 1.5},
		heap:  []byte{6, 0, 0, 0},
		out:   "1.5\n6\n",
		pc:    36,
	}
	checkState(t, ran, ranOut.String(), want)
	checkState(t, stepped, stepOut.String(), want)
	if ran.Steps() != stepped.Steps() {
		t.Errorf("Run took %d steps, Step %d", ran.Steps(), stepped.Steps())
	}
}

func TestStepFault(t *testing.T) {
	m, _ := newVM(t, Config{}, nil, "load $0 #1; div $0 $1 $2")
	if err := m.Step(); err != nil {
		t.Fatalf("step 1: %v", err)
	}
	checkFault(t, m.Step(), ErrDivisionByZero, 4, []string{"div $0 $1 $2"}, "")
	if m.PC() != 4 || m.Done() {
		t.Errorf("after the fault: pc %d, done %v; want 4, false", m.PC(), m.Done())
	}
}

// TestConcurrentVMs runs 8 VMs with different programs at once; run it with
// -race.
func TestConcurrentVMs(t *testing.T) {
	type job struct {
		src  string
		reg  int
		want int32
		out  string
	}
	var jobs []job
	for i := range 8 {
		n := 1000 * (i + 1)
		switch i % 4 {
		case 0: // sum 1..n with djmpe
			jobs = append(jobs, job{fmt.Sprintf("load $0 #%d; top: add $1 $0 $1; dec $0; neq $0 $2; djmpe @top; prti $1", n), 1, int32(n * (n + 1) / 2), fmt.Sprintf("%d\n", n*(n+1)/2)})
		case 1: // count with cloop/loop
			jobs = append(jobs, job{fmt.Sprintf("cloop #%d; top: inc $3; loop @top; prti $3", n), 3, int32(n + 1), fmt.Sprintf("%d\n", n+1)})
		case 2: // push n values and pop them, summing
			jobs = append(jobs, job{fmt.Sprintf("load $0 #%d; a: push $0; dec $0; neq $0 $9; djmpe @a; load $0 #%d; b: pop $1; add $1 $2 $2; dec $0; neq $0 $9; djmpe @b; prti $2", n, n),
				2, int32(n * (n + 1) / 2), fmt.Sprintf("%d\n", n*(n+1)/2)})
		case 3: // recursion depth n through call
			jobs = append(jobs, job{fmt.Sprintf("load $0 #%d; call @f; prti $1; hlt; f: inc $1; dec $0; neq $0 $9; djmpe @g; ret; g: call @f; ret", n),
				1, int32(n), fmt.Sprintf("%d\n", n)})
		}
	}
	var wg sync.WaitGroup
	errs := make([]error, len(jobs))
	vms := make([]*VM, len(jobs))
	outs := make([]*bytes.Buffer, len(jobs))
	for i, j := range jobs {
		vms[i], outs[i] = newVM(t, Config{}, nil, j.src)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 { // run each several times, to overlap
				vms[i].Reset()
				outs[i].Reset()
				if errs[i] = vms[i].Run(context.Background()); errs[i] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	for i, j := range jobs {
		if errs[i] != nil {
			t.Errorf("vm %d: %v", i, errs[i])
			continue
		}
		if got := vms[i].Registers()[j.reg]; got != j.want || outs[i].String() != j.out {
			t.Errorf("vm %d: $%d = %d, output %q; want %d, %q", i, j.reg, got, outs[i].String(), j.want, j.out)
		}
	}
}

func TestWriteRegisters(t *testing.T) {
	m, _ := newVM(t, Config{}, f64(negZro, 1.5), "load $0 #5; load $3 #-7; load $31 #32767; ldf64 $f1 @8; ldf64 $f2 @0; loadf64 $f31 #100")
	if err := run(m); err != nil {
		t.Fatal(err)
	}
	var all strings.Builder
	for i := range NumRegisters {
		v := map[int]int{0: 5, 3: -7, 31: 32767}[i]
		fmt.Fprintf(&all, "$%d = %d\n", i, v)
	}
	for i := range NumRegisters {
		v := map[int]string{1: "1.5", 2: "-0.0", 31: "100.0"}[i]
		if v == "" {
			v = "0.0"
		}
		fmt.Fprintf(&all, "$f%d = %s\n", i, v)
	}
	var b bytes.Buffer
	if err := m.WriteRegisters(&b, false); err != nil {
		t.Fatal(err)
	}
	if b.String() != all.String() {
		t.Errorf("WriteRegisters(all):\n%s\nwant:\n%s", b.String(), all.String())
	}
	b.Reset()
	if err := m.WriteRegisters(&b, true); err != nil {
		t.Fatal(err)
	}
	want := "$0 = 5\n$3 = -7\n$31 = 32767\n$f1 = 1.5\n$f2 = -0.0\n$f31 = 100.0\n"
	if b.String() != want {
		t.Errorf("WriteRegisters(nonZero) = %q, want %q", b.String(), want)
	}
	if err := m.WriteRegisters(failWriter{errDiskFull}, false); !errors.Is(err, errDiskFull) {
		t.Errorf("WriteRegisters to a failing writer = %v, want the write error", err)
	}
	// A fresh VM with nonZero writes nothing.
	b.Reset()
	if err := New(Config{}).WriteRegisters(&b, true); err != nil || b.Len() != 0 {
		t.Errorf("WriteRegisters(nonZero) of a fresh VM = %q, %v", b.String(), err)
	}
}

func TestFormatFloat(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{2, "2.0"},
		{1.5, "1.5"},
		{negZro, "-0.0"},
		{0, "0.0"},
		{-3, "-3.0"},
		{0.1, "0.1"},
		{nan, "NaN"},
		{inf, "+Inf"},
		{math.Inf(-1), "-Inf"},
		{1e21, "1e+21"},
		{1e-7, "1e-07"},
		{123456, "123456.0"},
	}
	for _, tt := range tests {
		if got := FormatFloat(tt.in); got != tt.want {
			t.Errorf("FormatFloat(%v) = %q, want %q", tt.in, got, tt.want)
		}
		if got := string(AppendFloat([]byte("x="), tt.in)); got != "x="+tt.want {
			t.Errorf("AppendFloat(x=, %v) = %q", tt.in, got)
		}
		// It reads back to the same value.
		if back, err := strconv.ParseFloat(tt.want, 64); err != nil || !sameFloat(back, tt.in) {
			t.Errorf("%q reads back as %v, %v", tt.want, back, err)
		}
	}
}

// TestSetPC checks the program counter setter's bounds.
func TestSetPC(t *testing.T) {
	m, _ := newVM(t, Config{}, nil, "inc $0; inc $1; inc $2")
	for _, addr := range []int{0, 4, 8, 12} {
		if err := m.SetPC(addr); err != nil || m.PC() != addr {
			t.Errorf("SetPC(%d) = %v, pc %d", addr, err, m.PC())
		}
	}
	for _, addr := range []int{-4, 2, 16, 1 << 40} {
		if err := m.SetPC(addr); !errors.Is(err, ErrJumpOutOfRange) {
			t.Errorf("SetPC(%d) = %v, want ErrJumpOutOfRange", addr, err)
		}
	}
	if err := m.SetPC(4); err != nil {
		t.Fatal(err)
	}
	if err := run(m); err != nil {
		t.Fatal(err)
	}
	if r := m.Registers(); r[0] != 0 || r[1] != 1 || r[2] != 1 {
		t.Errorf("run from 4: %v", r[:3])
	}
}

var _ io.Writer = failWriter{}

func TestHeapBudget(t *testing.T) {
	budget := NewHeapBudget(100)
	cfg := Config{HeapBudget: budget}
	a, _ := newVM(t, cfg, nil, "load $0 #60; aloc $0")
	b, _ := newVM(t, cfg, nil, "load $0 #60; aloc $0")
	if err := run(a); err != nil {
		t.Fatal(err)
	}
	err := run(b)
	checkFault(t, err, ErrHeapBudget, 4, nil, "60 more bytes; the budget of 100 bytes for all heaps has 40 left")
	if !strings.Contains(err.Error(), "node heap budget exhausted") {
		t.Errorf("fault %q does not say the budget is exhausted", err)
	}
	if got := budget.Used(); got != 60 {
		t.Errorf("Used() = %d after a refused ALOC, want 60", got)
	}
	a.Reset() // gives its 60 bytes back
	if got := budget.Used(); got != 0 {
		t.Errorf("Used() = %d after Reset, want 0", got)
	}
	if err := b.SetPC(0); err != nil {
		t.Fatal(err)
	}
	if err := run(b); err != nil || b.HeapSize() != 60 || budget.Used() != 60 {
		t.Errorf("after the other VM's Reset: %v, heap %d bytes, %d used; want nil, 60, 60", err, b.HeapSize(), budget.Used())
	}
}

// TestHeapBudgetConcurrent: VMs on several goroutines grow their heaps
// from one budget until it refuses; together they get exactly what fits.
func TestHeapBudgetConcurrent(t *testing.T) {
	const vms, step, limit = 8, 16, 1000
	budget := NewHeapBudget(limit)
	var wg sync.WaitGroup
	machines := make([]*VM, vms)
	for i := range machines {
		machines[i], _ = newVM(t, Config{HeapBudget: budget}, nil, "load $0 #16; top: aloc $0; djmpe @top")
		wg.Add(1)
		go func() {
			defer wg.Done()
			machines[i].flag = true
			if err := run(machines[i]); !errors.Is(err, ErrHeapBudget) {
				t.Errorf("Run = %v, want the budget exhausted", err)
			}
		}()
	}
	wg.Wait()
	total := 0
	for _, m := range machines {
		total += m.HeapSize()
	}
	if want := limit / step * step; total != want || budget.Used() != int64(want) {
		t.Errorf("heaps hold %d bytes, budget used %d; want %d", total, budget.Used(), want)
	}
	for _, m := range machines {
		m.Reset()
	}
	if budget.Used() != 0 {
		t.Errorf("Used() = %d after every Reset, want 0", budget.Used())
	}
}

// TestHeapBudgetReleasedByGarbage: a VM dropped without Reset gives its
// bytes back once the garbage collector finds it.
func TestHeapBudgetReleasedByGarbage(t *testing.T) {
	budget := NewHeapBudget(1 << 20)
	func() {
		m, _ := newVM(t, Config{HeapBudget: budget}, nil, "load $0 #4096; aloc $0")
		if err := run(m); err != nil {
			t.Fatal(err)
		}
	}()
	deadline := time.Now().Add(10 * time.Second)
	for budget.Used() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("Used() = %d 10s after the VM became garbage, want 0", budget.Used())
		}
		runtime.GC()
		runtime.Gosched()
	}
}

// TestHeapGrowthKeepsContents: growing the heap keeps what was written and
// adds zero bytes, across many growths and after a Reset.
func TestHeapGrowthKeepsContents(t *testing.T) {
	m, _ := newVM(t, Config{HeapLimit: 1 << 20}, nil, `
		load $0 #4; load $1 #7; load $2 #4000; load $3 #0
		aloc $0; setm $3 $1
		top: aloc $2; inc $4; lt $4 $0; djmpe @top
		loadm $3 $5; load $6 #12000; loadm $6 $7; hlt`)
	for round := range 2 {
		if err := run(m); err != nil {
			t.Fatal(err)
		}
		if r := m.Registers(); m.HeapSize() != 16004 || r[5] != 7 || r[7] != 0 {
			t.Errorf("round %d: heap %d bytes, first word %d, a later word %d; want 16004, 7, 0", round, m.HeapSize(), r[5], r[7])
		}
		m.Reset()
	}
}

// slicedProgram has fused loops, a counted loop and calls: the places
// where a run stops at a limit or an interruption.
const slicedProgram = `load $1 #1500; load $2 #1500
	outer: load $0 #0
	inner: inc $0; neq $0 $1; djmpe @inner
	call @f; inc $3; neq $3 $2; djmpe @outer
	cloop #1000; top: inc $5; loop @top
	hlt
	f: add $6 $0 $6; ret`

// wholeRun is slicedProgram run in one Run.
func wholeRun(t *testing.T) *VM {
	t.Helper()
	m, _ := newVM(t, Config{}, nil, slicedProgram)
	if err := run(m); err != nil {
		t.Fatal(err)
	}
	if want := int32(1500 * 1500); m.Registers()[6] != want {
		t.Fatalf("the whole run computed $6 = %d, want %d", m.Registers()[6], want)
	}
	return m
}

// checkSameEnd fails unless m ended as whole did.
func checkSameEnd(t *testing.T, m, whole *VM, how string) {
	t.Helper()
	if !m.Done() || m.Registers() != whole.Registers() || m.Flag() != whole.Flag() || m.PC() != whole.PC() || m.Steps() != whole.Steps() {
		t.Errorf("%s: done %v, registers %v, flag %v, pc %d, %d steps; in one run: %v, %v, %d, %d", how,
			m.Done(), m.Registers(), m.Flag(), m.PC(), m.Steps(), whole.Registers(), whole.Flag(), whole.PC(), whole.Steps())
	}
}

// TestRunCarriesOnAfterInterrupt interrupts a run again and again, each
// time calling Run again, and wants the state of one whole run: an
// interruption stops before the instruction it names, and Run carries on
// from there.
func TestRunCarriesOnAfterInterrupt(t *testing.T) {
	whole := wholeRun(t)
	m, _ := newVM(t, Config{}, nil, slicedProgram)
	why := errors.New("a slice of the run is over")
	interruptions := 0
	for ; ; interruptions++ {
		ctx, cancel := context.WithTimeoutCause(context.Background(), 100*time.Microsecond, why)
		err := m.Run(ctx)
		cancel()
		if err == nil {
			break
		}
		if !errors.Is(err, ErrInterrupted) || !errors.Is(err, why) {
			t.Fatalf("after %d interruptions, Run = %v, want an interruption by the timeout", interruptions, err)
		}
		if interruptions > 1e6 {
			t.Fatal("the run makes no progress between interruptions")
		}
	}
	if interruptions == 0 {
		t.Skip("the run ended before its first timeout: nothing was interrupted")
	}
	checkSameEnd(t, m, whole, fmt.Sprintf("after %d interruptions", interruptions))
}
