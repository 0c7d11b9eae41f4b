package repl

import (
	"bufio"
	"context"
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/chzyer/readline"
)

// errLineInterrupted is what reading a line returns when the user pressed
// Ctrl-C at the prompt: the line is dropped, the REPL goes on.
var errLineInterrupted = errors.New("line interrupted")

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
	once  sync.Once
	lines chan scriptLine
	stop  chan struct{}
}

type scriptLine struct {
	text string
	err  error
}

func newScriptSource(r io.Reader) *scriptSource {
	return &scriptSource{r: bufio.NewReader(r), lines: make(chan scriptLine), stop: make(chan struct{})}
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
// input, a read error, or close.
func (s *scriptSource) readAll() {
	defer close(s.lines)
	for {
		text, err := s.r.ReadString('\n')
		if text == "" && err != nil {
			if !errors.Is(err, io.EOF) {
				s.send(scriptLine{err: err})
			}
			return
		}
		text = strings.TrimSuffix(strings.TrimSuffix(text, "\n"), "\r")
		if !s.send(scriptLine{text: text}) {
			return
		}
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
	line, err := t.rl.Readline()
	switch {
	case errors.Is(err, readline.ErrInterrupt):
		return "", errLineInterrupted
	case err != nil && ctx.Err() != nil:
		return "", context.Cause(ctx)
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
