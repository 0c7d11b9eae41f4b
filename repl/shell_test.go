package repl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// TestRunScript runs whole scripts: errors name their line on stderr, the
// result says whether a line failed, --fail-fast stops at the first.
func TestRunScript(t *testing.T) {
	hello := writeFile(t, "hello.iasm", helloSrc)
	tests := []struct {
		name       string
		input      string
		failFast   bool
		wantErr    error
		wantOut    string
		wantStderr string
	}{
		{"clean script", "load $0 #1\n\n; a comment\n!registers\n", false, nil, "$0 = 1\n", ""},
		{"no final newline", "load $0 #2\n!registers", false, nil, "$0 = 2\n", ""},
		{"CRLF line endings", "load $0 #3\r\n!registers\r\n", false, nil, "$0 = 3\n", ""},
		{"errors name lines and go on", "load $0 #1\nlod $1 #1\n!nope\n!registers\n", false, ErrFailed, "$0 = 1\n",
			"line 2: col 1: unknown mnemonic \"lod\"; did you mean load?\n    lod $1 #1\n    ^\nline 3: unknown command !nope (!help lists the commands)\n"},
		{"fail fast", "lod $1 #1\nload $0 #1\n!registers\n", true, ErrFailed, "", "line 1: col 1: unknown mnemonic"},
		{"quit stops reading", "load $0 #1\n!quit\n!nope\n", false, nil, "", ""},
		{"quit after failure still fails", "!nope\n!quit\n", false, ErrFailed, "", "line 1: unknown command"},
		{"load_file asks for its path", "!load_file\n" + hello + "\nprts @hello\n", false, nil, "Hello, world!\nHello, world!\n", ""},
		{"path line counts", "!load_file\n" + hello + ".missing\n", false, ErrFailed, "", "line 2: !load_file: " + hello + ".missing: no such file"},
		{"empty path", "!spawn\n\n", false, ErrFailed, "", "line 2: !spawn: no path given\n"},
		{"program output gets its line ended", ".data\nx: .asciiz 'abc'\n.code\nprts @x\n!registers\n", false, nil, "abc\n(every register is 0)\n", ""},
		{"program output composes across lines", ".data\nx: .asciiz 'ab'\n.code\nprts @x\nprts @x\n", false, nil, "abab\n", ""},
		{"fault names its line", "load $1 #0\ndiv $0 $1 $2\n", false, ErrFailed, "", "line 2: fault: pc 4: div $0 $1 $2: division by zero ($1 is 0)\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := newTestShell(t, tt.input, Options{FailFast: tt.failFast})
			err := ts.Run(context.Background())
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Run: %v, want %v; stderr:\n%s", err, tt.wantErr, ts.err.String())
			}
			if tt.wantOut != "" && !strings.Contains(ts.out.String(), tt.wantOut) {
				t.Errorf("stdout\n%s\nwant it to contain\n%s", ts.out.String(), tt.wantOut)
			}
			if tt.wantStderr != "" && !strings.Contains(ts.err.String(), tt.wantStderr) {
				t.Errorf("stderr\n%s\nwant it to contain\n%s", ts.err.String(), tt.wantStderr)
			}
			if tt.wantStderr == "" && ts.err.String() != "" {
				t.Errorf("stderr\n%s\nwant nothing", ts.err.String())
			}
		})
	}
}

// TestRunFailFastStopsReading checks that nothing after the failed line
// runs with --fail-fast.
func TestRunFailFastStopsReading(t *testing.T) {
	ts := newTestShell(t, "!nope\nload $0 #1\n", Options{FailFast: true})
	if err := ts.Run(context.Background()); !errors.Is(err, ErrFailed) {
		t.Fatalf("Run: %v, want ErrFailed", err)
	}
	if got := ts.vm.Registers()[0]; got != 0 {
		t.Fatalf("$0 = %d: the line after the failure ran", got)
	}
}

// TestRunCancelledWhileReading checks that a cancelled context ends Run
// even while the input blocks.
func TestRunCancelledWhileReading(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	sh, err := New(Options{Stdin: r})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- sh.Run(ctx) }()
	if _, err := io.WriteString(w, "load $0 #1\n"); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("Run: %v, want context.Canceled", err)
	}
}

