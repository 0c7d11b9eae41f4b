package cluster

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
)

// Sealed links. Once the handshake is over (the acceptor's HelloAck or
// JoinAck is the last frame in clear), every frame of a link travels
// sealed with AES-256-GCM, so that a relay between two members can neither
// read the frames nor forge, alter, replay, reorder or drop one unseen:
//
//	length (4 bytes, big-endian, in clear) | seal(type byte + body) + tag (16 bytes)
//
// The length counts the sealed part, so it is the frame's length plus
// sealOverhead, bounded as a frame's is; it is the associated data of the
// seal, so it cannot be changed either. Each direction of a link has its
// own key (see deriveLinkSeal) and its own frame counter, the nonce: the
// first frame a side sends is number 0, the next 1, and so on. The nonce
// is never sent: a receiver opens frame n with nonce n, so a replayed,
// reordered, dropped or injected frame fails to open, and the receiver
// closes the link (ErrLinkTampered). A counter is never reused: the link
// closes before it would wrap (errCounterSpent).

// sealOverhead is what sealing adds to a frame: the GCM tag.
const sealOverhead = 16

// sealLabel separates the link keys from every other use of the cookie
// key (the handshake proofs are keyed by it directly).
const sealLabel = "iridium cluster link seal"

// Direction labels: the two directions of a link have different keys.
const (
	sealDialerToAcceptor = "dialer to acceptor"
	sealAcceptorToDialer = "acceptor to dialer"
)

// linkSeal holds the two directions of a sealed link.
type linkSeal struct {
	out sealDirection // frames this node sends
	in  sealDirection // frames the peer sends
	// buf is the writer's scratch space for sealed frames, kept between
	// writes unless a frame made it grow past maxKeptSealBuffer. Under
	// the link's writeMu.
	buf []byte
}

// sealedWriteSize is how many sealed bytes a writer gathers before it
// writes them: a batch of small frames goes in one write, and a batch of
// large ones needs no buffer of its size.
const sealedWriteSize = 128 << 10

// maxKeptSealBuffer bounds the scratch buffer a link keeps between
// writes: a write of sealedWriteSize plus one frame of 64 KiB.
const maxKeptSealBuffer = sealedWriteSize + 64<<10 + frameHeaderSize + sealOverhead

// sealDirection is one direction's key and frame counter. Only one
// goroutine uses it at a time: the link's writer (under writeMu) or its
// reader.
type sealDirection struct {
	aead cipher.AEAD
	next uint64 // number of the next frame, its nonce
	// nonce and prefix are scratch space for the frame at hand, kept here
	// so that sealing and opening allocate nothing.
	nonce  [gcmNonceSize]byte
	prefix [4]byte
}

// sealEnds names the two ends of a handshake for deriveLinkSeal.
type sealEnds struct {
	dialerNonce, acceptorNonce []byte
	dialer, acceptor           memberInfo
}

// deriveLinkSeal derives the keys of a link from the cookie key and the
// handshake that made it: HKDF-SHA256 with both nonces as the salt and, as
// the info, the label, the protocol version, both ends' node IDs and
// aliases, and the direction. Fresh nonces on both sides make every link's
// keys new, so counters may start at zero.
func deriveLinkSeal(cookieKey []byte, version uint32, ends sealEnds, asDialer bool) (*linkSeal, error) {
	salt := appendParts(nil, ends.dialerNonce, ends.acceptorNonce)
	key := func(direction string) (cipher.AEAD, error) {
		info := appendParts(nil, []byte(sealLabel), binary.BigEndian.AppendUint32(nil, version),
			[]byte(ends.dialer.NodeID), []byte(ends.acceptor.NodeID),
			[]byte(ends.dialer.Alias), []byte(ends.acceptor.Alias), []byte(direction))
		k, err := hkdf.Key(sha256.New, cookieKey, salt, string(info), 32)
		if err != nil {
			return nil, fmt.Errorf("derive link key: %w", err)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("link cipher: %w", err)
		}
		return cipher.NewGCM(block)
	}
	toAcceptor, err := key(sealDialerToAcceptor)
	if err != nil {
		return nil, err
	}
	toDialer, err := key(sealAcceptorToDialer)
	if err != nil {
		return nil, err
	}
	if asDialer {
		return &linkSeal{out: sealDirection{aead: toAcceptor}, in: sealDirection{aead: toDialer}}, nil
	}
	return &linkSeal{out: sealDirection{aead: toDialer}, in: sealDirection{aead: toAcceptor}}, nil
}

// appendParts appends each part with its 4-byte length, so that no two
// different lists of parts give the same bytes.
func appendParts(dst []byte, parts ...[]byte) []byte {
	for _, p := range parts {
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(p)))
		dst = append(dst, p...)
	}
	return dst
}

// errCounterSpent: a direction of a link has sealed or opened 2^64-1
// frames; the link is closed rather than reuse a nonce.
var errCounterSpent = errors.New("the link's frame counter is spent")

