package proc

import (
	"bytes"
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
	"github.com/iridium-vm/iridium/vm"
	"github.com/iridium-vm/iridium/vm/asm"
)

// printer prints 1 to 20000, one a line, and ends.
const printer = `
        load $0 #0
        load $1 #20000
loop:   inc $0
        prti $0
        neq $0 $1
        djmpe @loop
        hlt`

// TestStalledOutputHoldsNoThread runs, on one scheduler thread, a program
// that prints far more than its output queue holds to a destination that
// does not read, and a second program that computes: the second ends,
// the printer waits as data with its queue bounded, and once the
// destination reads again every line arrives, in order.
func TestStalledOutputHoldsNoThread(t *testing.T) {
	const limit = 4 << 10
	s := New(Config{Threads: 1, OutputLimit: limit})
	defer s.Close()
	dst := testkit.NewStalledWriter()
	printerProg, err := asm.Assemble("printer.iasm", printer)
	if err != nil {
		t.Fatal(err)
	}
	ph, err := s.Start(printerProg, StartOptions{Name: "printer", VM: vm.Config{Stdout: dst}})
	if err != nil {
		t.Fatal(err)
	}
	<-dst.Entered // the drain is stuck in the destination's Write

	_, ch, out, _ := startOn(t, s, `
        load $0 #0
        load $1 #30000
top:    inc $0
        neq $0 $1
        djmpe @top
        prti $0
        hlt`)
	select {
	case <-ch.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("a computing program did not end while another's output was stalled")
	}
	if got := out.String(); got != "30000\n" {
		t.Errorf("the computing program printed %q", got)
	}
	// The printer is parked on its queue, not running, and its queue
	// holds about the bound: one chunk in the stalled Write, less than
	// limit plus one line waiting.
	deadline := time.Now().Add(20 * time.Second)
	for ph.p.state.Load() != stateWaiting {
		if time.Now().After(deadline) {
			t.Fatalf("the printer is %s, not waiting for its output", stateNames[ph.p.state.Load()])
		}
		time.Sleep(time.Millisecond)
	}
	q := ph.p.group.out
	q.mu.Lock()
	queued, written := q.queued, q.written
	q.mu.Unlock()
	if pending := queued - written; pending > 2*limit+16 {
		t.Errorf("%d bytes queued past the destination, want at most about 2×%d", pending, limit)
	}
	select {
	case <-ph.Done():
		t.Fatal("the printer's Done closed while its output waits")
	default:
	}

	dst.Release()
	select {
	case <-ph.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the printer did not end once its output was read")
	}
	var want bytes.Buffer
	for i := 1; i <= 20000; i++ {
		want.WriteString(strconv.Itoa(i) + "\n")
	}
	if got := dst.String(); got != want.String() {
		t.Errorf("output lost or out of order: %d bytes, want %d", len(got), want.Len())
	}
	if err := ph.Flush(context.Background()); err != nil {
		t.Errorf("Flush = %v", err)
	}
}

// TestKillParkedOnOutput kills a program whose process waits for its
// output: it ends at once, with the destination still stalled.
func TestKillParkedOnOutput(t *testing.T) {
	s := New(Config{Threads: 1, OutputLimit: 1 << 10, DetectDeadlock: true})
	defer s.Close()
	dst := testkit.NewStalledWriter()
	defer dst.Release()
	p, err := asm.Assemble("printer.iasm", printer)
	if err != nil {
		t.Fatal(err)
	}
	h, err := s.Start(p, StartOptions{VM: vm.Config{Stdout: dst}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for h.p.state.Load() != stateWaiting {
		if time.Now().After(deadline) {
			t.Fatal("the printer never waited for its output")
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case <-s.Deadlocked():
		t.Fatal("a process waiting for its output was taken for a deadlock")
	default:
	}
	h.KillProgram()
	for s.Live() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the killed printer did not end")
		}
		time.Sleep(time.Millisecond)
	}
	if n := s.outWaits.Load(); n != 0 {
		t.Errorf("outWaits = %d after the kill, want 0", n)
	}
}

// startOn assembles src and starts it on s.
func startOn(t *testing.T, s *Scheduler, src string) (*Scheduler, *Handle, *syncBuffer, *syncBuffer) {
	t.Helper()
	p, err := asm.Assemble("test.iasm", src)
	if err != nil {
		t.Fatalf("assemble: %v", err)
	}
	var out, faults syncBuffer
	h, err := s.Start(p, StartOptions{Name: "test", VM: vm.Config{Stdout: &out}, Faults: &faults})
	if err != nil {
		t.Fatal(err)
	}
	return s, h, &out, &faults
}
