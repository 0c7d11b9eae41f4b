package repl

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/iridium-vm/iridium/vm/asm"
)

// MaxProgramInput is the most bytes of a program read whole from a
// stream: a program file piped into a scripted shell, or sent to an SSH
// session's "run".
const MaxProgramInput = 8 << 20

// pipedName names a program piped into a scripted shell in its errors.
const pipedName = "stdin"

// errPipedTooLarge is what a piped program over MaxProgramInput gets.
var errPipedTooLarge = errors.New("the input starts as a program file (.data or .code) and is over 8 MiB, " +
	"the most read whole from a pipe: run it with iridium FILE")

// readPipedProgram tells a program file piped into a scripted shell
// (iridium < fib.iasm, ssh host < fib.iasm) from a script of REPL lines:
// a program's first line that is neither blank nor a comment is a .data or
// .code directive, and no line of it is a command (!...). A program is
// read to its end and returned, to be assembled whole, as iridium FILE
// does: run line by line, its labels used before their definition would
// fail. For a script, the lines read so far are put back in front of the
// input and ok is false; reading stops at the first command, so a script
// that starts with .data still runs as its lines come.
func (s *Shell) readPipedProgram(ctx context.Context) (src string, ok bool, err error) {
	var held []scriptLine
	var b strings.Builder
	program := false
	for {
		text, err := s.in.readLine(ctx, "")
		if errors.Is(err, io.EOF) {
			break
		}
		held = append(held, scriptLine{text: text, err: err})
		if err != nil { // a line too long, a read error: the script's to report
			program = false
			break
		}
		b.WriteString(text)
		b.WriteByte('\n')
		code := codeOf(text)
		switch {
		case code == "":
			continue
		case !program && !isSection(code), strings.HasPrefix(code, "!"):
			s.in = &replaySource{held: held, rest: s.in}
			return "", false, nil
		case b.Len() > MaxProgramInput:
			s.lineNo = len(held)
			return "", false, errPipedTooLarge
		}
		program = true
	}
	if !program {
		s.in = &replaySource{held: held, rest: s.in}
		return "", false, nil
	}
	s.lineNo = len(held)
	return b.String(), true, nil
}

// codeOf is an input line without its comment and surrounding space.
func codeOf(line string) string {
	code := strings.TrimSpace(line)
	if i := strings.IndexByte(code, ';'); i >= 0 && code[0] != '!' && !strings.ContainsAny(code[:i], `'"`) {
		code = strings.TrimSpace(code[:i])
	}
	return code
}

// isSection reports whether code is a section directive.
func isSection(code string) bool {
	return strings.EqualFold(code, ".data") || strings.EqualFold(code, ".code")
}

// runPiped assembles a piped program whole and runs it, as iridium FILE
// does, in the shell: its labels stay known to the shell. Its errors are
// named by the program's line, not the shell's.
func (s *Shell) runPiped(ctx context.Context, src string) error {
	fg, done := s.startForeground(ctx)
	defer done()
	start, err := s.asm.AssembleFile(pipedName, src)
	if err == nil {
		s.updateWords()
		err = s.runFrom(fg, start)
	}
	switch {
	case err == nil:
	case ctx.Err() != nil:
		return context.Cause(ctx)
	case errors.Is(err, errInterrupted):
		s.warn(err)
	default:
		s.failures++
		var list asm.ErrorList
		msg := shownError(err)
		if !errors.As(err, &list) {
			msg = pipedName + ": " + msg
		}
		s.con.printErr(nil, msg)
	}
	return s.result()
}

// replaySource gives the lines held back, then those of rest.
type replaySource struct {
	held []scriptLine
	rest lineSource
}

func (r *replaySource) readLine(ctx context.Context, prompt string) (string, error) {
	if len(r.held) == 0 {
		return r.rest.readLine(ctx, prompt)
	}
	l := r.held[0]
	r.held = r.held[1:]
	return l.text, l.err
}

func (r *replaySource) close() { r.rest.close() }

// runIfProgram runs a scripted shell's input whole when it is a program
// file (see readPipedProgram); whole is false when it is a script, which
// Run then reads line by line.
func (s *Shell) runIfProgram(ctx context.Context) (whole bool, err error) {
	src, ok, err := s.readPipedProgram(ctx)
	switch {
	case err != nil:
		s.report(err)
		return true, ErrFailed
	case !ok:
		return false, nil
	}
	return true, s.runPiped(ctx, src)
}
