// Package proc runs the processes of a node: green processes, each a VM
// with a mailbox, as in BEAM. A Scheduler keeps the process table, runs
// every runnable process on its scheduler threads for a budget of
// instructions (reductions) at a time, delivers messages, keeps the
// timers of RECVT and the monitors, and sees a deadlock. A waiting
// process is data in the table, never a goroutine.
//
// It implements vm.Runtime, through which the VM's process instructions
// reach it; vm knows nothing of scheduling.
package proc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/iridium-vm/iridium/vm"
)

// Defaults of Config.
const (
	// DefaultMailboxLimit is the most messages a mailbox holds; past it,
	// messages to that process are dropped and counted.
	DefaultMailboxLimit = 100_000
	// DefaultReductions is the instructions a process runs before the
	// next runnable one gets its turn.
	DefaultReductions = 10_000
)

// Costs charged to Config.Budget, an estimate of the memory each takes.
const (
	processCost = 1024 // a process: its VM, its entry in the table
	messageCost = 48   // a message in a mailbox, plus its bytes
)

// Config sets up a Scheduler. The zero value of each field means its
// default.
type Config struct {
	// Threads is the number of scheduler threads. Default: the number of
	// cores (runtime.NumCPU).
	Threads int
	// MailboxLimit is the most messages a mailbox holds. Default
	// DefaultMailboxLimit.
	MailboxLimit int
	// Reductions is the budget of instructions of one turn. Default
	// DefaultReductions.
	Reductions int
	// Budget, if not nil, is the node's memory budget: every process and
	// every message waiting in a mailbox reserves from it (as the heaps of
	// the VMs do); a spawn it cannot cover faults, a message it cannot
	// cover is dropped and counted.
	Budget *vm.HeapBudget
	// DetectDeadlock makes the scheduler watch for a deadlock: processes
	// alive, none runnable or running, no RECVT timer pending. Only a
	// caller that itself never sends to the processes (a file run) should
	// set it. See Deadlocked.
	DetectDeadlock bool
	// OutputLimit is the most bytes a program's output queue holds before
	// its printing processes wait for the destination to take them.
	// Default DefaultOutputLimit.
	OutputLimit int
	// Remote, if set, reaches the processes of other nodes (see Remote);
	// SetRemote sets it later. Without one, their PIDs reach nothing.
	Remote Remote
}

// Reason is why a process ended, as a down notice carries it.
type Reason int32

// The reasons.
const (
	Normal       Reason = 0 // HLT or the end of the code
	Faulted      Reason = 1 // a fault
	Killed       Reason = 2 // KILL, or Kill
	NoConnection Reason = 3 // its node cannot be reached (the cluster's)
	NoProcess    Reason = 4 // there was no such process to monitor
)

// String names the reason.
func (r Reason) String() string {
	switch r {
	case Normal:
		return "normal"
	case Faulted:
		return "fault"
	case Killed:
		return "killed"
	case NoConnection:
		return "no connection"
	case NoProcess:
		return "no such process"
	}
	return fmt.Sprintf("reason %d", int32(r))
}

// Exit is how a process ended.
type Exit struct {
	Reason Reason
	Err    error // the fault, for Faulted
}

// ErrNoProcess is returned for a PID that names no live process.
var ErrNoProcess = errors.New("no such process")

// ErrStopped is returned by Start after Close.
var ErrStopped = errors.New("scheduler stopped")

// Scheduler runs the processes of a node. Its methods are safe for
// concurrent use.
type Scheduler struct {
	cfg     Config
	table   table
	names   registry
	workers []*worker
	rr      atomic.Uint32 // round robin over workers for wake-ups from outside

	ctx      context.Context
	cancel   context.CancelFunc
	stopping atomic.Bool
	wg       sync.WaitGroup

	// startMu guards starting the threads after the first (startRest)
	// against Close; restStarted says they run.
	startMu     sync.Mutex
	restStarted atomic.Bool

	// active counts processes runnable or running; live, every process
	// not ended; timers, RECVT timers and WHEREIS lookups pending; outWaits, processes parked
	// on an output queue (its drain wakes them).
	active, live, timers, outWaits atomic.Int64

	idleMu sync.Mutex
	idlers []*worker
	idle   atomic.Int32
	// runners recycles Runners (runner.go): a link's reader takes one a
	// frame.
	runners sync.Pool

	remote atomic.Pointer[Remote]
	nodes  *Nodes

	deadlockOnce sync.Once
	deadlocked   chan struct{}
	deadlockN    atomic.Int64
}

