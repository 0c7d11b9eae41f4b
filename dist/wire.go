package dist

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/iridium-vm/iridium/cluster"
	"github.com/iridium-vm/iridium/internal/wire"
	"github.com/iridium-vm/iridium/proc"
	"github.com/iridium-vm/iridium/vm"
)

// Frame kinds. Each name carries its version: a change of shape gets a
// new name, and a member that does not know a kind answers
// cluster.KindUnknown, which Dist reports as ErrUnsupported.
const (
	kindMsg     = "dist.msg.v1"     // a batch of records: messages, monitors, kills
	kindReq     = "dist.req.v1"     // a request (Ask)
	kindAns     = "dist.ans.v1"     // its answer
	kindRefused = "dist.refused.v1" // a frame of ours was refused as malformed
)

// Kinds lists the frame kinds Dist handles.
func Kinds() []string { return []string{kindMsg, kindReq, kindAns, kindRefused} }

// maxDepth bounds nesting in a frame; ours nest two levels.
const maxDepth = 4

// frameCodec encodes and decodes the frames, with the project's settings
// (internal/wire). Built once and never changed.
var frameCodec = wire.New(maxDepth)

// msgFrame is a batch of records for one member. The records are packed
// compactly in Recs (see the op constants) rather than as a list of
// codec structs: the codec's reflection would cost more per message than
// all the rest of a send (docs/performance.md, "Messages across nodes").
type msgFrame struct {
	To    uint64     `codec:"to"`    // the receiver's incarnation: a frame for an earlier run is dropped
	From  uint64     `codec:"from"`  // the sender's incarnation
	Nodes []wireNode `codec:"nodes"` // the node runs that PIDs of the records name, index 3 onwards
	N     uint32     `codec:"n"`     // records in Recs
	Recs  []byte     `codec:"recs"`
}

// wireNode is a node run in a frame's table.
type wireNode struct {
	Alias string `codec:"a"`
	Inc   uint64 `codec:"i"`
}

// reqFrame is a request (Ask).
type reqFrame struct {
	ID   uint64 `codec:"id"`
	Kind string `codec:"kind"`
	Body []byte `codec:"body"`
}

// ansFrame answers the request ID: Body, or the refusal Err.
type ansFrame struct {
	ID   uint64 `codec:"id"`
	Body []byte `codec:"body"`
	Err  string `codec:"err"`
}

// refusedFrame tells a member that a frame of its kind Kind was refused,
// and why.
type refusedFrame struct {
	Kind   string `codec:"kind"`
	Reason string `codec:"reason"`
}

// Record ops in msgFrame.Recs. Each record is the op byte and then:
//
//	opMsg:     uvarint to-serial, pidref from, byte message kind, and
//	           for a PID a pidref, else a zig-zag varint value; for bytes
//	           a uvarint length (the value) and the bytes
//	opMonitor: pidref watcher, uvarint target serial
//	opKill:    pidref killer, uvarint target serial
//
// A pidref is a uvarint: 0 for no PID, else index<<24 | serial, where
// index 1 is the sender's node, 2 the receiver's, and 3+k the frame's
// Nodes[k].
const (
	opMsg     = 1
	opMonitor = 2
	opKill    = 3
)

// pidref indexes.
const (
	refSender   = 1
	refReceiver = 2
	refTable    = 3
)

// Limits of a frame from a member.
const (
	maxFrameNodes = proc.MaxNodeSlots
	serialBits    = 24
	serialMask    = 1<<serialBits - 1
)

// Errors of decoding.
var errMalformed = errors.New("malformed dist frame")

// encodeFrame encodes a frame; it fails only on a type the codec cannot
// encode, which no frame is (the tests encode each): that is a bug here.
func encodeFrame(v any) []byte {
	b, err := frameCodec.Encode(v, 0)
	if err != nil {
		panic(fmt.Sprintf("dist: %v", err))
	}
	return b
}

