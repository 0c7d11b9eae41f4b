package jobs

import (
	"bytes"
	"encoding/hex"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/iridium-vm/iridium/internal/msgpack"
)

// goldenMessage is a message of a kind whose bytes testdata/golden pins.
type goldenMessage struct {
	kind string
	m    wireMsg
}

// goldenMessages are the messages whose bytes testdata/golden pins, as
// github.com/ugorji/go/codec (MsgpackHandle{WriteExt: true}) wrote them
// before internal/msgpack replaced it: the samples, and edge cases of each
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

// TestWireBytesGolden checks that every message encodes to the bytes
// pinned in testdata/golden and that those bytes decode to the message.
func TestWireBytesGolden(t *testing.T) {
	for name, g := range goldenMessages(t) {
		path := filepath.Join("testdata", "golden", name+".hex")
		text, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want, err := hex.DecodeString(strings.TrimSpace(string(text)))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if got := encode(g.m); !bytes.Equal(got, want) {
			t.Errorf("%s: encodes to\n%x\nwant\n%x", name, got, want)
		}
		back, _ := newWireMsg(g.kind)
		d := msgpack.NewDecoder(want, maxDepth)
		if err := back.decode(d); err != nil || d.Offset() != len(want) || !reflect.DeepEqual(back, g.m) {
			t.Errorf("%s: decodes to %#v (%v, %d of %d bytes), want %#v", name, back, err, d.Offset(), len(want), g.m)
		}
	}
}
