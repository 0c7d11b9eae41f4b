package jobs

import (
	"context"
	"strings"
	"testing"

	"github.com/iridium-vm/iridium/internal/testkit"
	"github.com/iridium-vm/iridium/proc"
)

// printLotsSrc prints 1 to 30000, one a line, then ends.
const printLotsSrc = `.code
        load $0 #0
        load $1 #30000
loop:   inc $0
        prti $0
        neq $0 $1
        djmpe @loop
        hlt
`

// TestStalledOutputStopsNoOtherJob runs, on a scheduler of one thread, a
// job printing to a destination that never reads, and a second job that
// computes: the second ends; the first is killed and ends too, though
// its destination still does not read.
func TestStalledOutputStopsNoOtherJob(t *testing.T) {
	s := proc.New(proc.Config{Threads: 1, OutputLimit: 4 << 10})
	defer s.Close()
	tb := NewTableOn(s, 4)
	defer tb.Close()
	dst := testkit.NewStalledWriter()
	defer dst.Release()
	owner := NewOwner("me")
	printer, err := tb.Start(context.Background(), Spec{File: "print.iasm", Owner: owner, Program: program(t, printLotsSrc), Output: dst})
	if err != nil {
		t.Fatal(err)
	}
	<-dst.Entered

	var out testkit.Buffer
	compute := start(t, tb, owner, ".code\nload $0 #0\nload $1 #30000\ntop: inc $0\nneq $0 $1\ndjmpe @top\nprti $0\nhlt\n", &out)
	waitDone(t, compute)
	if st, _ := compute.Status(); st != Finished || strings.TrimSpace(out.String()) != "30000" {
		t.Errorf("the computing job is %v with output %q", st, out.String())
	}
	select {
	case <-printer.Done():
		t.Fatal("the printing job ended though its output was not read")
	default:
	}
	printer.Kill()
	waitDone(t, printer)
	if st, _ := printer.Status(); st != Killed {
		t.Errorf("the printing job is %v after the kill, want killed", st)
	}
}

// TestSlowOutputLosesNothing has a job print through a destination that
// reads slowly (every Write waits for the test): every line arrives.
func TestSlowOutputLosesNothing(t *testing.T) {
	s := proc.New(proc.Config{Threads: 1, OutputLimit: 1 << 10})
	defer s.Close()
	tb := NewTableOn(s, 4)
	defer tb.Close()
	var out testkit.Buffer
	j := start(t, tb, NewOwner("me"), printLotsSrc, &out)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := j.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 30000 || lines[0] != "1" || lines[29999] != "30000" {
		t.Fatalf("%d lines, want 30000 from 1 to 30000", len(lines))
	}
}
