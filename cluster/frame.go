package cluster

import (
	"encoding/binary"
	"fmt"
	"io"
)

// frameHeaderSize is the 4-byte big-endian length plus the type byte. The
// length counts the type byte and the body, so it is at least 1.
const frameHeaderSize = 5

// frameCodec turns messages into frames and back. It is safe for
// concurrent use.
type frameCodec struct {
	maxFrameSize int // largest length field accepted or produced
}

func newFrameCodec(maxFrameSize int) frameCodec {
	return frameCodec{maxFrameSize: maxFrameSize}
}

// marshal encodes m as a complete frame.
func (fc frameCodec) marshal(m message) ([]byte, error) {
	body := encodeBody(m)
	size := 1 + len(body)
	if size > fc.maxFrameSize {
		return nil, fmt.Errorf("%s frame of %d bytes exceeds the %d-byte limit", m.kind(), size, fc.maxFrameSize)
	}
	frame := make([]byte, frameHeaderSize, frameHeaderSize+len(body))
	binary.BigEndian.PutUint32(frame, uint32(size))
	frame[4] = byte(m.kind())
	return append(frame, body...), nil
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

// readFrame reads the header and body of one frame.
func readFrame(r io.Reader, maxFrameSize int) (msgType, []byte, error) {
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
	body := make([]byte, size-1)
	if _, err := io.ReadFull(r, body); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return t, body, nil
}

// looksLikeTLS reports whether a frame header is the start of a TLS
// handshake record (content type 22, version 3.x), as a ClientHello sent
// to a node without TLS would be.
func looksLikeTLS(header []byte) bool {
	return len(header) >= 3 && header[0] == 0x16 && header[1] == 0x03 && header[2] <= 0x04
}
