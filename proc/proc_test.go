package proc

import (
	"bytes"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/vm"
	"github.com/iridium-vm/iridium/vm/asm"
)

// syncBuffer is a bytes.Buffer safe for the writes of many processes and
// the reads of a test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// result is what a test program did.
type result struct {
	out, faults string
	exit        Exit
	s           *Scheduler
	h           *Handle
}

// start assembles src and starts it on a new scheduler, closed when the
// test ends, after the setups, if any, have been called with it.
func start(t *testing.T, cfg Config, src string, setups ...func(*Scheduler)) (*Scheduler, *Handle, *syncBuffer, *syncBuffer) {
	t.Helper()
	p, err := asm.Assemble("test.iasm", src)
	if err != nil {
		t.Fatalf("assemble: %v", err)
	}
	s := New(cfg)
	t.Cleanup(s.Close)
	for _, setup := range setups {
		setup(s)
	}
	var out, faults syncBuffer
	h, err := s.Start(p, StartOptions{Name: "test", VM: vm.Config{Stdout: &out}, Faults: &faults})
	if err != nil {
		t.Fatal(err)
	}
	return s, h, &out, &faults
}

// runMain runs src until its first process ends (within a deadline that
// only a hang reaches); setups as for start.
func runMain(t *testing.T, cfg Config, src string, setups ...func(*Scheduler)) result {
	t.Helper()
	s, h, out, faults := start(t, cfg, src, setups...)
	select {
	case <-h.Done():
	case <-s.Deadlocked():
		t.Fatalf("deadlock: %d processes waiting; output so far:\n%s", s.Waiting(), out)
	case <-time.After(20 * time.Second):
		t.Fatalf("the first process did not end; output so far:\n%s", out)
	}
	return result{out: out.String(), faults: faults.String(), exit: h.Exit(), s: s, h: h}
}

// echo is a server: each integer it gets goes back to its sender; it
// ends on 0.
const echo = `
echo:   recv $10 $11
        from $12
        send $12 $11
        load $13 #0
        eq $11 $13
        djmpe @echoend
        jmp $20
echoend: hlt
`

func TestSpawnSendRecvFrom(t *testing.T) {
	r := runMain(t, Config{Threads: 2}, `
        load $0 @echo
        load $20 @echo
        spawn $0 $1        ; $1 = the echo server
        load $2 #1
        load $3 #0          ; sum
        load $4 #101
loop:   send $1 $2
        recv $5 $6
        add $3 $6 $3
        from $7
        neq $7 $1
        djmpe @bad
        inc $2
        lt $2 $4
        djmpe @loop
        load $2 #0
        send $1 $2
        prti $3
        self $8
        prti $8
        hlt
bad:    igl
`+echo)
	if r.exit.Reason != Normal || r.exit.Err != nil {
		t.Fatalf("exit %+v, faults %q", r.exit, r.faults)
	}
	if lines := strings.Fields(r.out); len(lines) != 2 || lines[0] != "5050" || lines[1] != "1" {
		t.Errorf("output %q, want the sum 5050 and the first PID, 1", r.out)
	}
}

func TestSpawnCopiesRegistersAndPIDsDiffer(t *testing.T) {
	r := runMain(t, Config{}, `
        load $5 #42
        loadf64 $1 #3
        self $9
        load $0 @child
        spawn $0 $1
        spawn $0 $2
        eq $1 $2
        djmpe @bad
        recv $3 $4
        prti $4
        recv $3 $4
        prti $4
        hlt
bad:    igl
child:  ftoi $1 $12
        add $5 $12 $13     ; 42 + 3, from the copied registers
        aloc $13           ; a heap of its own
        send $9 $13
        hlt
`)
	if r.exit.Err != nil || r.out != "45\n45\n" {
		t.Errorf("exit %+v, output %q; want 45 twice", r.exit, r.out)
	}
}

