package remote

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/flood"
)

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
	var sources []net.IP
	for i := 2; i <= 11; i++ {
		sources = append(sources, net.IPv4(127, 0, 0, byte(i)))
	}
	ctx, stop := context.WithCancel(context.Background())
	defer flood.Silent(ctx, addr, sources, 20, nil)()
	defer stop()
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
