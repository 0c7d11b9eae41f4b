package cluster

import (
	"context"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// A Send to this node's own alias waits only while the local queue is
// full, as a Send to a member waits only while its link's queue is: with
// room, a context that has already ended does not make it fail (a
// select between room and the ended context chose at random).
func TestSendToSelfWithRoomIgnoresAnEndedContext(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	a := startNode(t, testConfig("a"))
	got := make(chan struct{}, localQueueLen)
	a.Handle("test.v1", func(string, []byte) { got <- struct{}{} })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := range 64 {
		if err := a.Send(ctx, "a", "test.v1", nil); err != nil {
			t.Fatalf("send %d with room in the local queue: %v", i, err)
		}
		select { // keep the queue empty
		case <-got:
		case <-time.After(testSlack):
			t.Fatalf("message %d was not delivered", i)
		}
	}
}
