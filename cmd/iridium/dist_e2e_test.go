package main

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// End-to-end tests of messages across the cluster (package dist): real
// iridium processes on 127.0.0.1-3, scripted shells, programs sent with
// !spawn_on and PIDs that travel.

// writeProgram writes an assembly file into the test's directory.
func writeProgram(t *testing.T, name, src string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// echoSrc answers every integer it gets with the integer plus one, to its
// sender.
const echoSrc = `echo:   recv $10 $11
        from $12
        inc $11
        send $12 $11
        jmp $0
`

// relaySrc takes a PID p from a sender S, sends 7 to p and forwards p's
// answer to S.
const relaySrc = `        recv $1 $2
        from $3
        load $4 #7
        send $2 $4
        recv $5 $6
        send $3 $6
        hlt
`

// spawnOn runs path on member alias from p's shell and returns the PID
// the shell printed for its first process.
func spawnOn(t *testing.T, p *nodeProc, alias, path string) string {
	t.Helper()
	p.send(t, "!spawn_on "+alias+" "+path)
	m := expect(t, p, `\[job `+regexp.QuoteMeta(alias)+`:\d+\] .* started on `+regexp.QuoteMeta(alias)+` as (<\d+\.\d+>)`, waitFor)
	return m[1]
}

// selfPID returns the PID of p's shell.
func selfPID(t *testing.T, p *nodeProc) string {
	t.Helper()
	p.send(t, "!self")
	return expect(t, p, `(?m)^(<\d+>)$`, waitFor)[1]
}

// TestDistPingPongAndPIDThroughThreeNodes: a's shell sends to a program on
// b and gets its answer (a round trip between nodes); then it passes the
// PID of b's program to a program on c, which uses it: the PID crossed
// a -> c naming a process of b, and c's message reached it.
func TestDistPingPongAndPIDThroughThreeNodes(t *testing.T) {
	t.Parallel()
	procs, _ := startMesh(t)
	a := procs[0]
	echo := writeProgram(t, "echo.iasm", echoSrc)
	relay := writeProgram(t, "relay.iasm", relaySrc)
	onB := spawnOn(t, a, "b", echo)
	onC := spawnOn(t, a, "c", relay)

	a.send(t, "!send "+onB+" 41")
	pollInbox(t, a, regexp.QuoteMeta(onB)+`: 42`)

	a.send(t, "!send "+onC+" "+onB)
	// c's relay sent 7 to b's echo, which answered 8 to c, which sent it
	// here: poll the inbox for it.
	pollInbox(t, a, regexp.QuoteMeta(onC)+`: 8`)
}

// pollInbox runs !inbox until a line matching re shows.
func pollInbox(t *testing.T, p *nodeProc, re string) {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := 50
	for i := 0; i < deadline; i++ {
		p.send(t, "!inbox", "!self")
		out := expect(t, p, `(?s)(.*?)\n<\d+>\n`, waitFor)
		if rx.MatchString(out[1]) {
			return
		}
	}
	t.Fatalf("no inbox line matched %q", re)
}
