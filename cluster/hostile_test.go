package cluster

// Hostile peers, one per observation of issue 8: each speaks the wire
// protocol on loopback as an attacker would, before or after the
// handshake.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// forged is text a stranger would like to see printed raw.
const forged = "\x1b[2J\r\ncluster: \"admin\" (10.0.0.1:2254) joined\x07"

// maxEventText bounds the text of one event (eventText): whoever shows
// it escapes it, and need not cut it to keep a line short.
const maxEventText = 2048

// eventText is what an event carries that a peer may have chosen: the
// raw fields that the shell and the daemon's log escape when they show
// them.
func eventText(e Event) string {
	text := e.Member.Alias + " " + e.Member.Addr() + " " + e.Member.NodeID
	if e.Err != nil {
		text += " " + e.Err.Error()
	}
	return text
}

// checkEventsBounded fails the test if an event of r carries more text
// than a line should, or lists a member under an alias a member could not
// have (one with escapes: validation refuses them before any event).
func checkEventsBounded(t *testing.T, r *recorder) {
	t.Helper()
	for _, e := range r.all() {
		if text := eventText(e); len(text) > maxEventText {
			t.Errorf("event %s carries %d bytes: %.80q...", e.Kind, len(text), text)
		}
		if e.Member.Alias != "" && ValidateAlias(e.Member.Alias) != nil {
			t.Errorf("event %s names a member %q", e.Kind, e.Member.Alias)
		}
	}
}

// Observation 1: escape sequences from a stranger (a Hello's host, an
// opener of another version, a Refuse's reason) and from a member never
// reach the terminal raw.
func TestStrangerTextIsInert(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	a := startNode(t, testConfig("a"))
	// A Hello whose host is a forged line.
	p := dialRaw(t, a.addr, "x")
	p.self.Host = forged
	nonce, _ := newNonce()
	p.send(&hello{Version: ProtocolVersion, Sender: p.self, Nonce: nonce})
	p.expectClosed()
	// An opener of another version naming itself with escapes.
	q := dialRaw(t, a.addr, forged)
	q.send(&hello{Version: ProtocolVersion + 7, Sender: q.self, Nonce: nonce})
	q.expectClosed()
	testkit.Eventually(t, testSlack, "a reports the stranger", func() bool { return a.events.count(EventRefused) > 0 })
	checkEventsBounded(t, a.events)

	// A fake node refuses a join with a forged reason.
	host, port := fakeServer(t, func(c net.Conn) {
		fc := newFrameCodec(DefaultMaxFrameSize)
		fc.read(c)
		frame, _ := fc.marshal(&refuse{Code: "x", Reason: forged})
		c.Write(frame)
	})
	_, err := a.Join(context.Background(), host, port)
	// The error quotes the reason raw; the shell escapes it where it
	// shows it.
	if err == nil || !strings.Contains(err.Error(), forged) {
		t.Errorf("join error does not quote the peer's reason as sent: %q", err)
	}
}

// Observation 1, with the cookie: a member cannot publish a host that
// is not an IP literal or a DNS name, nor an alias with escapes.
func TestMemberCannotPublishEscapes(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	a := startNode(t, testConfig("a"))
	for _, bad := range []memberInfo{
		{Alias: "m", NodeID: "id-m", Incarnation: 1, Host: forged, Port: 9},
		{Alias: "m\x1b[2J", NodeID: "id-m", Incarnation: 1, Host: "127.0.0.1", Port: 9},
		{Alias: "m\u202e", NodeID: "id-m", Incarnation: 1, Host: "127.0.0.1", Port: 9},
	} {
		p := dialRaw(t, a.addr, "m")
		p.self = bad
		nonce, _ := newNonce()
		p.send(&join{Version: ProtocolVersion, Sender: p.self, Nonce: nonce})
		p.expectClosed()
	}
	if got := len(a.Members()); got != 1 {
		t.Errorf("a lists %d members: %v", got, a.Members())
	}
	checkEventsBounded(t, a.events)
}