// nextNonce sets d.nonce to the nonce of the next frame, 4 zero bytes
// and the frame's number, counts the frame and returns its number.
func (d *sealDirection) nextNonce() (uint64, error) {
	if d.next == math.MaxUint64 {
		return 0, errCounterSpent
	}
	number := d.next
	d.next++
	binary.BigEndian.PutUint64(d.nonce[gcmNonceSize-8:], number)
	return number, nil
}

// gcmNonceSize is the nonce size of cipher.NewGCM.
const gcmNonceSize = 12

// seal appends frame (a whole frame as frameCodec.marshal makes it)
// sealed to dst.
func (d *sealDirection) seal(dst, frame []byte) ([]byte, error) {
	if _, err := d.nextNonce(); err != nil {
		return nil, err
	}
	plain := frame[4:] // type byte and body
	binary.BigEndian.PutUint32(d.prefix[:], uint32(len(plain)+sealOverhead))
	dst = append(dst, d.prefix[:]...)
	return d.aead.Seal(dst, d.nonce[:], plain, d.prefix[:]), nil
}

// readSealedFrame reads and opens one sealed frame of an established link
// from r, taking bytes from the partial-frame budget as readLinkFrame
// does. from names the sending member in errors.
func (fc frameCodec) readSealedFrame(r io.Reader, d *sealDirection, from string, done <-chan struct{}) (msgType, []byte, error) {
	if _, err := io.ReadFull(r, d.prefix[:]); err != nil {
		return 0, nil, err
	}
	size := binary.BigEndian.Uint32(d.prefix[:])
	switch {
	case size < 1+sealOverhead:
		return 0, nil, fmt.Errorf("%w: sealed frame of %d bytes from %q is shorter than a type byte and its tag", ErrLinkTampered, size, from)
	case uint64(size) > uint64(fc.maxFrameSize)+sealOverhead:
		return 0, nil, fmt.Errorf("%w: sealed frame of %d bytes from %q exceeds the %d-byte limit", ErrLinkTampered, size, from, fc.maxFrameSize+sealOverhead)
	}
	sealed, err := readBody(r, int(size), fc.partial, done)
	if err != nil {
		return 0, nil, err
	}
	number, err := d.nextNonce()
	if err != nil {
		return 0, nil, err
	}
	plain, err := d.aead.Open(sealed[:0], d.nonce[:], sealed, d.prefix[:])
	if err != nil {
		return 0, nil, fmt.Errorf("%w: frame %d from %q does not open with the link's key: forged, altered, replayed or reordered on the way", ErrLinkTampered, number, from)
	}
	t := msgType(plain[0])
	if _, ok := newMessage(t); !ok {
		return 0, nil, fmt.Errorf("%w: %s in a sealed frame from %q", errProtocol, t, from)
	}
	return t, plain[1:], nil
}

// linkSealFor derives the seal of a link whose handshake had ends, or
// returns nil when this node's links are not sealed (plainLinks).
func (n *Node) linkSealFor(ends sealEnds, asDialer bool) (*linkSeal, error) {
	if n.plainLinks {
		return nil, nil
	}
	return deriveLinkSeal(n.cfg.CookieKey, n.version, ends, asDialer)
}

// newSealedLink makes the link of conn as newLink does, sealed by seal
// unless it is nil.
func newSealedLink(conn net.Conn, peer memberInfo, dialedBy string, seal *linkSeal) *link {
	l := newLink(conn, peer, dialedBy)
	l.seal = seal
	return l
}

// readLinkFrame reads the next frame of l from r: sealed, or as it is on
// a link that is not.
func (n *Node) readLinkFrame(l *link, r io.Reader) (msgType, []byte, error) {
	if l.seal == nil {
		return n.frames.readLinkFrame(r, l.done)
	}
	return n.frames.readSealedFrame(r, &l.seal.in, l.peer.Alias, l.done)
}

// writeSealedLocked seals frames in order and writes them, in writes of
// about sealedWriteSize bytes, each bounded by Config.WriteTimeout; the
// caller holds l.writeMu.
func (n *Node) writeSealedLocked(l *link, frames [][]byte) error {
	buf := l.seal.buf[:0]
	defer func() {
		if cap(buf) <= maxKeptSealBuffer {
			l.seal.buf = buf[:0]
		}
	}()
	for i, f := range frames {
		var err error
		if buf, err = l.seal.out.seal(buf, f); err != nil {
			return err
		}
		if len(buf) < sealedWriteSize && i < len(frames)-1 {
			continue
		}
		if err := n.writeLinkLocked(l, buf); err != nil {
			return err
		}
		buf = buf[:0]
	}
	return nil
}

// sendInClear writes m on l unsealed: the acceptor's HelloAck or JoinAck,
// the last frame of the handshake, which the dialer reads before it
// starts its link. Nothing follows it in the same write.
func (n *Node) sendInClear(l *link, m message) error {
	if l.seal == nil {
		return n.send(l, m)
	}
	frame, err := n.frames.marshal(m)
	if err != nil {
		return err
	}
	l.writeMu.Lock()
	defer l.writeMu.Unlock()
	return n.writeBounded(l.conn, func() error {
		_, err := l.conn.Write(frame)
		return err
	})
}
