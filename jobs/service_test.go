package jobs

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/iridium-vm/iridium/internal/testkit"
	"github.com/iridium-vm/iridium/proc"
)

// floodSrc prints a line forever.
const floodSrc = ".data\nmsg: .asciiz 'flood line\\n'\n.code\nload $0 #0\neq $0 $0\nspin: prts @msg\ndjmpe @spin\n"

// cluster3 makes members n1, n2 and n3 with remote spawn on.
func cluster3(t *testing.T) *fakeNet {
	n := newFakeNet(t, 1<<20, 64)
	for _, alias := range []string{"n1", "n2", "n3"} {
		n.add(alias, &ServiceConfig{RemoteSpawn: true, ReplyTimeout: waitTimeout})
	}
	return n
}

// remoteRun is a job started elsewhere, with its output and end line.
type remoteRun struct {
	job   *Job
	out   *testkit.Buffer
	ended chan string // the end line
}

func spawnOn(t *testing.T, from *fakeNode, alias, src string) (*remoteRun, error) {
	t.Helper()
	r := &remoteRun{out: &testkit.Buffer{}, ended: make(chan string, 1)}
	j, err := from.svc.SpawnOn(context.Background(), alias, RemoteSpec{
		File: "prog.iasm", Owner: NewOwner("local"), Program: program(t, src), Output: r.out,
		Started: func(j *Job) { fmt.Fprintf(r.out, "started %s\n", j.Name()) },
		Ended:   func(j *Job) { r.ended <- EndLine(j) },
	})
	r.job = j
	return r, err
}

func mustSpawnOn(t *testing.T, from *fakeNode, alias, src string) *remoteRun {
	t.Helper()
	r, err := spawnOn(t, from, alias, src)
	if err != nil {
		t.Fatalf("SpawnOn %s: %v", alias, err)
	}
	return r
}

func (r *remoteRun) endLine(t *testing.T) string {
	t.Helper()
	select {
	case line := <-r.ended:
		return line
	case <-time.After(waitTimeout):
		t.Fatalf("job %s did not end; output so far:\n%s", r.job.Name(), r.out.String())
		return ""
	}
}

// TestSpawnOnEnds runs programs on another member and checks the output,
// the end line and the jobs on both sides.
func TestSpawnOnEnds(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		output  string
		endHas  []string
		waitErr bool
	}{
		{"done", helloSrc, "started n2:1\n[n2:1] Hello, world!\n", []string{"[job n2:1] prog.iasm done after ", "; registers $5 = 42"}, false},
		{"fault", faultSrc, "started n2:1\n", []string{"[job n2:1] prog.iasm fault after ", ": pc 4: div $0 $1 $2: division by zero", "$1 = 0"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := cluster3(t)
			r := mustSpawnOn(t, n.get("n1"), "n2", tt.src)
			line := r.endLine(t)
			for _, want := range tt.endHas {
				if want == "$1 = 0" {
					if strings.Contains(line, want) {
						t.Errorf("end line %q shows a register that is 0", line)
					}
					continue
				}
				if !strings.Contains(line, want) {
					t.Errorf("end line %q, want %q in it", line, want)
				}
			}
			if got := r.out.String(); got != tt.output {
				t.Errorf("output %q, want %q", got, tt.output)
			}
			if mine, err := n.get("n1").table.Lookup("n2:1"); err != nil || mine != r.job {
				t.Errorf("n1's table: %v, %v; want the job as n2:1", mine, err)
			}
			theirs, err := n.get("n2").table.Lookup("1")
			if err != nil || theirs.Owner.String() != "n1" {
				t.Fatalf("n2's table: %v; want job 1 run for n1", err)
			}
		})
	}
}

