package cluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

func TestJoinFormsFullMesh(t *testing.T) {
	t.Parallel()
	for _, size := range []int{2, 3, 6} {
		t.Run(fmt.Sprintf("%d nodes", size), func(t *testing.T) {
			testkit.CheckGoroutines(t)
			nodes := startCluster(t, size)
			waitFullMesh(t, nodes, 5*time.Second)
		})
	}
}

func TestJoinReportsMembersItGot(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes := startCluster(t, 3)
	d := startNode(t, testConfig("d"))
	got := joinTo(t, d, nodes[1])
	want := expectedView(append(nodes, d))
	var parts []string
	for _, m := range got {
		parts = append(parts, m.Alias+"@"+m.Addr())
		if m.Local != (m.Alias == "d") {
			t.Errorf("member %q has Local=%v", m.Alias, m.Local)
		}
	}
	if view := strings.Join(parts, " "); view != want {
		t.Errorf("Join returned %s, want %s", view, want)
	}
}

func TestJoinEventsAnnounceMembers(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes := startCluster(t, 3)
	a, c := nodes[0], nodes[2]
	testkit.Eventually(t, 3*time.Second, "a announces n1 and n2 joined", func() bool {
		_, ok1 := a.events.find(EventJoined, "n1")
		_, ok2 := a.events.find(EventJoined, "n2")
		return ok1 && ok2
	})
	c.Close()
	testkit.Eventually(t, 3*time.Second, "a announces the link to n2 closed", func() bool {
		_, ok := a.events.find(EventLinkClosed, "n2")
		return ok
	})
	waitFullMesh(t, nodes[:2], 3*time.Second)
	if e, _ := a.events.find(EventJoined, "n1"); e.Member.Addr() != nodes[1].addr || e.Err != nil {
		t.Errorf("joined event of n1: %+v, want address %s and no error", e, nodes[1].addr)
	}
}

// Nodes bound to different loopback addresses must be published with
// their own listen address on every node, never a source address.
func TestMembersPublishListenAddressOnSeveralLoopbacks(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	var nodes []*testNode
	for i, host := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} {
		cfg := testConfig(fmt.Sprintf("n%d", i))
		cfg.BindHost = host
		nodes = append(nodes, startNode(t, cfg))
	}
	joinTo(t, nodes[1], nodes[0])
	joinTo(t, nodes[2], nodes[1])
	waitFullMesh(t, nodes, 5*time.Second)
	for _, n := range nodes {
		for _, m := range n.Members() {
			if !m.Local && m.Host != nodes[m.Alias[1]-'0'].host {
				t.Errorf("%s lists %s at %s", n.Alias(), m.Alias, m.Addr())
			}
		}
	}
}

func TestWildcardBindIsPublishedReachable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		advertise string
		wantHost  string
	}{
		{"address the peer reached", "", "127.0.0.1"},
		{"advertise host", "127.0.0.3", "127.0.0.3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.CheckGoroutines(t)
			a := startNode(t, testConfig("a"))
			b := startNode(t, testConfig("b"))
			cfg := testConfig("w")
			cfg.BindHost, cfg.AdvertiseHost = "0.0.0.0", tt.advertise
			w := startNode(t, cfg)
			joinTo(t, b, a)
			joinTo(t, w, a)
			w.host = tt.wantHost
			waitFullMesh(t, []*testNode{a, b, w}, 5*time.Second)
			// the published address really reaches w: a fourth node joins through it
			c := startNode(t, testConfig("c"))
			joinTo(t, c, w)
			waitFullMesh(t, []*testNode{a, b, c, w}, 5*time.Second)
		})
	}
}

func TestSimultaneousDialKeepsOneLinkPerPair(t *testing.T) {
	t.Parallel()
	for round := range 5 {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			testkit.CheckGoroutines(t)
			nodes := []*testNode{startNode(t, testConfig("a")), startNode(t, testConfig("b")), startNode(t, testConfig("c"))}
			var wg sync.WaitGroup
			for _, from := range nodes {
				for _, to := range nodes {
					if from == to {
						continue
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
						defer cancel()
						if _, err := from.Join(ctx, to.host, to.port); err != nil && !errors.Is(err, ErrPeerClosing) {
							t.Errorf("%s joins %s: %v", from.Alias(), to.Alias(), err)
						}
					}()
				}
			}
			wg.Wait()
			waitFullMesh(t, nodes, 5*time.Second)
			for _, n := range nodes {
				testkit.Eventually(t, 2*time.Second, n.Alias()+" announces 2 joins", func() bool {
					return n.events.count(EventJoined) >= 2
				})
				if c := n.events.count(EventJoined); c != 2 {
					t.Errorf("%s announced %d joins, want 2: %v", n.Alias(), c, n.events.all())
				}
				if c := n.events.count(EventLinkClosed); c != 0 {
					t.Errorf("%s saw %d links close: %v", n.Alias(), c, n.events.all())
				}
			}
		})
	}
}

