package proc

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// names is the read-only data the tests of registered names share.
const names = `
.data
srv:    .asciiz 'srv'
other:  .asciiz 'other'
far:    .asciiz 'srv@n1'
gone:   .asciiz 'srv@gone'
bad:    .asciiz 'a b'
.code
`

// eventually polls cond until it holds or a deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestRegisterAndWhereis(t *testing.T) {
	s, h, out, faults := start(t, Config{Threads: 2}, names+`
        reg @srv
        load $0 @client
        spawn $0 $1
        recv $2 $3          ; the client's PID for srv
        prti $3
        whereis $4 @other   ; nobody holds it: 0
        prti $4
        recv $2 $3          ; wait for the test
        hlt
client: whereis $5 @srv
        sendp $5 $5
        hlt
`)
	eventually(t, "two lines of output", func() bool { return strings.Count(out.String(), "\n") == 2 })
	if out.String() != "1\n0\n" {
		t.Fatalf("output %q, want the PID of srv, 1, and 0 for a name nobody holds; faults %q", out, faults)
	}
	if got := s.Registered(); len(got) != 1 || got[0] != (Name{Name: "srv", PID: 1}) {
		t.Errorf("Registered = %v, want srv <1>", got)
	}
	if s.Whereis("srv") != 1 || s.Whereis("other") != 0 {
		t.Errorf("Whereis srv = %v, other = %v", s.Whereis("srv"), s.Whereis("other"))
	}
	if err := s.Send(0, h.PID(), 0); err != nil {
		t.Fatal(err)
	}
	<-h.Done()
	if s.Whereis("srv") != 0 || len(s.Registered()) != 0 {
		t.Errorf("after the process ended: Whereis srv = %v, Registered = %v", s.Whereis("srv"), s.Registered())
	}
}

