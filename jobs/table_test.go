package jobs

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
	"github.com/iridium-vm/iridium/proc"
	"github.com/iridium-vm/iridium/vm"
	"github.com/iridium-vm/iridium/vm/asm"
)

const (
	helloSrc = ".data\nhello: .asciiz 'Hello, world!\\n'\n.code\nprts @hello\nload $5 #42\nhlt\n"
	// endlessSrc loops until it is stopped.
	endlessSrc = ".code\nload $0 #0\neq $0 $0\nspin: djmpe @spin\n"
	faultSrc   = ".code\nload $1 #0\ndiv $0 $1 $2\n"
)

// waitTimeout bounds every wait of these tests; polls end far sooner.
const waitTimeout = 10 * time.Second

func program(t testing.TB, src string) *vm.Program {
	t.Helper()
	p, err := asm.Assemble("test.iasm", src)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func start(t *testing.T, tb *Table, owner *Owner, src string, out *testkit.Buffer) *Job {
	t.Helper()
	if out == nil {
		out = &testkit.Buffer{}
	}
	j, err := tb.Start(context.Background(), Spec{File: "test.iasm", Owner: owner, Program: program(t, src), Output: out})
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	return j
}

func waitDone(t *testing.T, j *Job) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	if err := j.Wait(ctx); err != nil {
		t.Fatalf("job %s did not end: %v", j.Name(), err)
	}
}

// TestJobEnds runs programs to each end a local job can have and checks
// the state, the error, the output and the registers left.
func TestJobEnds(t *testing.T) {
	tests := []struct {
		name    string
		src     string
		kill    bool
		state   State
		errHas  string
		output  string
		changed []string
	}{
		{name: "finished", src: helloSrc, state: Finished, output: "Hello, world!\n", changed: []string{"$5 = 42"}},
		{name: "faulted", src: faultSrc, state: Faulted, errHas: "division by zero"},
		{name: "killed", src: endlessSrc, kill: true, state: Killed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tb := NewTable(4)
			defer tb.Close()
			var out testkit.Buffer
			j := start(t, tb, NewOwner("me"), tt.src, &out)
			if tt.kill {
				j.Kill()
			}
			waitDone(t, j)
			state, err := j.Status()
			if state != tt.state {
				t.Errorf("state %s, want %s", state, tt.state)
			}
			if tt.errHas == "" && err != nil || tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)) {
				t.Errorf("error %v, want one with %q", err, tt.errHas)
			}
			if out.String() != tt.output {
				t.Errorf("output %q, want %q", out.String(), tt.output)
			}
			var changed []string
			for _, r := range j.Changed() {
				if r.Index != 0 { // endless uses $0 as its loop value
					changed = append(changed, r.String())
				}
			}
			if strings.Join(changed, ",") != strings.Join(tt.changed, ",") {
				t.Errorf("changed registers %q, want %q", changed, tt.changed)
			}
		})
	}
}

// TestStartedAndEndedOrder checks that Started runs before any output and
// Ended before Done is closed.
func TestStartedAndEndedOrder(t *testing.T) {
	tb := NewTable(1)
	defer tb.Close()
	var out testkit.Buffer
	var ended bool
	j, err := tb.Start(context.Background(), Spec{
		File: "hello", Owner: NewOwner("me"), Program: program(t, helloSrc), Output: &out,
		Started: func(j *Job) { out.Write([]byte("started " + j.Name() + "\n")) },
		Ended:   func(*Job) { ended = true },
	})
	if err != nil {
		t.Fatal(err)
	}
	waitDone(t, j)
	if !ended { // written before Done closed; Done's close orders it before this read
		t.Error("Ended was not called before Done closed")
	}
	if got := out.String(); got != "started 1\nHello, world!\n" {
		t.Errorf("output %q", got)
	}
}

