// Package procs sizes the Go runtime to what a node is doing. A node
// that runs no program only waits on its cluster links, its sessions and
// its terminal, and one processor serves that best: with more, every
// wake-up of the process also wakes idle threads to look for work. So a
// Governor keeps GOMAXPROCS at 1 while no program runs, raises it to the
// machine's count when a program starts, and lowers it again once no
// program has run for a while.
package procs

import (
	"runtime"
	"sync"
	"time"
)

// DefaultIdleAfter is how long after the last program ends a Governor
// lowers GOMAXPROCS to 1.
const DefaultIdleAfter = 10 * time.Second

// Governor sets GOMAXPROCS by the programs running. It implements
// vm.RunObserver; its methods are safe for concurrent use.
type Governor struct {
	busy      int           // GOMAXPROCS while programs run
	idleAfter time.Duration // wait after the last program before lowering
	set       func(int) int // runtime.GOMAXPROCS; tests replace it

	mu      sync.Mutex
	running int         // programs running now
	raised  bool        // GOMAXPROCS is busy, not 1
	lastEnd time.Time   // when the last program ended
	timer   *time.Timer // lowers GOMAXPROCS; nil when not pending
	closed  bool
}

// New returns a Governor that uses busy processors while programs run
// and one otherwise, lowering idleAfter after the last program ends. It
// sets GOMAXPROCS to 1 now. With busy at most 1 it changes nothing.
func New(busy int, idleAfter time.Duration) *Governor {
	return newGovernor(busy, idleAfter, runtime.GOMAXPROCS)
}

func newGovernor(busy int, idleAfter time.Duration, set func(int) int) *Governor {
	g := &Governor{busy: busy, idleAfter: idleAfter, set: set}
	if busy > 1 {
		set(1)
	}
	return g
}

// RunStarted raises GOMAXPROCS for a program that starts, if it is not
// raised already.
func (g *Governor) RunStarted() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running++
	if !g.raised && !g.closed && g.busy > 1 {
		g.set(g.busy)
		g.raised = true
	}
}

// RunEnded notes that a program ended; once none has run for idleAfter,
// GOMAXPROCS goes back to 1.
func (g *Governor) RunEnded() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running--
	g.lastEnd = time.Now()
	if g.running == 0 && g.raised && g.timer == nil && !g.closed {
		g.timer = time.AfterFunc(g.idleAfter, g.lower)
	}
}

// lower sets GOMAXPROCS to 1 if no program ran for idleAfter, else waits
// for the rest of that time.
func (g *Governor) lower() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.timer = nil
	if g.running > 0 || !g.raised || g.closed {
		return
	}
	if wait := g.idleAfter - time.Since(g.lastEnd); wait > 0 {
		g.timer = time.AfterFunc(wait, g.lower)
		return
	}
	g.set(1)
	g.raised = false
}

// Close stops the Governor and gives the runtime every processor back.
func (g *Governor) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return
	}
	g.closed = true
	if g.timer != nil {
		g.timer.Stop()
		g.timer = nil
	}
	if g.busy > 1 && !g.raised {
		g.set(g.busy)
		g.raised = true
	}
}
