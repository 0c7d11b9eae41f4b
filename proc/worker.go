package proc

import (
	"sync"

	"github.com/iridium-vm/iridium/vm"
)

// worker is one scheduler thread: a goroutine with its own run queue,
// from which idle threads steal, and a next slot for the process a
// message just woke, which runs after the current one (a reply is then
// handled on the thread that sent it, while both are hot in its cache);
// thieves leave it alone.
type worker struct {
	s    *Scheduler
	id   int
	wake chan struct{} // a token: look for work

	mu sync.Mutex
	q  ring[*process]
	// next is only touched by this thread's own goroutine: the process
	// that sets it runs there.
	next *process
	// remoteDirty: a process run here queued something for another node
	// (Remote), to flush when its slice ends. Only this thread touches it.
	remoteDirty bool
	// lent: this is a Runner's, run by a goroutine that is not a
	// scheduler thread, for one slice of a process at a time.
	lent bool
}

// ready puts p, runnable, on a queue: on w's (next, or at the back), or,
// with no w, on one taken in turn; and wakes an idle thread for work that
// another thread may steal. With next, w must be the thread of the
// caller.
func (s *Scheduler) ready(p *process, w *worker, next bool) {
	if w == nil {
		w = s.workers[int(s.rr.Add(1))%len(s.workers)]
		next = false
	}
	if next {
		if p, w.next = w.next, p; p == nil {
			return
		}
	}
	w.mu.Lock()
	w.q.push(p)
	w.mu.Unlock()
	if s.idle.Load() > 0 && !w.lent { // a Runner hands its queue on itself
		s.wakeOne()
	}
}

// wakeOne wakes an idle thread, if there is one.
func (s *Scheduler) wakeOne() {
	s.idleMu.Lock()
	var w *worker
	if n := len(s.idlers); n > 0 {
		w, s.idlers = s.idlers[n-1], s.idlers[:n-1]
		s.idle.Add(-1)
	}
	s.idleMu.Unlock()
	if w != nil {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// loop runs processes until the scheduler stops.
func (w *worker) loop() {
	defer w.s.wg.Done()
	wakeMonitor() // it may take work at once, without a park
	for {
		p := w.take()
		if p == nil {
			if !w.park() {
				return
			}
			continue
		}
		w.run(p)
		if w.s.stopping.Load() {
			return
		}
	}
}

// take returns the next process to run: this thread's next, the front of
// its queue, or half of another's queue stolen; or nil.
func (w *worker) take() *process {
	if p := w.next; p != nil {
		w.next = nil
		return p
	}
	w.mu.Lock()
	var p *process
	if w.q.len() > 0 {
		p = w.q.pop()
	}
	w.mu.Unlock()
	if p != nil {
		return p
	}
	return w.steal()
}

// steal moves half of the first non-empty queue of another thread to
// this one's and returns one of them.
func (w *worker) steal() *process {
	all := w.s.workers
	for i := 1; i < len(all); i++ {
		v := all[(w.id+i)%len(all)]
		v.mu.Lock()
		n := (v.q.len() + 1) / 2
		var got []*process
		for range n {
			got = append(got, v.q.pop())
		}
		v.mu.Unlock()
		if n == 0 {
			continue
		}
		w.mu.Lock()
		for _, p := range got[1:] {
			w.q.push(p)
		}
		w.mu.Unlock()
		return got[0]
	}
	return nil
}

// park waits, idle, for work; it reports false when the scheduler stops.
func (w *worker) park() bool {
	s := w.s
	w.listIdle()
	if s.stealable() { // work queued while this thread was going idle
		w.unlistIdle()
		return true
	}
	select {
	case <-w.wake:
		wakeMonitor()
		return true
	case <-s.ctx.Done():
		return false
	}
}

// listIdle puts this thread on the idle list, for wakeOne to find.
func (w *worker) listIdle() {
	s := w.s
	s.idleMu.Lock()
	s.idlers = append(s.idlers, w)
	s.idle.Add(1)
	s.idleMu.Unlock()
}

// unlistIdle takes this thread off the idle list again, when it found
// work itself. If wakeOne took it off first, its token is sent or on the
// way: unlistIdle takes it, or the next park would return at once and
// list this thread twice (the idle count then says more threads sleep
// than there are).
func (w *worker) unlistIdle() {
	s := w.s
	s.idleMu.Lock()
	listed := false
	for i, x := range s.idlers {
		if x == w {
			s.idlers = append(s.idlers[:i], s.idlers[i+1:]...)
			s.idle.Add(-1)
			listed = true
			break
		}
	}
	s.idleMu.Unlock()
	if !listed {
		<-w.wake
	}
}

// stealable reports whether any thread's queue holds a process.
func (s *Scheduler) stealable() bool {
	for _, v := range s.workers {
		v.mu.Lock()
		n := v.q.len()
		v.mu.Unlock()
		if n > 0 {
			return true
		}
	}
	return false
}

// run gives p turns, one after another while nothing else waits on this
// thread's queue (a lone busy process pays for no queueing), and does
// what its stop asks for.
func (w *worker) run(p *process) {
	s := w.s
	if p.killed.Load() {
		s.finish(p, Killed, nil)
		return
	}
	p.state.Store(stateRunning)
	p.w = w
	before := p.m.Steps()
	var stop vm.Stop
	var err error
	for {
		stop, err = p.m.RunSlice(uint64(s.cfg.Reductions))
		w.flushRemote()
		if stop != vm.Yielded || p.killed.Load() || s.stopping.Load() || !w.alone() {
			break
		}
		p.reductions.Add(p.m.Steps() - before)
		before = p.m.Steps()
	}
	p.w = nil
	p.reductions.Add(p.m.Steps() - before)
	if f := int64(p.m.Footprint()); f != p.memory.Load() {
		p.memory.Store(f)
	}
	switch stop {
	case vm.Ended:
		s.finish(p, Normal, nil)
	case vm.Faulted:
		s.finish(p, Faulted, err)
	case vm.Killed:
		s.finish(p, Killed, nil)
	case vm.Waiting: // p.mu is held: see process.Receive
		if p.killed.Load() {
			p.state.Store(stateRunnable)
			p.mu.Unlock()
			s.ready(p, w, false)
			return
		}
		p.state.Store(stateWaiting)
		p.mu.Unlock()
		s.deactivate()
	default: // vm.Yielded, vm.Backlogged
		if p.killed.Load() {
			s.finish(p, Killed, nil)
			return
		}
		if stop == vm.Backlogged && s.parkBacklogged(p) {
			s.deactivate()
			return
		}
		p.state.Store(stateRunnable)
		s.ready(p, w, false)
	}
}

// alone reports whether this thread has nothing queued to run next.
func (w *worker) alone() bool {
	if w.next != nil || w.lent {
		return false
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.q.len() == 0
}
