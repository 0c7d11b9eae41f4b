package asm

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// tokenKind identifies the kind of a token.
type tokenKind uint8

const (
	tokError     tokenKind = iota // val is the message
	tokEOF                        // end of input
	tokNewline                    // end of a line
	tokIdent                      // a mnemonic: load
	tokLabelDecl                  // a label declaration: loop: (val is "loop")
	tokDirective                  // .asciiz (val is "asciiz")
	tokRegister                   // $3 or $f3 (val is "3" or "f3")
	tokNumber                     // #12, #-3, #1.5, #0x1f (val without the #)
	tokLabelRef                   // @loop (val is "loop")
	tokString                     // 'text' (val is the text, escapes resolved)
)

func (k tokenKind) String() string {
	switch k {
	case tokEOF:
		return "end of input"
	case tokNewline:
		return "end of line"
	case tokIdent:
		return "mnemonic"
	case tokLabelDecl:
		return "label declaration"
	case tokDirective:
		return "directive"
	case tokRegister:
		return "register"
	case tokNumber:
		return "number"
	case tokLabelRef:
		return "label reference"
	case tokString:
		return "string"
	}
	return "error"
}

// Pos is a place in the source: 1-based line and column (in bytes).
type Pos struct {
	Line, Col int
}

// token is one lexeme and where it starts. Its strings are slices of the
// source, not copies, except the value of a string with escapes and the
// message of an error.
type token struct {
	kind tokenKind
	val  string
	pos  Pos
	text string // as written in the source
	off  int    // where text starts in the source
}

// stateFn is a state of the lexer; it returns the next state.
type stateFn func(*lexer) stateFn

// lexer turns source text into tokens, a line at a time. It never stops
// at an error: it emits a tokError and carries on with the next line, so
// that every error in a file can be reported.
type lexer struct {
	input     string
	start     int // start of the current token
	pos       int // current position
	width     int // width of the last byte read: 0 at the end of input
	line      int // line of start
	lineStart int // offset of the first byte of the current line
	state     stateFn
	tokens    []token // the tokens of the current line
}

const eof = -1

func newLexer(input string) *lexer {
	return &lexer{input: input, line: 1, state: lexLine}
}

// nextLine returns the tokens of the next line, the last of which is its
// tokNewline or the tokEOF; nothing after the tokEOF. The slice is reused
// by the next call.
func (l *lexer) nextLine() []token {
	l.tokens = l.tokens[:0]
	for l.state != nil {
		l.state = l.state(l)
		if n := len(l.tokens); n > 0 && (l.tokens[n-1].kind == tokNewline || l.tokens[n-1].kind == tokEOF) {
			break
		}
	}
	return l.tokens
}

func (l *lexer) next() int {
	if l.pos >= len(l.input) {
		l.width = 0
		return eof
	}
	c := l.input[l.pos]
	l.pos++
	l.width = 1
	return int(c)
}

func (l *lexer) peek() int {
	if l.pos >= len(l.input) {
		return eof
	}
	return int(l.input[l.pos])
}

// backup steps back over the last byte read; it can be called once per next.
func (l *lexer) backup() { l.pos -= l.width }

func (l *lexer) here() Pos { return Pos{Line: l.line, Col: l.start - l.lineStart + 1} }

func (l *lexer) emit(kind tokenKind, val string) {
	l.tokens = append(l.tokens, token{kind: kind, val: val, pos: l.here(), text: l.input[l.start:l.pos], off: l.start})
	l.start = l.pos
}

func (l *lexer) ignore() { l.start = l.pos }

// errorf emits an error token at the start of the current token and skips
// the rest of the line.
func (l *lexer) errorf(format string, args ...any) stateFn {
	l.tokens = append(l.tokens, token{kind: tokError, val: fmt.Sprintf(format, args...), pos: l.here(), off: l.start})
	return lexSkipLine
}

// acceptRun consumes bytes while ok says yes.
func (l *lexer) acceptRun(ok func(int) bool) {
	for ok(l.next()) {
	}
	l.backup()
}

func isSpace(c int) bool { return c == ' ' || c == '\t' || c == '\r' }

