package vm

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"unsafe"
)

// fakeRuntime is a Runtime that records what the VM asks of it: a
// mailbox filled by the test, children and sends kept in lists.
type fakeRuntime struct {
	self     int32
	mailbox  []Message
	timedOut bool // what Receive says with an empty mailbox and a time-out
	sent     []string
	children []*VM
	monitors []int32
	killed   []int32
	names    map[string]int32 // what Register added and Whereis finds
	asked    map[string]bool  // names Whereis was asked: the first ask of a name@alias waits
}

func (f *fakeRuntime) Self() int32 { return f.self }

func (f *fakeRuntime) Spawn(child *VM) (int32, error) {
	f.children = append(f.children, child)
	return 100 + int32(len(f.children)), nil
}

func (f *fakeRuntime) Send(to int32, msg Message) bool {
	f.sent = append(f.sent, fmt.Sprintf("%d<-%d:%d:%d:%q", to, msg.From, msg.Kind, msg.Value, msg.Bytes))
	return false
}

func (f *fakeRuntime) Receive(timeout int32) (Message, RecvStatus) {
	if len(f.mailbox) > 0 {
		m := f.mailbox[0]
		f.mailbox = f.mailbox[1:]
		return m, RecvGot
	}
	if timeout >= 0 && f.timedOut {
		return Message{}, RecvTimeout
	}
	return Message{}, RecvWait
}

func (f *fakeRuntime) Monitor(pid int32)   { f.monitors = append(f.monitors, pid) }
func (f *fakeRuntime) Kill(pid int32) bool { f.killed = append(f.killed, pid); return pid == f.self }

func (f *fakeRuntime) Register(name string) error {
	if _, ok := f.names[name]; ok || name == "" {
		return fmt.Errorf("%q is taken", name)
	}
	if f.names == nil {
		f.names = map[string]int32{}
	}
	f.names[name] = f.self
	return nil
}

func (f *fakeRuntime) Whereis(name string) (int32, bool, error) {
	if name == "" {
		return 0, true, errors.New("empty name")
	}
	if strings.Contains(name, "@") && !f.asked[name] {
		if f.asked == nil {
			f.asked = map[string]bool{}
		}
		f.asked[name] = true
		return 0, false, nil
	}
	return f.names[name], true, nil
}

func processVM(t *testing.T, src string, rt *fakeRuntime) *VM {
	t.Helper()
	m := New(Config{})
	m.Load(&Program{Code: enc(t, src)})
	m.SetRuntime(rt)
	return m
}

func TestProcessInstructions(t *testing.T) {
	rt := &fakeRuntime{self: 7, mailbox: []Message{{Kind: MsgPID, Value: 9, From: 3}, {Kind: MsgBytes, Value: 2, From: 4, Bytes: []byte("hi")}}}
	m := processVM(t, `load $0 #20; load $1 #5; spawn $0 $2; self $3; send $2 $1; sendp $2 $3
		recv $4 $5; from $6; monitor $5; kill $2
		load $8 #4; aloc $8; recv $9 $10; load $11 #1; takeb $11; load $11 #2; sendb $3 $11 $11
		load $12 #0; recvt $12 $13 $14; hlt`, rt)
	rt.timedOut = true
	stop, err := m.RunSlice(1000)
	if stop != Ended || err != nil {
		t.Fatalf("RunSlice = %v, %v", stop, err)
	}
	r := m.Registers()
	if r[2] != 101 || r[3] != 7 || r[4] != int32(MsgPID) || r[5] != 9 || r[6] != 3 || r[9] != int32(MsgBytes) || r[10] != 2 || r[13] != -1 {
		t.Errorf("registers %v", r)
	}
	if got := fmt.Sprint(rt.sent); got != `[101<-7:0:5:"" 101<-7:1:7:"" 7<-7:3:2:"i\x00"]` {
		t.Errorf("sent %s", got)
	}
	if fmt.Sprint(rt.monitors, rt.killed) != "[9] [101]" {
		t.Errorf("monitors %v, killed %v", rt.monitors, rt.killed)
	}
	c := rt.children[0]
	if c.PC() != 20 || c.Registers()[0] != 20 || c.Registers()[1] != 5 || c.HeapSize() != 0 || c.StackDepth() != 0 {
		t.Errorf("child at pc %d, registers %v, heap %d", c.PC(), c.Registers(), c.HeapSize())
	}
}

