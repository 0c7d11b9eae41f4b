package proc

import (
	"sync"
	"sync/atomic"
)

// The process table is a two-level array indexed by a PID's serial: a
// chunk of chunkSize slots for each run of serials that has a live
// process, made when the first is entered and dropped when the last ends.
// Looking a PID up takes no lock; it costs 8 bytes a process, and serials
// are handed out in turn, so the live processes fill few chunks.
const (
	chunkBits = 12
	chunkSize = 1 << chunkBits
	numChunks = 1 << (serialBits - chunkBits)
)

type chunk struct {
	live  int // processes in it; under table.mu
	slots [chunkSize]atomic.Pointer[process]
}

// table maps the PIDs of this node's live processes to them.
type table struct {
	mu     sync.Mutex // held to enter or remove a process, or make or drop a chunk
	next   uint32     // the last serial handed out
	chunks [numChunks]atomic.Pointer[chunk]
}

// insert gives p the next free PID and enters it.
func (t *table) insert(p *process) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		t.next = (t.next + 1) & serialMask
		if t.next == 0 {
			continue
		}
		c := t.chunks[t.next>>chunkBits].Load()
		if c == nil {
			c = new(chunk)
			t.chunks[t.next>>chunkBits].Store(c)
		}
		slot := &c.slots[t.next&(chunkSize-1)]
		if slot.Load() != nil {
			continue // still in use after a wrap: the next
		}
		p.pid = MakePID(0, t.next)
		slot.Store(p)
		c.live++
		return
	}
}

// get returns the live process pid, or nil.
func (t *table) get(pid PID) *process {
	if pid.Node() != 0 {
		return nil
	}
	serial := pid.Serial()
	c := t.chunks[serial>>chunkBits].Load()
	if c == nil {
		return nil
	}
	return c.slots[serial&(chunkSize-1)].Load()
}

// remove takes pid out of the table.
func (t *table) remove(pid PID) {
	serial := pid.Serial()
	t.mu.Lock()
	defer t.mu.Unlock()
	c := t.chunks[serial>>chunkBits].Load()
	if c == nil || c.slots[serial&(chunkSize-1)].Load() == nil {
		return
	}
	c.slots[serial&(chunkSize-1)].Store(nil)
	c.live--
	if c.live == 0 && serial>>chunkBits != t.next>>chunkBits {
		t.chunks[serial>>chunkBits].Store(nil) // not the chunk being filled
	}
}

// all returns every live process.
func (t *table) all() []*process {
	var out []*process
	for i := range t.chunks {
		c := t.chunks[i].Load()
		if c == nil {
			continue
		}
		for j := range c.slots {
			if p := c.slots[j].Load(); p != nil {
				out = append(out, p)
			}
		}
	}
	return out
}