// wireRecord is one decoded record, its PIDs still pidrefs.
type wireRecord struct {
	op       uint8
	to       uint32 // the serial of the target, a process of the receiver
	from     uint64 // pidref: sender, watcher or killer
	kind     vm.MessageKind
	value    int32
	valueRef uint64 // for a PID message
	bytes    []byte // for a bytes message: a slice of the frame
}

// decodeMsgFrame decodes a dist.msg.v1 payload and checks it and every
// record in it, so that a malformed frame is refused whole before any of
// it is done. eachRecord then walks the records.
func decodeMsgFrame(payload []byte) (*msgFrame, error) {
	var f msgFrame
	if err := frameCodec.Decode(payload, &f); err != nil {
		return nil, fmt.Errorf("%w: %w", errMalformed, err)
	}
	if len(f.Nodes) > maxFrameNodes {
		return nil, fmt.Errorf("%w: %d nodes in its table, the limit is %d", errMalformed, len(f.Nodes), maxFrameNodes)
	}
	for i, n := range f.Nodes {
		if err := cluster.ValidateAlias(n.Alias); err != nil {
			return nil, fmt.Errorf("%w: node %d: %w", errMalformed, i, err)
		}
	}
	if uint64(f.N) > uint64(len(f.Recs)) { // every record takes 3 bytes or more
		return nil, fmt.Errorf("%w: %d records claimed in %d bytes", errMalformed, f.N, len(f.Recs))
	}
	r := reader{b: f.Recs, nodes: uint64(len(f.Nodes))}
	var rec wireRecord
	for i := range f.N {
		if err := r.record(&rec); err != nil {
			return nil, fmt.Errorf("%w: record %d: %w", errMalformed, i, err)
		}
	}
	if len(r.b) != 0 {
		return nil, fmt.Errorf("%w: %d stray bytes after %d records", errMalformed, len(r.b), f.N)
	}
	return &f, nil
}

// eachRecord calls fn with each record of f, which decodeMsgFrame has
// checked; rec is reused from one call to the next.
func eachRecord(f *msgFrame, fn func(rec *wireRecord)) {
	r := reader{b: f.Recs, nodes: uint64(len(f.Nodes))}
	var rec wireRecord
	for range f.N {
		if r.record(&rec) != nil {
			return // not after decodeMsgFrame
		}
		fn(&rec)
	}
}

// reader reads records, checking every field.
type reader struct {
	b     []byte
	nodes uint64 // entries of the frame's table
}

var errShort = errors.New("cut short")

func (r *reader) uvarint() (uint64, error) {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		if n == 0 {
			return 0, errShort
		}
		return 0, errors.New("varint overflows 64 bits")
	}
	r.b = r.b[n:]
	return v, nil
}

