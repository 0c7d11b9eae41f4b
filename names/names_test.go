package names

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/dist"
	"github.com/iridium-vm/iridium/internal/testkit"
	"github.com/iridium-vm/iridium/proc"
	"github.com/iridium-vm/iridium/vm"
	"github.com/iridium-vm/iridium/vm/asm"
)

func TestMain(m *testing.M) { testkit.Main(m) }

var testCookie = []byte("test cookie: not a secret")

// node is a cluster node on 127.0.0.1 with its scheduler, Dist and name
// service, wired as cmd/iridium wires them.
type node struct {
	alias string
	n     *cluster.Node
	sched *proc.Scheduler
	d     *dist.Dist
	names *Service
	addr  string
}

func startNode(t testing.TB, alias string, tune func(*dist.Config)) *node {
	t.Helper()
	cfg := cluster.DefaultConfig()
	cfg.Alias, cfg.Cookie, cfg.CookieKey = alias, testCookie, cluster.DeriveCookieKey(testCookie)
	cfg.BindHost, cfg.BindPort = "127.0.0.1", 0
	nd := &node{alias: alias, sched: proc.New(proc.Config{Threads: 2})}
	var ready atomic.Pointer[dist.Dist]
	cfg.OnEvent = func(e cluster.Event) {
		if d := ready.Load(); d != nil {
			d.HandleEvent(e)
		}
	}
	n, err := cluster.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	dc := dist.Config{Node: n, Sched: nd.sched}
	if tune != nil {
		tune(&dc)
	}
	nd.n, nd.d = n, dist.New(dc)
	ready.Store(nd.d)
	nd.names = New(nd.d, nd.sched)
	if nd.addr, err = n.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		nd.names.Close()
		nd.d.Close()
		n.Close()
		nd.sched.Close()
	})
	return nd
}

// join makes a join b and waits until each has a slot for the other.
func join(t *testing.T, a, b *node) {
	t.Helper()
	host, port, _ := net.SplitHostPort(b.addr)
	p, _ := strconv.Atoi(port)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := a.n.Join(ctx, host, p); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 10*time.Second, "both linked", func() bool {
		return a.d.SlotOfMember(b.alias) != 0 && b.d.SlotOfMember(a.alias) != 0
	})
}

// pair starts two joined nodes, a and b.
func pair(t *testing.T, tune func(*dist.Config)) (a, b *node) {
	a, b = startNode(t, "a", tune), startNode(t, "b", tune)
	join(t, a, b)
	return a, b
}

// A process of b finds a name of a with WHEREIS name@a, and its message
// to that PID arrives; a name nobody holds, and a member that does not
// exist, give 0.
func TestWhereisOnAnotherMember(t *testing.T) {
	a, b := pair(t, nil)
	svc := a.sched.Attach("svc")
	if err := svc.Register("svc"); err != nil {
		t.Fatal(err)
	}
	p, err := asm.Assemble("t.iasm", `
.data
svc:    .asciiz 'svc@a'
none:   .asciiz 'none@a'
nobody: .asciiz 'svc@nobody'
me:     .asciiz 'svc@b'
.code
        whereis $0 @svc
        load $1 #42
        send $0 $1
        whereis $2 @none
        whereis $3 @nobody
        whereis $4 @me
        hlt`)
	if err != nil {
		t.Fatal(err)
	}
	h, err := b.sched.Start(p, proc.StartOptions{Name: "finder"})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-h.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("the finder did not end")
	}
	r := h.VM().Registers()
	if want := proc.MakePID(b.d.SlotOfMember("a"), svc.PID().Serial()); proc.PID(r[0]) != want || r[2] != 0 || r[3] != 0 || r[4] != 0 {
		t.Fatalf("exit %+v; $0 = %v, want %v; $2, $3, $4 = %d %d %d, want 0", h.Exit(), proc.PID(r[0]), want, r[2], r[3], r[4])
	}
	var got []vm.Message
	testkit.Eventually(t, 5*time.Second, "the message", func() bool { got = append(got, svc.Take()...); return len(got) > 0 })
	if got[0].Value != 42 {
		t.Errorf("got %+v, want 42", got[0])
	}
}

