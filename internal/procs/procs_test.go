package procs

import (
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// fakeRuntime records what a Governor sets GOMAXPROCS to.
type fakeRuntime struct {
	mu   sync.Mutex
	sets []int
}

func (f *fakeRuntime) set(n int) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets = append(f.sets, n)
	return 0
}

func (f *fakeRuntime) calls() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sets)
}

func TestGovernorRaisesForProgramsAndLowersWhenIdle(t *testing.T) {
	var rt fakeRuntime
	g := newGovernor(4, 20*time.Millisecond, rt.set)
	defer g.Close()
	if got := rt.calls(); !slices.Equal(got, []int{1}) {
		t.Fatalf("at start: set %v, want [1]", got)
	}
	g.RunStarted()
	g.RunStarted() // a second program: already raised
	if got := rt.calls(); !slices.Equal(got, []int{1, 4}) {
		t.Fatalf("two programs started: set %v, want [1 4]", got)
	}
	g.RunEnded()
	start := time.Now()
	for time.Since(start) < 100*time.Millisecond { // one still runs: never lowered
		if got := rt.calls(); len(got) != 2 {
			t.Fatalf("lowered while a program runs: set %v", got)
		}
		time.Sleep(5 * time.Millisecond)
	}
	g.RunEnded()
	testkit.Eventually(t, 5*time.Second, "GOMAXPROCS back to 1 once idle", func() bool { return slices.Equal(rt.calls(), []int{1, 4, 1}) })
}

func TestGovernorStaysRaisedWhileProgramsKeepComing(t *testing.T) {
	var rt fakeRuntime
	g := newGovernor(2, time.Hour, rt.set)
	defer g.Close()
	for range 1000 { // REPL lines, one after another
		g.RunStarted()
		g.RunEnded()
	}
	if got := rt.calls(); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("1000 programs in a row: set %v, want [1 2] (raised once, not lowered before the idle time)", got)
	}
}

func TestGovernorCloseGivesEveryProcessorBack(t *testing.T) {
	var rt fakeRuntime
	g := newGovernor(3, time.Hour, rt.set)
	g.Close()
	g.RunStarted()
	g.RunEnded()
	if got := rt.calls(); !slices.Equal(got, []int{1, 3}) {
		t.Fatalf("set %v, want [1 3]: lowered at start, all back at Close, then nothing", got)
	}
}

func TestGovernorOnOneProcessorChangesNothing(t *testing.T) {
	var rt fakeRuntime
	g := newGovernor(1, time.Millisecond, rt.set)
	g.RunStarted()
	g.RunEnded()
	g.Close()
	if got := rt.calls(); len(got) != 0 {
		t.Fatalf("set %v on a one-processor machine, want nothing", got)
	}
}