// TestSpawnAll runs a program on three members, this one included.
func TestSpawnAll(t *testing.T) {
	n := cluster3(t)
	res, err := n.get("n1").svc.SpawnAll(context.Background(), RemoteSpec{File: "hello", Owner: NewOwner("local"), Program: program(t, helloSrc)}, waitTimeout)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 {
		t.Fatalf("%d results, want 3: %+v", len(res), res)
	}
	for i, r := range res {
		want := fmt.Sprintf("n%d", i+1)
		if r.Member != want || r.Status != "done" || len(r.Lines) != 1 || r.Lines[0] != "Hello, world!" || len(r.Regs) != 1 || r.Regs[0].String() != "$5 = 42" {
			t.Errorf("result %d: %+v; want %s done with its hello and $5", i, r, want)
		}
	}
}

// TestClusterJobsAndRemoteKill lists an endless job from a third member,
// kills it from there, and checks that the caller hears it was killed.
func TestClusterJobsAndRemoteKill(t *testing.T) {
	n := cluster3(t)
	r := mustSpawnOn(t, n.get("n1"), "n2", endlessSrc)
	rows, missing, err := n.get("n3").svc.ClusterJobs(context.Background())
	if err != nil || len(missing) > 0 {
		t.Fatalf("ClusterJobs: %v, missing %v", err, missing)
	}
	found := false
	for _, row := range rows {
		found = found || row.Name == "n2:1" && row.Owner == "n1" && row.State == "running" && row.File == "prog.iasm"
		if strings.HasPrefix(row.Name, "n1:") {
			t.Errorf("row %+v: a job n1 started elsewhere is listed under n1", row)
		}
	}
	if !found {
		t.Fatalf("rows %+v; want n2:1 run for n1, running", rows)
	}
	waited := make(chan string, 1)
	go func() {
		state, err := n.get("n3").svc.WaitOn(context.Background(), "n2", 1, time.Millisecond)
		if err != nil {
			t.Errorf("WaitOn: %v", err)
		}
		waited <- state
	}()
	if err := n.get("n1").svc.KillOn(context.Background(), "n2", 1); err != nil { // a member stops only its own jobs
		t.Fatalf("KillOn: %v", err)
	}
	select {
	case state := <-waited:
		if state != "killed" {
			t.Errorf("WaitOn says %q, want killed", state)
		}
	case <-time.After(waitTimeout):
		t.Fatal("WaitOn did not return after the job was killed")
	}
	if _, err := n.get("n3").svc.WaitOn(context.Background(), "n2", 42, time.Millisecond); err == nil || !strings.Contains(err.Error(), "no job 42 on n2") {
		t.Errorf("WaitOn of no job: %v", err)
	}
	if line := r.endLine(t); !strings.Contains(line, "[job n2:1] prog.iasm killed after ") {
		t.Fatalf("end line %q, want killed", line)
	}
	err = n.get("n1").svc.KillOn(context.Background(), "n2", 1)
	if err == nil || !strings.Contains(err.Error(), "n2 refused: job n2:1 (prog.iasm) has already stopped (killed)") {
		t.Fatalf("second KillOn: %v", err)
	}
	if err := n.get("n3").svc.KillOn(context.Background(), "n2", 99); err == nil || !strings.Contains(err.Error(), "no job 99 on n2") {
		t.Fatalf("KillOn of no job: %v", err)
	}
}

// TestMemberGone checks link semantics both ways: a job on a member that
// fails is lost; a job run for a member that fails is stopped.
func TestMemberGone(t *testing.T) {
	n := cluster3(t)
	r := mustSpawnOn(t, n.get("n1"), "n2", endlessSrc)
	n.fail("n2", "failed")
	if line := r.endLine(t); !strings.Contains(line, "[job n2:1] prog.iasm lost after ") || !strings.Contains(line, ": n2 failed") {
		t.Fatalf("end line %q, want lost because n2 failed", line)
	}

	mustSpawnOn(t, n.get("n1"), "n3", endlessSrc)
	theirs, err := n.get("n3").table.Lookup("1")
	if err != nil {
		t.Fatal(err)
	}
	n.fail("n1", "left")
	testkit.EventuallyNil(t, waitTimeout, "n3 to stop the job of n1", func() error {
		if state, _ := theirs.Status(); state != Killed {
			return fmt.Errorf("job is %s", state)
		}
		return nil
	})
}

