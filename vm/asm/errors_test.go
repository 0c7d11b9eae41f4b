package asm

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// errorLines assembles src as t.iasm and returns each error as
// "line:col: message", checking that the error is an ErrorList of *Error
// with the file name and source line filled in.
func errorLines(t *testing.T, src string) []string {
	t.Helper()
	p, err := Assemble("t.iasm", src)
	if err == nil {
		t.Fatalf("Assemble(%q) succeeded, want errors", src)
	}
	if p != nil {
		t.Errorf("Assemble(%q) returned a program with its error", src)
	}
	var list ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("Assemble(%q): error %T is not an ErrorList", src, err)
	}
	lines := strings.Split(src, "\n")
	var out []string
	for _, e := range list {
		if e.File != "t.iasm" {
			t.Errorf("error %q: file %q, want t.iasm", e.Msg, e.File)
		}
		if e.Pos.Line >= 1 && e.Pos.Line <= len(lines) {
			if want := strings.TrimSuffix(lines[e.Pos.Line-1], "\r"); e.Source != want {
				t.Errorf("error %q: source %q, want line %d, %q", e.Msg, e.Source, e.Pos.Line, want)
			}
		} else {
			t.Errorf("error %q at line %d, outside the source", e.Msg, e.Pos.Line)
		}
		out = append(out, fmt.Sprintf("%d:%d: %s", e.Pos.Line, e.Pos.Col, e.Msg))
	}
	return out
}

