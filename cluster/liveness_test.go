package cluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// cuttableCluster starts count nodes, each on its own cuttable transport,
// joined into a full mesh. change adjusts each config.
func cuttableCluster(t *testing.T, count int, change func(*Config)) ([]*testNode, []*cuttableTransport) {
	t.Helper()
	nodes := make([]*testNode, count)
	nets := make([]*cuttableTransport, count)
	for i := range nodes {
		cfg := testConfig(fmt.Sprintf("n%d", i))
		nets[i] = &cuttableTransport{}
		t.Cleanup(nets[i].heal) // after the nodes close
		cfg.Transport = nets[i]
		if change != nil {
			change(&cfg)
		}
		nodes[i] = startNode(t, cfg)
		if i > 0 {
			joinTo(t, nodes[i], nodes[0])
		}
	}
	waitFullMesh(t, nodes, 5*time.Second)
	return nodes, nets
}

// kill stops n as SIGKILL would: every connection is reset, no Leave.
func kill(n *testNode) {
	n.links.mu.Lock()
	for _, l := range n.links.byAlias {
		conn := l.conn
		if c, ok := conn.(*cuttableConn); ok {
			conn = c.Conn
		}
		if tcp, ok := conn.(*net.TCPConn); ok {
			tcp.SetLinger(0)
		}
	}
	n.links.mu.Unlock()
	n.Close()
}

// hasMember reports whether n lists alias as a linked member (not one
// it lists as failed while redialing it).
func hasMember(n *Node, alias string) bool {
	for _, m := range n.Members() {
		if m.Alias == alias && m.State != StateFailed {
			return true
		}
	}
	return false
}

func TestKilledMemberIsDroppedEverywhere(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes := startCluster(t, 4)
	waitFullMesh(t, nodes, 5*time.Second)
	kill(nodes[3])
	// A closed or reset link is an instant signal: no probe is needed.
	testkit.Eventually(t, 1500*time.Millisecond, "every node drops n3", func() bool {
		for _, n := range nodes[:3] {
			if hasMember(n.Node, "n3") {
				return false
			}
		}
		return true
	})
	testkit.Eventually(t, testSlack, "the others announce n3's link closed", func() bool { // events come on their own goroutine
		for _, n := range nodes[:3] {
			if _, ok := n.events.find(EventLinkClosed, "n3"); !ok {
				return false
			}
		}
		return true
	})
	for _, n := range nodes[:3] {
		e, ok := n.events.find(EventLinkClosed, "n3")
		if !ok {
			t.Errorf("%s did not announce n3's link closed: %v", n.Alias(), n.events.all())
		} else {
			t.Logf("%s: %v", n.Alias(), e)
		}
	}
	waitFullMesh(t, nodes[:3], testSlack)
}

func TestSilentMemberFailsWithinTimeout(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes, nets := cuttableCluster(t, 3, nil)
	timeout := testFailure
	// The least it can take: a whole probe round, then the shortest
	// suspicion.
	least := 3*testProbeTimeout + suspicionTimeout(nodes[0].cfg, 3, nodes[0].cfg.IndirectChecks)
	cutAt := time.Now()
	nets[2].cut.Store(true)
	testkit.Eventually(t, timeout+testSlack, "n0 and n1 announce n2 failed", func() bool {
		_, ok0 := nodes[0].events.find(EventFailed, "n2")
		_, ok1 := nodes[1].events.find(EventFailed, "n2")
		return ok0 && ok1
	})
	for _, n := range nodes[:2] {
		e, _ := n.events.find(EventFailed, "n2")
		after := e.Time.Sub(cutAt)
		if after < least || after > timeout+testSlack {
			t.Errorf("%s noticed after %v; want %v to %v", n.Alias(), after, least, timeout)
		}
		t.Logf("%s: n2 failed %v after the cut", n.Alias(), after.Round(time.Millisecond))
		if hasMember(n.Node, "n2") {
			t.Errorf("%s still lists n2", n.Alias())
		}
	}
	waitFullMesh(t, nodes[:2], testSlack)
	testkit.Eventually(t, timeout+testSlack, "n2, cut off, fails the others", func() bool {
		return len(nodes[2].Members()) == 1
	})
}

