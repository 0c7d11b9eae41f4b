package cluster

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

func TestWrongCookieIsRefusedOnBothSides(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes := startCluster(t, 2)
	a := nodes[0]
	cfg := testConfig("x")
	cfg.Cookie, cfg.CookieKey = []byte("another cookie"), nil
	x := startNode(t, cfg)
	_, err := x.Join(context.Background(), a.host, a.port)
	if !errors.Is(err, ErrBadCookie) {
		t.Fatalf("got %v, want ErrBadCookie", err)
	}
	if !strings.Contains(err.Error(), `the peer "n0" at `+a.addr+` has a different cluster cookie`) {
		t.Errorf("joining side says %q", err)
	}
	testkit.Eventually(t, 2*time.Second, "n0 announces the refusal", func() bool {
		e, ok := a.events.find(EventRefused, "")
		return ok && errors.Is(e.Err, ErrBadCookie) && strings.Contains(e.Err.Error(), "cookie")
	})
	waitFullMesh(t, nodes, testSlack)
	if len(x.Members()) != 1 {
		t.Errorf("x lists %v", x.Members())
	}
}

// A dialer that does not check the acceptor's proof, and answers with a
// proof made from the wrong cookie, is refused by the acceptor.
func TestAcceptorChecksTheDialersProof(t *testing.T) {
	// Not parallel: its hand-made handshake must keep pace with the
	// acceptor's; it failed under load beside the other tests.
	testkit.CheckGoroutines(t)
	a := startNode(t, testConfig("a"))
	p := dialRaw(t, a.addr, "x")
	p.cookie = []byte("wrong")
	nonce, _ := newNonce()
	_, answer, err := p.handshake(nonce, true)
	if err != nil {
		t.Fatal(err)
	}
	r, ok := answer.(*refuse)
	if !ok || r.Code != codeCookie {
		t.Fatalf("got %#v, want a cookie refusal", answer)
	}
	p.expectClosed()
	if len(a.Members()) != 1 {
		t.Errorf("a lists %v", a.Members())
	}
}

// recordingConn keeps a copy of everything written to it.
type recordingConn struct {
	net.Conn
	written bytes.Buffer
}

func (c *recordingConn) Write(b []byte) (int, error) {
	c.written.Write(b)
	return c.Conn.Write(b)
}

func TestReplayedDialerHandshakeIsRefused(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	a := startNode(t, testConfig("a"))
	// Record a genuine dialer's bytes: Join, then ChallengeReply.
	p := dialRaw(t, a.addr, "eve")
	rec := &recordingConn{Conn: p.conn}
	p.conn = rec
	p.join()
	p.conn.Close()
	testkit.Eventually(t, 2*time.Second, "a drops the recorded peer", func() bool { return len(a.Members()) == 1 })
	// Replay them on a new connection, reading nothing in between.
	replay, err := net.Dial("tcp", a.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer replay.Close()
	replay.SetDeadline(time.Now().Add(3 * time.Second))
	if _, err := replay.Write(rec.written.Bytes()); err != nil {
		t.Fatal(err)
	}
	fc := newFrameCodec(DefaultMaxFrameSize)
	if m, err := fc.read(replay); err != nil || m.kind() != msgChallenge {
		t.Fatalf("want a fresh Challenge first, got %v %v", m, err)
	}
	m, err := fc.read(replay)
	if r, ok := m.(*refuse); err != nil || !ok || r.Code != codeCookie {
		t.Fatalf("replayed proof: got %#v %v, want a cookie refusal", m, err)
	}
	testkit.Eventually(t, 2*time.Second, "a announces the refused replay", func() bool {
		e, ok := a.events.find(EventRefused, "")
		return ok && errors.Is(e.Err, ErrBadCookie)
	})
	if len(a.Members()) != 1 {
		t.Errorf("a lists %v", a.Members())
	}
}

// A fake acceptor that replays a genuine Challenge and HelloAck, recorded
// from an exchange with a, cannot prove the cookie: the dialer refuses it.
func TestReplayedChallengeIsRefusedByTheDialer(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	a := startNode(t, testConfig("a"))
	p := dialRaw(t, a.addr, "eve")
	nonce, _ := newNonce()
	recorded, recordedAck, err := p.handshake(nonce, true)
	if _, ok := recordedAck.(*helloAck); err != nil || !ok {
		t.Fatalf("want a HelloAck, got %v %v", recordedAck, err)
	}
	// A fake a answers b's Hello with the recorded Challenge and ack.
	host, port := fakeServer(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(3 * time.Second))
		fc := newFrameCodec(DefaultMaxFrameSize)
		for _, m := range []message{recorded, recordedAck} {
			if _, err := fc.read(c); err != nil {
				return
			}
			frame, _ := fc.marshal(m)
			c.Write(frame)
		}
		io.Copy(io.Discard, c)
	})
	b := startNode(t, testConfig("b"))
	_, err = b.Join(context.Background(), host, port)
	if !errors.Is(err, ErrBadCookie) || !strings.Contains(err.Error(), "did not prove") {
		t.Fatalf("got %v, want ErrBadCookie: did not prove", err)
	}
	if len(b.Members()) != 1 {
		t.Errorf("b lists %v", b.Members())
	}
}

