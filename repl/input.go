package repl

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"time"

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
//
// Ending readline takes care. Its input loop, (*readline.Operation).ioloop,
// returns only after handing io.EOF to a channel of one slot, once its
// terminal reader has ended; readline's Close puts an io.EOF in that slot
// too, so that a line being read ends. When no line is read, nobody
// empties the slot and the loop blocks for ever: one goroutine per shell
// that ends. So the loop waits where it sees the end of input (in the
// rune filter, which runs on the loop): if the input ended by itself it
// first ends a line being read with readline's Close. close then has
// readline's Close fill the slot, lets the loop go and takes one io.EOF
// out itself: the slot's and the loop's io.EOF have at most two readers
// (close and a readLine under way), and the loop returns.
type terminalSource struct {
	rl    *readline.Instance
	con   *console                  // told when a line is being edited
	stdin *readline.CancelableStdin // readline's Close does not close it

	mu        sync.Mutex
	closing   bool          // close has begun: no more lines
	atEnd     chan struct{} // closed when the input loop waits at the end of input
	release   chan struct{} // closed by close to let the loop go on
	closeOnce sync.Once
}

// loopStopWait bounds how long close waits for readline's input loop to
// reach the end of its input, which it does at once unless it is stuck
// handing over a key read before close (then it is left behind).
const loopStopWait = 5 * time.Second

// newTerminalSource starts readline on cfg, reading keys from stdin.
func newTerminalSource(cfg *readline.Config, con *console, stdin *readline.CancelableStdin) (*terminalSource, error) {
	t := &terminalSource{con: con, stdin: stdin, atEnd: make(chan struct{}), release: make(chan struct{})}
	cfg.FuncFilterInputRune = t.filterInputRune
	rl, err := readline.NewEx(cfg)
	if err != nil {
		return nil, err
	}
	t.rl = rl
	return t, nil
}

// filterInputRune runs on readline's input loop for each key read, and
// for the end of input (rune 0). Once close has begun, keys are dropped,
// so that no line is handed over that nobody reads. At the end of input
// the loop hands io.EOF to a line being read (a line edited when the
// input ended is not entered) and waits for close.
func (t *terminalSource) filterInputRune(r rune) (rune, bool) {
	closing := t.isClosing()
	switch {
	case r != 0 && !closing:
		return t.con.filterInputRune(r)
	case r != 0:
		return r, false
	}
	select {
	case <-t.atEnd: // seen before, when a line was handed over
	default:
		close(t.atEnd)
	}
	if !closing {
		t.rl.Operation.Close()
	}
	<-t.release
	return r, true
}

func (t *terminalSource) readLine(ctx context.Context, prompt string) (string, error) {
	if err := context.Cause(ctx); err != nil {
		return "", err
	}
	if t.isClosing() {
		return "", io.EOF // readline's channels may stay empty for good
	}
	stop := context.AfterFunc(ctx, t.close)
	defer stop()
	t.rl.SetPrompt(prompt)
	t.con.beginEdit()
	line, err := t.rl.Readline()
	t.con.endEdit()
	closing := t.isClosing()
	switch {
	case errors.Is(err, readline.ErrInterrupt):
		return "", errLineInterrupted
	case ctx.Err() != nil && (err != nil || closing):
		return "", context.Cause(ctx)
	case closing:
		return "", io.EOF // a line cut short by close is not entered
	case err == nil && len(line) > MaxLineSize:
		return "", errLineTooLong
	}
	return line, err
}

func (t *terminalSource) isClosing() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closing
}

// close ends readline and its goroutines; a readLine under way returns.
func (t *terminalSource) close() {
	t.closeOnce.Do(func() {
		t.mu.Lock()
		t.closing = true
		t.mu.Unlock()
		// Closing stdin ends the terminal reader's read, which closing
		// the terminal would otherwise wait for for ever; the input loop
		// then comes to the end of input.
		t.stdin.Close()
		t.rl.Terminal.Close()
		timer := time.NewTimer(loopStopWait)
		defer timer.Stop()
		parked := false
		select {
		case <-t.atEnd:
			parked = true
		case <-timer.C:
		}
		if parked {
			// An empty line makes the loop hand over io.EOF, not the
			// line being edited.
			t.rl.SetPrompt("")
			t.rl.Operation.SetBuffer("")
		}
		t.rl.Close() // fills the slot if it is empty; closes the history
		close(t.release)
		if parked {
			t.rl.Readline() // returns io.EOF at once or when the loop hands it over
		}
	})
}
