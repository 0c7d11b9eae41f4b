package jobs

import (
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxShownLine caps a line of text from another member as printed here.
const maxShownLine = 4096

// Escape makes text from another member safe to print: control and
// other non-printable characters (a tab excepted) and invalid UTF-8 are
// shown as %q does, and the result is cut at max bytes.
func Escape(s string, max int) string {
	var b strings.Builder
	for i, w := 0, 0; i < len(s); i += w {
		r, size := utf8.DecodeRuneInString(s[i:])
		w = size
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteString(`\x` + strconv.FormatUint(uint64(s[i])|0x100, 16)[1:])
		case r == '\t' || unicode.IsPrint(r):
			b.WriteRune(r)
		default:
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		}
		if b.Len() > max {
			return clip(b.String(), max)
		}
	}
	return b.String()
}

// Count writes n with thousands separators: 1,204.
func Count(n uint64) string {
	s := strconv.FormatUint(n, 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// droppedLine is the line that stands for lines that were dropped.
func droppedLine(n uint64) string {
	if n == 1 {
		return "… 1 line dropped"
	}
	return "… " + Count(n) + " lines dropped"
}

// RoundRunTime rounds a run time for display.
func RoundRunTime(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

// EndWord is the word an end line uses for a state: done, fault, killed
// or lost.
func EndWord(s State) string {
	switch s {
	case Finished:
		return "done"
	case Faulted:
		return "fault"
	}
	return s.String()
}

// EndLine says in one line how a job on another member ended: the job,
// the word (done, fault, killed, lost), the run time, the fault's
// message or why it was lost, and the registers it left non-zero.
func EndLine(j *Job) string {
	state, err := j.Status()
	var b strings.Builder
	b.WriteString("[job " + j.Name() + "] " + Escape(j.File, maxFileName) + " " + EndWord(state) + " after " + RoundRunTime(j.RunTime()).String())
	if err != nil {
		b.WriteString(": " + Escape(err.Error(), maxErrorText))
	}
	if state == Lost {
		return b.String()
	}
	regs := j.Changed()
	if len(regs) == 0 {
		b.WriteString("; registers all 0")
		return b.String()
	}
	b.WriteString("; registers ")
	for i, r := range regs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(r.String())
	}
	return b.String()
}
