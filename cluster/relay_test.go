package cluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// relayHandshakeFrames is how many frames each side sends in clear:
// Join and ChallengeReply from the dialer, Challenge and JoinAck from the
// acceptor. The relay's tamper functions see the frames after them.
const relayHandshakeFrames = 2

// tamperFunc is a hostile relay's treatment of one direction's sealed
// frames: it gets each frame as it came (its 4-byte length and the rest)
// and returns what to forward in its place. It runs on the direction's
// one pump goroutine, so it may keep state.
type tamperFunc func(frame []byte) [][]byte

// hostileRelay is a TCP proxy on loopback that a node dials instead of
// another: it forwards whole frames between them (it knows the framing,
// a 4-byte length and that many bytes), keeps a copy of every byte, and
// may change the sealed frames of either direction.
type hostileRelay struct {
	host string
	port int
	mu   sync.Mutex
	seen bytes.Buffer // every byte relayed, both directions
}

// startRelay relays connections to target until the test ends, with
// toAcceptor and toDialer, where not nil, tampering with the sealed
// frames of the dialer and of the node dialed.
func startRelay(t *testing.T, target string, toAcceptor, toDialer tamperFunc) *hostileRelay {
	r := &hostileRelay{}
	var mu sync.Mutex
	var conns []net.Conn
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	r.host, r.port = fakeServer(t, func(dialer net.Conn) {
		track(dialer)
		acceptor, err := net.DialTimeout("tcp", target, time.Second)
		if err != nil {
			return
		}
		track(acceptor)
		defer acceptor.Close()
		done := make(chan struct{})
		go func() { defer close(done); r.pump(dialer, acceptor, toAcceptor) }()
		r.pump(acceptor, dialer, toDialer)
		<-done
	})
	// Runs before fakeServer's cleanup, which waits for the relay's
	// connections to end.
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return r
}

// pump forwards frames from one end to the other until either fails,
// then closes both.
func (r *hostileRelay) pump(from, to net.Conn, tamper tamperFunc) {
	defer from.Close()
	defer to.Close()
	for i := 0; ; i++ {
		frame, err := readRelayFrame(from)
		if err != nil {
			return
		}
		r.mu.Lock()
		r.seen.Write(frame)
		r.mu.Unlock()
		out := [][]byte{frame}
		if tamper != nil && i >= relayHandshakeFrames {
			out = tamper(frame)
		}
		for _, f := range out {
			if _, err := to.Write(f); err != nil {
				return
			}
		}
	}
}

// readRelayFrame reads a 4-byte length and that many bytes.
func readRelayFrame(r io.Reader) ([]byte, error) {
	var prefix [4]byte
	if _, err := io.ReadFull(r, prefix[:]); err != nil {
		return nil, err
	}
	size := binary.BigEndian.Uint32(prefix[:])
	if size > 2*DefaultMaxFrameSize {
		return nil, fmt.Errorf("relay: frame of %d bytes", size)
	}
	frame := make([]byte, 4+size)
	copy(frame, prefix[:])
	_, err := io.ReadFull(r, frame[4:])
	return frame, err
}

// relayed returns a copy of every byte the relay carried.
func (r *hostileRelay) relayed() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.seen.Bytes())
}

// secretPayload is the known message the relay must not see: longer than
// any Ping, so a tamper function can tell its frame.
var secretPayload = []byte(strings.Repeat("the secret plaintext of a known message; ", 8))

// secretFrameSize is a size between a sealed Ping and the frame of
// secretPayload.
const secretFrameSize = 200

// received counts the payloads a node's handler got.
type received struct {
	mu       sync.Mutex
	payloads [][]byte
}

func (r *received) handle(_ string, payload []byte) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.payloads = append(r.payloads, bytes.Clone(payload))
}

func (r *received) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.payloads)
}

// relayedPair starts node a, and node b, which joins a through a hostile
// relay; both handle "test.v1" messages. plain leaves their links
// unsealed.
func relayedPair(t *testing.T, plain bool, toAcceptor, toDialer tamperFunc) (a, b *testNode, ra, rb *received, relay *hostileRelay) {
	t.Helper()
	ra, rb = &received{}, &received{}
	prepare := func(got *received) func(*Node) {
		return func(n *Node) {
			n.plainLinks = plain
			n.Handle("test.v1", got.handle)
		}
	}
	a = startNodeWith(t, testConfig("a"), prepare(ra))
	b = startNodeWith(t, testConfig("b"), prepare(rb))
	relay = startRelay(t, a.addr, toAcceptor, toDialer)
	ctx, cancel := context.WithTimeout(context.Background(), testSlack)
	defer cancel()
	if _, err := b.Join(ctx, relay.host, relay.port); err != nil {
		t.Fatalf("b joins a through the relay: %v", err)
	}
	waitFullMesh(t, []*testNode{a, b}, testSlack)
	return a, b, ra, rb, relay
}

// sendSecret sends secretPayload from one node to the other.
func sendSecret(t *testing.T, from *testNode, to string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testSlack)
	defer cancel()
	if err := from.Send(ctx, to, "test.v1", secretPayload); err != nil {
		t.Fatalf("%s sends to %s: %v", from.Alias(), to, err)
	}
}

// A relay between two members sees neither the payload nor the kind of
// the messages they exchange; without sealing (the control) it sees both,
// so the check can fail.
func TestRelayCannotReadSealedLinks(t *testing.T) {
	t.Parallel()
	for _, plain := range []bool{false, true} {
		t.Run(fmt.Sprintf("plain=%v", plain), func(t *testing.T) {
			testkit.CheckGoroutines(t)
			a, b, ra, rb, relay := relayedPair(t, plain, nil, nil)
			sendSecret(t, b, "a")
			sendSecret(t, a, "b")
			testkit.Eventually(t, testSlack, "both nodes get the message", func() bool { return ra.count() == 1 && rb.count() == 1 })
			seen := relay.relayed()
			for _, clue := range [][]byte{secretPayload[:40], []byte("test.v1")} {
				if got := bytes.Contains(seen, clue); got != plain {
					t.Errorf("%q in the %d relayed bytes: %v, want %v", clue, len(seen), got, plain)
				}
			}
		})
	}
}

