package vm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"strings"
	"testing"
)

func TestProgramRoundTrip(t *testing.T) {
	progs := []*Program{
		{},
		{Code: []byte{byte(HLT), 0, 0, 0}},
		{ReadOnly: []byte("Hello\x00"), Code: []byte{byte(PRTS), 0, 0, 0, byte(HLT), 0, 0, 0}},
		{ReadOnly: []byte{0, 1, 2, 3, 0xff}},
		{ReadOnly: bytes.Repeat([]byte{0xa5}, 1000), Code: bytes.Repeat([]byte{1, 2, 3, 4}, 1000)},
	}
	for i, p := range progs {
		data, err := p.MarshalBinary()
		if err != nil {
			t.Fatalf("program %d: MarshalBinary: %v", i, err)
		}
		if len(data) != HeaderSize+len(p.ReadOnly)+len(p.Code) {
			t.Errorf("program %d: %d bytes, want %d", i, len(data), HeaderSize+len(p.ReadOnly)+len(p.Code))
		}
		if !IsBytecode(data) {
			t.Errorf("program %d: IsBytecode = false", i)
		}
		got, err := DecodeProgram(data)
		if err != nil {
			t.Fatalf("program %d: DecodeProgram: %v", i, err)
		}
		if !bytes.Equal(got.ReadOnly, p.ReadOnly) || !bytes.Equal(got.Code, p.Code) {
			t.Errorf("program %d: decoded %+v, want %+v", i, got, p)
		}
		// The decoded program does not share the file's bytes.
		for j := range data {
			data[j] = 0x5a
		}
		if !bytes.Equal(got.ReadOnly, p.ReadOnly) || !bytes.Equal(got.Code, p.Code) {
			t.Errorf("program %d: the decoded program changed with the file's bytes", i)
		}
	}
}

func TestProgramHeaderLayout(t *testing.T) {
	if HeaderSize != 64 || Magic != "EPIE" || FormatVersion != 1 || MaxSectionSize != 1<<24 {
		t.Fatalf("constants: HeaderSize %d, Magic %q, FormatVersion %d, MaxSectionSize %d", HeaderSize, Magic, FormatVersion, MaxSectionSize)
	}
	ro := []byte("abc\x00xyz\x00")
	code := []byte{byte(LOAD), 1, 0, 7, byte(PRTS), 0, 0, 4, byte(HLT), 0, 0, 0}
	data, err := (&Program{ReadOnly: ro, Code: code}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	if got := string(data[0:4]); got != "EPIE" || !bytes.Equal(data[:4], []byte{0x45, 0x50, 0x49, 0x45}) {
		t.Errorf("magic = %q", got)
	}
	if v := le.Uint16(data[4:]); v != 1 {
		t.Errorf("version = %d, want 1", v)
	}
	if v := le.Uint16(data[6:]); v != 0 {
		t.Errorf("reserved at 6 = %d, want 0", v)
	}
	if v := le.Uint32(data[8:]); v != uint32(len(ro)) {
		t.Errorf("read-only length = %d, want %d", v, len(ro))
	}
	if v := le.Uint32(data[12:]); v != uint32(len(code)) {
		t.Errorf("code length = %d, want %d", v, len(code))
	}
	if v, want := le.Uint32(data[16:]), crc32.ChecksumIEEE(append(append([]byte{}, ro...), code...)); v != want {
		t.Errorf("checksum = %08x, want %08x", v, want)
	}
	if !bytes.Equal(data[20:64], make([]byte, 44)) {
		t.Errorf("reserved bytes 20-63 = % x, want zeros", data[20:64])
	}
	if !bytes.Equal(data[64:64+len(ro)], ro) || !bytes.Equal(data[64+len(ro):], code) {
		t.Errorf("body = % x, want the read-only data then the code", data[64:])
	}
}

// file builds a bytecode file by hand, with a correct checksum unless the
// caller changes it afterwards.
func file(version uint16, roLen, codeLen uint32, body []byte) []byte {
	h := make([]byte, HeaderSize)
	copy(h, "EPIE")
	binary.LittleEndian.PutUint16(h[4:], version)
	binary.LittleEndian.PutUint32(h[8:], roLen)
	binary.LittleEndian.PutUint32(h[12:], codeLen)
	binary.LittleEndian.PutUint32(h[16:], crc32.ChecksumIEEE(body))
	return append(h, body...)
}

func TestDecodeProgramRefusals(t *testing.T) {
	good, err := (&Program{ReadOnly: []byte("hi\x00"), Code: []byte{byte(PRTS), 0, 0, 0, byte(HLT), 0, 0, 0}}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeProgram(good); err != nil {
		t.Fatalf("the good file: %v", err)
	}
	mod := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name string
		data []byte
		is   error    // errors.Is target, or nil
		msg  []string // parts of the message
	}{
		{"empty", nil, ErrNotBytecode, []string{"EPIE"}},
		{"3 bytes of magic", []byte("EPI"), ErrNotBytecode, []string{"EPIE"}},
		{"wrong magic", mod(func(b []byte) []byte { b[3] = 'F'; return b }), ErrNotBytecode, []string{"not Iridium bytecode"}},
		{"lower-case magic", mod(func(b []byte) []byte { copy(b, "epie"); return b }), ErrNotBytecode, nil},
		{"ELF", []byte("\x7fELF\x02\x01\x01"), ErrNotBytecode, nil},
		{"assembly source", []byte(".code\nhlt\n"), ErrNotBytecode, nil},
		{"short header", good[:20], nil, []string{"header", "20", "64"}},
		{"magic only", []byte("EPIE"), nil, []string{"header", "4", "64"}},
		{"header less one", good[:63], nil, []string{"header", "63", "64"}},
		{"version 2", mod(func(b []byte) []byte { b[4] = 2; return b }), nil, []string{"version 2", "1"}},
		{"version 0", mod(func(b []byte) []byte { b[4] = 0; return b }), nil, []string{"version 0"}},
		{"version 257", mod(func(b []byte) []byte { b[5] = 1; return b }), nil, []string{"version 257"}},
		{"reserved at 6", mod(func(b []byte) []byte { b[6] = 1; return b }), nil, []string{"reserved"}},
		{"reserved at 7", mod(func(b []byte) []byte { b[7] = 0x80; return b }), nil, []string{"reserved"}},
		{"reserved at 20", mod(func(b []byte) []byte { b[20] = 1; return b }), nil, []string{"reserved"}},
		{"reserved at 63", mod(func(b []byte) []byte { b[63] = 1; return b }), nil, []string{"reserved"}},
		{"code length 5", file(1, 0, 5, []byte{5, 0, 0, 0, 0}), nil, []string{"code length 5", "multiple of 4"}},
		{"code length 2", file(1, 1, 2, []byte{0, 5, 0}), nil, []string{"code length 2", "multiple of 4"}},
		{"body one short", good[:len(good)-1], nil, []string{"body", "10", "3", "8", "11"}},
		{"body empty", good[:64], nil, []string{"body", "0", "11"}},
		{"body one long", append(bytes.Clone(good), 0), nil, []string{"body", "12", "11"}},
		{"lengths swapped", file(1, 8, 3, []byte("hi\x00\x15\x00\x00\x00\x05\x00\x00\x00")), nil, []string{"multiple of 4"}},
		{"bad checksum in the body", mod(func(b []byte) []byte { b[64] ^= 1; return b }), nil, []string{"checksum"}},
		{"bad checksum in the code", mod(func(b []byte) []byte { b[len(b)-1] ^= 0x80; return b }), nil, []string{"checksum"}},
		{"bad checksum field", mod(func(b []byte) []byte { b[16] ^= 0xff; return b }), nil, []string{"checksum"}},
		{"read-only over the limit", file(1, MaxSectionSize+1, 0, nil), nil, []string{"16777217", "16777216"}},
		{"code over the limit", file(1, 0, MaxSectionSize+4, nil), nil, []string{"16777220", "16777216"}},
		{"huge lengths", file(1, 0xffffffff, 0xfffffffc, nil), nil, []string{"4294967295", "16777216"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := DecodeProgram(tt.data)
			if err == nil {
				t.Fatalf("DecodeProgram = %+v, nil; want an error", p)
			}
			if p != nil {
				t.Errorf("DecodeProgram returned a program with the error %v", err)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.is)
			}
			if tt.is == nil && errors.Is(err, ErrNotBytecode) {
				t.Errorf("%v is ErrNotBytecode for a file with the magic", err)
			}
			for _, m := range tt.msg {
				if !strings.Contains(err.Error(), m) {
					t.Errorf("message %q does not say %q", err, m)
				}
			}
		})
	}
}

