package cluster

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// silentFlood holds conns silent connections to addr from local (nil:
// the system's choice, 127.0.0.1 here), each re-opened as soon as the
// node closes it, until the test ends.
func silentFlood(t *testing.T, addr string, local net.IP, conns int) {
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { stop(); wg.Wait() })
	d := net.Dialer{Timeout: time.Second}
	if local != nil {
		d.LocalAddr = &net.TCPAddr{IP: local}
	}
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				c, err := d.DialContext(ctx, "tcp", addr)
				if err != nil {
					select { // out of ports or backlog: try again a little later
					case <-ctx.Done():
					case <-time.After(5 * time.Millisecond):
					}
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

// Issue 19: 200 silent connections from the joiner's own address, each
// re-opened at once when closed, locked out every join (0 of 6). Now a
// connection that sent its opener is never closed to make room, and a
// silent one only after its grace, so joins get in.
func TestSilentFloodFromTheJoinersAddressDoesNotLockJoinsOut(t *testing.T) {
	checkNoLeaks(t)
	a := startNode(t, testConfig("a"))
	silentFlood(t, a.addr, nil, 200)
	eventually(t, testSlack, "the flood fills the pending table", func() bool {
		return a.handshakes.Len() >= DefaultMaxPendingConns
	})
	const tries, want = 6, 5
	start := time.Now()
	joined := 0
	for i := range tries {
		n := startNode(t, testConfig(fmt.Sprint("j", i)))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second-time.Since(start))
		_, err := n.Join(ctx, a.host, a.port)
		cancel()
		if err != nil {
			t.Logf("join %d while the flood holds the pending table: %v", i, err)
			continue
		}
		joined++
	}
	took := time.Since(start)
	t.Logf("%d of %d joins in %v under a flood of 200 silent connections from 127.0.0.1", joined, tries, took.Round(time.Millisecond))
	if joined < want || took > 10*time.Second {
		t.Errorf("%d of %d joins in %v, want at least %d within 10s", joined, tries, took, want)
	}
}
