package proc

import "github.com/iridium-vm/iridium/vm"

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
// One process woken, the last, gets one slice at most on the caller's
// goroutine; the others, what is still runnable after that slice, and
// everything when no scheduler thread is idle (a busy thread takes the
// work without a wake-up), go to the scheduler threads' queues as
// Deliver's do. A Runner is used by one goroutine at a time.
type Runner struct {
	w *worker
}

// NewRunner returns a Runner of s; Release gives it back.
func (s *Scheduler) NewRunner() *Runner {
	if r, ok := s.runners.Get().(*Runner); ok {
		return r
	}
	return &Runner{w: &worker{s: s, id: -1, lent: true}}
}

// Release runs what is left (Run) and gives r back for reuse.
func (r *Runner) Release() {
	r.Run()
	r.w.s.runners.Put(r)
}

// Deliver delivers msg to the local process to, as Scheduler.Deliver
// does; a process it wakes waits for Run.
func (r *Runner) Deliver(to PID, msg vm.Message) {
	if to.Node() != 0 {
		return
	}
	r.w.s.deliver(to, msg, r.w)
}

// Run runs one slice of the process the deliveries woke last on the
// caller's goroutine, while a scheduler thread is idle, and hands the
// others (first, so that threads take them meanwhile), and what that
// slice makes runnable, to the scheduler threads: a frame that wakes
// many processes keeps the threads' parallelism, and holds up the
// caller for one slice at most.
func (r *Runner) Run() {
	w := r.w
	s := w.s
	p := w.next
	w.next = nil
	r.handOn()
	if p != nil {
		if s.idle.Load() > 0 && !s.stopping.Load() {
			w.run(p)
		} else {
			s.ready(p, nil, false)
		}
	}
	if p := w.next; p != nil {
		w.next = nil
		s.ready(p, nil, false)
	}
	r.handOn()
}

// handOn gives the processes on the Runner's own queue to the
// scheduler threads.
func (r *Runner) handOn() {
	for p := r.w.popLocal(); p != nil; p = r.w.popLocal() {
		r.w.s.ready(p, nil, false)
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
