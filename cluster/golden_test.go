package cluster

import (
	"bytes"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// goldenMessages are the messages whose bytes testdata/golden pins, as
// github.com/ugorji/go/codec (MsgpackHandle{WriteExt: true}) wrote them
// before internal/msgpack replaced it: the samples, and edge cases of each
// integer, length and omitempty form.
func goldenMessages() map[string]message {
	m := map[string]message{}
	for _, s := range sampleMessages() {
		m[s.kind().String()] = s
	}
	edge := memberInfo{Alias: strings.Repeat("a", 31), NodeID: strings.Repeat("n", 32), Incarnation: math.MaxUint64, Host: strings.Repeat("h", 256), Port: 65535}
	m["Hello-edge"] = &hello{Version: math.MaxUint32, Sender: edge, Nonce: []byte{}, Digest: []byte{}}
	m["Hello-nil"] = &hello{}
	m["HelloAck-empty"] = &helloAck{Self: memberInfo{Port: -1}, Members: []memberInfo{}, Proof: bytes.Repeat([]byte{1}, 256)}
	m["JoinAck-nil"] = &joinAck{Self: memberInfo{Port: -33, Incarnation: 128}}
	m["JoinAck-empty"] = &joinAck{Members: []memberInfo{}}
	many := make([]memberInfo, 16)
	for i := range many {
		many[i] = memberInfo{Port: []int{127, 128, 32767, 32768, math.MaxInt32 + 1, -128, -129, -32769}[i%8]}
	}
	m["HelloAck-16"] = &helloAck{Members: many}
	m["Ping-big"] = &ping{Seq: math.MaxUint32 + 1}
	m["Ping-16"] = &ping{Seq: 65535}
	m["App-long"] = &appMessage{Kind: strings.Repeat("k", 64), Payload: bytes.Repeat([]byte{2}, 300)}
	return m
}

// TestWireBytesGolden checks that every message encodes to the bytes
// pinned in testdata/golden and that those bytes decode to the message.
func TestWireBytesGolden(t *testing.T) {
	t.Parallel()
	for name, m := range goldenMessages() {
		path := filepath.Join("testdata", "golden", name+".hex")
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := hex.DecodeString(strings.TrimSpace(string(text)))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if got := encodeBody(m); !bytes.Equal(got, want) {
			t.Errorf("%s: encodes to\n%x\nwant\n%x", name, got, want)
		}
		back, _ := newMessage(m.kind())
		d := msgpackDecoder(want)
		if err := back.decode(d); err != nil || d.Offset() != len(want) || !reflect.DeepEqual(back, m) {
			t.Errorf("%s: decodes to %#v (%v, %d of %d bytes), want %#v", name, back, err, d.Offset(), len(want), m)
		}
	}
}
