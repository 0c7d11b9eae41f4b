package repl

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/chzyer/readline"
	"github.com/fatih/color"

	"github.com/iridium-vm/iridium/internal/termtext"
)

// console is the REPL's output: program output, results, notices, warnings
// and errors, from the REPL's goroutine and from spawned programs at once.
// It keeps writes whole and in order, and remembers whether program output
// left standard output in the middle of a line, so that the REPL's own
// messages (and the prompt) always start on a line of their own.
//
// No lock is held while the terminal is written: a write is decided under
// the lock (its bytes, and whether a line must be ended first) and queued;
// the first writer that finds no write under way writes what is queued,
// its own and others', in order, without the lock, and each writer
// returns once its bytes are written. So a terminal that does not read
// holds up the goroutines that print, never the state (the line editor's
// reader only takes the lock to say that editing ends).
//
// On a terminal, a line is being edited between beginEdit and endEdit.
// Output then erases the prompt and the edited line (editor.Clean), is
// written, and draws them again under itself (editor.Refresh). readline
// redraws only once its reader runs (reading reports it): the prompt is
// drawn a moment before, and the line stays drawn a moment after Enter.
// Output that comes in such a moment waits for it to pass, so that it
// never lands after the prompt or inside the edited line. Outside editing,
// output goes straight to the terminal. endEdit waits for a redraw under
// way, since readline empties its line right after.
//
// readline's own Stdout writer is not used: it reads the completion
// state without a lock (a data race while Tab lists candidates), and it
// decides by the reader's flag, which lags, whether to draw a prompt.
type console struct {
	out     io.Writer   // standard output
	err     io.Writer   // standard error
	reading func() bool // readline's reader runs
	editor  lineEditor  // nil: no terminal
	width   int         // messages are wrapped to it; 0: not wrapped

	mu      sync.Mutex
	midLine bool            // the last byte queued for out was not a newline
	editing bool            // a line is being edited (terminal only)
	queue   []*consoleWrite // decided, not yet written
	writing bool            // a writer is writing the queue
	// redrawn is closed when the redraw under way (erase, write, draw
	// again) is over; nil when none is.
	redrawn chan struct{}

	prompt, result, notice, warning, failure *color.Color
}

// consoleWrite is one queued write.
type consoleWrite struct {
	w    io.Writer
	p    []byte
	done chan error // buffered; gets the write's error
}

// lineEditor erases and redraws the prompt and the line being edited;
// *readline.Instance is one.
type lineEditor interface {
	Clean()
	Refresh()
}

// maxEditWait bounds how long output waits for readline's reader to run
// while a line is being edited; past it, the output is written anyway.
const maxEditWait = 2 * time.Second

func newConsole(out, errOut io.Writer, useColor bool) *console {
	c := &console{
		out:     out,
		err:     errOut,
		prompt:  color.New(color.FgCyan, color.Bold),
		result:  color.New(color.FgGreen),
		notice:  color.New(color.FgCyan),
		warning: color.New(color.FgYellow),
		failure: color.New(color.FgRed, color.Bold),
	}
	for _, col := range []*color.Color{c.prompt, c.result, c.notice, c.warning, c.failure} {
		if useColor {
			col.EnableColor()
		} else {
			col.DisableColor()
		}
	}
	return c
}

