package proc

import (
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
	"github.com/iridium-vm/iridium/vm"
)

// waitIdle waits until the program's first process waits for a message
// and every scheduler thread of s is parked.
func waitIdle(t *testing.T, s *Scheduler, h *Handle) {
	t.Helper()
	testkit.Eventually(t, 5*time.Second, "the process waits and the thread parks", func() bool {
		for _, in := range s.Processes() {
			if in.PID == h.PID() && in.State != "waiting" {
				return false
			}
		}
		return int(s.idle.Load()) == s.Threads()
	})
}

// A Runner's delivery wakes no scheduler thread while they idle: the
// process it wakes runs in Run, on the caller's goroutine, and has ended
// when Run returns (its Done closes once its output is out).
func TestRunnerRunsTheProcessItWakes(t *testing.T) {
	s, h, out, _ := start(t, Config{Threads: 1}, `
        recv $1 $2
        prti $2
        hlt
`)
	waitIdle(t, s, h)
	r := s.NewRunner()
	r.Deliver(h.PID(), vm.Message{Kind: vm.MsgInt, Value: 42})
	if got := s.idle.Load(); got != 1 {
		t.Fatalf("%d threads idle after the delivery, want the one, not woken", got)
	}
	r.Release()
	for _, in := range s.Processes() {
		if in.PID == h.PID() {
			t.Fatalf("the process woken is still %s when Run returns", in.State)
		}
	}
	select {
	case <-h.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the process never ended")
	}
	if got := out.String(); got != "42\n" {
		t.Errorf("output %q, want 42", got)
	}
}

// A process woken by a Runner that keeps running gets one slice on the
// caller's goroutine; then the scheduler threads run it, and Run
// returns.
func TestRunnerGivesOneSlice(t *testing.T) {
	s, h, _, _ := start(t, Config{Threads: 1}, `
        load $0 @spin
        recv $1 $2
spin:   jmp $0
`)
	waitIdle(t, s, h)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := s.NewRunner()
		r.Deliver(h.PID(), vm.Message{Kind: vm.MsgInt, Value: 1})
		r.Release()
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run still runs a process that does not stop")
	}
	first := uint64(0)
	seen := false
	testkit.Eventually(t, 5*time.Second, "the process runs on after Run", func() bool {
		for _, in := range s.Processes() {
			if in.PID != h.PID() {
				continue
			}
			if !seen {
				first, seen = in.Reductions, true
			}
			return in.Reductions > first
		}
		return false
	})
}

// With no scheduler thread idle, a Runner runs nothing itself: the work
// goes to the threads' queues, where the busy threads take it.
func TestRunnerLeavesWorkToBusyThreads(t *testing.T) {
	s, h, out, _ := start(t, Config{Threads: 1}, `
        load $0 @spin
        spawn $0 $9
        recv $1 $2
        prti $2
        hlt
spin:   jmp $0
`)
	testkit.Eventually(t, 5*time.Second, "the first process waits while the spinner runs", func() bool {
		for _, in := range s.Processes() {
			if in.PID == h.PID() {
				return in.State == "waiting" && s.idle.Load() == 0
			}
		}
		return false
	})
	r := s.NewRunner()
	r.Deliver(h.PID(), vm.Message{Kind: vm.MsgInt, Value: 7})
	r.Release()
	select {
	case <-h.Done():
		t.Fatal("the Runner ran the process although no thread idled")
	default:
	}
	select {
	case <-h.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the thread never ran the delivered process")
	}
	if got := out.String(); got != "7\n" {
		t.Errorf("output %q, want 7", got)
	}
}

// A thread that finds work after it listed itself idle, when a wake-up
// took it off the list in between, takes that wake-up's token: otherwise
// its next park returns at once and lists it twice, and the idle count
// says more threads sleep than there are (a Runner then runs work a
// sleeping thread should have been woken for, and the test above waited
// for an idle count of 1 that stayed at 2).
func TestThreadWokenWhileFindingWorkListsItselfOnce(t *testing.T) {
	s := &Scheduler{} // no thread runs: the test plays the one
	w := &worker{s: s, wake: make(chan struct{}, 1)}
	s.workers = []*worker{w}
	w.listIdle()
	s.wakeOne() // another thread readies a process here
	w.unlistIdle()
	if n := len(w.wake); n != 0 {
		t.Fatalf("%d wake-up tokens left for the thread, want 0", n)
	}
	w.listIdle()
	if got := s.idle.Load(); got != 1 {
		t.Fatalf("idle count %d after one thread listed itself, want 1", got)
	}
	w.unlistIdle()
	if got, n := s.idle.Load(), len(s.idlers); got != 0 || n != 0 {
		t.Fatalf("idle count %d, %d listed, after the thread unlisted itself, want 0", got, n)
	}
}