// onSecretFrame applies change to the first frame big enough to carry
// secretPayload and forwards every other frame as it is.
func onSecretFrame(change func(frame []byte) [][]byte) func() tamperFunc {
	return func() tamperFunc {
		done := false
		return func(frame []byte) [][]byte {
			if done || len(frame) < secretFrameSize {
				return [][]byte{frame}
			}
			done = true
			return change(frame)
		}
	}
}

// flipBit returns frame with one bit of byte i changed (from the end when
// i is negative).
func flipBit(frame []byte, i int) []byte {
	f := bytes.Clone(frame)
	if i < 0 {
		i += len(f)
	}
	f[i] ^= 0x10
	return f
}

// Every frame a relay forges, alters, replays, reorders or drops makes
// the receiving node close the link with ErrLinkTampered naming the
// member, before it acts on any of it: no altered payload reaches a
// handler, and a forged Leave is not taken as one.
func TestRelayTamperingClosesTheLink(t *testing.T) {
	t.Parallel()
	clearLeave, err := newFrameCodec(DefaultMaxFrameSize).marshal(&leave{Reason: "forged"})
	if err != nil {
		t.Fatal(err)
	}
	attacks := []struct {
		name          string
		toDialer      bool // tamper with a's frames to b, not b's to a
		tamper        func() tamperFunc
		maxDeliveries int // of the genuine message, before the tampering shows
	}{
		{"flip a bit of the ciphertext", false, onSecretFrame(func(f []byte) [][]byte { return [][]byte{flipBit(f, 40)} }), 0},
		{"flip a bit of the tag", false, onSecretFrame(func(f []byte) [][]byte { return [][]byte{flipBit(f, -1)} }), 0},
		{"flip a bit of the type byte", false, onSecretFrame(func(f []byte) [][]byte { return [][]byte{flipBit(f, 4)} }), 0},
		{"flip a bit on the way to the dialer", true, onSecretFrame(func(f []byte) [][]byte { return [][]byte{flipBit(f, 40)} }), 0},
		{"shorten the frame and its length", false, onSecretFrame(func(f []byte) [][]byte {
			short := bytes.Clone(f[:len(f)-1])
			binary.BigEndian.PutUint32(short, uint32(len(short)-4))
			return [][]byte{short}
		}), 0},
		{"replay a frame", false, onSecretFrame(func(f []byte) [][]byte { return [][]byte{f, f} }), 1},
		{"drop a frame", false, onSecretFrame(func(f []byte) [][]byte { return nil }), 0},
		{"inject a forged frame", false, onSecretFrame(func(f []byte) [][]byte {
			forged := bytes.Clone(f)
			rand.Read(forged[4:])
			return [][]byte{forged, f}
		}), 0},
		{"inject a Leave in clear", false, onSecretFrame(func(f []byte) [][]byte { return [][]byte{clearLeave, f} }), 0},
		{"reorder two frames", false, reorderSecretFrame, 0},
	}
	for _, tt := range attacks {
		t.Run(tt.name, func(t *testing.T) {
			testkit.CheckGoroutines(t)
			var toAcceptor, toDialer tamperFunc
			receiver, sender := "a", "b"
			if tt.toDialer {
				toDialer = tt.tamper()
				receiver, sender = "b", "a"
			} else {
				toAcceptor = tt.tamper()
			}
			a, b, ra, rb, _ := relayedPair(t, false, toAcceptor, toDialer)
			nodes := map[string]*testNode{"a": a, "b": b}
			got := map[string]*received{"a": ra, "b": rb}[receiver]
			sendSecret(t, nodes[sender], receiver)
			testkit.Eventually(t, testSlack, receiver+" closes the link with ErrLinkTampered", func() bool {
				e, ok := nodes[receiver].events.find(EventLinkClosed, sender)
				return ok && errors.Is(e.Err, ErrLinkTampered)
			})
			e, _ := nodes[receiver].events.find(EventLinkClosed, sender)
			if !strings.Contains(e.Err.Error(), `"`+sender+`"`) {
				t.Errorf("the error does not name the member: %v", e.Err)
			}
			t.Logf("%s: %v", receiver, e.Err)
			if _, left := nodes[receiver].events.find(EventLeft, sender); left {
				t.Errorf("%s took a forged Leave from %s", receiver, sender)
			}
			if n := got.count(); n > tt.maxDeliveries {
				t.Errorf("%s handled %d messages, want at most %d", receiver, n, tt.maxDeliveries)
			}
			got.mu.Lock()
			for _, p := range got.payloads {
				if !bytes.Equal(p, secretPayload) {
					t.Errorf("%s handled an altered payload %q", receiver, p)
				}
			}
			got.mu.Unlock()
		})
	}
}

// reorderSecretFrame holds the frame of secretPayload back and forwards
// it after the next frame (a Ping, at the latest a heartbeat later).
func reorderSecretFrame() tamperFunc {
	var held []byte
	return func(frame []byte) [][]byte {
		switch {
		case held == nil && len(frame) >= secretFrameSize:
			held = frame
			return nil
		case held != nil && len(held) > 0:
			out := [][]byte{frame, held}
			held = []byte{} // done: forward the rest as it comes
			return out
		}
		return [][]byte{frame}
	}
}
