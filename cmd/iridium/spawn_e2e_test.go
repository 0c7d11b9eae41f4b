package main

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// End-to-end tests of remote spawn: real processes on 127.0.0.1-4, the
// caller's REPL scripted through its standard input.

const (
	spawnHello = ".data\nhello: .asciiz 'Hello from afar\\n'\n.code\nprts @hello\nload $5 #42\nhlt\n"
	spawnFault = ".code\nload $1 #0\ndiv $0 $1 $2\n"
	// spawnEndless loops until it is stopped.
	spawnEndless = ".code\nload $0 #0\neq $0 $0\nspin: djmpe @spin\n"
	// spawnFlood prints a line forever.
	spawnFlood = ".data\nmsg: .asciiz 'flood line\\n'\n.code\nload $0 #0\neq $0 $0\nspin: prts @msg\ndjmpe @spin\n"
)

// q quotes text for a regular expression.
func q(s string) string { return regexp.QuoteMeta(s) }

// TestSpawnOnE2E: output and registers come back from !spawn_on, a fault
// comes back with its message, !spawn_all gathers three members, and an
// endless job is listed by !cluster_jobs on a third member and killed by
// the member that started it (no other may: limits_e2e_test.go).
func TestSpawnOnE2E(t *testing.T) {
	t.Parallel()
	procs, _ := startMesh(t)
	a, b, c := procs[0], procs[1], procs[2]
	hello := writeTestFile(t, "hello.iasm", spawnHello)
	fault := writeTestFile(t, "fault.iasm", spawnFault)
	endless := writeTestFile(t, "endless.iasm", spawnEndless)

	a.send(t, "!spawn_on b "+hello)
	expect(t, a, `(?m)^\[job b:1\] `+q(hello)+` started on b as <\d+\.\d+>\n\[b:1\] Hello from afar\n`, waitFor)
	expectStderr(t, a, `(?m)^\[job b:1\] `+q(hello)+` done after \S+; registers \$5 = 42$`, waitFor)

	a.send(t, "!spawn_on b "+fault)
	expectStderr(t, a, `(?m)^\[job b:2\] `+q(fault)+` fault after \S+: pc 4: div \$0 \$1 \$2: division by zero.*; registers all 0$`, waitFor)

	a.send(t, "!spawn_all "+hello)
	expect(t, a, `(?m)^MEMBER +STATUS +TIME +REGISTERS +OUTPUT\n`, waitFor)
	for _, alias := range []string{"a", "b", "c"} {
		expect(t, a, `(?m)^`+alias+` +done +\S+ +\$5 = 42 +Hello from afar$`, waitFor)
	}

	a.send(t, "!spawn_on c "+endless)
	expect(t, a, `(?m)^\[job c:(\d+)\] `+q(endless)+` started on c as <\d+\.\d+>$`, waitFor)
	// c ran one job for !spawn_all; the endless one is its second.
	b.send(t, "!cluster_jobs")
	expect(t, b, `(?m)^JOB +STARTED BY +FILE +STATE +TIME\n`, waitFor)
	expect(t, b, `(?m)^c:2 +a +`+q(endless)+` +running +\S+$`, waitFor)
	a.send(t, "!kill c:2")
	expectStderr(t, a, `(?m)^\[job c:2\] `+q(endless)+` killed after \S+; registers all 0$`, waitFor)
	c.send(t, "!jobs")
	expect(t, c, `(?m)^2 +killed +a +`+q(endless)+`$`, waitFor)

	// !wait ALIAS:ID on a job another member started returns once it ends.
	a.send(t, "!spawn_on c "+endless)
	expect(t, a, `(?m)^\[job c:3\] `+q(endless)+` started on c as <\d+\.\d+>$`, waitFor)
	// What b lists after its !wait shows the job ended: the wait waited.
	b.send(t, "!wait c:3", "!cluster_jobs")
	a.send(t, "!kill c:3")
	expectStderr(t, a, `(?m)^\[job c:3\] `+q(endless)+` killed after `, waitFor)
	expect(t, b, `(?m)^JOB +STARTED BY +FILE +STATE +TIME\n`, waitFor)
	expect(t, b, `(?m)^c:3 +a +`+q(endless)+` +killed +\S+$`, waitFor)
	// Cluster events go to stderr in scripts; no line may have failed.
	failed := regexp.MustCompile(`(?m)^line \d+: `)
	for _, p := range []*nodeProc{b, c} {
		if s := p.stderr.buf.String(); failed.MatchString(s) {
			t.Errorf("node %q: stderr %q, want no failed line", p.alias, s)
		}
	}
}