// Observation 1, with the cookie, carried past the handshake: a member
// that completes the handshake with a forged host gets no JoinAck, and
// one that completes it honestly and then publishes forged fields in a
// MemberUp loses its link; neither is ever listed raw.
func TestMemberCannotPublishEscapesAfterHandshake(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	a := startNode(t, testConfig("a"))
	p := dialRaw(t, a.addr, "m")
	p.self.Host = forged
	nonce, _ := newNonce()
	if _, answer, err := p.handshake(nonce, false); err == nil {
		if _, ok := answer.(*joinAck); ok {
			t.Errorf("a member publishing a forged host got a JoinAck: %#v", answer)
		}
	}

	q := dialRaw(t, a.addr, "honest")
	if _, ack, err := q.handshake(nonce, false); err != nil || ack.kind() != msgJoinAck {
		t.Fatalf("honest handshake: %v %v", ack, err)
	}
	testkit.Eventually(t, testSlack, "a lists the honest member", func() bool { return hasMember(a.Node, "honest") })
	q.send(&memberUp{Member: memberInfo{Alias: "ghost", NodeID: "id-ghost", Incarnation: 1, Host: forged, Port: 9}})
	q.expectClosed()
	testkit.Eventually(t, testSlack, "a closes the link of the member that published a forged host", func() bool {
		e, ok := a.events.find(EventLinkClosed, "honest")
		return ok && e.Err != nil && strings.Contains(e.Err.Error(), "MemberUp")
	})
	for _, m := range a.Members() {
		if strings.ContainsAny(m.Alias+m.Addr(), "\x1b\r\n\x07") || m.Alias == "ghost" {
			t.Errorf("a lists a member published with forged fields: %q at %q", m.Alias, m.Addr())
		}
	}
	checkEventsBounded(t, a.events)
}

// floodOpeners opens conns connections to addr at once, each writing
// frame, and returns when the node has closed them all (or 3 s passed).
func floodOpeners(addr string, conns int, frame []byte) {
	var wg sync.WaitGroup
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", addr, 2*time.Second)
			if err != nil {
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(3 * time.Second))
			c.Write(frame) // the node closes after the header
			c.Read(make([]byte, 1))
		}()
	}
	wg.Wait()
}

// checkHugeOpenersAreCheap floods a node with 100 connections, each
// sending opener, and checks that the refusals are all counted, but
// reported in at most one event at once and one summary per interval,
// in a few lines of inert text in all.
func checkHugeOpenersAreCheap(t *testing.T, opener *hello) {
	t.Helper()
	testkit.CheckGoroutines(t)
	cfg := testConfig("a")
	cfg.RefusalSummaryInterval = 300 * time.Millisecond
	a := startNode(t, cfg)
	const conns = 100
	frame, err := newFrameCodec(4 << 20).marshal(opener)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	floodOpeners(a.addr, conns, frame)
	total := func() int {
		sum := 0
		for _, e := range a.events.all() {
			if e.Kind == EventRefused {
				sum += e.Count
			}
		}
		return sum
	}
	testkit.Eventually(t, testSlack, fmt.Sprintf("refusals of %d connections counted", conns), func() bool { return total() >= conns-5 })
	// One event at once, then at most one summary per interval.
	limit := 2 + int(time.Since(start)/cfg.RefusalSummaryInterval)
	if n := a.events.count(EventRefused); n > limit {
		t.Errorf("%d refusal events for %d connections, want at most %d", n, conns, limit)
	}
	size := 0
	for _, e := range a.events.all() {
		size += len(eventText(e))
	}
	if size > 2*maxEventText {
		t.Errorf("%d bytes of event text for %d refused connections", size, conns)
	}
	checkEventsBounded(t, a.events)
}

// Observation 2: a flood of huge openers costs a small, fixed amount of
// memory and output: frames are refused at their header, and refusals
// are summarised, not printed one by one.
func TestHugeOpenersAreCheapAndSummarised(t *testing.T) {
	t.Parallel()
	checkHugeOpenersAreCheap(t, &hello{Version: ProtocolVersion,
		Sender: memberInfo{Alias: "x", NodeID: "n", Host: strings.Repeat("h", 1<<20), Port: 1}, Nonce: make([]byte, nonceSize)})
}

