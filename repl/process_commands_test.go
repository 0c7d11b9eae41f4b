package repl

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/proc"
)

// echoServer is a process that sends each integer it gets back to its
// sender, and adds one.
const echoServer = `
        load $0 @echo
        jmp $0
echo:   recv $10 $11
        from $12
        inc $11
        send $12 $11
        jmp $0
`

// pollInbox runs !inbox until its output holds want, for at most ten
// seconds.
func pollInbox(t *testing.T, ts *testShell, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(ts.out.String(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("no %q from !inbox; output:\n%s", want, ts.out)
		}
		ts.exec(t, "!inbox")
		time.Sleep(time.Millisecond)
	}
}

func TestShellIsAProcess(t *testing.T) {
	ts := newTestShell(t, "", Options{})
	path := writeFile(t, "echo.iasm", echoServer)
	ts.exec(t, "!self", "!proc "+path)
	if got := ts.out.String(); got != "<1>\n<2>\n" {
		t.Fatalf("!self and !proc printed %q, want <1> and <2>", got)
	}
	ts.exec(t, "!send <2> 41", "!send <2> <1>")
	pollInbox(t, ts, "<2>: 42\n")
	ts.exec(t, "!ps")
	for _, want := range []string{"PID  PROGRAM", "<1>  shell local  outside", "<2>  echo.iasm"} {
		if !strings.Contains(ts.out.String(), want) {
			t.Errorf("!ps: no %q in\n%s", want, ts.out)
		}
	}
	ts.exec(t, "!kill <2>", "!wait <2>")
	if err := ts.Execute(context.Background(), "!kill <2>"); err == nil || !strings.Contains(err.Error(), "no such process") {
		t.Errorf("!kill of a killed process: %v", err)
	}
}

func TestShellProcessErrors(t *testing.T) {
	ts := newTestShell(t, "", Options{})
	for line, want := range map[string]string{
		"!send <9> 1":    "!send: <9>: no such process",
		"!send 9 1":      "!send: <9>: no such process", // the brackets may be left out
		"!send <1> x":    `!send: "x" is neither a 32-bit integer nor a PID like <7>`,
		"!kill <9>":      "!kill: <9>: no such process",
		"!kill <0>":      "!kill: bad PID",
		"!wait <9>":      "!wait: <9>: no such process",
		"!kill <1>":      "!kill: <1>: no such process", // the shell itself
		"!send <1> <0.>": "!send: bad PID",
	} {
		err := ts.Execute(context.Background(), line)
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want %q", line, err, want)
		}
	}
}

func TestShellWaitForFaultedProcess(t *testing.T) {
	ts := newTestShell(t, "", Options{})
	path := writeFile(t, "bad.iasm", "load $0 #0\nrecv $1 $2\ndiv $0 $0 $0\n")
	ts.exec(t, "!proc "+path, "!send <2> 1")
	err := ts.Execute(context.Background(), "!wait <2>")
	if err == nil || !strings.Contains(err.Error(), "<2> faulted: pc 8: div $0 $0 $0: division by zero") {
		t.Errorf("!wait: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(ts.err.String(), "process <2> (bad.iasm) faulted") {
		if time.Now().After(deadline) {
			t.Fatalf("no fault message on stderr: %q", ts.err)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestShellCloseKillsItsProcesses(t *testing.T) {
	sched := proc.New(proc.Config{})
	t.Cleanup(sched.Close)
	ts := newTestShell(t, "", Options{Procs: sched})
	path := writeFile(t, "spin.iasm", "load $0 @spin\nspawn $0 $1\nspin: jmp $0\n")
	ts.exec(t, "!proc "+path)
	ts.Close()
	deadline := time.Now().Add(10 * time.Second)
	for len(sched.Processes()) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("processes %+v left after the shell closed", sched.Processes())
		}
		time.Sleep(time.Millisecond)
	}
}
