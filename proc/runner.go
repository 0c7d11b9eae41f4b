package proc

import (
	"sync"

	"github.com/iridium-vm/iridium/vm"
)

// Runner delivers messages from outside the scheduler threads, such as
// a cluster link's reader, and runs the processes they wake on the
// caller's goroutine when a scheduler thread would otherwise have to be
// woken for them. Waking a parked thread costs a futex call, and often
// a second runtime thread that spins and finds nothing; across two nodes
// that is most of what a round trip costs besides the network
// (docs/performance.md, "Messages across nodes"). So a reader that
// delivers a reply runs the process waiting for it right there, as the
// schedulers of BEAM poll and run in one thread.
//
// Each process woken gets one slice at most on the caller's goroutine;
// what is still runnable after it, and everything when no scheduler
// thread is idle (a busy thread takes the work without a wake-up), goes
// to the scheduler threads' queues as Deliver's does. A Runner is used
// by one goroutine at a time.
type Runner struct {
	w     *worker
	woken []*process // scratch for Run
}

// runners recycles Runners: a reader takes one a frame.
var runnerPool = sync.Pool{New: func() any { return new(Runner) }}

// NewRunner returns a Runner of s; Release gives it back.
func (s *Scheduler) NewRunner() *Runner {
	r := runnerPool.Get().(*Runner)
	if r.w == nil || r.w.s != s {
		r.w = &worker{s: s, id: -1, lent: true}
	}
	return r
}

// Release runs what is left (Run) and gives r back for reuse.
func (r *Runner) Release() {
	r.Run()
	runnerPool.Put(r)
}

// Deliver delivers msg to the local process to, as Scheduler.Deliver
// does; a process it wakes waits for Run.
func (r *Runner) Deliver(to PID, msg vm.Message) {
	if to.Node() != 0 {
		return
	}
	r.w.s.deliver(to, msg, r.w)
}

// Run runs one slice of each process the deliveries woke, on the
// caller's goroutine, while a scheduler thread is idle, and hands the
// rest, and what those slices make runnable, to the scheduler threads.
func (r *Runner) Run() {
	w := r.w
	s := w.s
	woken := r.woken[:0]
	for p := w.popLocal(); p != nil; p = w.popLocal() {
		woken = append(woken, p)
	}
	if w.next != nil {
		woken = append(woken, w.next)
		w.next = nil
	}
	for _, p := range woken {
		if s.idle.Load() > 0 && !s.stopping.Load() {
			w.run(p)
		} else {
			s.ready(p, nil, false)
		}
	}
	clear(woken)
	r.woken = woken[:0]
	if p := w.next; p != nil {
		w.next = nil
		s.ready(p, nil, false)
	}
	for p := w.popLocal(); p != nil; p = w.popLocal() {
		s.ready(p, nil, false)
	}
}

// popLocal takes the front of w's own queue, or nil.
func (w *worker) popLocal() *process {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.q.len() == 0 {
		return nil
	}
	return w.q.pop()
}
