// Package flood is a hostile client for tests: it holds connections to a
// listener open without sending a byte, and opens each again as soon as
// the server closes it, as a stranger who wants to fill the server's
// table of connections in their handshake would.
package flood

import (
	"context"
	"net"
	"sync"
	"time"
)

// Silent holds perSource silent connections to addr from each of sources
// (a nil source: the system's choice) until ctx ends. greeted, unless nil,
// is called each time the server first sends bytes on one of them, as an
// SSH server does with its version line once it has taken a connection.
// It returns at once; the returned wait blocks until every connection is
// closed after ctx ends.
func Silent(ctx context.Context, addr string, sources []net.IP, perSource int, greeted func()) (wait func()) {
	return Stalled(ctx, addr, sources, perSource, nil, greeted)
}

// Stalled is Silent, but each connection sends opener first, then
// nothing: a handshake that starts well and stalls.
func Stalled(ctx context.Context, addr string, sources []net.IP, perSource int, opener []byte, greeted func()) (wait func()) {
	var wg sync.WaitGroup
	for _, src := range sources {
		d := net.Dialer{Timeout: time.Second}
		if src != nil {
			d.LocalAddr = &net.TCPAddr{IP: src}
		}
		for range perSource {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for ctx.Err() == nil {
					hold(ctx, &d, addr, opener, greeted)
				}
			}()
		}
	}
	return wg.Wait
}

// hold opens one connection, sends opener, and keeps it, silent, until
// the server or ctx closes it.
func hold(ctx context.Context, d *net.Dialer, addr string, opener []byte, greeted func()) {
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil { // out of ports or backlog: again a little later
		select {
		case <-ctx.Done():
		case <-time.After(5 * time.Millisecond):
		}
		return
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	if len(opener) > 0 {
		if _, err := c.Write(opener); err != nil {
			return
		}
	}
	buf := make([]byte, 512)
	for first := true; ; first = false {
		if _, err := c.Read(buf); err != nil {
			return
		}
		if first && greeted != nil {
			greeted()
		}
	}
}
