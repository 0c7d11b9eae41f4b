package cluster

import (
	"strconv"
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
