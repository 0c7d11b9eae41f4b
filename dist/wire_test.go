package dist

import (
	"bytes"
	"testing"

	"github.com/iridium-vm/iridium/proc"
	"github.com/iridium-vm/iridium/vm"
)

// sampleFrame packs one record of each kind for the peer b, with PIDs of
// this node, of b and of a third node c.
func sampleFrame(t testing.TB) (*builder, []record) {
	nodes := proc.NewNodes()
	b := proc.NodeRef{Alias: "b", Incarnation: 20}
	c := proc.NodeRef{Alias: "c", Incarnation: 30}
	sb, _ := nodes.Slot(b)
	sc, _ := nodes.Slot(c)
	recs := []record{
		{op: opMsg, to: proc.MakePID(sb, 7), from: proc.MakePID(0, 3), msg: vm.Message{Kind: vm.MsgInt, Value: -5, From: int32(proc.MakePID(0, 3))}},
		{op: opMsg, to: proc.MakePID(sb, 7), from: proc.MakePID(0, 3), msg: vm.Message{Kind: vm.MsgPID, Value: int32(proc.MakePID(sc, 9))}},
		{op: opMsg, to: proc.MakePID(sb, 8), from: proc.MakePID(0, 4), msg: vm.Message{Kind: vm.MsgPID, Value: int32(proc.MakePID(sb, 2))}},
		{op: opMsg, to: proc.MakePID(sb, 8), from: 0, msg: vm.Message{Kind: vm.MsgBytes, Value: 3, Bytes: []byte("abc")}},
		{op: opMsg, to: proc.MakePID(sb, 8), from: proc.MakePID(0, 4), msg: vm.Message{Kind: vm.MsgDown, Value: int32(proc.Killed)}},
		{op: opMonitor, to: proc.MakePID(sb, 7), from: proc.MakePID(0, 5)},
		{op: opKill, to: proc.MakePID(sb, 7), from: proc.MakePID(0, 5)},
	}
	bld := &builder{peer: b, nodes: nodes}
	bld.reset(10)
	for i := range recs {
		bld.add(&recs[i])
	}
	return bld, recs
}

// Records packed for a peer decode to the same messages, with every PID
// named by the node it belongs to.
func TestRecordsRoundTrip(t *testing.T) {
	bld, recs := sampleFrame(t)
	f, err := decodeMsgFrame(encodeFrame(&bld.f))
	if err != nil {
		t.Fatal(err)
	}
	got := records(f)
	if f.To != 20 || f.From != 10 || len(got) != len(recs) {
		t.Fatalf("frame to %d from %d with %d records, want 20, 10, %d", f.To, f.From, len(got), len(recs))
	}
	if len(f.Nodes) != 1 || f.Nodes[0] != (wireNode{Alias: "c", Inc: 30}) {
		t.Fatalf("node table %v, want just c's run", f.Nodes)
	}
	ref := func(idx uint64, serial uint32) uint64 { return idx<<serialBits | uint64(serial) }
	want := []wireRecord{
		{op: opMsg, to: 7, from: ref(refSender, 3), kind: vm.MsgInt, value: -5},
		{op: opMsg, to: 7, from: ref(refSender, 3), kind: vm.MsgPID, valueRef: ref(refTable, 9)},
		{op: opMsg, to: 8, from: ref(refSender, 4), kind: vm.MsgPID, valueRef: ref(refReceiver, 2)},
		{op: opMsg, to: 8, kind: vm.MsgBytes, value: 3, bytes: []byte("abc")},
		{op: opMsg, to: 8, from: ref(refSender, 4), kind: vm.MsgDown, value: int32(proc.Killed)},
		{op: opMonitor, to: 7, from: ref(refSender, 5)},
		{op: opKill, to: 7, from: ref(refSender, 5)},
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.op != w.op || g.to != w.to || g.from != w.from || g.kind != w.kind || g.value != w.value ||
			g.valueRef != w.valueRef || !bytes.Equal(g.bytes, w.bytes) {
			t.Errorf("record %d: got %+v, want %+v", i, g, w)
		}
	}
}