func TestMembersShowStateAndLastSeen(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes, nets := cuttableCluster(t, 2, func(c *Config) { c.SuspicionMult = 30 }) // 3 s at least
	a := nodes[0]
	for _, m := range a.Members() {
		want := StateAlive
		if m.Local {
			want = StateLocal
		}
		if m.State != want || time.Since(m.LastSeen) > time.Second {
			t.Errorf("member %s: state %v, last seen %v ago", m.Alias, m.State, time.Since(m.LastSeen))
		}
	}
	nets[1].cut.Store(true)
	testkit.Eventually(t, 3*time.Second, "n1 turns suspect before it fails", func() bool {
		ms := a.Members()
		return len(ms) == 2 && ms[1].State == StateSuspect
	})
}

// With the default heartbeat and failure timeout, CPU-bound goroutines on
// every core (a VM in a hot loop) must not make nodes fail each other.
func TestBusyVMCausesNoFalseAlarm(t *testing.T) {
	testkit.CheckGoroutines(t)
	nodes := make([]*testNode, 3)
	for i := range nodes {
		cfg := testConfig(fmt.Sprintf("n%d", i))
		cfg.ProbeInterval, cfg.ProbeTimeout, cfg.SuspicionMult = DefaultProbeInterval, DefaultProbeTimeout, DefaultSuspicionMult
		nodes[i] = startNode(t, cfg)
		if i > 0 {
			joinTo(t, nodes[i], nodes[0])
		}
	}
	waitFullMesh(t, nodes, 5*time.Second)
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() { // a VM in a hot loop: no calls, no allocation
			defer wg.Done()
			x := uint64(1)
			for !stop.Load() {
				for i := 0; i < 1_000_000; i++ {
					x = x*6364136223846793005 + 1442695040888963407
				}
			}
			_ = x
		}()
	}
	window := 5 * time.Second // several probes of each member
	<-time.After(window)      // the window being observed, not a synchronisation
	stop.Store(true)
	wg.Wait()
	for _, n := range nodes {
		if c := n.events.count(EventFailed) + n.events.count(EventLinkClosed); c != 0 {
			t.Errorf("%s: false alarms during %v of busy CPUs: %v", n.Alias(), window, n.events.all())
		}
	}
	waitFullMesh(t, nodes, testSlack)
}

func TestLeaveIsAnnouncedAsLeft(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes := startCluster(t, 3)
	waitFullMesh(t, nodes, 5*time.Second)
	leaving := nodes[2]
	start := time.Now()
	if err := leaving.Leave(context.Background()); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	testkit.Eventually(t, testFailure/2, "n0 and n1 announce n2 left", func() bool {
		_, ok0 := nodes[0].events.find(EventLeft, "n2")
		_, ok1 := nodes[1].events.find(EventLeft, "n2")
		return ok0 && ok1
	})
	t.Logf("Leave returned and was announced in %v", time.Since(start))
	waitFullMesh(t, nodes[:2], testSlack)
	for _, n := range nodes[:2] {
		for _, e := range n.events.all() {
			if e.Member.Alias == "n2" && e.Kind != EventJoined && e.Kind != EventLeft {
				t.Errorf("%s: unexpected %v", n.Alias(), e)
			}
		}
	}
	if leaving.Running() {
		t.Error("still running after Leave")
	}
	if err := leaving.Leave(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("second Leave: %v", err)
	}
}

func TestRestartedNodeReplacesItsOldEntry(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	long := func(c *Config) { c.SuspicionMult = 100; c.NodeID = "id-" + c.Alias } // 10 s at least
	nodes, nets := cuttableCluster(t, 3, long)
	old := nodes[2]
	nets[2].cut.Store(true) // the old run hangs: peers still list it
	testkit.Eventually(t, testSlack, "peers suspect the old run", func() bool {
		suspects := 0
		for _, n := range nodes[:2] {
			for _, m := range n.Members() {
				if m.Alias == "n2" && m.State == StateSuspect {
					suspects++
				}
			}
		}
		return suspects == 2
	})
	cfg := testConfig("n2")
	long(&cfg)
	restarted := startNode(t, cfg)
	start := time.Now()
	joinTo(t, restarted, nodes[1])
	waitFullMesh(t, []*testNode{nodes[0], nodes[1], restarted}, 2*time.Second)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("replacing the old entry took %v", took)
	}
	for _, n := range nodes[:2] {
		testkit.Eventually(t, time.Second, n.Alias()+" announces n2 rejoined", func() bool {
			_, ok := n.events.find(EventRejoined, "n2")
			return ok
		})
		if c := n.events.count(EventFailed) + n.events.count(EventLinkClosed); c != 0 {
			t.Errorf("%s: %v", n.Alias(), n.events.all())
		}
	}
	old.Close()
}

