package proc

import (
	"context"

	"github.com/iridium-vm/iridium/vm"
)

// Mailbox is a process without a VM: a PID and a mailbox for something
// outside the scheduler, such as a shell, to receive messages and send
// them. Processes send to it as to any other; it never runs, and it does
// not count toward a deadlock.
type Mailbox struct {
	p *process
}

// Attach makes a Mailbox named name, shown so by Processes.
func (s *Scheduler) Attach(name string) *Mailbox {
	p := &process{s: s, group: &group{name: name}, external: true}
	p.state.Store(stateWaiting)
	s.table.insert(p)
	return &Mailbox{p: p}
}

// PID returns the mailbox's PID.
func (mb *Mailbox) PID() PID { return mb.p.pid }

// Take removes and returns every message waiting, oldest first.
func (mb *Mailbox) Take() []vm.Message {
	p := mb.p
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []vm.Message
	for p.mbox.len() > 0 {
		msg := p.mbox.pop()
		if b := p.s.cfg.Budget; b != nil {
			b.Release(int64(messageCost + len(msg.Bytes)))
		}
		out = append(out, msg)
	}
	return out
}

// Send sends the integer value to the process to, from this mailbox.
func (mb *Mailbox) Send(to PID, value int32) error {
	return mb.p.s.sendFrom(mb.p.pid, to, vm.Message{Kind: vm.MsgInt, Value: value})
}

// SendPID sends the PID pid to the process to, from this mailbox.
func (mb *Mailbox) SendPID(to, pid PID) error {
	return mb.p.s.sendFrom(mb.p.pid, to, vm.Message{Kind: vm.MsgPID, Value: int32(pid)})
}

// Close ends the mailbox: its monitors get a down notice, reason normal.
func (mb *Mailbox) Close() {
	p := mb.p
	p.mu.Lock()
	if p.state.Load() == stateEnded {
		p.mu.Unlock()
		return
	}
	p.state.Store(stateEnded)
	watchers := p.watchers
	p.watchers = nil
	p.mu.Unlock()
	p.s.table.remove(p.pid)
	p.s.names.forget(p)
	p.s.notifyDown(p.pid, watchers, Normal)
}

// sendFrom delivers msg from outside the processes, as from, to to. To
// a process of another node it waits while the outbox toward that node
// is full: until there is room or the link drops (SendMessage takes a
// context).
func (s *Scheduler) sendFrom(from, to PID, msg vm.Message) error {
	return s.SendMessage(context.Background(), from, to, msg)
}

// notifyDown sends the down notice of pid, ended for reason, to its
// watchers.
func (s *Scheduler) notifyDown(pid PID, watchers []PID, reason Reason) {
	for _, w := range watchers {
		s.deliver(w, vm.Message{Kind: vm.MsgDown, Value: int32(reason), From: int32(pid)}, nil)
	}
}