// TestKillOwnerStopsRemoteJobs checks that a shell closing on a shared
// table stops the jobs it started on other members.
func TestKillOwnerStopsRemoteJobs(t *testing.T) {
	n := cluster3(t)
	r := mustSpawnOn(t, n.get("n1"), "n2", endlessSrc)
	n.get("n1").table.KillOwner(r.job.Owner)
	if line := r.endLine(t); !strings.Contains(line, "killed") {
		t.Fatalf("end line %q, want killed", line)
	}
}

// TestRefusals checks the requests a member refuses, and those refused
// before anything is sent.
func TestRefusals(t *testing.T) {
	n := newFakeNet(t, 4096, 64)
	n1 := n.add("n1", &ServiceConfig{RemoteSpawn: true, ReplyTimeout: waitTimeout})
	n.add("off", &ServiceConfig{RemoteSpawn: false, ReplyTimeout: waitTimeout})
	n.add("one", &ServiceConfig{RemoteSpawn: true, MaxRemoteJobs: 1, ReplyTimeout: waitTimeout})
	n.add("old", nil)
	mustSpawnOn(t, n1, "one", endlessSrc)
	big := ".data\nbig: .asciiz '" + strings.Repeat("x", 5000) + "'\n.code\nhlt\n"
	tests := []struct {
		name, to, src, errHas string
	}{
		{"remote spawn off", "off", helloSrc, "off refused: remote spawn is off on off (--remote-spawn=off)"},
		{"remote job cap", "one", helloSrc, "one refused: one runs 1 programs for other members already, the most it takes (--max-remote-jobs)"},
		{"unknown kind", "old", helloSrc, "old does not know spawn.v1 messages"},
		{"no such member", "n9", helloSrc, `no member "n9" is alive`},
		{"no such member, raw (the shell escapes it)", "n\x1b9", helloSrc, "no member \"n\x1b9\" is alive"},
		{"itself", "n1", helloSrc, "n1 is this node"},
		{"too large", "one", big, "a cluster message carries at most 4,096 (--max-frame-size)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := spawnOn(t, n1, tt.to, tt.src)
			if err == nil || !strings.Contains(err.Error(), tt.errHas) {
				t.Fatalf("SpawnOn %s: %v; want %q", tt.to, err, tt.errHas)
			}
		})
	}
}

// blockingWriter is a terminal that takes nothing until released.
type blockingWriter struct {
	release chan struct{}
	testkit.Buffer
}

func (w *blockingWriter) Write(p []byte) (int, error) {
	<-w.release
	return w.Buffer.Write(p)
}

