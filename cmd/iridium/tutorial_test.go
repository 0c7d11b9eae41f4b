package main

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// tutorialPath is the tutorial, from this package's directory.
var tutorialPath = filepath.Join("..", "..", "docs", "tutorial.md")

// A tutorialSection is a "## " section of the tutorial and the blocks it
// marks to run (see the comment at the top of docs/tutorial.md).
type tutorialSection struct {
	title  string
	blocks []tutorialBlock
}

// A tutorialBlock is one marked fenced block.
type tutorialBlock struct {
	line     int    // the line of its fence, for messages
	file     string // file=NAME: the block is that file's text
	terminal int    // terminal=N: the lines go to terminal N; 0: the main terminal
	lines    []string
}

// readTutorial parses the tutorial into its sections and their marked
// blocks.
func readTutorial(t *testing.T) []tutorialSection {
	t.Helper()
	data, err := os.ReadFile(tutorialPath)
	if err != nil {
		t.Fatal(err)
	}
	sections := []tutorialSection{{title: "start"}}
	var block *tutorialBlock
	inFence := false
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case inFence && line == "```":
			inFence = false
			if block != nil {
				last := &sections[len(sections)-1]
				last.blocks = append(last.blocks, *block)
				block = nil
			}
		case inFence:
			if block != nil {
				block.lines = append(block.lines, line)
			}
		case strings.HasPrefix(line, "```"):
			inFence = true
			block = parseFence(t, n, strings.Fields(strings.TrimPrefix(line, "```")))
		case strings.HasPrefix(line, "## "):
			sections = append(sections, tutorialSection{title: strings.TrimPrefix(line, "## ")})
		}
	}
	if inFence {
		t.Fatalf("%s: a fenced block is not closed", tutorialPath)
	}
	return sections
}

// parseFence returns the block that a fence's info words mark to run, or
// nil for one not marked "tutorial".
func parseFence(t *testing.T, line int, info []string) *tutorialBlock {
	t.Helper()
	if len(info) < 2 || info[1] != "tutorial" {
		return nil
	}
	b := &tutorialBlock{line: line}
	for _, word := range info[2:] {
		key, value, _ := strings.Cut(word, "=")
		switch key {
		case "file":
			b.file = value
		case "terminal":
			n, err := strconv.Atoi(value)
			if err != nil || n < 1 {
				t.Fatalf("%s:%d: terminal=%q: want a number from 1", tutorialPath, line, value)
			}
			b.terminal = n
		default:
			t.Fatalf("%s:%d: unknown mark %q on a tutorial block", tutorialPath, line, word)
		}
	}
	return b
}

// tutorialReader follows the tutorial: its directory, environment and
// terminals outlive each section's subtest.
type tutorialReader struct {
	parent *testing.T
	dir    string
	env    []string
	ported *strings.Replacer
	terms  map[int]*ptyREPL
}

// TestTutorial follows docs/tutorial.md as a new user would: every
// command of its marked blocks runs against the binary built from this
// tree, two interactive nodes on real pseudo-terminals joined over
// loopback, and what the tutorial shows must appear. Each section is a
// subtest; one that fails ends the run, as later ones build on it.
func TestTutorial(t *testing.T) {
	t.Parallel()
	ports := testkit.Ports(t, 2)
	r := &tutorialReader{
		parent: t,
		dir:    t.TempDir(),
		env:    append(installedEnv(t), "TERM=xterm"),
		ported: strings.NewReplacer("2254", strconv.Itoa(ports[0]), "2255", strconv.Itoa(ports[1])),
		terms:  make(map[int]*ptyREPL),
	}
	sections := readTutorial(t)
	ran := 0
	for _, s := range sections {
		if len(s.blocks) == 0 {
			continue
		}
		if !t.Run(s.title, func(t *testing.T) { r.section(t, s) }) {
			break
		}
		ran++
	}
	if ran < 6 && !t.Failed() {
		t.Errorf("%d sections of %s ran, want the tutorial's (at least 6)", ran, tutorialPath)
	}
}

