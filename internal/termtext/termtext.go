// Package termtext prepares text for a terminal: it escapes the control
// characters of text that came from outside (a typed line, a path, a
// peer's name), shortens it, and wraps the shell's own messages to a
// width.
package termtext

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with every character that is not printable (control
// characters, invalid UTF-8, other non-graphic runes) written as Go's %q
// would write it, such as \x1b or \u202e. Newlines are kept when
// keepNewlines is set, so that a message of several lines stays so.
func Escape(s string, keepNewlines bool) string {
	if isPlain(s, keepNewlines) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			b.WriteString(`\x` + strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		case r == '\n' && keepNewlines, r == ' ', unicode.IsPrint(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		i += size
	}
	return b.String()
}

func isPlain(s string, keepNewlines bool) bool {
	for _, r := range s {
		if r == utf8.RuneError || !(r == ' ' || r == '\n' && keepNewlines || unicode.IsPrint(r)) {
			return false
		}
	}
	return true
}

// Clip is how text from outside (a peer's alias or address, a file
// name, a line a remote program printed, an error that quotes any of
// them) is shown on one line: cut to at most limit bytes of s with Cut,
// then escaped with Escape, newlines included. The result is at most
// 4*limit+3 bytes: an escape is never cut in two.
func Clip(s string, limit int) string {
	return Escape(Cut(s, limit), false)
}

// Cut shortens s to at most limit bytes, not inside a character, and
// ends it with "..." when it was cut (the mark counts in limit). It
// escapes nothing: it bounds text kept or sent, and Clip uses it to bound
// text shown.
func Cut(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	cut := max(limit-len(cutMark), 0)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + cutMark
}

// cutMark ends text that Cut shortened.
const cutMark = "..."

// Wrap breaks text into lines of at most width columns, at spaces, and
// starts every line after the first with indent. A word longer than the
// width stands on a line of its own. Existing newlines are kept.
func Wrap(text string, width int, indent string) string {
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			switch {
			case line == "" && len(out) == 0:
				line = word
			case line == "":
				line = indent + word
			case utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) <= width:
				line += " " + word
			default:
				out = append(out, line)
				line = indent + word
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// Fit wraps, with Wrap, each line of text that is wider than width and
// does not start with white space; other lines (a quoted source line and
// its caret, a table row) are kept as they are.
func Fit(text string, width int, indent string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if utf8.RuneCountInString(l) > width && !strings.HasPrefix(l, " ") && !strings.HasPrefix(l, "\t") {
			lines[i] = Wrap(l, width, indent)
		}
	}
	return strings.Join(lines, "\n")
}

// Indent wraps text so that, with indent before each of its lines, every
// line fits in width columns, and returns it so indented.
func Indent(text string, width int, indent string) string {
	lines := strings.Split(Wrap(text, width-utf8.RuneCountInString(indent), ""), "\n")
	return indent + strings.Join(lines, "\n"+indent)
}