// TestRunningCap checks that Start refuses past the cap with ErrTooMany,
// and accepts again once a job has ended.
func TestRunningCap(t *testing.T) {
	tb := NewTable(2)
	defer tb.Close()
	me := NewOwner("me")
	first := start(t, tb, me, endlessSrc, nil)
	start(t, tb, me, endlessSrc, nil)
	_, err := tb.Start(context.Background(), Spec{Owner: me, Program: program(t, endlessSrc)})
	if !errors.Is(err, ErrTooMany) || !strings.Contains(err.Error(), "2 programs run already") {
		t.Fatalf("third Start with a cap of 2: %v", err)
	}
	first.Kill()
	waitDone(t, first)
	if j := start(t, tb, me, endlessSrc, nil); j.ID != 3 {
		t.Fatalf("new job has id %d, want 3", j.ID)
	}
}

// TestForget checks that the table keeps at most KeepJobs jobs, dropping
// the oldest ended ones but not a fault no wait has reported.
func TestForget(t *testing.T) {
	tb := NewTable(1)
	defer tb.Close()
	me := NewOwner("me")
	waitDone(t, start(t, tb, me, faultSrc, nil))
	for i := 0; i < KeepJobs+20; i++ {
		waitDone(t, start(t, tb, me, helloSrc, nil))
	}
	list := tb.List()
	if len(list) > KeepJobs {
		t.Errorf("the table holds %d jobs, want at most %d", len(list), KeepJobs)
	}
	if list[0].ID != 1 || list[len(list)-1].ID != KeepJobs+21 {
		t.Errorf("the table holds jobs %d to %d; want the unreported fault (1) and the newest (%d)", list[0].ID, list[len(list)-1].ID, KeepJobs+21)
	}
	if _, err := tb.Lookup("2"); err == nil {
		t.Error("job 2, ended and old, is still in the table")
	}
}

// TestForgetHardCap checks that faults no wait reports do not grow the
// table past MaxKeptJobs: the oldest are forgotten, the newest kept.
func TestForgetHardCap(t *testing.T) {
	tb := NewTable(1)
	defer tb.Close()
	me := NewOwner("me")
	const starts = MaxKeptJobs + 50
	for i := 0; i < starts; i++ {
		waitDone(t, start(t, tb, me, faultSrc, nil))
	}
	list := tb.List()
	if len(list) > MaxKeptJobs {
		t.Fatalf("after %d unreported faults the table holds %d jobs, want at most %d", starts, len(list), MaxKeptJobs)
	}
	if first, last := list[0].ID, list[len(list)-1].ID; last != starts || last-first+1 != len(list) {
		t.Errorf("the table holds jobs %d to %d (%d); want the newest, up to %d", first, last, len(list), starts)
	}
	if got := len(tb.Unwaited(me)); got != len(list) {
		t.Errorf("Unwaited lists %d jobs, want the %d kept", got, len(list))
	}
}

// TestTrackReplacedForgotten checks that entries replaced by a job of
// the same name (a member that restarted and reused ids) do not pile up
// behind the table's back.
func TestTrackReplacedForgotten(t *testing.T) {
	tb := NewTable(1)
	defer tb.Close()
	for i := 0; i < 3*KeepJobs; i++ {
		tb.track("n2", 1, "p", nil, func(error) {})
	}
	if got := len(tb.List()); got != 1 {
		t.Errorf("List has %d jobs, want 1", got)
	}
	tb.mu.Lock()
	n := len(tb.order)
	tb.mu.Unlock()
	if n > KeepJobs {
		t.Errorf("the table remembers %d entries for one job, want at most %d", n, KeepJobs)
	}
}

// TestKillOwner checks that a shell closing on a shared table stops its
// own jobs only, and that Unwaited is per owner.
func TestKillOwner(t *testing.T) {
	tb := NewTable(4)
	defer tb.Close()
	a, b := NewOwner("a"), NewOwner("b")
	ja := start(t, tb, a, endlessSrc, nil)
	jb := start(t, tb, b, endlessSrc, nil)
	if got := tb.Unwaited(a); len(got) != 1 || got[0] != ja {
		t.Fatalf("Unwaited(a) = %v, want a's job only", got)
	}
	tb.KillOwner(a)
	if state, _ := ja.Status(); state != Killed {
		t.Errorf("a's job is %s after KillOwner(a), want killed", state)
	}
	if state, _ := jb.Status(); state != Running {
		t.Errorf("b's job is %s after KillOwner(a), want running", state)
	}
}