func TestSendPIDAndOrder(t *testing.T) {
	// The child gets the parent's PID as a message of kind 1, then 1000
	// integers, which must arrive in the order sent.
	r := runMain(t, Config{Threads: 2}, `
        load $0 @child
        spawn $0 $1
        self $2
        sendp $1 $2
        load $3 #1
        load $4 #1001
send:   send $1 $3
        inc $3
        lt $3 $4
        djmpe @send
        recv $5 $6
        prti $6
        hlt
child:  recv $10 $11        ; kind 1, the parent
        prti $10
        load $12 #1         ; the next value expected
        load $14 #1001
next:   recv $13 $15
        neq $15 $12
        djmpe @wrong
        inc $12
        lt $12 $14
        djmpe @next
        send $11 $12
        hlt
wrong:  send $11 $15
        hlt
`)
	if r.exit.Err != nil || r.out != "1\n1001\n" {
		t.Errorf("exit %+v, output %q; want kind 1, then 1001 (all in order)", r.exit, r.out)
	}
}

func TestSpinnerDoesNotStarveOthersOnOneThread(t *testing.T) {
	r := runMain(t, Config{Threads: 1}, `
        load $0 @spin
        spawn $0 $1
        spawn $0 $2
        load $0 @echo
        load $20 @echo
        spawn $0 $3
        load $4 #7
        send $3 $4
        recv $5 $6
        prti $6
        hlt
spin:   jmp $0
`+echo)
	if r.exit.Err != nil || r.out != "7\n" {
		t.Fatalf("exit %+v, output %q", r.exit, r.out)
	}
	var spinners int
	for _, in := range r.s.Processes() {
		if in.Reductions > 0 && (in.State == "runnable" || in.State == "running") {
			spinners++
		}
	}
	if spinners != 2 {
		t.Errorf("processes %+v: want the two spinners runnable or running", r.s.Processes())
	}
}

func TestFaultEndsOnlyItsProcess(t *testing.T) {
	// Ten workers, each monitored; the fifth divides by zero. The others
	// end normally; the parent sees nine reasons 0 and one reason 1.
	r := runMain(t, Config{Threads: 3}, `
        load $0 @worker
        load $1 #0          ; i
        load $2 #10
        load $3 #0          ; sum of reasons
        load $4 #0          ; notices
start:  spawn $0 $5
        monitor $5
        send $5 $1
        inc $1
        lt $1 $2
        djmpe @start
wait:   recv $6 $7
        load $8 #2
        neq $6 $8
        djmpe @bad
        add $3 $7 $3
        inc $4
        lt $4 $2
        djmpe @wait
        prti $3
        hlt
bad:    igl
worker: recv $10 $11
        load $12 #4
        neq $11 $12
        djmpe @ok
        load $13 #0
        div $11 $13 $14
ok:     hlt
`)
	if r.exit.Err != nil || r.out != "1\n" {
		t.Fatalf("exit %+v, output %q; want the reasons to sum to 1", r.exit, r.out)
	}
	if !strings.Contains(r.faults, "division by zero") || strings.Count(r.faults, "\n") != 1 {
		t.Errorf("faults %q: want one line, the division by zero", r.faults)
	}
}

func TestMonitorEndedProcessAndFrom(t *testing.T) {
	r := runMain(t, Config{}, `
        load $0 @quit
        spawn $0 $1
        monitor $1
        send $1 $1          ; go: it ends once monitored (else reason 4)
        recv $2 $3          ; down, normal
        prti $2
        prti $3
        from $4
        eq $4 $1
        djmpe @same
        igl
same:   monitor $1          ; it has ended: at once, reason 4
        recv $2 $3
        prti $2
        prti $3
        hlt
quit:   recv $9 $9
        hlt
`)
	if r.exit.Err != nil || r.out != "2\n0\n2\n4\n" {
		t.Errorf("exit %+v, output %q", r.exit, r.out)
	}
}

func TestKill(t *testing.T) {
	r := runMain(t, Config{Threads: 2}, `
        load $0 @wait
        spawn $0 $1
        load $0 @spin
        spawn $0 $2
        monitor $1
        monitor $2
        kill $1
        kill $2
        load $0 #0
        kill $0             ; no such process: nothing
        recv $3 $4
        prti $4
        recv $3 $4
        prti $4
        load $0 @suicide
        spawn $0 $5
        monitor $5
        send $5 $5          ; go: it kills itself once monitored
        recv $3 $4
        prti $4
        hlt
wait:   recv $10 $11
        igl
spin:   jmp $0
suicide: recv $12 $12
        self $10
        kill $10
        igl
`)
	if r.exit.Err != nil || r.out != "2\n2\n2\n" {
		t.Errorf("exit %+v, output %q, faults %q; want three reasons 2", r.exit, r.out, r.faults)
	}
	if n := len(r.s.Processes()); n != 0 {
		t.Errorf("%d processes left: %+v", n, r.s.Processes())
	}
}

