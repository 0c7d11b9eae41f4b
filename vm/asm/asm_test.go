package asm

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/iridium-vm/iridium/vm"
)

// hexb turns "00 01 ff" into bytes; "|" may separate instructions.
func hexb(t testing.TB, s string) []byte {
	t.Helper()
	s = strings.NewReplacer(" ", "", "|", "", "\n", "", "\t", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// f64le is the 8 bytes of a float in the read-only data: little-endian.
func f64le(vs ...float64) []byte {
	var b []byte
	for _, v := range vs {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

// asmOK assembles src, failing the test on error.
func asmOK(t testing.TB, src string) *vm.Program {
	t.Helper()
	p, err := Assemble("t.iasm", src)
	if err != nil {
		t.Fatalf("Assemble(%q): %v", src, err)
	}
	return p
}

// runProg runs a program to its end and returns the VM.
func runProg(t testing.TB, p *vm.Program) *vm.VM {
	t.Helper()
	m := vm.New(vm.Config{})
	m.Load(p)
	if err := m.Run(context.Background()); err != nil {
		t.Fatalf("run: %v", err)
	}
	return m
}

func sameBytes(t *testing.T, what, src string, got, want []byte) {
	t.Helper()
	if !bytes.Equal(got, want) {
		t.Errorf("%s of %q:\n got % x\nwant % x", what, src, got, want)
	}
}

// Each operand kind encoded as the table says: opcode byte, registers and
// shift counts one byte, 16-bit numbers two bytes high first, labels three
// bytes high first, the rest of the 4 bytes zero. Operands are chosen so
// that a swapped or misplaced byte shows.
func TestEncodeOperandKinds(t *testing.T) {
	tests := []struct {
		src, code, ro string
	}{
		{"add $3 $17 $31", "01 03 11 1f", ""},
		{"sub $31 $0 $9", "02 1f 00 09", ""},
		{"div $1 $2 $3", "04 01 02 03", ""},
		{"neq $30 $7", "0a 1e 07 00", ""},
		{"jmp $25", "06 19 00 00", ""},
		{"not $4 $5", "26 04 05 00", ""},
		{"load $5 #258", "00 05 01 02", ""},
		{"load $31 #-1", "00 1f ff ff", ""},
		{"load $2 #-2", "00 02 ff fe", ""},
		{"load $2 #0", "00 02 00 00", ""},
		{"load $2 #0x1F", "00 02 00 1f", ""},
		{"load $2 #-0x10", "00 02 ff f0", ""},
		{"load $2 #+4", "00 02 00 04", ""},
		{"shl $7 #31", "21 07 1f 00", ""},
		{"shl $7 #16", "21 07 10 00", ""},
		{"shr $8 #1", "22 08 01 00", ""},
		{"lui $2 #4660", "27 02 12 34", ""},
		{"lui $2 #65535", "27 02 ff ff", ""},
		{"lui $2 #0", "27 02 00 00", ""},
		{"cloop #65535", "28 ff ff 00", ""},
		{"cloop #258", "28 01 02 00", ""},
		{"cloop #0", "28 00 00 00", ""},
		{"loadf64 $f9 #-2", "16 09 ff fe", ""},
		{"addf64 $1 $2 $3", "17 01 02 03", ""},
		{"ltef64 $f30 $f31", "20 1e 1f 00", ""},
		{"itof $4 $f5", "34 04 05 00", ""},
		{"ftoi $f5 $4", "35 05 04 00", ""},
		{"movf64 $f6 $f7", "31 06 07 00", ""},
		{"prtf64 $f12", "33 0c 00 00", ""},
		{"rem $13", "36 0d 00 00", ""},
		{"igl", "64 00 00 00", ""},
		{"nop\nnop\nx: djmpe @x", "10 00 00 00 | 10 00 00 00 | 14 00 00 08", ""},
		{"loop @x\ncall @x\nx: ret", "29 00 00 08 | 2e 00 00 08 | 2f 00 00 00", ""},
		{".data\na: .ascii 'abcde'\nb: .asciiz 'z'\n.code\nprts @b\nldf64 $f3 @a",
			"15 00 00 05 | 37 03 00 00", "61 62 63 64 65 7a 00"},
	}
	for _, tt := range tests {
		p := asmOK(t, tt.src)
		sameBytes(t, "code", tt.src, p.Code, hexb(t, tt.code))
		sameBytes(t, "read-only data", tt.src, p.ReadOnly, hexb(t, tt.ro))
	}
}

// Labels and read-only offsets beyond 16 bits use all three bytes, high
// first; LDF64's read-only offset uses two.
func TestEncodeWideAddresses(t *testing.T) {
	const far = 0x010204 // a code address: 16513 instructions in
	src := "call @far\n" + strings.Repeat("nop\n", far/4-1) + "far: hlt\n" +
		".data\n" +
		"pad: .ascii '" + strings.Repeat("p", 0x0102) + "'\n" +
		"f: .float #0.5\n" +
		"pad2: .ascii '" + strings.Repeat("q", 0x010203-0x0102-8) + "'\n" +
		"s: .asciiz 'end'\n" +
		".code\nprts @s\nldf64 $f1 @f\ndjmpe @far\n"
	p := asmOK(t, src)
	tail := p.Code[len(p.Code)-12:]
	sameBytes(t, "first instruction", "call @far", p.Code[:4], hexb(t, "2e 01 02 04"))
	sameBytes(t, "last instructions", "prts @s / ldf64 $f1 @f / djmpe @far", tail,
		hexb(t, "15 01 02 03 | 37 01 01 02 | 14 01 02 04"))
	if p.Code[far] != byte(vm.HLT) {
		t.Errorf("code[%#x] = %#x, want HLT", far, p.Code[far])
	}
	if got := p.ReadOnly[0x0102 : 0x0102+8]; !bytes.Equal(got, f64le(0.5)) {
		t.Errorf("float at 0x0102 = % x, want % x", got, f64le(0.5))
	}
	if got := string(p.ReadOnly[0x010203:]); got != "end\x00" {
		t.Errorf("string at 0x010203 = %q, want %q", got, "end\x00")
	}
}

// exampleBytes is what each instruction's table Example assembles to in
// the program of TestTableExamples, where loop, top and fib are code
// addresses 4, 8 and 12, hello is read-only offset 4 and pi offset 7.
var exampleBytes = map[string]string{
	"load": "00 00 00 64", "add": "01 00 01 02", "sub": "02 00 01 02", "mul": "03 00 01 02",
	"div": "04 00 01 02", "hlt": "05 00 00 00", "jmp": "06 00 00 00", "jmpf": "07 00 00 00",
	"jmpb": "08 00 00 00", "eq": "09 00 01 00", "neq": "0a 00 01 00", "gte": "0b 00 01 00",
	"lte": "0c 00 01 00", "lt": "0d 00 01 00", "gt": "0e 00 01 00", "jmpe": "0f 00 00 00",
	"nop": "10 00 00 00", "aloc": "11 00 00 00", "inc": "12 00 00 00", "dec": "13 00 00 00",
	"djmpe": "14 00 00 04", "prts": "15 00 00 04", "loadf64": "16 00 00 02", "addf64": "17 00 01 02",
	"subf64": "18 00 01 02", "mulf64": "19 00 01 02", "divf64": "1a 00 01 02", "eqf64": "1b 00 01 00",
	"neqf64": "1c 00 01 00", "gtf64": "1d 00 01 00", "gtef64": "1e 00 01 00", "ltf64": "1f 00 01 00",
	"ltef64": "20 00 01 00", "shl": "21 00 04 00", "shr": "22 00 04 00", "and": "23 00 01 02",
	"or": "24 00 01 02", "xor": "25 00 01 02", "not": "26 00 01 00", "lui": "27 00 ff ff",
	"cloop": "28 00 0a 00", "loop": "29 00 00 08", "loadm": "2a 00 01 00", "setm": "2b 00 01 00",
	"push": "2c 00 00 00", "pop": "2d 00 00 00", "call": "2e 00 00 0c", "ret": "2f 00 00 00",
	"mov": "30 00 01 00", "movf64": "31 00 01 00", "prti": "32 00 00 00", "prtf64": "33 00 00 00",
	"itof": "34 00 01 00", "ftoi": "35 00 01 00", "rem": "36 00 00 00", "ldf64": "37 00 00 07",
	"igl":   "64 00 00 00",
	"spawn": "65 00 01 00", "self": "66 00 00 00", "send": "67 00 01 00", "sendp": "68 00 01 00",
	"recv": "69 00 01 00", "recvt": "6a 00 01 02", "from": "6b 00 00 00", "monitor": "6c 00 00 00",
	"kill": "6d 00 00 00", "sendb": "6e 00 01 02", "takeb": "6f 00 00 00",
	"reg": "70 00 00 04", "whereis": "71 00 00 04",
}

// Every instruction's Example in the table assembles, with the labels it
// names defined, to the bytes its encoding says, and disassembles back to
// the example (float registers written $fN, as the disassembler does).
func TestTableExamples(t *testing.T) {
	const prelude = ".data\npad: .ascii 'abcd'\nhello: .asciiz 'hi'\npi: .float #3.14159\n" +
		".code\nnop\nloop: nop\ntop: nop\nfib: nop\n"
	const at = 16 // the byte address of the example
	seen := map[string]bool{}
	for _, in := range vm.Instructions() {
		t.Run(in.Name, func(t *testing.T) {
			seen[in.Name] = true
			want, ok := exampleBytes[in.Name]
			if !ok {
				t.Fatalf("no expected bytes for %q (example %q): add them to exampleBytes", in.Name, in.Example)
			}
			if got := strings.Fields(in.Example)[0]; got != in.Name {
				t.Errorf("example %q does not start with the mnemonic %q", in.Example, in.Name)
			}
			a := New()
			if _, err := a.Assemble("t.iasm", prelude+in.Example); err != nil {
				t.Fatalf("example %q: %v", in.Example, err)
			}
			p := a.Program()
			if len(p.Code) != at+4 {
				t.Fatalf("example %q: %d bytes of code, want %d", in.Example, len(p.Code), at+4)
			}
			sameBytes(t, "code", in.Example, p.Code[at:], hexb(t, want))
			if p.Code[at] != byte(in.Op) {
				t.Errorf("example %q: opcode %#x, want %#x", in.Example, p.Code[at], byte(in.Op))
			}

			// The expected listing: the example with float registers as $fN.
			f := strings.Fields(in.Example)
			for i, k := range in.Operands {
				if k == vm.FloatReg {
					f[i+1] = "$f" + strings.TrimPrefix(f[i+1], "$")
				}
			}
			wantText := strings.Join(f, " ")
			listing := vm.Disassemble(p, a.Names())
			gotText := ""
			for _, line := range strings.Split(listing, "\n") {
				if code, ok := strings.CutSuffix(line, fmt.Sprintf("; %04x", at)); ok {
					fields := strings.Fields(code)
					if len(fields) > 0 && strings.HasSuffix(fields[0], ":") {
						fields = fields[1:]
					}
					gotText = strings.Join(fields, " ")
				}
			}
			if gotText != wantText {
				t.Errorf("example %q disassembles to %q, want %q\nlisting:\n%s", in.Example, gotText, wantText, listing)
			}
		})
	}
	for name := range exampleBytes {
		if !seen[name] {
			t.Errorf("exampleBytes has %q, which the table does not", name)
		}
	}
}

// Sections: no header means code; .data and .code switch back and forth,
// and data laid out in several .data sections is contiguous.
func TestSections(t *testing.T) {
	tests := []struct {
		name, src, code, ro string
	}{
		{"no header is code", "hlt", "05 00 00 00", ""},
		{".code header", ".code\nhlt", "05 00 00 00", ""},
		{"empty source", "", "", ""},
		{"only comments", "; a\n  ; b\n", "", ""},
		{"data only", ".data\ns: .ascii 'ab'", "", "61 62"},
		{"data then code", ".data\ns: .asciiz 'a'\n.code\nprts @s", "15 00 00 00", "61 00"},
		{"code, data, code, data", "nop\n.data\na: .ascii 'x'\n.code\nprts @b\n.data\nb: .asciiz 'y'\n.code\nprts @a",
			"10 00 00 00 | 15 00 00 01 | 15 00 00 00", "78 79 00"},
		{"directives in any case", ".DATA\ns: .ASCIIZ 'a'\nn: .Integer #3\n.Code\nprts @s\ncloop @n",
			"15 00 00 00 | 28 00 03 00", "61 00"},
		{"repeated .code", ".code\n.code\nhlt", "05 00 00 00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := asmOK(t, tt.src)
			sameBytes(t, "code", tt.src, p.Code, hexb(t, tt.code))
			sameBytes(t, "read-only data", tt.src, p.ReadOnly, hexb(t, tt.ro))
		})
	}
}

// symbolsOf assembles src and returns its symbols by name.
func symbolsOf(t *testing.T, src string) (map[string]Symbol, *vm.Program) {
	t.Helper()
	a := New()
	if _, err := a.Assemble("t.iasm", src); err != nil {
		t.Fatalf("Assemble(%q): %v", src, err)
	}
	m := map[string]Symbol{}
	for _, s := range a.Symbols() {
		m[s.Name] = s
	}
	return m, a.Program()
}

// Labels: on the line of their instruction, on a line of their own (any
// number of lines before it), several on one instruction, at the end of
// the file; used before and after they are defined.
func TestLabels(t *testing.T) {
	type sym struct {
		kind  SymbolKind
		value int32
	}
	tests := []struct {
		name string
		src  string
		syms map[string]sym
		code string
	}{
		{"on the instruction's line", "nop\nx: hlt", map[string]sym{"x": {CodeLabel, 4}}, "10000000 05000000"},
		{"on a line of its own", "nop\nx:\n\n; c\n  hlt", map[string]sym{"x": {CodeLabel, 4}}, "10000000 05000000"},
		{"two on one line, one before", "a:\nb: c: hlt", map[string]sym{"a": {CodeLabel, 0}, "b": {CodeLabel, 0}, "c": {CodeLabel, 0}}, "05000000"},
		{"at the end of the file", "nop\nhlt\nend:", map[string]sym{"end": {CodeLabel, 8}}, "10000000 05000000"},
		{"at the end, with a newline and a comment", "nop\nend: ; the end\n\n", map[string]sym{"end": {CodeLabel, 4}}, "10000000"},
		{"forward and backward references", "top: djmpe @bottom\nnop\nbottom: loop @top\ncall @bottom",
			map[string]sym{"top": {CodeLabel, 0}, "bottom": {CodeLabel, 8}},
			"14 00 00 08 | 10 00 00 00 | 29 00 00 00 | 2e 00 00 08"},
		{"a reference to the end label", "djmpe @end\nend:", map[string]sym{"end": {CodeLabel, 4}}, "14 00 00 04"},
		{"a label before a .code directive names the next instruction", "nop\nx:\n.code\nhlt\ncall @x",
			map[string]sym{"x": {CodeLabel, 4}}, "10000000 05000000 2e000004"},
		{"labels are case-sensitive", "a: nop\nA: hlt\ncall @A", map[string]sym{"a": {CodeLabel, 0}, "A": {CodeLabel, 4}},
			"10000000 05000000 2e000004"},
		{"a label may look like a mnemonic", "hlt: nop\ndjmpe @hlt", map[string]sym{"hlt": {CodeLabel, 0}}, "10000000 14000000"},
		{"data labels", ".data\ns: .asciiz 'ab'\nt: .ascii 'c'\nu: .float #2.5\nn: .integer #-7\n.code\nhlt",
			map[string]sym{"s": {StringConst, 0}, "t": {StringConst, 3}, "u": {FloatConst, 4}, "n": {IntConst, -7}}, "05000000"},
		{"a data label on a line of its own", ".data\ns:\n\n.asciiz 'x'", map[string]sym{"s": {StringConst, 0}}, ""},
		{"a label before .data names the data", "x:\n.data\n.asciiz 'q'", map[string]sym{"x": {StringConst, 0}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			syms, p := symbolsOf(t, tt.src)
			if len(syms) != len(tt.syms) {
				t.Errorf("%d symbols %v, want %d", len(syms), syms, len(tt.syms))
			}
			for name, want := range tt.syms {
				got, ok := syms[name]
				if !ok || got.Kind != want.kind || got.Value != want.value {
					t.Errorf("symbol %q = %+v (defined %v), want %v %d", name, got, ok, want.kind, want.value)
				}
			}
			sameBytes(t, "code", tt.src, p.Code, hexb(t, tt.code))
		})
	}
}

// A symbol records where it was defined.
func TestSymbolPosition(t *testing.T) {
	a := New()
	if _, err := a.Assemble("prog.iasm", "nop\n  \tlbl: hlt\n.data\ns: .asciiz 'x'"); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]Pos{"lbl": {2, 4}, "s": {4, 1}} {
		s, ok := a.Lookup(name)
		if !ok || s.File != "prog.iasm" || s.Pos != want || s.Name != name {
			t.Errorf("Lookup(%q) = %+v, %v; want file prog.iasm at %v", name, s, ok, want)
		}
	}
	if _, ok := a.Lookup("nope"); ok {
		t.Error("Lookup of an undefined name succeeded")
	}
}

// .integer constants take no read-only space and can stand wherever a
// number can: LOAD (split if they need it), CLOOP, LUI, shift counts,
// LOADF64.
func TestIntegerConstants(t *testing.T) {
	const data = ".data\nn: .integer #42\nneg: .integer #-7\nbig: .integer #305419896\n" +
		"max: .integer #65535\nsh: .integer #0x1f\n.code\n"
	tests := []struct {
		src, code string
	}{
		{"load $3 @n", "00 03 00 2a"},
		{"load $3 @neg", "00 03 ff f9"},
		{"load $3 @big", "00 03 12 34 | 27 03 56 78"},
		{"cloop @n", "28 00 2a 00"},
		{"cloop @max", "28 ff ff 00"},
		{"lui $1 @max", "27 01 ff ff"},
		{"shl $1 @sh", "21 01 1f 00"},
		{"loadf64 $f2 @neg", "16 02 ff f9"},
		{"load $0 @n\nx: load $1 @big\ny: load $2 @x\nload $3 @y", "00 00 00 2a | 00 01 12 34 | 27 01 56 78 | 00 02 00 04 | 00 03 00 0c"},
	}
	for _, tt := range tests {
		p := asmOK(t, data+tt.src)
		sameBytes(t, "code", tt.src, p.Code, hexb(t, tt.code))
		if len(p.ReadOnly) != 0 {
			t.Errorf("%q: %d bytes of read-only data, want none (.integer takes no space)", tt.src, len(p.ReadOnly))
		}
	}
	// An integer constant may be used before it is defined.
	p := asmOK(t, "cloop @later\n.data\nlater: .integer #9")
	sameBytes(t, "code", "forward .integer", p.Code, hexb(t, "28 00 09 00"))
}

// .asciiz adds a zero byte, .ascii does not; the labels are the offsets.
func TestStringOffsets(t *testing.T) {
	src := ".data\na: .ascii 'abc'\nb: .asciiz 'de'\nc: .asciiz ''\nd: .ascii ''\ne: .ascii 'x'\n" +
		"f: .asciiz 'tab\\tnl\\n\\x00end'\n.code\nprts @a\nprts @b\nprts @c\nprts @d\nprts @e\nprts @f"
	syms, p := symbolsOf(t, src)
	wantOff := map[string]int32{"a": 0, "b": 3, "c": 6, "d": 7, "e": 7, "f": 8}
	for name, off := range wantOff {
		if s := syms[name]; s.Kind != StringConst || s.Value != off {
			t.Errorf("%s = %v %d, want a string at %d", name, s.Kind, s.Value, off)
		}
	}
	sameBytes(t, "read-only data", src, p.ReadOnly, []byte("abcde\x00\x00xtab\tnl\n\x00end\x00"))
	sameBytes(t, "code", src, p.Code, hexb(t, "15000000 15000003 15000006 15000007 15000007 15000008"))

	var out bytes.Buffer
	m := vm.New(vm.Config{Stdout: &out})
	m.Load(p)
	if err := m.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if want := "abcde" + "de" + "" + "xtab\tnl\n" + "xtab\tnl\n" + "tab\tnl\n"; out.String() != want {
		t.Errorf("printed %q, want %q", out.String(), want)
	}
}

// LOADF64 of a whole number in 16 bits is encoded in the instruction; any
// other number goes to the read-only data (8 bytes, little-endian), and
// the instruction becomes LDF64 of its offset. Equal numbers share one
// constant.
func TestLoadFloat(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		code, ro []byte
		fregs    map[int]float64
	}{
		{"whole numbers in 16 bits", "loadf64 $f0 #-1\nloadf64 $f1 #-32768\nloadf64 $f2 #32767\nloadf64 $f3 #0\n" +
			"loadf64 $f4 #1e3\nloadf64 $f5 #2.0\nloadf64 $f6 #0x10\nloadf64 $f7 #-2.5e1",
			hexb(t, "16 00 ff ff | 16 01 80 00 | 16 02 7f ff | 16 03 00 00 | 16 04 03 e8 | 16 05 00 02 | 16 06 00 10 | 16 07 ff e7"),
			nil, map[int]float64{0: -1, 1: -32768, 2: 32767, 3: 0, 4: 1000, 5: 2, 6: 16, 7: -25}},
		{"fractions, shared", "loadf64 $f1 #1.5\nloadf64 $f2 #1.5\nloadf64 $f3 #-2.25\nloadf64 $f4 #1.50\nloadf64 $f5 #15e-1",
			hexb(t, "37 01 00 00 | 37 02 00 00 | 37 03 00 08 | 37 04 00 00 | 37 05 00 00"),
			f64le(1.5, -2.25), map[int]float64{1: 1.5, 2: 1.5, 3: -2.25, 4: 1.5, 5: 1.5}},
		{"whole numbers outside 16 bits", "loadf64 $f1 #32768\nloadf64 $f2 #-32769\nloadf64 $f3 #1e10",
			hexb(t, "37 01 00 00 | 37 02 00 08 | 37 03 00 10"),
			f64le(32768, -32769, 1e10), map[int]float64{1: 32768, 2: -32769, 3: 1e10}},
		{"small fractions", "loadf64 $f1 #1e-3\nloadf64 $f2 #0.1",
			hexb(t, "37 01 00 00 | 37 02 00 08"),
			f64le(1e-3, 0.1), map[int]float64{1: 1e-3, 2: 0.1}},
		{"after strings", ".data\ns: .asciiz 'abc'\n.code\nloadf64 $f9 #0.5",
			hexb(t, "37 09 00 04"), append([]byte("abc\x00"), f64le(0.5)...), map[int]float64{9: 0.5}},
		{".float used by loadf64 and ldf64", ".data\nx: .float #2.5\ny: .float #7\n.code\nloadf64 $f0 @x\nldf64 $f1 @y",
			hexb(t, "37 00 00 00 | 37 01 00 08"), f64le(2.5, 7), map[int]float64{0: 2.5, 1: 7}},
		{"loadf64 of an .integer", ".data\nn: .integer #-7\nbig: .integer #100000\n.code\nloadf64 $f0 @n\nloadf64 $f1 @big",
			hexb(t, "16 00 ff f9 | 37 01 00 00"), f64le(100000), map[int]float64{0: -7, 1: 100000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := asmOK(t, tt.src)
			sameBytes(t, "code", tt.src, p.Code, tt.code)
			sameBytes(t, "read-only data", tt.src, p.ReadOnly, tt.ro)
			f := runProg(t, p).FloatRegisters()
			for r, want := range tt.fregs {
				if f[r] != want {
					t.Errorf("$f%d = %v, want %v", r, f[r], want)
				}
			}
		})
	}
}

// -0.0 cannot be written as a 16-bit whole number: it is kept in the
// read-only data, so the sign survives.
func TestLoadFloatNegativeZero(t *testing.T) {
	p := asmOK(t, "loadf64 $f1 #-0.0")
	sameBytes(t, "code", "loadf64 $f1 #-0.0", p.Code, hexb(t, "37 01 00 00"))
	sameBytes(t, "read-only data", "loadf64 $f1 #-0.0", p.ReadOnly, hexb(t, "00 00 00 00 00 00 00 80"))
	if f := runProg(t, p).FloatRegisters()[1]; f != 0 || !math.Signbit(f) {
		t.Errorf("$f1 = %v (sign %v), want -0", f, math.Signbit(f))
	}
}

// LOAD: a number in 16 bits is one instruction; any other 32-bit number is
// LOAD of the high half and LUI of the low half; running either gives the
// number.
func TestLoadBoundaries(t *testing.T) {
	tests := []struct {
		num  string
		val  int32
		code string
	}{
		{"#0", 0, "00 07 00 00"},
		{"#-32768", -32768, "00 07 80 00"},
		{"#32767", 32767, "00 07 7f ff"},
		{"#0x7fff", 32767, "00 07 7f ff"},
		{"#32768", 32768, "00 07 00 00 | 27 07 80 00"},
		{"#-32769", -32769, "00 07 ff ff | 27 07 7f ff"},
		{"#65535", 65535, "00 07 00 00 | 27 07 ff ff"},
		{"#65536", 65536, "00 07 00 01 | 27 07 00 00"},
		{"#-65536", -65536, "00 07 ff ff | 27 07 00 00"},
		{"#100000", 100000, "00 07 00 01 | 27 07 86 a0"},
		{"#305419896", 0x12345678, "00 07 12 34 | 27 07 56 78"},
		{"#0x12345678", 0x12345678, "00 07 12 34 | 27 07 56 78"},
		{"#2147483647", math.MaxInt32, "00 07 7f ff | 27 07 ff ff"},
		{"#0x7FFFFFFF", math.MaxInt32, "00 07 7f ff | 27 07 ff ff"},
		{"#-2147483648", math.MinInt32, "00 07 80 00 | 27 07 00 00"},
		{"#-0x80000000", math.MinInt32, "00 07 80 00 | 27 07 00 00"},
	}
	for _, tt := range tests {
		t.Run(tt.num, func(t *testing.T) {
			src := "load $7 " + tt.num
			p := asmOK(t, src)
			sameBytes(t, "code", src, p.Code, hexb(t, tt.code))
			if got := runProg(t, p).Registers()[7]; got != tt.val {
				t.Errorf("%s: $7 = %d, want %d", src, got, tt.val)
			}
		})
	}
}

// Labels after split LOADs point where the instructions really are, and
// the program runs as written (bigconst.iasm in small).
func TestLabelsAfterSplitLoads(t *testing.T) {
	src := "load $0 #100000\nx: load $1 @x\nload $2 @y\nload $3 #-1\ny: load $4 #70000\nz: load $5 @z\n"
	syms, p := symbolsOf(t, src)
	if syms["x"].Value != 8 || syms["y"].Value != 20 || syms["z"].Value != 28 {
		t.Errorf("x, y, z = %d, %d, %d; want 8, 20, 28", syms["x"].Value, syms["y"].Value, syms["z"].Value)
	}
	sameBytes(t, "code", src, p.Code, hexb(t,
		"00 00 00 01 | 27 00 86 a0 | 00 01 00 08 | 00 02 00 14 | 00 03 ff ff | 00 04 00 01 | 27 04 11 70 | 00 05 00 1c"))
	r := runProg(t, p).Registers()
	if want := [6]int32{100000, 8, 20, -1, 70000, 28}; [6]int32(r[:6]) != want {
		t.Errorf("registers %v, want %v", r[:6], want)
	}
}

// A LOAD of a label whose address does not fit 16 bits is split too. The
// assembler relaxes: `far` is beyond 32767 from the start, so the first
// LOAD grows; that moves `near`, which fitted at 32764, to 32772, so the
// second LOAD must grow as well.
func TestLoadLabelRelaxation(t *testing.T) {
	var b strings.Builder
	b.WriteString("load $0 @far\nload $1 @near\n")
	b.WriteString(strings.Repeat("nop\n", 8191-2)) // instructions 2..8190
	b.WriteString("near: hlt\n")                   // instruction 8191: 32764 before relaxing
	b.WriteString(strings.Repeat("nop\n", 100))
	b.WriteString("far: hlt\n") // instruction 8292
	b.WriteString("load $2 @far\nload $3 @near\nload $4 @back\nback: hlt\n")
	syms, p := symbolsOf(t, b.String())
	const near, far = 32764 + 8, 8292*4 + 8
	if syms["near"].Value != near || syms["far"].Value != far {
		t.Fatalf("near = %d, far = %d; want %d, %d", syms["near"].Value, syms["far"].Value, near, far)
	}
	sameBytes(t, "first two LOADs", "load $0 @far / load $1 @near", p.Code[:16], hexb(t,
		fmt.Sprintf("00 00 00 00 | 27 00 %02x %02x | 00 01 00 00 | 27 01 %02x %02x", far>>8, far&0xff, near>>8, near&0xff)))
	const back = far + 4 + 3*8
	sameBytes(t, "last instructions", "load $2 @far ...", p.Code[far+4:], hexb(t, fmt.Sprintf(
		"00 02 00 00 | 27 02 %02x %02x | 00 03 00 00 | 27 03 %02x %02x | 00 04 00 00 | 27 04 %02x %02x | 05 00 00 00",
		far>>8, far&0xff, near>>8, near&0xff, back>>8, back&0xff)))
	if syms["back"].Value != back {
		t.Errorf("back = %d, want %d", syms["back"].Value, back)
	}
	if p.Code[near] != byte(vm.HLT) || p.Code[far] != byte(vm.HLT) {
		t.Errorf("no HLT at near (%#x) and far (%#x)", p.Code[near], p.Code[far])
	}
	r := runProg(t, p).Registers() // runs to the HLT at near
	if r[0] != far || r[1] != near {
		t.Errorf("$0 = %d, $1 = %d; want %d, %d", r[0], r[1], far, near)
	}
}

// Mnemonics may be written in any case.
func TestMnemonicCase(t *testing.T) {
	for _, src := range []string{"load $1 #2\nhlt", "LOAD $1 #2\nHLT", "Load $1 #2\nHlt", "lOaD $1 #2\nhLt"} {
		p := asmOK(t, src)
		sameBytes(t, "code", src, p.Code, hexb(t, "00 01 00 02 | 05 00 00 00"))
	}
	for _, in := range vm.Instructions() {
		upper := strings.ToUpper(in.Example[:len(in.Name)]) + in.Example[len(in.Name):]
		src := ".data\nhello: .asciiz 'x'\npi: .float #1.5\n.code\nloop: top: fib: " + upper
		lower := ".data\nhello: .asciiz 'x'\npi: .float #1.5\n.code\nloop: top: fib: " + in.Example
		p1, err1 := Assemble("t.iasm", src)
		p2, err2 := Assemble("t.iasm", lower)
		if err1 != nil || err2 != nil || !bytes.Equal(p1.Code, p2.Code) {
			t.Errorf("%q: %v, %v; upper and lower case must assemble alike", upper, err1, err2)
		}
	}
}

// Float operands take $N or $fN (any case); integer operands refuse $fN.
func TestFloatRegisterSyntax(t *testing.T) {
	for _, src := range []string{"addf64 $f1 $2 $F3", "addf64 $1 $f2 $3", "ADDF64 $F1 $F2 $F3"} {
		p := asmOK(t, src)
		sameBytes(t, "code", src, p.Code, hexb(t, "17 01 02 03"))
	}
	for _, src := range []string{"ldf64 $f31 @x\n.data\nx: .float #1.5", "loadf64 $F31 #1"} {
		p := asmOK(t, src)
		if p.Code[1] != 31 {
			t.Errorf("%q: register byte %d, want 31", src, p.Code[1])
		}
	}
	for _, src := range []string{"add $f1 $2 $3", "inc $F0", "itof $f1 $2", "ftoi $1 $f2", "load $f0 #1"} {
		if _, err := Assemble("t.iasm", src); err == nil {
			t.Errorf("%q assembled; an integer operand must refuse $fN", src)
		}
	}
}

// readExample reads a program of docs/examples.
func readExample(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "examples", name))
	return string(b), err
}

