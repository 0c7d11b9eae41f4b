package cluster

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// frameHeaderSize is the 4-byte big-endian length plus the type byte. The
// length counts the type byte and the body, so it is at least 1.
const frameHeaderSize = 5

// frameCodec turns messages into frames and back. It is safe for
// concurrent use; its copies share one partial-frame budget.
type frameCodec struct {
	maxFrameSize int // largest length field accepted or produced
	// partial bounds the bytes that the links' readers hold in frames
	// not yet whole (readLinkFrame).
	partial *byteBudget
}

// DefaultPartialFrameBytes bounds the bytes that all links' readers
// together hold in frames whose bodies have not fully arrived, beyond the
// first bodyChunk of each. A node with a MaxFrameSize above it gets a
// budget of one MaxFrameSize, so that any frame can complete.
const DefaultPartialFrameBytes = 16 << 20

// bodyChunk is the most of a frame's body that is allocated ahead of its
// bytes: a body grows, doubling from this size, as its bytes arrive, so a
// peer that announces a large frame and sends little of it costs little.
const bodyChunk = 64 << 10

func newFrameCodec(maxFrameSize int) frameCodec {
	return frameCodec{maxFrameSize: maxFrameSize, partial: newByteBudget(max(DefaultPartialFrameBytes, maxFrameSize))}
}

// marshal encodes m as a complete frame.
func (fc frameCodec) marshal(m message) ([]byte, error) {
	frame, err := encodeBody(m, frameHeaderSize)
	if err != nil {
		return nil, err
	}
	size := len(frame) - frameHeaderSize + 1
	if size > fc.maxFrameSize {
		return nil, fmt.Errorf("%s frame of %d bytes exceeds the %d-byte limit", m.kind(), size, fc.maxFrameSize)
	}
	binary.BigEndian.PutUint32(frame, uint32(size))
	frame[4] = byte(m.kind())
	return frame, nil
}

// read reads one frame from r and decodes its message. It returns io.EOF
// only when r ends cleanly before a frame starts. A frame over the size
// limit or of an unknown type is rejected before its body is read.
func (fc frameCodec) read(r io.Reader) (message, error) {
	t, body, err := readFrame(r, fc.maxFrameSize)
	if err != nil {
		return nil, err
	}
	return decodeBody(t, body)
}

// readLinkFrame reads one frame of an established link, as readFrame
// does, but takes the body's bytes past its first bodyChunk from the
// codec's partial-frame budget while the frame is incomplete. When the
// budget is spent it waits for other frames to complete (their peers'
// sends wait meanwhile in the socket buffers) or until done is closed.
func (fc frameCodec) readLinkFrame(r io.Reader, done <-chan struct{}) (msgType, []byte, error) {
	return readFrameWithin(r, fc.maxFrameSize, fc.partial, done)
}

// readFrame reads the header and body of one frame. A handshake reads
// frames of at most PreAuthMaxFrameSize bytes, or one ack bounded by its
// deadline: no budget is taken.
func readFrame(r io.Reader, maxFrameSize int) (msgType, []byte, error) {
	return readFrameWithin(r, maxFrameSize, nil, nil)
}

// readFrameWithin reads the header and body of one frame, taking bytes
// from budget, unless nil, as readLinkFrame says.
func readFrameWithin(r io.Reader, maxFrameSize int, budget *byteBudget, done <-chan struct{}) (msgType, []byte, error) {
	var header [frameHeaderSize]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return 0, nil, err
	}
	size := binary.BigEndian.Uint32(header[:4])
	t := msgType(header[4])
	switch {
	case size == 0:
		return 0, nil, fmt.Errorf("%w: frame length 0 (no room for the type byte)", errProtocol)
	case uint64(size) > uint64(maxFrameSize) && looksLikeTLS(header[:]):
		return 0, nil, fmt.Errorf("%w: the peer speaks TLS; this node has no --tls-cert", ErrTLSMismatch)
	case uint64(size) > uint64(maxFrameSize) && foreignProtocol(header[:]) != nil:
		return 0, nil, foreignProtocol(header[:])
	case uint64(size) > uint64(maxFrameSize):
		return 0, nil, fmt.Errorf("%w: frame of %d bytes exceeds the %d-byte limit", errProtocol, size, maxFrameSize)
	}
	if _, ok := newMessage(t); !ok {
		return 0, nil, fmt.Errorf("%w: %s", errProtocol, t)
	}
	body, err := readBody(r, int(size-1), budget, done)
	if err != nil {
		return 0, nil, err
	}
	return t, body, nil
}

// readBody reads a body of size bytes, growing it as its bytes arrive;
// see bodyChunk and readLinkFrame. A body that outgrows its first chunk
// takes the rest of its size from budget at once: a reader holds all it
// needs or nothing while it waits, so readers cannot wait on each other.
func readBody(r io.Reader, size int, budget *byteBudget, done <-chan struct{}) ([]byte, error) {
	body := make([]byte, 0, min(size, bodyChunk))
	held := 0 // bytes taken from budget
	defer func() { budget.release(held) }()
	for len(body) < size {
		if len(body) == cap(body) {
			if held == 0 {
				if err := budget.acquire(size-cap(body), done); err != nil {
					return nil, err
				}
				held = size - cap(body)
			}
			body = append(make([]byte, 0, min(size, 2*cap(body))), body...)
		}
		n, err := r.Read(body[len(body):cap(body)])
		body = body[:len(body)+n]
		if err != nil && len(body) < size {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	return body, nil
}

// errLinkEnded: the link closed while its reader waited for budget.
var errLinkEnded = errors.New("the link closed while its reader waited for memory for a frame")

// byteBudget is a count of bytes that readers take and give back. A nil
// budget is unlimited.
type byteBudget struct {
	mu    sync.Mutex
	free  int
	freed chan struct{} // closed, and replaced, when bytes are given back
}

func newByteBudget(size int) *byteBudget {
	return &byteBudget{free: size, freed: make(chan struct{})}
}

// acquire takes n bytes, waiting until they are free or done is closed.
func (b *byteBudget) acquire(n int, done <-chan struct{}) error {
	if b == nil {
		return nil
	}
	for {
		b.mu.Lock()
		if b.free >= n {
			b.free -= n
			b.mu.Unlock()
			return nil
		}
		freed := b.freed
		b.mu.Unlock()
		select {
		case <-freed:
		case <-done:
			return errLinkEnded
		}
	}
}

// release gives n bytes back.
func (b *byteBudget) release(n int) {
	if b == nil || n == 0 {
		return
	}
	b.mu.Lock()
	b.free += n
	close(b.freed)
	b.freed = make(chan struct{})
	b.mu.Unlock()
}

// looksLikeTLS reports whether a frame header is the start of a TLS
// handshake record (content type 22, version 3.x), as a ClientHello sent
// to a node without TLS would be.
func looksLikeTLS(header []byte) bool {
	return len(header) >= 3 && header[0] == 0x16 && header[1] == 0x03 && header[2] <= 0x04
}