// TestJobs spawns programs: output and the end announcement arrive, !jobs
// lists them, !wait fails for a fault, !kill stops an endless one.
func TestJobs(t *testing.T) {
	hello := writeFile(t, "hello.iasm", helloSrc)
	helloBC := writeBytecode(t, "hello.irb", helloSrc)
	endless := writeFile(t, "endless.iasm", endlessSrc)
	fault := writeFile(t, "fault.iasm", faultSrc)
	ts := newTestShell(t, "", Options{})

	ts.exec(t, "!spawn "+hello, "!spawn "+helloBC, "!wait")
	out := ts.out.String() + ts.err.String() // started on stdout, finished on stderr
	for _, want := range []string{"[job 1] " + hello + " started, process <1>\n", "[job 2] " + helloBC + " started, process <2>\n",
		"[job 1] " + hello + " finished\n", "[job 2] " + helloBC + " finished\n"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout\n%s\nwant %q", out, want)
		}
	}
	if n := strings.Count(out, "Hello, world!\n"); n != 2 {
		t.Errorf("stdout has %d hellos, want 2:\n%s", n, out)
	}

	ts.exec(t, "!spawn "+fault)
	err := ts.Execute(context.Background(), "!wait 3")
	if err == nil || !strings.Contains(err.Error(), "!wait: job 3 ("+fault+") faulted: pc 4: div $0 $1 $2: division by zero") {
		t.Fatalf("!wait 3: %v, want the fault", err)
	}
	if !strings.Contains(ts.err.String(), "[job 3] "+fault+" faulted: pc 4") {
		t.Errorf("stderr\n%s\nwant the fault announced", ts.err.String())
	}

	ts.exec(t, "!wait") // job 3's fault was reported by !wait 3

	ts.exec(t, "!spawn "+fault)
	waitJob(t, ts, 4)
	if !strings.Contains(ts.err.String(), "[job 4] "+fault+" faulted") {
		t.Fatalf("stderr\n%s\nwant job 4's fault announced", ts.err.String())
	}
	if err := ts.Execute(context.Background(), "!wait"); err == nil || !strings.Contains(err.Error(), "job 4") {
		t.Fatalf("!wait after job 4 faulted: %v, want its fault", err)
	}
	ts.exec(t, "!wait") // reported once

	ts.exec(t, "!spawn "+endless, "!jobs")
	if !hasFields(ts.out.String(), "5", "running", "local", "(you)", endless) {
		t.Fatalf("!jobs:\n%s\nwant job 5 running", ts.out.String())
	}
	ts.exec(t, "!kill 5", "!jobs")
	if !strings.Contains(ts.err.String(), "[job 5] "+endless+" killed") || !hasFields(ts.out.String(), "5", "killed", "local", "(you)", endless) {
		t.Fatalf("stdout:\n%s\nstderr:\n%s\nwant job 5 killed", ts.out.String(), ts.err.String())
	}
	if err := ts.Execute(context.Background(), "!kill 5"); err == nil || !strings.Contains(err.Error(), "has already stopped (killed)") {
		t.Fatalf("second !kill 5: %v", err)
	}
	if err := ts.Execute(context.Background(), "!kill 1"); err == nil || !strings.Contains(err.Error(), "has already stopped (finished)") {
		t.Fatalf("!kill of a finished job: %v", err)
	}
}

// TestCloseKillsJobs checks that closing the shell stops running jobs and
// leaves no goroutine behind.
func TestCloseKillsJobs(t *testing.T) {
	endless := writeFile(t, "endless.iasm", endlessSrc)
	before := runtime.NumGoroutine()
	ts := newTestShell(t, "!spawn "+endless+"\n!spawn "+endless+"\n", Options{})
	if err := ts.Run(context.Background()); err != nil {
		t.Fatalf("Run: %v", err)
	}
	out := ts.err.String() // a script gets job notifications on stderr
	if !strings.Contains(out, "[job 1] "+endless+" killed") || !strings.Contains(out, "[job 2] "+endless+" killed") {
		t.Fatalf("stderr:\n%s\nwant both jobs killed", out)
	}
	testkit.EventuallyNil(t, waitTimeout, "the jobs' goroutines to end", func() error {
		if n := runtime.NumGoroutine(); n > before {
			return fmt.Errorf("%d goroutines, %d before the shell started", n, before)
		}
		return nil
	})
}

