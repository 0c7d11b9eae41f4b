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

// versionConn holds a new connection to a short deadline until the
// client's SSH version line (a line that starts "SSH-") has arrived, then
// to the handshake's: a client that connects and sends nothing gives its
// place up in VersionTimeout, not AuthTimeout. onVersion is called when
// the line has arrived.
type versionConn struct {
	net.Conn
	handshakeDeadline time.Time
	onVersion         func()
	seen              atomic.Bool
	line              []byte // the first bytes of the line being read, at most 4
}

func newVersionConn(c net.Conn, versionTimeout, authTimeout time.Duration, onVersion func()) *versionConn {
	now := time.Now()
	vc := &versionConn{Conn: c, handshakeDeadline: now.Add(authTimeout), onVersion: onVersion, line: make([]byte, 0, 4)}
	c.SetDeadline(now.Add(versionTimeout))
	return vc
}

func (c *versionConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && !c.seen.Load() {
		c.scan(p[:n])
	}
	return n, err
}

// scan looks for the end of the version line in b, the next bytes read.
// Lines before it are allowed (RFC 4253, 4.2) but do not end the short
// deadline.
func (c *versionConn) scan(b []byte) {
	for _, ch := range b {
		if ch != '\n' {
			if len(c.line) < cap(c.line) {
				c.line = append(c.line, ch)
			}
			continue
		}
		if string(c.line) == "SSH-" {
			c.seen.Store(true)
			c.Conn.SetDeadline(c.handshakeDeadline)
			c.onVersion()
			return
		}
		c.line = c.line[:0]
	}
}

// versionSeen reports whether the client's version line arrived.
func (c *versionConn) versionSeen() bool { return c.seen.Load() }
