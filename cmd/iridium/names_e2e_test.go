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
	"time"
)

// End-to-end tests of registered names across the cluster: real iridium
// processes on 127.0.0.1 and 127.0.0.2, scripted shells.

// counterSrc registers itself as "counter" and answers every integer
// with the integer plus one, to its sender.
const counterSrc = `.data
name:   .asciiz 'counter'
.code
        reg @name
        load $0 @echo
` + echoSrc

// finderSrc, on n2, finds the counter of n1 by name, asks it 41 and
// reports to the shell registered there as "sh2" the answer, then what a
// name nobody holds and a member that does not exist give.
const finderSrc = `.data
counter: .asciiz 'counter@n1'
nobody:  .asciiz 'nobody@n1'
nomember: .asciiz 'counter@n9'
shell:   .asciiz 'sh2'
.code
        whereis $20 @shell
        whereis $0 @counter
        load $1 #41
        send $0 $1
        recv $2 $3
        send $20 $3
        whereis $4 @nobody
        send $20 $4
        whereis $5 @nomember
        send $20 $5
        sendp $20 $0
        hlt
`

// flooderSrc asks n1 for its counter as fast as the answers come, until
// 1,000 lookups have given 0 (refused: over n1's rate for this member)
// or 50,000 were asked, and sends the shell "sh2" how many found it, then
// how many it asked.
const flooderSrc = `.data
counter: .asciiz 'counter@n1'
shell:   .asciiz 'sh2'
.code
        whereis $20 @shell
        load $1 #0              ; found
        load $2 #0              ; refused
        load $3 #0              ; asked
        load $4 #1000
        load $5 #50000
        load $6 #0
        load $8 @next
ask:    whereis $0 @counter
        inc $3
        eq $0 $6
        djmpe @zero
        inc $1
        jmp $8
zero:   inc $2
next:   gte $2 $4
        djmpe @done
        gte $3 $5
        djmpe @done
        load $7 @ask
        jmp $7
done:   send $20 $1
        send $20 $3
        hlt
`

// startNamesPair starts n1 on 127.0.0.1 and n2 on 127.0.0.2, joined.
func startNamesPair(t *testing.T) (n1, n2 *nodeProc) {
	t.Helper()
	n1 = startNode(t, nodeSpec{alias: "n1", host: "127.0.0.1"})
	n2 = startNode(t, nodeSpec{alias: "n2", host: "127.0.0.2"})
	port := startCluster(t, n1, "127.0.0.1")
	want := joinCluster(t, n2, "127.0.0.1", port)
	waitMembers(t, n1, want, waitFor)
	return n1, n2
}