func sameErrors(t *testing.T, src string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("errors of %q:\ngot:\n\t%s\nwant:\n\t%s", src, strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
}

const knownDirectives = "(known: .data .code .asciiz .ascii .integer .float)"

// Each bad source gives exactly these errors, in source order, one per bad
// line.
func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []string
	}{
		// Unknown mnemonics, with a suggestion when one is close.
		{"unknown mnemonic", "lod $0 #1", []string{`1:1: unknown mnemonic "lod"; did you mean load?`}},
		{"unknown mnemonic, indented", "nop\n  halt", []string{`2:3: unknown mnemonic "halt"; did you mean hlt?`}},
		{"unknown mnemonic in capitals", "HALT", []string{`1:1: unknown mnemonic "HALT"; did you mean hlt?`}},
		{"unknown mnemonic after a label", "x: pushh $1", []string{`1:4: unknown mnemonic "pushh"; did you mean push?`}},
		{"unknown float mnemonic", "lodf64 $f0 #1.5", []string{`1:1: unknown mnemonic "lodf64"; did you mean loadf64?`}},
		{"unknown mnemonic, nothing close", "xyzzy $1", []string{`1:1: unknown mnemonic "xyzzy"`}},

		// Operand counts.
		{"too few operands", "add $0 $1", []string{`1:1: add takes 3 operands ($a $b $c), got 2`}},
		{"operands to an instruction with none", "hlt $0", []string{`1:1: hlt takes no operands, got 1`}},
		{"no operand", "  inc", []string{`1:3: inc takes 1 operand ($a), got 0`}},
		{"load without a number", "load $0", []string{`1:1: load takes 2 operands ($a #n), got 1`}},
		{"label instruction without a label", "djmpe", []string{`1:1: djmpe takes 1 operand (@label), got 0`}},
		{"too many operands", "shl $0 #1 #2", []string{`1:1: shl takes 2 operands ($a #bits), got 3`}},
		{"cloop without a count", "cloop", []string{`1:1: cloop takes 1 operand (#n), got 0`}},

		// Operand kinds.
		{"register where a number goes", "load $0 $1", []string{`1:9: operand 2 of load must be a number (#n) or a label (@name), not register $1`}},
		{"register where a count goes", "cloop $1", []string{`1:7: operand 1 of cloop must be a number (#n) or a label (@name), not register $1`}},
		{"string where a number goes", "shl $0 'x'", []string{`1:8: operand 2 of shl must be a number (#n) or a label (@name), not string 'x'`}},
		{"number where a register goes", "inc #1", []string{`1:5: inc wants an integer register like $0 here, not number #1`}},
		{"number where the second register goes", "add $0 #1 $2", []string{`1:8: add wants an integer register like $0 here, not number #1`}},
		{"string where a register goes", "inc 'a'", []string{`1:5: inc wants an integer register like $0 here, not string 'a'`}},
		{"label where a register goes", "x: inc @x", []string{`1:8: inc wants an integer register like $0 here, not label reference @x`}},
		{"number where a float register goes", "addf64 #1 $1 $2", []string{`1:8: addf64 wants a float register like $0 here, not number #1`}},
		{"register where a code label goes", "djmpe $0", []string{`1:7: djmpe wants a code label like @name here, not register $0`}},
		{"number where a code label goes", "call #12", []string{`1:6: call wants a code label like @name here, not number #12`}},

		// Registers.
		{"register $32", "inc $32", []string{`1:5: register $32 out of range: registers are $0 to $31`}},
		{"register $99", "add $0 $99 $1", []string{`1:8: register $99 out of range: registers are $0 to $31`}},
		{"float register $f32", "addf64 $f32 $f0 $f1", []string{`1:8: register $f32 out of range: registers are $0 to $31`}},
		{"float register for an integer one", "inc $f3", []string{`1:5: $f3 is a float register; inc wants an integer register here`}},
		{"float register for itof's integer one", "itof $F0 $f1", []string{`1:6: $F0 is a float register; itof wants an integer register here`}},
		{"float register for ftoi's integer one", "ftoi $f0 $f1", []string{`1:10: $f1 is a float register; ftoi wants an integer register here`}},

		// Labels.
		{"undefined code label", "djmpe @nowhere", []string{`1:7: undefined label "nowhere"`}},
		{"undefined label in load", "load $0 @nowhere", []string{`1:9: undefined label "nowhere"`}},
		{"undefined label in cloop", "cloop @n", []string{`1:7: undefined label "n"`}},
		{"undefined label in loadf64", "loadf64 $f0 @n", []string{`1:13: undefined label "n"`}},
		{"undefined string", "prts @msg", []string{`1:6: undefined label "msg"`}},
		{"labels are case-sensitive", "Loop: nop\ndjmpe @loop", []string{`2:7: undefined label "loop"`}},
		{"duplicate code label", "a: nop\n  a: hlt", []string{`2:3: label "a" is already defined at t.iasm:1:1`}},
		{"duplicate label on one line", "a: a: nop", []string{`1:4: label "a" is already defined at t.iasm:1:1`}},
		{"duplicate data label", ".data\ns: .asciiz 'x'\ns: .integer #1", []string{`3:1: label "s" is already defined at t.iasm:2:1`}},
		{"duplicate label, code and data", "s: nop\n.data\n s: .asciiz 'x'", []string{`3:2: label "s" is already defined at t.iasm:1:1`}},
		{"duplicate end label", "end:\nnop\nend:", []string{`3:1: label "end" is already defined at t.iasm:1:1`}},
		{"prts of a code label and djmpe of a string", ".data\ns: .asciiz 'x'\n.code\nmain: prts @main\ndjmpe @s", []string{
			`4:12: @main is a code label; prts wants a string`,
			`5:7: @s is a string; djmpe wants a code label`,
		}},
		{"prts of an integer", ".data\nn: .integer #1\n.code\nprts @n", []string{`4:6: @n is an integer; prts wants a string`}},
		{"call of a float", ".data\nf: .float #1.5\n.code\ncall @f", []string{`4:6: @f is a float; call wants a code label`}},
		{"loop of an integer", ".data\nn: .integer #1\n.code\nloop @n", []string{`4:6: @n is an integer; loop wants a code label`}},
		{"ldf64 of a code label", "main: ldf64 $f0 @main", []string{`1:17: @main is a code label; ldf64 wants a float`}},
		{"ldf64 of an integer", ".data\nn: .integer #1\n.code\nldf64 $f0 @n", []string{`4:11: @n is an integer; ldf64 wants a float`}},
		{"load of a float", ".data\nf: .float #1.5\n.code\nload $0 @f", []string{`4:9: @f is a float; load wants an integer`}},
		{"cloop of a float", ".data\nf: .float #1.5\n.code\ncloop @f", []string{`4:7: @f is a float; cloop wants an integer`}},

		// Numbers out of range, for each kind.
		{"load beyond 32 bits", "load $0 #2147483648", []string{`1:9: number #2147483648 out of range for load (-2147483648 to 2147483647)`}},
		{"load below 32 bits", "load $0 #-2147483649", []string{`1:9: number #-2147483649 out of range for load (-2147483648 to 2147483647)`}},
		{"load of a hex number beyond 32 bits", "load $0 #0x100000000", []string{`1:9: number #0x100000000 out of range for load (-2147483648 to 2147483647)`}},
		{"load beyond 64 bits", "load $0 #99999999999999999999", []string{`1:9: number #99999999999999999999 out of range for load (-2147483648 to 2147483647)`}},
		{"cloop beyond 65535", "cloop #65536", []string{`1:7: number #65536 out of range for cloop (0 to 65535)`}},
		{"cloop negative", "cloop #-1", []string{`1:7: number #-1 out of range for cloop (0 to 65535)`}},
		{"lui beyond 65535", "lui $0 #65536", []string{`1:8: number #65536 out of range for lui (0 to 65535)`}},
		{"lui negative", "lui $0 #-1", []string{`1:8: number #-1 out of range for lui (0 to 65535)`}},
		{"shift count 0", "shl $0 #0", []string{`1:8: number #0 out of range for shl shift count (1 to 31)`}},
		{"shift count 32", "shr $0 #32", []string{`1:8: number #32 out of range for shr shift count (1 to 31)`}},
		{"shift count negative", "shl $0 #-1", []string{`1:8: number #-1 out of range for shl shift count (1 to 31)`}},
		{".integer beyond 32 bits", ".data\nn: .integer #2147483648", []string{`2:13: number #2147483648 out of range for .integer (-2147483648 to 2147483647)`}},
		{"an .integer out of range for cloop", ".data\nn: .integer #-1\n.code\ncloop @n", []string{`4:7: @n is -1, out of range for cloop (0 to 65535)`}},
		{"an .integer out of range for lui", ".data\nn: .integer #65536\n.code\nlui $1 @n", []string{`4:8: @n is 65536, out of range for lui (0 to 65535)`}},
		{"an .integer out of range for a shift", ".data\nn: .integer #32\n.code\nshl $0 @n", []string{`4:8: @n is 32, out of range for shl shift count (1 to 31)`}},

		// Bad numbers.
		{"a fraction for load", "load $0 #1.5", []string{`1:9: load wants a whole number, not #1.5`}},
		{"a fraction for cloop", "cloop #1.5", []string{`1:7: cloop wants a whole number, not #1.5`}},
		{"a fraction for a shift", "shl $0 #2.5", []string{`1:8: shl shift count wants a whole number, not #2.5`}},
		{"a fraction for .integer", ".data\nn: .integer #1.5", []string{`2:13: .integer wants a whole number, not #1.5`}},
		{"bad hex for load", "load $0 #0xZZ", []string{`1:9: bad number #0xZZ`}},
		{"letters after digits", "load $0 #12abc", []string{`1:9: bad number #12abc`}},
		{"bad hex for loadf64", "loadf64 $f0 #0xZZ", []string{`1:13: bad number #0xZZ`}},
		{"two points", "loadf64 $f0 #1.2.3", []string{`1:13: bad number #1.2.3`}},
		{"bad .float", ".data\nf: .float #12abc", []string{`2:11: bad number #12abc`}},
		{"an exponent without digits", ".data\nf: .float #1e", []string{`2:11: bad number #1e`}},

		// Sections and directives.
		{"instruction in .data", ".data\nhlt", []string{`2:1: instruction "hlt" in the .data section: put .code before it`}},
		{"labelled instruction in .data", "nop\n.data\nx: LOAD $0 #1", []string{`3:4: instruction "LOAD" in the .data section: put .code before it`}},
		{"unknown directive", ".text", []string{`1:1: unknown directive .text ` + knownDirectives}},
		{"unknown directive after a label", "x: .string 'a'", []string{`1:4: unknown directive .string ` + knownDirectives}},
		{".asciiz without a string", ".data\n.asciiz", []string{`2:1: .asciiz takes a string, as in .asciiz 'text'`}},
		{".asciiz with a number", ".data\ns: .asciiz #1", []string{`2:12: .asciiz takes a string, as in .asciiz 'text'`}},
		{".ascii with a label", ".data\ns: .ascii @x", []string{`2:11: .ascii takes a string, as in .ascii 'text'`}},
		{".ascii with two strings", ".data\ns: .ascii 'a' 'b'", []string{`2:11: .ascii takes a string, as in .ascii 'text'`}},
		{".integer with a string", ".data\nn: .integer 'x'", []string{`2:13: .integer takes a number, as in .integer #42`}},
		{".integer without a number", ".data\nn: .integer", []string{`2:4: .integer takes a number, as in .integer #42`}},
		{".float with a register", ".data\nf: .float $1", []string{`2:11: .float takes a number, as in .float #1.5`}},
		{".data with an operand", ".data #1", []string{`1:7: .data takes no operands`}},
		{".code with an operand", ".code $0", []string{`1:7: .code takes no operands`}},

		// The shape of a line.
		{"label after an instruction", "hlt x:", []string{`1:5: label "x" must start the line, before "hlt"`}},
		{"label after the operands", "load $0 #1 x:", []string{`1:12: label "x" must start the line, before "load"`}},
		{"label after a directive", ".data\n.asciiz 'a' s:", []string{`2:13: label "s" must start the line, before ".asciiz"`}},
		{"two instructions", "hlt nop", []string{`1:5: unexpected mnemonic "nop" after "hlt": one instruction or directive per line`}},
		{"instruction then directive", "hlt .data", []string{`1:5: unexpected directive ".data" after "hlt": one instruction or directive per line`}},
		{"two directives", ".data .code", []string{`1:7: unexpected directive ".code" after ".data": one instruction or directive per line`}},
		{"an operand alone", "$1", []string{`1:1: register "$1" needs an instruction or directive before it`}},
		{"an operand after a label", "x: #1", []string{`1:4: number "#1" needs an instruction or directive before it`}},
		{"a label reference alone", "  @x", []string{`1:3: label reference "@x" needs an instruction or directive before it`}},

		// Lexical errors reach the error list.
		{"lexical errors", "'abc\n\"abc\"\nprts 'a\\qb'\ninc $x\ncloop #\n.\n@\n%", []string{
			`1:1: unterminated string: add a closing '`,
			`2:1: strings are written in single quotes, as 'text'`,
			`3:8: unknown escape \q in string (known: \n \t \0 \\ \' \xNN)`,
			`4:5: expected a register number after '$', as in $0 or $f0`,
			`5:7: expected a number after '#', as in #10, #-3 or #1.5`,
			`6:1: expected a directive name after '.'`,
			`7:1: expected a label name after '@'`,
			`8:1: unexpected character '%'`,
		}},

		// LDF64 reaches only the first 64 KiB of read-only data.
		{"float constant beyond 64 KiB", ".data\npad: .ascii '" + strings.Repeat("p", 65536) + "'\nf: .float #1.5\n.code\nldf64 $f0 @f\nloadf64 $f1 @f\nloadf64 $f2 #2.5", []string{
			`5:11: @f is at read-only offset 65536, beyond the 64 KiB LDF64 reaches: define float constants before large strings`,
			`6:13: @f is at read-only offset 65536, beyond the 64 KiB LDF64 reaches: define float constants before large strings`,
			`7:13: no room for the float #2.5 in the first 64 KiB of read-only data, which LDF64 reaches: 65544 bytes of data come before it; define it with .float before the large strings`,
		}},

		// Every error of a file, in source order, whichever pass finds it,
		// one for each bad line.
		{"every error in source order", "load $0 @nowhere\nbogus $1\n'unterminated\nhlt x:\n.data\nhlt\n" +
			"s: .asciiz #1\n.code\ninc $f1\nshl $1 #32\nnop\nnop\nx: lod $0 #1\n", []string{
			`1:9: undefined label "nowhere"`,
			`2:1: unknown mnemonic "bogus"`,
			`3:1: unterminated string: add a closing '`,
			`4:5: label "x" must start the line, before "hlt"`,
			`6:1: instruction "hlt" in the .data section: put .code before it`,
			`7:12: .asciiz takes a string, as in .asciiz 'text'`,
			`9:5: $f1 is a float register; inc wants an integer register here`,
			`10:8: number #32 out of range for shl shift count (1 to 31)`,
			`13:4: unknown mnemonic "lod"; did you mean load?`,
		}},
		{"errors later in a file come after earlier ones", "djmpe @a\ndjmpe @b\nc: d: nop\n  c: nop\nadd $1 $2\n", []string{
			`1:7: undefined label "a"`,
			`2:7: undefined label "b"`,
			`4:3: label "c" is already defined at t.iasm:3:1`,
			`5:1: add takes 3 operands ($a $b $c), got 2`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sameErrors(t, tt.src, errorLines(t, tt.src), tt.want)
		})
	}
}

