package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

var testCookie = []byte("test cookie: not a secret")

// testKey is testCookie stretched once for all tests: argon2id costs tens
// of milliseconds, more under the race detector.
var testKey = sync.OnceValue(func() []byte { return DeriveCookieKey(testCookie) })

// keyFor returns the derived key of cookie, reusing testKey for testCookie.
func keyFor(cookie []byte) []byte {
	if string(cookie) == string(testCookie) {
		return testKey()
	}
	return DeriveCookieKey(cookie)
}

// Timeouts of test nodes: short, so failures show up fast, but with room
// for -race on a busy 2-core machine. testFailure bounds how long a
// silent member of a small test cluster takes to fail: its first probe
// (within a few intervals), the round (3 probe timeouts) and the longest
// suspicion (SuspicionMaxMult × SuspicionMult × the interval).
const (
	testHeartbeat    = 100 * time.Millisecond // the probe interval
	testProbeTimeout = 200 * time.Millisecond
	testSuspicion    = 3 // SuspicionMult
	testFailure      = 2500 * time.Millisecond
	testHandshake    = 3 * time.Second
	// testSlack is what polls allow beyond a timeout they wait for.
	testSlack = 3 * time.Second
)

// testConfig returns a config for an in-process node on 127.0.0.1 with a
// free port and the test timeouts.
func testConfig(alias string) Config {
	return Config{
		Alias:            alias,
		Cookie:           testCookie,
		CookieKey:        testKey(),
		BindHost:         "127.0.0.1",
		BindPort:         0,
		DialTimeout:      testHandshake,
		HandshakeTimeout: testHandshake,
		WriteTimeout:     testFailure,
		ProbeInterval:    testHeartbeat,
		ProbeTimeout:     testProbeTimeout,
		SuspicionMult:    testSuspicion,
		ReconnectFor:     -1,
	}
}

// recorder keeps the events of one node.
type recorder struct{ events testkit.List[Event] }

func (r *recorder) record(e Event) { r.events.Add(e) }

func (r *recorder) all() []Event { return r.events.All() }

// find returns the first event of kind about alias ("" matches any).
func (r *recorder) find(kind EventKind, alias string) (Event, bool) {
	for _, e := range r.all() {
		if e.Kind == kind && (alias == "" || e.Member.Alias == alias) {
			return e, true
		}
	}
	return Event{}, false
}

// losses lists the events that dropped a member, as text.
func (r *recorder) losses() []string {
	var out []string
	for _, e := range r.all() {
		if e.Kind == EventFailed || e.Kind == EventLinkClosed || e.Kind == EventLeft {
			out = append(out, fmt.Sprintf("%s %s: %v", e.Member.Alias, e.Kind, e.Err))
		}
	}
	return out
}

func (r *recorder) count(kind EventKind) int {
	c := 0
	for _, e := range r.all() {
		if e.Kind == kind {
			c++
		}
	}
	return c
}

// testNode is a started node with its events and listen address.
type testNode struct {
	*Node
	addr   string
	host   string
	port   int
	events *recorder
}

// startNode starts a node built from cfg; Close runs at the end of the test.
func startNode(t testing.TB, cfg Config) *testNode {
	t.Helper()
	return startNodeWith(t, cfg, nil)
}

// startNodeWith is startNode with prepare, if not nil, applied to the
// node before it starts.
func startNodeWith(t testing.TB, cfg Config, prepare func(*Node)) *testNode {
	t.Helper()
	rec := &recorder{}
	cfg.OnEvent = rec.record
	n, err := New(cfg)
	if err != nil {
		t.Fatalf("New(%q): %v", cfg.Alias, err)
	}
	if prepare != nil {
		prepare(n)
	}
	t.Cleanup(func() { n.Close() })
	addr, err := n.Start(context.Background())
	if err != nil {
		t.Fatalf("Start(%q): %v", cfg.Alias, err)
	}
	host, port := splitAddr(mustTCPAddr(t, addr))
	return &testNode{Node: n, addr: addr, host: host, port: port, events: rec}
}