func TestRecvWaitsAndResumes(t *testing.T) {
	rt := &fakeRuntime{self: 1}
	m := processVM(t, "load $0 #1; recv $1 $2; prti $2; hlt", rt)
	stop, err := m.RunSlice(1000)
	if stop != Waiting || err != nil || m.PC() != 4 {
		t.Fatalf("RunSlice = %v, %v at pc %d; want waiting at the RECV, pc 4", stop, err, m.PC())
	}
	rt.mailbox = []Message{{Value: 42}}
	if stop, err := m.RunSlice(1000); stop != Ended || err != nil || m.Registers()[2] != 42 {
		t.Fatalf("RunSlice = %v, %v, $2 = %d", stop, err, m.Registers()[2])
	}
}

func TestRunSliceBudgetAndKillSelf(t *testing.T) {
	rt := &fakeRuntime{self: 5}
	m := processVM(t, "top: inc $0; djmpe @top; load $1 #1; eq $1 $1; djmpe @top", rt)
	if stop, err := m.RunSlice(100); stop != Yielded || err != nil || m.Steps() < 100 || m.Steps() > 104 {
		t.Fatalf("RunSlice = %v, %v after %d steps", stop, err, m.Steps())
	}
	m = processVM(t, "self $0; kill $0; igl", rt)
	if stop, err := m.RunSlice(100); stop != Killed || err != nil {
		t.Fatalf("RunSlice = %v, %v; want killed", stop, err)
	}
}

func TestRunCannotWait(t *testing.T) {
	m := processVM(t, "recv $0 $1", &fakeRuntime{self: 1})
	if err := run(m); !errors.Is(err, ErrNoRuntime) {
		t.Errorf("Run = %v, want ErrNoRuntime", err)
	}
}

// FuzzProcessInstructions runs arbitrary code, as FuzzExec does, as a
// process with a runtime that has messages to give: the process
// instructions must fault or run, never panic, and the fused and the
// plain code end the same.
func FuzzProcessInstructions(f *testing.F) {
	for _, src := range []string{
		"load $0 #8; spawn $0 $1; self $2; send $1 $2; sendp $2 $1; recv $3 $4; from $5; monitor $5; kill $1",
		"load $0 #4; aloc $0; load $1 #0; sendb $2 $1 $0; recv $3 $4; recv $3 $4; takeb $1; recvt $0 $1 $2",
		"self $0; kill $0",
		"takeb $0; sendb $0 $1 $2",
	} {
		f.Add(append([]byte{0}, enc(f, src)...))
	}
	names := "a\x00far@n1\x00a b\x00"
	f.Add(append([]byte{byte(len(names))}, append([]byte(names), enc(f, "reg @0; whereis $0 @0; whereis $1 @2; reg @2; whereis $2 @9")...)...))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		split := min(int(data[0]), len(data)-1)
		p := &Program{ReadOnly: data[1 : 1+split], Code: data[1+split:]}
		var ends [2]string
		for i, fuse := range []bool{true, false} {
			rt := &fakeRuntime{self: 1, timedOut: true, mailbox: []Message{{Value: 3}, {Kind: MsgBytes, Value: 2, Bytes: []byte{1, 2}}}}
			m := New(Config{StackLimit: 64, HeapLimit: 1 << 12})
			m.Load(p)
			m.SetRuntime(rt)
			code := m.code
			if !fuse {
				code = decodeProgram(p.Code, false)
			}
			err := m.exec(code, 10_000)
			var fault *Fault
			if err != nil && err != errWait && err != errStop && !errors.As(err, &fault) {
				t.Fatalf("run ended with %T %v", err, err)
			}
			ends[i] = fmt.Sprint(err, m.regs, m.pc, m.Steps(), rt.sent, len(rt.children))
		}
		if ends[0] != ends[1] && len(ends[0]) < 10_000 {
			t.Fatalf("fused and single code differ:\n%s\n%s", ends[0], ends[1])
		}
	})
}