// TestFlood runs a program that prints without end to a caller whose
// terminal does not read: lines are dropped and counted on the way, the
// job can still be killed, and what was printed ends with its end line.
func TestFlood(t *testing.T) {
	n := newFakeNet(t, 4096, 4)
	n1 := n.add("n1", &ServiceConfig{RemoteSpawn: true, ReplyTimeout: waitTimeout})
	n.add("n2", &ServiceConfig{RemoteSpawn: true, ReplyTimeout: waitTimeout})
	out := &blockingWriter{release: make(chan struct{})}
	ended := make(chan string, 1)
	j, err := n1.svc.SpawnOn(context.Background(), "n2", RemoteSpec{File: "flood", Owner: NewOwner("local"),
		Program: program(t, floodSrc), Output: out, Ended: func(j *Job) { ended <- EndLine(j) }})
	if err != nil {
		t.Fatal(err)
	}
	theirs, _ := n.get("n2").table.Lookup("1")
	// Wait until the caller has had to drop lines: its queue is full.
	testkit.EventuallyNil(t, waitTimeout, "the caller's queue to fill", func() error {
		n1.svc.mu.Lock()
		tr := n1.svc.tracked["n2:1"]
		n1.svc.mu.Unlock()
		tr.pr.mu.Lock()
		defer tr.pr.mu.Unlock()
		if tr.pr.lines < maxQueuedLines {
			return fmt.Errorf("%d lines queued", tr.pr.lines)
		}
		return nil
	})
	j.Kill()
	close(out.release)
	select {
	case line := <-ended:
		if !strings.Contains(line, "flood killed after") {
			t.Errorf("end line %q", line)
		}
	case <-time.After(waitTimeout):
		t.Fatal("the flood did not end")
	}
	if state, _ := theirs.Status(); state != Killed {
		t.Errorf("n2's job is %s, want killed", state)
	}
	text := out.String()
	if !strings.Contains(text, "[n2:1] flood line\n") || !strings.Contains(text, " lines dropped\n") {
		t.Fatalf("output (%d bytes) lacks lines or a dropped count:\n%.500s", len(text), text)
	}
	// The printer holds one batch taken from the queue and a full queue;
	// after the release, what was still on the link when the job was
	// killed (the fake link's 4 messages and one being received, of 4,096
	// bytes of "flood line\n" each) may follow, and what the program
	// printed in the scheduler's turn in which the kill came (it ends at
	// the end of that turn; its loop prints a line every two
	// instructions), and what n2's output queue held then (the program's
	// output goes through one, proc.DefaultOutputLimit bytes, on its way
	// to the link).
	inFlight := (5*4096+proc.DefaultOutputLimit)/len("flood line\n") + proc.DefaultReductions/2
	if lines := strings.Count(text, "\n"); lines > 2*maxQueuedLines+inFlight+10 {
		t.Errorf("%d lines printed, more than the queue, one batch and the link hold", lines)
	}
}

// TestMalformedReported sends garbage of every kind and checks that it is
// reported, once a second at most, and breaks nothing.
func TestMalformedReported(t *testing.T) {
	var mu sync.Mutex
	var reports []string
	n := newFakeNet(t, 1<<20, 64)
	n1 := n.add("n1", &ServiceConfig{RemoteSpawn: true, Report: func(s string) { mu.Lock(); reports = append(reports, s); mu.Unlock() }})
	n.add("n2", &ServiceConfig{RemoteSpawn: true})
	for _, kind := range Kinds() {
		n1.svc.Receive("n2", kind, []byte("\xc1garbage\x1b[2J"))
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reports) != 1 || !strings.Contains(reports[0], "dropped a message from n2") || strings.Contains(reports[0], "\x1b") {
		t.Fatalf("reports %q; want one, escaped", reports)
	}
}

// TestOutboxDropsWhileLinkBusy checks the member's side of a flood: while
// the link refuses, output is held up to maxSendBuffer, further lines are
// counted as dropped, and the count goes with the next message.
func TestOutboxDropsWhileLinkBusy(t *testing.T) {
	var mu sync.Mutex
	busy := true
	var sent []outputMsg
	ob := &outbox{batch: 1024, stop: make(chan struct{})}
	ob.send = func(ctx context.Context, text []byte, dropped uint64) error {
		mu.Lock()
		defer mu.Unlock()
		if busy {
			<-ctx.Done() // no room until the deadline
			return fmt.Errorf("send: %w", ctx.Err())
		}
		sent = append(sent, outputMsg{Text: append([]byte(nil), text...), Dropped: dropped})
		return nil
	}
	line := strings.Repeat("y", 99) + "\n"
	total := 2 * maxSendBuffer / len(line)
	for i := 0; i < total; i++ {
		ob.Write([]byte(line))
	}
	ob.mu.Lock()
	held, dropped := len(ob.pending), ob.dropped
	ob.mu.Unlock()
	if held > maxSendBuffer || dropped == 0 || uint64(held/len(line))+dropped != uint64(total) {
		t.Fatalf("held %d bytes and dropped %d lines of %d; want at most %d bytes held and the rest counted", held, dropped, total, maxSendBuffer)
	}
	mu.Lock()
	busy = false
	mu.Unlock()
	if left := ob.finish(waitTimeout); left != 0 {
		t.Fatalf("finish dropped %d lines with the link free", left)
	}
	var lines, reported uint64
	for _, m := range sent {
		lines += uint64(strings.Count(string(m.Text), "\n"))
		reported += m.Dropped
		if len(m.Text) > 1024 {
			t.Errorf("a message of %d bytes, more than the batch", len(m.Text))
		}
	}
	if lines+reported != uint64(total) || reported != dropped {
		t.Fatalf("sent %d lines and reported %d dropped, of %d (%d dropped)", lines, reported, total, dropped)
	}
}

