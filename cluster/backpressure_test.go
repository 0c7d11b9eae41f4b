package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// linkTo returns n's current link to alias, or nil.
func linkTo(n *Node, alias string) *link {
	return n.links.get(alias)
}

// A member that stops reading fills its send queue: Send then waits for
// room, and gives up when its context ends, without queueing more than
// the queue's bound. When the link ends, a waiting Send returns.
func TestSendBlocksWhileThePeerDoesNotRead(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	cfg := testConfig("a")
	// Long enough that the deaf peer stays a member while the queue fills
	// on a slow machine: the test is about Send, not failure detection.
	cfg.WriteTimeout = 20 * time.Second
	a := startNode(t, cfg)
	p := dialRaw(t, a.addr, "deaf")
	p.join()
	payload := make([]byte, 64<<10)
	const wait = 300 * time.Millisecond
	sent := 0
	for {
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		start := time.Now()
		err := a.Send(ctx, "deaf", "test.v1", payload)
		cancel()
		if err != nil {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("send %d: %v, want the context's deadline", sent, err)
			}
			if took := time.Since(start); took < wait {
				t.Errorf("send %d failed after %v, before its deadline of %v", sent, took, wait)
			}
			break
		}
		sent++
		if sent > 5000 {
			t.Fatal("5000 messages of 64 KiB taken for a peer that reads nothing")
		}
	}
	l := linkTo(a.Node, "deaf")
	if l == nil {
		t.Fatal("the deaf peer's link is gone")
	}
	l.queue.mu.Lock()
	queued, frames := l.queue.bytes, len(l.queue.items)
	l.queue.mu.Unlock()
	if queued > maxQueuedBytes || frames > maxQueuedFrames {
		t.Errorf("%d frames of %d bytes queued, over the bounds (%d, %d)", frames, queued, maxQueuedFrames, maxQueuedBytes)
	}
	t.Logf("%d messages of 64 KiB taken before Send blocked; %d frames, %d bytes queued", sent, frames, queued)

	// A Send waiting for room returns once the link ends.
	done := make(chan error, 1)
	go func() { done <- a.Send(context.Background(), "deaf", "test.v1", payload) }()
	testkit.Eventually(t, testSlack, "Send waits for room", func() bool {
		l.queue.mu.Lock()
		defer l.queue.mu.Unlock()
		return l.queue.room != nil
	})
	p.conn.Close()
	select {
	case err := <-done:
		if !errors.Is(err, ErrUnknownMember) {
			t.Errorf("Send on a link that ended: %v, want ErrUnknownMember", err)
		}
	case <-time.After(testSlack + testFailure):
		t.Fatal("Send still waits after its link ended")
	}
}

// A handler that does not return holds up the messages of its member's
// link only: the link's reader waits, and neither end takes the other
// for failed meanwhile, however long it lasts. Once the handler returns,
// every message is handled, in order.
func TestSlowHandlerDoesNotFailItsMember(t *testing.T) {
	testkit.CheckGoroutines(t)
	nodes := startCluster(t, 2)
	a, b := nodes[0], nodes[1]
	release := make(chan struct{})
	var releaseOnce sync.Once
	// Registered after the nodes' Close, so it runs before: Close waits
	// for the handler.
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	got := make(chan string, 2*maxInboxMessages+20)
	b.Handle("slow.v1", func(from string, payload []byte) {
		<-release
		got <- string(payload)
	})
	waitFullMesh(t, nodes, testSlack)
	const count = 2*maxInboxMessages + 10 // the inbox and the batch in hand
	for i := range count {
		ctx, cancel := context.WithTimeout(context.Background(), testSlack)
		err := a.Send(ctx, "n1", "slow.v1", []byte(fmt.Sprint(i)))
		cancel()
		if err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	l := linkTo(b.Node, "n0")
	testkit.Eventually(t, testSlack, "n1's reader of n0's link waits for its handler", func() bool {
		return l.readerWaits.Load()
	})
	// Failure detection takes up to testFailure: watch for twice that.
	deadline := time.Now().Add(2 * testFailure)
	for time.Now().Before(deadline) {
		for _, n := range nodes {
			if lost := n.events.losses(); len(lost) > 0 {
				t.Fatalf("%s lost a member while a handler was slow: %v", n.Alias(), lost)
			}
			for _, m := range n.Members() {
				if m.State != StateAlive && m.State != StateLocal {
					t.Fatalf("%s lists %s as %s while a handler was slow", n.Alias(), m.Alias, m.State)
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	releaseOnce.Do(func() { close(release) })
	for i := range count {
		select {
		case p := <-got:
			if p != fmt.Sprint(i) {
				t.Fatalf("message %d handled as %q", i, p)
			}
		case <-time.After(testSlack):
			t.Fatalf("message %d not handled", i)
		}
	}
}
