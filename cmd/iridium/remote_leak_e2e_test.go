package main

import (
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRemoteTerminalSessionsLeaveNoGoroutines: terminal sessions that end
// (by !quit, by Ctrl-D, by the client going away) leave no goroutine of
// line editing behind in the daemon, and the daemon runs no more
// goroutines after many of them than after one. The daemon's goroutines
// are read from the dump the Go runtime writes when SIGQUIT ends it.
func TestRemoteTerminalSessionsLeaveNoGoroutines(t *testing.T) {
	t.Parallel()
	one := goroutinesAfterTerminalSessions(t, 1)
	const many = 12
	after := goroutinesAfterTerminalSessions(t, many)
	t.Logf("daemon goroutines: %d after 1 terminal session, %d after %d", one, after, many)
	// A goroutine left per session would add at least many-1. The last
	// sessions' connections may still be closing when the dump is taken
	// (a few goroutines each, seen up to 6 in all under load), so the
	// bound is that of a leak, not of a settled count.
	if after-one >= many-1 {
		t.Errorf("%d goroutines after %d terminal sessions, %d after 1: one is left per session", after, many, one)
	}
}

// goroutinesAfterTerminalSessions starts a daemon, runs n terminal
// sessions on it one after the other, and returns how many goroutines the
// daemon runs then; it fails t if any is readline's.
func goroutinesAfterTerminalSessions(t *testing.T, n int) int {
	t.Helper()
	node, key := newRemoteNode(t)
	for i := 0; i < n; i++ {
		p := sshTerminal(t, node, key, "dumb")
		p.expect(">>> ")
		p.send("load $1 #3\r")
		p.expect("$1 = 3")
		switch i % 3 {
		case 0:
			p.send("!quit\r")
			p.wait()
		case 1:
			p.send("\x04")
			p.wait()
		case 2:
			p.send("load $2") // a line being edited when the client goes
			p.cmd.Process.Kill()
			p.wait()
		}
		expectStderr(t, node.nodeProc, `msg="session closed"`, waitFor)
	}
	node.sshOK(t, key, "!registers") // a session after the last, which has ended
	if err := node.cmd.Process.Signal(syscall.SIGQUIT); err != nil {
		t.Fatalf("SIGQUIT: %v", err)
	}
	select {
	case <-node.done:
	case <-time.After(waitFor):
		t.Fatalf("the daemon did not end %v after SIGQUIT", waitFor)
	}
	dump := node.stderr.buf.String()
	total := len(regexp.MustCompile(`(?m)^goroutine \d+ .*\[\w`).FindAllString(dump, -1))
	if total == 0 {
		t.Fatalf("no goroutine dump on the daemon's standard error after SIGQUIT:\n%s", dump)
	}
	if left := strings.Count(dump, "github.com/chzyer/readline."); left > 0 {
		t.Errorf("after %d terminal sessions ended the daemon still runs readline (%d frames):\n%s", n, left, dump)
	}
	return total
}
