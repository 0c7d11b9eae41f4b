package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"
)

// screen is a small terminal emulator, enough for what readline and the
// REPL write: text, \r, \n, \b, and the CSI sequences that move the
// cursor or erase. It shows what a user would see once the bytes are drawn.
type screen struct {
	lines    [][]rune
	row, col int
	width    int
}

func newScreen(width int) *screen { return &screen{lines: [][]rune{nil}, width: width} }

var csiRE = regexp.MustCompile(`^\x1b\[([0-9;?]*)([A-Za-z])`)

func (s *screen) write(out string) {
	for len(out) > 0 {
		if m := csiRE.FindStringSubmatch(out); m != nil {
			s.csi(m[1], m[2])
			out = out[len(m[0]):]
			continue
		}
		r, size := utf8.DecodeRuneInString(out)
		out = out[size:]
		switch r {
		case '\r':
			s.col = 0
		case '\n':
			s.row++
			s.col = 0
		case '\b':
			s.col = max(s.col-1, 0)
		case '\x07', '\x1b':
		default:
			if s.col >= s.width {
				s.row++
				s.col = 0
			}
			s.put(r)
		}
		for len(s.lines) <= s.row {
			s.lines = append(s.lines, nil)
		}
	}
}

func (s *screen) put(r rune) {
	for len(s.lines) <= s.row {
		s.lines = append(s.lines, nil)
	}
	line := s.lines[s.row]
	for len(line) <= s.col {
		line = append(line, ' ')
	}
	line[s.col] = r
	s.lines[s.row] = line
	s.col++
}

func (s *screen) csi(arg, cmd string) {
	n, err := strconv.Atoi(arg)
	if err != nil || n == 0 {
		n = 1
	}
	switch cmd {
	case "A":
		s.row = max(s.row-n, 0)
	case "B":
		s.row += n
	case "C":
		s.col += n
	case "D":
		s.col = max(s.col-n, 0)
	case "J": // erase to the end of the screen
		s.clearFrom(s.row, s.col)
		s.lines = s.lines[:s.row+1]
	case "K": // erase to the end of the line (2K: the whole line)
		if arg == "2" {
			s.lines[s.row] = nil
		} else {
			s.clearFrom(s.row, s.col)
		}
	}
	for len(s.lines) <= s.row {
		s.lines = append(s.lines, nil)
	}
}

func (s *screen) clearFrom(row, col int) {
	if row < len(s.lines) && col < len(s.lines[row]) {
		s.lines[row] = s.lines[row][:col]
	}
}

// text is the screen's lines, trailing blanks trimmed.
func (s *screen) text() []string {
	out := make([]string, len(s.lines))
	for i, l := range s.lines {
		out[i] = strings.TrimRight(string(l), " ")
	}
	return out
}

func render(out string, width int) []string {
	s := newScreen(width)
	s.write(out)
	return s.text()
}

// TestScreenEmulator checks the emulator on what readline writes when a
// message comes in above an edited line.
func TestScreenEmulator(t *testing.T) {
	t.Parallel()
	got := render(">>> load $7\x1b[J\x1b[2K\rmessage\n>>> load $7", 80)
	want := []string{"message", ">>> load $7"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("screen %q, want %q", got, want)
	}
}

