package proc

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/iridium-vm/iridium/vm"
)

// The states of a process.
const (
	stateRunnable uint32 = iota
	stateRunning
	stateWaiting
	stateEnded
)

var stateNames = [...]string{"runnable", "running", "waiting", "ended"}

// process is one process: its VM and mailbox, and what the scheduler
// knows of it. It implements vm.Runtime for its VM.
type process struct {
	pid   PID
	m     *vm.VM
	s     *Scheduler
	group *group
	w     *worker // the thread running it, while it runs

	external bool // a Mailbox: never runs

	state      atomic.Uint32 // changed to or from waiting only under mu
	killed     atomic.Bool
	reductions atomic.Uint64
	memory     atomic.Int64 // its VM's memory after its last turn

	mu       sync.Mutex
	mbox     ring[vm.Message]
	dropped  uint64
	watchers []PID       // the processes monitoring it
	timer    *time.Timer // RECVT's, while it waits
	timerGen uint32      // tells a timer that fires late from the current one
	timedOut bool
	outWait  bool          // parked by its group's output queue or backlog, not by RECV
	backlog  Backlog       // the full outbox its last send found; only its thread touches it
	done     chan struct{} // closed when it ends; nil until asked for
	exit     Exit
}

// Self implements vm.Runtime.
func (p *process) Self() int32 { return int32(p.pid) }

// Spawn implements vm.Runtime: child starts as a runnable process of the
// same program, on this thread's queue.
func (p *process) Spawn(child *vm.VM) (int32, error) {
	c := &process{group: p.group}
	if err := p.s.admit(c, child); err != nil {
		return 0, err
	}
	if p.group.killed.Load() { // after admit: KillProgram's loop may have missed c
		c.killed.Store(true)
	}
	p.s.ready(c, p.w, false)
	return int32(c.pid), nil
}

// Send implements vm.Runtime. A send into a full outbox toward another
// node is kept as p.backlog, on which the thread parks p (worker.run).
func (p *process) Send(to int32, msg vm.Message) bool {
	b := p.s.deliver(PID(to), msg, p.w)
	if b == nil {
		return false
	}
	p.backlog = b
	return true
}

// Receive implements vm.Runtime. When it finds nothing it returns with
// p.mu still held: the VM stops at once, and the thread's run parks the
// process under the same lock (see worker.park), so that a message
// arriving in between cannot be missed and no lock is taken twice.
func (p *process) Receive(timeoutMS int32) (vm.Message, vm.RecvStatus) {
	p.mu.Lock()
	if p.mbox.len() > 0 {
		msg := p.mbox.pop()
		if b := p.s.cfg.Budget; b != nil {
			b.Release(int64(messageCost + len(msg.Bytes)))
		}
		p.cancelTimer()
		p.timedOut = false
		p.mu.Unlock()
		return msg, vm.RecvGot
	}
	switch {
	case p.timedOut:
		p.timedOut = false
		p.mu.Unlock()
		return vm.Message{}, vm.RecvTimeout
	case timeoutMS == 0:
		p.mu.Unlock()
		return vm.Message{}, vm.RecvTimeout
	case timeoutMS > 0 && p.timer == nil:
		p.timerGen++
		gen := p.timerGen
		p.s.timers.Add(1)
		p.timer = time.AfterFunc(time.Duration(timeoutMS)*time.Millisecond, func() { p.fire(gen) })
	}
	return vm.Message{}, vm.RecvWait // p.mu held
}

// fire is the timer of RECVT number gen running out.
func (p *process) fire(gen uint32) {
	p.mu.Lock()
	if p.timer == nil || p.timerGen != gen || p.state.Load() == stateEnded {
		p.mu.Unlock()
		p.s.timers.Add(-1)
		return
	}
	p.timer, p.timedOut = nil, true
	wake := p.state.Load() == stateWaiting
	if wake {
		p.state.Store(stateRunnable)
		p.s.active.Add(1)
	}
	p.mu.Unlock()
	p.s.timers.Add(-1) // after the process counts active: see deactivate
	if wake {
		p.s.ready(p, nil, false)
	}
}

// cancelTimer stops RECVT's timer, if any; p.mu is held. A timer that
// has fired already finds its generation gone and only counts itself.
func (p *process) cancelTimer() {
	if p.timer == nil {
		return
	}
	if p.timer.Stop() {
		p.s.timers.Add(-1)
	}
	p.timer = nil
	p.timerGen++
}

// Monitor implements vm.Runtime.
func (p *process) Monitor(pid int32) {
	target := PID(pid)
	if target.Node() != 0 {
		if r := p.s.getRemote(); r != nil {
			r.Monitor(p.pid, target)
			p.w.remoteDirty = true
			return
		}
	}
	if t := p.s.table.get(target); t != nil {
		t.mu.Lock()
		if t.state.Load() != stateEnded {
			t.watchers = append(t.watchers, p.pid)
			t.mu.Unlock()
			return
		}
		t.mu.Unlock()
	}
	p.s.deliver(p.pid, vm.Message{Kind: vm.MsgDown, Value: int32(NoProcess), From: pid}, p.w)
}

// Kill implements vm.Runtime.
func (p *process) Kill(pid int32) bool {
	if PID(pid) == p.pid {
		return true
	}
	if PID(pid).Node() != 0 {
		if r := p.s.getRemote(); r != nil {
			r.Kill(p.pid, PID(pid))
			p.w.remoteDirty = true
		}
		return false
	}
	if t := p.s.table.get(PID(pid)); t != nil && !t.external {
		p.s.kill(t, p.w)
	}
	return false
}