// The example programs assemble and leave in the registers what their
// ";>" lines say.
func TestExamplePrograms(t *testing.T) {
	tests := []struct {
		file string
		regs map[int]int32
	}{
		{"bigconst.iasm", map[int]int32{0: 100000, 1: math.MinInt32, 2: math.MaxInt32, 3: -1, 4: 305419896, 5: math.MinInt32, 6: 36}},
		{"cloop.iasm", map[int]int32{1: 31}},
		{"count.iasm", map[int]int32{0: 1000, 1: 1000}},
		{"fib.iasm", map[int]int32{0: 6765, 1: 4181, 2: 2}},
		{"call.iasm", map[int]int32{0: 42}},
	}
	for _, tt := range tests {
		src, err := readExample(tt.file)
		if err != nil {
			t.Fatal(err)
		}
		r := runProg(t, asmOK(t, src)).Registers()
		for i, want := range tt.regs {
			if r[i] != want {
				t.Errorf("%s: $%d = %d, want %d", tt.file, i, r[i], want)
			}
		}
	}
}

// asmStep is one call to an Assembler, as the REPL makes them.
type asmStep struct {
	src   string
	start int    // the codeStart it must return
	err   string // a part of the error it must return, or ""
}

// assembleSteps feeds the steps to a.
func assembleSteps(t *testing.T, a *Assembler, steps []asmStep) {
	t.Helper()
	for i, s := range steps {
		file := fmt.Sprintf("repl%d", i+1)
		start, err := a.Assemble(file, s.src)
		switch {
		case s.err == "" && err != nil:
			t.Fatalf("call %d %q: %v", i+1, s.src, err)
		case s.err != "" && (err == nil || !strings.Contains(err.Error(), s.err)):
			t.Fatalf("call %d %q: error %v, want one saying %q", i+1, s.src, err, s.err)
		case s.err == "" && start != s.start:
			t.Errorf("call %d %q: codeStart %d, want %d", i+1, s.src, start, s.start)
		}
	}
}