// Observation 2 as it was seen: the opener is of another protocol
// version, whose body a node cannot judge, with a host just under 1 MiB
// so that the frame fits a 1 MiB frame limit. The old node printed each
// refusal naming the whole host.
func TestHugeOpenersOfAnotherVersionAreCheap(t *testing.T) {
	t.Parallel()
	checkHugeOpenersAreCheap(t, &hello{Version: ProtocolVersion + 1,
		Sender: memberInfo{Alias: "x", NodeID: "n", Host: strings.Repeat("h", 1<<20-1024), Port: 1}, Nonce: make([]byte, nonceSize)})
}

// decodeLoose decodes a frame body into a map of every key a peer sent;
// a value is its text when it is a string or bytes, else nil.
func decodeLoose(t *testing.T, c net.Conn) (msgType, map[string]any) {
	t.Helper()
	typ, body, err := readFrame(c, DefaultMaxFrameSize)
	if err != nil {
		t.Fatalf("read frame: %v", err)
	}
	var raw map[string]any
	if err := bodyCodec.Decode(body, &raw); err != nil {
		t.Fatalf("decode %s: %v", typ, err)
	}
	m := map[string]any{}
	for key, v := range raw {
		switch v := v.(type) {
		case string:
			m[key] = v
		case []byte:
			m[key] = string(v)
		default:
			m[key] = nil
		}
	}
	return typ, m
}

// Observation 3: a stranger gets nothing computed from the cookie: the
// Challenge carries no proof, and a wrong proof gets a Refuse without one.
// An honest exchange's proofs are keyed by the stretched cookie.
func TestStrangerGetsNothingComputedFromTheCookie(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	a := startNode(t, testConfig("a"))
	p := dialRaw(t, a.addr, "eve")
	nonce, _ := newNonce()
	p.send(&hello{Version: ProtocolVersion, Sender: p.self, Nonce: nonce})
	typ, ch := decodeLoose(t, p.conn)
	if typ != msgChallenge {
		t.Fatalf("got %s, want Challenge", typ)
	}
	if _, ok := ch["proof"]; ok || len(ch) != 2 {
		t.Errorf("Challenge to a stranger carries %v", ch)
	}
	p.send(&challengeReply{Proof: make([]byte, nonceSize)})
	typ, r := decodeLoose(t, p.conn)
	if typ != msgRefuse || r["code"] != codeCookie || len(r) != 2 {
		t.Errorf("answer to a wrong proof: %s %v", typ, r)
	}

	// An honest exchange: the ack's proof is keyed by the derived key,
	// not by the cookie itself.
	q := dialRaw(t, a.addr, "honest")
	challenge, ack, err := q.handshake(nonce, false)
	if err != nil {
		t.Fatal(err)
	}
	proof := ack.(*joinAck).Proof
	if want := handshakeProof(testKey(), proofLabelAcceptor, nonce, challenge.Nonce, "honest", "a"); !bytes.Equal(proof, want) {
		t.Error("the acceptor's proof is not keyed by DeriveCookieKey(cookie)")
	}
	if raw := handshakeProof(testCookie, proofLabelAcceptor, nonce, challenge.Nonce, "honest", "a"); bytes.Equal(proof, raw) {
		t.Error("the acceptor's proof is keyed by the raw cookie")
	}
}