// TestNamesAcrossNodes: a program on n1 registers "counter"; a program
// on n2 finds it with whereis counter@n1 and sends to it, and gets its
// answer; !registered n1 lists it on n2, and n2's shell sends to it by
// name. A flood of lookups from n2 is answered at n1's bounded rate.
func TestNamesAcrossNodes(t *testing.T) {
	t.Parallel()
	n1, n2 := startNamesPair(t)
	counter := writeTestFile(t, "counter.iasm", counterSrc)
	n1.send(t, "!spawn "+counter)
	expect(t, n1, `\[job 1\] .*counter.iasm started, process (<\d+>)`, waitFor)
	poll(t, n1, "!registered", `(?m)^counter +<\d+>$`, false)

	// n2 lists n1's names, PIDs as n2 writes them.
	m := poll(t, n2, "!registered n1", `names of n1 \(their PIDs as this node writes them\):\nNAME +PID\ncounter +(<\d+\.\d+>)\n`, false)
	remote := m[1]

	// A program of n2 finds it by name and talks to it.
	n2.send(t, "!register sh2")
	expect(t, n2, `(?m)^<\d+> registered as "sh2"$`, waitFor)
	finder := writeTestFile(t, "finder.iasm", finderSrc)
	n2.send(t, "!spawn "+finder)
	poll(t, n2, "!inbox", `<\d+>: 42\n<\d+>: 0\n<\d+>: 0\n<\d+>: pid `+regexp.QuoteMeta(remote)+`\n`, true)

	// n2's shell sends to it by name; the answer comes back from it.
	n2.send(t, "!send counter@n1 99")
	expect(t, n2, `(?m)^sent to `+regexp.QuoteMeta(remote)+` \(counter@n1\)$`, waitFor)
	poll(t, n2, "!inbox", regexp.QuoteMeta(remote)+`: 100\n`, true)
	n2.send(t, "!send nobody@n1 1")
	expectStderr(t, n2, `no process is registered as "nobody@n1"`, waitFor)

	// The flood: n1 answers one member's lookups at 200 a second after
	// a burst of 100 (dist's defaults); the rest are refused and give 0.
	flooder := writeTestFile(t, "flooder.iasm", flooderSrc)
	began := time.Now()
	n2.send(t, "!spawn "+flooder)
	pid := expect(t, n2, `\[job \d+\] .*flooder.iasm started, process (<\d+>)`, waitFor)[1]
	m = poll(t, n2, "!inbox", pid+`: (\d+)\n`+pid+`: (\d+)\n`, true)
	took := time.Since(began).Seconds()
	found, _ := strconv.Atoi(m[1])
	asked, _ := strconv.Atoi(m[2])
	limit := 100 + int(200*took) + 1
	t.Logf("flood: %d lookups in at most %.2f s, %d answered (limit %d)", asked, took, found, limit)
	if found > limit || found < 100 || asked-found < 1000 {
		t.Errorf("flood: %d of %d lookups answered in %.2f s; want 100 (the burst) to %d, and 1,000 refused", found, asked, took, limit)
	}

	// n1 stops answering (SIGSTOP): a lookup gives 0 within the 2 s
	// time-out (or sooner, once n1 is found failed), and the process
	// that asked goes on.
	if err := n1.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer n1.cmd.Process.Signal(syscall.SIGCONT)
	waitStopped(t, n1)
	asker := writeTestFile(t, "asker.iasm", `.data
counter: .asciiz 'counter@n1'
shell:   .asciiz 'sh2'
.code
        whereis $20 @shell
        whereis $0 @counter
        load $1 #7
        add $0 $1 $0
        send $20 $0
        hlt
`)
	began = time.Now()
	n2.send(t, "!spawn "+asker)
	pid = expect(t, n2, `\[job \d+\] .*asker.iasm started, process (<\d+>)`, waitFor)[1]
	poll(t, n2, "!inbox", pid+`: 7\n`, true)
	took = time.Since(began).Seconds()
	t.Logf("a lookup of a stopped member gave 0 after at most %.2f s", took)
	if took > 3 {
		t.Errorf("a lookup of a stopped member took %.2f s, want at most the 2 s time-out (and a second for the test)", took)
	}
}

// poll sends line (and !self, to mark the end of its output) to p until
// its output matches re, for at most waitFor, and returns the
// submatches. With keep, re is matched against all the outputs so far,
// as for !inbox, each of whose outputs takes what has come.
func poll(t *testing.T, p *nodeProc, line, re string, keep bool) []string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(waitFor)
	var seen strings.Builder
	for {
		p.send(t, line, "!self")
		out := expect(t, p, `(?s)(.*?)\n<\d+>\n`, waitFor)
		if !keep {
			seen.Reset()
		}
		seen.WriteString(out[1] + "\n")
		if m := rx.FindStringSubmatch(seen.String()); m != nil {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %q: %s never printed a match for %q; got:\n%s", p.alias, line, re, seen.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// waitStopped waits until every thread of p has stopped, after a
// SIGSTOP. kill(2) returns before they have: one thread takes the signal
// and then stops the others, and until the scheduler gives it a CPU the
// rest run on. On a loaded machine p then still answers for a while,
// even a request sent after the SIGSTOP.
func waitStopped(t *testing.T, p *nodeProc) {
	t.Helper()
	deadline := time.Now().Add(waitFor)
	for {
		running, err := runningThreads(p.cmd.Process.Pid)
		if err != nil {
			t.Skipf("node %q: cannot see whether it stopped: %v", p.alias, err)
		}
		if running == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %q: %d threads still not stopped %v after SIGSTOP", p.alias, running, waitFor)
		}
		time.Sleep(time.Millisecond)
	}
}

// runningThreads counts the threads of the process pid that are not
// stopped, from /proc (Linux).
func runningThreads(pid int) (int, error) {
	dir := filepath.Join("/proc", strconv.Itoa(pid), "task")
	tasks, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	running := 0
	for _, task := range tasks {
		stat, err := os.ReadFile(filepath.Join(dir, task.Name(), "stat"))
		if err != nil {
			continue // the thread ended meanwhile
		}
		// pid (comm) state ...: comm may hold anything, so the state is
		// after its last ')'.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 || i+2 >= len(stat) {
			return 0, fmt.Errorf("%s/%s/stat: no state in %q", dir, task.Name(), stat)
		}
		if state := stat[i+2]; state != 'T' && state != 't' {
			running++
		}
	}
	return running, nil
}