// Symbols persist across calls: a label defined in one call is known in
// the next; each call returns where its code starts.
func TestAssemblerIncremental(t *testing.T) {
	a := New()
	assembleSteps(t, a, []asmStep{
		{src: ".data\nmsg: .asciiz 'hi'\nn: .integer #7\n.code\nstart: load $0 #1", start: 0},
		{src: "djmpe @start\nprts @msg", start: 4},
		{src: "", start: 12},
		{src: "; only a comment", start: 12},
		{src: "cloop @n\nload $1 #100000\nback: djmpe @back", start: 12},
		{src: "call @back\ncall @fwd\nfwd: hlt", start: 28},
		{src: "nop\nend:", start: 40},
		{src: "djmpe @end", start: 44},
	})
	p := a.Program()
	sameBytes(t, "code", "the calls", p.Code, hexb(t,
		"00 00 00 01 | 14 00 00 00 | 15 00 00 00 | 28 00 07 00 | 00 01 00 01 | 27 01 86 a0 | 14 00 00 18 |"+
			"2e 00 00 18 | 2e 00 00 24 | 05 00 00 00 | 10 00 00 00 | 14 00 00 2c"))
	sameBytes(t, "read-only data", "the calls", p.ReadOnly, []byte("hi\x00"))
	want := map[string]int32{"back": 24, "end": 44, "fwd": 36, "msg": 0, "n": 7, "start": 0}
	syms := a.Symbols()
	if len(syms) != len(want) {
		t.Errorf("%d symbols, want %d: %v", len(syms), len(want), syms)
	}
	for i, s := range syms {
		if i > 0 && syms[i-1].Name >= s.Name {
			t.Errorf("symbols not sorted by name: %q before %q", syms[i-1].Name, s.Name)
		}
		if v, ok := want[s.Name]; !ok || v != s.Value {
			t.Errorf("symbol %q = %d, want %d", s.Name, s.Value, v)
		}
	}
	if s, _ := a.Lookup("back"); s.File != "repl5" || s.Pos != (Pos{3, 1}) || s.Kind != CodeLabel {
		t.Errorf("back = %+v, want a code label defined at repl5:3:1", s)
	}
	// The label at the end of call 7 names the instruction call 8 added.
	n := a.Names()
	wantCode := map[int]string{0: "start", 24: "back", 36: "fwd", 44: "end"}
	if fmt.Sprint(n.Code) != fmt.Sprint(wantCode) {
		t.Errorf("Names().Code = %v, want %v", n.Code, wantCode)
	}
	if fmt.Sprint(n.Data) != fmt.Sprint(map[int]string{0: "msg"}) {
		t.Errorf("Names().Data = %v, want map[0:msg] (integers have no address)", n.Data)
	}
}