func (r *reader) byte() (byte, error) {
	if len(r.b) == 0 {
		return 0, errShort
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

// serial reads a non-zero serial.
func (r *reader) serial() (uint32, error) {
	v, err := r.uvarint()
	if err != nil {
		return 0, err
	}
	if v == 0 || v > serialMask {
		return 0, fmt.Errorf("serial %d outside 1-%d", v, serialMask)
	}
	return uint32(v), nil
}

// pidref reads a pidref and checks its index and serial.
func (r *reader) pidref() (uint64, error) {
	v, err := r.uvarint()
	if err != nil || v == 0 {
		return v, err
	}
	idx, serial := v>>serialBits, v&serialMask
	if serial == 0 || idx < refSender || idx >= refTable+r.nodes {
		return 0, fmt.Errorf("PID reference %#x names no node of the frame", v)
	}
	return v, nil
}

func (r *reader) record(rec *wireRecord) error {
	*rec = wireRecord{}
	op, err := r.byte()
	if err != nil {
		return err
	}
	rec.op = op
	switch op {
	case opMsg:
		if rec.to, err = r.serial(); err != nil {
			return err
		}
		if rec.from, err = r.pidref(); err != nil {
			return err
		}
		k, err := r.byte()
		if err != nil {
			return err
		}
		rec.kind = vm.MessageKind(k)
		return r.value(rec)
	case opMonitor, opKill:
		if rec.from, err = r.pidref(); err != nil {
			return err
		}
		if rec.from == 0 && op == opMonitor {
			return errors.New("a monitor without a watcher")
		}
		rec.to, err = r.serial()
		return err
	}
	return fmt.Errorf("unknown op %d", op)
}

// value reads a message's value by its kind.
func (r *reader) value(rec *wireRecord) error {
	switch rec.kind {
	case vm.MsgInt, vm.MsgDown:
		v, n := binary.Varint(r.b)
		if n <= 0 {
			return errShort
		}
		if v < -1<<31 || v > 1<<31-1 {
			return fmt.Errorf("value %d overflows 32 bits", v)
		}
		r.b = r.b[n:]
		rec.value = int32(v)
		if rec.kind == vm.MsgDown && (v < 0 || v > int64(proc.NoProcess)) {
			return fmt.Errorf("down reason %d unknown", v)
		}
	case vm.MsgPID:
		ref, err := r.pidref()
		if err != nil {
			return err
		}
		rec.valueRef = ref
	case vm.MsgBytes:
		n, err := r.uvarint()
		if err != nil {
			return err
		}
		if n > vm.MaxMessageBytes || n > uint64(len(r.b)) {
			return fmt.Errorf("%d bytes claimed, %d left", n, len(r.b))
		}
		rec.bytes, r.b = r.b[:n:n], r.b[n:]
		rec.value = int32(n)
	default:
		return fmt.Errorf("unknown message kind %d", rec.kind)
	}
	return nil
}

// builder packs records into a frame for the member peer.
type builder struct {
	peer  proc.NodeRef
	nodes *proc.Nodes
	f     msgFrame
	index map[int]uint64 // node slot -> pidref index, for the frame's table
}

func (b *builder) reset(self uint64) {
	b.f = msgFrame{To: b.peer.Incarnation, From: self, Recs: b.f.Recs[:0]}
	clear(b.index)
}

// pidref packs pid for the peer: this node, the peer's, or the table's.
func (b *builder) pidref(pid proc.PID) uint64 {
	if pid == 0 {
		return 0
	}
	serial := uint64(pid.Serial())
	slot := pid.Node()
	if slot == 0 {
		return refSender<<serialBits | serial
	}
	if idx, ok := b.index[slot]; ok {
		return idx<<serialBits | serial
	}
	ref, _, ok := b.nodes.Ref(slot)
	if !ok {
		return 0
	}
	idx := uint64(refReceiver)
	if ref != b.peer {
		idx = refTable + uint64(len(b.f.Nodes))
		b.f.Nodes = append(b.f.Nodes, wireNode{Alias: ref.Alias, Inc: ref.Incarnation})
	}
	if b.index == nil {
		b.index = make(map[int]uint64)
	}
	b.index[slot] = idx
	return idx<<serialBits | serial
}

// add packs rec.
func (b *builder) add(rec *record) {
	buf := b.f.Recs
	buf = append(buf, rec.op)
	switch rec.op {
	case opMsg:
		buf = binary.AppendUvarint(buf, uint64(rec.to.Serial()))
		buf = binary.AppendUvarint(buf, b.pidref(rec.from))
		buf = append(buf, byte(rec.msg.Kind))
		switch rec.msg.Kind {
		case vm.MsgPID:
			buf = binary.AppendUvarint(buf, b.pidref(proc.PID(rec.msg.Value)))
		case vm.MsgBytes:
			buf = binary.AppendUvarint(buf, uint64(len(rec.msg.Bytes)))
			buf = append(buf, rec.msg.Bytes...)
		default:
			buf = binary.AppendVarint(buf, int64(rec.msg.Value))
		}
	default: // opMonitor, opKill
		buf = binary.AppendUvarint(buf, b.pidref(rec.from))
		buf = binary.AppendUvarint(buf, uint64(rec.to.Serial()))
	}
	b.f.Recs = buf
	b.f.N++
}

// size is the bytes packed so far, about the frame's size.
func (b *builder) size() int { return len(b.f.Recs) + 32*len(b.f.Nodes) + 32 }

// recordSize is about the bytes rec takes packed.
func recordSize(rec *record) int { return 16 + len(rec.msg.Bytes) }
