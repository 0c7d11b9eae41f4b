package proc

import (
	"sync"
	"sync/atomic"
)

// tableShards spreads the process table over locks, so that threads
// sending to different processes rarely meet.
const tableShards = 64

// table maps the PIDs of this node's live processes to them.
type table struct {
	next   atomic.Uint32 // the last serial handed out
	shards [tableShards]struct {
		mu sync.RWMutex
		m  map[PID]*process
		_  [32]byte // keeps shards' locks off one cache line
	}
}

func (t *table) init() {
	for i := range t.shards {
		t.shards[i].m = make(map[PID]*process)
	}
}

func shardOf(pid PID) int { return int(pid.Serial() % tableShards) }

// insert gives p the next free PID and enters it.
func (t *table) insert(p *process) {
	for {
		serial := t.next.Add(1) % serialMask
		if serial == 0 {
			continue
		}
		pid := MakePID(0, serial)
		sh := &t.shards[shardOf(pid)]
		sh.mu.Lock()
		if _, used := sh.m[pid]; !used {
			p.pid = pid
			sh.m[pid] = p
			sh.mu.Unlock()
			return
		}
		sh.mu.Unlock()
	}
}

func (t *table) get(pid PID) *process {
	if pid.Node() != 0 || pid.Serial() == 0 {
		return nil
	}
	sh := &t.shards[shardOf(pid)]
	sh.mu.RLock()
	p := sh.m[pid]
	sh.mu.RUnlock()
	return p
}

func (t *table) remove(pid PID) {
	sh := &t.shards[shardOf(pid)]
	sh.mu.Lock()
	delete(sh.m, pid)
	sh.mu.Unlock()
}

// all returns every live process.
func (t *table) all() []*process {
	var out []*process
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.RLock()
		for _, p := range sh.m {
			out = append(out, p)
		}
		sh.mu.RUnlock()
	}
	return out
}