// The text of an error: position and message, then the source line (tabs
// as spaces, no \r) and a caret under the column, counted in characters;
// several errors are joined and counted.
func TestErrorText(t *testing.T) {
	tests := []struct {
		name, src, want string
	}{
		{"caret under the column", "nop\n  load $0 #1.5",
			"t.iasm:2:11: load wants a whole number, not #1.5\n" +
				"      load $0 #1.5\n" + caretLine(10)},
		{"a tab becomes a space", "nop\n\tload $0 #1.5",
			"t.iasm:2:10: load wants a whole number, not #1.5\n" +
				"     load $0 #1.5\n" + caretLine(9)},
		{"tabs between operands", "add\t$0\t#1\t$2",
			"t.iasm:1:8: add wants an integer register like $0 here, not number #1\n" +
				"    add $0 #1 $2\n" + caretLine(7)},
		// 'héllo ∑' is 9 characters in 12 bytes: the column counts bytes
		// (24), the caret characters (20 before it).
		{"multi-byte characters before the error", ".data\ns: .ascii 'héllo ∑' %",
			"t.iasm:2:24: unexpected character '%'\n" +
				"    s: .ascii 'héllo ∑' %\n" + caretLine(20)},
		{"CRLF: no \\r in the source line", "hlt\r\n\tbogus\r\nnop\r\n",
			"t.iasm:2:2: unknown mnemonic \"bogus\"\n" +
				"     bogus\n" + caretLine(1)},
		{"caret at column 1", "xyzzy",
			"t.iasm:1:1: unknown mnemonic \"xyzzy\"\n" +
				"    xyzzy\n" + caretLine(0)},
		{"two errors, counted", "inc $32\nhlt $1",
			"t.iasm:1:5: register $32 out of range: registers are $0 to $31\n" +
				"    inc $32\n" + caretLine(4) + "\n" +
				"t.iasm:2:1: hlt takes no operands, got 1\n" +
				"    hlt $1\n" + caretLine(0) + "\n" +
				"2 errors"},
		{"three errors, counted", "lod $0 #1\nhalt\npushh $1",
			"t.iasm:1:1: unknown mnemonic \"lod\"; did you mean load?\n    lod $0 #1\n" + caretLine(0) + "\n" +
				"t.iasm:2:1: unknown mnemonic \"halt\"; did you mean hlt?\n    halt\n" + caretLine(0) + "\n" +
				"t.iasm:3:1: unknown mnemonic \"pushh\"; did you mean push?\n    pushh $1\n" + caretLine(0) + "\n" +
				"3 errors"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Assemble("t.iasm", tt.src)
			if err == nil {
				t.Fatalf("Assemble(%q) succeeded", tt.src)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("Assemble(%q):\ngot:\n%s\nwant:\n%s", tt.src, got, tt.want)
			}
		})
	}
}