func TestDuplicateAliasIsRefusedOnBothSides(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes := startCluster(t, 2)
	a := nodes[0]
	impostor := startNode(t, testConfig("n1"))
	_, err := impostor.Join(context.Background(), a.host, a.port)
	if !errors.Is(err, ErrDuplicateAlias) {
		t.Fatalf("join with a taken alias: got %v, want ErrDuplicateAlias", err)
	}
	want := fmt.Sprintf(`join %s: peer "n0" refused us: alias "n1" is already a member`, a.addr)
	if err.Error() != want {
		t.Errorf("error text\n got %q\nwant %q", err, want)
	}
	testkit.Eventually(t, 2*time.Second, "n0 announces the refusal", func() bool {
		e, ok := a.events.find(EventRefused, "n1")
		return ok && errors.Is(e.Err, ErrDuplicateAlias) && strings.Contains(e.Err.Error(), `alias "n1" is already a member`)
	})
	waitFullMesh(t, nodes, testSlack)
	if len(impostor.Members()) != 1 {
		t.Errorf("impostor lists %v", impostor.Members())
	}
}

func TestVersionMismatchIsRefused(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	a := startNode(t, testConfig("a"))
	b := startNode(t, testConfig("b"))
	b.version = ProtocolVersion + 1
	_, err := b.Join(context.Background(), a.host, a.port)
	if !errors.Is(err, ErrVersionMismatch) {
		t.Fatalf("got %v, want ErrVersionMismatch", err)
	}
	want := fmt.Sprintf(`join %s: peer at %s refused us: protocol version %d is not supported; node "a" speaks version %d`,
		a.addr, a.addr, ProtocolVersion+1, ProtocolVersion)
	if err.Error() != want {
		t.Errorf("error text\n got %q\nwant %q", err, want)
	}
	testkit.Eventually(t, 2*time.Second, "a announces the refusal", func() bool {
		e, ok := a.events.find(EventRefused, "")
		return ok && errors.Is(e.Err, ErrVersionMismatch)
	})
	if len(a.Members()) != 1 || len(b.Members()) != 1 {
		t.Errorf("member lists changed: %v / %v", a.Members(), b.Members())
	}
}

// A Hello from a future version, shaped differently, still gets the
// version refusal rather than a protocol error.
func TestFutureVersionWithAnotherShapeIsRefusedByVersion(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	a := startNode(t, testConfig("a"))
	p := dialRaw(t, a.addr, "future")
	p.send(&hello{Version: ProtocolVersion + 1, Sender: memberInfo{Alias: "future"}, Nonce: []byte("short")})
	m, err := p.read()
	if r, ok := m.(*refuse); err != nil || !ok || r.Code != codeVersion {
		t.Fatalf("got %#v %v, want a version refusal", m, err)
	}
}

func TestJoinFailsClearly(t *testing.T) {
	t.Parallel()
	// A port that no test listens on, below the range the system picks
	// ports for others from: a port just closed could be taken by a test
	// running in parallel.
	closedPort := func(t *testing.T, _ *testNode) (string, int) { return "127.0.0.1", testkit.Ports(t, 1)[0] }
	tests := []struct {
		name   string
		target func(t *testing.T, self *testNode) (string, int)
		want   error
		text   string
	}{
		{"nothing listens", closedPort, nil, "connection refused"},
		{"not an Iridium node", func(t *testing.T, _ *testNode) (string, int) {
			return fakeServer(t, func(c net.Conn) { c.Write([]byte("SSH-2.0-OpenSSH_9.6\r\n")); c.Read(make([]byte, 100)) })
		}, ErrNotANode, "not an Iridium cluster node"},
		{"never answers", func(t *testing.T, _ *testNode) (string, int) {
			return fakeServer(t, func(c net.Conn) { c.SetReadDeadline(time.Now().Add(5 * time.Second)); io.Copy(io.Discard, c) })
		}, ErrHandshakeTimeout, "sent no Challenge within 3s"},
		{"itself", func(_ *testing.T, self *testNode) (string, int) { return self.host, self.port }, ErrJoinSelf, "cannot join itself"},
		{"itself by another name", func(_ *testing.T, self *testNode) (string, int) { return "127.0.0.2", self.port }, nil, "refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.CheckGoroutines(t)
			self := startNode(t, testConfig("self"))
			host, port := tt.target(t, self)
			start := time.Now()
			_, err := self.Join(context.Background(), host, port)
			if err == nil {
				t.Fatal("join succeeded")
			}
			if took := time.Since(start); took > testHandshake+time.Second {
				t.Errorf("took %v to fail", took)
			}
			prefix := fmt.Sprintf("join %s: ", net.JoinHostPort(host, fmt.Sprint(port)))
			if !strings.HasPrefix(err.Error(), prefix) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("error %q: want prefix %q and %q", err, prefix, tt.text)
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v is not %v", err, tt.want)
			}
			if len(self.Members()) != 1 {
				t.Errorf("members changed: %v", self.Members())
			}
		})
	}
}