// New starts a scheduler; Close stops it. Only its first thread starts
// now: the others start with the second process (startRest), so a run of
// one process, such as most file runs, never pays for them (each is a
// goroutine and, parked, wakes the runtime's threads; docs/performance.md,
// "Start-up", fifth pass).
func New(cfg Config) *Scheduler {
	if cfg.Threads <= 0 {
		cfg.Threads = runtime.NumCPU()
	}
	if cfg.MailboxLimit <= 0 {
		cfg.MailboxLimit = DefaultMailboxLimit
	}
	if cfg.Reductions <= 0 {
		cfg.Reductions = DefaultReductions
	}
	if cfg.OutputLimit <= 0 {
		cfg.OutputLimit = DefaultOutputLimit
	}
	s := &Scheduler{cfg: cfg, deadlocked: make(chan struct{}), nodes: NewNodes()}
	s.SetRemote(cfg.Remote)
	s.ctx, s.cancel = context.WithCancel(context.Background())
	for i := range cfg.Threads {
		s.workers = append(s.workers, &worker{s: s, id: i, wake: make(chan struct{}, 1)})
	}
	s.wg.Add(1)
	go s.workers[0].loop()
	return s
}

// startRest starts the threads after the first, once; not after Close.
// Until then the first thread runs every process, taking those queued on
// the others' queues by stealing.
func (s *Scheduler) startRest() {
	s.startMu.Lock()
	defer s.startMu.Unlock()
	if s.restStarted.Load() || s.stopping.Load() {
		return
	}
	s.restStarted.Store(true)
	for _, w := range s.workers[1:] {
		s.wg.Add(1)
		go w.loop()
	}
}

// Close stops the scheduler's threads, after the turns in progress end.
// The processes left are dropped; their Done channels stay open.
func (s *Scheduler) Close() {
	s.startMu.Lock() // no thread starts after this
	s.stopping.Store(true)
	s.startMu.Unlock()
	s.cancel()
	s.wg.Wait()
}

// Stopped is closed once Close has been called: the Done channels of
// the processes left will not close then.
func (s *Scheduler) Stopped() <-chan struct{} { return s.ctx.Done() }

// Threads returns the number of scheduler threads.
func (s *Scheduler) Threads() int { return len(s.workers) }

// MailboxLimit returns the most messages a mailbox holds.
func (s *Scheduler) MailboxLimit() int { return s.cfg.MailboxLimit }

// Deadlocked is closed when, with DetectDeadlock set, every live process
// is waiting and nothing can wake one; Waiting then says how many.
func (s *Scheduler) Deadlocked() <-chan struct{} { return s.deadlocked }

// Waiting returns the number of processes waiting at the deadlock.
func (s *Scheduler) Waiting() int { return int(s.deadlockN.Load()) }

// Live returns the number of processes not ended.
func (s *Scheduler) Live() int { return int(s.live.Load()) }

// StartOptions describe a program started by Start.
type StartOptions struct {
	// Name is the program's name, as Processes shows it.
	Name string
	// VM configures the first process's VM; every process it spawns
	// gets the same. Its Stdout is shared by them all, each write whole,
	// through the program's output queue: the processes never wait for
	// it on a scheduler thread (see Config.OutputLimit), and what they
	// print reaches it later (see Handle.Flush).
	VM vm.Config
	// Faults receives the fault messages of the program's processes, one
	// line each. Default: VM.Stdout, in order with the output.
	Faults io.Writer
	// CallerReportsFault leaves out the first process's own fault from
	// Faults: the caller reports it from Exit.
	CallerReportsFault bool
	// Starting, if set, is called with the first process's PID once it is
	// in the table and before it first runs, on Start's goroutine: what
	// it prints comes before anything the program prints.
	Starting func(PID)
	// Owner is the alias of the cluster member the program was started
	// for ("" for this node): that member may kill its processes
	// (KillFor).
	Owner string
}

// Handle is the first process of a program started by Start.
type Handle struct {
	p *process
}

// PID returns the process's PID.
func (h *Handle) PID() PID { return h.p.pid }