// caretLine is the caret line of an error: four spaces of indent, then n
// spaces, then ^.
func caretLine(n int) string { return "    " + strings.Repeat(" ", n) + "^" }

// An Error formats itself; an ErrorList unwraps to its errors.
func TestErrorValues(t *testing.T) {
	e := &Error{File: "f.iasm", Pos: Pos{Line: 3, Col: 5}, Msg: "something is wrong", Source: "\tab ∑ cd"}
	if got, want := e.Error(), "f.iasm:3:5: something is wrong\n     ab ∑ cd\n"+caretLine(4); got != want {
		t.Errorf("Error() =\n%s\nwant\n%s", got, want)
	}
	// Without a source line there is no caret.
	e2 := &Error{File: "f.iasm", Pos: Pos{Line: 1, Col: 1}, Msg: "too big"}
	if got, want := e2.Error(), "f.iasm:1:1: too big"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if got, want := (ErrorList{e2}).Error(), "f.iasm:1:1: too big"; got != want {
		t.Errorf("one-error list: %q, want %q", got, want)
	}

	_, err := Assemble("t.iasm", "inc $32\nbogus")
	var first *Error
	if !errors.As(err, &first) || first.Pos != (Pos{1, 5}) || first.Source != "inc $32" {
		t.Fatalf("errors.As(*Error) = %+v, want the first error, at 1:5", first)
	}
	var list ErrorList
	if !errors.As(err, &list) || len(list) != 2 || len(list.Unwrap()) != 2 || list.Unwrap()[1] != error(list[1]) {
		t.Errorf("ErrorList %v does not unwrap to its 2 errors", list)
	}
}

// The package-level Assemble and an Assembler report the same errors.
func TestErrorsSameFromAssembler(t *testing.T) {
	src := "a: nop\nbogus\na: hlt\n"
	_, err1 := Assemble("t.iasm", src)
	_, err2 := New().Assemble("t.iasm", src)
	if err1 == nil || err2 == nil || err1.Error() != err2.Error() {
		t.Errorf("Assemble: %v\nAssembler.Assemble: %v", err1, err2)
	}
}
