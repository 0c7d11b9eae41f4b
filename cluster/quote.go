package cluster

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// MaxQuotedLength caps how many bytes of a string from outside Quote shows.
const MaxQuotedLength = 200

// Quote returns s for display: in double quotes with control and other
// unprintable characters escaped as Go's %q does, and cut to
// MaxQuotedLength bytes of s with the number of bytes left out. Use it for
// any text that came from the network or from a user.
func Quote(s string) string {
	if len(s) <= MaxQuotedLength {
		return strconv.Quote(s)
	}
	cut := MaxQuotedLength
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "…(" + strconv.Itoa(len(s)-cut) + " more bytes)"
}

// MaxLineLength caps a line Inert returns, in bytes before escaping.
const MaxLineLength = 1024

// Inert returns s with every unprintable character (control characters,
// escape sequences, invalid UTF-8, format characters) escaped as %q would
// escape it, without surrounding quotes, and cut to MaxLineLength bytes:
// a line that can be written to a terminal as it is.
func Inert(s string) string {
	cut := ""
	if len(s) > MaxLineLength {
		end := MaxLineLength
		for end > 0 && !utf8.RuneStart(s[end]) {
			end--
		}
		s, cut = s[:end], "…("+strconv.Itoa(len(s)-end)+" more bytes)"
	}
	if utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !strconv.IsPrint(r) }) < 0 {
		return s + cut
	}
	var b strings.Builder
	for i, r := range s {
		_, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case strconv.IsPrint(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRune(r) // 'x' with the escape inside
			b.WriteString(q[1 : len(q)-1])
		}
	}
	return b.String() + cut
}
