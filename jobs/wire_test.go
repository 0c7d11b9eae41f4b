package jobs

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// sampleMessages returns one valid message of each kind.
func sampleMessages(t testing.TB) map[string]wireMsg {
	p, err := program(t, helloSrc).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	return map[string]wireMsg{
		KindSpawn:  &spawnMsg{Req: 1, File: "hello.iasm", Code: p},
		KindReply:  &replyMsg{Req: 1, ID: 3},
		KindOutput: &outputMsg{ID: 3, Text: []byte("Hello, world!\n"), Dropped: 1204},
		KindEnd:    &endMsg{ID: 3, State: "fault", Err: "pc 4: division by zero", RunNS: 1500, Regs: []regMsg{{Index: 5, Int: 42}, {Index: 1, Float: true, F64: 2.5}}},
		KindKill:   &killMsg{Req: 2, ID: 3},
		KindList:   &listMsg{Req: 3},
		KindTable:  &tableMsg{Req: 3, Jobs: []jobInfoMsg{{ID: 3, Owner: "n1", Member: true, File: "hello.iasm", State: "running", RunNS: 10}}},
	}
}

// TestDecodeValidates checks that decode takes valid messages and refuses
// each kind of bad field with an error that names it.
func TestDecodeValidates(t *testing.T) {
	for kind, m := range sampleMessages(t) {
		payload := encode(m)
		got, err := decode(kind, payload)
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("%s: decode gave %#v, %v; want %#v", kind, got, err, m)
		}
	}
	tests := []struct {
		kind   string
		m      wireMsg
		errHas string
	}{
		{KindSpawn, &spawnMsg{Req: 1, File: "x", Code: []byte("nope")}, "not Iridium bytecode"},
		{KindSpawn, &spawnMsg{Req: 0, File: "x"}, "request number 0"},
		{KindSpawn, &spawnMsg{Req: 1, File: strings.Repeat("f", maxFileName+1), Code: []byte("EPIE")}, "file name has 257 bytes"},
		{KindReply, &replyMsg{Req: 1, ID: 2, Err: "both"}, "both a job and an error"},
		{KindReply, &replyMsg{Req: 1, ID: -1}, "job id -1"},
		{KindOutput, &outputMsg{ID: 1, Text: []byte("no newline")}, "does not end a line"},
		{KindOutput, &outputMsg{ID: 0}, "job id 0"},
		{KindEnd, &endMsg{ID: 1, State: "exploded"}, `unknown end state "exploded"`},
		{KindEnd, &endMsg{ID: 1, State: "done", RunNS: -1}, "negative run time"},
		{KindEnd, &endMsg{ID: 1, State: "done", Regs: []regMsg{{Index: 32}}}, "register 32"},
		{KindEnd, &endMsg{ID: 1, State: "done", Regs: make([]regMsg, 65)}, "65 registers"},
		{KindKill, &killMsg{Req: 1}, "job id 0"},
		{KindTable, &tableMsg{Req: 1, Jobs: make([]jobInfoMsg, maxTableJobs+1)}, "201 jobs"},
		{KindEnd, &endMsg{ID: 1, State: "done", RunNS: maxRunNS + 1}, "over ten years"},
		{KindEnd, &endMsg{ID: 1, State: "done", Dropped: maxDropped + 1}, "lines dropped, more than"},
		{KindOutput, &outputMsg{ID: 1, Dropped: math.MaxUint64}, "18446744073709551615 lines dropped"},
	}
	for _, tt := range tests {
		payload := encode(tt.m)
		if _, err := decode(tt.kind, payload); err == nil || !strings.Contains(err.Error(), tt.errHas) {
			t.Errorf("%s %#v: %v; want an error with %q", tt.kind, tt.m, err, tt.errHas)
		}
	}
	if _, err := decode(KindList, []byte{0x81, 0xa3, 'r', 'e', 'q', 0x01, 0xc0}); err == nil || !strings.Contains(err.Error(), "1 stray bytes") {
		t.Errorf("trailing bytes: %v", err)
	}
	if _, err := decode("spawn.v9", nil); err == nil || !strings.Contains(err.Error(), `unknown message kind "spawn.v9"`) {
		t.Errorf("unknown kind: %v", err)
	}
}