// section runs the blocks of s.
func (r *tutorialReader) section(t *testing.T, s tutorialSection) {
	for _, b := range s.blocks {
		switch {
		case b.file != "":
			text := r.ported.Replace(strings.Join(b.lines, "\n") + "\n")
			if err := os.WriteFile(filepath.Join(r.dir, b.file), []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
		case b.terminal == 0:
			r.commands(t, b)
		default:
			r.terminal(t, b)
		}
	}
}

// commands runs a main-terminal block: each "$ COMMAND" to its end, and
// checks its output.
func (r *tutorialReader) commands(t *testing.T, b tutorialBlock) {
	for _, step := range splitSteps(b.lines, "$ ") {
		cmdLine := r.ported.Replace(step.input)
		if strings.HasPrefix(cmdLine, "go install ") {
			continue // the test built the binary
		}
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		cmd := exec.CommandContext(ctx, "bash", "-c", cmdLine)
		cmd.Dir, cmd.Env = r.dir, r.env
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out // one stream, as a terminal shows them
		err := cmd.Run()
		cancel()
		if err != nil {
			t.Fatalf("%s:%d: $ %s: %v; it printed:\n%s", tutorialPath, b.line, cmdLine, err, out.String())
		}
		rest := normalizeTerminal(out.String()).text
		for _, want := range step.output {
			end := matchEnd(expectedLine(r.ported.Replace(want)), rest)
			if end < 0 {
				t.Fatalf("%s:%d: $ %s: no %q (in order) in what it printed:\n%s", tutorialPath, b.line, cmdLine, want, out.String())
			}
			rest = rest[end:]
		}
	}
}

// terminal runs a block of terminal b.terminal: starts its program, types
// its lines at the prompt, and waits for what it shows.
func (r *tutorialReader) terminal(t *testing.T, b tutorialBlock) {
	where := fmt.Sprintf("%s:%d: terminal %d", tutorialPath, b.line, b.terminal)
	p := r.terms[b.terminal]
	steps := splitSteps(b.lines, ">>> ")
	if len(steps) > 0 && strings.HasPrefix(steps[0].input, "$ ") {
		if p != nil {
			t.Fatalf("%s: %s starts while its program still runs", where, steps[0].input)
		}
		cmd := exec.Command("bash", "-c", "exec "+r.ported.Replace(strings.TrimPrefix(steps[0].input, "$ ")))
		cmd.Dir, cmd.Env = r.dir, r.env
		p = startOnPTY(r.parent, cmd, 200) // the terminal outlives this section
		r.terms[b.terminal] = p
	} else if p == nil {
		t.Fatalf("%s: no program runs in it", where)
	}
	for _, step := range steps {
		output := step.output
		if step.input != "" && !strings.HasPrefix(step.input, "$ ") {
			typed := r.ported.Replace(step.input)
			typeLine(t, p, where, typed)
			switch {
			case typed == "!quit":
				waitQuit(t, where, p)
				delete(r.terms, b.terminal)
			case typed == "!inbox" && len(output) > 0:
				lookAgain(t, p, where, typed, expectedLine(r.ported.Replace(output[0])))
				output = output[1:]
			}
		}
		for _, want := range output {
			ptyFind(t, p, where+": after "+step.input, expectedLine(r.ported.Replace(want)))
		}
	}
}

// typeLine waits for the prompt, types line and Enter, and moves past
// the line's echo.
func typeLine(t *testing.T, p *ptyREPL, where, line string) {
	t.Helper()
	ptyFind(t, p, where+": the prompt before "+line, regexp.MustCompile(`(>>>)`))
	if _, err := p.tty.WriteString(line + "\r"); err != nil {
		t.Fatalf("%s: typing %q: %v", where, line, err)
	}
	ptyFind(t, p, where+": the echo of "+line, regexp.MustCompile("("+regexp.QuoteMeta(">>> "+normalizeSpace(line))+")"))
}

// lookAgain types line again, as a reader who finds no message yet looks
// again, until first shows: a message sent from the other terminal takes
// a moment to come.
func lookAgain(t *testing.T, p *ptyREPL, where, line string, first *regexp.Regexp) {
	t.Helper()
	for deadline := time.Now().Add(ptyTimeout); !ptyFindWithin(p, first, time.Second); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: %s showed nothing that matches %q within %v:\n%s", where, line, first, ptyTimeout, normalizeTerminal(p.output()).text)
		}
		typeLine(t, p, where, line)
	}
}

// waitQuit waits for the program of a terminal to end with status 0.
func waitQuit(t *testing.T, where string, p *ptyREPL) {
	select {
	case err := <-p.exited:
		if err != nil {
			t.Fatalf("%s: !quit: the program ended with %v; the terminal shows:\n%s", where, err, normalizeTerminal(p.output()).text)
		}
	case <-time.After(ptyTimeout):
		t.Fatalf("%s: the program did not end within %v of !quit", where, ptyTimeout)
	}
}