// Observation 4: idle connections held open, and re-opened when closed,
// by a stranger on several addresses do not lock real joins out.
func TestIdleConnectionsCannotLockMembersOut(t *testing.T) {
	// Not parallel: admission by progress evicts a handshake that CPU
	// starvation slows; it failed under load beside the other tests.
	testkit.CheckGoroutines(t)
	a := startNode(t, testConfig("a"))
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	defer wg.Wait()
	defer stop()
	for src := 2; src < 10; src++ { // 8 sources, 20 connections each
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(src))}, Timeout: time.Second}
		for range 20 {
			wg.Add(1)
			go func() { // hold a silent connection, re-open it when closed
				defer wg.Done()
				for ctx.Err() == nil {
					c, err := d.DialContext(ctx, "tcp", a.addr)
					if err != nil {
						time.Sleep(10 * time.Millisecond)
						continue
					}
					stopRead := context.AfterFunc(ctx, func() { c.Close() })
					c.Read(make([]byte, 1))
					stopRead()
					c.Close()
				}
			}()
		}
	}
	testkit.Eventually(t, testSlack, "the stranger fills the pending table", func() bool {
		return a.handshakes.Len() >= 60
	})
	for i := range 5 {
		n := startNode(t, testConfig(fmt.Sprint("j", i)))
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		_, err := n.Join(ctx, a.host, a.port)
		cancel()
		if err != nil {
			t.Errorf("join %d while the stranger holds the pending table: %v", i, err)
		}
	}
	stop()
}

// Observation 9: a TLS node and a plain node name the mismatch on both
// sides, whichever dials.
func TestTLSMismatchIsNamed(t *testing.T) {
	t.Parallel()
	ca := newTestCA(t, "cluster CA")
	tests := []struct {
		name             string
		dialerTLS        bool
		dialerSays, says string
	}{
		{"plain dials TLS", false, "speaks TLS; this node has no --tls-cert", "does not speak TLS"},
		{"TLS dials plain", true, "does not speak TLS", "speaks TLS; this node has no --tls-cert"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			testkit.CheckGoroutines(t)
			acfg, xcfg := testConfig("a"), testConfig("x")
			if tt.dialerTLS {
				xcfg.TLS = tlsFiles(t, ca, ca, "x")
			} else {
				acfg.TLS = tlsFiles(t, ca, ca, "a")
			}
			a, x := startNode(t, acfg), startNode(t, xcfg)
			_, err := x.Join(context.Background(), a.host, a.port)
			if !errors.Is(err, ErrTLSMismatch) || !strings.Contains(err.Error(), tt.dialerSays) {
				t.Errorf("dialer: %v, want ErrTLSMismatch saying %q", err, tt.dialerSays)
			}
			testkit.Eventually(t, testSlack, "the acceptor names the mismatch", func() bool {
				e, ok := a.events.find(EventRefused, "")
				return ok && errors.Is(e.Err, ErrTLSMismatch) && strings.Contains(e.Err.Error(), tt.says)
			})
		})
	}
}