// Names maps code addresses and read-only offsets (strings and floats)
// to their labels.
func TestAssemblerNames(t *testing.T) {
	a := New()
	assembleSteps(t, a, []asmStep{{src: ".data\ns: .asciiz 'ab'\nf: .float #1.5\nn: .integer #3\n.code\nnop\nx: nop\ny: hlt"}})
	n := a.Names()
	if fmt.Sprint(n.Code) != fmt.Sprint(map[int]string{4: "x", 8: "y"}) ||
		fmt.Sprint(n.Data) != fmt.Sprint(map[int]string{0: "s", 3: "f"}) {
		t.Errorf("Names() = %v, %v; want code 4:x 8:y, data 0:s 3:f", n.Code, n.Data)
	}
	if n := New().Names(); len(n.Code) != 0 || len(n.Data) != 0 {
		t.Errorf("Names() of an empty Assembler = %v", n)
	}
}

// asmSnapshot is what a failed call must leave as it was.
type asmSnapshot struct {
	code, ro string
	syms     string
	inData   bool
}

func asmSnap(a *Assembler) asmSnapshot {
	p := a.Program()
	return asmSnapshot{string(p.Code), string(p.ReadOnly), fmt.Sprint(a.Symbols()), a.inData}
}

// A call that fails changes nothing: not the program, not the symbols, not
// the section, not the shared float constants; the next good call works
// as if the failed one had never been made.
func TestAssemblerFailedCallChangesNothing(t *testing.T) {
	a := New()
	assembleSteps(t, a, []asmStep{{src: ".data\nmsg: .asciiz 'hi'\n.code\nstart: loadf64 $f0 #1.5\nnop", start: 0}})
	before := asmSnap(a)
	prog := a.Program()
	bad := []string{
		// New data, labels, float constants and code, then an error.
		".data\nx: .asciiz 'zz'\nk: .integer #5\n.code\ny: loadf64 $f1 #2.5\nload $0 #100000\nbogus",
		// A switch to .data, then an error.
		".data\nz: .ascii 'q'\n.asciiz \"double\"",
		// A duplicate of an existing label.
		"nop\nstart: hlt",
		// An error in the last pass only.
		"w: nop\ndjmpe @nowhere",
		// Only a .data switch and a bad line.
		".data\n%",
	}
	for _, src := range bad {
		if _, err := a.Assemble("bad", src); err == nil {
			t.Fatalf("%q assembled; want an error", src)
		}
		if after := asmSnap(a); after != before {
			t.Errorf("after the failed call %q:\n%+v\nwant\n%+v", src, after, before)
		}
	}
	if got := a.Program(); !bytes.Equal(got.Code, prog.Code) || !bytes.Equal(got.ReadOnly, prog.ReadOnly) {
		t.Error("the program changed")
	}
	// Still in .code; x, y, z, k, w are free; 1.5 is shared with call 1;
	// 2.5 is a new constant, after the data of the .data sections (the
	// float constants of LOADF64 are laid out by the second pass): 'hi\0'
	// and 1.5 at 0 and 3, 'zz\0' at 11, 2.5 at 14.
	assembleSteps(t, a, []asmStep{{src: "y: loadf64 $f1 #2.5\nloadf64 $f2 #1.5\n.data\nx: .asciiz 'zz'\n.code\nprts @x\nz: w: k: hlt", start: 8}})
	p := a.Program()
	sameBytes(t, "code", "the good call", p.Code, hexb(t, "37 00 00 03 | 10 00 00 00 | 37 01 00 0e | 37 02 00 03 | 15 00 00 0b | 05 00 00 00"))
	sameBytes(t, "read-only data", "the good call", p.ReadOnly, append(append(append([]byte("hi\x00"), f64le(1.5)...), "zz\x00"...), f64le(2.5)...))
	f := runProg(t, p).FloatRegisters()
	if f[0] != 1.5 || f[1] != 2.5 || f[2] != 1.5 {
		t.Errorf("$f0-$f2 = %v, want 1.5 2.5 1.5", f[:3])
	}
	// The program returned before is untouched by later calls.
	if len(prog.Code) != 8 || len(prog.ReadOnly) != 11 {
		t.Errorf("an earlier Program() grew to %d bytes of code, %d of data", len(prog.Code), len(prog.ReadOnly))
	}
}

