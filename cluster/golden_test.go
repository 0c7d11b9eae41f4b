package cluster

import (
	"bytes"
	"encoding/hex"
	"flag"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// goldenMessages are the messages whose bytes testdata/golden pins, as
// github.com/ugorji/go/codec (MsgpackHandle{WriteExt: true}, see
// internal/wire) writes them: the samples, and edge cases of each
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

// updateGolden rewrites testdata/golden from the encoder; run it only
// for a change of the wire format, which needs a new ProtocolVersion.
var updateGolden = flag.Bool("update", false, "rewrite testdata/golden from the encoder")

// TestWireBytesGolden checks that every message encodes to the bytes
// pinned in testdata/golden and that those bytes decode to the message.
func TestWireBytesGolden(t *testing.T) {
	t.Parallel()
	for name, m := range goldenMessages() {
		path := filepath.Join("testdata", "golden", name+".hex")
		got, err := encodeBody(m, 0)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if *updateGolden {
			if err := os.WriteFile(path, []byte(hex.EncodeToString(got)+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := hex.DecodeString(strings.TrimSpace(string(text)))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s: encodes to\n%x\nwant\n%x", name, got, want)
		}
		back, _ := newMessage(m.kind())
		if err := bodyCodec.Decode(want, back); err != nil || !reflect.DeepEqual(back, m) {
			t.Errorf("%s: decodes to %#v (%v), want %#v", name, back, err, m)
		}
	}
}
