package cluster

import (
	"sync"
	"time"
)

// slotTimer is probeLoop's one timer: set for a time from any
// goroutine, waited on by the loop alone. Set replaces the time it was
// set for, sooner or later.
type slotTimer interface {
	// set makes the timer fire d from now (at once if d <= 0).
	set(d time.Duration)
	// wait blocks until the timer fires; it reports false once the
	// timer is closed.
	wait() bool
	// close ends the timer, and a wait in progress.
	close()
}

// goTimer is a slotTimer on the Go runtime's timers, for systems
// without timerfd (slottimer_linux.go says why Linux has its own).
type goTimer struct {
	t      *time.Timer
	done   chan struct{}
	closer sync.Once
}

func newGoTimer() *goTimer {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &goTimer{t: t, done: make(chan struct{})}
}

func (g *goTimer) set(d time.Duration) { g.t.Reset(d) }

func (g *goTimer) wait() bool {
	select {
	case <-g.t.C:
		return true
	case <-g.done:
		return false
	}
}

func (g *goTimer) close() {
	g.closer.Do(func() {
		g.t.Stop()
		close(g.done)
	})
}