// The section carries over from one call to the next, and a failed call
// does not change it.
func TestAssemblerSection(t *testing.T) {
	a := New()
	assembleSteps(t, a, []asmStep{
		{src: ".data"},
		{src: "s: .asciiz 'a'"},
		{src: "hlt", err: `instruction "hlt" in the .data section`},
		{src: ".code\n.data\nhlt", err: `instruction "hlt" in the .data section`},
		{src: ".code\nbogus", err: "unknown mnemonic"},
		{src: "t: .ascii 'b'"}, // still .data
		{src: ".code\nprts @s\nprts @t", start: 0},
		{src: ".data\n%", err: "unexpected character"},
		{src: "hlt", start: 8}, // still .code
	})
	p := a.Program()
	sameBytes(t, "code", "the calls", p.Code, hexb(t, "15 00 00 00 | 15 00 00 02 | 05 00 00 00"))
	sameBytes(t, "read-only data", "the calls", p.ReadOnly, []byte("a\x00b"))
}

// A label defined in an earlier call is a duplicate in a later one, and
// the error says where the first is, in which call's file.
func TestAssemblerDuplicateAcrossCalls(t *testing.T) {
	a := New()
	assembleSteps(t, a, []asmStep{
		{src: "nop\n  a: nop", start: 0},
		{src: "a: hlt", err: `repl2:1:1: label "a" is already defined at repl1:2:3`},
	})
	_, err := a.Assemble("repl3", "nop\na: hlt")
	if err == nil || !strings.HasPrefix(err.Error(), `repl3:2:1: label "a" is already defined at repl1:2:3`) {
		t.Errorf("error %v, want one at repl3:2:1 naming repl1:2:3", err)
	}
}

