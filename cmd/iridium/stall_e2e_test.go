package main

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// stallSrc spawns a printer that prints without end and a worker that
// counts to 600,000 and then faults: its fault message, on stderr, says
// that it ran to its end.
const stallSrc = `
        load $0 @print
        spawn $0 $1
        load $0 @work
        spawn $0 $1
        recv $2 $3         ; waits until the test stops the run
work:   load $3 #30000
        load $6 #0
        load $7 #20
outer:  load $2 #0
inner:  inc $2
        neq $2 $3
        djmpe @inner
        inc $6
        neq $6 $7
        djmpe @outer
        load $5 #0
        div $5 $5 $5
print:  load $4 #7
        load $5 @again
again:  prti $4
        jmp $5
`

// TestFileRunStalledStdoutPipe runs `iridium --threads 1 FILE` with its
// stdout a pipe that nobody reads: the printer fills it, and the worker
// on the one scheduler thread still runs to its end.
func TestFileRunStalledStdoutPipe(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "stall.iasm")
	if err := os.WriteFile(path, []byte(stallSrc), 0o644); err != nil {
		t.Fatal(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer outR.Close()
	cmd := exec.Command(iridiumBin, "--threads", "1", path)
	cmd.Stdout = outW
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	outW.Close()
	var stderr testkit.Buffer
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		_, _ = io.Copy(&stderr, errPipe)
	}()
	defer func() {
		_ = cmd.Process.Kill()
		<-copied
		_ = cmd.Wait()
	}()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(stderr.String(), "division by zero") {
		if time.Now().After(deadline) {
			t.Fatalf("the worker did not end while stdout was not read; stderr %q", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
}
