package vm_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/iridium-vm/iridium/vm"
	"github.com/iridium-vm/iridium/vm/asm"
)

// disasmCases gives raw bytes and the text the table's operand kinds call
// for: integer registers $N, float registers $fN, numbers #N (16-bit ones
// read high byte first, signed or not as the kind says), code labels
// @LXXXX and read-only labels @DXXXX with the address in hex.
var disasmCases = []struct {
	raw  []byte
	want string
}{
	{[]byte{0, 3, 0xff, 0xfe}, "load $3 #-2"},
	{[]byte{0, 0, 0x7f, 0xff}, "load $0 #32767"},
	{[]byte{0, 31, 0x80, 0x00}, "load $31 #-32768"},
	{[]byte{1, 0, 1, 2}, "add $0 $1 $2"},
	{[]byte{2, 31, 30, 29}, "sub $31 $30 $29"},
	{[]byte{3, 4, 5, 6}, "mul $4 $5 $6"},
	{[]byte{4, 7, 8, 9}, "div $7 $8 $9"},
	{[]byte{5, 0, 0, 0}, "hlt"},
	{[]byte{5, 1, 2, 3}, "hlt"},
	{[]byte{6, 7, 0, 0}, "jmp $7"},
	{[]byte{7, 1, 0, 0}, "jmpf $1"},
	{[]byte{8, 2, 0, 0}, "jmpb $2"},
	{[]byte{9, 1, 2, 0}, "eq $1 $2"},
	{[]byte{10, 3, 4, 0}, "neq $3 $4"},
	{[]byte{11, 5, 6, 0}, "gte $5 $6"},
	{[]byte{12, 7, 8, 0}, "lte $7 $8"},
	{[]byte{13, 9, 10, 0}, "lt $9 $10"},
	{[]byte{14, 11, 12, 0}, "gt $11 $12"},
	{[]byte{15, 13, 0, 0}, "jmpe $13"},
	{[]byte{16, 0, 0, 0}, "nop"},
	{[]byte{17, 14, 0, 0}, "aloc $14"},
	{[]byte{18, 15, 0, 0}, "inc $15"},
	{[]byte{19, 16, 0, 0}, "dec $16"},
	{[]byte{20, 0, 0, 0x10}, "djmpe @L0010"},
	{[]byte{20, 0x12, 0x34, 0x58}, "djmpe @L123458"},
	{[]byte{21, 0, 0, 0}, "prts @D0000"},
	{[]byte{21, 0x01, 0x00, 0x00}, "prts @D10000"},
	{[]byte{22, 3, 0xff, 0xfd}, "loadf64 $f3 #-3"},
	{[]byte{23, 0, 1, 2}, "addf64 $f0 $f1 $f2"},
	{[]byte{24, 3, 4, 5}, "subf64 $f3 $f4 $f5"},
	{[]byte{25, 6, 7, 8}, "mulf64 $f6 $f7 $f8"},
	{[]byte{26, 9, 10, 31}, "divf64 $f9 $f10 $f31"},
	{[]byte{27, 1, 2, 0}, "eqf64 $f1 $f2"},
	{[]byte{28, 1, 2, 0}, "neqf64 $f1 $f2"},
	{[]byte{29, 1, 2, 0}, "gtf64 $f1 $f2"},
	{[]byte{30, 1, 2, 0}, "gtef64 $f1 $f2"},
	{[]byte{31, 1, 2, 0}, "ltf64 $f1 $f2"},
	{[]byte{32, 1, 2, 0}, "ltef64 $f1 $f2"},
	{[]byte{33, 0, 4, 0}, "shl $0 #4"},
	{[]byte{34, 5, 31, 0}, "shr $5 #31"},
	{[]byte{35, 0, 1, 2}, "and $0 $1 $2"},
	{[]byte{36, 0, 1, 2}, "or $0 $1 $2"},
	{[]byte{37, 0, 1, 2}, "xor $0 $1 $2"},
	{[]byte{38, 1, 2, 0}, "not $1 $2"},
	{[]byte{39, 0, 0xff, 0xff}, "lui $0 #65535"},
	{[]byte{39, 2, 0x12, 0x34}, "lui $2 #4660"},
	{[]byte{40, 0, 10, 0}, "cloop #10"},
	{[]byte{40, 0xff, 0xff, 0}, "cloop #65535"},
	{[]byte{41, 0, 0, 8}, "loop @L0008"},
	{[]byte{42, 1, 2, 0}, "loadm $1 $2"},
	{[]byte{43, 3, 4, 0}, "setm $3 $4"},
	{[]byte{44, 5, 0, 0}, "push $5"},
	{[]byte{45, 6, 0, 0}, "pop $6"},
	{[]byte{46, 0, 1, 0}, "call @L0100"},
	{[]byte{47, 0, 0, 0}, "ret"},
	{[]byte{48, 0, 1, 0}, "mov $0 $1"},
	{[]byte{49, 0, 1, 0}, "movf64 $f0 $f1"},
	{[]byte{50, 9, 0, 0}, "prti $9"},
	{[]byte{51, 9, 0, 0}, "prtf64 $f9"},
	{[]byte{52, 1, 2, 0}, "itof $1 $f2"},
	{[]byte{53, 1, 2, 0}, "ftoi $f1 $2"},
	{[]byte{54, 3, 0, 0}, "rem $3"},
	{[]byte{55, 4, 0, 0x10}, "ldf64 $f4 @D0010"},
	{[]byte{55, 4, 0xff, 0xff}, "ldf64 $f4 @Dffff"},
	{[]byte{100, 0, 0, 0}, "igl"},
	{[]byte{101, 1, 2, 0}, "spawn $1 $2"},
	{[]byte{102, 31, 0, 0}, "self $31"},
	{[]byte{103, 1, 2, 0}, "send $1 $2"},
	{[]byte{104, 1, 2, 0}, "sendp $1 $2"},
	{[]byte{105, 1, 2, 0}, "recv $1 $2"},
	{[]byte{106, 1, 2, 3}, "recvt $1 $2 $3"},
	{[]byte{107, 4, 0, 0}, "from $4"},
	{[]byte{108, 4, 0, 0}, "monitor $4"},
	{[]byte{109, 4, 0, 0}, "kill $4"},
	{[]byte{110, 1, 2, 3}, "sendb $1 $2 $3"},
	{[]byte{111, 4, 0, 0}, "takeb $4"},
	{[]byte{112, 0, 0, 0x10}, "reg @D0010"},
	{[]byte{112, 0x12, 0x34, 0x56}, "reg @D123456"},
	{[]byte{113, 4, 0xff, 0xff}, "whereis $4 @Dffff"},
}

