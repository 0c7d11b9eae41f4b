package cluster

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// TestDialLeavesFromTheBindHost: a node bound to 127.0.0.3 dials its
// peers from 127.0.0.3, not from the address the system would pick
// (127.0.0.1), so that its peers see one address per node. The accepting
// side is a real node, which reports the refused connection (a wrong
// cookie) with its source address, and a raw listener, which sees it.
func TestDialLeavesFromTheBindHost(t *testing.T) {
	t.Parallel()
	acfg := testConfig("a")
	acfg.BindHost = "127.0.0.2"
	a := startNode(t, acfg)

	bcfg := testConfig("b")
	bcfg.BindHost = "127.0.0.3"
	bcfg.Cookie, bcfg.CookieKey = []byte("a different cookie for node b"), nil
	b := startNode(t, bcfg)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := b.Join(ctx, a.host, a.port); err == nil {
		t.Fatal("b joined with the wrong cookie")
	}
	testkit.Eventually(t, testSlack, "a reports the refused connection", func() bool {
		_, ok := a.events.find(EventRefused, "")
		return ok
	})
	e, _ := a.events.find(EventRefused, "")
	if e.Member.Host != "127.0.0.3" {
		t.Errorf("a saw b's connection come from %q (event: %v), want 127.0.0.3, b's bind host", e.Member.Host, e.Err)
	}

	// A raw listener on 127.0.0.2 sees where the connection comes from.
	ln, err := net.Listen("tcp", "127.0.0.2:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	from := make(chan string, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			from <- err.Error()
			return
		}
		from <- c.RemoteAddr().(*net.TCPAddr).IP.String()
		c.Close()
	}()
	host, port := splitAddr(mustTCPAddr(t, ln.Addr().String()))
	b.Join(ctx, host, port) // fails: the listener closes the connection
	if got := <-from; got != "127.0.0.3" {
		t.Errorf("the listener saw a connection from %s, want 127.0.0.3", got)
	}
}

// TestWildcardBindDialsFromAnyAddress: a node bound to every interface
// (or to a name, or dialing across loopback and the network) lets the
// system pick the source address, which reaches any peer.
func TestWildcardBindDialsFromAnyAddress(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ host, to string }{
		{"0.0.0.0", "127.0.0.1:2254"}, {"", "127.0.0.1:2254"}, {"localhost", "127.0.0.1:2254"},
		{"127.0.0.1", "192.0.2.7:2254"}, // loopback cannot reach another machine
		{"192.0.2.1", "127.0.0.1:2254"},
	} {
		if d := sourceDialer(c.host, c.to); d.LocalAddr != nil {
			t.Errorf("sourceDialer(%q, %q) dials from %v, want no source address", c.host, c.to, d.LocalAddr)
		}
	}
	for _, c := range []struct{ host, to string }{{"127.0.0.2", "127.0.0.1:2254"}, {"192.0.2.1", "192.0.2.7:2254"}, {"127.0.0.2", "node.example:2254"}} {
		if d := sourceDialer(c.host, c.to); d.LocalAddr == nil || d.LocalAddr.String() != c.host+":0" {
			t.Errorf("sourceDialer(%q, %q) dials from %v, want %s", c.host, c.to, d.LocalAddr, c.host)
		}
	}
	acfg := testConfig("a")
	a := startNode(t, acfg)
	bcfg := testConfig("b")
	bcfg.BindHost = "0.0.0.0"
	b := startNode(t, bcfg)
	joinTo(t, b, a)
}