// ptyFind waits until re's group 1 matches what the terminal shows (as
// normalizeTerminal makes it) after what earlier calls matched, and
// moves past the match.
func ptyFind(t *testing.T, p *ptyREPL, what string, re *regexp.Regexp) {
	t.Helper()
	if !ptyFindWithin(p, re, ptyTimeout) {
		p.mu.Lock()
		rest := p.out.String()[p.seen:]
		p.mu.Unlock()
		t.Fatalf("%s: nothing matches %q within %v; the terminal shows after the last match:\n%s", what, re, ptyTimeout, normalizeTerminal(rest).text)
	}
}

// ptyFindWithin is ptyFind that waits up to d and reports whether it
// found a match.
func ptyFindWithin(p *ptyREPL, re *regexp.Regexp, d time.Duration) bool {
	return p.advance(d, func(rest string) int {
		shown := normalizeTerminal(rest)
		if end := matchEnd(re, shown.text); end >= 0 {
			return shown.rawEnd(end)
		}
		return -1
	})
}

// A tutorialStep is a line typed (or a command) and the lines it shows.
type tutorialStep struct {
	input  string // "" for lines shown before anything is typed
	output []string
}

// splitSteps splits a block's lines at those that start with prompt (and,
// in a terminal block, at its "$ " line).
func splitSteps(lines []string, prompt string) []tutorialStep {
	var steps []tutorialStep
	for _, line := range lines {
		switch {
		case strings.HasPrefix(line, prompt):
			steps = append(steps, tutorialStep{input: strings.TrimPrefix(line, prompt)})
		case strings.HasPrefix(line, "$ "):
			steps = append(steps, tutorialStep{input: line})
		case len(steps) == 0:
			steps = append(steps, tutorialStep{output: []string{line}})
		default:
			last := &steps[len(steps)-1]
			last.output = append(last.output, line)
		}
	}
	return steps
}

// expectedLine is the pattern of a line the tutorial shows: "…" is any
// text, a run of white space any other. It matches whole words only (so
// "4" is not found in "44"): its group 1 is the line.
func expectedLine(line string) *regexp.Regexp {
	parts := strings.Split(normalizeSpace(line), "…")
	for i, part := range parts {
		parts[i] = strings.ReplaceAll(regexp.QuoteMeta(part), " ", `\s+`)
	}
	return regexp.MustCompile(`(?:^|\s)(` + strings.Join(parts, ".*?") + `)(?:\s|$)`)
}

// matchEnd is where the first match of expectedLine's re in s ends, or -1.
func matchEnd(re *regexp.Regexp, s string) int {
	loc := re.FindStringSubmatchIndex(s)
	if loc == nil {
		return -1
	}
	return loc[3]
}

// normalizeSpace makes each run of white space in s one space, and trims
// it at both ends.
func normalizeSpace(s string) string { return strings.Join(strings.Fields(s), " ") }

// terminalEscape is an escape sequence a terminal interprets rather than
// shows: CSI (colours, cursor moves, erasing) and the short ESC forms.
var terminalEscape = regexp.MustCompile(`^(?:\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>78])`)

// shownText is what a terminal shows of its output, flattened: escape
// sequences and other control characters gone, each run of white space
// one space; ends maps it back to the output.
type shownText struct {
	text string
	ends []int // ends[i]: where, in the output, the byte i of text ends
}

// rawEnd is where in the output the first n bytes of the text end.
func (s shownText) rawEnd(n int) int {
	if n == 0 {
		return 0
	}
	return s.ends[n-1]
}

func normalizeTerminal(raw string) shownText {
	var s shownText
	var b strings.Builder
	space := false
	for i := 0; i < len(raw); {
		if raw[i] == 0x1b {
			if loc := terminalEscape.FindStringIndex(raw[i:]); loc != nil {
				i += loc[1]
				continue
			}
		}
		c := raw[i]
		i++
		switch {
		case c == ' ' || c == '\n' || c == '\t':
			space = true
			continue
		case c < ' ' || c == 0x7f:
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			s.ends = append(s.ends, i-1)
		}
		space = false
		b.WriteByte(c)
		s.ends = append(s.ends, i)
	}
	s.text = b.String()
	return s
}