// TestREPLTerminalMessagesAboveThePrompt spawns short programs whose end
// is announced while the prompt is being drawn, while the shell is idle
// and while a line is typed, and checks, on the screen as drawn, that
// every announcement stands on a line of its own, that none follows a
// prompt, and that the prompt and the edited line are drawn again last
// (issue 12, item 3).
func TestREPLTerminalMessagesAboveThePrompt(t *testing.T) {
	t.Parallel()
	p := startPTY(t, t.TempDir(), "NO_COLOR=1")
	// In the shell's directory, so that each message is one line.
	quick, slow := "quick.iasm", "slow.iasm"
	for name, src := range map[string]string{quick: "load $0 #1\n", slow: ".code\nload $1 #3000000\nloop: inc $0\nneq $0 $1\ndjmpe @loop\n"} {
		if err := os.WriteFile(filepath.Join(p.cmd.Dir, name), []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	p.expect(">>> ")
	const n = 8
	for i := 1; i <= n; i++ { // each ends as the next prompt is drawn
		switch i % 3 {
		case 0:
			p.send("!spawn " + quick + "\r")
		case 1: // the path completed with Tab
			p.send("!spawn qui\t")
			p.expect("!spawn " + quick)
			p.send("\r")
		case 2: // the path asked for
			p.send("!spawn\r")
			p.expect("path: ")
			p.send("qui\t\r")
		}
		p.expect(fmt.Sprintf("[job %d] %s finished", i, quick))
	}
	p.send("!spawn " + slow + "\r")
	p.expect(fmt.Sprintf("[job %d] %s started", n+1, slow))
	p.expect(">>> ")
	p.send("load $7")
	p.expect(fmt.Sprintf("[job %d] %s finished", n+1, slow))
	p.expect(">>> load $7")
	p.send(" #7\r")
	p.expect("$7 = 7")
	p.expect(">>> ")

	lines := render(p.output(), 160)
	finished := 0
	for _, l := range lines {
		if (strings.HasPrefix(l, ">>> ") || strings.HasPrefix(l, "path: ")) && strings.Contains(l, "[job") && !strings.HasPrefix(l, ">>> !spawn") {
			t.Errorf("a message after the prompt: %q; the terminal got:\n%q", l, p.output())
		}
		if strings.Contains(l, "finished") {
			if !strings.HasPrefix(l, "[job ") {
				t.Errorf("a message not on a line of its own: %q", l)
			}
			finished++
		}
	}
	if finished != n+1 {
		t.Errorf("%d end messages on the screen, want %d:\n%s", finished, n+1, strings.Join(lines, "\n"))
	}
	// The line typed while the message came stays whole, under it.
	for i, l := range lines {
		if strings.Contains(l, slow+" finished") {
			if i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], ">>> load $7") {
				t.Errorf("the edited line is not drawn under the message:\n%s", strings.Join(lines, "\n"))
			}
		}
	}
	p.send("\x04")
	p.wait()
	p.noRace()
}

// TestREPLTerminalCtrlCSaysHowToLeave checks that Ctrl-C at an idle
// prompt says how to leave (issue 12, item 5), and that the shell goes on.
func TestREPLTerminalCtrlCSaysHowToLeave(t *testing.T) {
	t.Parallel()
	p := startPTY(t, t.TempDir(), "NO_COLOR=1")
	p.expect(">>> ")
	p.send("\x03")
	p.expect("^C")
	p.expect("(To leave, type !quit or press Ctrl-D.)")
	p.expect(">>> ")
	p.send("load $1 #1\r")
	p.expect("$1 = 1")
	p.send("\x04")
	if code := p.wait(); code != 0 {
		t.Fatalf("exit status %d, want 0", code)
	}
	p.noRace()
}

// ansiRE matches the escape sequences a terminal does not show.
var ansiRE = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// TestREPLTerminalFitsIn80Columns checks that what the shell prints by
// itself fits in 80 columns: the banner, !help, !help instructions, the
// help of each command and instruction, errors, the Ctrl-C hint and the
// cluster's start-up lines (issue 12, item 4).
func TestREPLTerminalFitsIn80Columns(t *testing.T) {
	t.Parallel()
	p := startPTYArgs(t, 80, []string{"--data-root-dir", t.TempDir(), "-P", "0", "-H", "127.0.0.1", "--node-alias", "a-node-with-a-rather-long-alias"}, "NO_COLOR=1")
	p.expect(">>> ")
	for _, line := range []string{"!help", "!help instructions", "!help wait", "!help spawn", "!help ftoi", "!help loadf64",
		"!nope", "!regs", "lod $0 #1", "call @nowhere", "!load_file /nonexistent/dir/" + strings.Repeat("x", 20) + ".iasm",
		"!kill 99", "!wait 99", "!start_cluster"} {
		p.send(line + "\r")
		p.expect(line + "\r\n") // the line as entered, past the redraws while typing
		p.expect(">>> ")
	}
	p.send("\x03")
	p.expect("Ctrl-D.)")
	p.expect(">>> ")
	p.send("\x04")
	p.wait()
	out := ansiRE.ReplaceAllString(p.output(), "")
	checked := 0
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r")
		if i := strings.LastIndexByte(line, '\r'); i >= 0 { // redrawn: what stays is after the last \r
			line = line[i+1:]
		}
		if strings.HasPrefix(line, ">>> ") {
			continue // what was typed
		}
		checked++
		if w := utf8.RuneCountInString(line); w > 80 {
			t.Errorf("%d columns: %q", w, line)
		}
	}
	if checked < 100 {
		t.Errorf("only %d lines checked; the output:\n%s", checked, out)
	}
}