func isIdentStart(c int) bool { return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isIdent(c int) bool { return isIdentStart(c) || isDigit(c) }

func isDigit(c int) bool { return c >= '0' && c <= '9' }

func isNumberChar(c int) bool { return isIdent(c) || c == '.' || c == '+' || c == '-' }

// lexLine is the state between tokens.
func lexLine(l *lexer) stateFn {
	l.acceptRun(isSpace)
	l.ignore()
	switch c := l.next(); {
	case c == eof:
		l.emit(tokEOF, "")
		return nil
	case c == '\n':
		l.emit(tokNewline, "")
		l.line++
		l.lineStart = l.pos
		return lexLine
	case c == ';':
		return lexComment
	case c == '.':
		return lexDirective
	case c == '@':
		return lexLabelRef
	case c == '$':
		return lexRegister
	case c == '#':
		return lexNumber
	case c == '\'':
		return lexString
	case c == '"':
		return l.errorf("strings are written in single quotes, as 'text'")
	case isIdentStart(c):
		return lexIdent
	case isDigit(c):
		l.acceptRun(isNumberChar)
		return l.errorf("numbers start with '#', as in #%s", l.input[l.start:l.pos])
	default:
		r, _ := utf8.DecodeRuneInString(l.input[l.start:])
		return l.errorf("unexpected character %q", r)
	}
}

// lexComment skips a comment; the newline that ends it is a token.
func lexComment(l *lexer) stateFn {
	for c := l.next(); c != '\n' && c != eof; c = l.next() {
	}
	l.backup()
	l.ignore()
	return lexLine
}

// lexSkipLine skips what is left of a line after an error.
func lexSkipLine(l *lexer) stateFn {
	for c := l.peek(); c != '\n' && c != eof; c = l.peek() {
		l.next()
	}
	l.ignore()
	return lexLine
}

func lexDirective(l *lexer) stateFn { return l.prefixed(tokDirective, "directive name after '.'") }

func lexLabelRef(l *lexer) stateFn { return l.prefixed(tokLabelRef, "label name after '@'") }

// prefixed lexes a name after a one-character prefix ('.' or '@').
func (l *lexer) prefixed(kind tokenKind, want string) stateFn {
	if !isIdentStart(l.peek()) {
		return l.errorf("expected a %s", want)
	}
	l.acceptRun(isIdent)
	l.emit(kind, l.input[l.start+1:l.pos])
	return lexLine
}

func lexIdent(l *lexer) stateFn {
	l.acceptRun(isIdent)
	name := l.input[l.start:l.pos]
	if l.peek() == ':' {
		l.next()
		l.emit(tokLabelDecl, name)
		return lexLine
	}
	l.emit(tokIdent, name)
	return lexLine
}

// lexRegister lexes $N or $fN; the parser checks the number.
func lexRegister(l *lexer) stateFn {
	if c := l.peek(); c == 'f' || c == 'F' {
		l.next()
	}
	if !isDigit(l.peek()) {
		return l.errorf("expected a register number after '$', as in $0 or $f0")
	}
	l.acceptRun(isIdent)
	l.emit(tokRegister, strings.ToLower(l.input[l.start+1:l.pos]))
	return lexLine
}

// lexNumber lexes what follows '#'; the parser interprets it.
func lexNumber(l *lexer) stateFn {
	if c := l.peek(); c == '-' || c == '+' {
		l.next()
	}
	if !isDigit(l.peek()) {
		return l.errorf("expected a number after '#', as in #10, #-3 or #1.5")
	}
	for c := l.next(); isNumberChar(c); c = l.next() {
		if (c == '+' || c == '-') && !strings.ContainsAny(l.input[l.pos-2:l.pos-1], "eE") {
			break
		}
	}
	l.backup()
	l.emit(tokNumber, l.input[l.start+1:l.pos])
	return lexLine
}

// lexString lexes a single-quoted string with \n, \t, \0, \\, \' and \xNN
// escapes. It may not span lines. The value of a string without escapes
// is a slice of the source.
func lexString(l *lexer) stateFn {
	var val strings.Builder
	escaped := false
	for {
		switch c := l.next(); c {
		case eof, '\n':
			l.backup()
			return l.errorf("unterminated string: add a closing '")
		case '\'':
			if !escaped {
				l.emit(tokString, l.input[l.start+1:l.pos-1])
				return lexLine
			}
			l.emit(tokString, val.String())
			return lexLine
		case '\\':
			if c := l.peek(); c == eof || c == '\n' {
				return l.errorf("unterminated string: add a closing '")
			}
			slash := l.pos - 1
			if !escaped {
				val.WriteString(l.input[l.start+1 : slash])
				escaped = true
			}
			e, ok := l.escape()
			if !ok {
				l.start = slash // point at the escape, not the string
				return l.errorf("unknown escape %s in string (known: \\n \\t \\0 \\\\ \\' \\xNN)", l.escapeText(slash))
			}
			val.WriteByte(e)
		default:
			if escaped {
				val.WriteByte(byte(c))
			}
		}
	}
}

// escapeText returns a bad escape as written: the backslash, the letter,
// and for \x the two characters that should be hex digits, if the line
// and the string have them.
func (l *lexer) escapeText(slash int) string {
	end := min(slash+2, len(l.input))
	if l.input[slash+1] == 'x' {
		for end < len(l.input) && end < slash+4 && l.input[end] != '\n' && l.input[end] != '\'' {
			end++
		}
	}
	return l.input[slash:end]
}

// escape reads what follows a backslash.
func (l *lexer) escape() (byte, bool) {
	switch c := l.next(); c {
	case 'n':
		return '\n', true
	case 't':
		return '\t', true
	case '0':
		return 0, true
	case '\\', '\'':
		return byte(c), true
	case 'x':
		var v byte
		for range 2 { // read only hex digits, so a bad escape never eats the line end
			d := hexValue(l.peek())
			if d < 0 {
				return 0, false
			}
			l.next()
			v = v<<4 | byte(d)
		}
		return v, true
	}
	return 0, false
}

func hexValue(c int) int {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return -1
}