// waitPending waits until svc has n requests waiting for their answer.
func waitPending(t *testing.T, svc *Service, n int) {
	t.Helper()
	testkit.EventuallyNil(t, waitTimeout, "the requests", func() error {
		svc.mu.Lock()
		defer svc.mu.Unlock()
		if len(svc.pending) != n {
			return fmt.Errorf("%d requests pending, want %d", len(svc.pending), n)
		}
		return nil
	})
}

// TestHostileMember sends, from one member, answers to requests made to
// another and messages about its jobs: all are ignored; the true answer
// still counts.
func TestHostileMember(t *testing.T) {
	svc := NewService(ServiceConfig{Table: NewTable(1), Transport: discardTransport{}, ReplyTimeout: waitTimeout})
	send := func(from, kind string, m wireMsg) {
		payload := encode(m)
		svc.Receive(from, kind, payload)
	}
	var out testkit.Buffer
	spec := RemoteSpec{File: "prog", Owner: NewOwner("me"), Program: program(t, endlessSrc), Output: &out}
	got := make(chan *Job, 1)
	go func() {
		j, err := svc.SpawnOn(context.Background(), "peer", spec)
		if err != nil {
			t.Errorf("SpawnOn: %v", err)
		}
		got <- j
	}()
	waitPending(t, svc, 1)
	send("evil", KindReply, &replyMsg{Req: 1, ID: 9}) // not evil's request
	send("evil", KindTable, &tableMsg{Req: 1})        // not a list request, nor evil's
	send("peer", KindTable, &tableMsg{Req: 1})        // not a list request
	send("peer", KindReply, &replyMsg{Req: 1, ID: 4}) // the answer
	j := <-got
	if j == nil || j.Name() != "peer:4" {
		t.Fatalf("job %v, want peer:4", j)
	}
	send("evil", KindOutput, &outputMsg{ID: 4, Text: []byte("forged\n")})
	send("evil", KindEnd, &endMsg{ID: 4, State: "done"})
	send("peer", KindOutput, &outputMsg{ID: 4, Text: []byte("\x1b[2Jreal\n")})
	send("peer", KindEnd, &endMsg{ID: 4, State: "done", RunNS: int64(time.Second)})
	waitDone(t, j)
	if got := out.String(); got != "[peer:4] \x1b[2Jreal\n" {
		t.Errorf("output %q, want peer's line only, as sent (the shell escapes it)", got)
	}
	if state, _ := j.Status(); state != Finished || j.RunTime() != time.Second {
		t.Errorf("job %s after %v, want finished after 1s", state, j.RunTime())
	}
}

// TestOutboxLinkGone checks that output to a caller that cannot be
// reached at all is dropped at once, not retried until the deadline.
func TestOutboxLinkGone(t *testing.T) {
	calls := 0
	ob := &outbox{batch: 1024, stop: make(chan struct{})}
	ob.send = func(context.Context, []byte, uint64) error { calls++; return errUnknownMember }
	ob.Write([]byte("one\ntwo\nthree"))
	if left := ob.finish(waitTimeout); left != 3 {
		t.Errorf("finish dropped %d lines, want 3", left)
	}
	if calls != 1 {
		t.Errorf("finish tried to send %d times to a link that is gone, want once", calls)
	}
}

