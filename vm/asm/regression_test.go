package asm

// Regression tests: each was written as a failing test for a bug found
// while testing, and is named after it.

import (
	"bytes"
	"github.com/iridium-vm/iridium/vm"
	"strings"
	"testing"
)

// BUG 1 (lexer.go, escape, the \x case at line ~288): a bad \x escape
// reads two bytes whatever they are, so it can swallow the newline: the
// line after it disappears (never lexed, never assembled, never reported)
// and every line number after it is one too small. The message then holds
// the raw newline: "unknown escape \<newline> in string ...".
func TestBugBadHexEscapeEatsTheNewline(t *testing.T) {
	for _, input := range []string{"'\\x'\nhlt\nnop", "'\\x4\nhlt\nnop", "'ab\\x\nhlt\nnop"} {
		toks := lexTokens(input)
		want := []lexTok{
			{tokNewline, "", 1, len(strings.Split(input, "\n")[0]) + 1},
			{tokIdent, "hlt", 2, 1}, {tokNewline, "", 2, 4},
			{tokIdent, "nop", 3, 1}, {tokEOF, "", 3, 4},
		}
		if len(toks) == 0 || toks[0].kind != tokError || toks[0].line != 1 {
			t.Errorf("lex(%q): first token %v, want an error on line 1", input, toks)
			continue
		}
		if strings.Contains(toks[0].val, "\n") {
			t.Errorf("lex(%q): the message %q holds a newline", input, toks[0].val)
		}
		sameTokens(t, input, toks[1:], want)
	}
	// Assembled, the swallowed line must still be seen: here it is bad too.
	_, err := Assemble("t.iasm", "'\\x'\nbogus\nnop")
	if err == nil || !strings.Contains(err.Error(), "t.iasm:2:1: unknown mnemonic \"bogus\"") {
		t.Errorf("the line after a bad \\x escape was not assembled: %v", err)
	}
}

// BUG 2 (lexer.go:267): the message for a bad \x escape names the wrong
// text: '\xZZ' says "unknown escape \Z", '\xZ1' says "\1", '\x4” says
// "\'" (which the same message lists as known). It should name the escape
// as written, e.g. "bad escape \xZZ in string: \x takes two hex digits".
func TestBugBadHexEscapeMessage(t *testing.T) {
	for input, escape := range map[string]string{`'\xZZ'`: `\xZZ`, `'\xZ1'`: `\xZ1`, `'\x1Z'`: `\x1Z`, `'\x4'`: `\x4`} {
		toks := lex(input)
		if toks[0].kind != tokError || !strings.Contains(toks[0].val, escape) {
			t.Errorf("lex(%q): %q, want an error naming %s", input, toks[0].val, escape)
		}
	}
}

// BUG 3 (lexer.go:172): an unexpected non-ASCII character is reported by
// its first byte as a Latin-1 rune: "é" gives "unexpected character 'Ã'".
// It should decode UTF-8 and say 'é'.
func TestBugUnexpectedNonASCII(t *testing.T) {
	for input, want := range map[string]string{"é": "unexpected character 'é'", "load $0 ∑": "unexpected character '∑'"} {
		toks := lex(input)
		found := false
		for _, tok := range toks {
			if tok.kind == tokError {
				found = true
				if tok.val != want {
					t.Errorf("lex(%q): %q, want %q", input, tok.val, want)
				}
			}
		}
		if !found {
			t.Errorf("lex(%q): no error", input)
		}
	}
}

// BUG 4: a label declared on a line that has an error is never defined, so
// each use of it gets a second error, "undefined label", on another line:
// a cascade. One bad line must give one error. Where it happens: parse.go
// drops a line with a lexical error whole (line 21) and skips a label out
// of place (line 30); asm.go instruction() returns before defining the
// labels for an unknown mnemonic, a wrong operand count or an instruction
// in .data (lines 232-243); operands.go directive() drops the labels of a
// directive with a bad operand or an unknown name.
func TestBugLabelOnBadLineCascades(t *testing.T) {
	tests := []struct{ src, want string }{
		{"x: lod $0 #1\ndjmpe @x", `1:4: unknown mnemonic "lod"; did you mean load?`},
		{"x: add $1\ncall @x", `1:4: add takes 3 operands ($a $b $c), got 1`},
		{"x: inc $1 %\ncall @x", `1:11: unexpected character '%'`},
		{".data\nmsg: .asciiz \"hi\"\n.code\nprts @msg", `2:14: strings are written in single quotes, as 'text'`},
		{".data\nmsg: .asciiz #1\n.code\nprts @msg", `2:14: .asciiz takes a string, as in .asciiz 'text'`},
		{".data\nn: .integer #1.5\n.code\ncloop @n", `2:13: .integer wants a whole number, not #1.5`},
		{"x: .string 'a'\ncall @x", `1:4: unknown directive .string (known: .data .code .asciiz .ascii .integer .float)`},
		{".data\nx: hlt\n.code\ncall @x", `2:4: instruction "hlt" in the .data section: put .code before it`},
		{"hlt x:\ndjmpe @x", `1:5: label "x" must start the line, before "hlt"`},
	}
	for _, tt := range tests {
		sameErrors(t, tt.src, errorLines(t, tt.src), []string{tt.want})
	}
}

