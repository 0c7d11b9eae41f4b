package asm

import (
	"fmt"
	"strings"
	"testing"
)

// lex returns every token of input, the last being tokEOF, as the
// assembler gets them a line at a time from nextLine.
func lex(input string) []token {
	var out []token
	for l := newLexer(input); ; {
		line := l.nextLine()
		if len(line) == 0 {
			return out
		}
		out = append(out, line...)
	}
}

// lexTok is a token as the lexer tests expect it: kind, value and position.
type lexTok struct {
	kind      tokenKind
	val       string
	line, col int
}

func (t lexTok) String() string {
	return fmt.Sprintf("%d:%d %s %q", t.line, t.col, t.kind, t.val)
}

func lexTokens(input string) []lexTok {
	var out []lexTok
	for _, t := range lex(input) {
		out = append(out, lexTok{t.kind, t.val, t.pos.Line, t.pos.Col})
	}
	return out
}

func sameTokens(t *testing.T, input string, got, want []lexTok) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("lex(%q): %d tokens, want %d\ngot:  %v\nwant: %v", input, len(got), len(want), got, want)
		return
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("lex(%q): token %d is %v, want %v", input, i, got[i], want[i])
		}
	}
}

// Every token of a line, its kind, value and position. Columns count bytes
// from 1; a newline token sits in the column after the line's last byte;
// the EOF token is where the input ends.
func TestLexTokens(t *testing.T) {
	const (
		E   = tokError
		EOF = tokEOF
		NL  = tokNewline
		ID  = tokIdent
		LD  = tokLabelDecl
		DIR = tokDirective
		REG = tokRegister
		NUM = tokNumber
		REF = tokLabelRef
		STR = tokString
	)
	tests := []struct {
		name  string
		input string
		want  []lexTok
	}{
		{"empty", "", []lexTok{{EOF, "", 1, 1}}},
		{"every kind", "loop: LOAD $3 #12 ; comment\n  .asciiz 'hi' @lbl $f3\n", []lexTok{
			{LD, "loop", 1, 1}, {ID, "LOAD", 1, 7}, {REG, "3", 1, 12}, {NUM, "12", 1, 15}, {NL, "", 1, 28},
			{DIR, "asciiz", 2, 3}, {STR, "hi", 2, 11}, {REF, "lbl", 2, 16}, {REG, "f3", 2, 21}, {NL, "", 2, 24},
			{EOF, "", 3, 1},
		}},
		{"no spaces needed between tokens", "a:b:hlt$1#2@c'd'", []lexTok{
			{LD, "a", 1, 1}, {LD, "b", 1, 3}, {ID, "hlt", 1, 5}, {REG, "1", 1, 8}, {NUM, "2", 1, 10},
			{REF, "c", 1, 12}, {STR, "d", 1, 14}, {EOF, "", 1, 17},
		}},
		{"tabs", "\tinc\t$1", []lexTok{{ID, "inc", 1, 2}, {REG, "1", 1, 6}, {EOF, "", 1, 8}}},
		{"identifiers with digits and underscores", "_x1: call @_x1", []lexTok{
			{LD, "_x1", 1, 1}, {ID, "call", 1, 6}, {REF, "_x1", 1, 11}, {EOF, "", 1, 15},
		}},
		{"directives keep their case", ".data .Code .ASCIIZ", []lexTok{
			{DIR, "data", 1, 1}, {DIR, "Code", 1, 7}, {DIR, "ASCIIZ", 1, 13}, {EOF, "", 1, 20},
		}},

		// Comments and blank lines.
		{"comment only", "; nothing here", []lexTok{{EOF, "", 1, 15}}},
		{"comment then a line", "; c\nhlt ; x", []lexTok{{NL, "", 1, 4}, {ID, "hlt", 2, 1}, {EOF, "", 2, 8}}},
		{"comment right after a token", "hlt;x\nnop", []lexTok{{ID, "hlt", 1, 1}, {NL, "", 1, 6}, {ID, "nop", 2, 1}, {EOF, "", 2, 4}}},
		{"comment holding quotes and $", "; 'unterminated $ # \"\nhlt", []lexTok{{NL, "", 1, 22}, {ID, "hlt", 2, 1}, {EOF, "", 2, 4}}},
		{"blank lines", "\n\n  \nhlt", []lexTok{
			{NL, "", 1, 1}, {NL, "", 2, 1}, {NL, "", 3, 3}, {ID, "hlt", 4, 1}, {EOF, "", 4, 4},
		}},
		{"CRLF line endings", "hlt\r\n  nop\r\n\r\n", []lexTok{
			{ID, "hlt", 1, 1}, {NL, "", 1, 5}, {ID, "nop", 2, 3}, {NL, "", 2, 7}, {NL, "", 3, 2}, {EOF, "", 4, 1},
		}},
		{"CRLF after a string and a comment", "'a'\r\n;c\r\nx:\r\n", []lexTok{
			{STR, "a", 1, 1}, {NL, "", 1, 5}, {NL, "", 2, 4}, {LD, "x", 3, 1}, {NL, "", 3, 4}, {EOF, "", 4, 1},
		}},

		// Mnemonics in any case: the lexer keeps the text, the parser folds it.
		{"mnemonic case", "Load lOaD HLT hlt", []lexTok{
			{ID, "Load", 1, 1}, {ID, "lOaD", 1, 6}, {ID, "HLT", 1, 11}, {ID, "hlt", 1, 15}, {EOF, "", 1, 18},
		}},

		// Registers: the value is lower case, without the $.
		{"registers", "$3 $f3 $F31 $0 $31 $99", []lexTok{
			{REG, "3", 1, 1}, {REG, "f3", 1, 4}, {REG, "f31", 1, 8}, {REG, "0", 1, 13}, {REG, "31", 1, 16},
			{REG, "99", 1, 20}, {EOF, "", 1, 23},
		}},

		// Numbers: the value is as written, without the #.
		{"numbers", "#12 #-3 #+4 #1.5 #0x1F #1e3 #1e-3 #1E+3 #0", []lexTok{
			{NUM, "12", 1, 1}, {NUM, "-3", 1, 5}, {NUM, "+4", 1, 9}, {NUM, "1.5", 1, 13}, {NUM, "0x1F", 1, 18},
			{NUM, "1e3", 1, 24}, {NUM, "1e-3", 1, 29}, {NUM, "1E+3", 1, 35}, {NUM, "0", 1, 41}, {EOF, "", 1, 43},
		}},
		{"a number ends at a space, a comment or a newline", "#-32768;x\n#7\n", []lexTok{
			{NUM, "-32768", 1, 1}, {NL, "", 1, 10}, {NUM, "7", 2, 1}, {NL, "", 2, 3}, {EOF, "", 3, 1},
		}},
		{"a sign inside a number only follows an exponent", "#1-2", []lexTok{
			{NUM, "1", 1, 1}, {E, "unexpected character '-'", 1, 3}, {EOF, "", 1, 5},
		}},
		{"letters are part of a number (the parser refuses them)", "#0xZZ #12abc", []lexTok{
			{NUM, "0xZZ", 1, 1}, {NUM, "12abc", 1, 7}, {EOF, "", 1, 13},
		}},

		// Strings: escapes resolved, no quotes.
		{"string with every escape", `'a\nb\tc\0d\\e\'f\x41\x7f\xFFg'`, []lexTok{
			{STR, "a\nb\tc\x00d\\e'f\x41\x7f\xffg", 1, 1}, {EOF, "", 1, 32},
		}},
		{"empty string", "''", []lexTok{{STR, "", 1, 1}, {EOF, "", 1, 3}}},
		{"string holding ; \" # $ @ and a tab", "'a;b\"c#d$e@f\tg' hlt", []lexTok{
			{STR, "a;b\"c#d$e@f\tg", 1, 1}, {ID, "hlt", 1, 17}, {EOF, "", 1, 20},
		}},
		{"string bytes are kept as they are", "'héllo' x:", []lexTok{
			{STR, "héllo", 1, 1}, {LD, "x", 1, 10}, {EOF, "", 1, 12},
		}},

		// Lexical errors: one error token where the bad token starts, the
		// rest of the line skipped, lexing carried on at the next line.
		{"unterminated string", "'abc", []lexTok{{E, "unterminated string: add a closing '", 1, 1}, {EOF, "", 1, 5}}},
		{"unterminated string, then the next line", "  hlt 'abc\nnop", []lexTok{
			{ID, "hlt", 1, 3}, {E, "unterminated string: add a closing '", 1, 7}, {NL, "", 1, 11},
			{ID, "nop", 2, 1}, {EOF, "", 2, 4},
		}},
		{"string ending in a backslash at the end of the line", "'ab\\\nnop", []lexTok{
			{E, "unterminated string: add a closing '", 1, 1}, {NL, "", 1, 5}, {ID, "nop", 2, 1}, {EOF, "", 2, 4},
		}},
		{"string ending in a backslash at the end of input", "'ab\\", []lexTok{
			{E, "unterminated string: add a closing '", 1, 1}, {EOF, "", 1, 5},
		}},
		{"double quotes", `.asciiz "hi" ; x` + "\nhlt", []lexTok{
			{DIR, "asciiz", 1, 1}, {E, "strings are written in single quotes, as 'text'", 1, 9}, {NL, "", 1, 17},
			{ID, "hlt", 2, 1}, {EOF, "", 2, 4},
		}},
		{"unknown escape", `'a\qb' hlt` + "\nnop", []lexTok{
			{E, `unknown escape \q in string (known: \n \t \0 \\ \' \xNN)`, 1, 3}, {NL, "", 1, 11},
			{ID, "nop", 2, 1}, {EOF, "", 2, 4},
		}},
		{"unknown escape \\r", `'\r'`, []lexTok{
			{E, `unknown escape \r in string (known: \n \t \0 \\ \' \xNN)`, 1, 2}, {EOF, "", 1, 5},
		}},
		{"'$' without a number", "inc $x\nhlt", []lexTok{
			{ID, "inc", 1, 1}, {E, "expected a register number after '$', as in $0 or $f0", 1, 5}, {NL, "", 1, 7},
			{ID, "hlt", 2, 1}, {EOF, "", 2, 4},
		}},
		{"'$f' without a number", "$f", []lexTok{{E, "expected a register number after '$', as in $0 or $f0", 1, 1}, {EOF, "", 1, 3}}},
		{"'$' at the end of input", "$", []lexTok{{E, "expected a register number after '$', as in $0 or $f0", 1, 1}, {EOF, "", 1, 2}}},
		{"'$' before a space", "$ 1", []lexTok{{E, "expected a register number after '$', as in $0 or $f0", 1, 1}, {EOF, "", 1, 4}}},
		{"'#' without a number", "cloop #x\nhlt", []lexTok{
			{ID, "cloop", 1, 1}, {E, "expected a number after '#', as in #10, #-3 or #1.5", 1, 7}, {NL, "", 1, 9},
			{ID, "hlt", 2, 1}, {EOF, "", 2, 4},
		}},
		{"'#-' without a number", "#-", []lexTok{{E, "expected a number after '#', as in #10, #-3 or #1.5", 1, 1}, {EOF, "", 1, 3}}},
		{"'#' before a point", "#.5", []lexTok{{E, "expected a number after '#', as in #10, #-3 or #1.5", 1, 1}, {EOF, "", 1, 4}}},
		{"'#' at the end of input", "#", []lexTok{{E, "expected a number after '#', as in #10, #-3 or #1.5", 1, 1}, {EOF, "", 1, 2}}},
		{"'.' without a name", "  . data\nhlt", []lexTok{
			{E, "expected a directive name after '.'", 1, 3}, {NL, "", 1, 9}, {ID, "hlt", 2, 1}, {EOF, "", 2, 4},
		}},
		{"'.' before a digit", ".1", []lexTok{{E, "expected a directive name after '.'", 1, 1}, {EOF, "", 1, 3}}},
		{"'@' without a name", "djmpe @\nhlt", []lexTok{
			{ID, "djmpe", 1, 1}, {E, "expected a label name after '@'", 1, 7}, {NL, "", 1, 8}, {ID, "hlt", 2, 1}, {EOF, "", 2, 4},
		}},
		{"'@' before a digit", "@1x", []lexTok{{E, "expected a label name after '@'", 1, 1}, {EOF, "", 1, 4}}},
		{"unexpected '%'", "%\nhlt", []lexTok{{E, "unexpected character '%'", 1, 1}, {NL, "", 1, 2}, {ID, "hlt", 2, 1}, {EOF, "", 2, 4}}},
		{"unexpected ','", "add $1, $2 $3\nnop", []lexTok{
			{ID, "add", 1, 1}, {REG, "1", 1, 5}, {E, "unexpected character ','", 1, 7}, {NL, "", 1, 14},
			{ID, "nop", 2, 1}, {EOF, "", 2, 4},
		}},
		{"unexpected ':' alone", "x :", []lexTok{{ID, "x", 1, 1}, {E, "unexpected character ':'", 1, 3}, {EOF, "", 1, 4}}},
		{"a digit cannot start a mnemonic", "1hlt", []lexTok{{E, "numbers start with '#', as in #1hlt", 1, 1}, {EOF, "", 1, 5}}},
		{"one error per line, every line", "% a\n$ b\n# c\nhlt", []lexTok{
			{E, "unexpected character '%'", 1, 1}, {NL, "", 1, 4},
			{E, "expected a register number after '$', as in $0 or $f0", 2, 1}, {NL, "", 2, 4},
			{E, "expected a number after '#', as in #10, #-3 or #1.5", 3, 1}, {NL, "", 3, 4},
			{ID, "hlt", 4, 1}, {EOF, "", 4, 4},
		}},
		{"error on a CRLF line", "%\r\nhlt\r\n", []lexTok{
			{E, "unexpected character '%'", 1, 1}, {NL, "", 1, 3}, {ID, "hlt", 2, 1}, {NL, "", 2, 5}, {EOF, "", 3, 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sameTokens(t, tt.input, lexTokens(tt.input), tt.want)
		})
	}
}

// A bad \x escape is an error at its backslash, and the lexer carries on
// at the next line.
func TestLexBadHexEscape(t *testing.T) {
	for _, input := range []string{`'\xZZ' hlt`, `'\xZ1'`, `'\x1Z'`, `'\x4'`} {
		toks := lexTokens(input + "\nnop")
		if len(toks) != 4 || toks[0].kind != tokError || toks[0].line != 1 || toks[0].col != 2 ||
			toks[1].kind != tokNewline || toks[2] != (lexTok{tokIdent, "nop", 2, 1}) || toks[3].kind != tokEOF {
			t.Errorf("lex(%q) = %v, want an error at 1:2, a newline, nop at 2:1, EOF", input+"\nnop", toks)
		}
	}
}

// The text of a token is what the source says, for error messages.
func TestLexTokenText(t *testing.T) {
	input := "lp: LoAd $F3 #0x1F @lp .Asciiz 'a\\n'"
	want := []string{"lp:", "LoAd", "$F3", "#0x1F", "@lp", ".Asciiz", `'a\n'`, ""}
	toks := lex(input)
	if len(toks) != len(want) {
		t.Fatalf("lex(%q): %d tokens, want %d", input, len(toks), len(want))
	}
	for i, tok := range toks {
		if tok.text != want[i] {
			t.Errorf("token %d (%s): text %q, want %q", i, tok.kind, tok.text, want[i])
		}
	}
}

// Every line of a long file gets its line number: the lexer counts lines
// through comments, strings and errors.
func TestLexLineCounting(t *testing.T) {
	lines := []string{"hlt", "; comment", "'str'", "%", "x: nop", "", "'bad", "$f1", ".data"}
	var b strings.Builder
	for i := 0; i < 50; i++ {
		for _, l := range lines {
			b.WriteString(l + "\n")
		}
	}
	line := 1
	for _, tok := range lex(b.String()) {
		if tok.pos.Line != line {
			t.Fatalf("token %s %q at line %d, want line %d", tok.kind, tok.val, tok.pos.Line, line)
		}
		if tok.kind == tokNewline {
			line++
		}
	}
	if line != 50*len(lines)+1 {
		t.Errorf("counted %d lines, want %d", line-1, 50*len(lines))
	}
}