// Write is program output: it goes to standard output as it is.
func (c *console) Write(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	c.mu.Lock()
	c.midLine = p[len(p)-1] != '\n'
	if err := c.submitLocked(c.out, bytes.Clone(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// queueLocked queues a write of p to w; c.mu is held.
func (c *console) queueLocked(w io.Writer, p []byte) *consoleWrite {
	job := &consoleWrite{w: w, p: p, done: make(chan error, 1)}
	c.queue = append(c.queue, job)
	return job
}

// submitLocked queues a write of p to w and returns once it is written,
// with the writes queued before it. It is called with c.mu held and
// releases it.
func (c *console) submitLocked(w io.Writer, p []byte) error {
	job := c.queueLocked(w, p)
	if c.writing {
		c.mu.Unlock()
		return <-job.done
	}
	c.writing = true
	for len(c.queue) > 0 {
		jobs := c.queue
		c.queue = nil
		c.mu.Unlock()
		for _, j := range jobs {
			j.done <- c.writeOne(j.w, j.p)
		}
		c.mu.Lock()
	}
	c.writing = false
	c.mu.Unlock()
	return <-job.done
}

// writeOne writes p to w (c.out or c.err); while a line is edited, with
// the line erased before and drawn again after. The lock is not held.
func (c *console) writeOne(w io.Writer, p []byte) error {
	c.waitForReader()
	c.mu.Lock()
	redraw := c.editing && c.editor != nil
	var redrawn chan struct{}
	if redraw {
		redrawn = make(chan struct{})
		c.redrawn = redrawn
	}
	c.mu.Unlock()
	if !redraw {
		_, err := w.Write(p)
		return err
	}
	defer func() {
		c.mu.Lock()
		c.redrawn = nil
		c.mu.Unlock()
		close(redrawn)
	}()
	c.editor.Clean()
	// Should readline have drawn the line again since, start afresh.
	io.WriteString(w, "\r\x1b[J")
	_, err := w.Write(p)
	c.editor.Refresh()
	return err
}

// waitForReader waits, at most maxEditWait, until writing is safe: no
// line is being edited, or readline's reader runs and will redraw it.
func (c *console) waitForReader() {
	deadline := time.Now().Add(maxEditWait)
	for {
		c.mu.Lock()
		editing := c.editing
		c.mu.Unlock()
		if !editing || c.reading == nil || c.reading() || time.Now().After(deadline) {
			return
		}
		// readline gives no signal when its reader starts: poll.
		time.Sleep(time.Millisecond)
	}
}

// beginEdit and endEdit bracket the reading of a line on a terminal.
func (c *console) beginEdit() {
	c.mu.Lock()
	c.editing = true
	c.mu.Unlock()
}

// endEdit ends editing, after a redraw under way.
func (c *console) endEdit() {
	c.mu.Lock()
	c.editing = false
	redrawn := c.redrawn
	c.mu.Unlock()
	if redrawn != nil {
		<-redrawn
	}
}

// filterInputRune sees each key on readline's reader before readline
// handles it. A key that ends the line (Enter, Ctrl-J, Ctrl-C) makes
// readline empty its line buffer without the buffer's lock; from that key
// on the console writes as if no line were edited, so it does not erase
// and redraw the line (which reads that buffer) while it is emptied.
func (c *console) filterInputRune(r rune) (rune, bool) {
	switch r {
	case readline.CharEnter, readline.CharCtrlJ, readline.CharInterrupt:
		c.endEdit()
	}
	return r, true
}

// promptText is the prompt, coloured.
func (c *console) promptText(p string) string { return c.prompt.Sprint(p) }

// endLine ends a line that program output left open.
func (c *console) endLine() {
	c.mu.Lock()
	if !c.midLine {
		c.mu.Unlock()
		return
	}
	c.midLine = false
	c.submitLocked(c.out, []byte{'\n'})
}

// print writes text to standard output on lines of its own, in col (nil:
// no colour). A missing final newline is added. A message (in a colour)
// is wrapped to the console's width; a table or listing (nil) is not.
func (c *console) print(col *color.Color, text string) {
	c.write(c.out, col, text)
}

// printErr is print for standard error.
func (c *console) printErr(col *color.Color, text string) {
	c.write(c.err, col, text)
}

// printAside writes text to standard error without ending a line that
// program output left open on standard output: in a script, whose
// standard output is kept apart, an asynchronous message must not change
// it.
func (c *console) printAside(col *color.Color, text string) {
	text = colorLines(col, strings.TrimSuffix(text, "\n"))
	c.mu.Lock()
	c.submitLocked(c.err, []byte(text+"\n"))
}

func (c *console) write(w io.Writer, col *color.Color, text string) {
	text = strings.TrimSuffix(text, "\n")
	if col != nil && c.width > 0 {
		text = termtext.Fit(text, c.width, "  ")
	}
	if col != nil {
		text = colorLines(col, text)
	}
	p := []byte(text + "\n")
	c.mu.Lock()
	if c.midLine {
		if w == c.out {
			p = append([]byte{'\n'}, p...)
		} else {
			c.queueLocked(c.out, []byte{'\n'})
		}
		c.midLine = false
	}
	c.submitLocked(w, p)
}

// colorLines colours each line apart, so that a terminal redrawing one
// line never carries a colour over into the next.
func colorLines(col *color.Color, text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = col.Sprint(l)
		}
	}
	return strings.Join(lines, "\n")
}

// maxPendingLine bounds what a lineWriter holds back waiting for a newline.
const maxPendingLine = 64 << 10

// lineWriter passes on whole lines only, so that the output of programs
// running side by side is interleaved by lines, not by bytes. It is used
// by one goroutine; Flush passes on a last unfinished line.
type lineWriter struct {
	dst     io.Writer
	pending []byte
}

// Write keeps p and passes on every line it completes.
func (w *lineWriter) Write(p []byte) (int, error) {
	w.pending = append(w.pending, p...)
	end := bytes.LastIndexByte(w.pending, '\n') + 1
	if end == 0 && len(w.pending) < maxPendingLine {
		return len(p), nil
	}
	if end == 0 {
		end = len(w.pending)
	}
	_, err := w.dst.Write(w.pending[:end])
	w.pending = append(w.pending[:0], w.pending[end:]...)
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

// Flush passes on what is left, ended with a newline.
func (w *lineWriter) Flush() error {
	if len(w.pending) == 0 {
		return nil
	}
	_, err := w.dst.Write(append(w.pending, '\n'))
	w.pending = w.pending[:0]
	return err
}
