package cluster

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/flood"
	"github.com/iridium-vm/iridium/internal/testkit"
)

// silentFlood holds conns silent connections to addr from the system's
// choice of address (127.0.0.1 here) until the test ends.
func silentFlood(t *testing.T, addr string, conns int) {
	ctx, stop := context.WithCancel(context.Background())
	wait := flood.Silent(ctx, addr, []net.IP{nil}, conns, nil)
	t.Cleanup(func() { stop(); wait() })
}

// checkJoinsGetIn starts 6 nodes one after another, each joining a, and
// fails the test unless at least 5 join within the time given; under
// names the attack in the messages.
func checkJoinsGetIn(t *testing.T, a *testNode, within time.Duration, under string) {
	t.Helper()
	const tries, want = 6, 5
	start := time.Now()
	joined := 0
	for i := range tries {
		n := startNode(t, testConfig(fmt.Sprint("j", i)))
		ctx, cancel := context.WithTimeout(context.Background(), within-time.Since(start))
		_, err := n.Join(ctx, a.host, a.port)
		cancel()
		if err != nil {
			t.Logf("join %d under %s: %v", i, under, err)
			continue
		}
		joined++
	}
	took := time.Since(start)
	t.Logf("%d of %d joins in %v under %s", joined, tries, took.Round(time.Millisecond), under)
	if joined < want || took > within {
		t.Errorf("%d of %d joins in %v, want at least %d within %v", joined, tries, took, want, within)
	}
}

// Issue 19: 200 silent connections from the joiner's own address, each
// re-opened at once when closed, locked out every join (0 of 6). Now a
// connection that sent its opener is not closed to make room before its
// stall grace, and a silent one only after its grace, so joins get in.
func TestSilentFloodFromTheJoinersAddressDoesNotLockJoinsOut(t *testing.T) {
	testkit.CheckGoroutines(t)
	a := startNode(t, testConfig("a"))
	silentFlood(t, a.addr, 200)
	testkit.Eventually(t, testSlack, "the flood fills the pending table", func() bool {
		return a.handshakes.Len() >= DefaultMaxPendingConns
	})
	checkJoinsGetIn(t, a, 10*time.Second, "a flood of 200 silent connections from 127.0.0.1")
}

// A stranger needs no cookie to send a valid Hello: 200 connections from
// the joiner's own address that each send one and then stall hold a
// place for the stall grace (500 ms) each, not until HandshakeTimeout, so
// joins still get in, if more slowly.
func TestStalledHellosFromTheJoinersAddressDoNotLockJoinsOut(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
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
	testkit.Eventually(t, testSlack, "the stallers fill the pending table", func() bool {
		return a.handshakes.Len() >= DefaultMaxPendingConns
	})
	checkJoinsGetIn(t, a, 20*time.Second, "200 stalled handshakes from 127.0.0.1")
}