// Done is closed when the process has ended and, unless it was killed,
// its program's output queue has written what it printed.
func (h *Handle) Done() <-chan struct{} { return h.p.done }

// Exit returns how the process ended; call it after Done is closed.
func (h *Handle) Exit() Exit {
	h.p.mu.Lock()
	defer h.p.mu.Unlock()
	return h.p.exit
}

// Flush waits until the program's output queue has written everything
// its processes printed, or ctx is done, and returns the first error
// writing it. Call it once the processes have ended or been stopped.
func (h *Handle) Flush(ctx context.Context) error {
	if q := h.p.group.out; q != nil {
		return q.flush(ctx)
	}
	return nil
}

// VM returns the process's machine, to be read once Done is closed.
func (h *Handle) VM() *vm.VM { return h.p.m }

// KillProgram ends every live process of the program h started: the
// first and all that it and they spawned.
func (h *Handle) KillProgram() {
	s := h.p.s
	h.p.group.killed.Store(true) // a spawn racing with the loop kills its child itself
	for _, p := range s.table.all() {
		if p.group == h.p.group {
			s.kill(p, nil)
		}
	}
}

// Start starts p as a new program: its first process, running from
// address 0.
func (s *Scheduler) Start(p *vm.Program, o StartOptions) (*Handle, error) {
	if s.stopping.Load() {
		return nil, ErrStopped
	}
	g := &group{name: o.Name, faults: io.Discard, skipRoot: o.CallerReportsFault, owner: o.Owner}
	if o.VM.Stdout != nil {
		g.out = newOutQueue(s, o.VM.Stdout)
		o.VM.Stdout, g.faults = g.out, g.out
	}
	if o.Faults != nil {
		g.faults = &lockedWriter{w: o.Faults}
	}
	m := vm.New(o.VM)
	m.Load(p)
	proc := &process{group: g, done: make(chan struct{})}
	g.root = proc
	if err := s.admit(proc, m); err != nil {
		return nil, err
	}
	if o.Starting != nil {
		o.Starting(proc.pid)
	}
	s.ready(proc, nil, false)
	return &Handle{p: proc}, nil
}

// admit enters a new process, with its VM, into the table and counts it
// runnable; the caller makes it ready.
func (s *Scheduler) admit(p *process, m *vm.VM) error {
	if b := s.cfg.Budget; b != nil && !b.Reserve(processCost) {
		return fmt.Errorf("the node's memory budget of %d bytes is spent", b.Limit())
	}
	p.s, p.m = s, m
	m.SetRuntime(p)
	p.state.Store(stateRunnable)
	if s.live.Add(1) > 1 && !s.restStarted.Load() {
		s.startRest()
	}
	s.active.Add(1)
	s.table.insert(p)
	return nil
}

// Send delivers the integer value to the process to from outside the
// processes, as if from the PID from (0 for none).
func (s *Scheduler) Send(from, to PID, value int32) error {
	return s.sendFrom(from, to, vm.Message{Kind: vm.MsgInt, Value: value})
}

// Kill ends the process pid; its monitors get reason 2. For a process of
// another node it asks that node, which ends it only if it was started
// for this node (see KillFor); the answer comes later.
func (s *Scheduler) Kill(pid PID) error {
	if pid.Node() != 0 {
		r := s.getRemote()
		if r == nil {
			return fmt.Errorf("%v: %w", pid, ErrNoRemote)
		}
		r.Kill(0, pid)
		r.Flush()
		return nil
	}
	p := s.table.get(pid)
	if p == nil || p.external {
		return fmt.Errorf("%v: %w", pid, ErrNoProcess)
	}
	s.kill(p, nil)
	return nil
}

