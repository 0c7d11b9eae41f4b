package asm

import (
	"fmt"
	"sort"
	"strings"
	"unicode"
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
// error has no source line. Characters that a terminal would not print are
// shown as '?', and a line longer than snippetWidth characters is cut to
// that many around the column, with "..." where it was cut.
func (e *Error) Snippet() string {
	if e.Source == "" {
		return ""
	}
	line := []rune(e.Source)
	caret := utf8.RuneCountInString(e.Source[:min(max(e.Pos.Col-1, 0), len(e.Source))])
	for i, r := range line {
		switch {
		case r == '\t':
			line[i] = ' '
		case r == utf8.RuneError || !unicode.IsPrint(r):
			line[i] = '?'
		}
	}
	prefix, suffix := "", ""
	if len(line) > snippetWidth {
		start := min(max(caret-snippetWidth/2, 0), len(line)-snippetWidth)
		if start > 0 {
			prefix = "..."
		}
		if start+snippetWidth < len(line) {
			suffix = "..."
		}
		line, caret = line[start:start+snippetWidth], caret-start+len(prefix)
	}
	return "\n    " + prefix + string(line) + suffix + "\n    " + strings.Repeat(" ", caret) + "^"
}

// snippetWidth is the most characters of a source line an error shows.
const snippetWidth = 100

// maxErrorsShown is the most errors ErrorList.Error lists.
const maxErrorsShown = 10

// ErrorList is every error found in one piece of source, in source order.
type ErrorList []*Error

// Error joins the first maxErrorsShown errors, one after another, and
// counts them when there are several.
func (l ErrorList) Error() string {
	shown := l[:min(len(l), maxErrorsShown)]
	parts := make([]string, len(shown))
	for i, e := range shown {
		parts[i] = e.Error()
	}
	s := strings.Join(parts, "\n")
	switch {
	case len(l) > len(shown):
		s += fmt.Sprintf("\n%d errors (the first %d shown)", len(l), len(shown))
	case len(l) > 1:
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

// errorSink collects errors for one source file. It finds the source line
// of an error by counting lines from the last error's line, or from the
// start when the error is before it: errors come in source order from
// each pass, so the source is read a few times at most, however many
// errors there are, and no table of lines is kept.
type errorSink struct {
	file string
	src  string
	errs ErrorList
	// lineNo is a line an earlier error was on (0 for none yet) and
	// lineOff the offset where it starts.
	lineNo, lineOff int
}

func (s *errorSink) add(pos Pos, format string, args ...any) {
	src := strings.TrimRight(s.line(pos.Line), "\r")
	s.errs = append(s.errs, &Error{File: s.file, Pos: pos, Msg: fmt.Sprintf(format, args...), Source: src})
}

// line returns source line n without its newline, or "" when there is
// no such line.
func (s *errorSink) line(n int) string {
	if n < 1 {
		return ""
	}
	if s.lineNo == 0 || n < s.lineNo {
		s.lineNo, s.lineOff = 1, 0
	}
	for s.lineNo < n {
		i := strings.IndexByte(s.src[s.lineOff:], '\n')
		if i < 0 {
			return ""
		}
		s.lineNo, s.lineOff = s.lineNo+1, s.lineOff+i+1
	}
	rest := s.src[s.lineOff:]
	if i := strings.IndexByte(rest, '\n'); i >= 0 {
		return rest[:i]
	}
	return rest
}

// sort puts the errors in source order; the passes find them out of order.
func (s *errorSink) sort() {
	sort.SliceStable(s.errs, func(i, j int) bool {
		a, b := s.errs[i].Pos, s.errs[j].Pos
		return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col
	})
}
