package cluster

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// cuttableTransport is TCP with a switch that cuts this node off the
// network without closing anything, the way a pulled cable or a firewall
// does: while cut, bytes it writes vanish, bytes sent to it are read and
// thrown away (so reads see silence until their deadline), its dials fail
// and connections made to it are closed at once. Healing restores all of
// that; connections that lived through the cut carry on. A connection
// closed during the cut is closed on the wire only when the cut heals, as
// its FIN could not cross a real cut either.
type cuttableTransport struct {
	cut atomic.Bool
	// paused holds this node's reads and writes, as if its process were
	// stopped: bytes wait in the sockets until it ends.
	paused atomic.Bool

	mu       sync.Mutex
	deferred []net.Conn
}

// heal ends the cut and closes the connections closed during it.
func (t *cuttableTransport) heal() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cut.Store(false)
	for _, c := range t.deferred {
		c.Close()
	}
	t.deferred = nil
}

var errNetworkCut = errors.New("network is cut (test)")

func (t *cuttableTransport) Listen(ctx context.Context, address string) (net.Listener, error) {
	ln, err := TCPTransport{}.Listen(ctx, address)
	if err != nil {
		return nil, err
	}
	return &cuttableListener{Listener: ln, t: t}, nil
}

func (t *cuttableTransport) Dial(ctx context.Context, address string) (net.Conn, error) {
	if t.cut.Load() {
		return nil, errNetworkCut
	}
	c, err := TCPTransport{}.Dial(ctx, address)
	if err != nil {
		return nil, err
	}
	return &cuttableConn{Conn: c, t: t}, nil
}

type cuttableListener struct {
	net.Listener
	t *cuttableTransport
}

func (l *cuttableListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if !l.t.cut.Load() {
			return &cuttableConn{Conn: c, t: l.t}, nil
		}
		c.Close()
	}
}

type cuttableConn struct {
	net.Conn
	t *cuttableTransport
}

func (c *cuttableConn) Read(b []byte) (int, error) {
	for {
		n, err := c.Conn.Read(b)
		c.t.waitPause()
		if err != nil || !c.t.cut.Load() {
			return n, err
		}
	}
}

// waitPause waits while the node is paused (a simulation of a stopped
// process, polled: the test's pause has no other signal).
func (t *cuttableTransport) waitPause() {
	for t.paused.Load() {
		time.Sleep(time.Millisecond)
	}
}

func (c *cuttableConn) Close() error {
	c.t.mu.Lock()
	defer c.t.mu.Unlock()
	if !c.t.cut.Load() {
		return c.Conn.Close()
	}
	c.Conn.SetDeadline(time.Unix(1, 0)) // wakes local readers, sends nothing
	c.t.deferred = append(c.t.deferred, c.Conn)
	return nil
}

func (c *cuttableConn) Write(b []byte) (int, error) {
	c.t.waitPause()
	if c.t.cut.Load() {
		return len(b), nil
	}
	return c.Conn.Write(b)
}