// TestREPLTerminalClusterEventsAboveThePrompt starts a cluster in the
// terminal and has two other processes join it, one while the shell is
// idle and one while a line is being typed: each event stands on a line
// of its own above the prompt, and the typed line is drawn again under it
// (issue 12, item 3).
func TestREPLTerminalClusterEventsAboveThePrompt(t *testing.T) {
	t.Parallel()
	cookie := "pty-events/" + t.Name()
	p := startPTYArgs(t, 160, []string{"--data-root-dir", t.TempDir(), "-H", "127.0.0.1", "-P", "0",
		"--node-alias", "ptynode", "--cookie", cookie}, "NO_COLOR=1")
	p.expect(">>> ")
	p.send("!start_cluster\r")
	port, _ := strconv.Atoi(p.expectMatch(regexp.MustCompile(`listening on 127\.0\.0\.1:(\d+)\r?\n`))[1])
	p.expect(">>> ")

	idle := startNode(t, nodeSpec{alias: "idle", cookie: cookie})
	joinCluster(t, idle, "127.0.0.1", port)
	p.expect(`cluster: "idle"`)
	p.expect(">>> ")

	p.send("load $7")
	p.expect("load $7")
	typing := startNode(t, nodeSpec{alias: "typing", cookie: cookie})
	joinCluster(t, typing, "127.0.0.1", port)
	p.expect(`cluster: "typing"`)
	p.expect(">>> load $7")
	p.send(" #7\r")
	p.expect("$7 = 7")
	p.expect(">>> ")

	lines := render(p.output(), 160)
	events := 0
	for i, l := range lines {
		if strings.Contains(l, `cluster: "`) {
			if !strings.HasPrefix(l, "cluster: ") {
				t.Errorf("an event not on a line of its own: %q", l)
			}
			events++
		}
		if strings.HasPrefix(l, `cluster: "typing"`) && (i+1 >= len(lines) || !strings.HasPrefix(lines[i+1], ">>> load $7")) {
			t.Errorf("the edited line is not drawn under the event:\n%s", strings.Join(lines, "\n"))
		}
	}
	if events < 2 {
		t.Errorf("%d events on the screen, want 2 joins at least:\n%s", events, strings.Join(lines, "\n"))
	}
	p.send("!quit\r")
	p.wait()
	p.noRace()
}

// TestREPLTerminalHistoryFIFO checks that a FIFO where the history file
// goes is refused with a warning instead of blocking the shell (issue 12,
// item 8).
func TestREPLTerminalHistoryFIFO(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(dataDir, "history"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := startPTY(t, dataDir, "NO_COLOR=1")
	p.expect("warning: history will not be kept:") // wrapped at 80 columns
	p.expect(filepath.Join(dataDir, "history") + " is not a regular file")
	p.expect(">>> ")
	p.send("load $1 #1\r")
	p.expect("$1 = 1")
	p.send("\x04")
	if code := p.wait(); code != 0 {
		t.Fatalf("exit status %d, want 0", code)
	}
	p.noRace()
}

// TestREPLTerminalDashI runs a file with -i and stays in the terminal
// shell with its labels and registers.
func TestREPLTerminalDashI(t *testing.T) {
	t.Parallel()
	hello := writeTestFile(t, "hello.iasm", replHello)
	p := startPTYArgs(t, 160, []string{"--data-root-dir", t.TempDir(), "-i", hello}, "NO_COLOR=1")
	p.expect("Hello, world!")
	p.expect(">>> ")
	p.send("prts @hello\r")
	p.expect("Hello, world!")
	p.send("!registers\r")
	p.expect("$5 = 42")
	p.send("\x04")
	if code := p.wait(); code != 0 {
		t.Fatalf("exit status %d, want 0", code)
	}
	p.noRace()
}
