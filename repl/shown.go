package repl

// Text from outside (the network, a file, the keyboard) reaches the shell
// raw: the cluster and the jobs hand it out as they got it. It is escaped
// once, here, where the shell shows it.

import (
	"errors"
	"io"
	"strings"

	"github.com/iridium-vm/iridium/internal/termtext"
	"github.com/iridium-vm/iridium/vm/asm"
)

// maxShownText caps text from outside (a member's alias or address, a
// file name, a line of a remote job's output, an echoed argument) where
// the shell shows it, in bytes before escaping.
const maxShownText = 512

// shownText is how the shell shows one piece of text from outside (the
// network, a file, the keyboard) among its own words, in a table cell or
// a message: cut to maxShownText bytes and escaped, on one line, by
// termtext.Clip. The escaping happens here, where the text is shown, and
// nowhere before: the cluster and the jobs hand text out raw.
func shownText(s string) string { return termtext.Clip(s, maxShownText) }

// maxShownLine caps a message or an error the shell shows, in bytes
// before escaping.
const maxShownLine = 8 << 10

// shownLine is how the shell shows a whole message that may quote text
// from outside raw (a notice, a remote job's end): cut to maxShownLine
// bytes and escaped on one line, so that no quoted text can start a line
// of its own.
func shownLine(msg string) string { return termtext.Clip(msg, maxShownLine) }

// shownError is how the shell shows an error: its text, which may quote
// text from outside raw (errors wrap with %w and keep it so), cut to
// maxShownLine bytes and escaped on one line, so that a peer's text cannot
// start a line of its own. An assembly error is the one error of several
// lines: the source line it quotes and the caret under it (and the other
// errors of a list) keep their lines.
func shownError(err error) string {
	var list asm.ErrorList
	var one *asm.Error
	lines := errors.As(err, &list) || errors.As(err, &one)
	return termtext.Escape(termtext.Cut(err.Error(), maxShownLine), lines)
}

// remoteOutput shows the lines of a job run on another member: jobs
// writes each line whole and raw, and it is escaped here, its newline
// kept, so that a member cannot drive this terminal.
type remoteOutput struct{ w io.Writer }

func (o remoteOutput) Write(p []byte) (int, error) {
	line, ended := strings.CutSuffix(string(p), "\n")
	shown := termtext.Escape(line, false)
	if ended {
		shown += "\n"
	}
	if _, err := io.WriteString(o.w, shown); err != nil {
		return 0, err
	}
	return len(p), nil
}