// Wait waits until the process pid ends, or ctx is done.
func (s *Scheduler) Wait(ctx context.Context, pid PID) (Exit, error) {
	p := s.table.get(pid)
	if p == nil || p.external {
		return Exit{}, fmt.Errorf("%v: %w", pid, ErrNoProcess)
	}
	p.mu.Lock()
	if p.state.Load() == stateEnded {
		defer p.mu.Unlock()
		return p.exit, nil
	}
	if p.done == nil {
		p.done = make(chan struct{})
	}
	done := p.done
	p.mu.Unlock()
	select {
	case <-done:
	case <-ctx.Done():
		return Exit{}, context.Cause(ctx)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exit, nil
}

// deliver puts msg in the mailbox of the process to, or drops it: to an
// ended or unknown process, or over the mailbox limit or the budget. w is
// the thread of the sender, if a process sends; a receiver woken goes
// next on it. A message to a process of another node goes to the Remote,
// whose full outbox deliver returns.
func (s *Scheduler) deliver(to PID, msg vm.Message, w *worker) Backlog {
	if to.Node() != 0 {
		return s.sendRemote(to, msg, w)
	}
	q := s.table.get(to)
	if q == nil {
		return nil
	}
	cost := int64(messageCost + len(msg.Bytes))
	q.mu.Lock()
	if q.state.Load() == stateEnded {
		q.mu.Unlock()
		return nil
	}
	if q.mbox.len() >= s.cfg.MailboxLimit || (s.cfg.Budget != nil && !s.cfg.Budget.Reserve(cost)) {
		q.dropped++
		q.mu.Unlock()
		return nil
	}
	q.mbox.push(msg)
	wake := q.state.Load() == stateWaiting && !q.external && !q.outWait
	if wake {
		q.state.Store(stateRunnable)
		s.active.Add(1)
	}
	q.mu.Unlock()
	if wake {
		s.ready(q, w, w != nil)
	}
	return nil
}

// kill marks p killed and, if it waits, makes it runnable so that its
// thread ends it. by is the thread of the killer, if a process kills.
func (s *Scheduler) kill(p *process, by *worker) {
	p.killed.Store(true)
	p.mu.Lock()
	wake := p.state.Load() == stateWaiting
	if wake {
		p.state.Store(stateRunnable)
		s.active.Add(1)
	}
	outWait := p.outWait
	p.outWait = false
	p.mu.Unlock()
	if outWait {
		s.outWaits.Add(-1) // its output queue's wake finds it gone
	}
	if wake {
		s.ready(p, by, false)
	}
}

// finish ends p, which was running or runnable (so counted active).
func (s *Scheduler) finish(p *process, reason Reason, err error) {
	p.mu.Lock()
	p.state.Store(stateEnded)
	p.exit = Exit{Reason: reason, Err: err}
	watchers := p.watchers
	p.watchers = nil
	p.cancelTimer()
	if b := s.cfg.Budget; b != nil {
		var n int64
		p.mbox.each(func(m vm.Message) { n += int64(messageCost + len(m.Bytes)) })
		b.Release(n + processCost)
	}
	p.mbox.clear()
	done := p.done
	p.mu.Unlock()
	s.table.remove(p.pid)
	s.names.forget(p)
	g := p.group
	if err != nil && !(g.skipRoot && g.root == p) {
		fmt.Fprintf(g.faults, "process %v%s faulted: %v\n", p.pid, g.label(), err)
	}
	if done == nil {
		p.m.Reset() // its heap's memory and budget back now; nobody reads it
	}
	s.notifyDown(p.pid, watchers, reason)
	s.live.Add(-1)
	if done != nil {
		if g.out != nil && reason != Killed {
			g.out.closeWhenDrained(done) // what it printed is out when Done says so
		} else {
			close(done)
		}
	}
	s.deactivate()
}

// deactivate counts one process less runnable or running, and looks for
// a deadlock when none is left.
func (s *Scheduler) deactivate() {
	if s.active.Add(-1) != 0 || !s.cfg.DetectDeadlock {
		return
	}
	// A timer firing, or an output queue waking a process, counts the
	// process active before it counts itself done, so reading timers and
	// outWaits first cannot miss a wake-up.
	if s.timers.Load() > 0 || s.outWaits.Load() > 0 || s.active.Load() != 0 {
		return
	}
	if n := s.live.Load(); n > 0 {
		s.deadlockOnce.Do(func() {
			s.deadlockN.Store(n)
			close(s.deadlocked)
		})
	}
}

// group is what the processes of one program share.
type group struct {
	killed   atomic.Bool // by KillProgram
	name     string
	faults   io.Writer
	out      *outQueue // nil when the output is discarded
	root     *process
	skipRoot bool
	owner    string // the member it was started for (StartOptions.Owner)
}

func (g *group) label() string {
	if g.name == "" {
		return ""
	}
	return " (" + g.name + ")"
}

// lockedWriter makes each Write whole when many processes print.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