func TestDisassembleInstruction(t *testing.T) {
	covered := map[vm.Opcode]bool{}
	for _, tc := range disasmCases {
		covered[vm.Opcode(tc.raw[0])] = true
		if got := vm.DisassembleInstruction(tc.raw); got != tc.want {
			t.Errorf("DisassembleInstruction(% x) = %q, want %q", tc.raw, got, tc.want)
		}
		// Bytes after the instruction are not part of it.
		if got := vm.DisassembleInstruction(append(bytes.Clone(tc.raw), 0xff, 0xff)); got != tc.want {
			t.Errorf("DisassembleInstruction(% x ff ff) = %q, want %q", tc.raw, got, tc.want)
		}
	}
	for _, in := range vm.Instructions() {
		if !covered[in.Op] {
			t.Errorf("no disassembly case for %s", in.Name)
		}
	}
}

// Every instruction's example from the table assembles to bytes that
// disassemble to the example's mnemonic and operands (labels aside).
func TestDisassembleTableExamples(t *testing.T) {
	for _, in := range vm.Instructions() {
		if len(in.Operands) > 0 && (in.Operands[len(in.Operands)-1] == vm.CodeAddr ||
			in.Operands[len(in.Operands)-1] == vm.DataAddr || in.Operands[len(in.Operands)-1] == vm.DataAddr16) {
			continue // needs labels; covered by the listings below
		}
		p, err := asm.Assemble("example", in.Example)
		if err != nil {
			t.Errorf("%s: example %q: %v", in.Name, in.Example, err)
			continue
		}
		got := vm.DisassembleInstruction(p.Code)
		// The example writes float registers as $N; the listing as $fN.
		wf := strings.Fields(in.Example)
		for i, k := range in.Operands {
			if k == vm.FloatReg {
				wf[1+i] = "$f" + strings.TrimPrefix(wf[1+i], "$")
			}
		}
		if want := strings.Join(wf, " "); got != want {
			t.Errorf("%s: example %q disassembles to %q, want %q", in.Name, in.Example, got, want)
		}
	}
}

