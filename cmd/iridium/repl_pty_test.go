package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/iridium-vm/iridium/internal/filecmd"
	"github.com/iridium-vm/iridium/internal/testkit"
)

// ptyTimeout bounds each wait for the REPL's output and for its exit.
const ptyTimeout = 20 * time.Second

// ptyREPL is the binary running as an interactive REPL on a pseudo-
// terminal, as a user in a terminal would see it.
type ptyREPL struct {
	t       *testing.T
	cmd     *exec.Cmd
	tty     *os.File
	mu      sync.Mutex
	out     bytes.Buffer  // everything the REPL wrote
	seen    int           // how much of out expect has gone past
	changed chan struct{} // poked when out grows
	exited  chan error
}

// startPTY starts the REPL on a new pseudo-terminal, with its data in
// dataDir and env added to the environment.
func startPTY(t *testing.T, dataDir string, env ...string) *ptyREPL {
	t.Helper()
	return startPTYArgs(t, 160, []string{"--data-root-dir", dataDir}, env...)
}

// startPTYArgs starts the binary with args on a new pseudo-terminal of
// cols columns, with env added to the environment.
func startPTYArgs(t *testing.T, cols uint16, args []string, env ...string) *ptyREPL {
	t.Helper()
	cmd := exec.Command(iridiumBin, args...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(withoutEnv(os.Environ(), "NO_COLOR"), append([]string{"TERM=xterm", "XDG_DATA_HOME=" + t.TempDir()}, env...)...)
	return startOnPTY(t, cmd, cols)
}

// startOnPTY starts cmd on a new pseudo-terminal of cols columns.
func startOnPTY(t *testing.T, cmd *exec.Cmd, cols uint16) *ptyREPL {
	t.Helper()
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: cols})
	if err != nil {
		t.Fatalf("start on a pty: %v", err)
	}
	p := &ptyREPL{t: t, cmd: cmd, tty: tty, changed: make(chan struct{}, 1), exited: make(chan error, 1)}
	go p.read()
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		tty.Close()
	})
	return p
}

func withoutEnv(env []string, name string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, name+"=") {
			out = append(out, kv)
		}
	}
	return out
}

// read copies the terminal's output into out until the terminal closes.
func (p *ptyREPL) read() {
	buf := make([]byte, 4096)
	for {
		n, err := p.tty.Read(buf)
		p.mu.Lock()
		p.out.Write(buf[:n])
		p.mu.Unlock()
		select {
		case p.changed <- struct{}{}:
		default:
		}
		if err != nil {
			return
		}
	}
}

// send types s.
func (p *ptyREPL) send(s string) {
	p.t.Helper()
	if _, err := p.tty.WriteString(s); err != nil {
		p.t.Fatalf("typing %q: %v", s, err)
	}
}

// expect waits until want appears in the output after what earlier calls
// matched, and moves past it.
func (p *ptyREPL) expect(want string) {
	p.t.Helper()
	if !p.expectWithin(want, ptyTimeout) {
		p.t.Fatalf("no %q in the terminal within %v; it shows:\n%q", want, ptyTimeout, p.output())
	}
}

// expectWithin is expect that reports a timeout instead of failing.
func (p *ptyREPL) expectWithin(want string, d time.Duration) bool {
	return p.advance(d, func(rest string) int {
		if i := strings.Index(rest, want); i >= 0 {
			return i + len(want)
		}
		return -1
	})
}

// expectMatch waits until re matches the output after what earlier calls
// matched, moves past the match and returns it with its submatches.
func (p *ptyREPL) expectMatch(re *regexp.Regexp) []string {
	p.t.Helper()
	var m []string
	found := p.advance(ptyTimeout, func(rest string) int {
		loc := re.FindStringSubmatchIndex(rest)
		if loc == nil {
			return -1
		}
		for i := 0; i < len(loc); i += 2 {
			if loc[i] >= 0 {
				m = append(m, rest[loc[i]:loc[i+1]])
			} else {
				m = append(m, "")
			}
		}
		return loc[1]
	})
	if !found {
		p.t.Fatalf("nothing matches %q in the terminal within %v; it shows:\n%q", re, ptyTimeout, p.output())
	}
	return m
}