// TestClose checks that Close kills every job and refuses new ones.
func TestClose(t *testing.T) {
	tb := NewTable(4)
	j1 := start(t, tb, NewOwner("a"), endlessSrc, nil)
	j2 := start(t, tb, NewOwner("b"), endlessSrc, nil)
	tb.Close()
	for _, j := range []*Job{j1, j2} {
		if state, _ := j.Status(); state != Killed {
			t.Errorf("job %d is %s after Close, want killed", j.ID, state)
		}
	}
	if _, err := tb.Start(context.Background(), Spec{Program: program(t, helloSrc)}); err == nil {
		t.Error("Start after Close succeeded")
	}
}

// TestLookup checks how job names parse.
func TestLookup(t *testing.T) {
	tb := NewTable(1)
	defer tb.Close()
	waitDone(t, start(t, tb, NewOwner("a"), helloSrc, nil))
	tests := []struct {
		name, errHas string
	}{
		{"1", ""},
		{"%1", ""},
		{"2", "no job 2"},
		{"x", `"x" is not a job id`},
		{"n2:7", "no job n2:7"},
		{"n2:x", `"n2:x" is not a job name`},
		{":3", `":3" is not a job name`},
	}
	for _, tt := range tests {
		j, err := tb.Lookup(tt.name)
		switch {
		case tt.errHas == "" && (err != nil || j.ID != 1):
			t.Errorf("Lookup(%q): %v, %v; want job 1", tt.name, j, err)
		case tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)):
			t.Errorf("Lookup(%q): %v; want an error with %q", tt.name, err, tt.errHas)
		}
	}
}

// TestJobIsAProcess starts a job on a scheduler of one thread beside a
// job that spins: the job is a process, listed with its program's name;
// the second job finishes while the first still spins; killing the
// spinner's process by its PID ends that job, killed.
func TestJobIsAProcess(t *testing.T) {
	sched := proc.New(proc.Config{Threads: 1})
	defer sched.Close()
	tb := NewTableOn(sched, 4)
	defer tb.Close()
	spinner := start(t, tb, NewOwner("me"), endlessSrc, nil)
	if spinner.PID() == 0 || tb.ByPID(spinner.PID()) != spinner {
		t.Fatalf("job %s has PID %v, which ByPID does not find", spinner.Name(), spinner.PID())
	}
	listed := false
	for _, in := range sched.Processes() {
		listed = listed || (in.PID == spinner.PID() && in.Program == "test.iasm")
	}
	if !listed {
		t.Errorf("job %s (%v) not among the processes %+v", spinner.Name(), spinner.PID(), sched.Processes())
	}
	var out testkit.Buffer
	hello := start(t, tb, NewOwner("me"), helloSrc, &out)
	waitDone(t, hello)
	if state, err := hello.Status(); state != Finished || out.String() != "Hello, world!\n" {
		t.Errorf("beside a spinning job, hello ended %v (%v) and printed %q", state, err, out.String())
	}
	if state, _ := spinner.Status(); state != Running {
		t.Fatalf("the spinner is %v, want running", state)
	}
	if err := sched.Kill(spinner.PID()); err != nil {
		t.Fatal(err)
	}
	waitDone(t, spinner)
	if state, err := spinner.Status(); state != Killed || err != nil {
		t.Errorf("the spinner killed by its PID ended %v (%v), want killed", state, err)
	}
}

// TestJobSpawnsProcesses runs a job whose program spawns a process that
// spins: the job ends when its first process does, and the spinner
// with it.
func TestJobSpawnsProcesses(t *testing.T) {
	sched := proc.New(proc.Config{Threads: 1})
	defer sched.Close()
	tb := NewTableOn(sched, 4)
	defer tb.Close()
	j := start(t, tb, NewOwner("me"), ".code\nload $0 @spin\nspawn $0 $1\nhlt\nspin: jmp $0\n", nil)
	waitDone(t, j)
	testkit.EventuallyNil(t, waitTimeout, "the spawned process to end", func() error {
		if n := sched.Live(); n != 0 {
			return fmt.Errorf("%d processes live", n)
		}
		return nil
	})
}