func TestNetworkCutHealsWithoutUserAction(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes, nets := cuttableCluster(t, 3, func(c *Config) { c.ReconnectFor = 20 * time.Second })
	nets[2].cut.Store(true)
	testkit.Eventually(t, testFailure+testSlack, "the cut node is dropped on both sides", func() bool {
		return !hasMember(nodes[0].Node, "n2") && !hasMember(nodes[1].Node, "n2") &&
			!hasMember(nodes[2].Node, "n0") && !hasMember(nodes[2].Node, "n1")
	})
	nets[2].heal()
	waitFullMesh(t, nodes, 10*time.Second)
	testkit.Eventually(t, time.Second, "a reconnection is announced", func() bool {
		reconnected := 0
		for _, n := range nodes {
			reconnected += n.events.count(EventReconnected)
		}
		return reconnected > 0
	})
}

func TestReconnectGivesUp(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes, nets := cuttableCluster(t, 2, func(c *Config) { c.ReconnectFor = 500 * time.Millisecond })
	nets[1].cut.Store(true)
	testkit.Eventually(t, testFailure+testSlack, "n0 drops n1", func() bool { return !hasMember(nodes[0].Node, "n1") })
	testkit.Eventually(t, 2*time.Second, "n0 stops redialing n1", func() bool {
		return !nodes[0].gossip.redialing("n1")
	})
}

func TestClusterFullIsRefused(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	var nodes []*testNode
	for i := range 4 {
		cfg := testConfig(fmt.Sprintf("n%d", i))
		cfg.MaxMembers = 3
		nodes = append(nodes, startNode(t, cfg))
	}
	joinTo(t, nodes[1], nodes[0])
	joinTo(t, nodes[2], nodes[0])
	_, err := nodes[3].Join(context.Background(), nodes[0].host, nodes[0].port)
	if !errors.Is(err, ErrClusterFull) {
		t.Fatalf("got %v, want ErrClusterFull", err)
	}
	if !slices.Equal([]int{len(nodes[0].Members()), len(nodes[3].Members())}, []int{3, 1}) {
		t.Errorf("members: %v / %v", nodes[0].Members(), nodes[3].Members())
	}
}

// Leave must not hang on a peer that never reads.
func TestLeaveDoesNotWaitForeverOnAMutePeer(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	a := startNode(t, testConfig("a"))
	mute := dialRaw(t, a.addr, "mute")
	mute.join()
	start := time.Now()
	if err := a.Leave(context.Background()); err != nil {
		t.Fatalf("Leave: %v", err)
	}
	if took := time.Since(start); took > testFailure+testSlack {
		t.Errorf("Leave took %v", took)
	}
}