// advance waits up to d until find, given the output after what earlier
// calls matched, returns where its match ends in it, and moves past that;
// find returns -1 while there is no match.
func (p *ptyREPL) advance(d time.Duration, find func(rest string) int) bool {
	timeout := time.NewTimer(d)
	defer timeout.Stop()
	for {
		p.mu.Lock()
		end := find(p.out.String()[p.seen:])
		if end >= 0 {
			p.seen += end
		}
		p.mu.Unlock()
		if end >= 0 {
			return true
		}
		select {
		case <-p.changed:
		case <-timeout.C:
			return false
		}
	}
}

// interrupt presses Ctrl-C until want, the REPL's report that it stopped
// the running program, appears: the first Ctrl-C may come before the
// program starts, so it is pressed again every half second.
func (p *ptyREPL) interrupt(want string) {
	p.t.Helper()
	deadline := time.Now().Add(ptyTimeout)
	for {
		p.send("\x03")
		if p.expectWithin(want, 500*time.Millisecond) {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("Ctrl-C did not stop the program (no %q); the terminal shows:\n%q", want, p.output())
		}
	}
}

// noRace fails the test if the race detector reported a data race on
// the terminal.
func (p *ptyREPL) noRace() {
	p.t.Helper()
	if strings.Contains(p.output(), "WARNING: DATA RACE") {
		p.t.Errorf("the race detector found a data race:\n%s", p.output())
	}
}

func (p *ptyREPL) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// wait waits for the REPL to exit and returns its exit status.
func (p *ptyREPL) wait() int {
	p.t.Helper()
	select {
	case err := <-p.exited:
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			return exitErr.ExitCode()
		}
		if err != nil {
			p.t.Fatalf("waiting for the REPL: %v", err)
		}
		return 0
	case <-time.After(ptyTimeout):
		p.t.Fatalf("the REPL did not exit within %v; it shows:\n%q", ptyTimeout, p.output())
		return -1
	}
}

// TestREPLTerminalPromptAndCtrlD checks the banner and prompt, that a
// typed line runs and shows what it changed, and that Ctrl-D leaves with
// status 0.
func TestREPLTerminalPromptAndCtrlD(t *testing.T) {
	t.Parallel()
	p := startPTY(t, t.TempDir(), "NO_COLOR=1")
	p.expect("Iridium " + version)
	p.expect(">>> ")
	p.send("load $0 #5\r")
	p.expect("$0 = 5")
	p.expect(">>> ")
	p.send("!nope\r")
	p.expect("error: unknown command !nope")
	p.send("\x04")
	if code := p.wait(); code != 0 {
		t.Fatalf("exit status %d after Ctrl-D, want 0", code)
	}
	if strings.Contains(p.output(), "\x1b[3") {
		t.Errorf("colour with NO_COLOR set:\n%q", p.output())
	}
}

// TestREPLTerminalHistory checks that history is kept in the data
// directory and recalled with the up arrow in the next session.
func TestREPLTerminalHistory(t *testing.T) {
	t.Parallel()
	dataDir := filepath.Join(t.TempDir(), "data")
	p := startPTY(t, dataDir, "NO_COLOR=1")
	p.expect(">>> ")
	p.send("load $1 #42\r")
	p.expect("$1 = 42")
	p.send("!quit\r")
	if code := p.wait(); code != 0 {
		t.Fatalf("exit status %d after !quit, want 0", code)
	}
	hist, err := os.ReadFile(filepath.Join(dataDir, "history"))
	if err != nil || !strings.Contains(string(hist), "load $1 #42\n") {
		t.Fatalf("history file: %q, %v", hist, err)
	}

	p = startPTY(t, dataDir, "NO_COLOR=1")
	p.expect(">>> ")
	p.send("\x1b[A\x1b[A") // up twice: past !quit to the load
	p.expect("load $1 #42")
	p.send("\r")
	p.expect("$1 = 42")
	p.send("\x04")
	if code := p.wait(); code != 0 {
		t.Fatalf("exit status %d, want 0", code)
	}
}

// TestREPLTerminalTabCompletion completes a command and a label.
func TestREPLTerminalTabCompletion(t *testing.T) {
	t.Parallel()
	p := startPTY(t, t.TempDir(), "NO_COLOR=1")
	p.expect(">>> ")
	p.send("nop\r")
	p.expect(">>> ")
	p.send("target: load $2 #7\r")
	p.expect("$2 = 7")
	p.send("load $3 @tar\t\r") // @target is code address 4
	p.expect("$3 = 4")
	p.send("!symb\t\r")
	p.expect("target  code label  4")
	p.send("\x04")
	p.wait()
}

