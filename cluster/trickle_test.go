package cluster

import (
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// A member that starts a frame and then sends one byte of it per
// heartbeat never completes a frame: it is as silent as a member that
// sends nothing, and is failed after FailureTimeout. On a quiet link its
// bytes wait unread below the wake mark, and the liveness loop must not
// take their growth for a member that is heard.
//
// The second trickle sends whole Pings as the frame's body: once the
// reader holds the frame's start, the bytes that wait look like Pings but
// are the rest of that frame.
func TestTricklingMemberThatNeverCompletesAFrameFails(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		piece func(n *Node) []byte
	}{
		{"a byte at a time", func(*Node) []byte { return []byte{0x80} }},
		{"Pings inside the frame", func(n *Node) []byte { return n.pingFrame }},
	} {
		t.Run(tt.name, func(t *testing.T) { testTrickle(t, tt.piece) })
	}
}

func testTrickle(t *testing.T, piece func(*Node) []byte) {
	testkit.CheckGoroutines(t)
	a := startNode(t, testConfig("a"))
	p := dialRaw(t, a.addr, "raw")
	p.join()
	testkit.Eventually(t, 2*time.Second, "raw is a member of a", func() bool { return len(a.Members()) == 2 })
	started := time.Now()
	// A 4000-byte AppMessage of which only the header and, twice a
	// heartbeat, one more piece arrive.
	bit := piece(a.Node)
	if _, err := p.conn.Write(header(4000, msgApp)); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	trickled := make(chan struct{})
	go func() {
		defer close(trickled)
		tick := time.NewTicker(testHeartbeat / 2)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				if _, err := p.conn.Write(bit); err != nil {
					return
				}
			}
		}
	}()
	defer func() { close(stop); <-trickled }()
	testkit.Eventually(t, testFailure+testSlack, "a fails the member that never completes a frame", func() bool {
		_, ok := a.events.find(EventFailed, "raw")
		return ok
	})
	t.Logf("failed after %v", time.Since(started).Round(time.Millisecond))
}
