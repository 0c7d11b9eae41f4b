package cluster

import (
	"context"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// serveHostileSeed is the acceptor's side of a Hello, spoken by hand, as
// the member "hostile": it answers with a HelloAck that lists members, then keeps the sealed link
// up by answering probes until the connection closes. It checks nothing
// the dialer sends beyond what it needs; errors end it quietly.
func serveHostileSeed(c net.Conn, members []memberInfo) {
	host, port := splitAddr(c.LocalAddr())
	self := memberInfo{Alias: "hostile", NodeID: "raw-hostile", Incarnation: 1, Host: host, Port: port}
	codec := newFrameCodec(DefaultMaxFrameSize)
	c.SetDeadline(time.Now().Add(5 * time.Second))
	m, err := codec.read(c)
	op, ok := m.(*hello)
	if err != nil || !ok {
		return
	}
	nonce, err := newNonce()
	if err != nil {
		return
	}
	write := func(m message, seal *linkSeal) error {
		frame, err := codec.marshal(m)
		if err == nil && seal != nil {
			frame, err = seal.out.seal(nil, frame)
		}
		if err == nil {
			_, err = c.Write(frame)
		}
		return err
	}
	if write(&challenge{Responder: self, Nonce: nonce}, nil) != nil {
		return
	}
	if m, err := codec.read(c); err != nil || m.kind() != msgChallengeReply {
		return
	}
	proof := handshakeProof(testKey(), proofLabelAcceptor, op.Nonce, nonce, op.Sender.Alias, self.Alias)
	if write(&helloAck{Self: self, Members: members, Proof: proof}, nil) != nil {
		return
	}
	seal, err := deriveLinkSeal(testKey(), op.Version, sealEnds{op.Nonce, nonce, op.Sender, self}, false)
	if err != nil {
		return
	}
	c.SetDeadline(time.Time{})
	for {
		t, body, err := codec.readSealedFrame(c, &seal.in, "joiner", nil)
		if err != nil {
			return
		}
		if m, err := decodeBody(t, body); err == nil {
			if pg, ok := m.(*ping); ok && write(&ack{Seq: pg.Seq}, seal) != nil {
				return
			}
		}
	}
}

// unusedPort returns a loopback port nothing listens on (it did a moment
// ago, so nothing else took it).
func unusedPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port := splitAddr(ln.Addr())
	ln.Close()
	return port
}