func mustTCPAddr(t testing.TB, addr string) net.Addr {
	t.Helper()
	a, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		t.Fatalf("resolve %s: %v", addr, err)
	}
	return a
}

// joinTo makes n join the cluster of seed, and waits until it has linked
// the members seed listed (or given them up); it fails the test on error.
func joinTo(t testing.TB, n, seed *testNode) []Member {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	members, err := n.Join(ctx, seed.host, seed.port)
	if err != nil {
		t.Fatalf("%s joins %s: %v", n.Alias(), seed.Alias(), err)
	}
	waitLinked(t, n.Node)
	return members
}

// waitLinked waits until the members a Join links in the background are
// linked or given up.
func waitLinked(t testing.TB, n *Node) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*testHandshake+testSlack)
	defer cancel()
	if err := n.WaitLinked(ctx); err != nil {
		t.Fatalf("%s: background linking after Join: %v", n.Alias(), err)
	}
}

// startCluster starts count nodes named n0, n1... and joins each to n0.
func startCluster(t testing.TB, count int) []*testNode {
	t.Helper()
	return startClusterWith(t, count, nil)
}

// startClusterWith is startCluster with change, if not nil, applied to
// each node's config.
func startClusterWith(t testing.TB, count int, change func(*Config)) []*testNode {
	t.Helper()
	nodes := make([]*testNode, count)
	for i := range nodes {
		cfg := testConfig(fmt.Sprintf("n%d", i))
		if change != nil {
			change(&cfg)
		}
		nodes[i] = startNode(t, cfg)
		if i > 0 {
			joinTo(t, nodes[i], nodes[0])
		}
	}
	return nodes
}

// memberView renders a node's member list as "alias@host:port" sorted.
func memberView(n *Node) string {
	var parts []string
	for _, m := range n.Members() {
		parts = append(parts, m.Alias+"@"+m.Addr())
	}
	return strings.Join(parts, " ")
}

// expectedView is the member list every node of nodes should show.
func expectedView(nodes []*testNode) string {
	ms := make([]Member, len(nodes))
	for i, n := range nodes {
		ms[i] = Member{Alias: n.Alias(), Host: n.host, Port: n.port}
	}
	sortMembers(ms)
	var parts []string
	for _, m := range ms {
		parts = append(parts, m.Alias+"@"+m.Addr())
	}
	return strings.Join(parts, " ")
}

// linkCounts returns how many member links and standby links n has.
func linkCounts(n *Node) (links, standby int) {
	n.links.mu.Lock()
	defer n.links.mu.Unlock()
	return len(n.links.byAlias), len(n.links.standby)
}

// waitFullMesh waits until every node lists exactly the given nodes with
// their listen addresses, over one link per pair and no spare links.
func waitFullMesh(t testing.TB, nodes []*testNode, timeout time.Duration) {
	t.Helper()
	want := expectedView(nodes)
	testkit.EventuallyNil(t, timeout, "a full mesh of "+want, func() error {
		var wrong []string
		for _, n := range nodes {
			links, standby := linkCounts(n.Node)
			if view := memberView(n.Node); links != len(nodes)-1 || standby != 0 || view != want {
				wrong = append(wrong, fmt.Sprintf("%s: %d links, %d standby: %s; losses: %v",
					n.Alias(), links, standby, view, n.events.losses()))
			}
		}
		if len(wrong) > 0 {
			return errors.New("\n" + strings.Join(wrong, "\n"))
		}
		return nil
	})
}

// fakeServer listens on loopback and runs serve on each connection (then
// closes it) until the test ends; it returns the address. It stands in
// for a peer that speaks the protocol by hand, or not at all.
func fakeServer(t *testing.T, serve func(net.Conn)) (string, int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() { defer wg.Done(); defer c.Close(); serve(c) }()
		}
	}()
	return splitAddr(ln.Addr())
}