// TestVMSizeForProcesses keeps a VM that waits as a process within the
// 576-byte size class of Go's allocator: with its process (proc) it must
// stay under 1,000 bytes (docs/performance.md, "Processes").
func TestVMSizeForProcesses(t *testing.T) {
	if n := unsafe.Sizeof(VM{}); n > 576 {
		t.Errorf("a VM is %d bytes, over 576", n)
	}
}

// REG and WHEREIS read the name at their label and reach the runtime; a
// WHEREIS whose answer is not in waits, and runs again.
func TestNameInstructions(t *testing.T) {
	rt := &fakeRuntime{self: 7, names: map[string]int32{"far@n1": 9}}
	m := New(Config{})
	m.Load(&Program{ReadOnly: []byte("me\x00far@n1\x00none\x00"),
		Code: enc(t, "reg @0; whereis $0 @0; whereis $1 @3; whereis $2 @10; hlt")})
	m.SetRuntime(rt)
	stop, err := m.RunSlice(1000)
	if stop != Waiting || err != nil || m.PC() != 8 {
		t.Fatalf("RunSlice = %v, %v at pc %d; want waiting at the second WHEREIS, pc 8", stop, err, m.PC())
	}
	if stop, err := m.RunSlice(1000); stop != Ended || err != nil {
		t.Fatalf("RunSlice = %v, %v; want ended", stop, err)
	}
	if r := m.Registers(); r[0] != 7 || r[1] != 9 || r[2] != 0 {
		t.Errorf("registers %v, want $0 7 (me), $1 9 (far@n1), $2 0", r[:3])
	}
}

// A refused REG, a bad WHEREIS and a name without its zero byte fault,
// saying why.
func TestNameFaults(t *testing.T) {
	for _, c := range []struct {
		ro, src string
		want    error
		text    string
	}{
		{"x\x00", "reg @0; reg @0", ErrRegister, `pc 4: reg @D0000: cannot register the name: "x" is taken`},
		{"\x00", "whereis $0 @0", ErrWhereis, "cannot look the name up: empty name"},
		{"abc", "reg @0", ErrDataOutOfRange, "no terminating zero byte"},
		{"x\x00", "reg @2", ErrDataOutOfRange, "offset 2, read-only data is 2 bytes"},
		{strings.Repeat("a", 256) + "\x00", "whereis $1 @0", ErrDataOutOfRange, "within 256 bytes"},
	} {
		m := New(Config{})
		m.Load(&Program{ReadOnly: []byte(c.ro), Code: enc(t, c.src)})
		m.SetRuntime(&fakeRuntime{self: 1})
		stop, err := m.RunSlice(100)
		if stop != Faulted || !errors.Is(err, c.want) || !strings.Contains(fmt.Sprint(err), c.text) {
			t.Errorf("%q: %v, %v; want a fault %v saying %q", c.src, stop, err, c.want, c.text)
		}
	}
	// 255 bytes are read whole: the runtime says what is wrong with them.
	m := New(Config{})
	m.Load(&Program{ReadOnly: []byte(strings.Repeat("a", 255) + "\x00"), Code: enc(t, "reg @0")})
	m.SetRuntime(&fakeRuntime{self: 1})
	if stop, err := m.RunSlice(100); stop != Ended || err != nil {
		t.Errorf("a 255-byte name: %v, %v; want it passed to the runtime", stop, err)
	}
}
