package cluster

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// Two members whose handlers Send back to the member whose messages they
// handle, with no deadline, while both flood each other: each deliverer
// waits for room on its link, each link's reader waits for room in its
// inbox, so neither side reads. That is no deadlock for good: the
// writers' WriteTimeout ends it, the link is dropped as failed (its
// queued messages lost), and the waiting Sends return.
func TestHandlersThatSendBackDoNotHangForGood(t *testing.T) {
	testkit.CheckGoroutines(t)
	nodes := startCluster(t, 2)
	waitFullMesh(t, nodes, testSlack)
	payload := make([]byte, 64<<10)
	var inHandler, returned atomic.Int64
	for _, n := range nodes {
		n := n
		n.Handle("echo.v1", func(from string, p []byte) {
			if p[0] != 0 {
				return // an answer
			}
			inHandler.Add(1)
			defer returned.Add(1)
			answer := make([]byte, len(p))
			answer[0] = 1
			n.Send(context.Background(), from, "echo.v1", answer)
		})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*testFailure+testSlack)
	defer cancel()
	var senders sync.WaitGroup
	for i, n := range nodes {
		to := nodes[1-i].Alias()
		senders.Add(1)
		go func() {
			defer senders.Done()
			for range 2000 {
				if n.Send(ctx, to, "echo.v1", payload) != nil {
					return
				}
			}
		}()
	}
	senders.Wait()
	if ctx.Err() != nil {
		t.Fatal("the floods did not end: Send waited for good")
	}
	testkit.Eventually(t, testFailure+testSlack, "every handler returns from its Send", func() bool {
		return inHandler.Load() == returned.Load()
	})
	t.Logf("handlers run: %d; events: %v %v", returned.Load(), nodes[0].events.losses(), nodes[1].events.losses())
}
