package jobs

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/iridium-vm/iridium/internal/termtext"
)

// Bounds of a job's output on its way between members. Past them lines
// are dropped and counted, never buffered.
const (
	// maxSendBuffer bounds the output a running job holds back on its
	// member while the link is busy.
	maxSendBuffer = 256 << 10
	// maxLineLength cuts a line a program prints without a newline.
	maxLineLength = maxShownLine
	// flushEvery is how often held-back output is sent.
	flushEvery = 50 * time.Millisecond
	// throttleFor is the longest a printing program is held up while the
	// link's queue is full, before its lines are dropped; also the longest
	// a tick waits for room.
	throttleFor = 20 * time.Millisecond
	// maxQueuedLines and maxQueuedBytes bound the lines waiting to be
	// printed on the caller.
	maxQueuedLines = 4096
	maxQueuedBytes = 1 << 20
)

// sender sends output messages of one job to its caller, waiting for
// room on the link until ctx ends.
type sender func(ctx context.Context, text []byte, dropped uint64) error

// isBusy reports whether a send failed only because the link had no room
// before its context's deadline: "not now", not "not at all".
func isBusy(err error) bool { return errors.Is(err, context.DeadlineExceeded) }

// outbox is the output of a job run here for another member: whole lines
// are held back, up to maxSendBuffer, and sent in batches by Write when
// a batch is full, by tick, and by finish at the end. While the link is
// busy a write waits a little (throttling the program), then drops lines
// and counts them.
type outbox struct {
	send  sender
	batch int // the most text bytes in one message

	mu      sync.Mutex
	pending []byte // whole lines
	partial []byte // a line not ended yet
	dropped uint64 // lines dropped since the last message
	// congested is set when throttling did not help: lines are dropped
	// without waiting until the link takes a message again.
	congested bool
	stop      chan struct{}
	stopped   sync.Once
}

// Write takes a program's output.
func (o *outbox) Write(p []byte) (int, error) {
	n := len(p)
	o.mu.Lock()
	defer o.mu.Unlock()
	for len(p) > 0 {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			o.partial = append(o.partial, p...)
			p = nil
			if len(o.partial) < maxLineLength {
				break
			}
		} else {
			o.partial = append(o.partial, p[:i+1]...)
			p = p[i+1:]
		}
		if o.partial[len(o.partial)-1] != '\n' {
			o.partial = append(o.partial, '\n')
		}
		o.addLineLocked(o.partial)
		o.partial = o.partial[:0]
	}
	return n, nil
}

// addLineLocked queues one line, sending or throttling when the buffer is
// full; o.mu is held.
func (o *outbox) addLineLocked(line []byte) {
	if len(o.pending) >= o.batch && !o.congested {
		o.sendForLocked(0) // what the link takes now; throttle only when full
	}
	if len(o.pending)+len(line) > maxSendBuffer && !o.congested {
		o.sendForLocked(throttleFor)
	}
	if len(o.pending)+len(line) > maxSendBuffer {
		o.congested = true // drop at once until the link takes a message again
		o.dropped++
		return
	}
	o.pending = append(o.pending, line...)
}

// sendForLocked is sendLocked waiting at most wait for room on the link;
// with 0 it sends only what the link has room for at once.
func (o *outbox) sendForLocked(wait time.Duration) (gone bool) {
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	return o.sendLocked(ctx)
}

// sendLocked sends held-back lines, a batch at a time, until the link has
// no room before ctx ends; o.mu is held. Lines the link refuses for good
// are dropped, and sendLocked reports that the link is gone.
func (o *outbox) sendLocked(ctx context.Context) (gone bool) {
	for len(o.pending) > 0 || o.dropped > 0 {
		n := len(o.pending)
		if n > o.batch {
			n = bytes.LastIndexByte(o.pending[:o.batch], '\n') + 1
			if n == 0 { // a line longer than a batch: cannot happen with maxLineLength < batch
				n = o.batch
			}
		}
		err := o.send(ctx, o.pending[:n], o.dropped)
		if isBusy(err) {
			return false
		}
		if err != nil {
			o.dropped += uint64(bytes.Count(o.pending, []byte{'\n'}))
			o.pending = o.pending[:0]
			return true
		}
		o.pending, o.dropped = append(o.pending[:0], o.pending[n:]...), 0
		o.congested = false
	}
	return false
}