// Observation 10: a cookie file that is a FIFO or a link to a device is
// refused before it is read, at once.
func TestCookieFileMustBeRegular(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	zero := filepath.Join(dir, "zero")
	if err := os.Symlink("/dev/zero", zero); err != nil {
		t.Fatal(err)
	}
	big := filepath.Join(dir, "big")
	os.WriteFile(big, bytes.Repeat([]byte("x"), MaxCookieFileSize+1), 0o600)
	open := filepath.Join(dir, "open")
	os.WriteFile(open, []byte("a cookie others may read\n"), 0o644)
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte("  a good cookie of some length\n"), 0o600)
	for _, tt := range []struct{ path, want string }{
		{fifo, "FIFO"}, {zero, "character device"}, {big, "size limit"}, {open, "chmod 600"}, {good, ""},
	} {
		done := make(chan struct{})
		var cookie []byte
		var err error
		go func() { defer close(done); cookie, err = ReadCookieFile(tt.path) }()
		select {
		case <-done:
		case <-time.After(2 * time.Second):
			t.Fatalf("ReadCookieFile(%s) hangs", tt.path)
		}
		if tt.want == "" {
			if err != nil || string(cookie) != "a good cookie of some length" {
				t.Errorf("%s: %q %v", tt.path, cookie, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an error saying %q", tt.path, err, tt.want)
		}
	}
	// The data directory's own cookie file is checked the same way.
	data := t.TempDir()
	syscall.Mkfifo(filepath.Join(data, CookieFile), 0o600)
	done := make(chan error, 1)
	go func() { _, _, err := LoadOrCreateCookie(data); done <- err }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "FIFO") {
			t.Errorf("FIFO cookie in the data directory: %v", err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("LoadOrCreateCookie hangs on a FIFO")
	}
}

// Observation 7, first half: a second process cannot take the node ID a
// running one holds. (Locks are per open file description, so a second
// LockNodeID in this process stands for the second process.)
func TestNodeIDIsLockedByOneHolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	id, lock, err := LockNodeID(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := LockNodeID(dir); !errors.Is(err, ErrNodeIDLocked) || !strings.Contains(err.Error(), "another process holds") {
		t.Fatalf("second lock: %v, want ErrNodeIDLocked", err)
	}
	lock.Release()
	again, lock2, err := LockNodeID(dir)
	if err != nil || again != id {
		t.Fatalf("after release: %q %v, want %q", again, err, id)
	}
	lock2.Release()
}

// Observation 7, second half: a member that claims a live member's alias
// and (public) node ID with a huge incarnation, from another address, is
// refused; the real member keeps its place everywhere. A claimant that
// keeps trying (ever newer incarnations, to every member, for two
// seconds) never wins it: each claim probes the live member, which
// answers. (With "heard within two heartbeats" as the rule, such a
// claimant won within a second, after hundreds of tries, and split the
// cluster for good.)
func TestClaimToBeALiveMemberIsRefused(t *testing.T) {
	// Not parallel: timing-sensitive (a probe tells a live member; a
	// join is timed), it failed under load beside the other tests.
	testkit.CheckGoroutines(t)
	nodes := startCluster(t, 3)
	waitFullMesh(t, nodes, testSlack)
	b := nodes[1]
	tries := 0
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end) || tries < 2; tries++ {
		target := nodes[2*(tries%2)]
		// However long ago b was last heard on its link (a quiet link
		// was often two intervals behind), it answers a probe.
		linkTo(target.Node, "n1").lastSeen.Store(time.Now().Add(-time.Hour).UnixNano())
		p := dialRaw(t, target.addr, "n1")
		p.self.NodeID, p.self.Incarnation = b.NodeID(), 1<<62+uint64(tries)
		p.self.Port = 10000 + tries%1000
		nonce, _ := newNonce()
		_, answer, err := p.handshake(nonce, tries%3 == 0)
		p.conn.Close()
		if r, ok := answer.(*refuse); err != nil || !ok || r.Code != codeAlias || !strings.Contains(r.Reason, "live member") {
			t.Fatalf("claim %d to %s: got %#v %v, want an alias refusal", tries, target.Alias(), answer, err)
		}
	}
	t.Logf("%d claims refused", tries)
	waitFullMesh(t, nodes, testSlack)
	expectNoLosses(t, nodes)
}

// A member that announces the addresses of live members as its own (to
// a, b's address; to b, a's), plus one blip of the a-b link, must not
// leave a and b never dialling each other again: an address belongs to
// whom a handshake there proves, not to whoever claims it. (The control
// run, without the liar, healed within 8 s; with it, never.)
func TestShadowedAddressesDoNotStopRedials(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes := startClusterWith(t, 2, func(c *Config) { c.ReconnectFor = 20 * time.Second })
	a, b := nodes[0], nodes[1]
	waitFullMesh(t, nodes, testSlack)
	for _, at := range []struct{ to, shadow *testNode }{{a, b}, {b, a}} {
		p := dialRaw(t, at.to.addr, "liar")
		p.self.NodeID = "id-liar"
		p.self.Host, p.self.Port = at.shadow.host, at.shadow.port
		p.join()
		p.answerProbes()
	}
	testkit.Eventually(t, testSlack, "a and b list the liar", func() bool {
		return hasMember(a.Node, "liar") && hasMember(b.Node, "liar")
	})
	linkTo(a.Node, "n1").conn.Close() // the blip
	testkit.Eventually(t, testSlack, "a and b see the blip", func() bool {
		_, ok0 := a.events.find(EventLinkClosed, "n1")
		_, ok1 := b.events.find(EventLinkClosed, "n0")
		return ok0 && ok1
	})
	testkit.Eventually(t, 4*time.Second, "a and b linked again", func() bool {
		return hasMember(a.Node, "n1") && hasMember(b.Node, "n0")
	})
}