func TestRecvTimeout(t *testing.T) {
	r := runMain(t, Config{}, `
        load $0 #20
        recvt $0 $1 $2      ; nothing comes: -1
        prti $1
        load $0 #0
        recvt $0 $1 $2      ; 0: no wait at all
        prti $1
        load $0 @echo
        load $20 @echo
        spawn $0 $5
        load $6 #9
        send $5 $6
        load $0 #10000
        recvt $0 $1 $2      ; the echo comes first
        prti $1
        prti $2
        hlt
`+echo)
	if r.exit.Err != nil || r.out != "-1\n-1\n0\n9\n" {
		t.Errorf("exit %+v, output %q", r.exit, r.out)
	}
}

func TestFloodedMailbox(t *testing.T) {
	// A spinner never takes its messages: past the limit they are dropped
	// and counted.
	s, h, out, _ := start(t, Config{Threads: 1, MailboxLimit: 10}, `
        load $0 @spin
        spawn $0 $1
        load $2 #0
        load $3 #50
loop:   send $1 $2
        inc $2
        lt $2 $3
        djmpe @loop
        prti $1
        load $4 #100000
        recvt $4 $5 $6      ; stay alive, waiting
        hlt
spin:   jmp $0
`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, in := range s.Processes() {
			if in.PID == 2 && in.Mailbox == 10 && in.Dropped == 40 {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes %+v, output %q: want <2> with 10 messages and 40 dropped", s.Processes(), out)
		}
		select {
		case <-h.Done():
			t.Fatalf("main ended: %+v", h.Exit())
		case <-time.After(time.Millisecond):
		}
	}
}

func TestDeadlock(t *testing.T) {
	s, _, _, _ := start(t, Config{DetectDeadlock: true}, `
        load $0 @child
        spawn $0 $1
        recv $2 $3
        hlt
child:  recv $2 $3
        hlt
`)
	select {
	case <-s.Deadlocked():
	case <-time.After(10 * time.Second):
		t.Fatal("no deadlock seen")
	}
	if s.Waiting() != 2 {
		t.Errorf("%d waiting, want 2", s.Waiting())
	}
}

func TestNoDeadlockWhileTimerPending(t *testing.T) {
	s, h, _, _ := start(t, Config{DetectDeadlock: true}, `
        load $0 #30
        recvt $0 $1 $2
        hlt
`)
	select {
	case <-h.Done():
	case <-s.Deadlocked():
		t.Fatal("a deadlock reported while a RECVT timer was pending")
	case <-time.After(10 * time.Second):
		t.Fatal("did not end")
	}
}

func TestBytesMessage(t *testing.T) {
	r := runMain(t, Config{}, `
        load $0 #8
        aloc $0
        load $1 #4
        load $2 #123456
        setm $1 $2          ; bytes 4-7 hold 123456
        load $0 @child
        spawn $0 $3
        load $4 #4
        sendb $3 $1 $4
        recv $5 $6
        prti $6
        hlt
child:  recv $10 $11        ; kind 3, 4 bytes
        prti $10
        prti $11
        load $12 #16
        aloc $12
        load $13 #12
        takeb $13
        loadm $13 $14
        from $15
        send $15 $14
        hlt
`)
	if r.exit.Err != nil || r.out != "3\n4\n123456\n" {
		t.Errorf("exit %+v, output %q, faults %q", r.exit, r.out, r.faults)
	}
}

func TestBytesFaults(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		want      error
	}{
		{"sendb past the heap", "self $0\nload $1 #0\nload $2 #4\nsendb $0 $1 $2", vm.ErrHeapOutOfRange},
		{"sendb negative", "self $0\nload $1 #0\nload $2 #-1\nsendb $0 $1 $2", vm.ErrBadOperand},
		{"takeb without bytes", "load $0 #0\ntakeb $0", vm.ErrBadMessage},
		{"takeb past the heap", "self $0\nload $1 #4\naloc $1\nload $1 #0\nload $2 #4\nsendb $0 $1 $2\nrecv $2 $3\nload $1 #2\ntakeb $1", vm.ErrHeapOutOfRange},
		{"spawn outside the code", "load $0 #4000\nspawn $0 $1", vm.ErrJumpOutOfRange},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runMain(t, Config{}, tc.src)
			if r.exit.Reason != Faulted || !errors.Is(r.exit.Err, tc.want) {
				t.Errorf("exit %+v, want a fault %v", r.exit, tc.want)
			}
		})
	}
}

