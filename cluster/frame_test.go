package cluster

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

func sampleMessages() []message {
	nonce := bytes.Repeat([]byte{7}, nonceSize)
	a := memberInfo{Alias: "a", NodeID: "id-a", Incarnation: 42, Host: "127.0.0.1", Port: 2254}
	b := memberInfo{Alias: "b", NodeID: "id-b", Incarnation: 43, Host: "127.0.0.2", Port: 2255}
	return []message{
		&hello{Version: ProtocolVersion, Sender: a, Nonce: nonce},
		&join{Version: ProtocolVersion, Sender: b, Nonce: nonce, Digest: []byte("8 bytes!")},
		&challenge{Responder: a, Nonce: nonce},
		&challengeReply{Proof: nonce},
		&helloAck{Self: a, Members: []memberInfo{b}, Proof: nonce},
		&joinAck{Self: b, Members: []memberInfo{a}, Proof: nonce},
		&refuse{Code: codeAlias, Reason: `alias "a" is already a member`},
		&ping{Seq: 9},
		&leave{Reason: "leaving"},
		&memberUp{Member: b},
		&appMessage{Kind: "spawn.v1", Payload: []byte("program")},
		&ack{Seq: 9},
		&pingReq{Seq: 10, Target: "b"},
		&suspectMsg{Alias: "b", Incarnation: 43, Epoch: 2},
		&aliveMsg{Alias: "b", Incarnation: 43, Epoch: 3},
	}
}

func TestFramesRoundTrip(t *testing.T) {
	t.Parallel()
	fc := newFrameCodec(DefaultMaxFrameSize)
	for _, m := range sampleMessages() {
		t.Run(m.kind().String(), func(t *testing.T) {
			frame, err := fc.marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if got := msgType(frame[4]); got != m.kind() {
				t.Errorf("type byte %d, want %d", got, m.kind())
			}
			r := bytes.NewReader(frame)
			got, err := fc.read(r)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, m) {
				t.Errorf("round trip: got %#v, want %#v", got, m)
			}
			if _, err := fc.read(r); err != io.EOF {
				t.Errorf("after the frame: %v, want io.EOF", err)
			}
		})
	}
}

func TestFrameLimits(t *testing.T) {
	t.Parallel()
	fc := newFrameCodec(512)
	big := &helloAck{Self: sampleMessages()[4].(*helloAck).Self}
	for range 20 {
		big.Members = append(big.Members, big.Self)
	}
	if _, err := fc.marshal(big); err == nil {
		t.Error("marshal of a frame over the limit succeeded")
	}
	frame, _ := newFrameCodec(DefaultMaxFrameSize).marshal(big)
	if _, err := fc.read(bytes.NewReader(frame)); !errors.Is(err, errProtocol) {
		t.Errorf("read of a frame over the limit: %v", err)
	}
	truncated := frame[:len(frame)-1]
	if _, err := newFrameCodec(DefaultMaxFrameSize).read(bytes.NewReader(truncated)); err != io.ErrUnexpectedEOF {
		t.Errorf("truncated frame: %v, want io.ErrUnexpectedEOF", err)
	}
	stray := append(append([]byte(nil), frame...), 0)
	stray[3]++ // the length now covers one byte after the body
	if _, err := newFrameCodec(DefaultMaxFrameSize).read(bytes.NewReader(stray)); !errors.Is(err, errProtocol) {
		t.Errorf("frame with a stray byte: %v", err)
	}
}

// FuzzDecodeFrame feeds arbitrary bytes to the frame and message decoder:
// it must never panic, and whatever it accepts must encode back to a frame
// that decodes to the same message.
func FuzzDecodeFrame(f *testing.F) {
	fc := newFrameCodec(4096)
	for _, m := range sampleMessages() {
		frame, err := fc.marshal(m)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(frame)
	}
	f.Add([]byte{0, 0, 0, 0, 2})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 2})
	f.Add([]byte("SSH-2.0-OpenSSH_9.6\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := fc.read(bytes.NewReader(data))
		if err != nil {
			return
		}
		frame, err := fc.marshal(m)
		if err != nil {
			t.Fatalf("re-encode %#v: %v", m, err)
		}
		again, err := fc.read(bytes.NewReader(frame))
		if err != nil {
			t.Fatalf("decode of re-encoded %#v: %v", m, err)
		}
		if !reflect.DeepEqual(m, again) {
			t.Fatalf("round trip changed %#v into %#v", m, again)
		}
	})
}

// benchFrames are the messages BenchmarkFrameMarshal and BenchmarkFrameRead
// measure: the heartbeat, a member list of ten, and an application
// message of 1 KiB (the path of remote jobs' output).
func benchFrames() map[string]message {
	self := memberInfo{Alias: "n01", NodeID: "0123456789abcdef", Incarnation: 1 << 60, Host: "127.0.0.1", Port: 2254}
	members := make([]memberInfo, 10)
	for i := range members {
		members[i] = self
	}
	return map[string]message{
		"Ping":        &ping{Seq: 1 << 20},
		"HelloAck-10": &helloAck{Self: self, Members: members, Proof: make([]byte, nonceSize)},
		"App-1KiB":    &appMessage{Kind: "spawn.output.v1", Payload: bytes.Repeat([]byte("x"), 1024)},
	}
}

// BenchmarkFrameMarshal measures encoding a message into a frame.
func BenchmarkFrameMarshal(b *testing.B) {
	fc := newFrameCodec(DefaultMaxFrameSize)
	for name, m := range benchFrames() {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := fc.marshal(m); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkFrameRead measures reading a frame and decoding and validating
// its message.
func BenchmarkFrameRead(b *testing.B) {
	fc := newFrameCodec(DefaultMaxFrameSize)
	for name, m := range benchFrames() {
		frame, err := fc.marshal(m)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			r := bytes.NewReader(frame)
			for b.Loop() {
				r.Reset(frame)
				if _, err := fc.read(r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestUnknownFields checks that a field no message names is refused,
// except in an opener, which drops it so that an opener of another
// version can still be answered with the version refusal.
func TestUnknownFields(t *testing.T) {
	t.Parallel()
	withField := func(m message, key string, value any) []byte {
		t.Helper()
		body, err := encodeBody(m, 0)
		if err != nil {
			t.Fatal(err)
		}
		var fields map[string]any
		if err := bodyCodec.Decode(body, &fields); err != nil {
			t.Fatal(err)
		}
		fields[key] = value
		out, err := bodyCodec.Encode(fields, 0)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	opener := &hello{Version: ProtocolVersion + 1, Sender: memberInfo{Alias: "a", NodeID: "n", Host: "127.0.0.1", Port: 1}, Nonce: make([]byte, nonceSize)}
	for _, typ := range []msgType{msgHello, msgJoin} {
		m, err := decodeBody(typ, withField(opener, "features", []any{[]any{"x"}, map[string]any{"y": 1}}))
		if err != nil || m.kind() != typ {
			t.Errorf("%s of version %d with a new field: %v", typ, opener.Version, err)
		}
	}
	deep := any("x")
	for range 20 {
		deep = []any{deep}
	}
	if _, err := decodeBody(msgHello, withField(opener, "deep", deep)); err == nil || !strings.Contains(err.Error(), "depth") {
		t.Errorf("opener with a field nested 20 deep: %v, want a depth error", err)
	}
	if _, err := decodeBody(msgPing, withField(&ping{Seq: 1}, "extra", 1)); !errors.Is(err, errProtocol) || !strings.Contains(err.Error(), "extra") {
		t.Errorf("ping with an unknown field: %v, want a protocol error naming it", err)
	}
}