func TestRegisterRefused(t *testing.T) {
	for _, c := range []struct {
		name, src string
		want      error
		text      string
	}{
		{"a name taken", `
        load $0 @holder
        spawn $0 $1
        recv $2 $3          ; the holder has registered
        reg @srv
        hlt
holder: reg @srv
        send $20 $20
        recv $2 $3
`, ErrNameTaken, `cannot register the name: name taken: "srv" is held by <2>`},
		{"a second name", "reg @srv\nreg @other", ErrNamed, `process registered already: <1> is "srv", and a process has one name`},
		{"the same name again", "reg @srv\nreg @srv", ErrNameTaken, `"srv" is held by <1>`},
		{"a bad name", "reg @bad", ErrBadName, `bad name "a b": byte 2 is " "`},
		{"a bad name to look up", "whereis $0 @bad", ErrBadName, `cannot look the name up: bad name "a b"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := runMain(t, Config{Threads: 1}, names+"self $20\n"+c.src)
			if r.exit.Reason != Faulted || !errors.Is(r.exit.Err, c.want) {
				t.Fatalf("exit %+v; want a fault %v", r.exit, c.want)
			}
			if !strings.Contains(r.exit.Err.Error(), c.text) {
				t.Errorf("fault %q; want it to say %q", r.exit.Err, c.text)
			}
		})
	}
}

// A name goes when its process ends, however it ends, and can be taken
// again.
func TestNameGoneAtEnd(t *testing.T) {
	for _, end := range []string{"hlt", "igl", "self $9\nkill $9"} {
		t.Run(end, func(t *testing.T) {
			r := runMain(t, Config{Threads: 2}, names+`
        self $20
        load $0 @child
        spawn $0 $1
        monitor $1
        recv $2 $3          ; the child's PID, from whereis
        prti $3
        recv $2 $3          ; its down notice
        whereis $4 @srv
        prti $4
        reg @srv
        whereis $4 @srv
        prti $4
        hlt
child:  reg @srv
        whereis $5 @srv
        sendp $20 $5
        `+end+`
`)
			if r.exit.Err != nil || r.out != "2\n0\n1\n" {
				t.Fatalf("exit %+v, output %q; want 2 (the child), 0 (gone), 1 (the name again)", r.exit, r.out)
			}
		})
	}
}

// A killed process loses its name too.
func TestNameGoneWhenKilled(t *testing.T) {
	s, h, _, _ := start(t, Config{Threads: 1}, names+"reg @srv\nrecv $0 $1")
	eventually(t, "the name", func() bool { return s.Whereis("srv") == h.PID() })
	if err := s.Kill(h.PID()); err != nil {
		t.Fatal(err)
	}
	<-h.Done()
	if s.Whereis("srv") != 0 {
		t.Errorf("Whereis srv = %v after the process was killed", s.Whereis("srv"))
	}
}

func TestCheckName(t *testing.T) {
	for _, good := range []string{"a", "srv-1.x_Y", strings.Repeat("n", MaxNameLength), "!~"} {
		if err := CheckName(good); err != nil {
			t.Errorf("CheckName(%q) = %v", good, err)
		}
	}
	for bad, text := range map[string]string{
		"":                                   "it is empty",
		strings.Repeat("n", MaxNameLength+1): "65 bytes",
		"a b":                                `byte 2 is " "`,
		"a@b":                                `byte 2 is "@"`,
		"tab\t":                              `byte 4 is "\t"`,
		"\x00":                               `byte 1 is "\x00"`,
		"é":                                  `byte 1 is "\xc3"`,
		"del\x7f":                            `byte 4 is "\x7f"`,
	} {
		err := CheckName(bad)
		if !errors.Is(err, ErrBadName) || !strings.Contains(err.Error(), text) || !strings.Contains(err.Error(), "1 to 64 printable") {
			t.Errorf("CheckName(%q) = %v; want a bad name saying %q and the rule", bad, err, text)
		}
	}
	for ref, want := range map[string][2]string{"srv": {"srv", ""}, "srv@n1": {"srv", "n1"}, "srv@n@1": {"srv", "n@1"}} {
		if name, alias, err := SplitName(ref); err != nil || name != want[0] || alias != want[1] {
			t.Errorf("SplitName(%q) = %q, %q, %v", ref, name, alias, err)
		}
	}
	for _, ref := range []string{"srv@", "@n1", "a b@n1", ""} {
		if _, _, err := SplitName(ref); !errors.Is(err, ErrBadName) {
			t.Errorf("SplitName(%q) = %v, want a bad name", ref, err)
		}
	}
}

func TestMailboxRegister(t *testing.T) {
	s := New(Config{Threads: 1})
	defer s.Close()
	mb, other := s.Attach("shell"), s.Attach("other")
	if err := mb.Register("shell"); err != nil {
		t.Fatal(err)
	}
	if err := other.Register("shell"); !errors.Is(err, ErrNameTaken) {
		t.Errorf("a second Register of shell = %v, want ErrNameTaken", err)
	}
	if err := mb.Register("again"); !errors.Is(err, ErrNamed) {
		t.Errorf("a second name = %v, want ErrNamed", err)
	}
	if s.Whereis("shell") != mb.PID() {
		t.Errorf("Whereis shell = %v, want %v", s.Whereis("shell"), mb.PID())
	}
	mb.Close()
	if s.Whereis("shell") != 0 {
		t.Error("the name outlived its mailbox")
	}
	if err := mb.Register("late"); !errors.Is(err, ErrNoProcess) || s.Whereis("late") != 0 {
		t.Errorf("Register after Close = %v", err)
	}
	if err := other.Register("shell"); err != nil {
		t.Errorf("the name again: %v", err)
	}
}

// fakeLookup is a NameLookup of a cluster in a map: name@alias to PID.
// With hold, it keeps the answers for the test to give; with now, it
// answers before LookupName returns.
type fakeLookup struct {
	mu      sync.Mutex
	pids    map[string]PID
	hold    bool
	now     bool
	asked   []string
	pending []func()
}

func (f *fakeLookup) LookupName(alias, name string, answer func(PID)) {
	f.mu.Lock()
	f.asked = append(f.asked, name+"@"+alias)
	pid := f.pids[name+"@"+alias]
	if f.now {
		f.mu.Unlock()
		answer(pid)
		return
	}
	give := func() { answer(pid) }
	if f.hold {
		f.pending = append(f.pending, give)
		f.mu.Unlock()
		return
	}
	f.mu.Unlock()
	go give()
}

// withLookup makes l a scheduler's NameLookup, for start and runMain.
func withLookup(l NameLookup) func(*Scheduler) {
	return func(s *Scheduler) { s.SetNameLookup(l) }
}

func (f *fakeLookup) answerAll() int {
	f.mu.Lock()
	list := f.pending
	f.pending = nil
	f.mu.Unlock()
	for _, give := range list {
		give()
	}
	return len(list)
}

func TestWhereisRemote(t *testing.T) {
	for _, mode := range []string{"later", "at once"} {
		t.Run(mode, func(t *testing.T) {
			f := &fakeLookup{pids: map[string]PID{"srv@n1": MakePID(3, 77)}, now: mode == "at once"}
			r := runMain(t, Config{Threads: 1, DetectDeadlock: true}, names+`
        whereis $0 @far
        whereis $1 @gone
        hlt
`, withLookup(f))
			regs := r.h.VM().Registers()
			if r.exit.Err != nil || PID(regs[0]) != MakePID(3, 77) || regs[1] != 0 {
				t.Fatalf("exit %+v, $0 = %v, $1 = %v; want <3.77> and 0", r.exit, PID(regs[0]), regs[1])
			}
			if strings.Join(f.asked, " ") != "srv@n1 srv@gone" {
				t.Errorf("asked %v", f.asked)
			}
		})
	}
	// Without a cluster there is no other member: 0 at once.
	r := runMain(t, Config{Threads: 1}, names+"load $0 #5\nwhereis $0 @far\nhlt")
	if r.exit.Err != nil || r.h.VM().Registers()[0] != 0 {
		t.Errorf("exit %+v, $0 = %d; want 0", r.exit, r.h.VM().Registers()[0])
	}
}

// A process waiting for a lookup holds no scheduler thread: with one
// thread, another process runs meanwhile; and a message does not end the
// wait.
func TestWhereisWaitHoldsNoThread(t *testing.T) {
	f := &fakeLookup{pids: map[string]PID{"srv@n1": MakePID(2, 5)}, hold: true}
	_, h, out, faults := start(t, Config{Threads: 1}, names+`
        self $20
        load $0 @side
        spawn $0 $1
        whereis $2 @far
        recv $3 $4          ; the message that came during the wait
        prti $2
        prti $4
        hlt
side:   self $9
        prti $9
        load $5 #7
        send $20 $5
        hlt
`, withLookup(f))
	eventually(t, "the other process's output", func() bool { return out.String() == "2\n" })
	eventually(t, "the lookup", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.pending) == 1
	})
	select {
	case <-h.Done():
		t.Fatalf("the process ended before its lookup was answered: %q %q", out, faults)
	case <-time.After(20 * time.Millisecond):
	}
	if n := f.answerAll(); n != 1 {
		t.Fatalf("%d lookups asked, want 1", n)
	}
	<-h.Done()
	if out.String() != "2\n"+strconv.Itoa(int(MakePID(2, 5)))+"\n7\n" || faults.String() != "" {
		t.Errorf("output %q, faults %q; want 2, <2.5> as a number, 7", out, faults)
	}
}

// An answer that never comes gives 0 after LookupTimeout.
func TestWhereisTimeout(t *testing.T) {
	t.Parallel()
	f := &fakeLookup{hold: true}
	began := time.Now()
	r := runMain(t, Config{Threads: 1, DetectDeadlock: true}, names+"load $0 #5\nwhereis $0 @far\nhlt", withLookup(f))
	if took := time.Since(began); r.exit.Err != nil || r.h.VM().Registers()[0] != 0 || took < LookupTimeout {
		t.Errorf("exit %+v, $0 = %d after %v; want 0 after %v", r.exit, r.h.VM().Registers()[0], took, LookupTimeout)
	}
	f.answerAll() // late: ignored
	if n := r.s.timers.Load(); n != 0 {
		t.Errorf("%d timers counted after the lookup", n)
	}
}

// A process killed while it waits for a lookup ends; its late answer
// is ignored, and the lookup is not counted as a wake-up to come.
func TestWhereisKilled(t *testing.T) {
	f := &fakeLookup{hold: true}
	s, h, _, _ := start(t, Config{Threads: 1}, names+"reg @srv\nwhereis $0 @far\nhlt", withLookup(f))
	eventually(t, "the lookup", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.pending) == 1
	})
	if err := s.Kill(h.PID()); err != nil {
		t.Fatal(err)
	}
	<-h.Done()
	if h.Exit().Reason != Killed || s.Whereis("srv") != 0 {
		t.Errorf("exit %+v, srv %v", h.Exit(), s.Whereis("srv"))
	}
	f.answerAll()
	if n := s.timers.Load(); n != 0 {
		t.Errorf("%d timers counted after the killed lookup", n)
	}
	if s.names.used.Load() != 0 {
		t.Errorf("the registry keeps %d entries", s.names.used.Load())
	}
}

// A lookup in flight when the cluster goes (SetNameLookup(nil)) still
// ends with its own answer, and leaves nothing for the next one.
func TestWhereisLookupGoesMidway(t *testing.T) {
	f := &fakeLookup{hold: true, pids: map[string]PID{"srv@n1": MakePID(1, 9)}}
	s, h, out, _ := start(t, Config{Threads: 1}, names+`
        self $20
        load $0 @poke
        spawn $0 $1
        whereis $2 @far      ; answered once the lookup is gone
        prti $2
        whereis $3 @far      ; no lookup now: 0 at once
        prti $3
        hlt
poke:   send $20 $20         ; wakes the waiting process: it waits on
        hlt
`, withLookup(f))
	eventually(t, "the lookup", func() bool {
		f.mu.Lock()
		defer f.mu.Unlock()
		return len(f.pending) == 1
	})
	s.SetNameLookup(nil)
	if n := f.answerAll(); n != 1 {
		t.Fatalf("%d lookups", n)
	}
	<-h.Done()
	if want := strconv.Itoa(int(MakePID(1, 9))) + "\n0\n"; out.String() != want {
		t.Errorf("output %q, want %q", out, want)
	}
	if s.names.used.Load() != 0 || s.timers.Load() != 0 {
		t.Errorf("%d registry entries, %d timers left", s.names.used.Load(), s.timers.Load())
	}
}