// The shell's lookups: Whereis and Registered of another member, and of
// this node by its own alias.
func TestShellLookups(t *testing.T) {
	a, b := pair(t, nil)
	for _, n := range []string{"one", "two"} {
		if err := a.sched.Attach(n).Register(n); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	slot := b.d.SlotOfMember("a")
	list, more, err := b.names.Registered(ctx, "a")
	if err != nil || more != 0 || len(list) != 2 || list[0].Name != "one" || list[1].Name != "two" || list[0].PID.Node() != slot {
		t.Fatalf("Registered(a) = %v, %d, %v", list, more, err)
	}
	if pid, err := b.names.Whereis(ctx, "a", "two"); err != nil || pid != list[1].PID {
		t.Errorf("Whereis two@a = %v, %v; want %v", pid, err, list[1].PID)
	}
	if pid, err := b.names.Whereis(ctx, "a", "three"); err != nil || pid != 0 {
		t.Errorf("Whereis three@a = %v, %v; want 0", pid, err)
	}
	if pid, err := a.names.Whereis(ctx, "a", "one"); err != nil || pid.Node() != 0 || pid.Serial() != list[0].PID.Serial() {
		t.Errorf("Whereis one@a on a = %v, %v", pid, err)
	}
	if own, _, err := a.names.Registered(ctx, "a"); err != nil || len(own) != 2 || own[0].PID.Node() != 0 {
		t.Errorf("Registered(a) on a = %v, %v", own, err)
	}
	if _, err := b.names.Whereis(ctx, "nobody", "one"); !errors.Is(err, dist.ErrNoConnection) {
		t.Errorf("Whereis one@nobody = %v, want no connection", err)
	}
	if _, err := b.names.Whereis(ctx, "a", "a b"); !errors.Is(err, proc.ErrBadName) {
		t.Errorf("Whereis of a bad name = %v", err)
	}
}

// A member flooding lookups is answered at its bounded rate: past the
// burst, at most the rate a second; the others are refused and give 0.
func TestLookupFloodIsRateLimited(t *testing.T) {
	const rate, burst, asks = 50, 10, 300
	a, b := pair(t, func(c *dist.Config) { c.AnswerRate, c.AnswerBurst = rate, burst })
	if err := a.sched.Attach("svc").Register("svc"); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	var found, refused atomic.Int64
	var wg sync.WaitGroup
	for range asks {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pid, err := b.names.Whereis(context.Background(), "a", "svc")
			switch {
			case pid != 0:
				found.Add(1)
			case errors.Is(err, dist.ErrRefused) && strings.Contains(err.Error(), "rate limited"):
				refused.Add(1)
			}
		}()
	}
	wg.Wait()
	took := time.Since(began).Seconds()
	limit := burst + int64(rate*took) + 1
	t.Logf("%d lookups in %.3f s: %d answered, %d refused (limit %d)", asks, took, found.Load(), refused.Load(), limit)
	if found.Load() < burst || found.Load() > limit || found.Load()+refused.Load() != asks {
		t.Errorf("%d answered, %d refused of %d in %.3f s; want %d to %d answered, the rest refused",
			found.Load(), refused.Load(), asks, took, burst, limit)
	}
	// The processes' WHEREIS are held to the same rate: the flood spent
	// the tokens, so at most a few of a quick burst find the name.
	var got atomic.Int64
	var pending sync.WaitGroup
	for range 50 {
		pending.Add(1)
		b.names.LookupName("a", "svc", func(pid proc.PID) {
			if pid != 0 {
				got.Add(1)
			}
			pending.Done()
		})
	}
	pending.Wait()
	if n := got.Load(); n >= 50 {
		t.Errorf("all %d lookups answered right after a flood", n)
	}
}

// A listing stops at MaxListed names and counts the rest.
func TestRegisteredIsBounded(t *testing.T) {
	a, b := pair(t, nil)
	for i := range MaxListed + 3 {
		if err := a.sched.Attach("m").Register("m" + strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	list, more, err := b.names.Registered(context.Background(), "a")
	if err != nil || len(list) != MaxListed || more != 3 {
		t.Fatalf("Registered = %d names, %d more, %v; want %d and 3", len(list), more, err, MaxListed)
	}
}

// Answers that break the rules are taken as no answer, with an error
// that says why.
func TestBadAnswers(t *testing.T) {
	a := startNode(t, "a", nil)
	enc := func(v any) []byte {
		b, err := a.names.encode(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for name, body := range map[string][]byte{
		"another node's PID": enc(&whereisAnswer{PID: dist.WirePID{Alias: "c", Incarnation: 1, Serial: 3}}),
		"not msgpack":        []byte("\xc1"),
		"a field too many":   {0x81, 0xa1, 'x', 0x01},
	} {
		if pid, err := a.names.whereisAnswer("b", body, nil); pid != 0 || err == nil {
			t.Errorf("%s: %v, %v; want 0 and an error", name, pid, err)
		}
	}
	for name, ans := range map[string]*listAnswer{
		"another node's names": {Alias: "c"},
		"too many names":       {Alias: "b", Names: make([]listEntry, MaxListed+1)},
		"a bad name":           {Alias: "b", Names: []listEntry{{Name: "a b", Serial: 1}}},
		"negative more":        {Alias: "b", More: -1},
	} {
		if _, _, err := a.names.listAnswer("b", enc(ans)); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if _, err := a.names.answerWhereis("b", enc(&whereisRequest{Name: "a@b"})); !errors.Is(err, proc.ErrBadName) {
		t.Errorf("a lookup of a bad name: %v", err)
	}
}