// FuzzDecodeFrame: no payload makes the decoders of the frames panic or
// return records that break their limits.
func FuzzDecodeFrame(f *testing.F) {
	bld, _ := sampleFrame(f)
	f.Add(encodeFrame(&bld.f))
	f.Add(encodeFrame(&reqFrame{ID: 1, Kind: reqPS}))
	f.Add(encodeFrame(&ansFrame{ID: 1, Err: "no"}))
	f.Add(encodeFrame(&refusedFrame{Kind: kindMsg, Reason: "malformed"}))
	f.Add([]byte{0x85})
	f.Fuzz(func(t *testing.T, payload []byte) {
		fr, err := decodeMsgFrame(payload)
		if err == nil {
			for _, r := range records(fr) {
				if len(r.bytes) > vm.MaxMessageBytes || r.to > serialMask {
					t.Fatalf("record past the limits: %+v", r)
				}
				for _, ref := range []uint64{r.from, r.valueRef} {
					if ref != 0 && ref>>serialBits >= refTable+uint64(len(fr.Nodes)) {
						t.Fatalf("pidref %#x past the table of %d", ref, len(fr.Nodes))
					}
				}
			}
		}
		var rq reqFrame
		_ = frameCodec.Decode(payload, &rq)
		var an ansFrame
		_ = frameCodec.Decode(payload, &an)
		var rf refusedFrame
		_ = frameCodec.Decode(payload, &rf)
	})
}

// BenchmarkPackRecords: the cost per message of packing a batch of 1,000
// integer messages into one frame, as the flusher does.
func BenchmarkPackRecords(b *testing.B) {
	nodes := proc.NewNodes()
	peer := proc.NodeRef{Alias: "b", Incarnation: 2}
	slot, _ := nodes.Slot(peer)
	recs := make([]record, 1000)
	for i := range recs {
		recs[i] = record{op: opMsg, to: proc.MakePID(slot, 5), from: proc.MakePID(0, 3), msg: vm.Message{Kind: vm.MsgInt, Value: int32(i)}}
	}
	bld := &builder{peer: peer, nodes: nodes}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		bld.reset(1)
		for i := range recs {
			bld.add(&recs[i])
		}
		encodeFrame(&bld.f)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(recs)), "ns/msg")
}

// BenchmarkUnpackRecords: the cost per message of decoding such a frame.
func BenchmarkUnpackRecords(b *testing.B) {
	nodes := proc.NewNodes()
	peer := proc.NodeRef{Alias: "b", Incarnation: 2}
	slot, _ := nodes.Slot(peer)
	bld := &builder{peer: peer, nodes: nodes}
	bld.reset(1)
	for i := range 1000 {
		bld.add(&record{op: opMsg, to: proc.MakePID(slot, 5), from: proc.MakePID(0, 3), msg: vm.Message{Kind: vm.MsgInt, Value: int32(i)}})
	}
	payload := encodeFrame(&bld.f)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		f, err := decodeMsgFrame(payload)
		if err != nil {
			b.Fatal(err)
		}
		eachRecord(f, func(*wireRecord) {})
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/msg")
}

// codecRecord is a message as a codec struct: the per-message encoding
// the packed records replace, measured by BenchmarkCodecRecords.
type codecRecord struct {
	Op    uint8  `codec:"op"`
	To    uint32 `codec:"to"`
	From  uint64 `codec:"from"`
	Kind  uint8  `codec:"kind"`
	Value int32  `codec:"value"`
}

type codecBatch struct {
	Recs []codecRecord `codec:"recs"`
}

// BenchmarkCodecRecords: the cost per message of encoding a batch of
// 1,000 messages as codec structs, one per message.
func BenchmarkCodecRecords(b *testing.B) {
	batch := codecBatch{Recs: make([]codecRecord, 1000)}
	for i := range batch.Recs {
		batch.Recs[i] = codecRecord{Op: opMsg, To: 5, From: refSender<<serialBits | 3, Value: int32(i)}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		encodeFrame(&batch)
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(batch.Recs)), "ns/msg")
}

// BenchmarkCodecRecordsDecode: decoding such a batch.
func BenchmarkCodecRecordsDecode(b *testing.B) {
	batch := codecBatch{Recs: make([]codecRecord, 1000)}
	for i := range batch.Recs {
		batch.Recs[i] = codecRecord{Op: opMsg, To: 5, From: refSender<<serialBits | 3, Value: int32(i)}
	}
	payload := encodeFrame(&batch)
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		var out codecBatch
		if err := frameCodec.Decode(payload, &out); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*1000), "ns/msg")
}

// records returns the records of f, copied.
func records(f *msgFrame) []wireRecord {
	var out []wireRecord
	eachRecord(f, func(r *wireRecord) { out = append(out, *r) })
	return out
}
