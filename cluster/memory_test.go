package cluster

import (
	"context"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// heapInUse is the heap in use after a collection: what is held, not
// what awaits collection.
func heapInUse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// Issue 19: 250 members that each sent half of a 1 MiB frame took the
// node's heap up by 250 MiB, as each reader allocated the whole body on
// the header. Now a body grows as its bytes arrive, and the bytes beyond
// each frame's first bodyChunk come from a budget of
// DefaultPartialFrameBytes, so the heap stays under that budget plus
// bodyChunk per link (and the doubling's slack), and returns when the
// links close.
func TestHalfSentFramesAreBounded(t *testing.T) {
	testkit.CheckGoroutines(t)
	const links, frameSize, sent = 100, DefaultMaxFrameSize, 600 << 10
	cfg := testConfig("a")
	cfg.SuspicionMult = 600 // a minute at least: the half-sent frames are not cut off by probes
	a := startNode(t, cfg)
	before := heapInUse()

	peers := make([]*rawPeer, links)
	for i := range peers {
		peers[i] = dialRaw(t, a.addr, fmt.Sprint("m", i))
		peers[i].join()
		peers[i].conn.SetDeadline(time.Time{})
	}
	half := append(header(frameSize, msgApp), make([]byte, sent)...)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var wg sync.WaitGroup
	for _, p := range peers {
		wg.Add(1)
		go func() { // the write may wait for the node's reader: not the test
			defer wg.Done()
			stop := context.AfterFunc(ctx, func() { p.conn.Close() })
			defer stop()
			p.conn.Write(half)
		}()
	}
	testkit.Eventually(t, testSlack, "the half-sent frames take the partial-frame budget", func() bool {
		a.frames.partial.mu.Lock()
		defer a.frames.partial.mu.Unlock()
		return a.frames.partial.free < frameSize
	})
	// The bound: the budget, a first chunk per link, and as much again
	// for the bodies' doubling and the node's own growth.
	const bound = 2 * (DefaultPartialFrameBytes + links*bodyChunk)
	var peak uint64
	for end := time.Now().Add(time.Second); time.Now().Before(end); {
		peak = max(peak, heapInUse()-min(before, heapInUse()))
		if peak > bound {
			break
		}
	}
	t.Logf("heap in use: %d MiB before, at most %d MiB more while %d links each held half of a %d MiB frame (bound %d MiB)",
		before>>20, peak>>20, links, frameSize>>20, bound>>20)
	if peak > bound {
		t.Errorf("heap in use grew by %d MiB, over the bound of %d MiB", peak>>20, bound>>20)
	}

	cancel()
	wg.Wait()
	for _, p := range peers {
		p.conn.Close()
	}
	testkit.Eventually(t, testSlack, "the links close", func() bool { return len(a.Members()) <= 1 })
	var after uint64
	testkit.Eventually(t, testSlack, "the heap returns", func() bool {
		after = heapInUse()
		return after < before+8<<20
	})
	t.Logf("heap in use after the links closed: %d MiB", after>>20)
}
