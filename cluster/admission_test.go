package cluster

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/flood"
)

// silentFlood holds conns silent connections to addr from the system's
// choice of address (127.0.0.1 here) until the test ends.
func silentFlood(t *testing.T, addr string, conns int) {
	ctx, stop := context.WithCancel(context.Background())
	wait := flood.Silent(ctx, addr, []net.IP{nil}, conns, nil)
	t.Cleanup(func() { stop(); wait() })
}

// Issue 19: 200 silent connections from the joiner's own address, each
// re-opened at once when closed, locked out every join (0 of 6). Now a
// connection that sent its opener is never closed to make room, and a
// silent one only after its grace, so joins get in.
func TestSilentFloodFromTheJoinersAddressDoesNotLockJoinsOut(t *testing.T) {
	checkNoLeaks(t)
	a := startNode(t, testConfig("a"))
	silentFlood(t, a.addr, 200)
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

// A stranger needs no cookie to send a valid Hello: 200 connections from
// the joiner's own address that each send one and then stall hold a
// place for the stall grace (500 ms) each, not until HandshakeTimeout, so
// joins still get in.
func TestStalledHellosFromTheJoinersAddressDoNotLockJoinsOut(t *testing.T) {
	checkNoLeaks(t)
	a := startNode(t, testConfig("a"))
	nonce, _ := newNonce()
	opener, err := newFrameCodec(DefaultMaxFrameSize).marshal(&hello{Version: ProtocolVersion, Nonce: nonce,
		Sender: memberInfo{Alias: "staller", NodeID: "staller", Incarnation: 1, Host: "127.0.0.1", Port: 9}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	defer flood.Stalled(ctx, a.addr, []net.IP{nil}, 200, opener, nil)()
	defer stop()
	eventually(t, testSlack, "the stallers fill the pending table", func() bool {
		return a.handshakes.Len() >= DefaultMaxPendingConns
	})
	const tries, want, within = 6, 5, 20 * time.Second
	start := time.Now()
	joined := 0
	for i := range tries {
		n := startNode(t, testConfig(fmt.Sprint("j", i)))
		ctx, cancel := context.WithTimeout(context.Background(), within-time.Since(start))
		_, err := n.Join(ctx, a.host, a.port)
		cancel()
		if err != nil {
			t.Logf("join %d while stalled handshakes hold the pending table: %v", i, err)
			continue
		}
		joined++
	}
	took := time.Since(start)
	t.Logf("%d of %d joins in %v under 200 stalled handshakes from 127.0.0.1", joined, tries, took.Round(time.Millisecond))
	if joined < want || took > within {
		t.Errorf("%d of %d joins in %v, want at least %d within %v", joined, tries, took, want, within)
	}
}
