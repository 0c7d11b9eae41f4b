package proc

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
)

// DefaultOutputLimit is the default of Config.OutputLimit.
const DefaultOutputLimit = 64 << 10

// maxSpare is the largest buffer a queue keeps for reuse once drained.
const maxSpare = 1 << 20

// outQueue is the output of one program: its processes' prints go into a
// bounded buffer and never wait for the destination, and a goroutine of
// the queue's own, started while there is something to write and ending
// when it has written it all, drains the buffer to the destination in
// order. A print that fills the buffer ends its process's slice (see
// vm.OutputQueue) and the thread parks the process, as data, until the
// drain has made room: a terminal that stops reading, or a busy link,
// holds up that program and never a scheduler thread.
//
// The buffer holds at most limit bytes plus one print of each process
// running when it fills, and one buffer more is in the destination's
// Write. A write error of the destination is kept: the prints after it
// fail with it, as the prints themselves failed before.
type outQueue struct {
	s     *Scheduler
	dst   io.Writer
	limit int

	full atomic.Bool // len(buf) >= limit; read by every print

	mu       sync.Mutex
	buf      []byte
	spare    []byte
	draining bool       // the drain goroutine runs; true whenever buf holds bytes
	err      error      // the destination's first write error
	waiters  []*process // parked until there is room
	queued   int64      // bytes ever queued
	written  int64      // bytes ever taken by the destination (or dropped after an error)
	marks    []mark     // channels to close once written reaches their count, in order
}

// mark is a channel to close once a count of bytes has been written.
type mark struct {
	at int64
	ch chan struct{}
}

func newOutQueue(s *Scheduler, dst io.Writer) *outQueue {
	return &outQueue{s: s, dst: dst, limit: s.cfg.OutputLimit}
}

// Write queues p whole and never waits for the destination.
func (q *outQueue) Write(p []byte) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.err != nil {
		return 0, q.err
	}
	q.buf = append(q.buf, p...)
	q.queued += int64(len(p))
	if len(q.buf) >= q.limit {
		q.full.Store(true)
	}
	if !q.draining && len(q.buf) > 0 {
		q.draining = true
		go q.drain()
	}
	return len(p), nil
}

// Backlogged implements vm.OutputQueue.
func (q *outQueue) Backlogged() bool { return q.full.Load() }

// drain writes the buffer to the destination until it is empty, waking
// the processes parked on it whenever there is room.
func (q *outQueue) drain() {
	for {
		q.mu.Lock()
		if len(q.buf) == 0 || q.err != nil {
			q.buf = q.buf[:0]
			q.draining = false
			q.full.Store(false)
			q.written = q.queued
			waiters := q.takeWaitersLocked()
			reached := q.reachedLocked()
			q.mu.Unlock()
			closeAll(reached)
			q.wake(waiters)
			return
		}
		chunk := q.buf
		q.buf, q.spare = q.spare[:0], nil
		q.full.Store(false)
		q.mu.Unlock()

		_, err := q.dst.Write(chunk) // no lock held: it may wait long

		q.mu.Lock()
		if cap(chunk) <= maxSpare {
			q.spare = chunk[:0]
		}
		if err != nil && q.err == nil {
			q.err = err
		}
		q.written += int64(len(chunk))
		reached := q.reachedLocked()
		var waiters []*process
		if len(q.buf) < q.limit {
			waiters = q.takeWaitersLocked()
		}
		q.mu.Unlock()
		closeAll(reached)
		q.wake(waiters)
	}
}

// reachedLocked takes the marks that written has reached.
func (q *outQueue) reachedLocked() []mark {
	n := 0
	for n < len(q.marks) && q.marks[n].at <= q.written {
		n++
	}
	reached := q.marks[:n:n]
	q.marks = q.marks[n:]
	return reached
}

func closeAll(marks []mark) {
	for _, m := range marks {
		close(m.ch)
	}
}

// markLocked returns a channel closed once what is queued now has been
// written, or nil if it has been already.
func (q *outQueue) markLocked() chan struct{} {
	if q.written >= q.queued {
		return nil
	}
	ch := make(chan struct{})
	q.marks = append(q.marks, mark{at: q.queued, ch: ch})
	return ch
}

func (q *outQueue) takeWaitersLocked() []*process {
	w := q.waiters
	q.waiters = nil
	return w
}

func (q *outQueue) wake(waiters []*process) {
	for _, p := range waiters {
		q.s.wakeFromOutput(p)
	}
}

// park holds p back, waiting, if the buffer is still full, and reports
// whether it did; p has just yielded on a thread. A killed p is not
// parked: its thread ends it.
func (q *outQueue) park(p *process) bool {
	if !q.full.Load() {
		return false
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.buf) < q.limit || q.err != nil {
		return false
	}
	if !p.markParked() {
		return false
	}
	q.s.outWaits.Add(1)
	q.waiters = append(q.waiters, p)
	return true
}

// flush waits until everything queued so far has been written, or ctx is
// done, and returns the destination's write error, if any.
func (q *outQueue) flush(ctx context.Context) error {
	q.mu.Lock()
	ch := q.markLocked()
	q.mu.Unlock()
	if ch != nil {
		select {
		case <-ch:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.err
}

// wakeFromOutput makes p, parked by an outQueue, runnable again, unless
// something else (a kill) has woken it since.
func (s *Scheduler) wakeFromOutput(p *process) {
	p.mu.Lock()
	parked := p.outWait // a kill may have taken it already
	p.outWait = false
	wake := parked && p.state.Load() == stateWaiting
	if wake {
		p.state.Store(stateRunnable)
		s.active.Add(1)
	}
	p.mu.Unlock()
	if parked {
		s.outWaits.Add(-1) // after the process counts active: see deactivate
	}
	if wake {
		s.ready(p, nil, false)
	}
}

// closeWhenDrained closes done, the Done channel of an ended process,
// once everything queued so far has been written.
func (q *outQueue) closeWhenDrained(done chan struct{}) {
	q.mu.Lock()
	ch := q.markLocked()
	if ch != nil {
		q.marks[len(q.marks)-1].ch = done
	}
	q.mu.Unlock()
	if ch == nil {
		close(done)
	}
}
