package cluster

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// Two members whose handlers Send back to the member whose messages they
// handle, with no deadline, while both flood each other: once both
// links' queues fill, each deliverer waits for room on its link and each
// link's reader for room in its inbox, so neither side reads. That is no
// lasting deadlock: the writers' WriteTimeout ends it, the link is
// dropped as failed (its queued messages lost) and the waiting Sends
// return. The test fails if the exchange stops making progress for
// longer than the write timeout allows.
func TestHandlersThatSendBackDoNotHangForGood(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes := startCluster(t, 2)
	waitFullMesh(t, nodes, testSlack)
	payload := make([]byte, 64<<10)
	var progress, inHandler, returned atomic.Int64
	for _, n := range nodes {
		n.Handle("echo.v1", func(from string, p []byte) {
			if p[0] != 0 {
				progress.Add(1)
				return // an answer
			}
			inHandler.Add(1)
			defer returned.Add(1)
			defer progress.Add(1)
			answer := make([]byte, len(p))
			answer[0] = 1
			n.Send(context.Background(), from, "echo.v1", answer)
		})
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// About twice what fills both directions' queues, inboxes and socket
	// buffers; the race build, ten times slower, only checks the paths.
	count := 1000
	if testkit.RaceEnabled {
		count = 200
	}
	var senders sync.WaitGroup
	for i, n := range nodes {
		to := nodes[1-i].Alias()
		senders.Add(1)
		go func() {
			defer senders.Done()
			for range count {
				if n.Send(ctx, to, "echo.v1", payload) != nil {
					return
				}
				progress.Add(1)
			}
		}()
	}
	finished := make(chan struct{})
	go func() { senders.Wait(); close(finished) }()
	stall := 2*testFailure + testSlack // the write timeout, and room for a loaded machine
	last, lastAt := progress.Load(), time.Now()
	for done := false; !done; {
		select {
		case <-finished:
			done = true
		case <-time.After(50 * time.Millisecond):
		}
		if p := progress.Load(); p != last {
			last, lastAt = p, time.Now()
		} else if !done && time.Since(lastAt) > stall {
			cancel()
			<-finished
			t.Fatalf("no message sent or handled for %v: the members wait on each other for good (handlers in %d, out %d; events %v %v)",
				stall, inHandler.Load(), returned.Load(), nodes[0].events.losses(), nodes[1].events.losses())
		}
	}
	testkit.Eventually(t, testFailure+testSlack, "every handler returns from its Send", func() bool {
		return inHandler.Load() == returned.Load()
	})
	t.Logf("handlers run: %d; events: %v %v", returned.Load(), nodes[0].events.losses(), nodes[1].events.losses())
}