// tick sends held-back output every flushEvery, so that a line printed
// before a long computation arrives at once, until finish or ctx ends.
func (o *outbox) tick(ctx context.Context) {
	t := time.NewTicker(flushEvery)
	defer t.Stop()
	for {
		select {
		case <-o.stop:
			return
		case <-ctx.Done():
			return
		case <-t.C:
			o.mu.Lock()
			o.sendForLocked(throttleFor)
			o.mu.Unlock()
		}
	}
}

// finish stops the ticker and sends what is left, trying for at most
// wait while the link is busy. It returns how many lines it had to drop.
func (o *outbox) finish(wait time.Duration) uint64 {
	o.stopped.Do(func() { close(o.stop) })
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.partial) > 0 {
		o.addLineLocked(append(o.partial, '\n'))
		o.partial = nil
	}
	o.sendForLocked(wait)
	left := o.dropped + uint64(bytes.Count(o.pending, []byte{'\n'}))
	o.pending, o.dropped = nil, 0
	return left
}

// printItem is a line to print, a count of dropped lines, or the end.
type printItem struct {
	line    []byte
	dropped uint64
	end     func() // called last, on the printer's goroutine
}

// printer prints the output of one job running elsewhere, in order, on a
// goroutine of its own (run), so that the cluster's deliverer never waits
// for a terminal. Lines past maxQueuedLines or maxQueuedBytes are dropped and
// counted; the end is never dropped.
type printer struct {
	out   io.Writer
	label string // put before each line, such as "[n2:3] "

	mu     sync.Mutex
	items  []printItem
	bytes  int
	lines  int
	ended  bool
	wake   chan struct{}
	resume chan struct{} // closed when printing may begin
}

func newPrinter(out io.Writer, label string) *printer {
	return &printer{out: out, label: label, wake: make(chan struct{}, 1), resume: make(chan struct{})}
}

// start lets the printer print; until then it only queues.
func (p *printer) start() {
	select {
	case <-p.resume:
	default:
		close(p.resume)
	}
}

// push queues the lines of text, after dropped lines dropped upstream.
func (p *printer) push(text []byte, dropped uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	p.addDroppedLocked(dropped)
	for len(text) > 0 {
		i := bytes.IndexByte(text, '\n') + 1
		if i == 0 {
			i = len(text)
		}
		line := text[:i]
		text = text[i:]
		if p.lines >= maxQueuedLines || p.bytes+len(line) > maxQueuedBytes {
			p.addDroppedLocked(1)
			continue
		}
		p.items = append(p.items, printItem{line: bytes.Clone(line)})
		p.lines++
		p.bytes += len(line)
	}
	p.signal()
}

// addDroppedLocked counts dropped lines, merging with a count just queued.
func (p *printer) addDroppedLocked(n uint64) {
	if n == 0 {
		return
	}
	if k := len(p.items); k > 0 && p.items[k-1].line == nil && p.items[k-1].end == nil {
		p.items[k-1].dropped += n
		return
	}
	p.items = append(p.items, printItem{dropped: n})
}

// finish queues the end, after dropped lines; later pushes, and later
// ends, are ignored.
func (p *printer) finish(dropped uint64, end func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ended {
		return
	}
	p.addDroppedLocked(dropped)
	p.items = append(p.items, printItem{end: end})
	p.ended = true
	p.signal()
}

func (p *printer) signal() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// run prints what is pushed, once start is called, until the end is
// printed or ctx ends.
func (p *printer) run(ctx context.Context) {
	select {
	case <-p.resume:
	case <-ctx.Done():
		return
	}
	for {
		select {
		case <-p.wake:
		case <-ctx.Done():
			return
		}
		p.mu.Lock()
		items := p.items
		p.items, p.lines, p.bytes = nil, 0, 0
		p.mu.Unlock()
		for _, it := range items {
			switch {
			case it.end != nil:
				it.end()
				return
			case it.line != nil:
				line := termtext.Cut(string(bytes.TrimSuffix(it.line, []byte{'\n'})), maxShownLine)
				io.WriteString(p.out, p.label+line+"\n")
			default:
				io.WriteString(p.out, p.label+droppedLine(it.dropped)+"\n")
			}
		}
	}
}
