package cluster

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync/atomic"
	"testing"
	"time"

	"github.com/iridium-vm/iridium/internal/testkit"
)

// testEnds are the ends of a made-up handshake.
func testEnds() sealEnds {
	return sealEnds{
		dialerNonce:   bytes.Repeat([]byte{1}, nonceSize),
		acceptorNonce: bytes.Repeat([]byte{2}, nonceSize),
		dialer:        memberInfo{Alias: "d", NodeID: "id-d"},
		acceptor:      memberInfo{Alias: "a", NodeID: "id-a"},
	}
}

// sealPair derives both ends' seals of one link.
func sealPair(t testing.TB, ends sealEnds) (dialer, acceptor *linkSeal) {
	t.Helper()
	dialer, err := deriveLinkSeal(testKey(), ProtocolVersion, ends, true)
	if err != nil {
		t.Fatal(err)
	}
	acceptor, err = deriveLinkSeal(testKey(), ProtocolVersion, ends, false)
	if err != nil {
		t.Fatal(err)
	}
	return dialer, acceptor
}

// sealMessages seals ms in order with d and returns the bytes.
func sealMessages(t testing.TB, d *sealDirection, ms ...message) []byte {
	t.Helper()
	fc := newFrameCodec(DefaultMaxFrameSize)
	var out []byte
	for _, m := range ms {
		frame, err := fc.marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		if out, err = d.seal(out, frame); err != nil {
			t.Fatal(err)
		}
	}
	return out
}

// openAll opens every sealed frame in data with d, in order.
func openAll(data []byte, d *sealDirection) ([]message, error) {
	fc := newFrameCodec(DefaultMaxFrameSize)
	r := bytes.NewReader(data)
	var ms []message
	for r.Len() > 0 {
		t, body, err := fc.readSealedFrame(r, d, "peer", nil)
		if err != nil {
			return ms, err
		}
		m, err := decodeBody(t, body)
		if err != nil {
			return ms, err
		}
		ms = append(ms, m)
	}
	return ms, nil
}

func TestSealedFramesOpenInOrderBothWays(t *testing.T) {
	t.Parallel()
	dialer, acceptor := sealPair(t, testEnds())
	app := &appMessage{Kind: "test.v1", Payload: []byte("hello")}
	for _, dir := range []struct {
		name     string
		from, to *sealDirection
	}{{"dialer to acceptor", &dialer.out, &acceptor.in}, {"acceptor to dialer", &acceptor.out, &dialer.in}} {
		sealed := sealMessages(t, dir.from, &ping{}, app, &ping{Seq: 7})
		if bytes.Contains(sealed, app.Payload) || bytes.Contains(sealed, []byte(app.Kind)) {
			t.Errorf("%s: the sealed bytes show the message", dir.name)
		}
		ms, err := openAll(sealed, dir.to)
		if err != nil || len(ms) != 3 || ms[1].(*appMessage).Kind != app.Kind || ms[2].(*ping).Seq != 7 {
			t.Errorf("%s: opened %v, %v", dir.name, ms, err)
		}
	}
}