// Observation 7, the partition, from a real second start: a node with a
// live member's alias and node ID (as a second process with the same
// data directory and alias would have) joins; after it goes away, the
// mesh must be whole again within the failure timeout, whether the
// claim was refused or the members redial the real one. (The old code
// let the second start replace the member everywhere and then redialed
// only the second start's address.)
func TestSecondStartWithSameNodeIDDoesNotPartition(t *testing.T) {
	// Not parallel: timing-sensitive (heartbeats tell a live member; a
	// join is timed), it failed under load beside the other tests.
	testkit.CheckGoroutines(t)
	withReconnect := func(cfg *Config) { cfg.ReconnectFor = 20 * time.Second }
	nodes := startClusterWith(t, 3, withReconnect)
	waitFullMesh(t, nodes, testSlack)
	cfg := testConfig("n1")
	cfg.NodeID = nodes[1].NodeID()
	withReconnect(&cfg)
	second := startNode(t, cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	_, err := second.Join(ctx, nodes[0].host, nodes[0].port)
	cancel()
	t.Logf("the second start's join: %v", err)
	// If n0 or n2 took the second start in the real n1's place, the real
	// one lost its links and tries to come back: let that attempt meet
	// the live second start, as it did when the partition was seen. Wait
	// until neither has admitted the second start without reporting the
	// real one since; at most testSlack, as a design may not need the
	// attempt. (A node that refused the second start admitted nothing.)
	replaced := func() bool {
		for _, n := range []*testNode{nodes[0], nodes[2]} {
			pending := false
			for _, e := range n.events.all() {
				switch {
				case e.Member.Alias != "n1":
				case e.Member.Host == nodes[1].host && e.Member.Port == nodes[1].port:
					pending = false
				case e.Kind == EventJoined || e.Kind == EventRejoined || e.Kind == EventReconnected:
					pending = true
				}
			}
			if pending {
				return true
			}
		}
		return false
	}
	for deadline := time.Now().Add(testSlack); replaced() && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	second.Close()
	waitFullMesh(t, nodes, testFailure+2*testSlack)
}

// Observation 8: a member whose link breaks is listed as failed, with
// since when, while this node redials it, and dropped (with an event)
// when the reconnect window ends.
func TestFailedMemberIsListedUntilDropped(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	cfg := testConfig("a")
	cfg.ReconnectFor = time.Second
	a := startNode(t, cfg)
	b := startNode(t, testConfig("b"))
	joinTo(t, b, a)
	waitFullMesh(t, []*testNode{a, b}, testSlack)
	b.Close() // as kill -9 would: the link closes without Leave
	var failedAt time.Time
	testkit.Eventually(t, testSlack, "a lists b as failed", func() bool {
		for _, m := range a.Members() {
			if m.Alias == "b" && m.State == StateFailed && !m.Since.IsZero() && !m.LastSeen.IsZero() {
				failedAt = m.Since
				return true
			}
		}
		return false
	})
	testkit.Eventually(t, testSlack, "an event for the failure", func() bool { // events come on their own goroutine
		_, ok := a.events.find(EventLinkClosed, "b")
		return ok
	})
	testkit.Eventually(t, cfg.ReconnectFor+testSlack, "a drops b after the reconnect window", func() bool {
		_, dropped := a.events.find(EventDropped, "b")
		return dropped && len(a.Members()) == 1
	})
	if took := time.Since(failedAt); took < cfg.ReconnectFor {
		t.Errorf("dropped %v after the failure, before the %v reconnect window ended", took, cfg.ReconnectFor)
	}
}

// countingListener accepts connections and holds them silent, counting
// how many are open at once and in all.
type countingListener struct {
	ln                net.Listener
	mu                sync.Mutex
	open, peak, total int
	conns             []net.Conn
}

func listenCounting(t *testing.T, addr string) *countingListener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c := &countingListener{ln: ln}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			c.open++
			c.total++
			c.peak = max(c.peak, c.open)
			c.conns = append(c.conns, conn)
			c.mu.Unlock()
			go func() {
				conn.Read(make([]byte, 1<<16)) // until the dialer gives up
				c.mu.Lock()
				c.open--
				c.mu.Unlock()
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		c.mu.Lock()
		for _, conn := range c.conns {
			conn.Close()
		}
		c.mu.Unlock()
	})
	return c
}

