package jobs

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

// goldenMessage is a message of a kind whose bytes testdata/golden pins.
type goldenMessage struct {
	kind string
	m    wireMsg
}

// goldenMessages are the messages whose bytes testdata/golden pins, as
// github.com/ugorji/go/codec (MsgpackHandle{WriteExt: true}, see
// internal/wire) writes them: the samples, and edge cases of each
// integer, float, bool and length form.
func goldenMessages(t testing.TB) map[string]goldenMessage {
	g := map[string]goldenMessage{}
	for kind, m := range sampleMessages(t) {
		g[strings.ReplaceAll(kind, ".", "-")] = goldenMessage{kind, m}
	}
	g["spawn-nil"] = goldenMessage{KindSpawn, &spawnMsg{}}
	g["spawn-empty"] = goldenMessage{KindSpawn, &spawnMsg{Req: math.MaxUint64, File: strings.Repeat("f", 32), Code: []byte{}}}
	g["reply-neg"] = goldenMessage{KindReply, &replyMsg{Req: 128, ID: -129, Err: strings.Repeat("e", 256)}}
	g["output-big"] = goldenMessage{KindOutput, &outputMsg{ID: math.MaxInt32 + 1, Text: bytes.Repeat([]byte("x"), 256), Dropped: 65536}}
	regs := []regMsg{}
	for i, v := range []int32{-1, -32, -33, 127, 128, 32767, 32768, math.MinInt32} {
		regs = append(regs, regMsg{Index: uint8(128 + i), Float: i%2 == 0, Int: v, F64: []float64{-0.5, 1e300, math.Inf(-1), 0}[i%4]})
	}
	g["end-regs"] = goldenMessage{KindEnd, &endMsg{ID: 1, State: "done", RunNS: math.MinInt64, Regs: regs}}
	g["end-emptyregs"] = goldenMessage{KindEnd, &endMsg{Regs: []regMsg{}}}
	g["table-nil"] = goldenMessage{KindTable, &tableMsg{Req: 1}}
	jobs := make([]jobInfoMsg, 17)
	for i := range jobs {
		jobs[i] = jobInfoMsg{ID: i - 8, Member: i%2 == 1, RunNS: math.MaxInt64 >> i}
	}
	g["table-17"] = goldenMessage{KindTable, &tableMsg{Req: 2, Jobs: jobs}}
	return g
}

// updateGolden rewrites testdata/golden from the encoder; run it only
// for a change of the wire format, which needs new kind names.
var updateGolden = flag.Bool("update", false, "rewrite testdata/golden from the encoder")

// TestWireBytesGolden checks that every message encodes to the bytes
// pinned in testdata/golden and that those bytes decode to the message.
func TestWireBytesGolden(t *testing.T) {
	for name, g := range goldenMessages(t) {
		path := filepath.Join("testdata", "golden", name+".hex")
		got := encode(g.m)
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
		back, _ := newWireMsg(g.kind)
		if err := payloadCodec.Decode(want, back); err != nil || !reflect.DeepEqual(back, g.m) {
			t.Errorf("%s: decodes to %#v (%v), want %#v", name, back, err, g.m)
		}
	}
}
