package cluster

import (
	"bytes"
	"errors"
	"io"
	"syscall"
	"testing"
	"time"
)

// The link's writer takes its frames from the queue before it takes the
// write lock. If the liveness loop's direct Ping gets in between and the
// socket takes only part of it, the Ping's rest is queued, and the frames
// the writer already holds go out first: the Ping is cut in two on the
// wire and the peer reads garbage. This test plays that interleaving with
// the functions the two goroutines call, on a socket the peer does not
// read until it is full.
func TestPartialDirectPingStaysWholeBeforeTakenFrames(t *testing.T) {
	t.Parallel()
	cfg := testConfig("a")
	// The peer below reads a frame at a time: with the race detector on
	// a loaded machine, draining the socket can take longer than the
	// test nodes' write timeout, which this test is not about.
	cfg.WriteTimeout = 10 * time.Second
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	local, remote := tcpPair(t)
	local.SetWriteBuffer(4096)
	remote.SetReadBuffer(4096)
	l := newLink(local, memberInfo{}, "")
	if l.raw == nil {
		t.Skip("no raw socket")
	}
	l.markReadyLocked()
	app, err := n.frames.marshal(&appMessage{Kind: "k", Payload: bytes.Repeat([]byte("x"), 300)})
	if err != nil {
		t.Fatal(err)
	}
	l.queue.push(app)
	taken := l.queue.take() // the writer woke and took its frames

	// Fill the socket while the peer does not read, then let the peer
	// read a little at a time: the liveness loop's direct Pings go into
	// the room made, until the socket takes only part of one (its rest
	// waits for the writer).
	filled := fillSocket(t, l)
	remote.SetReadDeadline(time.Now().Add(10 * time.Second))
	discarded, pings, partial := 0, 0, false
	deadline := time.Now().Add(5 * time.Second)
	for !partial && time.Now().Before(deadline) {
		if !l.writePingNow(n.pingFrame) {
			if filled-discarded < 512 {
				if pings > 0 {
					break
				}
				filled += fillSocket(t, l) // drained before room opened: again
			}
			k, err := remote.Read(make([]byte, min(256, filled-discarded)))
			if err != nil {
				t.Fatal(err)
			}
			discarded += k
			continue
		}
		l.writeMu.Lock()
		partial = l.pingRest != nil
		l.writeMu.Unlock()
		pings++
	}
	if !partial {
		t.Skipf("the socket took %d whole Pings: no partial write to test", pings)
	}
	if _, err := io.CopyN(io.Discard, remote, int64(filled-discarded)); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d Pings written directly, the last one in part", pings)

	// The writer now gets the lock and writes what it took, then what
	// was queued since; the peer reads meanwhile.
	written := make(chan error, 1)
	go func() {
		err := n.writeFrames(l, taken)
		if err == nil {
			err = n.writeFrames(l, l.queue.take())
		}
		written <- err
	}()
	remote.SetReadDeadline(time.Now().Add(10 * time.Second))
	gotApp := false
	for !gotApp {
		typ, body, err := readFrame(remote, n.frames.maxFrameSize)
		if err != nil {
			t.Fatalf("peer: %v (after %d Pings written directly)", err, pings)
		}
		switch {
		case typ == msgPing && bytes.Equal(body, n.pingFrame[frameHeaderSize:]):
		case typ == msgApp:
			m, err := decodeBody(typ, body)
			if err != nil {
				t.Fatalf("peer: the AppMessage does not decode: %v", err)
			}
			if am, ok := m.(*appMessage); !ok || len(am.Payload) != 300 {
				t.Fatalf("peer: got %#v, want the 300-byte AppMessage", m)
			}
			gotApp = true
		default:
			t.Fatalf("peer: got a %s frame of %d bytes, want Pings and the AppMessage: the stream is cut", typ, len(body))
		}
	}
	if err := <-written; err != nil {
		t.Fatal(err)
	}
}

// fillSocket writes to l's socket, without waiting, until it has no
// room, and returns how many bytes it took.
func fillSocket(t *testing.T, l *link) int {
	t.Helper()
	filled := 0
	chunk := make([]byte, 64<<10)
	for full := false; !full; {
		l.raw.Write(func(fd uintptr) bool {
			n, err := syscall.Write(int(fd), chunk)
			if n > 0 {
				filled += n
			}
			full = errors.Is(err, syscall.EAGAIN)
			if err != nil && !full && !errors.Is(err, syscall.EINTR) {
				t.Fatalf("filling the socket: %v", err)
			}
			return true
		})
	}
	return filled
}
