package repl

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/iridium-vm/iridium/proc"
)

// A shell registers its process; programs find it by the name, and it
// sends to theirs by name; !registered lists them.
func TestShellRegisteredNames(t *testing.T) {
	ts := newTestShell(t, "", Options{})
	finder := writeFile(t, "finder.iasm", `
.data
me:     .asciiz 'me'
.code
        whereis $0 @me
        load $1 #5
        send $0 $1
        hlt`)
	echo := writeFile(t, "echo.iasm", ".data\nname: .asciiz 'echo'\n.code\nreg @name\n"+echoServer)
	ts.exec(t, "!register me", "!spawn "+echo, "!spawn "+finder)
	pollInbox(t, ts, "<3>: 5\n")
	ts.exec(t, "!send echo 41")
	pollInbox(t, ts, "<2>: 42\n")
	if got, want := printed(t, ts, "!registered"), "NAME  PID\necho  <2>\nme    <1>\n"; got != want {
		t.Errorf("!registered printed %q, want %q", got, want)
	}
	ts.exec(t, "!kill <2>")
	if got, want := printed(t, ts, "!registered"), "NAME  PID\nme    <1>\n"; got != want {
		t.Errorf("!registered after the echo server ended printed %q, want %q", got, want)
	}
}

// printed runs line, which must succeed, and returns what it printed.
func printed(t *testing.T, ts *testShell, line string) string {
	t.Helper()
	mark := ts.out.Len()
	ts.exec(t, line)
	return ts.out.String()[mark:]
}

// Scripted, each command says what it changed.
func TestScriptedRegisterSaysSo(t *testing.T) {
	ts := newTestShell(t, "", Options{})
	ts.exec(t, "!register me", "!send me 7", "!send <1> 8", "!inbox")
	want := "<1> registered as \"me\"\nsent to <1> (me)\n<1>: 7\n<1>: 8\n"
	if got := ts.out.String(); got != want {
		t.Errorf("stdout %q, want %q", got, want)
	}
}

func TestShellNameErrors(t *testing.T) {
	ts := newTestShell(t, "", Options{})
	sched, _ := ts.scheduler()
	other := newTestShell(t, "", Options{Procs: sched})
	ts.exec(t, "!register me")
	for _, c := range []struct {
		sh   *testShell
		line string
		want string
	}{
		{ts, "!register again", `!register: process registered already: <1> is "me", and a process has one name`},
		{other, "!register me", `!register: name taken: "me" is held by <1>`},
		{other, "!register a@b", `!register: bad name "a@b": byte 2 is "@"`},
		{other, "!register " + strings.Repeat("n", 65), "!register: bad name"},
		{ts, "!send nobody 1", `!send: no process is registered as "nobody"`},
		{ts, "!send me@n1 1", "!send me@n1: this node is in no cluster"},
		{ts, "!send me@ 1", `!send: "me@" is neither a PID like <7> nor a name: bad name "me@": no member's alias after '@'`},
		{ts, "!send <0> 1", "!send: bad PID"},
		{ts, "!registered n1", "!registered ALIAS: this node is in no cluster"},
		{ts, "!registered n1 n2", "usage: !registered [ALIAS]"},
	} {
		err := c.sh.Execute(context.Background(), c.line)
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.line, err, c.want)
		}
	}
}

// fakeNames is a NameFinder of a member "n1" whose names are the map's.
type fakeNames map[string]proc.PID

func (f fakeNames) Whereis(_ context.Context, alias, name string) (proc.PID, error) {
	if alias != "n1" {
		return 0, errors.New("no connection to that member")
	}
	return f[name], nil
}

func (f fakeNames) Registered(_ context.Context, alias string) ([]proc.Name, int, error) {
	if alias != "n1" {
		return nil, 0, errors.New("no connection to that member")
	}
	return []proc.Name{{Name: "svc", PID: f["svc"]}}, 2, nil
}

// !send NAME@ALIAS and !registered ALIAS go through Options.Names.
func TestShellRemoteNames(t *testing.T) {
	names := fakeNames{}
	ts := newTestShell(t, "", Options{Names: names})
	// The "remote" process is this shell itself, so the message can be
	// seen arriving.
	_, mb := ts.scheduler()
	names["svc"] = mb.PID()
	ts.exec(t, "!send svc@n1 9")
	pollInbox(t, ts, "<1>: 9\n")
	if got, want := printed(t, ts, "!registered n1"), "names of n1 (their PIDs as this node writes them):\nNAME  PID\nsvc   <1>\n(2 more not listed)\n"; got != want {
		t.Errorf("!registered n1 printed %q, want %q", got, want)
	}
	for line, want := range map[string]string{
		"!send svc@n2 1":   "!send svc@n2: no connection to that member",
		"!send none@n1 1":  `!send: no process is registered as "none@n1"`,
		"!registered n2":   "!registered n2: no connection to that member",
		"!send svc@n1 1.5": `!send: "1.5" is neither a 32-bit integer nor a PID like <7>`,
	} {
		if err := ts.Execute(context.Background(), line); err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s: %v, want %q", line, err, want)
		}
	}
}

// fakeDist is a Distribution of a member "n1" with one process listed,
// in state state ("waiting" if empty), and two left out.
type fakeDist struct{ state string }

func (f fakeDist) ListProcesses(_ context.Context, alias string) ([]proc.Info, int, error) {
	if alias != "n1" {
		return nil, 0, errors.New("no connection to that member")
	}
	state := f.state
	if state == "" {
		state = "waiting"
	}
	return []proc.Info{{PID: proc.MakePID(1, 3), Program: "svc.iasm", State: state, Reductions: 7, Memory: 512}}, 2, nil
}

func (fakeDist) KillRemote(context.Context, proc.PID) error { return errors.New("not here") }

func (fakeDist) Alias(slot int) string { return map[int]string{1: "n1"}[slot] }

// !ps ALIAS lists another member's processes, and how many it left out
// on the line after them, with no blank line between.
func TestShellRemotePs(t *testing.T) {
	ts := newTestShell(t, "", Options{Dist: fakeDist{}})
	want := "processes of n1 (their PIDs as this node writes them):\n" +
		"PID    PROGRAM   STATE    REDUCTIONS  MAILBOX  DROPPED  MEMORY\n" +
		"<1.3>  svc.iasm  waiting  7           0        0        512\n" +
		"(2 more not listed)\n"
	if got := printed(t, ts, "!ps n1"); got != want {
		t.Errorf("!ps n1 printed %q, want %q", got, want)
	}
}

// !ps ALIAS shows a member's text escaped: a state with a terminal
// control sequence cannot clear the screen.
func TestShellRemotePsEscapes(t *testing.T) {
	ts := newTestShell(t, "", Options{Dist: fakeDist{state: "x\x1b[2J"}})
	got := printed(t, ts, "!ps n1")
	if strings.Contains(got, "\x1b") || !strings.Contains(got, `x\x1b[2J`) {
		t.Errorf("!ps n1 printed %q, want the state escaped", got)
	}
}