// TestSpawnLinkSemantics: a job on a member killed with SIGKILL is
// reported lost within the failure timeout; a caller that quits, or is
// killed with SIGKILL, has its job stopped where it ran.
func TestSpawnLinkSemantics(t *testing.T) {
	t.Parallel()
	procs, want := startMesh(t)
	a, b, c := procs[0], procs[1], procs[2]
	endless := writeTestFile(t, "endless.iasm", spawnEndless)

	a.send(t, "!spawn_on b "+endless)
	expect(t, a, `(?m)^\[job b:1\] .* started on b as <\d+\.\d+>$`, waitFor)
	if err := b.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// expectStderr fails the test past within: lost within the failure
	// timeout, with slack for a loaded machine.
	within := testFailureTimeout + 3*time.Second
	expectStderr(t, a, `(?m)^\[job b:1\] `+q(endless)+` lost after \S+: b (failed|closed its link)$`, within)

	c.send(t, "!spawn_on a "+endless)
	expect(t, c, `(?m)^\[job a:1\] .* started on a as <\d+\.\d+>$`, waitFor)
	c.send(t, "!quit")
	waitExit(t, c)
	waitKilled(t, a, "1", "c", endless, within)

	// A caller killed with SIGKILL has its job stopped too.
	d := startNode(t, nodeSpec{alias: "d", host: "127.0.0.4"})
	_, aPort, _ := net.SplitHostPort(want["a"])
	port, _ := strconv.Atoi(aPort)
	joinCluster(t, d, "127.0.0.1", port)
	d.send(t, "!spawn_on a "+endless)
	expect(t, d, `(?m)^\[job a:2\] .* started on a as <\d+\.\d+>$`, waitFor)
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitKilled(t, a, "2", "d", endless, within)
}