func TestDisassembleInvalid(t *testing.T) {
	tests := []struct {
		raw  []byte
		want []string // parts of the text
	}{
		{[]byte{99, 0, 0, 0}, []string{"63 00 00 00", "unknown opcode 99"}},
		{[]byte{200, 1, 2, 3}, []string{"c8 01 02 03", "unknown opcode 200"}},
		{[]byte{56, 0, 0, 0}, []string{"38 00 00 00", "unknown opcode 56"}},
		{[]byte{255, 255, 255, 255}, []string{"ff ff ff ff", "unknown opcode 255"}},
		{[]byte{1, 2}, []string{"01 02", "truncated"}},
		{[]byte{5}, []string{"05", "truncated"}},
		{nil, []string{"truncated"}},
	}
	for _, tt := range tests {
		got := vm.DisassembleInstruction(tt.raw)
		if !strings.HasPrefix(got, "igl ; ") {
			t.Errorf("DisassembleInstruction(% x) = %q, want igl ; ...", tt.raw, got)
		}
		for _, w := range tt.want {
			if !strings.Contains(got, w) {
				t.Errorf("DisassembleInstruction(% x) = %q, does not say %q", tt.raw, got, w)
			}
		}
	}
}

func le64(v float64) []byte { return binary.LittleEndian.AppendUint64(nil, math.Float64bits(v)) }

// listing splits a listing into lines of fields, comments apart.
func listingLines(s string) (lines []string) {
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	return lines
}

