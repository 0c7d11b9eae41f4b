package jobs

import (
	"strconv"
	"strings"
	"time"
)

// maxShownLine caps a line of output from another member as kept here
// (a longer one is cut); it is shown escaped where it is printed.
const maxShownLine = 4096

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
// message or why it was lost, and the registers it left non-zero. The
// file name and the message are as the member sent them (bounded, not
// escaped): the caller escapes the line where it shows it.
func EndLine(j *Job) string {
	state, err := j.Status()
	var b strings.Builder
	b.WriteString("[job " + j.Name() + "] " + j.File + " " + EndWord(state) + " after " + RoundRunTime(j.RunTime()).String())
	if err != nil {
		b.WriteString(": " + err.Error())
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