// Issue 19: a peer that answers Hello with 254 members nobody can link to
// (24 listeners that accept and stay silent, the rest addresses where
// nothing listens) does not hold Join up: Join returns once the peer
// answered, the node stays usable, progress events arrive, and the
// background dials end within their bound.
func TestJoinListingUnreachableMembersReturnsAtOnce(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	const listed, silentCount = 254, 24
	silentHost, silentPort := fakeServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	closedPort := unusedPort(t)
	members := make([]memberInfo, listed)
	for i := range members {
		m := memberInfo{Alias: fmt.Sprint("ghost", i), NodeID: fmt.Sprint("ghost-id", i), Incarnation: 1,
			Host: fmt.Sprintf("127.0.%d.%d", 1+i/250, 1+i%250), Port: closedPort}
		if i < silentCount {
			m.Host, m.Port = silentHost, silentPort
		}
		members[i] = m
	}
	seedHost, seedPort := fakeServer(t, func(c net.Conn) { serveHostileSeed(c, members) })

	cfg := testConfig("a")
	cfg.DialTimeout, cfg.HandshakeTimeout = time.Second, time.Second // the old, blocking Join took 3 s here
	a := startNode(t, cfg)
	const joinBound = 2 * time.Second
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), joinBound)
	defer cancel()
	got, err := a.Join(ctx, seedHost, seedPort)
	took := time.Since(start)
	if err != nil || took > joinBound {
		t.Fatalf("Join took %v (bound %v): %v", took, joinBound, err)
	}
	t.Logf("Join returned after %v", took)
	joining := 0
	for _, m := range got {
		if m.State == StateJoining {
			joining++
		}
	}
	if joining == 0 || joining > listed {
		t.Errorf("Join listed %d members as joining, want 1 to %d", joining, listed)
	}

	// The node stays usable: another node joins it at once.
	b := startNode(t, testConfig("b"))
	bStart := time.Now()
	joinTo(t, b, a)
	if took := time.Since(bStart); took > joinBound {
		t.Errorf("b joined a in %v while a linked in the background; bound %v", took, joinBound)
	}

	// Each dial ends within DialTimeout+HandshakeTimeout, at most
	// maxParallelJoins at once.
	waves := (listed + maxParallelJoins - 1) / maxParallelJoins
	doneBound := time.Duration(waves)*(cfg.DialTimeout+cfg.HandshakeTimeout) + testSlack
	waitCtx, waitCancel := context.WithTimeout(context.Background(), doneBound)
	defer waitCancel()
	if err := a.WaitLinked(waitCtx); err != nil {
		t.Fatalf("WaitLinked: %v after %v", err, time.Since(start))
	}
	testkit.Eventually(t, testSlack, "EventJoinDone", func() bool {
		_, ok := a.events.find(EventJoinDone, "hostile")
		return ok
	})
	t.Logf("background linking ended after %v (bound %v)", time.Since(start), doneBound)
	done, _ := a.events.find(EventJoinDone, "hostile")
	p := done.Join
	if p.Total != listed || p.Linked != 0 || p.Unreachable != listed || len(p.UnreachableNames) != maxUnreachableNamed {
		t.Errorf("EventJoinDone: %+v, want %d listed, none linked, all unreachable, %d named", p, listed, maxUnreachableNamed)
	}
	progress, ok := a.events.find(EventJoinProgress, "hostile")
	if !ok {
		t.Errorf("no EventJoinProgress while 3 waves of silent members timed out")
	} else if progress.Join.Total != listed || progress.Join.Unreachable == 0 {
		t.Errorf("EventJoinProgress: %+v", progress.Join)
	}
	var times []time.Time
	for _, e := range a.events.all() {
		if e.Kind == EventJoinProgress {
			times = append(times, e.Time)
		}
	}
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < joinProgressEvery {
			t.Errorf("two progress events %v apart, want at least %v", gap, joinProgressEvery)
		}
	}
	for _, m := range a.Members() {
		if m.State == StateJoining {
			t.Errorf("%s still listed as joining after the linking ended", m.Alias)
		}
	}
}

// Close and Leave stop the background linking at once, however many
// dials wait (24 s of them here): Close within a second, Leave within its
// wait for the peers' goodbye (WriteTimeout; the hostile seed never
// closes its link) and a second.
func TestCloseAndLeaveStopBackgroundJoin(t *testing.T) {
	t.Parallel()
	silentHost, silentPort := fakeServer(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	members := make([]memberInfo, 64)
	for i := range members {
		members[i] = memberInfo{Alias: fmt.Sprint("ghost", i), NodeID: fmt.Sprint("ghost-id", i), Incarnation: 1, Host: silentHost, Port: silentPort}
	}
	seedHost, seedPort := fakeServer(t, func(c net.Conn) { serveHostileSeed(c, members) })
	for name, c := range map[string]struct {
		stop  func(*Node) error
		bound time.Duration
	}{
		"Close": {(*Node).Close, time.Second},
		"Leave": {func(n *Node) error { return n.Leave(context.Background()) }, testFailure + time.Second},
	} {
		t.Run(name, func(t *testing.T) {
			testkit.CheckGoroutines(t)
			a := startNode(t, testConfig("a")) // dials wait up to 3 s each: 24 s in all
			if _, err := a.Join(context.Background(), seedHost, seedPort); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			c.stop(a.Node)
			if took := time.Since(start); took > c.bound {
				t.Errorf("%s took %v with background dials waiting; bound %v", name, took, c.bound)
			}
		})
	}
}
