package repl

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"sync"

	"github.com/chzyer/readline"
)

// errLineInterrupted is what reading a line returns when the user pressed
// Ctrl-C at the prompt: the line is dropped, the REPL goes on.
var errLineInterrupted = errors.New("line interrupted")

// MaxLineSize is the most bytes an input line may have, without its line
// ending. A longer line is not kept: reading it returns errLineTooLong, and
// the next read starts on the line after it. This bounds the memory a
// script such as `head -c 200M /dev/zero | iridium` can take.
const MaxLineSize = 1 << 20

// errLineTooLong is what reading a line longer than MaxLineSize returns. It
// counts as an input line (it has a line number) that failed.
var errLineTooLong = errors.New("longer than 1 MiB; the line was skipped")

// lineSource is where the REPL's input lines come from. readLine returns
// io.EOF at the end of the input.
type lineSource interface {
	readLine(ctx context.Context, prompt string) (string, error)
	close()
}

// scriptSource reads lines from a reader that is not a terminal. A
// goroutine does the reading so that a cancelled context ends readLine
// even while the reader blocks.
type scriptSource struct {
	r     *bufio.Reader
	max   int // MaxLineSize, or less in tests
	once  sync.Once
	lines chan scriptLine
	stop  chan struct{}
}

type scriptLine struct {
	text string
	err  error
}

func newScriptSource(r io.Reader) *scriptSource {
	return &scriptSource{r: bufio.NewReader(r), max: MaxLineSize, lines: make(chan scriptLine), stop: make(chan struct{})}
}

func (s *scriptSource) readLine(ctx context.Context, _ string) (string, error) {
	s.once.Do(func() { go s.readAll() })
	select {
	case l, ok := <-s.lines:
		if !ok {
			return "", io.EOF
		}
		return l.text, l.err
	case <-ctx.Done():
		return "", context.Cause(ctx)
	}
}

// readAll sends each line, without its line ending, until the end of the
// input, a read error, or close. A line longer than s.max is sent as
// errLineTooLong.
func (s *scriptSource) readAll() {
	defer close(s.lines)
	for {
		text, tooLong, err := s.next()
		if text != "" || tooLong || err == nil { // a line was read
			l := scriptLine{text: text}
			if tooLong {
				l = scriptLine{err: errLineTooLong}
			}
			if !s.send(l) {
				return
			}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				s.send(scriptLine{err: err})
			}
			return
		}
	}
}

// next reads one line and returns it without its line ending, or
// tooLong, having read past the rest of it, when it has more than s.max
// bytes. It holds at most s.max bytes, its line ending and a buffer. err
// is the read error that ended the line (io.EOF for a last line with no
// newline).
func (s *scriptSource) next() (text string, tooLong bool, err error) {
	var line []byte
	for {
		chunk, err := s.r.ReadSlice('\n')
		if !tooLong {
			line = append(line, chunk...)
			if len(line) > s.max+len("\r\n") {
				tooLong, line = true, nil
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		line = bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if tooLong || len(line) > s.max {
			return "", true, err
		}
		return string(line), false, err
	}
}

func (s *scriptSource) send(l scriptLine) bool {
	select {
	case s.lines <- l:
		return true
	case <-s.stop:
		return false
	}
}

// close lets the reading goroutine go as soon as its read returns.
func (s *scriptSource) close() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
}

// terminalSource reads lines with readline: line editing, history and
// completion.
type terminalSource struct {
	rl        *readline.Instance
	con       *console                  // told when a line is being edited
	stdin     *readline.CancelableStdin // readline's Close does not close it
	closeOnce sync.Once
}

func (t *terminalSource) readLine(ctx context.Context, prompt string) (string, error) {
	if err := context.Cause(ctx); err != nil {
		return "", err
	}
	stop := context.AfterFunc(ctx, t.close)
	defer stop()
	t.rl.SetPrompt(prompt)
	t.con.beginEdit()
	line, err := t.rl.Readline()
	t.con.endEdit()
	switch {
	case errors.Is(err, readline.ErrInterrupt):
		return "", errLineInterrupted
	case err != nil && ctx.Err() != nil:
		return "", context.Cause(ctx)
	case err == nil && len(line) > MaxLineSize:
		return "", errLineTooLong
	}
	return line, err
}

func (t *terminalSource) close() {
	// Closing stdin first ends readline's read of the terminal, which its
	// Close would otherwise wait for forever.
	t.closeOnce.Do(func() {
		t.stdin.Close()
		t.rl.Close()
	})
}
