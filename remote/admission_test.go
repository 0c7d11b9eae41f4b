package remote

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// silentFlood holds perSource silent connections to addr from each of
// sources, each re-opened as soon as the server closes it, until the test
// ends. It never reads, so it never waits for the server either.
func silentFlood(t *testing.T, addr string, sources []string, perSource int) {
	ctx, stop := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { stop(); wg.Wait() })
	for _, src := range sources {
		d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: time.Second}
		for range perSource {
			wg.Add(1)
			go func() {
				defer wg.Done()
				buf := make([]byte, 512)
				for ctx.Err() == nil {
					c, err := d.DialContext(ctx, "tcp", addr)
					if err != nil {
						select { // out of ports or backlog: again a little later
						case <-ctx.Done():
						case <-time.After(5 * time.Millisecond):
						}
						continue
					}
					stopRead := context.AfterFunc(ctx, func() { c.Close() })
					for err == nil { // the server's version line, then its close
						_, err = c.Read(buf)
					}
					stopRead()
					c.Close()
				}
			}()
		}
	}
}

// Issue 19: 200 silent connections from 10 addresses, each re-opened at
// once when closed, locked out SSH key logins. Now a connection that sent
// its version line is never closed to make room and a silent one only
// after its grace, so at least 5 of 6 logins get in within 10 s.
func TestSilentFloodFromTenAddressesDoesNotLockLoginsOut(t *testing.T) {
	key := newKey(t)
	// Deadlines longer than the test: only the admission rule, not a
	// timeout, can let the logins in.
	srv, addr, _ := startServer(t, func(c *Config) {
		c.VersionTimeout, c.AuthTimeout = time.Minute, time.Minute
	}, key.PublicKey())
	var sources []string
	for i := 2; i <= 11; i++ {
		sources = append(sources, fmt.Sprintf("127.0.0.%d", i))
	}
	silentFlood(t, addr, sources, 20)
	deadline := time.Now().Add(testWait)
	for srv.handshakes.Len() < srv.cfg.MaxHandshakes {
		if time.Now().After(deadline) {
			t.Fatalf("the flood never filled the handshake table (%d of %d)", srv.handshakes.Len(), srv.cfg.MaxHandshakes)
		}
		time.Sleep(5 * time.Millisecond) // polling
	}
	const tries, want, within = 6, 5, 10 * time.Second
	start := time.Now()
	logins := 0
	for i := range tries {
		c, err := loginWithin(addr, key, within-time.Since(start))
		if err != nil {
			t.Logf("login %d under the flood: %v", i, err)
			continue
		}
		out, status := execOn(t, c, "hello")
		c.Close()
		if status != 0 || !strings.HasSuffix(out, " hello\n") {
			t.Errorf("the session after login %d: %q, status %d", i, out, status)
			continue
		}
		logins++
	}
	took := time.Since(start)
	t.Logf("%d of %d logins in %v under a flood of 200 silent connections from 10 addresses", logins, tries, took.Round(time.Millisecond))
	if logins < want || took > within {
		t.Errorf("%d of %d logins in %v, want at least %d within %v", logins, tries, took, want, within)
	}
}