// A member paused for a second (its process stopped, or starved of CPU)
// answers its probes late, within the probe round of the default probe
// timeout: nobody suspects it, let alone fails it. The pause holds the
// member's reads and writes, as a stopped process would.
func TestPausedMemberIsNotSuspected(t *testing.T) {
	// Not parallel: it holds the default probe round to a pause of 1 s,
	// with little to spare on a loaded machine.
	testkit.CheckGoroutines(t)
	nodes, nets := cuttableCluster(t, 3, func(c *Config) { c.ProbeTimeout = DefaultProbeTimeout })
	suspected := func() string {
		for _, n := range nodes[:2] {
			for _, m := range n.Members() {
				if m.Alias == "n2" && m.State != StateAlive {
					return n.Alias() + " lists n2 as " + m.State.String()
				}
			}
		}
		return ""
	}
	for range 3 {
		nets[2].paused.Store(true)
		pauseEnd := time.Now().Add(time.Second)
		for time.Now().Before(pauseEnd) {
			if s := suspected(); s != "" {
				t.Fatal(s)
			}
			time.Sleep(5 * time.Millisecond)
		}
		nets[2].paused.Store(false)
		// Answers arrive after the pause: watch a probe round longer.
		roundEnd := time.Now().Add(3 * DefaultProbeTimeout)
		for time.Now().Before(roundEnd) {
			if s := suspected(); s != "" {
				t.Fatal(s + " after a pause of 1s")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	expectNoLosses(t, nodes)
}

// A member that answers no probe is suspected, and tells of it; a member
// that hears of its own suspicion refutes it with a later epoch, and is
// alive again everywhere.
func TestSuspectedMemberRefutes(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes, _ := cuttableCluster(t, 3, func(c *Config) { c.SuspicionMult = 100 })
	a, c := nodes[0], nodes[2]
	// a suspects c as its own probe round would have it.
	a.suspectAfterProbe(linkTo(a.Node, "n2").peer, time.Now())
	testkit.Eventually(t, testSlack, "c refutes: alive again on a and b at a later epoch", func() bool {
		for _, n := range nodes[:2] {
			l := linkTo(n.Node, "n2")
			if l == nil || n.members.stateOf("n2") != StateAlive || n.members.epochOf(l.peer) == 0 {
				return false
			}
		}
		return true
	})
	c.probes.mu.Lock()
	epoch := c.probes.epoch
	c.probes.mu.Unlock()
	if epoch != 1 {
		t.Errorf("c's epoch is %d after one suspicion, want 1", epoch)
	}
	expectNoLosses(t, nodes)
}

// A member that floods a node with Suspects of it, each of a later
// epoch, gets one refutation per gap to every member, not one per
// Suspect; the last one held back still goes, with the latest epoch.
func TestSuspectFloodIsRefutedAtABoundedRate(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes, _ := cuttableCluster(t, 3, func(c *Config) { c.SuspicionMult = 100 })
	c := nodes[2]
	fromA := linkTo(c.Node, "n0")
	self := linkTo(nodes[0].Node, "n2").peer
	const suspects = 500
	start := time.Now()
	for e := range uint64(suspects) {
		c.heardSuspect(fromA, &suspectMsg{Alias: "n2", Incarnation: self.Incarnation, Epoch: e})
	}
	elapsed := time.Since(start)
	c.probes.mu.Lock()
	epoch, sent := c.probes.epoch, c.probes.refutations
	c.probes.mu.Unlock()
	if epoch != suspects {
		t.Errorf("epoch %d after Suspects up to epoch %d, want %d", epoch, suspects-1, suspects)
	}
	if limit := 2 + uint64(elapsed/c.refuteGap()); sent > limit {
		t.Errorf("%d refutations sent for %d Suspects in %v; want at most %d (one per %v)", sent, suspects, elapsed, limit, c.refuteGap())
	}
	t.Logf("%d Suspects in %v: %d refutations sent at once", suspects, elapsed.Round(time.Microsecond), sent)
	testkit.Eventually(t, testSlack, "the held-back refutation reaches a and b with the latest epoch", func() bool {
		for _, n := range nodes[:2] {
			l := linkTo(n.Node, "n2")
			if l == nil || n.members.epochOf(l.peer) != suspects {
				return false
			}
		}
		return true
	})
	expectNoLosses(t, nodes)
}

// expectNoLosses fails the test if any of nodes announced a member
// failed, closed or left.
func expectNoLosses(t *testing.T, nodes []*testNode) {
	t.Helper()
	for _, n := range nodes {
		if lost := n.events.losses(); len(lost) != 0 {
			t.Errorf("%s lost members: %v", n.Alias(), lost)
		}
	}
}

// With a probe timeout well inside the interval, slots are also taken
// early by readers (skipHeardSlot) and timers set later: a hung member
// still fails everywhere, within two intervals, a probe round and the
// longest suspicion, and nobody else does.
func TestHungMemberFailsWithAShortProbeTimeout(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	const interval, timeout = 300 * time.Millisecond, 60 * time.Millisecond
	nodes, nets := cuttableCluster(t, 5, func(c *Config) {
		c.ProbeInterval, c.ProbeTimeout = interval, timeout
	})
	cfg := nodes[0].cfg
	bound := 2*interval + interval + 3*timeout + suspicionTimeout(cfg, len(nodes), 0)
	cutAt := time.Now()
	nets[4].cut.Store(true)
	testkit.Eventually(t, bound+testSlack, "every other node announces n4 failed", func() bool {
		for _, n := range nodes[:4] {
			if _, ok := n.events.find(EventFailed, "n4"); !ok {
				return false
			}
		}
		return true
	})
	for _, n := range nodes[:4] {
		e, _ := n.events.find(EventFailed, "n4")
		if after := e.Time.Sub(cutAt); after > bound+testSlack/3 {
			t.Errorf("%s failed n4 %v after the cut; want within %v", n.Alias(), after, bound)
		}
		for _, lost := range n.events.losses() {
			if !strings.HasPrefix(lost, "n4 ") {
				t.Errorf("%s lost another member too: %s", n.Alias(), lost)
			}
		}
	}
}
