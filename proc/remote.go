package proc

import (
	"context"
	"errors"
	"fmt"

	"github.com/iridium-vm/iridium/vm"
)

// Remote is how the scheduler reaches the processes of other nodes: the
// cluster's distribution layer (package dist) implements it, and the
// scheduler calls it for a send, monitor or kill whose PID has a node
// slot other than 0. See Config.Remote and Scheduler.SetRemote.
type Remote interface {
	// Send queues msg (From set, a PID of this node's table) for the
	// process to of another node, or drops it (an unknown or gone node).
	// It never waits: when the outbox toward that node is full it queues
	// msg all the same and returns the Backlog on which the sender waits
	// for room; otherwise nil.
	Send(to PID, msg vm.Message) Backlog
	// Monitor asks for a down notice to the local process watcher when
	// the process target of another node ends: with its reason, with
	// NoConnection when its node fails or leaves, with NoProcess at once
	// when there is no such process.
	Monitor(watcher, target PID)
	// Kill asks the node of target to end it, for the local process or
	// mailbox by. The answer comes later; a refused kill is not reported
	// to a process (as KILL of an ended process is not).
	Kill(by, target PID)
	// Flush sends what Send, Monitor and Kill have queued. A process's
	// sends are flushed when its slice ends, so that a slice's messages
	// to one node travel together; any other sender's at once.
	Flush()
}

// Backlog is a full outbox a sender waits on.
type Backlog interface {
	// Wait arranges for wake to be called once when there is room, and
	// reports true; or reports false, without calling wake, when there is
	// room already.
	Wait(wake func()) bool
}

// ErrNoRemote is returned for a PID of another node when the scheduler
// has no Remote (the node is in no cluster).
var ErrNoRemote = errors.New("not in a cluster: no other node's process can be reached")

// SetRemote makes r the scheduler's way to other nodes' processes (nil:
// none, so their PIDs reach nothing). The cluster's wiring calls it once
// the node joins a cluster.
func (s *Scheduler) SetRemote(r Remote) {
	if r == nil {
		s.remote.Store(nil)
		return
	}
	s.remote.Store(&r)
}

// DropRemote takes r away as the scheduler's Remote, if it still is (a
// later SetRemote's is kept).
func (s *Scheduler) DropRemote(r Remote) {
	if cur := s.remote.Load(); cur != nil && *cur == r {
		s.remote.CompareAndSwap(cur, nil)
	}
}

// getRemote returns the Remote, or nil.
func (s *Scheduler) getRemote() Remote {
	if r := s.remote.Load(); r != nil {
		return *r
	}
	return nil
}

// Nodes returns the node's table of other nodes' runs, by which the
// node slots of PIDs are read.
func (s *Scheduler) Nodes() *Nodes { return s.nodes }

// sendRemote hands msg for to, a PID of another node, to the Remote. w
// is the thread of the sending process, which flushes at the end of its
// slice (worker.flushRemote); with none, it is flushed now.
func (s *Scheduler) sendRemote(to PID, msg vm.Message, w *worker) Backlog {
	r := s.getRemote()
	if r == nil {
		return nil
	}
	b := r.Send(to, msg)
	if w != nil {
		w.remoteDirty = true
	} else {
		r.Flush()
	}
	return b
}

// flushRemote flushes what the processes run on this thread queued for
// other nodes.
func (w *worker) flushRemote() {
	if !w.remoteDirty {
		return
	}
	w.remoteDirty = false
	if r := w.s.getRemote(); r != nil {
		r.Flush()
	}
}

// SendMessage delivers msg from outside the processes, as from the PID
// from (0 for none), to to, local or of another node. For another node
// whose outbox is full it waits for room until ctx is done: the message
// is queued then all the same, and the error says so.
func (s *Scheduler) SendMessage(ctx context.Context, from, to PID, msg vm.Message) error {
	msg.From = int32(from)
	if to.Node() == 0 {
		if s.table.get(to) == nil {
			return fmt.Errorf("%v: %w", to, ErrNoProcess)
		}
		s.deliver(to, msg, nil)
		return nil
	}
	r := s.getRemote()
	if r == nil {
		return fmt.Errorf("%v: %w", to, ErrNoRemote)
	}
	if _, current, ok := s.nodes.Ref(to.Node()); !ok || !current {
		return fmt.Errorf("%v: %w: its node is gone or unknown", to, ErrNoProcess)
	}
	b := r.Send(to, msg)
	r.Flush()
	if b == nil {
		return nil
	}
	room := make(chan struct{})
	if !b.Wait(func() { close(room) }) {
		return nil
	}
	select {
	case <-room:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("the outbox to the node of %v stays full: %w", to, context.Cause(ctx))
	}
}

