package dist

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/internal/testkit"
	"github.com/iridium-vm/iridium/proc"
	"github.com/iridium-vm/iridium/vm"
	"github.com/iridium-vm/iridium/vm/asm"
)

var testCookie = []byte("test cookie: not a secret")

var testKey = sync.OnceValue(func() []byte { return cluster.DeriveCookieKey(testCookie) })

// testNode is a cluster node with its scheduler and Dist.
type testNode struct {
	node  *cluster.Node
	sched *proc.Scheduler
	dist  *Dist
	addr  string
}

// startNode starts a node aliased alias on 127.0.0.1, port chosen by the
// system, with dist wired as cmd/iridium wires it.
func startNode(t testing.TB, alias string, tune func(*Config)) *testNode {
	t.Helper()
	cfg := cluster.DefaultConfig()
	cfg.Alias, cfg.Cookie, cfg.CookieKey = alias, testCookie, testKey()
	cfg.BindHost, cfg.BindPort = "127.0.0.1", 0
	cfg.ProbeInterval, cfg.ProbeTimeout = 100*time.Millisecond, 200*time.Millisecond
	cfg.SuspicionMult = 3
	tn := &testNode{sched: proc.New(proc.Config{Threads: 2})}
	var dmu sync.Mutex
	cfg.OnEvent = func(e cluster.Event) {
		dmu.Lock()
		d := tn.dist
		dmu.Unlock()
		if d != nil {
			d.HandleEvent(e)
		}
	}
	n, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	tn.node = n
	dc := Config{Node: n, Sched: tn.sched}
	if tune != nil {
		tune(&dc)
	}
	if dc.Sched != tn.sched { // tune brought a scheduler of its own
		tn.sched.Close()
		tn.sched = dc.Sched
	}
	dmu.Lock()
	tn.dist = New(dc)
	dmu.Unlock()
	n.Handle(cluster.KindUnknown, func(from string, payload []byte) { tn.dist.Unknown(from, string(payload)) })
	addr, err := n.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	tn.addr = addr
	t.Cleanup(func() {
		tn.dist.Close()
		n.Close()
		tn.sched.Close()
	})
	return tn
}

// join makes a join b and waits until both see each other linked.
func join(t testing.TB, a, b *testNode) {
	t.Helper()
	host, p := splitAddr(t, b.addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := a.node.Join(ctx, host, p); err != nil {
		t.Fatal(err)
	}
	if err := a.node.WaitLinked(ctx); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "both linked", func() bool {
		return a.dist.SlotOfMember(b.node.Alias()) != 0 && b.dist.SlotOfMember(a.node.Alias()) != 0
	})
}

// pidOn returns the PID, in a's table, of the process serial of b.
func pidOn(t testing.TB, a, b *testNode, local proc.PID) proc.PID {
	t.Helper()
	slot := a.dist.SlotOfMember(b.node.Alias())
	if slot == 0 {
		t.Fatalf("%s has no slot for %s", a.node.Alias(), b.node.Alias())
	}
	return proc.MakePID(slot, local.Serial())
}

// assemble assembles src.
func assemble(t testing.TB, src string) *vm.Program {
	t.Helper()
	p, err := asm.Assemble("test.iasm", src)
	if err != nil {
		t.Fatalf("assemble: %v", err)
	}
	return p
}

// takeN waits until mb has received n messages and returns them.
func takeN(t testing.TB, mb *proc.Mailbox, n int, within time.Duration) []vm.Message {
	t.Helper()
	var got []vm.Message
	testkit.Eventually(t, within, "messages arrive", func() bool {
		got = append(got, mb.Take()...)
		return len(got) >= n
	})
	return got
}

// splitAddr splits "host:port".
func splitAddr(t testing.TB, addr string) (string, int) {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		t.Fatal(err)
	}
	return host, p
}