// A frame opens only with the key of its link and direction: not
// reflected back to its sender, not on a link of another handshake, and
// not with keys derived for another version or from another cookie.
func TestSealedFrameOpensOnlyWithItsKey(t *testing.T) {
	t.Parallel()
	ends := testEnds()
	dialer, _ := sealPair(t, ends)
	sealed := sealMessages(t, &dialer.out, &ping{})
	other := func(change func(*sealEnds)) sealEnds {
		e := ends
		change(&e)
		return e
	}
	wrong := map[string]func() (*linkSeal, error){
		"reflected to its sender": func() (*linkSeal, error) { return deriveLinkSeal(testKey(), ProtocolVersion, ends, true) },
		"another dialer nonce": func() (*linkSeal, error) {
			return deriveLinkSeal(testKey(), ProtocolVersion, other(func(e *sealEnds) { e.dialerNonce = bytes.Repeat([]byte{3}, nonceSize) }), false)
		},
		"another acceptor nonce": func() (*linkSeal, error) {
			return deriveLinkSeal(testKey(), ProtocolVersion, other(func(e *sealEnds) { e.acceptorNonce = bytes.Repeat([]byte{3}, nonceSize) }), false)
		},
		"another node ID": func() (*linkSeal, error) {
			return deriveLinkSeal(testKey(), ProtocolVersion, other(func(e *sealEnds) { e.dialer.NodeID = "id-x" }), false)
		},
		"another version": func() (*linkSeal, error) { return deriveLinkSeal(testKey(), ProtocolVersion+1, ends, false) },
		"another cookie": func() (*linkSeal, error) {
			return deriveLinkSeal(keyFor([]byte("another cookie")), ProtocolVersion, ends, false)
		},
	}
	for name, derive := range wrong {
		s, err := derive()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := openAll(sealed, &s.in); !errors.Is(err, ErrLinkTampered) {
			t.Errorf("%s: %v, want ErrLinkTampered", name, err)
		}
	}
}

// A sealed length out of bounds is refused before any of the body is
// read or allocated.
func TestSealedFrameLengthBounds(t *testing.T) {
	t.Parallel()
	_, acceptor := sealPair(t, testEnds())
	fc := newFrameCodec(4096)
	for _, size := range []uint32{0, sealOverhead, 4096 + sealOverhead + 1, math.MaxUint32} {
		prefix := binary.BigEndian.AppendUint32(nil, size)
		_, _, err := fc.readSealedFrame(bytes.NewReader(prefix), &acceptor.in, "peer", nil)
		if !errors.Is(err, ErrLinkTampered) {
			t.Errorf("length %d: %v, want ErrLinkTampered", size, err)
		}
	}
	prefix := binary.BigEndian.AppendUint32(nil, 4096+sealOverhead)
	if _, _, err := fc.readSealedFrame(bytes.NewReader(prefix), &acceptor.in, "peer", nil); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("largest length: %v, want the body to be read", err)
	}
}

// A direction whose counter is spent refuses to seal or open rather than
// reuse a nonce.
func TestSealCounterIsNeverReused(t *testing.T) {
	t.Parallel()
	dialer, acceptor := sealPair(t, testEnds())
	dialer.out.next = math.MaxUint64 - 1
	acceptor.in.next = math.MaxUint64 - 1
	sealed := sealMessages(t, &dialer.out, &ping{})
	if ms, err := openAll(sealed, &acceptor.in); err != nil || len(ms) != 1 {
		t.Fatalf("last frame: %v %v", ms, err)
	}
	frame, _ := newFrameCodec(DefaultMaxFrameSize).marshal(&ping{})
	if _, err := dialer.out.seal(nil, frame); !errors.Is(err, errCounterSpent) {
		t.Errorf("seal past the counter: %v", err)
	}
	if _, err := openAll(sealed, &acceptor.in); !errors.Is(err, errCounterSpent) {
		t.Errorf("open past the counter: %v", err)
	}
}

// TLS links are sealed too (see docs/cluster.md, Sealed links).
func TestTLSLinksAreSealed(t *testing.T) {
	t.Parallel()
	testkit.CheckGoroutines(t)
	ca := newTestCA(t, "cluster CA")
	var nodes []*testNode
	for _, alias := range []string{"a", "b"} {
		cfg := testConfig(alias)
		cfg.TLS = tlsFiles(t, ca, ca, alias)
		nodes = append(nodes, startNode(t, cfg))
	}
	joinTo(t, nodes[1], nodes[0])
	waitFullMesh(t, nodes, testSlack)
	for i, n := range nodes {
		if l := linkTo(n.Node, nodes[1-i].Alias()); l == nil || l.seal == nil {
			t.Errorf("%s: the TLS link is not sealed", n.Alias())
		}
	}
}

