package filecmd

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
	"testing"
)

// runFile writes src to a file and runs it as iridium FILE does.
func runFile(t *testing.T, o RunOptions, src string) (int, string, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "procs.iasm")
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	status := Run(context.Background(), o, path, &stdout, &stderr)
	return status, stdout.String(), stderr.String()
}

func TestFileRunDeadlock(t *testing.T) {
	status, out, errOut := runFile(t, RunOptions{}, `
        load $0 @child
        spawn $0 $1
        prti $1
        recv $2 $3
        hlt
child:  recv $2 $3
        hlt
`)
	want := regexp.MustCompile(`^iridium: .*procs\.iasm: deadlock: 2 processes waiting for a message that nothing can send\n$`)
	if status != ExitDeadlock || out != "2\n" || !want.MatchString(errOut) {
		t.Errorf("status %d, stdout %q, stderr %q", status, out, errOut)
	}
}

func TestFileRunFaultInAnotherProcess(t *testing.T) {
	// The child faults only once it is monitored (a go from the first
	// process): on two threads it could otherwise end before monitor
	// runs, which gives reason 4 (no such process), not 1.
	status, out, errOut := runFile(t, RunOptions{Threads: 2}, `
        load $0 @bad
        spawn $0 $1
        monitor $1
        send $1 $1         ; go
        recv $2 $3
        prti $3            ; reason 1
        hlt
bad:    recv $6 $7
        load $5 #0
        div $5 $5 $5
`)
	want := regexp.MustCompile(`^iridium: .*procs\.iasm: process <2> \(procs\.iasm\) faulted: pc 36: div \$5 \$5 \$5: division by zero \(\$5 is 0\)\n$`)
	if status != ExitOK || out != "1\n" || !want.MatchString(errOut) {
		t.Errorf("status %d, stdout %q, stderr %q", status, out, errOut)
	}
}

func TestFileRunEndsWithFirstProcess(t *testing.T) {
	// A spinner on one thread neither starves the first process nor
	// keeps the run going after it ends.
	status, out, errOut := runFile(t, RunOptions{Threads: 1, Registers: true}, `
        load $0 @spin
        spawn $0 $1
        load $2 #5
        load $3 #0
        recvt $2 $3 $4     ; times out while the spinner spins
        prti $3
        hlt
spin:   jmp $0
`)
	if status != ExitOK || out != "-1\n$0 = 28\n$1 = 2\n$2 = 5\n$3 = -1\n" || errOut != "" {
		t.Errorf("status %d, stdout %q, stderr %q", status, out, errOut)
	}
}

func TestFileRunFirstProcessFaults(t *testing.T) {
	status, _, errOut := runFile(t, RunOptions{}, "load $0 #0\ndiv $0 $0 $0\n")
	want := regexp.MustCompile(`^iridium: .*procs\.iasm: pc 4: div \$0 \$0 \$0: division by zero \(\$0 is 0\)\n$`)
	if status != ExitFailure || !want.MatchString(errOut) {
		t.Errorf("status %d, stderr %q", status, errOut)
	}
}

func TestFileRunProcessExamples(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if status := Run(context.Background(), RunOptions{}, "../../docs/examples/ring.iasm", &stdout, &stderr); status != ExitOK || stdout.String() != "10\n20\n30\n" {
		t.Errorf("ring.iasm: status %d, stdout %q, stderr %q", status, stdout.String(), stderr.String())
	}
	stdout.Reset()
	if status := Run(context.Background(), RunOptions{}, "../../docs/examples/ping.iasm", &stdout, &stderr); status != ExitOK || stdout.String() != "42\n" {
		t.Errorf("ping.iasm: status %d, stdout %q, stderr %q", status, stdout.String(), stderr.String())
	}
	stdout.Reset()
	if status := Run(context.Background(), RunOptions{Threads: 2}, "../../docs/examples/server.iasm", &stdout, &stderr); status != ExitOK || stdout.String() != "15\n" {
		t.Errorf("server.iasm: status %d, stdout %q, stderr %q", status, stdout.String(), stderr.String())
	}
}

// TestFileRunStalledStdoutHoldsNoThread runs, on one scheduler thread, a
// program whose printer fills a stdout that is not read while another
// process computes and then faults (its message goes to stderr): the
// computing process still gets the thread and ends.
func TestFileRunStalledStdoutHoldsNoThread(t *testing.T) {
	path := "testdata/stall.iasm"
	stdout := testkit.NewStalledWriter()
	var stderr testkit.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan int, 1)
	go func() { ended <- Run(ctx, RunOptions{Threads: 1}, path, stdout, &stderr) }()
	defer func() {
		cancel()
		stdout.Release()
		<-ended
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "division by zero") {
		if time.Now().After(deadline) {
			t.Fatalf("the computing process did not end while stdout was stalled; stderr %q", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
