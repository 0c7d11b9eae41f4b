package asm

import (
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// Error is one assembly error: where, why, and the line it is on.
type Error struct {
	File   string
	Pos    Pos
	Msg    string // one line, lower case, no position
	Source string // the source line, without its newline
}

// Error formats the error as
//
//	file:line:col: reason
//	    source line
//	    ^
func (e *Error) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s%s", e.File, e.Pos.Line, e.Pos.Col, e.Msg, e.Snippet())
}

// Snippet returns the source line and a caret under the column, each on a
// line of its own indented by four spaces, after a newline; or "" when the
// error has no source line.
func (e *Error) Snippet() string {
	if e.Source == "" {
		return ""
	}
	return "\n    " + strings.ReplaceAll(e.Source, "\t", " ") + "\n    " + caretIndent(e.Source, e.Pos.Col) + "^"
}

// caretIndent returns the spaces that put a caret under byte column col of
// line, counting characters rather than bytes.
func caretIndent(line string, col int) string {
	n := col - 1
	if n > len(line) {
		n = len(line)
	}
	if n < 0 {
		n = 0
	}
	return strings.Repeat(" ", utf8.RuneCountInString(line[:n]))
}

// ErrorList is every error found in one piece of source, in source order.
type ErrorList []*Error

// Error joins the errors, one after another, and counts them when there
// are several.
func (l ErrorList) Error() string {
	parts := make([]string, len(l))
	for i, e := range l {
		parts[i] = e.Error()
	}
	s := strings.Join(parts, "\n")
	if len(l) > 1 {
		s += fmt.Sprintf("\n%d errors", len(l))
	}
	return s
}

// Unwrap returns the errors, for errors.As.
func (l ErrorList) Unwrap() []error {
	out := make([]error, len(l))
	for i, e := range l {
		out[i] = e
	}
	return out
}

// errorSink collects errors for one source file.
type errorSink struct {
	file  string
	lines []string
	errs  ErrorList
}

func (s *errorSink) add(pos Pos, format string, args ...any) {
	src := ""
	if pos.Line >= 1 && pos.Line <= len(s.lines) {
		src = strings.TrimRight(s.lines[pos.Line-1], "\r")
	}
	s.errs = append(s.errs, &Error{File: s.file, Pos: pos, Msg: fmt.Sprintf(format, args...), Source: src})
}

// sort puts the errors in source order; the passes find them out of order.
func (s *errorSink) sort() {
	sort.SliceStable(s.errs, func(i, j int) bool {
		a, b := s.errs[i].Pos, s.errs[j].Pos
		return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
	})
}
