package remote

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// ErrInputLimit is the read error of a session whose client sent more
// than Config.MaxSessionInput.
var ErrInputLimit = errors.New("the session's input is over its limit")

// cappedInput passes on at most a limit of a session's input, then
// fails with ErrInputLimit. With wholeLines (a script), what it passes
// ends at a line's end: the unfinished line at the limit is dropped
// rather than run cut short, and until its end arrives a line is held
// back (at most the limit). It holds one read's chunk besides.
type cappedInput struct {
	r          io.Reader
	limit      int64
	left       int64
	wholeLines bool
	chunk      []byte
	ready      []byte // taken and passed on by the next Reads
	tail       []byte // wholeLines: the last line, while unfinished
	err        error  // returned once ready is passed on
	over       atomic.Bool
}

func newCappedInput(r io.Reader, limit int64, wholeLines bool) *cappedInput {
	return &cappedInput{r: r, limit: limit, left: limit, wholeLines: wholeLines, chunk: make([]byte, 32<<10)}
}

func (c *cappedInput) Read(p []byte) (int, error) {
	for len(c.ready) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		c.fill()
	}
	n := copy(p, c.ready)
	c.ready = c.ready[n:]
	return n, nil
}

// fill reads once from the client into ready (or tail) and err.
func (c *cappedInput) fill() {
	n, err := c.r.Read(c.chunk[:min(int64(len(c.chunk)), c.left+1)])
	data := c.chunk[:n]
	if int64(n) > c.left {
		data = data[:c.left]
		err = c.limitError()
		c.over.Store(true)
	}
	c.left -= int64(len(data))
	if !c.wholeLines {
		c.ready, c.err = data, err
		return
	}
	c.tail = append(c.tail, data...)
	cut := bytes.LastIndexByte(c.tail, '\n') + 1
	switch {
	case err == nil:
	case errors.Is(err, ErrInputLimit):
		c.tail = c.tail[:cut] // the line cut by the limit is dropped
	default: // the end of the input: a last line without its newline is whole
		cut = len(c.tail)
	}
	c.ready, c.tail, c.err = c.tail[:cut], c.tail[cut:], err
}

// limitError says that the input passed its limit, and what ran.
func (c *cappedInput) limitError() error {
	if c.wholeLines {
		return fmt.Errorf("%w of %s: the lines before it ran, the rest did not", ErrInputLimit, byteSize(c.limit))
	}
	return fmt.Errorf("%w of %s", ErrInputLimit, byteSize(c.limit))
}

// overLimit reports whether the client sent more than the limit.
func (c *cappedInput) overLimit() bool { return c.over.Load() }

// byteSize formats n as "4 MiB", "512 KiB" or "100 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