func (c *countingListener) counts() (open, peak, total int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.open, c.peak, c.total
}

// Observation 5: a member naming 2,000 made-up members in MemberUp frames
// makes the node dial a few at a time, never more than the member limit,
// IP literals only (a host name is not resolved), and not again at once.
func TestGossipFloodIsBounded(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	cfg := testConfig("a")
	cfg.MaxMembers = 64
	a := startNode(t, cfg)
	sink := listenCounting(t, "0.0.0.0:0")
	_, sinkPort := splitAddr(sink.ln.Addr())
	named := listenCounting(t, "127.0.0.1:0")
	_, namedPort := splitAddr(named.ln.Addr())
	p := dialRaw(t, a.addr, "gossip")
	p.join()
	send := func() {
		for i := range 2000 {
			host := fmt.Sprintf("127.0.%d.%d", 1+i/250, 1+i%250)
			p.send(&memberUp{Member: memberInfo{Alias: fmt.Sprint("ghost", i), NodeID: fmt.Sprint("id", i), Incarnation: 1, Host: host, Port: sinkPort}})
		}
		p.send(&memberUp{Member: memberInfo{Alias: "named", NodeID: "id-named", Incarnation: 1, Host: "localhost", Port: namedPort}})
	}
	send()
	send() // a resend adds nothing
	deadline := time.Now().Add(testHeartbeat + time.Second)
	for time.Now().Before(deadline) {
		p.send(&ping{}) // keep the link up
		time.Sleep(50 * time.Millisecond)
	}
	_, peak, total := sink.counts()
	if peak > dialPoolSize || peak == 0 {
		t.Errorf("%d gossip-driven dials at once, want 1 to %d", peak, dialPoolSize)
	}
	if total > cfg.MaxMembers {
		t.Errorf("%d dials for made-up members, over the member limit %d", total, cfg.MaxMembers)
	}
	if _, _, n := named.counts(); n != 0 {
		t.Errorf("a gossiped host name was resolved and dialed %d times", n)
	}
	a.gossip.mu.Lock()
	introducing := len(a.gossip.introducing)
	a.gossip.mu.Unlock()
	if introducing >= cfg.MaxMembers {
		t.Errorf("%d introductions pending, over the member limit", introducing)
	}
}

