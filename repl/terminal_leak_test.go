package repl

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// Interactive shells on a Terminal (an SSH session's pseudo-terminal)
// begin and end many times in one process: each must leave no goroutine
// of readline's behind, however it ends. Before terminalSource.close let
// readline's input loop deliver its end of input, each ended shell left
// (*readline.Operation).ioloop blocked for ever.
func TestTerminalSessionsLeaveNoGoroutines(t *testing.T) {
	testkit.CheckGoroutines(t)
	endings := []struct {
		name string
		end  func(t *testing.T, sh *Shell, feed *io.PipeWriter, cancel context.CancelFunc)
	}{
		{"quit", func(t *testing.T, _ *Shell, feed *io.PipeWriter, _ context.CancelFunc) {
			write(t, feed, "!quit\r")
		}},
		{"input closed", func(t *testing.T, _ *Shell, feed *io.PipeWriter, _ context.CancelFunc) {
			feed.Close()
		}},
		{"input closed mid-line", func(t *testing.T, _ *Shell, feed *io.PipeWriter, _ context.CancelFunc) {
			write(t, feed, "1 + ")
			feed.Close()
		}},
		{"cancelled at the prompt", func(t *testing.T, _ *Shell, _ *io.PipeWriter, cancel context.CancelFunc) {
			cancel()
		}},
		{"cancelled mid-line", func(t *testing.T, _ *Shell, feed *io.PipeWriter, cancel context.CancelFunc) {
			write(t, feed, "1 + ")
			cancel()
		}},
		{"closed by its owner", func(t *testing.T, sh *Shell, feed *io.PipeWriter, _ context.CancelFunc) {
			write(t, feed, "1 + ")
			sh.Close()
		}},
	}
	const sessions = 20
	for i := 0; i < sessions; i++ {
		for _, e := range endings {
			runTerminalSession(t, e.name, e.end)
		}
	}
}

// runTerminalSession runs a shell on a Terminal, enters a line, ends the
// session with end and waits for Run to return.
func runTerminalSession(t *testing.T, name string, end func(*testing.T, *Shell, *io.PipeWriter, context.CancelFunc)) {
	t.Helper()
	in, feed := io.Pipe()
	defer in.Close()
	sh, err := New(Options{Stdin: in, Stdout: io.Discard, Stderr: io.Discard, Interactive: true, Terminal: fixedTerminal{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sh.Run(ctx) }()
	write(t, feed, "1 + 2\r")
	end(t, sh, feed, cancel)
	select {
	case err := <-done:
		if err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("%s: Run: %v", name, err)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: Run did not return 20 s after the session ended", name)
	}
	sh.Close()
}

func write(t *testing.T, w io.Writer, s string) {
	t.Helper()
	if _, err := io.WriteString(w, s); err != nil {
		t.Fatalf("writing %q: %v", s, err)
	}
}

// A line being edited when the terminal's input ends is not entered (as
// with a shell's Ctrl-D on a line that is not empty); the lines entered
// before it ran.
func TestTerminalInputEndDropsEditedLine(t *testing.T) {
	testkit.CheckGoroutines(t)
	in, feed := io.Pipe()
	defer in.Close()
	var out testkit.Buffer
	sh, err := New(Options{Stdin: in, Stdout: &out, Stderr: &out, Interactive: true, Terminal: fixedTerminal{}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sh.Run(context.Background()) }()
	write(t, feed, "load $1 #3\r")
	write(t, feed, "!nope")
	feed.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return 20 s after the input ended")
	}
	sh.Close()
	if got := out.String(); !strings.Contains(got, "$1 = 3") || strings.Contains(got, "unknown command") {
		t.Errorf("output %q: want the entered line's $1 = 3 and no run of the edited !nope", got)
	}
}