func TestDecodeProgramAcceptsEdgeFiles(t *testing.T) {
	// Hand-made files the format allows.
	for _, data := range [][]byte{
		file(1, 0, 0, nil),
		file(1, 3, 0, []byte("ab\x00")),
		file(1, 0, 4, []byte{5, 0, 0, 0}),
	} {
		if _, err := DecodeProgram(data); err != nil {
			t.Errorf("DecodeProgram(% x): %v", data[8:16], err)
		}
	}
}

func TestMarshalBinaryLimit(t *testing.T) {
	big := make([]byte, MaxSectionSize+4)
	for _, p := range []*Program{{Code: big}, {ReadOnly: big[:MaxSectionSize+1]}} {
		if data, err := p.MarshalBinary(); err == nil || data != nil {
			t.Errorf("MarshalBinary of %d+%d bytes = %d bytes, %v; want an error", len(p.ReadOnly), len(p.Code), len(data), err)
		} else if !strings.Contains(err.Error(), "16777216") {
			t.Errorf("message %q does not give the limit", err)
		}
	}
	// Exactly the limit is allowed, and reads back.
	p := &Program{Code: big[:MaxSectionSize]}
	data, err := p.MarshalBinary()
	if err != nil {
		t.Fatalf("MarshalBinary at the limit: %v", err)
	}
	q, err := DecodeProgram(data)
	if err != nil || len(q.Code) != MaxSectionSize {
		t.Errorf("DecodeProgram at the limit: %v", err)
	}
}

func TestIsBytecode(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"", false},
		{"E", false},
		{"EPI", false},
		{"EPIE", true},
		{"EPIE and anything", true},
		{"epie", false},
		{" EPIE", false},
		{".data\n", false},
	}
	for _, tt := range tests {
		if got := IsBytecode([]byte(tt.in)); got != tt.want {
			t.Errorf("IsBytecode(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// A decoded file runs.
func TestDecodedProgramRuns(t *testing.T) {
	src := &Program{ReadOnly: []byte("ok\x00"), Code: enc(t, "prts @0; load $0 #-5; prti $0")}
	data, err := src.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	p, err := DecodeProgram(data)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	m := New(Config{Stdout: &out})
	m.Load(p)
	if err := run(m); err != nil || out.String() != "ok-5\n" {
		t.Errorf("Run = %v, output %q; want ok-5\\n", err, out.String())
	}
}
