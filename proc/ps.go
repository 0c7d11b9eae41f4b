package proc

import (
	"cmp"
	"slices"
)

// Info describes a process for a listing such as the shell's !ps.
type Info struct {
	PID        PID
	Program    string
	State      string // running, runnable, waiting, or outside for a Mailbox
	Reductions uint64 // instructions run
	Mailbox    int    // messages waiting in its mailbox
	Dropped    uint64 // messages dropped at its full mailbox
	Memory     int64  // bytes: its VM (as of its last turn) and its mailbox
}

// Processes lists the live processes in PID order.
func (s *Scheduler) Processes() []Info {
	var out []Info
	for _, p := range s.table.all() {
		p.mu.Lock()
		st := p.state.Load()
		in := Info{PID: p.pid, Program: p.group.name, State: stateNames[st], Reductions: p.reductions.Load(),
			Mailbox: p.mbox.len(), Dropped: p.dropped, Memory: p.memory.Load() + int64(cap(p.mbox.buf))*messageCost}
		p.mu.Unlock()
		if p.external {
			in.State = "outside"
		}
		if st != stateEnded {
			out = append(out, in)
		}
	}
	slices.SortFunc(out, func(a, b Info) int { return cmp.Compare(uint32(a.PID), uint32(b.PID)) })
	return out
}
