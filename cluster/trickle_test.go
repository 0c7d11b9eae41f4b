package cluster

import (
	"testing"
	"time"
)

// A member that starts a frame and then sends one byte of it per
// heartbeat never completes a frame: it is as silent as a member that
// sends nothing, and is failed after FailureTimeout. On a quiet link its
// bytes wait unread below the wake mark, and the liveness loop must not
// take their growth for a member that is heard.
func TestTricklingMemberThatNeverCompletesAFrameFails(t *testing.T) {
	checkNoLeaks(t)
	a := startNode(t, testConfig("a"))
	p := dialRaw(t, a.addr, "raw")
	nonce, _ := newNonce()
	if _, ack, err := p.handshake(nonce, false); err != nil {
		t.Fatal(err)
	} else if _, ok := ack.(*joinAck); !ok {
		t.Fatalf("got %#v, want JoinAck", ack)
	}
	eventually(t, 2*time.Second, "raw is a member of a", func() bool { return len(a.Members()) == 2 })
	started := time.Now()
	// A 1000-byte AppMessage of which only the header and, every
	// heartbeat, one more byte arrive.
	if _, err := p.conn.Write(header(1000, msgApp)); err != nil {
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
				if _, err := p.conn.Write([]byte{0x80}); err != nil {
					return
				}
			}
		}
	}()
	defer func() { close(stop); <-trickled }()
	eventually(t, testFailure+testSlack, "a fails the member that never completes a frame", func() bool {
		_, ok := a.events.find(EventFailed, "raw")
		return ok
	})
	t.Logf("failed after %v", time.Since(started).Round(time.Millisecond))
}