func TestConnectionFloodLeavesClusterWorking(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes := startCluster(t, 3)
	a := nodes[0]
	var wg sync.WaitGroup
	for i := range 1000 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := net.DialTimeout("tcp", a.addr, 2*time.Second)
			if err != nil {
				return // the backlog may overflow; that is the point
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(2 * time.Second))
			switch i % 4 {
			case 0: // connect and go
			case 1: // random bytes
				junk := make([]byte, 1+rand.IntN(200))
				for j := range junk {
					junk[j] = byte(rand.Uint32())
				}
				c.Write(junk)
				io.Copy(io.Discard, c)
			case 2: // silent until the node gives up
				io.Copy(io.Discard, c)
			case 3: // a valid frame header, then a body that never comes
				c.Write(header(1000, msgHello))
				io.Copy(io.Discard, c)
			}
		}()
	}
	wg.Wait()
	for _, n := range nodes {
		if c := n.events.count(EventFailed) + n.events.count(EventLinkClosed); c != 0 {
			t.Errorf("%s lost links during the flood: %v", n.Alias(), n.events.all())
		}
	}
	waitFullMesh(t, nodes, testSlack)
	d := startNode(t, testConfig("d"))
	testkit.Eventually(t, 5*time.Second, "a node joins after the flood", func() bool {
		_, err := d.Join(context.Background(), a.host, a.port)
		return err == nil
	})
	waitFullMesh(t, append(nodes, d), 3*time.Second)
}

func TestSlowPeersAreCutOff(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes := startCluster(t, 2)
	a := nodes[0]
	// A slow writer dribbles a Hello a byte at a time.
	slow := dialRaw(t, a.addr, "slow")
	frame, _ := slow.frames.marshal(&hello{Version: ProtocolVersion, Sender: slow.self, Nonce: make([]byte, nonceSize)})
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Add(1)
	go func() {
		defer wg.Done()
		ticker := time.NewTicker(50 * time.Millisecond)
		defer ticker.Stop()
		for _, b := range frame {
			if _, err := slow.conn.Write([]byte{b}); err != nil {
				return
			}
			<-ticker.C
		}
	}()
	// A peer that completes the handshake, then neither reads nor writes.
	mute := dialRaw(t, a.addr, "mute")
	mute.join()
	c := startNode(t, testConfig("c"))
	joinTo(t, c, nodes[1]) // not held up by either (n1 does not list mute)
	testkit.Eventually(t, testFailure+testSlack, "a fails the mute peer", func() bool {
		_, ok := a.events.find(EventFailed, "mute")
		return ok
	})
	slow.expectClosed()
	testkit.Eventually(t, time.Second, "a reports the slow writer", func() bool {
		e, ok := a.events.find(EventRefused, "")
		return ok && errors.Is(e.Err, ErrHandshakeTimeout)
	})
	waitFullMesh(t, []*testNode{a, nodes[1], c}, testSlack)
}

func TestLoadOrCreateCookie(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	cookie, path, err := LoadOrCreateCookie(dir)
	if err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 || len(cookie) != 64 {
		t.Fatalf("cookie file %s: %v, mode %v, %d bytes", path, err, info.Mode(), len(cookie))
	}
	again, _, err := LoadOrCreateCookie(dir)
	if err != nil || !bytes.Equal(again, cookie) {
		t.Errorf("second load: %q %v", again, err)
	}
	os.Chmod(path, 0o644)
	if _, _, err := LoadOrCreateCookie(dir); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Errorf("readable cookie file: %v", err)
	}
}

func TestLoadOrCreateNodeID(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	id, err := LoadOrCreateNodeID(dir)
	if err != nil || !isUUID(id) || id[14] != '4' {
		t.Fatalf("%q %v", id, err)
	}
	again, err := LoadOrCreateNodeID(dir)
	if err != nil || again != id {
		t.Errorf("second load %q %v, want %q", again, err, id)
	}
	os.WriteFile(filepath.Join(dir, NodeIDFile), []byte("garbage\n"), 0o644)
	if _, err := LoadOrCreateNodeID(dir); err == nil {
		t.Error("garbage node id accepted")
	}
}
