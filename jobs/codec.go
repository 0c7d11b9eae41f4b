package jobs

import (
	"fmt"

	"github.com/iridium-vm/iridium/internal/termtext"
	"github.com/iridium-vm/iridium/internal/wire"
)

// The msgpack form of each message is a map of its fields under the
// names of their `codec` tags (wire.go), written by
// github.com/ugorji/go/codec with the settings of internal/wire.
// jobs/testdata/golden pins the bytes.

// maxDepth bounds nesting in a payload; our messages nest three levels.
const maxDepth = 8

// payloadCodec encodes and decodes payloads. Like a compiled regular
// expression it is built once and never changed; its pools of encoders
// and decoders are caches.
var payloadCodec = wire.New(maxDepth)

// encode encodes m in msgpack. The codec fails only on a type it cannot
// encode, which no wireMsg is (TestWireBytesGolden encodes each): a
// failure is a bug in this package, not a bad input, and panics.
func encode(m wireMsg) []byte {
	b, err := payloadCodec.Encode(m, 0)
	if err != nil {
		panic(fmt.Sprintf("jobs: %v", err))
	}
	return b
}

// decode decodes and validates a payload of a kind.
func decode(kind string, payload []byte) (wireMsg, error) {
	m, ok := newWireMsg(kind)
	if !ok {
		return nil, fmt.Errorf("unknown message kind \"%s\"", termtext.Cut(kind, 64))
	}
	if err := payloadCodec.Decode(payload, m); err != nil {
		return nil, fmt.Errorf("decode %s: %w", kind, err)
	}
	if err := m.validate(); err != nil {
		return nil, fmt.Errorf("invalid %s: %w", kind, err)
	}
	return m, nil
}
