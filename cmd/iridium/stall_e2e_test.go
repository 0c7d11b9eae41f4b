package main

import (
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// TestFileRunStalledStdoutPipe runs `iridium --threads 1 FILE` with its
// stdout a pipe that nobody reads: the printer fills it, and the worker
// on the one scheduler thread still runs to its end.
func TestFileRunStalledStdoutPipe(t *testing.T) {
	t.Parallel()
	path := "../../internal/filecmd/testdata/stall.iasm"
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