// TestOddFileName sends a program whose name is not UTF-8, and one with a
// very long name: both run, under a name made valid UTF-8 and cut to
// maxFileName (kept raw otherwise: escaped where it is shown).
func TestOddFileName(t *testing.T) {
	n := cluster3(t)
	for i, name := range []string{"bad\xffname\x1b.iasm", strings.Repeat("long/", 100) + "p.iasm"} {
		ended := make(chan *Job, 1)
		_, err := n.get("n1").svc.SpawnOn(context.Background(), "n2", RemoteSpec{File: name, Owner: NewOwner("me"),
			Program: program(t, helloSrc), Output: &testkit.Buffer{}, Ended: func(j *Job) { ended <- j }})
		if err != nil {
			t.Fatalf("SpawnOn %q: %v", name, err)
		}
		<-ended
		theirs, err := n.get("n2").table.Lookup(fmt.Sprint(i + 1))
		if err != nil {
			t.Fatal(err)
		}
		if f := theirs.File; len(f) > maxFileName || !utf8.ValidString(f) || i == 0 && f != "bad?name\x1b.iasm" {
			t.Errorf("n2 keeps the name %q (%d bytes)", f, len(f))
		}
	}
}

// TestRemoteFaultsForgotten is the hostile member of the job table: it
// sends thousands of spawn.v1 requests of a program that faults at once.
// No one on this node waits for those jobs, yet the table must stay
// within KeepJobs: a job run for another member is reported once its end
// is sent.
func TestRemoteFaultsForgotten(t *testing.T) {
	const spawns = MaxKeptJobs + MaxKeptJobs/2
	tb := NewTable(DefaultMaxRemoteJobs)
	defer tb.Close()
	svc := NewService(ServiceConfig{Table: tb, Transport: discardTransport{}, RemoteSpawn: true, ReplyTimeout: waitTimeout,
		MaxRemoteJobsPerMember: DefaultMaxRemoteJobs}) // one member fills every place
	code, err := program(t, faultSrc).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= spawns; i++ {
		payload := encode(&spawnMsg{Req: uint64(i), File: "fault.iasm", Code: code})
		svc.Receive("evil", KindSpawn, payload)
		if i%DefaultMaxRemoteJobs == 0 || i == spawns { // at most MaxRemoteJobs at once
			testkit.EventuallyNil(t, waitTimeout, "the remote jobs to end", func() error {
				svc.mu.Lock()
				defer svc.mu.Unlock()
				if running := svc.remoteRunningLocked(); running != 0 {
					return fmt.Errorf("%d remote jobs running", running)
				}
				return nil
			})
		}
	}
	list := tb.List()
	if len(list) > KeepJobs {
		t.Fatalf("after %d faulting remote spawns the table holds %d jobs, want at most %d", spawns, len(list), KeepJobs)
	}
	if last := list[len(list)-1]; last.ID != spawns {
		t.Errorf("the newest job kept is %d, want %d", last.ID, spawns)
	}
	if state, _ := list[len(list)-1].Status(); state != Faulted {
		t.Errorf("the newest job is %s, want faulted", state)
	}
}