// Deliver puts msg, from a process of another node (msg.From already
// translated into this node's table), in the mailbox of the local process
// to, or drops it as a local send would: to an ended or unknown process,
// or over the mailbox limit or the budget (counted).
func (s *Scheduler) Deliver(to PID, msg vm.Message) {
	if to.Node() != 0 {
		return
	}
	s.deliver(to, msg, nil)
}

// MaxRemoteWatchers bounds the monitors of one process held for
// processes of other nodes, so that a member cannot grow a process's
// monitors without bound.
const MaxRemoteWatchers = 10_000

// ErrTooManyWatchers is returned by WatchFor past MaxRemoteWatchers.
var ErrTooManyWatchers = errors.New("too many monitors from other nodes")

// WatchFor adds watcher, a process of another node, to the monitors of
// the local process target: its down notice goes through the Remote. It
// fails, adding nothing, with ErrNoProcess when there is no such process
// and ErrTooManyWatchers when it has MaxRemoteWatchers monitors already
// (those of this node count too).
func (s *Scheduler) WatchFor(target, watcher PID) error {
	t := s.table.get(target)
	if t == nil {
		return ErrNoProcess
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.state.Load() == stateEnded {
		return ErrNoProcess
	}
	// Counted in O(1), all monitors alike: a frame of monitor records
	// from a member must not cost a scan of the watchers each.
	if len(t.watchers) >= MaxRemoteWatchers {
		return ErrTooManyWatchers
	}
	t.watchers = append(t.watchers, watcher)
	return nil
}

// DropWatchers removes from every local process's monitors the watchers
// of node slot slot, whose node is gone.
func (s *Scheduler) DropWatchers(slot int) {
	if slot == 0 {
		return
	}
	for _, p := range s.table.all() {
		p.mu.Lock()
		kept := p.watchers[:0]
		for _, w := range p.watchers {
			if w.Node() != slot {
				kept = append(kept, w)
			}
		}
		clear(p.watchers[len(kept):])
		p.watchers = kept
		p.mu.Unlock()
	}
}

// ErrNotOwner is returned by KillFor for a process not started for the
// member asking.
var ErrNotOwner = errors.New("not started for that member")

// KillFor ends the local process pid for the member owner, which may end
// only the processes of a program started for it (StartOptions.Owner),
// and those they spawned.
func (s *Scheduler) KillFor(owner string, pid PID) error {
	p := s.table.get(pid)
	if p == nil || p.external {
		return fmt.Errorf("%v: %w", pid, ErrNoProcess)
	}
	if owner == "" || p.group.owner != owner {
		return fmt.Errorf("%v: %w %q", pid, ErrNotOwner, owner)
	}
	s.kill(p, nil)
	return nil
}

// parkBacklogged holds p back, waiting, after a slice that ended
// Backlogged: on the outbox its last send found full, or on its output
// queue. It reports whether p waits; p has just yielded on a thread.
func (s *Scheduler) parkBacklogged(p *process) bool {
	b := p.backlog
	if b == nil {
		return p.group.out != nil && p.group.out.park(p)
	}
	p.backlog = nil
	if !p.markParked() {
		return false
	}
	s.outWaits.Add(1)
	if !b.Wait(func() { s.wakeFromOutput(p) }) {
		s.wakeFromOutput(p) // room already
	}
	return true
}

// SendContext sends msg to the process to from this mailbox, waiting
// while the outbox toward its node is full until ctx is done (see
// Scheduler.SendMessage).
func (mb *Mailbox) SendContext(ctx context.Context, to PID, msg vm.Message) error {
	return mb.p.s.SendMessage(ctx, mb.p.pid, to, msg)
}

// markParked marks p waiting on its output queue or an outbox, unless it
// has been killed (its thread ends it then), and reports whether it did.
// The caller counts it in outWaits.
func (p *process) markParked() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.killed.Load() {
		return false
	}
	p.outWait = true
	p.state.Store(stateWaiting)
	return true
}
