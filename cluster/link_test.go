package cluster

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// testPing is a Ping frame with an empty body, shorter than a node's own
// (which carries seq): the link code takes whatever Ping it is given.
var testPing = []byte{0, 0, 0, 2, byte(msgPing), 0x80}

// tcpPair is a connected pair of TCP sockets on loopback.
func tcpPair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dialed, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	accepted, err := ln.Accept()
	if err != nil {
		dialed.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { dialed.Close(); accepted.Close() })
	return dialed.(*net.TCPConn), accepted.(*net.TCPConn)
}

func TestWritePingNowOnlyOnAnIdleReadyLink(t *testing.T) {
	t.Parallel()
	ping := testPing
	local, remote := tcpPair(t)
	l := newLink(local, memberInfo{}, "")
	if l.writePingNow(ping) {
		t.Error("wrote a Ping before the link was ready")
	}
	l.markReadyLocked()
	l.writeMu.Lock()
	if l.writePingNow(ping) {
		t.Error("wrote a Ping while another write held the link")
	}
	l.writeMu.Unlock()
	l.queue.push([]byte("queued"))
	if l.writePingNow(ping) {
		t.Error("wrote a Ping past a queued frame")
	}
	l.queue.take()
	if !l.writePingNow(ping) {
		t.Fatal("an idle ready link did not take the Ping")
	}
	got := make([]byte, len(ping))
	remote.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.ReadFull(remote, got); err != nil || !bytes.Equal(got, ping) {
		t.Errorf("peer read %x, %v; want the Ping %x", got, err, ping)
	}
}

// A peer that does not read fills the socket; the Ping then goes to the
// writer, and nothing of it is written behind the stream's back.
func TestWritePingNowNeverWaitsForRoom(t *testing.T) {
	t.Parallel()
	ping := testPing
	local, remote := tcpPair(t)
	l := newLink(local, memberInfo{}, "")
	l.markReadyLocked()
	filled := fillSocket(t, l)
	if l.writePingNow(ping) {
		t.Error("a full socket took the Ping")
	}
	remote.SetReadDeadline(time.Now().Add(5 * time.Second))
	n, err := io.Copy(io.Discard, io.LimitReader(remote, int64(filled)))
	if err != nil || int(n) != filled {
		t.Fatalf("read %d of %d filling bytes: %v", n, filled, err)
	}
	remote.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	if n, err := remote.Read(make([]byte, 16)); n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("after the filling bytes: %d bytes, %v; want nothing of the Ping", n, err)
	}
}

func TestWakeTrailerHoldsAtLeastWakeBytesOfPings(t *testing.T) {
	t.Parallel()
	for _, ping := range [][]byte{testPing, bytes.Repeat([]byte{1}, 64), bytes.Repeat([]byte{1}, 100)} {
		tr := wakeTrailer(ping)
		if len(tr) < wakeBytes || len(tr)%len(ping) != 0 || len(tr)-len(ping) >= wakeBytes {
			t.Errorf("trailer of %d bytes for a %d-byte Ping, want the fewest whole Pings of at least %d bytes", len(tr), len(ping), wakeBytes)
		}
	}
}

// On a quiet link the Pings wait unread, and the liveness loop's look at
// the socket is what keeps the member alive: the failure timeout here is
// shorter than the Pings that wake a reader take to arrive.
func TestPingsWaitingUnreadKeepAMemberAlive(t *testing.T) {
	t.Parallel()
	const interval, failure = 100 * time.Millisecond, 500 * time.Millisecond
	var nodes []*testNode
	for _, alias := range []string{"n0", "n1"} {
		cfg := testConfig(alias)
		cfg.HeartbeatInterval, cfg.FailureTimeout = interval, failure
		nodes = append(nodes, startNode(t, cfg))
	}
	joinTo(t, nodes[1], nodes[0])
	a := nodes[0]
	if pings := int(failure / interval); pings*len(a.pingFrame) >= wakeBytes {
		t.Fatalf("%d Pings in a failure timeout would wake the reader", pings)
	}
	l := a.links.get("n1")
	if l == nil {
		t.Fatal("a has no link to n1")
	}
	if l.peek == nil {
		t.Skip("quiet reads are not supported here")
	}
	testkit.Eventually(t, 2*failure, "Pings waiting unread on a's link to n1", func() bool {
		n, ok := l.peek(make([]byte, 16))
		return ok && n > 0
	})
	start := time.Now()
	testkit.Eventually(t, 10*failure, "four failure timeouts to pass", func() bool {
		return time.Since(start) > 4*failure
	})
	for _, n := range nodes {
		if lost := n.events.losses(); len(lost) != 0 {
			t.Errorf("%s lost members on an idle quiet link: %v", n.cfg.Alias, lost)
		}
	}
	waitFullMesh(t, nodes, time.Second)
}