func TestSendToEndedOrUnknownIsDropped(t *testing.T) {
	r := runMain(t, Config{}, `
        load $0 @quit
        spawn $0 $1
        monitor $1
        recv $2 $3
        send $1 $3          ; ended: dropped, no fault
        load $4 #999
        send $4 $3          ; never was
        load $4 #0
        send $4 $3          ; 0 is never a process
        lui $4 #7           ; node slot 0, serial 7 << 16: unknown
        send $4 $3
        prti $3
        hlt
quit:   hlt
`)
	if r.exit.Err != nil || r.out != "0\n" {
		t.Errorf("exit %+v, output %q", r.exit, r.out)
	}
}

func TestManyProcessesRing(t *testing.T) {
	// A ring of 500 processes on 4 threads passes a token 20 laps; run
	// under the race detector by make test.
	r := runMain(t, Config{Threads: 4}, ringSource(500, 20))
	if r.exit.Err != nil || r.out != "10000\n" {
		t.Errorf("exit %+v, output %q, faults %q", r.exit, r.out, r.faults)
	}
}

// ringSource builds a ring of n processes, each passing on what it gets
// plus one, and a token sent round it laps times; it prints the hops.
func ringSource(n, laps int) string {
	return strings.NewReplacer("NPROCS", itoa(n), "HOPS", itoa(n*laps)).Replace(`
        self $1             ; the previous process: the first links to main
        load $0 @node
        load $2 #1
        load $3 #NPROCS
make:   spawn $0 $1         ; each new one gets $1, the one before it
        inc $2
        lte $2 $3
        djmpe @make
        load $4 #0
        send $1 $4          ; the token to the last one made
        load $5 #HOPS
        load $8 @main
main:   recv $6 $7
        gte $7 $5
        djmpe @done
        send $1 $7
        jmp $8
done:   prti $7
        hlt
node:   recv $10 $11
        inc $11
        send $1 $11
        jmp $0
`)
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestParsePID(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want PID
	}{{"<7>", 7}, {"7", 7}, {" <16777215> ", 16777215}, {"<0.7>", 7}, {"<2.7>", MakePID(2, 7)}, {"2.7", MakePID(2, 7)}} {
		got, err := ParsePID(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParsePID(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
		if back, err := ParsePID(got.String()); err != nil || back != got {
			t.Errorf("%v does not read back: %v, %v", got, back, err)
		}
	}
	for _, bad := range []string{"", "<>", "<0>", "<7", "7>", "<-1>", "<16777216>", "<256.1>", "<x>", "<1.2.3>", "<1.>"} {
		if p, err := ParsePID(bad); err == nil {
			t.Errorf("ParsePID(%q) = %v, want an error", bad, p)
		}
	}
	if MakePID(2, 7).String() != "<2.7>" || PID(7).String() != "<7>" {
		t.Errorf("String: %v %v", MakePID(2, 7), PID(7))
	}
}

func TestMailbox(t *testing.T) {
	// A mailbox outside (a shell) sends a server its PID; the server
	// replies to it and monitors it; closing it sends a down notice.
	s, h, out, _ := start(t, Config{Threads: 2, DetectDeadlock: true}, `
        recv $0 $1          ; the mailbox's PID, kind 1
        from $2
        send $1 $0          ; back: 1, the kind
        monitor $1
        recv $3 $4
        prti $3
        prti $4
        hlt
`)
	mb := s.Attach("shell")
	if err := mb.SendPID(h.PID(), mb.PID()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	var got []vm.Message
	for len(got) == 0 && time.Now().Before(deadline) {
		got = mb.Take()
		time.Sleep(time.Millisecond)
	}
	if len(got) != 1 || got[0].Value != 1 || got[0].From != int32(h.PID()) {
		t.Fatalf("the mailbox got %+v", got)
	}
	var listed bool
	for _, in := range s.Processes() {
		listed = listed || in.PID == mb.PID() && in.State == "outside" && in.Program == "shell"
	}
	if !listed {
		t.Errorf("processes %+v: no mailbox listed", s.Processes())
	}
	if s.Kill(mb.PID()) == nil {
		t.Error("Kill of a mailbox worked")
	}
	mb.Close()
	select {
	case <-h.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("no down notice")
	}
	if out.String() != "2\n0\n" {
		t.Errorf("output %q, want a down notice, reason 0", out)
	}
	if err := mb.Send(h.PID(), 1); !errors.Is(err, ErrNoProcess) {
		t.Errorf("a send to an ended process from outside: %v", err)
	}
}

func TestMemoryBudget(t *testing.T) {
	// Room for 3 processes: the first and two it spawns; the third spawn
	// faults.
	budget := vm.NewHeapBudget(3 * processCost)
	r := runMain(t, Config{Budget: budget}, `
        load $0 @wait
        spawn $0 $1
        spawn $0 $2
        spawn $0 $3
        hlt
wait:   recv $5 $6
`)
	if r.exit.Reason != Faulted || !errors.Is(r.exit.Err, vm.ErrSpawn) || !strings.Contains(r.exit.Err.Error(), "memory budget") {
		t.Errorf("exit %+v, want the third spawn to fault", r.exit)
	}
	// Messages past the budget are dropped and counted.
	budget = vm.NewHeapBudget(2*processCost + 3*messageCost)
	s, _, _, _ := start(t, Config{Budget: budget}, `
        load $0 @spin
        spawn $0 $1
        load $2 #10
loop:   send $1 $2
        dec $2
        load $3 #0
        gt $2 $3
        djmpe @loop
        load $4 #100000
        recvt $4 $5 $6
spin:   jmp $0
`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ps := s.Processes()
		if len(ps) == 2 && ps[1].Mailbox == 3 && ps[1].Dropped == 7 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("processes %+v: want 3 messages and 7 dropped", ps)
		}
		time.Sleep(time.Millisecond)
	}
	if used := budget.Used(); used != budget.Limit() {
		t.Errorf("budget used %d, want all %d", used, budget.Limit())
	}
}

func TestKillProgram(t *testing.T) {
	s, h, _, _ := start(t, Config{Threads: 2}, `
        load $0 @child
        spawn $0 $1
        spawn $0 $2
        recv $3 $4
child:  recv $3 $4
`)
	deadline := time.Now().Add(10 * time.Second)
	for len(s.Processes()) != 3 || s.Processes()[2].State != "waiting" {
		if time.Now().After(deadline) {
			t.Fatalf("processes %+v, want three", s.Processes())
		}
		time.Sleep(time.Millisecond)
	}
	h.KillProgram()
	for len(s.Processes()) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("processes %+v left after KillProgram", s.Processes())
		}
		time.Sleep(time.Millisecond)
	}
	if e := h.Exit(); e.Reason != Killed {
		t.Errorf("exit %+v, want killed", e)
	}
}

