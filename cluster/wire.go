package cluster

import (
	"fmt"

	"github.com/iridium-vm/iridium/internal/wire"
)

// The msgpack form of each message is a map of its fields under the
// names of their `codec` tags (message.go), written by
// github.com/ugorji/go/codec with the settings of internal/wire; an
// omitempty field is left out when it is nil (an empty but non-nil slice
// is written). cluster/testdata/golden pins the bytes.

// maxDepth bounds nesting in a body; our messages nest three levels.
const maxDepth = 16

// bodyCodec encodes and decodes message bodies. Like a compiled regular
// expression it is built once and never changed; its pools of encoders
// and decoders are caches.
var bodyCodec = wire.New(maxDepth)

// encodeBody returns the msgpack body of m after room free bytes.
func encodeBody(m message, room int) ([]byte, error) {
	b, err := bodyCodec.Encode(m, room)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.kind(), err)
	}
	return b, nil
}

// decodeBody decodes and validates a message of type t. Every failure
// wraps errProtocol.
func decodeBody(t msgType, body []byte) (message, error) {
	m, ok := newMessage(t)
	if !ok {
		return nil, fmt.Errorf("%w: %s", errProtocol, t)
	}
	if err := bodyCodec.Decode(body, m); err != nil {
		return nil, fmt.Errorf("%w: decode %s: %w", errProtocol, t, err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("%w: invalid %s: %w", errProtocol, t, err)
	}
	return m, nil
}