// BUG 5 (parse.go:36-45): after "unexpected mnemonic ... one instruction
// per line", the rest of the line is still taken as operands of the first
// instruction, which then fails its operand count too: two errors for one
// bad line. Likewise a second extra mnemonic or a second stray operand
// gives a second error on the same line.
func TestBugSecondInstructionCascades(t *testing.T) {
	tests := []struct{ src, want string }{
		{"inc $1 inc $2", `1:8: unexpected mnemonic "inc" after "inc": one instruction or directive per line`},
		{"hlt nop nop", `1:5: unexpected mnemonic "nop" after "hlt": one instruction or directive per line`},
		{"'abc' $1", `1:1: string "'abc'" needs an instruction or directive before it`},
	}
	for _, tt := range tests {
		sameErrors(t, tt.src, errorLines(t, tt.src), []string{tt.want})
	}
}

// BUG 6 (operands.go:219, 232, 258): numbers are parsed with
// strconv.ParseInt(s, 0, 64), so a leading zero means octal: "load $0
// #010" loads 8, "loadf64 $f0 #010" loads 8.0 while "#010.0" loads 10.0,
// and "load $0 #08" is refused with "load wants a whole number, not #08".
// The language has decimal numbers and #0x hex; #010 should be 10 (as in
// the original Iridium, which parsed decimal).
func TestBugLeadingZeroIsOctal(t *testing.T) {
	for src, want := range map[string]string{
		"load $0 #010":     "00 00 00 0a",
		"load $0 #08":      "00 00 00 08",
		"cloop #0100":      "28 00 64 00",
		"loadf64 $f0 #010": "16 00 00 0a",
	} {
		p, err := Assemble("t.iasm", src)
		if err != nil {
			t.Errorf("%q: %v", src, err)
			continue
		}
		sameBytes(t, "code", src, p.Code, hexb(t, want))
	}
}

// UNCLEAR messages: each is accurate to the code but misleads the user.
func TestBugUnclearMessages(t *testing.T) {
	tests := []struct {
		src     string
		want    string // the message must contain this
		wantNot string // and not this
	}{
		// "prts wants a string like @name here, not string 'hi'": it
		// refuses a string because it wants a string. It wants a string
		// *label* (operands.go:128 uses SymbolKind.String()).
		{"prts 'hi'", "label", ""},
		{"ldf64 $f0 #1", "label", ""},
		// "register $1x out of range": it is not a number at all.
		{"inc $1x", "$1x", "out of range"},
	}
	for _, tt := range tests {
		_, err := Assemble("t.iasm", tt.src)
		if err == nil {
			t.Errorf("%q assembled", tt.src)
			continue
		}
		msg := err.(ErrorList)[0].Msg
		if !strings.Contains(msg, tt.want) || tt.wantNot != "" && strings.Contains(msg, tt.wantNot) {
			t.Errorf("%q: %q, want a message with %q and without %q", tt.src, msg, tt.want, tt.wantNot)
		}
	}
}

// A whole number written with an exponent is a whole number.
func TestWholeNumberWithExponent(t *testing.T) {
	p, err := Assemble("t.iasm", "load $0 #1e3\ncloop #2E2")
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{byte(vm.LOAD), 0, 0x03, 0xe8, byte(vm.CLOOP), 0, 200, 0}
	if !bytes.Equal(p.Code, want) {
		t.Fatalf("code % x, want % x", p.Code, want)
	}
}

// A huge unknown mnemonic is quoted clipped and gets no suggestion, so the
// error stays short and quick to make.
func TestHugeUnknownMnemonic(t *testing.T) {
	_, err := Assemble("t.iasm", strings.Repeat("a", 1<<20))
	msg := err.(ErrorList)[0].Msg
	if len(msg) > 80 || strings.Contains(msg, "did you mean") || !strings.Contains(msg, `"aaaa`) {
		t.Fatalf("message %q (%d bytes), want the word clipped and no suggestion", msg[:min(len(msg), 120)], len(msg))
	}
}