// Observation 5, second half: a member whose Join carries a digest that
// differs from the members' view is announced to every member, and they
// must not resolve the host name it published (gossiped host names are
// not resolved: IP literals only). A second such member that publishes
// an IP literal is the control: the members do dial it, so the gossip
// did reach them.
func TestJoinWithWrongDigestMakesNoOneResolveAName(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes := startCluster(t, 3)
	waitFullMesh(t, nodes, testSlack)
	named := listenCounting(t, "127.0.0.1:0")
	_, namedPort := splitAddr(named.ln.Addr())
	literal := listenCounting(t, "127.0.0.1:0")
	_, literalPort := splitAddr(literal.ln.Addr())
	var peers []*rawPeer
	for _, published := range []memberInfo{
		{Alias: "x", NodeID: "raw-x", Incarnation: 1, Host: "localhost", Port: namedPort},
		{Alias: "y", NodeID: "raw-y", Incarnation: 1, Host: "127.0.0.1", Port: literalPort},
	} {
		p := dialRaw(t, nodes[0].addr, published.Alias)
		p.self = published
		wrong := membersDigest([]memberInfo{p.self})
		if _, ack, err := p.handshakeWithDigest(wrong); err != nil || ack.kind() != msgJoinAck {
			t.Fatalf("Join of %s with a wrong digest: %v %v", published.Alias, ack, err)
		}
		peers = append(peers, p)
	}
	// n0 announces x, then y, on each link in that order; n1 and n2 each
	// dial y after a heartbeat interval.
	testkit.Eventually(t, testSlack, "n1 and n2 dial the member that published an IP literal", func() bool {
		for _, p := range peers {
			p.send(&ping{}) // keep the links up
		}
		_, _, total := literal.counts()
		return total >= 2
	})
	// An observation window in which nothing must happen: a dial of x,
	// had it been started, began with y's; give it one more heartbeat.
	time.Sleep(testHeartbeat)
	if _, _, n := named.counts(); n != 0 {
		t.Errorf("the members resolved the published host name and dialed it %d times", n)
	}
}

// Observation 6: a made-up alias listed at a real member's address does
// not make two honest members drop each other.
func TestMadeUpAliasAtARealAddressCausesNoFlap(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes := startCluster(t, 2)
	a, b := nodes[0], nodes[1]
	waitFullMesh(t, nodes, testSlack)
	p := dialRaw(t, a.addr, "liar")
	p.join()
	p.send(&memberUp{Member: memberInfo{Alias: "ghost", NodeID: "id-ghost", Incarnation: 1, Host: b.host, Port: b.port}})
	// a dials b's address as "ghost" only through join paths that check
	// the alias; a direct dial, as a list from a member would cause:
	err := a.joinMember(context.Background(), memberInfo{Alias: "ghost", NodeID: "id-ghost", Incarnation: 1, Host: b.host, Port: b.port}, dialSpec{})
	if !errors.Is(err, errWrongAlias) {
		t.Errorf("dial of b's address as ghost: %v, want errWrongAlias", err)
	}
	deadline := time.Now().Add(3 * testHeartbeat)
	for time.Now().Before(deadline) {
		p.send(&ping{})
		time.Sleep(50 * time.Millisecond)
	}
	for _, n := range nodes {
		for _, e := range n.events.all() {
			if e.Member.Alias != "liar" && (e.Kind == EventLinkClosed || e.Kind == EventFailed) {
				t.Errorf("%s: %v", n.Alias(), e)
			}
		}
	}
	if !hasMember(a.Node, "n1") || !hasMember(b.Node, "n0") {
		t.Errorf("the honest link is gone: %v / %v", a.Members(), b.Members())
	}
}

// A member that published another live member's address under its own
// alias, then vanished, is not redialed at that address for the whole
// reconnect window: the address belongs to the live member, so the
// claimant is dropped at once instead (found by attacking the binary: a
// minute of refused redials at the honest member).
func TestVanishedClaimantOfALiveAddressIsNotRedialed(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	cfg := testConfig("n0")
	cfg.ReconnectFor = time.Minute
	a := startNode(t, cfg)
	b := startNode(t, testConfig("n1"))
	joinTo(t, b, a)
	waitFullMesh(t, []*testNode{a, b}, testSlack)
	p := dialRaw(t, a.addr, "claimant")
	p.self.Host, p.self.Port = b.host, b.port
	p.join()
	testkit.Eventually(t, testSlack, "a lists the claimant", func() bool { return hasMember(a.Node, "claimant") })
	p.conn.Close()
	testkit.Eventually(t, 10*testHeartbeat+testSlack, "a drops the claimant", func() bool {
		for _, e := range a.events.all() {
			if e.Kind == EventDropped && e.Member.Alias == "claimant" {
				return true
			}
		}
		return false
	})
	if !hasMember(a.Node, "n1") || !hasMember(b.Node, "n0") {
		t.Errorf("the honest link is gone: %v / %v", a.Members(), b.Members())
	}
}
