package cluster

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// Frames written at once by Send (writeNow) and frames the writer takes
// from the queue keep one order: a stream of small messages with large
// ones among it (which fill the socket, leave tails for the writer and
// make later messages queue) arrives in the order sent, on a handler run
// by the reader (HandleNonBlocking).
func TestDirectWritesKeepOrderWithQueuedFrames(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes := startCluster(t, 2)
	a, b := nodes[0], nodes[1]
	const count = 3000
	got := make(chan uint32, count)
	b.HandleNonBlocking("order.v1", func(_ string, p []byte) {
		got <- binary.BigEndian.Uint32(p)
	})
	waitFullMesh(t, nodes, testSlack)
	if l := linkTo(a.Node, "n1"); l == nil || l.raw == nil {
		t.Fatal("n0's link to n1 cannot write at once: the test would not test writeNow")
	}
	errs := make(chan error, 1)
	go func() {
		for i := range uint32(count) {
			size := 4
			if i%97 == 0 {
				size = 256 << 10
			}
			p := make([]byte, size)
			binary.BigEndian.PutUint32(p, i)
			ctx, cancel := context.WithTimeout(context.Background(), testSlack)
			err := a.Send(ctx, "n1", "order.v1", p)
			cancel()
			if err != nil {
				errs <- fmt.Errorf("send %d: %w", i, err)
				return
			}
		}
		errs <- nil
	}()
	for i := uint32(0); i < count; {
		select {
		case n := <-got:
			if n != i {
				t.Fatalf("message %d arrived as number %d", i, n)
			}
			i++
		case err := <-errs:
			if err != nil {
				t.Fatal(err)
			}
			errs = nil
		case <-time.After(testSlack):
			t.Fatalf("message %d did not arrive", i)
		}
	}
}

// A message for a non-blocking handler waits its turn behind messages of
// the same link still with a blocking handler: the reader runs it only
// when nothing of the link waits or is being handled.
func TestNonBlockingHandlerWaitsItsTurn(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	nodes := startCluster(t, 2)
	a, b := nodes[0], nodes[1]
	release := make(chan struct{})
	var releaseOnce sync.Once
	t.Cleanup(func() { releaseOnce.Do(func() { close(release) }) })
	order := make(chan string, 100)
	slowStarted := make(chan struct{})
	b.Handle("slow.v1", func(_ string, p []byte) {
		close(slowStarted)
		<-release
		order <- "slow" + string(p)
	})
	b.HandleNonBlocking("fast.v1", func(_ string, p []byte) {
		order <- "fast" + string(p)
	})
	waitFullMesh(t, nodes, testSlack)
	send := func(kind, payload string) {
		t.Helper()
		if err := a.Send(context.Background(), "n1", kind, []byte(payload)); err != nil {
			t.Fatal(err)
		}
	}
	send("fast.v1", "0") // nothing waits: run by the reader
	if got := <-order; got != "fast0" {
		t.Fatalf("first handled: %q", got)
	}
	send("slow.v1", "1")
	select {
	case <-slowStarted:
	case <-time.After(testSlack):
		t.Fatal("the slow handler did not start")
	}
	for i := 2; i < 12; i++ {
		send("fast.v1", fmt.Sprint(i))
	}
	// Each fast message read while the slow handler holds its link's turn
	// waits in the inbox: the reader has read them all once the last is
	// there.
	l := linkTo(b.Node, "n0")
	testkit.Eventually(t, testSlack, "the fast messages wait behind the slow one", func() bool {
		l.inbox.mu.Lock()
		defer l.inbox.mu.Unlock()
		n := len(l.inbox.items)
		return n > 0 && string(l.inbox.items[n-1].Payload) == "11"
	})
	select {
	case got := <-order:
		t.Fatalf("%q handled while the slow handler had the turn", got)
	default:
	}
	releaseOnce.Do(func() { close(release) })
	want := []string{"slow1"}
	for i := 2; i < 12; i++ {
		want = append(want, "fast"+fmt.Sprint(i))
	}
	for _, w := range want {
		select {
		case got := <-order:
			if got != w {
				t.Fatalf("handled %q, want %q", got, w)
			}
		case <-time.After(testSlack):
			t.Fatalf("%q not handled", w)
		}
	}
}