// TestDropBadRows checks that a job table's bad rows are dropped one by
// one, each for what is wrong with it, and the good ones kept in order.
func TestDropBadRows(t *testing.T) {
	good := jobInfoMsg{ID: 3, Owner: "n1", File: "p", State: "running", RunNS: 10}
	tests := []struct {
		bad    jobInfoMsg
		errHas string
	}{
		{jobInfoMsg{ID: 0}, "job id 0"},
		{jobInfoMsg{ID: 4, RunNS: -1}, "job 4: negative run time"},
		{jobInfoMsg{ID: 4, RunNS: maxRunNS + 1}, "job 4: run time 87600h0m0.000000001s is over ten years"},
		{jobInfoMsg{ID: 4, Owner: strings.Repeat("o", 200)}, "job 4: owner has 200 bytes"},
		{jobInfoMsg{ID: 4, File: strings.Repeat("f", maxFileName+1)}, "file name has 257 bytes"},
		{jobInfoMsg{ID: 4, State: strings.Repeat("s", 17)}, "state has 17 bytes"},
	}
	for _, tt := range tests {
		m := &tableMsg{Req: 1, Jobs: []jobInfoMsg{good, tt.bad, good, tt.bad}}
		if err := m.validate(); err != nil {
			t.Errorf("%+v: the table is refused (%v); want only the row dropped", tt.bad, err)
		}
		n, err := m.dropBadRows()
		if n != 2 || err == nil || !strings.Contains(err.Error(), tt.errHas) {
			t.Errorf("%+v: dropped %d rows, first because %v; want 2, with %q", tt.bad, n, err, tt.errHas)
		}
		if !reflect.DeepEqual(m.Jobs, []jobInfoMsg{good, good}) {
			t.Errorf("%+v: kept %+v, want the two good rows", tt.bad, m.Jobs)
		}
	}
}

// discardTransport is a member alone, whose messages go nowhere.
type discardTransport struct{}

func (discardTransport) Self() string                                       { return "me" }
func (discardTransport) Members() []string                                  { return []string{"evil", "peer"} }
func (discardTransport) Send(context.Context, string, string, []byte) error { return nil }
func (discardTransport) MaxMessageSize() int                                { return 1 << 20 }

// FuzzPayload decodes any bytes as any kind of message: no panic, and a
// message that decodes encodes to one that decodes the same. Whatever
// decodes is then handled by a service, as a hostile member would make it.
func FuzzPayload(f *testing.F) {
	kinds := Kinds()
	for i, kind := range kinds {
		payload := encode(sampleMessages(f)[kind])
		f.Add(uint8(i), payload)
	}
	f.Add(uint8(0), []byte{0xdf, 0xff, 0xff, 0xff, 0xff})
	f.Add(uint8(2), []byte{0x83, 0xa2, 'i', 'd', 0x01, 0xa4, 't', 'e', 'x', 't', 0xc6, 0xff, 0xff, 0xff, 0xff})
	svc := NewService(ServiceConfig{Table: NewTable(1), Transport: discardTransport{}})
	f.Fuzz(func(t *testing.T, k uint8, payload []byte) {
		kind := kinds[int(k)%len(kinds)]
		m, err := decode(kind, payload)
		if err != nil {
			return
		}
		again := encode(m)
		m2, err := decode(kind, again)
		// Compared by their bytes: a register may hold a NaN, which
		// reflect.DeepEqual never finds equal to itself.
		if err != nil || !reflect.DeepEqual(m, m2) && !bytes.Equal(encode(m2), again) {
			t.Fatalf("round trip of %#v: %#v, %v", m, m2, err)
		}
		svc.Receive("peer", kind, payload) // remote spawn is off: nothing runs
	})
}

// TestWriteSeedCorpus writes the seed corpora of FuzzPayload and of the
// cluster's FuzzDecodeFrame (application frames carrying each kind) when
// IRIDIUM_WRITE_CORPUS is set; run it after a message changes shape.
func TestWriteSeedCorpus(t *testing.T) {
	if os.Getenv("IRIDIUM_WRITE_CORPUS") == "" {
		t.Skip("set IRIDIUM_WRITE_CORPUS=1 to write the seed corpora")
	}
	for i, kind := range Kinds() {
		payload := encode(sampleMessages(t)[kind])
		name := strings.ReplaceAll(kind, ".", "-")
		writeCorpus(t, filepath.Join("testdata", "fuzz", "FuzzPayload", name),
			fmt.Sprintf("uint8(%d)\n[]byte(%s)\n", i, strconv.Quote(string(payload))))
		writeCorpus(t, filepath.Join("..", "cluster", "testdata", "fuzz", "FuzzDecodeFrame", "app-"+name),
			fmt.Sprintf("[]byte(%s)\n", strconv.Quote(string(appFrame(t, kind, payload)))))
	}
}

// appFrame is the cluster frame of an application message (type 11, a
// msgpack map of kind then payload), as docs/cluster.md describes it.
func appFrame(t *testing.T, kind string, payload []byte) []byte {
	body, err := payloadCodec.Encode(struct {
		Kind    string `codec:"kind"`
		Payload []byte `codec:"payload"`
	}{kind, payload}, 0)
	if err != nil {
		t.Fatal(err)
	}
	frame := binary.BigEndian.AppendUint32(nil, uint32(1+len(body)))
	return append(append(frame, 11), body...)
}

func writeCorpus(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("go test fuzz v1\n"+body), 0o644); err != nil {
		t.Fatal(err)
	}
}