// waitKilled polls !jobs on p until its job id, run for member owner, is
// killed, for at most within.
func waitKilled(t *testing.T, p *nodeProc, id, owner, file string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		p.send(t, "!jobs")
		m := expect(t, p, `(?m)^`+id+` +(running|killed) +`+owner+` +`+q(file)+`$`, waitFor)
		if m[1] == "killed" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still runs %s's job %s %v after %s went", p.alias, owner, id, within, owner)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestSpawnRefusals: a member with --remote-spawn=off refuses with a clear
// message; a program too large for a cluster message, or one that does
// not assemble, is refused here and nothing is sent.
func TestSpawnRefusals(t *testing.T) {
	t.Parallel()
	a := startNode(t, nodeSpec{alias: "a", host: "127.0.0.1", extra: []string{"--max-frame-size", "4096"}})
	d := startNode(t, nodeSpec{alias: "d", host: "127.0.0.4", extra: []string{"--remote-spawn=off"}})
	port := startCluster(t, d, "127.0.0.4")
	joinCluster(t, a, "127.0.0.4", port)
	hello := writeTestFile(t, "hello.iasm", spawnHello)
	big := writeTestFile(t, "big.iasm", ".data\nbig: .asciiz '"+strings.Repeat("x", 5000)+"'\n.code\nhlt\n")
	bad := writeTestFile(t, "bad.iasm", ".code\nlod $1 #2\n")

	a.send(t, "!spawn_on d "+hello)
	expectStderr(t, a, `(?m)^line \d+: !spawn_on d `+q(hello)+`: d refused: remote spawn is off on d \(--remote-spawn=off\)$`, waitFor)
	a.send(t, "!spawn_on d "+big)
	expectStderr(t, a, `(?m)^line \d+: !spawn_on d `+q(big)+`: the program is 5,0\d\d bytes of bytecode, 5,\d{3} with its message; a cluster message carries at most 4,0\d\d \(--max-frame-size\)$`, waitFor)
	a.send(t, "!spawn_on d "+bad)
	expectStderr(t, a, `(?m)^line \d+: !spawn_on: `+q(bad)+`:2:1: unknown mnemonic "lod"`, waitFor)
	a.send(t, "!spawn_on nobody "+hello)
	expectStderr(t, a, `(?m)^line \d+: !spawn_on nobody `+q(hello)+`: no member "nobody" is alive`, waitFor)
	d.send(t, "!jobs")
	expect(t, d, `(?m)^\(no jobs\)$`, waitFor)
}

// TestSpawnFlood: a job that prints without end streams back bounded,
// leaves the caller responsive, and is killed by !kill ALIAS:ID.
func TestSpawnFlood(t *testing.T) {
	t.Parallel()
	a := startNode(t, nodeSpec{alias: "a", host: "127.0.0.1"})
	b := startNode(t, nodeSpec{alias: "b", host: "127.0.0.2"})
	port := startCluster(t, b, "127.0.0.2")
	joinCluster(t, a, "127.0.0.2", port)
	flood := writeTestFile(t, "flood.iasm", spawnFlood)

	a.send(t, "!spawn_on b "+flood)
	expect(t, a, `(?m)^\[b:1\] flood line$`, waitFor)
	a.send(t, "load $7 #7", "!registers")
	expect(t, a, `(?m)^\$7 = 7$`, waitFor)
	a.send(t, "!kill b:1")
	expectStderr(t, a, `(?m)^\[job b:1\] `+q(flood)+` killed after \S+; registers all 0$`, waitFor)
	// Every line that came back is a flood line or a count of dropped
	// ones, whole.
	out := a.stdout.buf.String()
	lines, dropped := 0, 0
	for _, line := range strings.Split(out, "\n") {
		switch {
		case line == "[b:1] flood line":
			lines++
		case regexp.MustCompile(`^\[b:1\] … [\d,]+ lines? dropped$`).MatchString(line):
			dropped++
		case strings.HasPrefix(line, "[b:1]"):
			t.Errorf("a broken line of output: %q", line)
		}
	}
	if lines == 0 {
		t.Errorf("no flood line came back")
	}
	t.Logf("%d flood lines came back, and %d counts of dropped lines", lines, dropped)
	fmt.Fprint(a.stdin, "!quit\n")
	waitExit(t, a)
}

// TestSpawnedJobIsAProcess runs the binary with one scheduler thread: a
// job that spins does not starve a second job, which finishes; !ps lists
// the spinner by the PID !spawn printed; !kill of that PID ends job 1.
func TestSpawnedJobIsAProcess(t *testing.T) {
	t.Parallel()
	endless := writeTestFile(t, "endless.iasm", spawnEndless)
	hello := writeTestFile(t, "hello.iasm", spawnHello)
	r := runBinary(t, "!spawn "+endless+"\n!spawn "+hello+"\n!wait 2\n!ps\n!kill <1>\n!jobs\n", "--threads", "1")
	if r.code != 0 {
		t.Fatalf("exit status %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	for _, re := range []string{
		`(?m)^\[job 1\] ` + regexp.QuoteMeta(endless) + ` started, process <1>\n`,
		`(?m)^\[job 2\] ` + regexp.QuoteMeta(hello) + ` started, process <2>\n`,
		`(?m)^Hello from afar\n`,
		`(?m)^<1> +endless\.iasm +(running|runnable) `,
		`(?m)^job 1 \(` + regexp.QuoteMeta(endless) + `\) killed\n`,
		`(?m)^1 +killed +local \(you\) `,
		`(?m)^2 +finished +local \(you\) `,
	} {
		if !regexp.MustCompile(re).MatchString(r.stdout) {
			t.Errorf("stdout lacks %s:\n%s", re, r.stdout)
		}
	}
	if regexp.MustCompile(`(?m)^<2> `).MatchString(r.stdout) {
		t.Errorf("!ps lists the finished job 2:\n%s", r.stdout)
	}
}