func TestDisassembleListing(t *testing.T) {
	ro := append([]byte("Hi\n\x00"), le64(1.5)...)
	ro = append(ro, "x'y\x00"...)
	code := [][]byte{
		{byte(vm.PRTS), 0, 0, 0},          // 0000
		{byte(vm.LDF64), 0, 0, 4},         // 0004
		{byte(vm.PRTS), 0, 0, 12},         // 0008
		{byte(vm.INC), 0, 0, 0},           // 000c L000c:
		{byte(vm.DJMPE), 0, 0, 12},        // 0010
		{byte(vm.CALL), 0, 0, 28},         // 0014
		{byte(vm.HLT), 0, 0, 0},           // 0018
		{byte(vm.LOADF64), 1, 0xff, 0xff}, // 001c L001c:
		{byte(vm.LOOP), 0, 0, 0x24},       // 0020
		{byte(vm.RET), 0, 0, 0},           // 0024 L0024:
		{byte(vm.CALL), 0, 0, 0x2c},       // 0028 -> the end, L002c
	}
	p := &vm.Program{ReadOnly: ro, Code: bytes.Join(code, nil)}
	got := vm.Disassemble(p, vm.Names{})
	want := []string{
		fmt.Sprintf("; %d bytes of read-only data, %d bytes of code", len(ro), len(p.Code)),
		".data",
		`D0000: .asciiz 'Hi\n' ; 0000`,
		`D0004: .float #1.5 ; 0004`,
		`D000c: .asciiz 'x\'y' ; 000c`,
		".code",
		"prts @D0000 ; 0000",
		"ldf64 $f0 @D0004 ; 0004",
		"prts @D000c ; 0008",
		"L000c: inc $0 ; 000c",
		"djmpe @L000c ; 0010",
		"call @L001c ; 0014",
		"hlt ; 0018",
		"L001c: loadf64 $f1 #-1 ; 001c",
		"loop @L0024 ; 0020",
		"L0024: ret ; 0024",
		"call @L002c ; 0028",
		"L002c:",
	}
	if lines := listingLines(got); strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("listing:\n%s\nwant (spacing aside):\n%s", got, strings.Join(want, "\n"))
	}

	// With names.
	names := vm.Names{Code: map[int]string{12: "top", 0x1c: "sub", 4: "second"}, Data: map[int]string{0: "hello", 4: "half"}}
	got = vm.Disassemble(p, names)
	for _, w := range []string{
		`hello: .asciiz 'Hi\n' ; 0000`,
		`half: .float #1.5 ; 0004`,
		`D000c: .asciiz 'x\'y' ; 000c`,
		"prts @hello ; 0000",
		"second: ldf64 $f0 @half ; 0004",
		"top: inc $0 ; 000c",
		"djmpe @top ; 0010",
		"call @sub ; 0014",
		"sub: loadf64 $f1 #-1 ; 001c",
	} {
		if !contains(listingLines(got), w) {
			t.Errorf("listing with names has no line %q:\n%s", w, got)
		}
	}

	// No read-only data: no .data section.
	got = vm.Disassemble(&vm.Program{Code: []byte{byte(vm.HLT), 0, 0, 0}}, vm.Names{})
	if want := []string{"; 0 bytes of read-only data, 4 bytes of code", ".code", "hlt ; 0000"}; strings.Join(listingLines(got), "\n") != strings.Join(want, "\n") {
		t.Errorf("listing:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}

	// Invalid bytes are listed as igl with the bytes.
	got = vm.Disassemble(&vm.Program{Code: []byte{99, 0, 0, 0, 5, 0}}, vm.Names{})
	if !strings.Contains(got, "63 00 00 00") || !strings.Contains(got, "05 00") || strings.Count(got, "igl ;") != 2 {
		t.Errorf("listing of invalid bytes:\n%s", got)
	}
}

func contains(lines []string, s string) bool {
	for _, l := range lines {
		if l == s {
			return true
		}
	}
	return false
}

func TestQuoteString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", `''`},
		{"Hello, world!", `'Hello, world!'`},
		{"it's", `'it\'s'`},
		{`a\b`, `'a\\b'`},
		{"tab\there\n", `'tab\there\n'`},
		{"\x00\x01\x7f\xff", `'\x00\x01\x7f\xff'`},
		{"~ ", `'~ '`},
	}
	for _, tt := range tests {
		if got := vm.QuoteString([]byte(tt.in)); got != tt.want {
			t.Errorf("QuoteString(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

// roundTripSources are assembled, disassembled and assembled again.
var roundTripSources = map[string]string{
	"hello": `
.data
hello: .asciiz 'Hello, world!\n'
.code
        prts @hello
        hlt
`,
	"original loop": `
.data
hello: .asciiz 'Hello, world!'
answer: .integer #42
.code
        load $0 #100      ; comment to end of line
        load $1 #1
loop:   inc $2
        neq $0 $2
        djmpe @loop
        prts @hello
        load $3 @answer
        hlt
`,
	"cloop": "load $1 #20\ncloop #10\ntop: inc $1\nloop @top\n",
	"call":  "LOAD $0 #400\nCALL @test\nHLT\ntest: LOAD $0 #500\nRET\n",
	"big numbers": `
        load $0 #305419896
        load $1 #-100000
        load $2 #-1
        load $3 #2147483647
        load $4 #-2147483648
        load $5 #65535
        lui $5 #0
        shl $5 #31
        shr $5 #1
`,
	"floats": `
.data
pi: .float #3.14159
msg: .asciiz 'pi/2 = '
e: .float #2.718281828459045
.code
        loadf64 $f0 @pi
        loadf64 $f1 #2
        divf64 $f0 $f1 $f2
        prts @msg
        prtf64 $f2
        loadf64 $f3 #1.5
        loadf64 $f4 #-0.0
        loadf64 $f5 #1e+21
        loadf64 $f6 #0.1
        loadf64 $f8 #100000
        loadf64 $f9 @e
        loadf64 $f10 #1.5
        itof $0 $f11
        ftoi $f3 $1
        eqf64 $f0 $f1
        hlt
`,
	"strings": `
.data
a: .asciiz 'it\'s a \\ test\twith\ttabs'
b: .asciiz ''
c: .asciiz '\x01\xff\x7f bytes'
d: .asciiz 'a\0b'
.code
        prts @a
        prts @b
        prts @c
        prts @d
`,
	"jumps and the end": `
start:  load $0 #12
        jmp $0
        jmpf $0
        jmpb $0
        eq $0 $1
        jmpe $0
        djmpe @end
        djmpe @start
        call @fn
        hlt
fn:     push $0
        pop $1
        ret
end:
`,
}

// allExamples is a program of every instruction's example from the table,
// with the labels they use defined.
func allExamples() string {
	var b strings.Builder
	b.WriteString(".data\nhello: .asciiz 'hello'\npi: .float #3.14159\n.code\nloop: top: fib: nop\n")
	for _, in := range vm.Instructions() {
		b.WriteString(in.Example + "\n")
	}
	return b.String()
}

func TestAssembleDisassembleRoundTrip(t *testing.T) {
	srcs := map[string]string{"all examples": allExamples()}
	for k, v := range roundTripSources {
		srcs[k] = v
	}
	for name, src := range srcs {
		t.Run(name, func(t *testing.T) {
			a := asm.New()
			if _, err := a.Assemble(name, src); err != nil {
				t.Fatalf("assemble the source: %v", err)
			}
			p := a.Program()
			for _, names := range []vm.Names{{}, a.Names()} {
				listing := vm.Disassemble(p, names)
				q, err := asm.Assemble("listing", listing)
				if err != nil {
					t.Fatalf("assemble the listing: %v\n%s", err, listing)
				}
				if !bytes.Equal(q.Code, p.Code) {
					t.Errorf("code differs after the round trip:\n% x\n% x\nlisting:\n%s", p.Code, q.Code, listing)
				}
				if !bytes.Equal(q.ReadOnly, p.ReadOnly) {
					t.Errorf("read-only data differs after the round trip:\n% x\n% x\nlisting:\n%s", p.ReadOnly, q.ReadOnly, listing)
				}
				// And the listing of the listing is the same listing.
				if again := vm.Disassemble(q, names); again != listing {
					t.Errorf("the listing changed on a second round:\n%s\n%s", listing, again)
				}
			}
		})
	}
}
