package cluster

import (
	"strconv"
	"unicode/utf8"

	"github.com/iridium-vm/iridium/internal/termtext"
)

// MaxQuotedLength caps how many bytes of a string from outside Quote shows.
const MaxQuotedLength = 200

// Quote returns s for display: in double quotes with control and other
// unprintable characters escaped as Go's %q does, and cut to
// MaxQuotedLength bytes of s with the number of bytes left out. Use it for
// any text that came from the network or from a user.
func Quote(s string) string {
	kept, more := clip(s, MaxQuotedLength)
	return strconv.Quote(kept) + more
}

// MaxLineLength caps a line Inert returns, in bytes before escaping.
const MaxLineLength = 1024

// Inert returns s with every unprintable character (control characters,
// escape sequences, invalid UTF-8, format characters) escaped as %q would
// escape it, without surrounding quotes, and cut to MaxLineLength bytes:
// a line that can be written to a terminal as it is.
func Inert(s string) string {
	kept, more := clip(s, MaxLineLength)
	return termtext.Escape(kept, false) + more
}

// clip cuts s to at most limit bytes, not inside a character, and returns
// what it kept and a note of how many bytes it left out ("" when none).
func clip(s string, limit int) (kept, more string) {
	if len(s) <= limit {
		return s, ""
	}
	kept = truncateUTF8(s, limit)
	return kept, "…(" + strconv.Itoa(len(s)-len(kept)) + " more bytes)"
}

// truncateUTF8 cuts s to at most limit bytes, not inside a character.
func truncateUTF8(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	for limit > 0 && !utf8.RuneStart(s[limit]) {
		limit--
	}
	return s[:limit]
}
