package proc

import (
	"errors"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/vm"
	"github.com/iridium-vm/iridium/vm/asm"
)

// FuzzScheduler runs arbitrary code as the first process of a real
// scheduler on two threads, with a small memory budget and mailbox limit:
// whatever its processes do (spawn, send, wait, kill, fault, spin), the
// scheduler must not panic, the first process must end with nil or a
// *vm.Fault, and Close must stop it all. A run is cut short after 20 ms.
// The read-only data holds names for REG and WHEREIS (at 0, 4 and 11),
// which a cluster of a map looks up.
func FuzzScheduler(f *testing.F) {
	const ro = "srv\x00srv@n1\x00a b\x00"
	for _, src := range []string{
		"load $0 @c\nspawn $0 $1\nsend $1 $1\nrecv $2 $3\nhlt\nc: recv $2 $3\nfrom $4\nsend $4 $3\nhlt",
		"load $0 #0\nspawn $0 $1\nmonitor $1\nkill $1\nrecv $2 $3\nself $4\nkill $4",
		"load $0 #5\nrecvt $0 $1 $2\nload $0 #4\naloc $0\nself $1\nsendb $1 $3 $0\nrecv $2 $3\ntakeb $3",
		"load $0 #0\nspawn $0 $1\njmp $0",
		".data\na: .asciiz 'srv'\nb: .asciiz 'srv@n1'\nc: .asciiz 'a b'\n.code\n" +
			"reg @a\nload $0 #0\nspawn $0 $1\nwhereis $2 @a\nwhereis $3 @b\nreg @c",
	} {
		p, err := asm.Assemble("seed.iasm", src)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(p.Code)
	}
	f.Fuzz(func(t *testing.T, code []byte) {
		s := New(Config{Threads: 2, MailboxLimit: 8, Budget: vm.NewHeapBudget(64 << 10), DetectDeadlock: true})
		defer s.Close()
		s.SetNameLookup(&fakeLookup{pids: map[string]PID{"srv@n1": MakePID(1, 2)}})
		h, err := s.Start(&vm.Program{ReadOnly: []byte(ro), Code: code}, StartOptions{VM: vm.Config{StackLimit: 64, HeapLimit: 1 << 12}})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case <-h.Done():
			var fault *vm.Fault
			if e := h.Exit(); e.Err != nil && !errors.As(e.Err, &fault) {
				t.Fatalf("the first process ended with %T %v", e.Err, e.Err)
			}
		case <-s.Deadlocked():
		case <-time.After(20 * time.Millisecond):
		}
	})
}
