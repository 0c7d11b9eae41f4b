package remote

import (
	"errors"
	"net"
	"os"
	"sync/atomic"
	"time"
)

// idleConn closes the connection's reads and writes once no byte went
// either way for idle. Until arm, the deadlines set on it (the
// handshake's) apply as they are.
type idleConn struct {
	net.Conn
	idle  time.Duration // <= 0: no idle limit
	armed atomic.Bool
	last  atomic.Int64 // unix nanoseconds of the last byte read or written
}

func newIdleConn(c net.Conn, idle time.Duration) *idleConn {
	ic := &idleConn{Conn: c, idle: idle}
	ic.touch()
	return ic
}

func (c *idleConn) touch() { c.last.Store(time.Now().UnixNano()) }

// deadline is when the connection is idle for too long.
func (c *idleConn) deadline() time.Time {
	return time.Unix(0, c.last.Load()).Add(c.idle)
}

// arm ends the handshake's deadline and starts the idle limit.
func (c *idleConn) arm() {
	c.touch()
	c.Conn.SetDeadline(time.Time{})
	if c.idle > 0 {
		c.armed.Store(true)
		c.Conn.SetReadDeadline(c.deadline())
	}
}

func (c *idleConn) Read(p []byte) (int, error) {
	for {
		if c.armed.Load() {
			c.Conn.SetReadDeadline(c.deadline())
		}
		n, err := c.Conn.Read(p)
		if n > 0 {
			c.touch()
		}
		if err != nil && c.armed.Load() && errors.Is(err, os.ErrDeadlineExceeded) && time.Now().Before(c.deadline()) && n == 0 {
			continue // a write kept the connection busy meanwhile
		}
		return n, err
	}
}

func (c *idleConn) Write(p []byte) (int, error) {
	if c.armed.Load() {
		c.Conn.SetWriteDeadline(time.Now().Add(c.idle))
	}
	n, err := c.Conn.Write(p)
	if n > 0 {
		c.touch()
	}
	return n, err
}