func FuzzReadSealedFrame(f *testing.F) {
	dialer, _ := sealPair(f, testEnds())
	good := sealMessages(f, &dialer.out, &appMessage{Kind: "k", Payload: []byte("p")}, &ping{})
	f.Add(good)
	f.Add(good[:10])
	f.Add(flipBit(good, 20))
	f.Add([]byte{0, 0, 0, 17})
	f.Fuzz(func(t *testing.T, data []byte) {
		_, acceptor := sealPair(t, testEnds())
		fc := newFrameCodec(4096)
		r := bytes.NewReader(data)
		for {
			typ, _, err := fc.readSealedFrame(r, &acceptor.in, "peer", nil)
			if err != nil {
				return
			}
			if _, ok := newMessage(typ); !ok {
				t.Fatalf("opened a frame of unknown type %d", typ)
			}
		}
	})
}

// BenchmarkLinkThroughput sends application messages from one node to
// another over loopback TCP, and over TLS, on sealed and on plain links:
// what sealing costs a real link, reader, writer and handler included.
func BenchmarkLinkThroughput(b *testing.B) {
	for _, size := range []int{100, 64 << 10} {
		for _, withTLS := range []bool{false, true} {
			for _, plain := range []bool{false, true} {
				transport, sealing := "tcp", "sealed"
				if withTLS {
					transport = "tls"
				}
				if plain {
					sealing = "plain"
				}
				b.Run(fmt.Sprintf("payload=%d/%s/%s", size, transport, sealing), func(b *testing.B) {
					benchLinkThroughput(b, size, withTLS, plain)
				})
			}
		}
	}
}

func benchLinkThroughput(b *testing.B, size int, withTLS, plain bool) {
	var got atomic.Int64
	prepare := func(n *Node) {
		n.plainLinks = plain
		n.Handle("bench.v1", func(string, []byte) { got.Add(1) })
	}
	var ca *testCA
	if withTLS {
		ca = newTestCA(b, "cluster CA")
	}
	cfg := func(alias string) Config {
		c := testConfig(alias)
		c.SuspicionMult, c.WriteTimeout = 600, time.Minute
		if withTLS {
			c.TLS = tlsFiles(b, ca, ca, alias)
		}
		return c
	}
	src := startNodeWith(b, cfg("src"), prepare)
	dst := startNodeWith(b, cfg("dst"), prepare)
	joinTo(b, dst, src)
	waitMesh(b, []*Node{src.Node, dst.Node})
	payload := make([]byte, size)
	ctx := context.Background()
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if err := src.Send(ctx, "dst", "bench.v1", payload); err != nil {
			b.Fatal(err)
		}
	}
	// Timed until the last message is handled, not just queued.
	testkit.Eventually(b, time.Minute, "every message handled", func() bool { return got.Load() == int64(b.N) })
	b.StopTimer()
}

// BenchmarkSealOpen seals a frame and opens it again, in memory: the
// processor time sealing adds to a frame on both ends of a link.
func BenchmarkSealOpen(b *testing.B) {
	for _, size := range []int{100, 64 << 10} {
		b.Run(fmt.Sprintf("payload=%d", size), func(b *testing.B) {
			dialer, acceptor := sealPair(b, testEnds())
			frame, err := newFrameCodec(DefaultMaxFrameSize).marshal(&appMessage{Kind: "bench.v1", Payload: make([]byte, size)})
			if err != nil {
				b.Fatal(err)
			}
			fc := newFrameCodec(DefaultMaxFrameSize)
			var buf []byte
			r := bytes.NewReader(nil)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if buf, err = dialer.out.seal(buf[:0], frame); err != nil {
					b.Fatal(err)
				}
				r.Reset(buf)
				if _, _, err := fc.readSealedFrame(r, &acceptor.in, "peer", nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