// TestREPLTerminalCtrlC checks that Ctrl-C at the prompt drops the line,
// that Ctrl-C stops an endless loop, and that the REPL then goes on.
func TestREPLTerminalCtrlC(t *testing.T) {
	t.Parallel()
	p := startPTY(t, t.TempDir(), "NO_COLOR=1")
	p.expect(">>> ")
	p.send("lod junk\x03")
	p.expect("^C")
	p.send("load $6 #6\r")
	p.expect("$6 = 6")
	// Ctrl-C in a terminal discards what was typed ahead, so make sure
	// the REPL has read these lines and shows a prompt again (readline
	// draws it once it reads the terminal) before typing the loop.
	p.send("load $0 #0\r")
	p.send("eq $0 $0\r")
	p.send("load $8 #8\r")
	p.expect("$8 = 8")
	p.expect(">>> ")
	p.send("spin: djmpe @spin\r")
	p.expect("spin: djmpe @spin")
	p.interrupt("warning: interrupted at pc 16 (djmpe @spin)")
	p.send("inc $6\r")
	p.expect("$6 = 7")
	p.send("!quit\r")
	if code := p.wait(); code != 0 {
		t.Fatalf("exit status %d, want 0", code)
	}
}

// TestREPLTerminalNotify checks that a spawned program's end is announced
// while a line is being edited, and that the line survives.
func TestREPLTerminalNotify(t *testing.T) {
	t.Parallel()
	// About a second or two, on either build: it must still run when the
	// line below has been typed.
	steps := 100_000_000
	if testkit.RaceEnabled {
		steps = 15_000_000
	}
	slow := writeTestFile(t, "slow.iasm", fmt.Sprintf(".code\nload $1 #%d\nloop: inc $0\nneq $0 $1\ndjmpe @loop\n", steps))
	p := startPTY(t, t.TempDir(), "NO_COLOR=1")
	p.expect(">>> ")
	p.send("!spawn " + slow + "\r")
	p.expect("[job 1] " + slow + " started")
	p.expect(">>> ")
	p.send("load $7")
	p.expect("load $7")
	p.expect("[job 1] " + slow + " finished")
	p.expect(">>> load $7") // the edited line, drawn again under the message
	p.send(" #7\r")
	p.expect("$7 = 7")
	p.send("\x04")
	p.wait()
}

// TestREPLTerminalLoadFilePrompt checks that !load_file without a path
// asks for one, with file names completed by Tab.
func TestREPLTerminalLoadFilePrompt(t *testing.T) {
	t.Parallel()
	p := startPTY(t, t.TempDir(), "NO_COLOR=1")
	if err := os.WriteFile(filepath.Join(p.cmd.Dir, "hello.iasm"), []byte(replHello), 0o644); err != nil {
		t.Fatal(err)
	}
	p.expect(">>> ")
	p.send("!load_file\r")
	p.expect("path: ")
	p.send("hel\t\r")
	p.expect("Hello, world!")
	p.expect("$5 = 42")
	p.send("!load_file\r")
	p.expect("path: ")
	p.send("\x03") // Ctrl-C gives up asking
	p.expect("warning: !load_file: interrupted")
	p.send("\x04")
	p.wait()
}

// TestREPLTerminalSIGTERM checks that SIGTERM ends the REPL at the prompt
// with status 130, releasing the terminal.
func TestREPLTerminalSIGTERM(t *testing.T) {
	t.Parallel()
	p := startPTY(t, t.TempDir(), "NO_COLOR=1")
	p.expect(">>> ")
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(); code != filecmd.ExitSignal {
		t.Fatalf("exit status %d after SIGTERM, want %d", code, filecmd.ExitSignal)
	}
}

// TestREPLTerminalColor checks that the prompt and errors are coloured on
// a terminal when NO_COLOR is not set.
func TestREPLTerminalColor(t *testing.T) {
	t.Parallel()
	p := startPTY(t, t.TempDir())
	p.expect("\x1b[36;1m>>> \x1b[0")
	p.send("!nope\r")
	p.expect("\x1b[31;1merror: unknown command !nope")
	p.send("\x04")
	p.wait()
}