// TestThreadsStartWithTheSecondProcess checks that a scheduler runs a
// lone process on its first thread alone, starts the others when a
// second process is admitted, and starts none after Close.
func TestThreadsStartWithTheSecondProcess(t *testing.T) {
	lone := runMain(t, Config{Threads: 4}, "load $1 #7\nprti $1\nhlt\n")
	if lone.exit.Reason != Normal || strings.TrimSpace(lone.out) != "7" {
		t.Fatalf("lone process: exit %+v, output %q, faults %q", lone.exit, lone.out, lone.faults)
	}
	if lone.s.restStarted.Load() {
		t.Error("a run of one process started the scheduler's other threads")
	}

	pair := runMain(t, Config{Threads: 4}, `
        load $0 @echo
        load $20 @echo
        spawn $0 $1
        load $2 #9
        send $1 $2
        recv $5 $6
        prti $6
        load $2 #0
        send $1 $2
        hlt
`+echo)
	if pair.exit.Reason != Normal || strings.TrimSpace(pair.out) != "9" {
		t.Fatalf("two processes: exit %+v, output %q, faults %q", pair.exit, pair.out, pair.faults)
	}
	if !pair.s.restStarted.Load() {
		t.Error("a second process did not start the scheduler's other threads")
	}

	closed := New(Config{Threads: 4})
	closed.Close()
	closed.startRest()
	if closed.restStarted.Load() {
		t.Error("threads started after Close")
	}
}