// TestTableBadRowsDropped answers !cluster_jobs with job tables that hold
// bad rows: the good rows are shown at once (no wait for the reply
// timeout), the bad ones dropped, and the drop reported.
func TestTableBadRowsDropped(t *testing.T) {
	reports := make(chan string, 4)
	svc := NewService(ServiceConfig{Table: NewTable(1), Transport: discardTransport{}, ReplyTimeout: time.Hour,
		Report: func(s string) { reports <- s }})
	type result struct {
		rows    []JobRow
		missing []string
	}
	got := make(chan result, 1)
	go func() {
		rows, missing, err := svc.ClusterJobs(context.Background())
		if err != nil {
			t.Errorf("ClusterJobs: %v", err)
		}
		got <- result{rows, missing}
	}()
	waitPending(t, svc, 2)
	send := func(from string, m *tableMsg) {
		payload := encode(m)
		svc.Receive(from, KindTable, payload)
	}
	row := func(id int, runNS int64) jobInfoMsg {
		return jobInfoMsg{ID: id, Owner: "sh", File: "p", State: "finished", RunNS: runNS}
	}
	send("evil", &tableMsg{Req: 1, Jobs: []jobInfoMsg{row(1, int64(time.Second)), row(2, math.MaxInt64), row(3, -5)}})
	send("peer", &tableMsg{Req: 2, Jobs: []jobInfoMsg{row(7, 1)}})
	var r result
	select {
	case r = <-got:
	case <-time.After(waitTimeout):
		t.Fatal("ClusterJobs did not answer")
	}
	var names []string
	for _, j := range r.rows {
		names = append(names, j.Name)
	}
	if strings.Join(names, " ") != "evil:1 peer:7" || len(r.missing) != 0 {
		t.Errorf("rows %v, missing %q; want evil:1 and peer:7, none missing", names, r.missing)
	}
	if rep := <-reports; !strings.Contains(rep, "dropped 2 bad rows of the job table from evil, kept 1") || !strings.Contains(rep, "over ten years") {
		t.Errorf("report %q; want the 2 bad rows of evil's table", rep)
	}
}

// TestForgedErrorClipped sends the end of a job with an error text at the
// limit, every byte of which escaping makes four: the end line holds it
// raw and no longer than the limit (the shell escapes it to show it).
func TestForgedErrorClipped(t *testing.T) {
	svc := NewService(ServiceConfig{Table: NewTable(1), Transport: discardTransport{}, ReplyTimeout: waitTimeout})
	ended := make(chan string, 1)
	spec := RemoteSpec{File: "prog", Owner: NewOwner("me"), Program: program(t, endlessSrc), Output: &testkit.Buffer{},
		Ended: func(j *Job) { ended <- EndLine(j) }}
	svc.mu.Lock()
	j := svc.trackLocked("peer", 4, spec)
	svc.mu.Unlock()
	svc.startPrinting(j)
	for _, forged := range []string{strings.Repeat("\x01", maxErrorText), strings.Repeat("\x7f", maxErrorText)} {
		payload := encode(&endMsg{ID: 4, State: "fault", Err: forged, RunNS: int64(time.Second)})
		svc.Receive("peer", KindEnd, payload)
	}
	line := <-ended
	const prefix = "[job peer:4] prog fault after 1s: "
	if !strings.HasPrefix(line, prefix+"\x01\x01") || len(line) > len(prefix)+maxErrorText+len("; registers all 0") {
		t.Errorf("end line of %d bytes, %.60q…; want the forged error of at most %d bytes", len(line), line, maxErrorText)
	}
}

// TestRemoteJobIsAProcess runs a job for another member: it is a process
// of this member's scheduler, and ending that process by its PID ends
// the caller's job, killed.
func TestRemoteJobIsAProcess(t *testing.T) {
	n := cluster3(t)
	ended := make(chan string, 1)
	_, err := n.get("n1").svc.SpawnOn(context.Background(), "n2", RemoteSpec{File: "spin.iasm", Owner: NewOwner("local"),
		Program: program(t, endlessSrc), Output: &testkit.Buffer{}, Ended: func(j *Job) { ended <- EndLine(j) }})
	if err != nil {
		t.Fatal(err)
	}
	theirs, err := n.get("n2").table.Lookup("1")
	if err != nil {
		t.Fatal(err)
	}
	sched := n.get("n2").table.Scheduler()
	listed := false
	for _, in := range sched.Processes() {
		listed = listed || (in.PID == theirs.PID() && in.Program == "spin.iasm")
	}
	if theirs.PID() == 0 || !listed {
		t.Fatalf("n2's job (PID %v) is not among its processes %+v", theirs.PID(), sched.Processes())
	}
	if err := sched.Kill(theirs.PID()); err != nil {
		t.Fatal(err)
	}
	select {
	case line := <-ended:
		if !strings.Contains(line, "spin.iasm killed after") {
			t.Errorf("end line %q", line)
		}
	case <-time.After(waitTimeout):
		t.Fatal("the job did not end")
	}
}