func TestJoinStartsTheListenerFirst(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	a := startNode(t, testConfig("a"))
	n, err := New(testConfig("b"))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.Running() {
		t.Fatal("running before Join")
	}
	if _, err := n.Join(context.Background(), a.host, a.port); err != nil {
		t.Fatal(err)
	}
	if !n.Running() {
		t.Fatal("not running after Join")
	}
	self := n.Members()[1] // a, b
	b := &testNode{Node: n, host: self.Host, port: self.Port, events: &recorder{}}
	c := startNode(t, testConfig("c"))
	joinTo(t, c, b) // later nodes reach b through the address it published
	waitFullMesh(t, []*testNode{a, b, c}, 5*time.Second)
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	a := startNode(t, testConfig("a"))
	if _, err := a.Start(context.Background()); !errors.Is(err, ErrAlreadyRunning) || !strings.Contains(err.Error(), a.addr) {
		t.Errorf("second Start: %v", err)
	}
	cfg := testConfig("b")
	cfg.BindPort = a.port
	b, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if _, err := b.Start(context.Background()); !errors.Is(err, ErrPortInUse) || !strings.Contains(err.Error(), a.addr) {
		t.Errorf("Start on a used port: %v", err)
	}
	a.Close()
	if _, err := a.Start(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Start after Close: %v", err)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(*Config)
		text   string
	}{
		{"no alias", func(c *Config) { c.Alias = "" }, "alias is empty"},
		{"alias with space", func(c *Config) { c.Alias = "a b" }, "spaces"},
		{"no cookie", func(c *Config) { c.Cookie = nil }, "cookie is empty"},
		{"bad port", func(c *Config) { c.BindPort = 70000 }, "outside 0-65535"},
		{"probe timeout below 1ms", func(c *Config) { c.ProbeTimeout = time.Microsecond }, "at least 1ms"},
		{"negative indirect checks", func(c *Config) { c.IndirectChecks = -1 }, "must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig("a")
			tt.change(&cfg)
			_, err := New(cfg)
			if !errors.Is(err, ErrBadConfig) || !strings.Contains(err.Error(), tt.text) {
				t.Errorf("New: %v, want %q", err, tt.text)
			}
		})
	}
}

func TestDefaultConfig(t *testing.T) {
	t.Parallel()
	d := DefaultConfig()
	if d.BindHost != "127.0.0.1" || d.BindPort != 2254 || d.MaxFrameSize != 1<<20 || d.ProbeTimeout >= d.ProbeInterval || d.IndirectChecks != 3 {
		t.Errorf("defaults: %+v", d)
	}
}

func TestCloseLeavesNoGoroutines(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes := startCluster(t, 4)
	waitFullMesh(t, nodes, 5*time.Second)
	for _, n := range nodes {
		if err := n.Close(); err != nil {
			t.Errorf("close %s: %v", n.Alias(), err)
		}
	}
}

// Nodes joining at the same moment through different members must still
// end in a full mesh, though neither may be in the list the other got.
func TestConcurrentJoinsThroughDifferentMembers(t *testing.T) {
	t.Parallel()
	for round := range 10 {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			testkit.CheckGoroutines(t)
			seeds := startCluster(t, 3)
			var newcomers []*testNode
			for i := range 6 {
				newcomers = append(newcomers, startNode(t, testConfig(fmt.Sprintf("m%d", i))))
			}
			var wg sync.WaitGroup
			for i, n := range newcomers {
				wg.Add(1)
				go func() {
					defer wg.Done()
					seed := seeds[i%len(seeds)]
					if _, err := n.Join(context.Background(), seed.host, seed.port); err != nil {
						t.Errorf("%s joins %s: %v", n.Alias(), seed.Alias(), err)
					}
				}()
			}
			wg.Wait()
			waitFullMesh(t, append(seeds, newcomers...), 5*time.Second)
		})
	}
}