// TestWaitInterrupted checks that Interrupt ends !wait and leaves the job
// running.
func TestWaitInterrupted(t *testing.T) {
	endless := writeFile(t, "endless.iasm", endlessSrc)
	ts := newTestShell(t, "", Options{})
	ts.exec(t, "!spawn "+endless)
	done := make(chan error, 1)
	go func() { done <- ts.Execute(context.Background(), "!wait") }()
	err := interruptUntil(t, ts, "!wait", done)
	if !errors.Is(err, errInterrupted) {
		t.Fatalf("!wait: %v, want interrupted", err)
	}
	ts.exec(t, "!jobs")
	if !strings.Contains(ts.out.String(), "running") {
		t.Fatalf("!jobs:\n%s\nwant the job still running", ts.out.String())
	}
}

// TestNotify checks that a script gets asynchronous messages on stderr,
// leaving stdout (here a line that program output left open) as it was.
func TestNotify(t *testing.T) {
	ts := newTestShell(t, "", Options{})
	ts.exec(t, ".data", "x: .asciiz 'abc'", ".code", "prts @x")
	done := make(chan struct{})
	go func() { ts.Notify("[cluster] node b joined"); close(done) }()
	<-done
	if got, want := ts.out.String(), "abc"; got != want {
		t.Fatalf("stdout %q, want %q", got, want)
	}
	if got, want := ts.err.String(), "[cluster] node b joined\n"; got != want {
		t.Fatalf("stderr %q, want %q", got, want)
	}
}

// TestColor checks that colour is used when asked for, and only then.
func TestColor(t *testing.T) {
	for _, useColor := range []bool{false, true} {
		ts := newTestShell(t, "", Options{Color: useColor})
		ts.Execute(context.Background(), "!nope")
		ts.Notify("note")
		if got := strings.Contains(ts.err.String(), "\x1b["); got != useColor {
			t.Errorf("Color %v: stderr %q", useColor, ts.err.String())
		}
	}
}

// TestPrepareHistory checks that the data directory and history file are
// made private, and that a directory that cannot be made is reported.
func TestPrepareHistory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	path, err := prepareHistory(dir)
	if err != nil || path != filepath.Join(dir, "history") {
		t.Fatalf("prepareHistory: %q, %v", path, err)
	}
	for name, want := range map[string]os.FileMode{dir: 0o700, path: 0o600} {
		if fi, err := os.Stat(name); err != nil || fi.Mode().Perm() != want {
			t.Errorf("%s: %v, want mode %v", name, err, want)
		}
	}
	file := writeFile(t, "plain", "")
	if path, err := prepareHistory(filepath.Join(file, "sub")); err == nil || path != "" {
		t.Fatalf("data dir under a file: %q, %v; want an error", path, err)
	}
	if path, err := prepareHistory(""); err != nil || path != "" {
		t.Fatalf("no data dir: %q, %v", path, err)
	}
	// A history file too large to read at start is not used, and the
	// warning says why (a sparse file: its size costs no disk).
	bigDir := t.TempDir()
	f, err := os.Create(filepath.Join(bigDir, "history"))
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxHistoryFile + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if path, err := prepareHistory(bigDir); err == nil || path != "" || !strings.Contains(err.Error(), "over the limit") {
		t.Fatalf("a history file over the limit: %q, %v; want an error saying so", path, err)
	}
}

// TestLineWriter checks that output is passed on by whole lines.
func TestLineWriter(t *testing.T) {
	var dst testkit.Buffer
	w := &lineWriter{dst: &dst}
	w.Write([]byte("ab"))
	if dst.String() != "" {
		t.Fatalf("passed on %q before a newline", dst.String())
	}
	w.Write([]byte("c\nde"))
	if dst.String() != "abc\n" {
		t.Fatalf("got %q, want %q", dst.String(), "abc\n")
	}
	w.Flush()
	if dst.String() != "abc\nde\n" {
		t.Fatalf("after Flush got %q", dst.String())
	}
}

// hasFields reports whether text has a line made of the fields.
func hasFields(text string, fields ...string) bool {
	for _, line := range strings.Split(text, "\n") {
		if strings.Join(strings.Fields(line), " ") == strings.Join(fields, " ") {
			return true
		}
	}
	return false
}