// Reset empties the program, the symbols, the section and the float
// constants.
func TestAssemblerReset(t *testing.T) {
	a := New()
	assembleSteps(t, a, []asmStep{{src: "x: loadf64 $f0 #1.5\n.data\ns: .asciiz 'a'", start: 0}})
	a.Reset()
	if p := a.Program(); len(p.Code) != 0 || len(p.ReadOnly) != 0 || len(a.Symbols()) != 0 {
		t.Fatalf("after Reset: %d bytes of code, %d of data, symbols %v", len(p.Code), len(p.ReadOnly), a.Symbols())
	}
	if _, ok := a.Lookup("x"); ok {
		t.Error("Lookup finds x after Reset")
	}
	// Back in .code, x free again, 1.5 a new constant at offset 0.
	assembleSteps(t, a, []asmStep{{src: "x: loadf64 $f3 #1.5\ndjmpe @x", start: 0}})
	p := a.Program()
	sameBytes(t, "code", "after Reset", p.Code, hexb(t, "37 03 00 00 | 14 00 00 00"))
	sameBytes(t, "read-only data", "after Reset", p.ReadOnly, f64le(1.5))
}

// Several Assemblers share nothing.
func TestAssemblersIndependent(t *testing.T) {
	a, b := New(), New()
	assembleSteps(t, a, []asmStep{{src: "x: nop\nloadf64 $f0 #0.5"}})
	assembleSteps(t, b, []asmStep{{src: "nop\nnop\nx: hlt\nloadf64 $f0 #0.25"}})
	if s, _ := a.Lookup("x"); s.Value != 0 {
		t.Errorf("a's x = %d, want 0", s.Value)
	}
	if s, _ := b.Lookup("x"); s.Value != 8 {
		t.Errorf("b's x = %d, want 8", s.Value)
	}
	if !bytes.Equal(b.Program().ReadOnly, f64le(0.25)) {
		t.Errorf("b's data = % x, want 0.25 alone", b.Program().ReadOnly)
	}
}
