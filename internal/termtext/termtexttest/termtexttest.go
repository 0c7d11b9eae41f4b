// Package termtexttest is what the tests of every way of showing text
// from outside share: the text a hostile peer, file or program would send,
// and the check that it was shown inert and still recognisable.
package termtexttest

import (
	"fmt"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// Hostile lists texts a terminal, or a person reading a log on one, would
// act on: an escape sequence, a carriage return, NUL, DEL, invalid UTF-8,
// a bidi override and a line break that starts a forged line.
var Hostile = []struct{ Name, Text string }{
	{"clear screen", "\x1b[2J"},
	{"carriage return", "\r"},
	{"NUL", "\x00"},
	{"DEL", "\x7f"},
	{"invalid UTF-8", "\xff\xfe"},
	{"bidi override", "\u202e"},
	{"forged line", "\n" + ForgedLine},
}

// ForgedLine is what the "forged line" text would like to show as a line
// of its own.
const ForgedLine = "cluster: admin joined"

// Name embeds a hostile text in a name, so that the name shown can be
// recognised around its escapes.
func Name(hostile string) string { return "evil" + hostile + "name" }

// Raw returns a description of the first character of out that a
// terminal would act on (anything unprintable but a space or a line
// break), or "" when there is none, nor a line that starts with
// ForgedLine.
func Raw(out string) string {
	for i, r := range out {
		if r == utf8.RuneError || r != '\n' && r != ' ' && !unicode.IsPrint(r) {
			return fmt.Sprintf("raw %q at byte %d", r, i)
		}
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, ForgedLine) {
			return "a forged line of its own: " + line
		}
	}
	return ""
}

// Check fails the test if out holds a character a terminal acts on or a
// forged line (see Raw), or lacks want, the hostile text as it should be
// shown there.
func Check(t testing.TB, where, out, want string) {
	t.Helper()
	if raw := Raw(out); raw != "" {
		t.Errorf("%s: %s in %q", where, raw, out)
	}
	if !strings.Contains(out, want) {
		t.Errorf("%s: %q is not shown as %q in:\n%s", where, want, want, out)
	}
}
